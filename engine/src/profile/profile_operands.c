/*
 * profile_operands.c — the operands of conditions: inline values or named
 * reference lists, collected with where each value is written (file and JSON
 * path or list line) so that the set builders report a bad value there; and
 * the label evidence shows for the operand ("list cites-app1", "[NG,CM]").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_build.h"

void entries_free(entries *es)
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
bool collect_inline(ctx *c, json_object *arr, const char *path, entries *es)
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
bool collect_lists(ctx *c, json_object *names, const char *path, entries *es,
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

const char *inline_label(ctx *c, const entries *es, bool quote)
{
    char buf[256];
    size_t o = 0;
    for (size_t i = 0; i < es->n && o < sizeof buf - 8; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "," : "", es->e[i].v);
    buf[o < sizeof buf ? o : sizeof buf - 1] = '\0';
    return quote && es->n == 1 ? afmt(c->s, "\"%s\"", buf) : afmt(c->s, "[%s]", buf);
}

int country_operand(ctx *c, json_object *v, const char *path, const char **label)
{
    entries es = {0};
    listdef *single = NULL;
    int set = -1;
    if (json_object_is_type(v, json_type_string) && strlen(json_object_get_string(v)) != 2) {
        /* a list name */
        if (collect_lists(c, v, path, &es, &single)) {
            set = cached_set(c, &es, single, SET_CC);
            *label = es.label;
        }
    } else if (collect_inline(c, v, path, &es)) {
        set = build_cc_set(c, &es);
        *label = inline_label(c, &es, false);
    }
    entries_free(&es);
    return set;
}
