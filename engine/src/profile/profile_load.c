/*
 * profile_load.c — loading profile packs (json-c) and reference lists
 * (profiles/lists/NAME.txt or NAME.json), linting them (every problem becomes
 * a message naming the file, the JSON path and what was expected) and
 * compiling conditions into the flat node graph and matchers of profile_int.h.
 * The language itself is documented in docs/profiles.md.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "profile/profile_int.h"
#include "ecorisk/data.h"

/* ---- fields ------------------------------------------------------------------ */

static const char *const field_names[PF_COUNT] = {
    [PF_ID] = "id", [PF_FLOW] = "flow", [PF_MODE] = "mode", [PF_DECLARANT] = "declarant",
    [PF_IMPORTER] = "importer", [PF_EXPORTER] = "exporter", [PF_HS] = "hs",
    [PF_DESCRIPTION] = "description", [PF_OFFICE] = "office", [PF_UNIT] = "unit",
    [PF_CURRENCY] = "currency", [PF_CONTAINER] = "container", [PF_EXTRA] = "extra",
    [PF_ORIGIN] = "origin", [PF_EXPORT_COUNTRY] = "export_country",
    [PF_DESTINATION] = "destination", [PF_TRANSIT] = "transit", [PF_NET_KG] = "net_kg",
    [PF_GROSS_KG] = "gross_kg", [PF_QUANTITY] = "quantity", [PF_VALUE] = "value",
    [PF_VALUE_REF] = "value_ref", [PF_PACKAGES] = "packages", [PF_UNIT_VALUE] = "unit_value",
    [PF_GROSS_NET_RATIO] = "gross_net_ratio", [PF_KG_PER_PACKAGE] = "kg_per_package",
    [PF_KG_PER_UNIT] = "kg_per_unit",
};

const char *pfield_name(pfield f)
{
    return (unsigned)f < PF_COUNT ? field_names[f] : "?";
}

pfield pfield_parse(const char *name)
{
    if (strncmp(name, "extra.", 6) == 0)
        return name[6] ? PF_EXTRA : PF_COUNT;
    for (int i = 0; i < PF_COUNT; i++)
        if (i != PF_EXTRA && strcmp(field_names[i], name) == 0)
            return (pfield)i;
    return PF_COUNT;
}

/* ---- growable arrays ------------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
    *p = np;
    *cap = nc;
    return true;
}
#define GROW(arr, n, cap, need) grow((void **)&(arr), &(cap), (need), sizeof *(arr))

/* ---- loader context --------------------------------------------------------- */

typedef struct ctx {
    er_profileset *s;
    const char    *file;      /* current pack file (arena) */
    uint8_t        pack;
    bool           nomem;
    bool           unloadable;
    bool           list_broken;   /* last list_get found the file but could not use it */
} ctx;

static const char *adup(er_profileset *s, const char *str)
{
    return er_arena_strndup(s->arena, str, strlen(str));
}

static const char *afmt(er_profileset *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *afmt(er_profileset *s, const char *fmt, ...)
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

static void lint_err(ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lint_err(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(c->s, ER_LINT_ERROR, c->file, path, fmt, ap);
    va_end(ap);
}

static void lint_warn(ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lint_warn(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(c->s, ER_LINT_WARNING, c->file, path, fmt, ap);
    va_end(ap);
}

static void lint_file(er_profileset *s, er_lint_severity sev, const char *file, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void lint_file(er_profileset *s, er_lint_severity sev, const char *file, const char *path,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lintv(s, sev, file, path, fmt, ap);
    va_end(ap);
}

/* path + "." + key, truncated to cap (paths are short; truncation only guards). */
static const char *sub(char *buf, size_t cap, const char *path, const char *key)
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
static const char *idx(char *buf, size_t cap, const char *path, const char *key, size_t i)
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
static void check_keys(ctx *c, json_object *o, const char *path, const char *const *allowed,
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

static const char *jtype(json_object *j)
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

static bool is_num(json_object *j)
{
    return j && (json_object_is_type(j, json_type_double) || json_object_is_type(j, json_type_int));
}

/* ---- reading files ------------------------------------------------------------ */

static er_status read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? ER_ENOTFOUND : ER_EIO;
    er_status st = ER_OK;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    if (!b) {
        st = ER_ENOMEM;
        goto cleanup;
    }
    for (;;) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f))
                st = ER_EIO;
            break;
        }
        if (cap > (64u << 20)) {
            st = ER_ELIMIT;
            break;
        }
        char *nb = realloc(b, cap * 2 + 1);
        if (!nb) {
            st = ER_ENOMEM;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (st == ER_OK) {
        b[n] = '\0';
        *buf = b;
        *len = n;
        b = NULL;
    }
cleanup:
    free(b);
    fclose(f);
    return st;
}

static void hash_in(er_profileset *s, const char *data, size_t len)
{
    s->hash = er_hash64(data, len, s->hash);
}

/* Parse JSON text; on error records a lint message with line:column. */
static json_object *parse_json(er_profileset *s, const char *file, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)(len > 0x7fffffff ? 0x7fffffff : len));
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    if (!j && e == json_tokener_continue)
        e = json_tokener_error_parse_eof;
    if (j && e == json_tokener_success) {
        /* trailing garbage after the document */
        for (size_t i = off; i < len; i++)
            if (!isspace((unsigned char)text[i])) {
                json_object_put(j);
                j = NULL;
                e = json_tokener_error_parse_unexpected;
                off = i;
                break;
            }
    }
    if (!j || e != json_tokener_success) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        lint_file(s, ER_LINT_ERROR, file, "", "invalid JSON at line %zu, column %zu: %s (expected a JSON document)",
                  line, col, json_tokener_error_desc(e));
        if (j)
            json_object_put(j);
        j = NULL;
    }
    json_tokener_free(tok);
    return j;
}

/* ---- reference lists ---------------------------------------------------------- */

static listdef *list_get(ctx *c, const char *name)
{
    er_profileset *s = c->s;
    c->list_broken = false;
    for (size_t i = 0; i < s->n_lists; i++)
        if (strcmp(s->lists[i].name, name) == 0) {
            c->list_broken = !s->lists[i].ok && s->lists[i].file;
            return s->lists[i].ok ? &s->lists[i] : NULL;
        }
    if (!GROW(s->lists, s->n_lists, s->cap_lists, s->n_lists + 1)) {
        c->nomem = true;
        return NULL;
    }
    listdef *l = &s->lists[s->n_lists++];
    memset(l, 0, sizeof *l);
    l->name = adup(s, name);
    l->cc_set = l->hs_set = l->str_set = l->kw_set = -1;
    l->kw_pack = -1;
    /* names are plain: letters, digits, '-', '_', '.' (no paths) */
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return NULL;
    if (!*name || name[0] == '.')
        return NULL;
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    bool json = false;
    snprintf(path, sizeof path, "%s/%s.txt", s->lists_dir, name);
    er_status st = read_file(path, &text, &len);
    if (st == ER_ENOTFOUND) {
        snprintf(path, sizeof path, "%s/%s.json", s->lists_dir, name);
        st = read_file(path, &text, &len);
        json = true;
    }
    if (st != ER_OK) {
        if (st != ER_ENOTFOUND) {
            l->file = adup(s, path);
            c->list_broken = true;
            lint_file(s, ER_LINT_ERROR, l->file, "", "cannot read list: %s", er_status_str(st));
        }
        if (st == ER_ENOMEM)
            c->nomem = true;
        return NULL;
    }
    l->file = adup(s, path);
    hash_in(s, text, len);
    size_t cap = 0;
    if (!json) {
        uint32_t line = 0;
        char *p = text;
        while (*p) {
            char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            line++;
            char *ln = p;
            p = e ? e + 1 : p + n;
            while (n && (ln[n - 1] == '\r' || isspace((unsigned char)ln[n - 1])))
                n--;
            while (n && isspace((unsigned char)*ln)) {
                ln++;
                n--;
            }
            if (!n)
                continue;
            if (*ln == '#') {
                char hdr[1024];
                size_t hn = n - 1 < sizeof hdr - 1 ? n - 1 : sizeof hdr - 1;
                memcpy(hdr, ln + 1, hn);
                hdr[hn] = '\0';
                char *h = hdr;
                while (*h == ' ' || *h == '\t')
                    h++;
                if (strncasecmp(h, "source:", 7) == 0 && !l->source) {
                    h += 7;
                    while (*h == ' ')
                        h++;
                    if (*h)
                        l->source = adup(s, h);
                } else if (strncasecmp(h, "date:", 5) == 0 && !l->date) {
                    h += 5;
                    while (*h == ' ')
                        h++;
                    if (*h)
                        l->date = adup(s, h);
                }
                continue;
            }
            /* inline comment: "NG  # Nigeria" */
            for (size_t k = 1; k < n; k++)
                if (ln[k] == '#' && (ln[k - 1] == ' ' || ln[k - 1] == '\t')) {
                    n = k;
                    while (n && isspace((unsigned char)ln[n - 1]))
                        n--;
                    break;
                }
            if (!grow((void **)&l->entries, &cap, l->n + 1, sizeof *l->entries)) {
                c->nomem = true;
                break;
            }
            size_t cap2 = cap;
            (void)cap2;
            l->lines = realloc(l->lines, cap * sizeof *l->lines);
            if (!l->lines) {
                c->nomem = true;
                break;
            }
            l->entries[l->n] = er_arena_strndup(s->arena, ln, n);
            l->lines[l->n] = line;
            l->n++;
        }
    } else {
        json_object *j = parse_json(s, l->file, text, len);
        if (!j) {
            free(text);
            c->unloadable = true;
            c->list_broken = true;
            return NULL;
        }
        ctx lc = *c;
        lc.file = l->file;
        static const char *const keys[] = {"source", "date", "description", "entries", NULL};
        if (!json_object_is_type(j, json_type_object)) {
            lint_err(&lc, "", "expected an object with source, date and entries, got %s", jtype(j));
        } else {
            check_keys(&lc, j, "", keys, "source, date, description, entries");
            json_object *v;
            if (json_object_object_get_ex(j, "source", &v) && json_object_is_type(v, json_type_string))
                l->source = adup(s, json_object_get_string(v));
            if (json_object_object_get_ex(j, "date", &v) && json_object_is_type(v, json_type_string))
                l->date = adup(s, json_object_get_string(v));
            if (!json_object_object_get_ex(j, "entries", &v) || !json_object_is_type(v, json_type_array)) {
                lint_err(&lc, "entries", "expected an array of strings");
            } else {
                size_t n = json_object_array_length(v);
                l->entries = calloc(n ? n : 1, sizeof *l->entries);
                l->lines = calloc(n ? n : 1, sizeof *l->lines);
                if (!l->entries || !l->lines)
                    c->nomem = true;
                for (size_t i = 0; l->entries && l->lines && i < n; i++) {
                    json_object *e = json_object_array_get_idx(v, i);
                    if (!json_object_is_type(e, json_type_string)) {
                        char p[64];
                        lint_err(&lc, idx(p, sizeof p, "entries", "", i), "expected a string, got %s", jtype(e));
                        continue;
                    }
                    l->entries[l->n] = adup(s, json_object_get_string(e));
                    l->lines[l->n] = (uint32_t)i;
                    l->n++;
                }
            }
        }
        json_object_put(j);
    }
    free(text);
    int32_t dd;
    if (!l->source || !l->date || er_date_parse(l->date, strlen(l->date), &dd) != ER_OK)
        lint_file(s, ER_LINT_ERROR, l->file, json ? "" : "header",
                  "list must name its source and date (expected \"# source: ...\" and \"# date: YYYY-MM-DD\"%s)",
                  json ? " as \"source\" and \"date\"" : " comment lines");
    l->ok = true;
    return l;
}

