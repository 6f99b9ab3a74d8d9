/*
 * profile_lint.c — the messages of profile loading and lint: every problem
 * is recorded once with its file, its JSON path (or list line) and what was
 * expected; and the small JSON helpers the compiler reads packs with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile_build.h"

const char *adup(er_profileset *s, const char *str)
{
    return er_arena_strndup(s->arena, str, strlen(str));
}

const char *afmt(er_profileset *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return adup(s, buf);
}

static void lintv(er_profileset *s, er_lint_severity sev, const char *file, const char *path,
                  const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (!file)
        file = "";
    if (!path)
        path = "";
    for (size_t i = 0; i < s->n_msgs; i++)   /* a list used twice reports once */
        if (s->msgs[i].severity == sev && strcmp(s->msgs[i].file, file) == 0 &&
            strcmp(s->msgs[i].path, path) == 0 && strcmp(s->msgs[i].message, buf) == 0)
            return;
    if (!GROW(s->msgs, s->n_msgs, s->cap_msgs, s->n_msgs + 1))
        return;
    er_lint_msg *m = &s->msgs[s->n_msgs];
    m->severity = sev;
    m->file = file ? file : "";
    m->path = adup(s, path ? path : "");
    m->message = adup(s, buf);
    if (!m->path || !m->message)
        return;
    s->n_msgs++;
    if (sev == ER_LINT_ERROR)
        s->n_errors++;
}

void lint_err(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(c->s, ER_LINT_ERROR, c->file, path, fmt, ap);
    va_end(ap);
}

void lint_warn(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(c->s, ER_LINT_WARNING, c->file, path, fmt, ap);
    va_end(ap);
}

void lint_file(er_profileset *s, er_lint_severity sev, const char *file, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(s, sev, file, path, fmt, ap);
    va_end(ap);
}

/* path + "." + key, truncated to cap (paths are short; truncation only guards). */
const char *sub(char *buf, size_t cap, const char *path, const char *key)
{
    size_t o = 0;
    for (const char *p = path; *p && o + 1 < cap; p++)
        buf[o++] = *p;
    if (*path && o + 1 < cap)
        buf[o++] = '.';
    for (const char *p = key; *p && o + 1 < cap; p++)
        buf[o++] = *p;
    buf[o] = '\0';
    return buf;
}

/* path + "." + key + "[i]" (key may be empty: path + "[i]"). */
const char *idx(char *buf, size_t cap, const char *path, const char *key, size_t i)
{
    char n[32];
    sub(buf, cap, path, key);
    if (!*key) {
        size_t o = strlen(buf);
        if (o && buf[o - 1] == '.')
            buf[o - 1] = '\0';
    }
    snprintf(n, sizeof n, "[%zu]", i);
    size_t o = strlen(buf);
    for (const char *p = n; *p && o + 1 < cap; p++)
        buf[o++] = *p;
    buf[o] = '\0';
    return buf;
}

/* Allowed keys of an object; reports unknown ones. */
void check_keys(ctx *c, json_object *o, const char *path, const char *const *allowed,
                       const char *expected)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = true;
        if (!ok) {
            char p[512];
            lint_err(c, sub(p, sizeof p, path, key), "unknown field \"%s\" (expected one of: %s)", key,
                     expected);
        }
    }
}

const char *jtype(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double:
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "?";
}

bool is_num(json_object *j)
{
    return j && (json_object_is_type(j, json_type_double) || json_object_is_type(j, json_type_int));
}

json_object *get_key(ctx *c, json_object *o, const char *key, const char *path, bool required)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v))
        return v;
    if (required)
        lint_err(c, path, "missing required field \"%s\"", key);
    return NULL;
}

const char *get_str(ctx *c, json_object *o, const char *key, const char *path, bool required)
{
    char p[512];
    json_object *v = get_key(c, o, key, path, required);
    if (!v && !json_object_object_get_ex(o, key, NULL))
        return NULL;
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        lint_err(c, sub(p, sizeof p, path, key), "expected a non-empty string, got %s", jtype(v));
        return NULL;
    }
    return adup(c->s, json_object_get_string(v));
}

bool get_num(ctx *c, json_object *o, const char *key, const char *path, bool required, double lo,
                    double hi, double *out)
{
    char p[512];
    json_object *v = get_key(c, o, key, path, required);
    if (!v && !json_object_object_get_ex(o, key, NULL))
        return false;
    sub(p, sizeof p, path, key);
    if (!is_num(v)) {
        lint_err(c, p, "expected a number, got %s", jtype(v));
        return false;
    }
    double x = json_object_get_double(v);
    if (!(x >= lo && x <= hi)) {
        lint_err(c, p, "%s %g out of range (expected %g to %g)", key, x, lo, hi);
        return false;
    }
    *out = x;
    return true;
}
