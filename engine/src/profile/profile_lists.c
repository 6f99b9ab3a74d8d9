/*
 * profile_lists.c — reference lists (profiles/lists/NAME.txt or NAME.json,
 * docs/profiles.md#lists): loaded once on first use, with their source and
 * date, each entry remembered with its line (or JSON index) so that a bad
 * entry is reported where it is written.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile/profile_build.h"

/* A "# source: ..." or "# date: ..." header line (text after the '#'). */
static void txt_header(er_profileset *s, listdef *l, const char *ln, size_t n)
{
    char hdr[1024];
    size_t hn = n < sizeof hdr - 1 ? n : sizeof hdr - 1;
    memcpy(hdr, ln, hn);
    hdr[hn] = '\0';
    char *h = hdr;
    while (*h == ' ' || *h == '\t')
        h++;
    const char **to = NULL;
    if (strncasecmp(h, "source:", 7) == 0 && !l->source) {
        h += 7;
        to = &l->source;
    } else if (strncasecmp(h, "date:", 5) == 0 && !l->date) {
        h += 5;
        to = &l->date;
    }
    if (!to)
        return;
    while (*h == ' ')
        h++;
    if (*h)
        *to = adup(s, h);
}

/* Line ln[0..*n) trimmed of surrounding space and of an inline comment ("NG  # Nigeria"). */
static const char *txt_trim(const char *ln, size_t *n)
{
    size_t k = *n;
    while (k && (ln[k - 1] == '\r' || isspace((unsigned char)ln[k - 1])))
        k--;
    while (k && isspace((unsigned char)*ln)) {
        ln++;
        k--;
    }
    if (k && *ln != '#')
        for (size_t i = 1; i < k; i++)
            if (ln[i] == '#' && (ln[i - 1] == ' ' || ln[i - 1] == '\t')) {
                k = i;
                while (k && isspace((unsigned char)ln[k - 1]))
                    k--;
                break;
            }
    *n = k;
    return ln;
}

static bool add_entry(ctx *c, listdef *l, size_t *cap, const char *v, size_t n, uint32_t line)
{
    size_t cap2 = *cap;
    if (!GROW(l->entries, l->n, *cap, l->n + 1) || !GROW(l->lines, l->n, cap2, *cap)) {
        c->nomem = true;
        return false;
    }
    l->entries[l->n] = er_arena_strndup(c->s->arena, v, n);
    l->lines[l->n] = line;
    l->n++;
    return true;
}

/* NAME.txt: one entry a line, '#' comments, "# source:" and "# date:" headers. */
static void parse_txt(ctx *c, listdef *l, char *text)
{
    size_t cap = 0;
    uint32_t line = 0;
    char *p = text;
    while (*p) {
        char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        line++;
        const char *ln = p;
        p = e ? e + 1 : p + n;
        ln = txt_trim(ln, &n);
        if (!n)
            continue;
        if (*ln == '#')
            txt_header(c->s, l, ln + 1, n - 1);
        else if (!add_entry(c, l, &cap, ln, n, line))
            break;
    }
}

static void json_entries(ctx *lc, listdef *l, json_object *v)
{
    size_t n = json_object_array_length(v);
    l->entries = calloc(n ? n : 1, sizeof *l->entries);
    l->lines = calloc(n ? n : 1, sizeof *l->lines);
    if (!l->entries || !l->lines)
        lc->nomem = true;
    for (size_t i = 0; l->entries && l->lines && i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            char p[64];
            lint_err(lc, idx(p, sizeof p, "entries", "", i), "expected a string, got %s", jtype(e));
            continue;
        }
        l->entries[l->n] = adup(lc->s, json_object_get_string(e));
        l->lines[l->n] = (uint32_t)i;
        l->n++;
    }
}