static const char *entry_path(char *buf, size_t cap, const listdef *l, size_t i)
{
    if (l->file && strstr(l->file, ".json") == l->file + strlen(l->file) - 5)
        snprintf(buf, cap, "entries[%u]", l->lines[i]);
    else
        snprintf(buf, cap, "line %u", l->lines[i]);
    return buf;
}

/* ---- operand collection ---------------------------------------------------- */

/* One entry of a set with where it came from (for messages). */
typedef struct entry {
    const char *v;
    const char *file;   /* file the entry is in */
    const char *path;   /* JSON path or "line N" */
} entry;

typedef struct entries {
    entry *e;
    size_t n, cap;
    const char *label;
    bool   ok;
} entries;

static void entries_free(entries *es)
{
    free(es->e);
    memset(es, 0, sizeof *es);
}

static void entries_add(ctx *c, entries *es, const char *v, const char *file, const char *path)
{
    if (!GROW(es->e, es->n, es->cap, es->n + 1)) {
        c->nomem = true;
        return;
    }
    es->e[es->n++] = (entry){v, file, adup(c->s, path)};
}

/* Collect from an inline array of strings. */
static bool collect_inline(ctx *c, json_object *arr, const char *path, entries *es)
{
    char p[512];
    if (json_object_is_type(arr, json_type_string)) {
        entries_add(c, es, adup(c->s, json_object_get_string(arr)), c->file, path);
        return true;
    }
    if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
        lint_err(c, path, "expected a non-empty array of strings, got %s", jtype(arr));
        return false;
    }
    size_t n = json_object_array_length(arr);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        idx(p, sizeof p, path, "", i);
        if (!json_object_is_type(e, json_type_string)) {
            lint_err(c, p, "expected a string, got %s", jtype(e));
            ok = false;
            continue;
        }
        entries_add(c, es, adup(c->s, json_object_get_string(e)), c->file, p);
    }
    return ok;
}

/* Collect from a list name or an array of list names. */
static bool collect_lists(ctx *c, json_object *names, const char *path, entries *es,
                          listdef **single)
{
    char p[512];
    *single = NULL;
    json_object *arr = names;
    size_t n = 1;
    bool is_arr = json_object_is_type(names, json_type_array);
    if (is_arr)
        n = json_object_array_length(names);
    if ((!is_arr && !json_object_is_type(names, json_type_string)) || n == 0) {
        lint_err(c, path, "expected a list name or an array of list names, got %s", jtype(names));
        return false;
    }
    bool ok = true;
    char label[512] = "";
    size_t ll = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *nm = is_arr ? json_object_array_get_idx(arr, i) : names;
        const char *pp = is_arr ? idx(p, sizeof p, path, "", i) : path;
        if (!json_object_is_type(nm, json_type_string)) {
            lint_err(c, pp, "expected a list name, got %s", jtype(nm));
            ok = false;
            continue;
        }
        const char *name = json_object_get_string(nm);
        listdef *l = list_get(c, name);
        if (!l) {
            if (!c->list_broken)   /* a broken list file is reported on its own */
                lint_err(c, pp, "unknown list \"%s\" (expected a file %s.txt or %s.json in %s)", name, name,
                         name, c->s->lists_dir);
            ok = false;
            continue;
        }
        if (n == 1)
            *single = l;
        ll += (size_t)snprintf(label + ll, ll < sizeof label ? sizeof label - ll : 0, "%s%s",
                               i ? "+" : "", name);
        if (ll >= sizeof label)
            ll = sizeof label - 1;
        char ep[64];
        for (size_t k = 0; k < l->n; k++)
            entries_add(c, es, l->entries[k], l->file, entry_path(ep, sizeof ep, l, k));
    }
    es->label = afmt(c->s, "list %s", label);
    return ok;
}

/* ---- set builders -------------------------------------------------------------- */

static bool parse_hs(const char *v, char *out)
{
    size_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '.' || *p == ' ')
            continue;
        if (!isdigit((unsigned char)*p) || n >= ER_HS_MAX)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n >= 2;
}

static int build_hs_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    int id = (int)s->n_hssets;
    if (!GROW(s->hs_entries, s->n_hssets, s->cap_hs_sets, s->n_hssets + 1) ||
        !GROW(s->hs_n_entries, s->n_hssets, s->cap_hs_sets2, s->n_hssets + 1)) {
        c->nomem = true;
        return -1;
    }
    const char **ents = er_arena_alloc(s->arena, (es->n ? es->n : 1) * sizeof *ents);
    if (!ents) {
        c->nomem = true;
        return -1;
    }
    size_t ne = 0;
    const char **src = malloc((es->n ? es->n : 1) * sizeof *src);   /* file of each kept entry */
    if (!src) {
        c->nomem = true;
        return -1;
    }
    for (size_t i = 0; i < es->n; i++) {
        char hs[ER_HS_MAX + 1];
        if (!parse_hs(es->e[i].v, hs)) {
            lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                      "invalid HS code \"%s\" (expected 2 to 10 digits; dots and spaces are ignored)",
                      es->e[i].v);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < ne && !dup; k++) {
            size_t kl = strlen(ents[k]), hl = strlen(hs);
            bool same_file = strcmp(src[k], es->e[i].file) == 0;   /* lists may share codes */
            if (!same_file) {
                if (strcmp(ents[k], hs) == 0 || (kl < hl && strncmp(ents[k], hs, kl) == 0))
                    dup = true;
                continue;
            }
            if (strcmp(ents[k], hs) == 0) {
                lint_file(s, ER_LINT_WARNING, es->e[i].file, es->e[i].path, "duplicate HS code \"%s\"", hs);
                dup = true;
            } else if (kl < hl && strncmp(ents[k], hs, kl) == 0) {
                lint_file(s, ER_LINT_WARNING, es->e[i].file, es->e[i].path,
                          "HS code \"%s\" overlaps \"%s\", which already covers it", hs, ents[k]);
                dup = true;
            } else if (hl < kl && strncmp(ents[k], hs, hl) == 0) {
                lint_file(s, ER_LINT_WARNING, es->e[i].file, es->e[i].path,
                          "HS code \"%s\" overlaps \"%s\", which it already covers", hs, ents[k]);
            }
        }
        if (dup)
            continue;
        src[ne] = es->e[i].file;
        ents[ne] = adup(s, hs);
        if (!GROW(s->hs_pending, s->n_hs_pending, s->cap_hs_pending, s->n_hs_pending + 1) ||
            !GROW(s->hs_pending_set, s->n_hs_pending, s->cap_hs_pending2, s->n_hs_pending + 1)) {
            c->nomem = true;
            free(src);
            return -1;
        }
        s->hs_pending[s->n_hs_pending] = (char *)ents[ne];
        s->hs_pending_set[s->n_hs_pending] = (uint32_t)id;
        s->n_hs_pending++;
        ne++;
    }
    free(src);
    s->hs_entries[id] = ents;
    s->hs_n_entries[id] = ne;
    s->n_hssets++;
    return id;
}

static bool parse_cc(er_profileset *s, const char *v, uint16_t *cc)
{
    size_t n = strlen(v);
    if (n != 2)
        return false;
    if (s->ref)
        return er_country_parse(s->ref, v, n, cc);
    if (!isalpha((unsigned char)v[0]) || !isalpha((unsigned char)v[1]))
        return false;
    *cc = ER_CC(toupper((unsigned char)v[0]), toupper((unsigned char)v[1]));
    return true;
}

