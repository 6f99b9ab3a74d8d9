/*
 * profile_sets.c — the set builders: the values of an operand become an HS
 * prefix set (for the shared trie), a country bitset, a sorted string set or
 * a keyword set of the pack's automaton. Each value is checked here and a
 * bad one reported where it is written; duplicates and overlaps within one
 * file are warnings. A set built from one whole list is built once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_build.h"

const char **arena_strv(ctx *c, size_t n)
{
    const char **v = er_arena_alloc(c->s->arena, (n ? n : 1) * sizeof *v);
    if (!v)
        c->nomem = true;
    return v;
}

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

int build_hs_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    int id = (int)s->n_hssets;
    const char **ents = NULL;
    if (!CGROW(c, s->hs_entries, s->n_hssets, s->cap_hs_sets, s->n_hssets + 1) ||
        !CGROW(c, s->hs_n_entries, s->n_hssets, s->cap_hs_sets2, s->n_hssets + 1) || !(ents = arena_strv(c, es->n)))
        return -1;
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

int build_cc_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    if (!CGROW(c, s->ccsets, s->n_ccsets, s->cap_ccsets, s->n_ccsets + 1))
        return -1;
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
int build_str_set(ctx *c, const entries *es, pfield f)
{
    er_profileset *s = c->s;
    const char **v = NULL;
    if (!CGROW(c, s->strsets, s->n_strsets, s->cap_strsets, s->n_strsets + 1) || !(v = arena_strv(c, es->n)))
        return -1;
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

int build_kw_set(ctx *c, const entries *es)
{
    er_profileset *s = c->s;
    const char **ents = NULL;
    if (!CGROW(c, s->kwset_pack, s->n_kwsets, s->cap_kwsets, s->n_kwsets + 1) ||
        !CGROW(c, s->kw_entries, s->n_kwsets, s->cap_kwsets2, s->n_kwsets + 1) ||
        !CGROW(c, s->kw_n_entries, s->n_kwsets, s->cap_kwsets3, s->n_kwsets + 1) || !(ents = arena_strv(c, es->n)))
        return -1;
    uint32_t id = (uint32_t)s->n_kwsets;
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

bool parse_route(er_profileset *s, const char *v, uint32_t *pair)
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

int cached_set(ctx *c, const entries *es, listdef *single, setkind k)
{
    int *cache = !single ? NULL : k == SET_CC ? &single->cc_set : k == SET_HS ? &single->hs_set : &single->kw_set;
    if (cache && *cache >= 0 && (k != SET_KW || single->kw_pack == c->pack))
        return *cache;   /* keyword sets belong to one pack's automaton */
    int set = k == SET_CC ? build_cc_set(c, es) : k == SET_HS ? build_hs_set(c, es) : build_kw_set(c, es);
    if (set >= 0 && cache) {
        *cache = set;
        if (k == SET_KW)
            single->kw_pack = c->pack;
    }
    return set;
}