/* NAME.json: {"source", "date", "description", "entries": [...]}; false when not JSON. */
static bool parse_list_json(ctx *c, listdef *l, const char *text, size_t len)
{
    er_profileset *s = c->s;
    json_object *j = parse_json(s, l->file, text, len);
    if (!j) {
        c->unloadable = true;
        c->list_broken = true;
        return false;
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
        if (!json_object_object_get_ex(j, "entries", &v) || !json_object_is_type(v, json_type_array))
            lint_err(&lc, "entries", "expected an array of strings");
        else
            json_entries(&lc, l, v);
        c->nomem = c->nomem || lc.nomem;
    }
    json_object_put(j);
    return true;
}

/* A new, empty list record for name (NULL on ENOMEM). */
static listdef *list_new(ctx *c, const char *name)
{
    er_profileset *s = c->s;
    if (!GROW(s->lists, s->n_lists, s->cap_lists, s->n_lists + 1)) {
        c->nomem = true;
        return NULL;
    }
    listdef *l = &s->lists[s->n_lists++];
    memset(l, 0, sizeof *l);
    l->name = adup(s, name);
    l->cc_set = l->hs_set = l->str_set = l->kw_set = -1;
    l->kw_pack = -1;
    return l;
}

/* Names are plain: letters, digits, '-', '_', '.' (no paths), not starting with '.'. */
static bool plain_name(const char *name)
{
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return *name && name[0] != '.';
}

/* Reads NAME.txt, else NAME.json; the path read into path, *json which one. */
static er_status read_list(ctx *c, listdef *l, char *path, size_t cap, char **text, size_t *len, bool *json)
{
    er_profileset *s = c->s;
    snprintf(path, cap, "%s/%s.txt", s->lists_dir, l->name);
    er_status st = read_file(path, text, len);
    *json = false;
    if (st == ER_ENOTFOUND) {
        snprintf(path, cap, "%s/%s.json", s->lists_dir, l->name);
        st = read_file(path, text, len);
        *json = true;
    }
    if (st != ER_OK && st != ER_ENOTFOUND) {
        l->file = adup(s, path);
        c->list_broken = true;
        lint_file(s, ER_LINT_ERROR, l->file, "", "cannot read list: %s", er_status_str(st));
    }
    if (st == ER_ENOMEM)
        c->nomem = true;
    return st;
}

listdef *list_get(ctx *c, const char *name)
{
    er_profileset *s = c->s;
    c->list_broken = false;
    for (size_t i = 0; i < s->n_lists; i++)
        if (strcmp(s->lists[i].name, name) == 0) {
            c->list_broken = !s->lists[i].ok && s->lists[i].file;
            return s->lists[i].ok ? &s->lists[i] : NULL;
        }
    listdef *l = list_new(c, name);
    if (!l || !plain_name(name))
        return NULL;
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    bool json = false;
    if (read_list(c, l, path, sizeof path, &text, &len, &json) != ER_OK)
        return NULL;
    l->file = adup(s, path);
    hash_in(s, text, len);
    bool parsed = true;
    if (!json)
        parse_txt(c, l, text);
    else
        parsed = parse_list_json(c, l, text, len);
    free(text);
    if (!parsed)
        return NULL;
    int32_t dd;
    if (!l->source || !l->date || er_date_parse(l->date, strlen(l->date), &dd) != ER_OK)
        lint_file(s, ER_LINT_ERROR, l->file, json ? "" : "header",
                  "list must name its source and date (expected \"# source: ...\" and \"# date: YYYY-MM-DD\"%s)",
                  json ? " as \"source\" and \"date\"" : " comment lines");
    l->ok = true;
    return l;
}

const char *entry_path(char *buf, size_t cap, const listdef *l, size_t i)
{
    if (l->file && strstr(l->file, ".json") == l->file + strlen(l->file) - 5)
        snprintf(buf, cap, "entries[%u]", l->lines[i]);
    else
        snprintf(buf, cap, "line %u", l->lines[i]);
    return buf;
}