static int build_cc_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    if (!GROW(s->ccsets, s->n_ccsets, s->cap_ccsets, s->n_ccsets + 1)) {
        c->nomem = true;
        return -1;
    }
    ccset *set = &s->ccsets[s->n_ccsets];
    memset(set, 0, sizeof *set);
    const char *src[676] = {0};   /* file that first listed each country */
    for (size_t i = 0; i < es->n; i++) {
        uint16_t cc;
        if (!parse_cc(s, es->e[i].v, &cc)) {
            lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                      "invalid country \"%s\" (expected an ISO 3166-1 alpha-2 code)", es->e[i].v);
            continue;
        }
        int ci = cc_index(cc);
        if (ci >= 0 && src[ci] && strcmp(src[ci], es->e[i].file) == 0)
            lint_file(s, ER_LINT_WARNING, es->e[i].file, es->e[i].path, "duplicate country \"%s\"", es->e[i].v);
        if (ci >= 0 && !src[ci])
            src[ci] = es->e[i].file;
        ccset_add(set, cc);
    }
    return (int)s->n_ccsets++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* norm: 0 as is, 1 upper-case (flow, mode, unit, currency) */
static int build_str_set(ctx *c, const entries *es, pfield f)
{
    er_profileset *s = c->s;
    if (!GROW(s->strsets, s->n_strsets, s->cap_strsets, s->n_strsets + 1)) {
        c->nomem = true;
        return -1;
    }
    const char **v = er_arena_alloc(s->arena, (es->n ? es->n : 1) * sizeof *v);
    if (!v) {
        c->nomem = true;
        return -1;
    }
    size_t n = 0;
    bool upper = f == PF_FLOW || f == PF_MODE || f == PF_UNIT || f == PF_CURRENCY;
    for (size_t i = 0; i < es->n; i++) {
        char *x = er_arena_strndup(s->arena, es->e[i].v, strlen(es->e[i].v));
        if (!x) {
            c->nomem = true;
            return -1;
        }
        if (upper)
            for (char *p = x; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        if (f == PF_FLOW && strcmp(x, "IM") && strcmp(x, "EX") && strcmp(x, "TR")) {
            lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                      "invalid flow \"%s\" (expected IM, EX or TR)", es->e[i].v);
            continue;
        }
        if (f == PF_MODE && strcmp(x, "SEA") && strcmp(x, "AIR") && strcmp(x, "ROAD") &&
            strcmp(x, "RAIL") && strcmp(x, "POST") && strcmp(x, "OTHER")) {
            lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                      "invalid mode \"%s\" (expected SEA, AIR, ROAD, RAIL, POST or OTHER)", es->e[i].v);
            continue;
        }
        if (f == PF_HS) {
            char hs[ER_HS_MAX + 1];
            if (!parse_hs(x, hs) || strlen(hs) < 6) {
                lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                          "invalid HS code \"%s\" (expected 6 to 10 digits for an exact match)", es->e[i].v);
                continue;
            }
            strcpy(x, hs);
        }
        v[n++] = x;
    }
    qsort(v, n, sizeof *v, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w && strcmp(v[w - 1], v[i]) == 0) {
            lint_file(s, ER_LINT_WARNING, c->file, "", "duplicate value \"%s\" in %s", v[i],
                      es->label ? es->label : "set");
            continue;
        }
        v[w++] = v[i];
    }
    s->strsets[s->n_strsets] = (strset){v, w};
    return (int)s->n_strsets++;
}

static int build_kw_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    if (!GROW(s->kwset_pack, s->n_kwsets, s->cap_kwsets, s->n_kwsets + 1) ||
        !GROW(s->kw_entries, s->n_kwsets, s->cap_kwsets2, s->n_kwsets + 1) ||
        !GROW(s->kw_n_entries, s->n_kwsets, s->cap_kwsets3, s->n_kwsets + 1)) {
        c->nomem = true;
        return -1;
    }
    uint32_t id = (uint32_t)s->n_kwsets;
    const char **ents = er_arena_alloc(s->arena, (es->n ? es->n : 1) * sizeof *ents);
    if (!ents) {
        c->nomem = true;
        return -1;
    }
    size_t ne = 0;
    for (size_t i = 0; i < es->n; i++) {
        const char *v = es->e[i].v;
        size_t len = strlen(v);
        bool prefix = len > 1 && v[len - 1] == '*';
        char norm[512];
        size_t nl = kw_normalize(v, prefix ? len - 1 : len, norm, sizeof norm);
        if (nl == 0 || nl >= sizeof norm) {
            lint_file(s, ER_LINT_ERROR, es->e[i].file, es->e[i].path,
                      "invalid keyword \"%s\" (expected letters or digits, at most 500 bytes)", v);
            continue;
        }
        if (kw_add(&s->kw[c->pack], norm, nl, prefix, id) != ER_OK) {
            c->nomem = true;
            return -1;
        }
        ents[ne++] = v;
    }
    s->kwset_pack[id] = c->pack;
    s->kw_entries[id] = ents;
    s->kw_n_entries[id] = ne;
    s->n_kwsets++;
    return (int)id;
}

static bool parse_route(er_profileset *s, const char *v, uint32_t *pair)
{
    const char *sep = strchr(v, '>');
    if (!sep)
        return false;
    char a[8], b[8];
    size_t la = (size_t)(sep - v);
    const char *r = sep + 1;
    while (la && v[la - 1] == ' ')
        la--;
    while (*r == ' ')
        r++;
    if (la != 2 || strlen(r) != 2)
        return false;
    memcpy(a, v, 2);
    a[2] = '\0';
    memcpy(b, r, 3);
    uint16_t ca, cb;
    if (!parse_cc(s, a, &ca) || !parse_cc(s, b, &cb))
        return false;
    *pair = (uint32_t)ca << 16 | cb;
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- condition compiler --------------------------------------------------------- */

static int32_t node_new(ctx *c, cop op, const char *path)
{
    er_profileset *s = c->s;
    if (!GROW(s->nodes, s->n_nodes, s->cap_nodes, s->n_nodes + 1)) {
        c->nomem = true;
        return -1;
    }
    cnode *n = &s->nodes[s->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->pack = c->pack;
    n->path = adup(s, path);
    return (int32_t)s->n_nodes++;
}

static int32_t compile(ctx *c, json_object *j, const char *path, int depth, bool *anomaly);

static const char *const cond_keys_msg = "all, any, not, field, route, anomaly or document";

static int32_t compile_group(ctx *c, json_object *arr, cop op, const char *path, int depth, bool *anomaly)
{
    char p[512];
    const char *key = op == C_ALL ? "all" : "any";
    sub(p, sizeof p, path, key);
    if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
        lint_err(c, p, "expected a non-empty array of conditions, got %s", jtype(arr));
        return -1;
    }
    size_t n = json_object_array_length(arr);
    int32_t *tmp = calloc(n, sizeof *tmp);
    if (!tmp) {
        c->nomem = true;
        return -1;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char q[512];
        tmp[i] = compile(c, json_object_array_get_idx(arr, i), idx(q, sizeof q, path, key, i), depth + 1,
                         anomaly);
        if (tmp[i] < 0)
            ok = false;
    }
    int32_t id = -1;
    if (ok) {
        id = node_new(c, op, path);
        er_profileset *s = c->s;
        if (id >= 0 && GROW(s->kids, s->n_kids, s->cap_kids, s->n_kids + n)) {
            s->nodes[id].a = (uint32_t)s->n_kids;
            s->nodes[id].n = (uint32_t)n;
            for (size_t i = 0; i < n; i++)
                s->kids[s->n_kids++] = (uint32_t)tmp[i];
        } else {
            c->nomem = true;
            id = -1;
        }
    }
    free(tmp);
    return id;
}

static int32_t compile_anomaly(ctx *c, json_object *j, const char *path)
{
    char p[512];
    static const char *const keys[] = {"anomaly", "p_below", NULL};
    check_keys(c, j, path, keys, "anomaly, p_below");
    json_object *a = json_object_object_get(j, "anomaly"), *pb = NULL;
    if (!json_object_is_type(a, json_type_string)) {
        lint_err(c, sub(p, sizeof p, path, "anomaly"), "expected a feature name (unit_value_low, unit_value_high, mahalanobis, route_rarity or new_trader), got %s", jtype(a));
        return -1;
    }
    er_feature f = er_feature_parse(json_object_get_string(a));
    if (f == ER_FEAT_COUNT) {
        lint_err(c, sub(p, sizeof p, path, "anomaly"),
                 "unknown anomaly \"%s\" (expected unit_value_low, unit_value_high, mahalanobis, route_rarity or new_trader)",
                 json_object_get_string(a));
        return -1;
    }
    double pv = 0.05;
    if (json_object_object_get_ex(j, "p_below", &pb)) {
        if (!is_num(pb) || !(json_object_get_double(pb) > 0) || json_object_get_double(pb) > 1) {
            lint_err(c, sub(p, sizeof p, path, "p_below"), "expected a probability in (0, 1], got %s",
                     is_num(pb) ? json_object_to_json_string_ext(pb, JSON_C_TO_STRING_PLAIN) : jtype(pb));
            return -1;
        }
        pv = json_object_get_double(pb);
    }
    int32_t id = node_new(c, C_ANOMALY, path);
    if (id >= 0) {
        c->s->nodes[id].cmp = (uint8_t)f;
        c->s->nodes[id].x = pv;
    }
    return id;
}

/* {"document": "permit" | "licence" | "consent", "is": STATE or [STATE, ...]} (docs/registries.md). */
static int32_t compile_document(ctx *c, json_object *j, const char *path)
{
    char p[512];
    static const char *const keys[] = {"document", "is", NULL};
    static const char *const states = "missing, unknown, expired, mismatch, exhausted or exceeded";
    check_keys(c, j, path, keys, "document, is");
    json_object *k = json_object_object_get(j, "document"), *is = json_object_object_get(j, "is");
    int kind = -1;
    for (int i = 0; i < ER_DOC_KINDS && json_object_is_type(k, json_type_string); i++)
        if (strcmp(json_object_get_string(k), er_dockind_str((er_dockind)i)) == 0)
            kind = i;
    if (kind < 0) {
        lint_err(c, sub(p, sizeof p, path, "document"), "expected permit, licence or consent, got %s",
                 json_object_is_type(k, json_type_string) ? json_object_get_string(k) : jtype(k));
        return -1;
    }
    size_t n = json_object_is_type(is, json_type_array) ? json_object_array_length(is) : 1;
    uint32_t mask = 0;
    char label[160] = "";
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_is_type(is, json_type_array) ? json_object_array_get_idx(is, i) : is;
        unsigned bit = ER_DS_COUNT;
        for (unsigned b = 0; b < ER_DS_COUNT && json_object_is_type(v, json_type_string); b++)
            if (strcmp(json_object_get_string(v), er_docstate_str(b)) == 0)
                bit = b;
        if (bit == ER_DS_COUNT) {
            lint_err(c, sub(p, sizeof p, path, "is"), "expected a state (%s) or an array of states, got %s", states,
                     json_object_is_type(v, json_type_string) ? json_object_get_string(v) : jtype(v));
            return -1;
        }
        mask |= 1u << bit;
        size_t L = strlen(label);
        snprintf(label + L, sizeof label - L, "%s%s", L ? "|" : "", er_docstate_str(bit));
    }
    if (!mask) {
        lint_err(c, sub(p, sizeof p, path, "is"), "expected at least one state (%s)", states);
        return -1;
    }
    int32_t id = node_new(c, C_DOCUMENT, path);
    if (id >= 0) {
        c->s->nodes[id].cmp = (uint8_t)kind;
        c->s->nodes[id].a = mask;
        c->s->nodes[id].label = afmt(c->s, "%s", label);
    }
    return id;
}

static int country_operand(ctx *c, json_object *v, const char *path, const char **label)
{
    entries es = {0};
    listdef *single = NULL;
    int set = -1;
    if (json_object_is_type(v, json_type_string) && strlen(json_object_get_string(v)) != 2) {
        /* a list name */
        if (collect_lists(c, v, path, &es, &single)) {
            if (single && single->cc_set >= 0)
                set = single->cc_set;
            else {
                set = build_cc_set(c, &es);
                if (single)
                    single->cc_set = set;
            }
            *label = es.label;
        }
    } else if (collect_inline(c, v, path, &es)) {
        set = build_cc_set(c, &es);
        char buf[256];
        size_t o = 0;
        for (size_t i = 0; i < es.n && o < sizeof buf - 8; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "," : "", es.e[i].v);
        *label = afmt(c->s, "[%s]", buf);
    }
    entries_free(&es);
    return set;
}

static int32_t compile_route(ctx *c, json_object *r, const char *path)
{
    char p[512], q[512];
    sub(p, sizeof p, path, "route");
    if (!json_object_is_type(r, json_type_object)) {
        lint_err(c, p, "expected an object with from/to country sets or pairs, got %s", jtype(r));
        return -1;
    }
    static const char *const keys[] = {"from", "to", "pairs", "pairs_list", "via", NULL};
    check_keys(c, r, p, keys, "from, to, pairs, pairs_list, via");
    routeset rs = {.from_set = -1, .to_set = -1};
    const char *lf = NULL, *lt = NULL, *lp = NULL;
    bool ok = true;
    uint8_t via = RF_ORIGIN;
    json_object *v;
    if (json_object_object_get_ex(r, "via", &v)) {
        const char *vs = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(vs, "origin") == 0)
            via = RF_ORIGIN;
        else if (strcmp(vs, "export_country") == 0)
            via = RF_EXPORT;
        else if (strcmp(vs, "either") == 0)
            via = RF_EITHER;
        else {
            lint_err(c, sub(q, sizeof q, p, "via"), "expected \"origin\", \"export_country\" or \"either\"");
            ok = false;
        }
    }
    if (json_object_object_get_ex(r, "from", &v)) {
        rs.from_set = country_operand(c, v, sub(q, sizeof q, p, "from"), &lf);
        ok = ok && rs.from_set >= 0;
    }
    if (json_object_object_get_ex(r, "to", &v)) {
        rs.to_set = country_operand(c, v, sub(q, sizeof q, p, "to"), &lt);
        ok = ok && rs.to_set >= 0;
    }
    entries es = {0};
    listdef *single = NULL;
    bool have_pairs = false;
    if (json_object_object_get_ex(r, "pairs", &v)) {
        have_pairs = true;
        ok = collect_inline(c, v, sub(q, sizeof q, p, "pairs"), &es) && ok;
        char buf[256];
        size_t o = 0;
        for (size_t i = 0; i < es.n && o < sizeof buf - 8; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "," : "", es.e[i].v);
        buf[o < sizeof buf ? o : sizeof buf - 1] = '\0';
        lp = afmt(c->s, "[%s]", buf);
    }
    if (json_object_object_get_ex(r, "pairs_list", &v)) {
        have_pairs = true;
        ok = collect_lists(c, v, sub(q, sizeof q, p, "pairs_list"), &es, &single) && ok;
        lp = es.label;
    }
    if (rs.from_set < 0 && rs.to_set < 0 && !have_pairs && ok) {
        lint_err(c, p, "expected at least one of from, to, pairs or pairs_list");
        ok = false;
    }
    if (have_pairs) {
        rs.pairs = malloc((es.n ? es.n : 1) * sizeof *rs.pairs);
        if (!rs.pairs)
            c->nomem = true;
        for (size_t i = 0; rs.pairs && i < es.n; i++) {
            if (!parse_route(c->s, es.e[i].v, &rs.pairs[rs.n_pairs])) {
                lint_file(c->s, ER_LINT_ERROR, es.e[i].file, es.e[i].path,
                          "invalid route \"%s\" (expected FROM>TO with ISO 3166-1 alpha-2 codes, e.g. \"NG>VN\")",
                          es.e[i].v);
                ok = false;
                continue;
            }
            rs.n_pairs++;
        }
        if (rs.pairs)
            qsort(rs.pairs, rs.n_pairs, sizeof *rs.pairs, cmp_u32);
    }
    entries_free(&es);
    er_profileset *s = c->s;
    if (!ok || !GROW(s->routes, s->n_routes, s->cap_routes, s->n_routes + 1)) {
        free(rs.pairs);
        return -1;
    }
    int32_t id = node_new(c, C_ROUTE, path);
    if (id < 0) {
        free(rs.pairs);
        return -1;
    }
    s->routes[s->n_routes] = rs;
    s->nodes[id].a = (uint32_t)s->n_routes++;
    s->nodes[id].cmp = via;
    s->nodes[id].label = afmt(s, "%s%s%s%s%s%s%s%s", lf ? "from " : "", lf ? lf : "", lf && lt ? " " : "",
                              lt ? "to " : "", lt ? lt : "", (lf || lt) && lp ? " " : "", lp ? "pairs " : "",
                              lp ? lp : "");
    return id;
}

static uint32_t text_slot(ctx *c, pfield f, const char *extra)
{
    er_profileset *s = c->s;
    if (f == PF_DESCRIPTION)
        return 0;
    if (s->n_slots == 0) {
        if (!GROW(s->slots, s->n_slots, s->cap_slots, 1)) {
            c->nomem = true;
            return 0;
        }
        s->slots[s->n_slots++] = "description";
    }
    const char *name = f == PF_EXTRA ? extra : pfield_name(f);
    for (size_t i = 1; i < s->n_slots; i++)
        if (strcmp(s->slots[i], name) == 0 && (f == PF_EXTRA) == (pfield_parse(name) == PF_COUNT))
            return (uint32_t)i;
    if (!GROW(s->slots, s->n_slots, s->cap_slots, s->n_slots + 1)) {
        c->nomem = true;
        return 0;
    }
    s->slots[s->n_slots] = f == PF_EXTRA ? extra : pfield_name(f);
    return (uint32_t)s->n_slots++;
}

static const char *const ops_string = "eq, in, in_list, keywords, keyword_list, exists";
static const char *const ops_hs = "prefix, prefix_list, eq, in, in_list, exists";
static const char *const ops_country = "eq, in, in_list, exists";
static const char *const ops_number = "gt, ge, lt, le, eq, ne, between, exists";

/* Whether op is one of the ", "-separated names in allowed (whole names only;
 * "" and partial names such as "q" of "eq" are not). */
static bool op_allowed(const char *allowed, const char *op)
{
    size_t ol = strlen(op);
    while (ol && *allowed) {
        const char *e = strchr(allowed, ',');
        size_t n = e ? (size_t)(e - allowed) : strlen(allowed);
        if (n == ol && memcmp(allowed, op, ol) == 0)
            return true;
        if (!e)
            break;
        allowed = e + 1;
        while (*allowed == ' ')
            allowed++;
    }
    return false;
}

static int32_t compile_field(ctx *c, json_object *j, const char *path)
{
    er_profileset *s = c->s;
    char p[512];
    json_object *fo = json_object_object_get(j, "field");
    if (!json_object_is_type(fo, json_type_string)) {
        lint_err(c, sub(p, sizeof p, path, "field"), "expected a field name, got %s", jtype(fo));
        return -1;
    }
    const char *fname = json_object_get_string(fo);
    pfield f = pfield_parse(fname);
    if (f == PF_COUNT) {
        lint_err(c, sub(p, sizeof p, path, "field"),
                 "unknown field \"%s\" (expected a declaration field such as hs, origin, description, net_kg, unit_value, or extra.<column>)",
                 fname);
        return -1;
    }
    const char *opname = NULL;
    json_object *ov = NULL;
    int nops = 0;
    json_object_object_foreach(j, key, val)
    {
        if (strcmp(key, "field") == 0)
            continue;
        opname = key;
        ov = val;
        nops++;
    }
    const char *allowed = PF_IS_NUMBER(f) ? ops_number : PF_IS_COUNTRY(f) ? ops_country : f == PF_HS ? ops_hs : ops_string;
    if (nops != 1) {
        lint_err(c, path, "expected exactly one operator for field \"%s\" (one of: %s), got %d", fname, allowed,
                 nops);
        return -1;
    }
    sub(p, sizeof p, path, opname);
    if (!op_allowed(allowed, opname)) {
        lint_err(c, p, "unknown operator \"%s\" for field \"%s\" (expected one of: %s)", opname, fname, allowed);
        return -1;
    }
    const char *extra = f == PF_EXTRA ? adup(s, fname + 6) : NULL;
    if (strcmp(opname, "exists") == 0) {
        if (!json_object_is_type(ov, json_type_boolean)) {
            lint_err(c, p, "expected true or false, got %s", jtype(ov));
            return -1;
        }
        int32_t id = node_new(c, C_EXISTS, path);
        if (id < 0)
            return -1;
        s->nodes[id].field = (uint8_t)f;
        s->nodes[id].extra = extra;
        if (!json_object_get_boolean(ov)) {
            int32_t nid = node_new(c, C_NOT, path);
            if (nid < 0 || !GROW(s->kids, s->n_kids, s->cap_kids, s->n_kids + 1))
                return -1;
            s->nodes[nid].a = (uint32_t)s->n_kids;
            s->nodes[nid].n = 1;
            s->kids[s->n_kids++] = (uint32_t)id;
            return nid;
        }
        return id;
    }
    if (PF_IS_NUMBER(f)) {
        static const char *const cmps[] = {"gt", "ge", "lt", "le", "eq", "ne", "between"};
        int cmp = 0;
        for (int k = 0; k < 7; k++)
            if (strcmp(cmps[k], opname) == 0)
                cmp = k;
        double x = 0, y = 0;
        if (cmp == NC_BETWEEN) {
            if (!json_object_is_type(ov, json_type_array) || json_object_array_length(ov) != 2 ||
                !is_num(json_object_array_get_idx(ov, 0)) || !is_num(json_object_array_get_idx(ov, 1))) {
                lint_err(c, p, "expected [low, high] (two numbers), got %s", jtype(ov));
                return -1;
            }
            x = json_object_get_double(json_object_array_get_idx(ov, 0));
            y = json_object_get_double(json_object_array_get_idx(ov, 1));
            if (x > y) {
                lint_err(c, p, "empty range [%g, %g] (expected low <= high)", x, y);
                return -1;
            }
        } else {
            if (!is_num(ov)) {
                lint_err(c, p, "expected a number, got %s", jtype(ov));
                return -1;
            }
            x = json_object_get_double(ov);
        }
        int32_t id = node_new(c, C_NUM, path);
        if (id < 0)
            return -1;
        s->nodes[id].field = (uint8_t)f;
        s->nodes[id].cmp = (uint8_t)cmp;
        s->nodes[id].x = x;
        s->nodes[id].y = y;
        return id;
    }
    entries es = {0};
    listdef *single = NULL;
    bool is_list = strcmp(opname, "in_list") == 0 || strcmp(opname, "prefix_list") == 0 ||
                   strcmp(opname, "keyword_list") == 0;
    bool ok;
    const char *label;
    if (is_list) {
        ok = collect_lists(c, ov, p, &es, &single);
        label = es.label;
    } else {
        if (strcmp(opname, "eq") == 0 && !json_object_is_type(ov, json_type_string)) {
            lint_err(c, p, "expected a string, got %s", jtype(ov));
            return -1;
        }
        ok = collect_inline(c, ov, p, &es);
        char buf[256];
        size_t o = 0;
        for (size_t i = 0; i < es.n && o < sizeof buf - 8; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "," : "", es.e[i].v);
        label = es.n == 1 && strcmp(opname, "eq") == 0 ? afmt(s, "\"%s\"", buf) : afmt(s, "[%s]", buf);
    }
    int32_t id = -1;
    if (!ok)
        goto done;
    int set = -1;
    cop op;
    if (PF_IS_COUNTRY(f)) {
        op = C_CC_IN;
        if (single && single->cc_set >= 0)
            set = single->cc_set;
        else if ((set = build_cc_set(c, &es)) >= 0 && single)
            single->cc_set = set;
    } else if (strcmp(opname, "prefix") == 0 || strcmp(opname, "prefix_list") == 0) {
        op = C_HS_PREFIX;
        if (single && single->hs_set >= 0)
            set = single->hs_set;
        else if ((set = build_hs_set(c, &es)) >= 0 && single)
            single->hs_set = set;
    } else if (strcmp(opname, "keywords") == 0 || strcmp(opname, "keyword_list") == 0) {
        op = C_KEYWORDS;
        if (single && single->kw_set >= 0 && single->kw_pack == c->pack)
            set = single->kw_set;
        else if ((set = build_kw_set(c, &es)) >= 0 && single) {
            single->kw_set = set;
            single->kw_pack = c->pack;
        }
    } else {
        op = C_STR_IN;
        set = build_str_set(c, &es, f);   /* cached per field normalization: not shared */
        if (set >= 0 && (f == PF_FLOW || f == PF_MODE)) {
            /* flow and mode are enums: test a bit mask instead of strings */
            const strset *ss = &s->strsets[set];
            uint32_t mask = 0;
            for (size_t i = 0; i < ss->n; i++)
                for (unsigned v = 1; v < 8; v++)
                    if (strcmp(ss->v[i], f == PF_FLOW ? er_flow_str((er_flow)v) : er_mode_str((er_mode)v)) == 0)
                        mask |= 1u << v;
            op = C_ENUM_IN;
            id = node_new(c, op, path);
            if (id >= 0) {
                s->nodes[id].field = (uint8_t)f;
                s->nodes[id].a = mask;
                s->nodes[id].n = (uint32_t)set;   /* the string set, for describe */
                s->nodes[id].label = label;
            }
            goto done;
        }
    }
    if (set < 0)
        goto done;
    id = node_new(c, op, path);
    if (id < 0)
        goto done;
    s->nodes[id].field = (uint8_t)f;
    s->nodes[id].a = (uint32_t)set;
    s->nodes[id].extra = extra;
    s->nodes[id].label = label;
    s->nodes[id].pack = c->pack;
    if (op == C_KEYWORDS)
        s->nodes[id].slot = text_slot(c, f, extra);
done:
    entries_free(&es);
    return id;
}

static int32_t compile(ctx *c, json_object *j, const char *path, int depth, bool *anomaly)
{
    char p[512];
    if (depth > 32) {
        lint_err(c, path, "conditions nested too deeply (expected at most 32 levels)");
        return -1;
    }
    if (!json_object_is_type(j, json_type_object)) {
        lint_err(c, path, "expected a condition object (%s), got %s", cond_keys_msg, jtype(j));
        return -1;
    }
    json_object *v;
    if (json_object_object_get_ex(j, "field", &v))
        return compile_field(c, j, path);
    int n = json_object_object_length(j);
    if (json_object_object_get_ex(j, "anomaly", &v)) {
        *anomaly = true;
        return compile_anomaly(c, j, path);
    }
    if (json_object_object_get_ex(j, "document", &v))
        return compile_document(c, j, path);
    if (n != 1) {
        lint_err(c, path, "expected a condition with exactly one of %s, got %d keys", cond_keys_msg, n);
        return -1;
    }
    if (json_object_object_get_ex(j, "all", &v))
        return compile_group(c, v, C_ALL, path, depth, anomaly);
    if (json_object_object_get_ex(j, "any", &v))
        return compile_group(c, v, C_ANY, path, depth, anomaly);
    if (json_object_object_get_ex(j, "not", &v)) {
        int32_t k = compile(c, v, sub(p, sizeof p, path, "not"), depth + 1, anomaly);
        if (k < 0)
            return -1;
        int32_t id = node_new(c, C_NOT, path);
        er_profileset *s = c->s;
        if (id < 0 || !GROW(s->kids, s->n_kids, s->cap_kids, s->n_kids + 1)) {
            c->nomem = true;
            return -1;
        }
        s->nodes[id].a = (uint32_t)s->n_kids;
        s->nodes[id].n = 1;
        s->kids[s->n_kids++] = (uint32_t)k;
        return id;
    }
    if (json_object_object_get_ex(j, "route", &v))
        return compile_route(c, v, path);
    json_object_object_foreach(j, key, val)
    {
        (void)val;
        lint_err(c, sub(p, sizeof p, path, key), "unknown condition \"%s\" (expected one of: %s)", key,
                 cond_keys_msg);
    }
    return -1;
}

/* ---- profiles ----------------------------------------------------------------- */

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || !(islower((unsigned char)id[0]) || isdigit((unsigned char)id[0])))
        return false;
    for (const char *p = id; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

static const char *get_str(ctx *c, json_object *o, const char *key, const char *path, bool required)
{
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) {
        if (required)
            lint_err(c, path, "missing required field \"%s\"", key);
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        lint_err(c, sub(p, sizeof p, path, key), "expected a non-empty string, got %s", jtype(v));
        return NULL;
    }
    return adup(c->s, json_object_get_string(v));
}

/* The anomaly predicates of an indicator that can make it fire (reached through
 * all/any, not under a `not`), for the continuous scaling of docs/scoring.md §6. */
static void collect_anomaly(const er_profileset *s, pindicator *in, uint32_t node)
{
    const cnode *n = &s->nodes[node];
    if (n->op == C_ANOMALY) {
        if (in->n_an < PIND_MAX_AN) {
            in->an_feat[in->n_an] = n->cmp;
            in->an_lt[in->n_an] = -log(n->x);
            in->n_an++;
        }
    } else if (n->op == C_ALL || n->op == C_ANY) {
        for (uint32_t k = 0; k < n->n; k++)
            collect_anomaly(s, in, s->kids[n->a + k]);
    }
}

static bool get_num(ctx *c, json_object *o, const char *key, const char *path, bool required, double lo,
                    double hi, double *out)
{
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) {
        if (required)
            lint_err(c, path, "missing required field \"%s\"", key);
        return false;
    }
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

static int32_t get_date(ctx *c, json_object *o, const char *key, const char *path)
{
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    int32_t d;
    const char *str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    if (er_date_parse(str, strlen(str), &d) != ER_OK || strlen(str) != 10) {
        lint_err(c, sub(p, sizeof p, path, key), "expected a date \"YYYY-MM-DD\", got %s",
                 json_object_is_type(v, json_type_string) ? afmt(c->s, "\"%s\"", str) : jtype(v));
        return 0;
    }
    return d;
}

/* Lint warnings ahead of this many days before valid_until or review_by. */
#define EXPIRY_NOTICE_DAYS 90

/* The validity window applies to the declaration date (docs/profiles.md#validity):
 * outside it a profile is out of scope for that declaration, never a reason to stop
 * loading. Lint warns when the window has ended, when it ends within
 * EXPIRY_NOTICE_DAYS of today, and likewise for the review date. */
static void check_validity(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    er_profileset *s = c->s;
    char p[512], d1[11], d2[11];
    in->valid_from = get_date(c, pj, "valid_from", path);
    in->valid_until = get_date(c, pj, "valid_until", path);
    int32_t review = in->review_by = get_date(c, pj, "review_by", path);
    er_date_format(s->today, d2);
    if (in->valid_from && in->valid_until && in->valid_from > in->valid_until) {
        lint_err(c, sub(p, sizeof p, path, "valid_until"), "valid_until is before valid_from (expected an ordered window)");
        return;
    }
    if (in->valid_from && in->valid_from > s->today) {
        er_date_format(in->valid_from, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_from"),
                  "not yet valid: valid_from %s is after today (%s); declarations dated before it are out of scope",
                  d1, d2);
    } else if (in->valid_until && in->valid_until < s->today) {
        er_date_format(in->valid_until, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_until"),
                  "validity ended on %s (today is %s); declarations dated after it are out of scope", d1, d2);
    } else if (in->valid_until && in->valid_until - s->today < EXPIRY_NOTICE_DAYS) {
        er_date_format(in->valid_until, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_until"),
                  "validity ends on %s, in %d days (today is %s); declarations dated after it will be out of scope",
                  d1, (int)(in->valid_until - s->today), d2);
    }
    if (review && review < s->today) {
        er_date_format(review, d1);
        lint_warn(c, sub(p, sizeof p, path, "review_by"), "review overdue since %s (today is %s)", d1, d2);
    } else if (review && review - s->today < EXPIRY_NOTICE_DAYS) {
        er_date_format(review, d1);
        lint_warn(c, sub(p, sizeof p, path, "review_by"), "review due on %s, in %d days (today is %s)", d1,
                  (int)(review - s->today), d2);
    }
}

static void load_profile(ctx *c, json_object *pj, size_t pi, er_domain pack_domain)
{
    er_profileset *s = c->s;
    char path[64], p[512];
    snprintf(path, sizeof path, "profiles[%zu]", pi);
    if (!json_object_is_type(pj, json_type_object)) {
        lint_err(c, path, "expected a profile object, got %s", jtype(pj));
        return;
    }
    static const char *const keys[] = {"id", "version", "domain", "title", "owner", "description",
                                       "valid_from", "valid_until", "review_by", "references", "scope", "indicators",
                                       "alert_threshold", "lanes", "random_rate", "prior", "anomaly_scale", "tags", NULL};
    check_keys(c, pj, path, keys,
               "id, version, domain, title, owner, description, valid_from, valid_until, review_by, references, scope, indicators, alert_threshold, lanes, random_rate, prior, anomaly_scale, tags");
    size_t errors_before = s->n_errors;
    if (!GROW(s->prof, s->n_prof, s->cap_prof, s->n_prof + 1)) {
        c->nomem = true;
        return;
    }
    pprofile *pr = &s->prof[s->n_prof];
    memset(pr, 0, sizeof *pr);
    pr->path = adup(s, path);
    pr->pack = c->pack;
    er_profile_info *in = &pr->info;
    in->file = c->file;
    in->domain = pack_domain;
    in->id = get_str(c, pj, "id", path, true);
    if (in->id && !valid_id(in->id)) {
        lint_err(c, sub(p, sizeof p, path, "id"),
                 "invalid id \"%s\" (expected lower-case letters, digits, '-', '_' or '.', at most 64)", in->id);
    } else if (in->id) {
        for (size_t k = 0; k < s->n_prof; k++)
            if (s->prof[k].info.id && strcmp(s->prof[k].info.id, in->id) == 0) {
                lint_err(c, sub(p, sizeof p, path, "id"), "duplicate profile id \"%s\" (first defined in %s at %s)",
                         in->id, s->prof[k].info.file, s->prof[k].path);
                break;
            }
    }
    in->title = get_str(c, pj, "title", path, true);
    in->owner = get_str(c, pj, "owner", path, true);
    double ver = 0;
    json_object *v;
    if (json_object_object_get_ex(pj, "version", &v) && !json_object_is_type(v, json_type_int))
        lint_err(c, sub(p, sizeof p, path, "version"), "expected a positive integer, got %s", jtype(v));
    else if (get_num(c, pj, "version", path, true, 1, 1e9, &ver))
        in->version = (int)ver;
    const char *dom = get_str(c, pj, "domain", path, false);
    if (dom) {
        er_domain d = ER_DOMAIN_COUNT;
        for (int k = 0; k < ER_DOMAIN_COUNT; k++)
            if (strcmp(dom, er_domain_str((er_domain)k)) == 0)
                d = (er_domain)k;
        if (d == ER_DOMAIN_COUNT)
            lint_err(c, sub(p, sizeof p, path, "domain"), "unknown domain \"%s\" (expected wildlife, ods or waste)", dom);
        else if (d != pack_domain)
            lint_err(c, sub(p, sizeof p, path, "domain"), "domain \"%s\" differs from the pack's domain \"%s\"", dom,
                     er_domain_str(pack_domain));
    }
    /* references */
    if (json_object_object_get_ex(pj, "references", &v)) {
        sub(p, sizeof p, path, "references");
        if (!json_object_is_type(v, json_type_array)) {
            lint_err(c, p, "expected an array of strings, got %s", jtype(v));
        } else {
            size_t n = json_object_array_length(v);
            const char **r = er_arena_alloc(s->arena, (n ? n : 1) * sizeof *r);
            size_t k = 0;
            for (size_t i = 0; r && i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                char q[512];
                if (!json_object_is_type(e, json_type_string))
                    lint_err(c, idx(q, sizeof q, p, "", i), "expected a string, got %s", jtype(e));
                else
                    r[k++] = adup(s, json_object_get_string(e));
            }
            in->references = r;
            in->n_references = k;
        }
    } else {
        lint_err(c, path, "missing required field \"references\"");
    }
    if (json_object_object_get_ex(pj, "tags", &v) && !json_object_is_type(v, json_type_array))
        lint_err(c, sub(p, sizeof p, path, "tags"), "expected an array of strings, got %s", jtype(v));
    if (json_object_object_get_ex(pj, "description", &v) && !json_object_is_type(v, json_type_string))
        lint_err(c, sub(p, sizeof p, path, "description"), "expected a string, got %s", jtype(v));
    check_validity(c, pj, path, in);
    /* thresholds */
    in->alert_threshold = 0;
    bool have_alert = false;
    if (json_object_object_get_ex(pj, "alert_threshold", &v)) {
        sub(p, sizeof p, path, "alert_threshold");
        if (!is_num(v))
            lint_err(c, p, "expected a number, got %s", jtype(v));
        else if (!(json_object_get_double(v) > 0 && json_object_get_double(v) <= 100))
            lint_err(c, p, "alert_threshold %g out of range (expected more than 0, at most 100)",
                     json_object_get_double(v));
        else {
            in->alert_threshold = json_object_get_double(v);
            have_alert = true;
        }
    } else {
        lint_err(c, path, "missing required field \"alert_threshold\"");
    }
    if (json_object_object_get_ex(pj, "lanes", &v)) {
        sub(p, sizeof p, path, "lanes");
        if (!json_object_is_type(v, json_type_object)) {
            lint_err(c, p, "expected an object {\"red\": N, \"yellow\": N, \"blue\": N}, got %s", jtype(v));
        } else {
            static const char *const lk[] = {"red", "yellow", "blue", NULL};
            check_keys(c, v, p, lk, "red, yellow, blue");
            bool a = get_num(c, v, "red", p, true, 0, 100, &in->lane_red);
            bool b = get_num(c, v, "yellow", p, true, 0, 100, &in->lane_yellow);
            bool d = get_num(c, v, "blue", p, true, 0, 100, &in->lane_blue);
            if (a && b && d && !(in->lane_red >= in->lane_yellow && in->lane_yellow >= in->lane_blue))
                lint_err(c, p, "lane thresholds out of order: red %g, yellow %g, blue %g (expected red >= yellow >= blue)",
                         in->lane_red, in->lane_yellow, in->lane_blue);
        }
    } else {
        lint_err(c, path, "missing required field \"lanes\"");
    }
    if (json_object_object_get_ex(pj, "random_rate", &v))
        get_num(c, pj, "random_rate", path, false, 0, 1, &in->random_rate);
    in->anomaly_scale = 1;
    if (json_object_object_get_ex(pj, "anomaly_scale", &v))
        get_num(c, pj, "anomaly_scale", path, false, 0, 10, &in->anomaly_scale);
    in->prior = ER_RISK_DEFAULT_PRIOR;
    if (json_object_object_get_ex(pj, "prior", &v) && get_num(c, pj, "prior", path, false, 1e-9, 0.999, &in->prior) &&
        !(in->prior > 0))
        lint_err(c, sub(p, sizeof p, path, "prior"), "prior %g out of range (expected more than 0)", in->prior);
    /* scope */
    bool anomaly = false;
    if (json_object_object_get_ex(pj, "scope", &v)) {
        int32_t r = compile(c, v, sub(p, sizeof p, path, "scope"), 0, &anomaly);
        pr->scope = r < 0 ? 0 : (uint32_t)r;
    } else {
        lint_err(c, path, "missing required field \"scope\"");
    }
    /* indicators */
    double wsum = 0;
    if (json_object_object_get_ex(pj, "indicators", &v)) {
        sub(p, sizeof p, path, "indicators");
        size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
        if (!json_object_is_type(v, json_type_array) || n == 0) {
            lint_err(c, p, "expected a non-empty array of indicators, got %s", jtype(v));
        } else if (n > ER_MAX_INDICATORS) {
            lint_err(c, p, "%zu indicators (expected at most %d)", n, ER_MAX_INDICATORS);
        } else {
            pr = &s->prof[s->n_prof];
            pindicator *ind = er_arena_alloc(s->arena, n * sizeof *ind);
            er_indicator_info *infos = er_arena_alloc(s->arena, n * sizeof *infos);
            if (!ind || !infos) {
                c->nomem = true;
                return;
            }
            memset(ind, 0, n * sizeof *ind);
            for (size_t i = 0; i < n; i++) {
                char ip[512], q[512];
                idx(ip, sizeof ip, p, "", i);
                json_object *ij = json_object_array_get_idx(v, i);
                ind[i].path = adup(s, ip);
                if (!json_object_is_type(ij, json_type_object)) {
                    lint_err(c, ip, "expected an indicator object, got %s", jtype(ij));
                    continue;
                }
                static const char *const ik[] = {"id", "weight", "log_odds", "reason", "when", NULL};
                check_keys(c, ij, ip, ik, "id, weight, log_odds, reason, when");
                ind[i].info.id = get_str(c, ij, "id", ip, true);
                if (ind[i].info.id && !valid_id(ind[i].info.id))
                    lint_err(c, sub(q, sizeof q, ip, "id"),
                             "invalid id \"%s\" (expected lower-case letters, digits, '-', '_' or '.', at most 64)",
                             ind[i].info.id);
                for (size_t k = 0; k < i && ind[i].info.id; k++)
                    if (ind[k].info.id && strcmp(ind[k].info.id, ind[i].info.id) == 0)
                        lint_err(c, sub(q, sizeof q, ip, "id"), "duplicate indicator id \"%s\" (first defined at %s)",
                                 ind[i].info.id, ind[k].path);
                ind[i].info.reason = get_str(c, ij, "reason", ip, true);
                json_object *wj;
                if (!json_object_object_get_ex(ij, "weight", &wj)) {
                    lint_err(c, ip, "missing required field \"weight\"");
                } else if (!is_num(wj)) {
                    lint_err(c, sub(q, sizeof q, ip, "weight"), "expected a number, got %s", jtype(wj));
                } else {
                    double w = json_object_get_double(wj);
                    if (!(w >= 0 && w <= 100))
                        lint_err(c, sub(q, sizeof q, ip, "weight"), "weight %g out of range (expected 0 to 100)", w);
                    else {
                        ind[i].info.weight = w;
                        ind[i].info.log_odds = w * 0.69314718055994530942 / ER_RISK_POINTS_PER_DOUBLING;
                        wsum += w;
                    }
                }
                if (json_object_object_get_ex(ij, "log_odds", &wj))
                    get_num(c, ij, "log_odds", ip, false, -20, 20, &ind[i].info.log_odds);
                json_object *wh;
                if (!json_object_object_get_ex(ij, "when", &wh)) {
                    lint_err(c, ip, "missing required field \"when\"");
                } else {
                    bool an = false;
                    int32_t r = compile(c, wh, sub(q, sizeof q, ip, "when"), 0, &an);
                    ind[i].root = r < 0 ? 0 : (uint32_t)r;
                    ind[i].info.is_anomaly = an;
                    anomaly = anomaly || an;
                    if (an && r >= 0)
                        collect_anomaly(s, &ind[i], (uint32_t)r);
                    /* identical conditions inside one profile count twice */
                    for (size_t k = 0; k < i; k++) {
                        json_object *kj = json_object_array_get_idx(v, k), *kw;
                        if (json_object_is_type(kj, json_type_object) && json_object_object_get_ex(kj, "when", &kw) &&
                            json_object_equal(kw, wh))
                            lint_warn(c, q, "condition identical to %s.when (the two indicators overlap and count twice)",
                                      ind[k].path);
                    }
                }
                infos[i] = ind[i].info;
            }
            pr = &s->prof[s->n_prof];
            pr->ind = ind;
            in = &pr->info;
            in->indicators = infos;
            in->n_indicators = n;
        }
    } else {
        lint_err(c, path, "missing required field \"indicators\"");
    }
    pr = &s->prof[s->n_prof];
    in = &pr->info;
    pr->has_anomaly = anomaly;
    if (have_alert && wsum < in->alert_threshold && s->n_errors == errors_before)
        lint_err(c, sub(p, sizeof p, path, "alert_threshold"),
                 "unreachable threshold: alert_threshold %g exceeds the sum of indicator weights %g (expected at most the sum)",
                 in->alert_threshold, wsum);
    if (s->n_errors != errors_before)
        return;   /* incomplete: not kept */
    pr->seed = er_hash64(in->id, strlen(in->id), 0x65636f7269736b00ULL);
    pr->logit_prior = log(in->prior / (1 - in->prior));
    /* fast reject: a scope that is, or is an `all` containing, an HS prefix test */
    pr->hs_gate = -1;
    {
        const cnode *sc = &s->nodes[pr->scope];
        if (sc->op == C_HS_PREFIX)
            pr->hs_gate = (int32_t)sc->a;
        else if (sc->op == C_ALL)
            for (uint32_t k = 0; k < sc->n && pr->hs_gate < 0; k++)
                if (s->nodes[s->kids[sc->a + k]].op == C_HS_PREFIX)
                    pr->hs_gate = (int32_t)s->nodes[s->kids[sc->a + k]].a;
    }
    s->n_prof++;
}

static void load_pack(ctx *c, json_object *root)
{
    if (!json_object_is_type(root, json_type_object)) {
        lint_err(c, "", "expected a pack object with \"domain\" and \"profiles\", got %s", jtype(root));
        return;
    }
    static const char *const keys[] = {"format", "domain", "title", "description", "profiles", NULL};
    check_keys(c, root, "", keys, "format, domain, title, description, profiles");
    json_object *v;
    if (json_object_object_get_ex(root, "format", &v) &&
        (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "ecorisk-profiles/1") != 0))
        lint_err(c, "format", "unsupported format (expected \"ecorisk-profiles/1\")");
    er_domain dom = ER_DOMAIN_COUNT;
    const char *ds = get_str(c, root, "domain", "", true);
    if (ds) {
        for (int k = 0; k < ER_DOMAIN_COUNT; k++)
            if (strcmp(ds, er_domain_str((er_domain)k)) == 0)
                dom = (er_domain)k;
        if (dom == ER_DOMAIN_COUNT)
            lint_err(c, "domain", "unknown domain \"%s\" (expected wildlife, ods or waste)", ds);
    }
    if (!json_object_object_get_ex(root, "profiles", &v) || !json_object_is_type(v, json_type_array)) {
        lint_err(c, v ? "profiles" : "", v ? "expected an array of profiles, got %s" : "missing required field \"profiles\"%s",
                 v ? jtype(v) : "");
        return;
    }
    if (dom == ER_DOMAIN_COUNT)
        return;
    size_t n = json_object_array_length(v), first = c->s->n_prof;
    for (size_t i = 0; i < n; i++) {
        size_t before = c->s->n_prof;
        load_profile(c, json_object_array_get_idx(v, i), i, dom);
        if (c->s->n_prof == before + 1) {
            /* overlap warning: identical scope to an earlier profile of this pack */
            json_object *si = json_object_object_get(json_object_array_get_idx(v, i), "scope");
            for (size_t k = first; k < before; k++) {
                const char *kp = c->s->prof[k].path;   /* "profiles[N]" */
                size_t ki = (size_t)strtoul(kp + 9, NULL, 10);
                json_object *sk = json_object_object_get(json_object_array_get_idx(v, ki), "scope");
                if (si && sk && json_object_equal(si, sk)) {
                    char p[64];
                    snprintf(p, sizeof p, "profiles[%zu].scope", i);
                    lint_warn(c, p, "scope identical to profile \"%s\" (%s): the profiles overlap",
                              c->s->prof[k].info.id, kp);
                }
            }
        }
    }
}

/* ---- public ----------------------------------------------------------------- */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand paths (files or directories of *.json) into a sorted file list. */
static er_status expand(er_profileset *s, const char *const *paths, size_t n_paths, char ***out, size_t *n_out,
                        er_err *err)
{
    char **files = NULL;
    size_t n = 0, cap = 0;
    er_status st = ER_OK;
    for (size_t i = 0; i < n_paths; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            lint_file(s, ER_LINT_ERROR, adup(s, paths[i]), "", "cannot open: %s", strerror(errno));
            st = er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", paths[i], strerror(errno));
            goto cleanup;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(paths[i]);
            if (!d) {
                lint_file(s, ER_LINT_ERROR, adup(s, paths[i]), "", "cannot open directory: %s", strerror(errno));
                st = er_errf(err, ER_EIO, "%s: cannot open directory: %s", paths[i], strerror(errno));
                goto cleanup;
            }
            size_t first = n;
            struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);
                if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
                    continue;
                if (!GROW(files, n, cap, n + 1)) {
                    closedir(d);
                    st = ER_ENOMEM;
                    goto cleanup;
                }
                size_t pl = strlen(paths[i]);
                files[n] = malloc(pl + l + 2);
                if (!files[n]) {
                    closedir(d);
                    st = ER_ENOMEM;
                    goto cleanup;
                }
                snprintf(files[n], pl + l + 2, "%s%s%s", paths[i], paths[i][pl - 1] == '/' ? "" : "/", de->d_name);
                n++;
            }
            closedir(d);
            qsort(files + first, n - first, sizeof *files, cmp_cstr);
        } else {
            if (!GROW(files, n, cap, n + 1) || !(files[n] = strdup(paths[i]))) {
                st = ER_ENOMEM;
                goto cleanup;
            }
            n++;
        }
    }
cleanup:
    if (st != ER_OK) {
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        files = NULL;
        n = 0;
    }
    *out = files;
    *n_out = n;
    return st;
}

void er_profileset_free(er_profileset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_packs; i++)
        kw_free(&s->kw[i]);
    free(s->kw);
    free(s->pack_files);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].pairs);
    free(s->routes);
    for (size_t i = 0; i < s->n_lists; i++) {
        free(s->lists[i].entries);
        free(s->lists[i].lines);
    }
    free(s->lists);
    free(s->prof);
    free(s->nodes);
    free(s->kids);
    free(s->strsets);
    free(s->ccsets);
    free(s->hs);
    free(s->hs_bits);
    free(s->hs_entries);
    free(s->hs_n_entries);
    free(s->hs_pending);
    free(s->hs_pending_set);
    free(s->kwset_pack);
    free(s->kw_entries);
    free(s->kw_n_entries);
    free(s->slots);
    free(s->msgs);
    free(s->ungated);
    free(s->gate_start);
    free(s->gate_idx);
    free(s->res_template);
    er_arena_free(s->arena);
    free(s);
}

static char *dir_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return strdup(path);
    const char *sl = strrchr(path, '/');
    if (!sl)
        return strdup(".");
    size_t n = (size_t)(sl - path);
    char *d = malloc(n + 2);
    if (!d)
        return NULL;
    memcpy(d, path, n ? n : 1);
    d[n ? n : 1] = '\0';
    return d;
}

/* Candidate lists for evaluation (see profile_int.h). */
static er_status build_candidates(er_profileset *s)
{
    size_t np = s->n_prof ? s->n_prof : 1;
    s->ungated = malloc(np * sizeof *s->ungated);
    s->gate_start = calloc(s->n_hssets + 2, sizeof *s->gate_start);
    s->gate_idx = malloc(np * sizeof *s->gate_idx);
    s->res_template = calloc(np, sizeof *s->res_template);
    if (!s->ungated || !s->gate_start || !s->gate_idx || !s->res_template)
        return ER_ENOMEM;
    for (size_t i = 0; i < s->n_prof; i++) {
        s->res_template[i].profile = (uint32_t)i;
        s->res_template[i].lane = ER_LANE_GREEN;
        if (s->prof[i].hs_gate < 0)
            s->ungated[s->n_ungated++] = (uint32_t)i;
        else
            s->gate_start[s->prof[i].hs_gate + 1]++;
    }
    for (size_t k = 0; k < s->n_hssets; k++)
        s->gate_start[k + 1] += s->gate_start[k];
    uint32_t *fill = calloc(s->n_hssets + 1, sizeof *fill);
    if (!fill)
        return ER_ENOMEM;
    for (size_t i = 0; i < s->n_prof; i++)
        if (s->prof[i].hs_gate >= 0) {
            size_t g = (size_t)s->prof[i].hs_gate;
            s->gate_idx[s->gate_start[g] + fill[g]++] = (uint32_t)i;
        }
    free(fill);
    return ER_OK;
}

er_status er_profileset_load(er_profileset **out, const char *const *paths, size_t n_paths,
                             const er_profile_opts *opts, bool keep_on_error, er_err *err)
{
    er_status st = ER_OK;
    char **files = NULL;
    size_t n_files = 0;
    char *text = NULL;
    *out = NULL;
    er_profileset *s = calloc(1, sizeof *s);
    if (!s || !(s->arena = er_arena_new(1 << 16))) {
        free(s);
        return er_errf(err, ER_ENOMEM, "out of memory loading profiles");
    }
    s->ref = opts ? opts->ref : NULL;
    s->today = opts && opts->today ? opts->today : (int32_t)(time(NULL) / 86400);
    s->hash = 0xcbf29ce484222325ULL;
    if (n_paths == 0) {
        st = er_errf(err, ER_EINVAL, "no profile pack given");
        goto cleanup;
    }
    st = expand(s, paths, n_paths, &files, &n_files, err);
    if (st != ER_OK)
        goto cleanup;
    if (n_files == 0) {
        lint_file(s, ER_LINT_ERROR, adup(s, paths[0]), "", "no profile packs (*.json) found");
        st = er_errf(err, ER_ENOTFOUND, "%s: no profile packs (*.json) found", paths[0]);
        goto cleanup;
    }
    if (opts && opts->lists_dir) {
        s->lists_dir = adup(s, opts->lists_dir);
    } else {
        char *d = dir_of(paths[0]);
        if (!d) {
            st = ER_ENOMEM;
            goto cleanup;
        }
        s->lists_dir = afmt(s, "%s/lists", d);
        free(d);
    }
    if (n_files > 250) {
        st = er_errf(err, ER_ELIMIT, "too many profile packs (%zu, at most 250)", n_files);
        goto cleanup;
    }
    s->kw = calloc(n_files, sizeof *s->kw);
    s->pack_files = calloc(n_files, sizeof *s->pack_files);
    if (!s->kw || !s->pack_files) {
        st = ER_ENOMEM;
        goto cleanup;
    }
    s->n_packs = n_files;
    bool unloadable = false;
    ctx c = {.s = s};
    for (size_t i = 0; i < n_files; i++) {
        size_t len = 0;
        c.file = adup(s, files[i]);
        c.pack = (uint8_t)i;
        s->pack_files[i] = c.file;
        er_status rs = read_file(files[i], &text, &len);
        if (rs != ER_OK) {
            lint_err(&c, "", "cannot read: %s", rs == ER_ENOTFOUND ? "no such file" : er_status_str(rs));
            if (rs == ER_ENOMEM)
                c.nomem = true;
            if (st == ER_OK)
                st = rs == ER_ENOMEM ? ER_ENOMEM : rs == ER_ENOTFOUND ? ER_ENOTFOUND : ER_EIO;
            unloadable = true;
            continue;
        }
        hash_in(s, text, len);
        json_object *root = parse_json(s, c.file, text, len);
        free(text);
        text = NULL;
        if (!root) {
            unloadable = true;
            if (st == ER_OK)
                st = ER_EPARSE;
            continue;
        }
        load_pack(&c, root);
        json_object_put(root);
        if (c.nomem)
            break;
    }
    if (c.unloadable && st == ER_OK)
        st = ER_EPARSE;
    if (c.nomem) {
        st = er_errf(err, ER_ENOMEM, "out of memory loading profiles");
        goto cleanup;
    }
    if (hs_build(s) != ER_OK) {
        st = er_errf(err, ER_ENOMEM, "out of memory compiling HS sets");
        goto cleanup;
    }
    for (size_t i = 0; i < s->n_packs; i++)
        if (kw_build(&s->kw[i]) != ER_OK) {
            st = er_errf(err, ER_ENOMEM, "out of memory compiling keywords");
            goto cleanup;
        }
    s->kw_words = (uint32_t)((s->n_kwsets + 63) / 64);
    if (!s->kw_words)
        s->kw_words = 1;
    if (s->n_slots == 0) {
        if (!GROW(s->slots, s->n_slots, s->cap_slots, 1)) {
            st = ER_ENOMEM;
            goto cleanup;
        }
        s->slots[s->n_slots++] = "description";
    }
    if (build_candidates(s) != ER_OK) {
        st = er_errf(err, ER_ENOMEM, "out of memory compiling profiles");
        goto cleanup;
    }
    snprintf(s->hash_hex, sizeof s->hash_hex, "%016llx", (unsigned long long)s->hash);
    (void)unloadable;
    if (st == ER_OK && s->n_errors)
        st = ER_EPROFILE;
    if (st != ER_OK && st != ER_ENOMEM) {
        const er_lint_msg *m = NULL;
        for (size_t i = 0; i < s->n_msgs && !m; i++)
            if (s->msgs[i].severity == ER_LINT_ERROR)
                m = &s->msgs[i];
        if (m)
            er_errf(err, st, "%s: %s%s%s (%zu error%s in all)", m->file, m->path, *m->path ? ": " : "", m->message,
                    s->n_errors, s->n_errors == 1 ? "" : "s");
    }
cleanup:
    free(text);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    if (st != ER_OK && (!keep_on_error || st == ER_ENOMEM)) {
        er_profileset_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

const char *er_profile_default_dir(void)
{
    static char dir[4096];
    if (er_data_find(ER_DATA_PROFILES, NULL, dir, sizeof dir, NULL) != ER_OK)
        snprintf(dir, sizeof dir, "%s", ECORISK_DATADIR "/profiles");
    return dir;
}

size_t er_profileset_count(const er_profileset *s)
{
    return s ? s->n_prof : 0;
}

const er_profile_info *er_profileset_info(const er_profileset *s, size_t i)
{
    return s && i < s->n_prof ? &s->prof[i].info : NULL;
}

size_t er_profileset_find(const er_profileset *s, const char *id)
{
    for (size_t i = 0; s && i < s->n_prof; i++)
        if (strcmp(s->prof[i].info.id, id) == 0)
            return i;
    return (size_t)-1;
}

size_t er_profileset_lint(const er_profileset *s, const er_lint_msg **msgs)
{
    *msgs = s ? s->msgs : NULL;
    return s ? s->n_msgs : 0;
}

const char *er_profileset_hash(const er_profileset *s)
{
    return s ? s->hash_hex : "";
}
