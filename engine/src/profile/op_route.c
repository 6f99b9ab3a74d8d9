/*
 * op_route.c — {"route": {...}}: (origin | export_country) → destination in a
 * set of routes given as from/to country sets and/or FROM>TO pairs, inline
 * or from lists (docs/profiles.md §3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_op.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* "via": which country the route starts from; false after reporting. */
static bool route_via(ctx *c, json_object *r, const char *p, uint8_t *via)
{
    static const char *const names[] = {[RF_ORIGIN] = "origin", [RF_EXPORT] = "export_country", [RF_EITHER] = "either"};
    char q[512];
    json_object *v;
    *via = RF_ORIGIN;
    if (!json_object_object_get_ex(r, "via", &v))
        return true;
    const char *vs = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    for (uint8_t k = 0; k < 3; k++)
        if (strcmp(vs, names[k]) == 0) {
            *via = k;
            return true;
        }
    lint_err(c, sub(q, sizeof q, p, "via"), "expected \"origin\", \"export_country\" or \"either\"");
    return false;
}

/* "pairs" and "pairs_list": FROM>TO pairs into rs (sorted); *label as evidence shows them. */
static bool route_pairs(ctx *c, json_object *r, const char *p, routeset *rs, const char **label, bool *have)
{
    char q[512];
    entries es = {0};
    listdef *single = NULL;
    bool ok = true;
    json_object *v;
    if (json_object_object_get_ex(r, "pairs", &v)) {
        *have = true;
        ok = collect_inline(c, v, sub(q, sizeof q, p, "pairs"), &es);
        *label = inline_label(c, &es, false);
    }
    if (json_object_object_get_ex(r, "pairs_list", &v)) {
        *have = true;
        ok = collect_lists(c, v, sub(q, sizeof q, p, "pairs_list"), &es, &single) && ok;
        *label = es.label;
    }
    if (*have) {
        rs->pairs = malloc((es.n ? es.n : 1) * sizeof *rs->pairs);
        if (!rs->pairs)
            c->nomem = true;
        for (size_t i = 0; rs->pairs && i < es.n; i++) {
            if (parse_route(c->s, es.e[i].v, &rs->pairs[rs->n_pairs])) {
                rs->n_pairs++;
                continue;
            }
            lint_file(c->s, ER_LINT_ERROR, es.e[i].file, es.e[i].path,
                      "invalid route \"%s\" (expected FROM>TO with ISO 3166-1 alpha-2 codes, e.g. \"NG>VN\")",
                      es.e[i].v);
            ok = false;
        }
        if (rs->pairs)
            qsort(rs->pairs, rs->n_pairs, sizeof *rs->pairs, cmp_u32);
    }
    entries_free(&es);
    return ok;
}

/* "from" or "to": a country set index, or -1 when absent (*ok false when invalid). */
static int route_end(ctx *c, json_object *r, const char *p, const char *key, const char **label, bool *ok)
{
    char q[512];
    json_object *v;
    if (!json_object_object_get_ex(r, key, &v))
        return -1;
    int set = country_operand(c, v, sub(q, sizeof q, p, key), label);
    *ok = *ok && set >= 0;
    return set;
}

int32_t compile_route(ctx *c, const popnd *a)
{
    const char *p = a->vpath;
    json_object *r = a->v;
    if (!json_object_is_type(r, json_type_object)) {
        lint_err(c, p, "expected an object with from/to country sets or pairs, got %s", jtype(r));
        return -1;
    }
    static const char *const keys[] = {"from", "to", "pairs", "pairs_list", "via", NULL};
    check_keys(c, r, p, keys, "from, to, pairs, pairs_list, via");
    routeset rs = {.from_set = -1, .to_set = -1};
    const char *lf = NULL, *lt = NULL, *lp = NULL;
    uint8_t via;
    bool ok = route_via(c, r, p, &via), have_pairs = false;
    rs.from_set = route_end(c, r, p, "from", &lf, &ok);
    rs.to_set = route_end(c, r, p, "to", &lt, &ok);
    ok = route_pairs(c, r, p, &rs, &lp, &have_pairs) && ok;
    if (rs.from_set < 0 && rs.to_set < 0 && !have_pairs && ok) {
        lint_err(c, p, "expected at least one of from, to, pairs or pairs_list");
        ok = false;
    }
    er_profileset *s = c->s;
    int32_t id = -1;
    if (ok && CGROW(c, s->routes, s->n_routes, s->cap_routes, s->n_routes + 1))
        id = node_new(c, op_form("route"), a->path);
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

bool route_match(const er_profileset *s, const cnode *n, uint16_t from, uint16_t to)
{
    if (!from || !to)
        return false;
    const routeset *r = &s->routes[n->a];
    if (r->from_set >= 0 || r->to_set >= 0) {
        if ((r->from_set < 0 || ccset_has(&s->ccsets[r->from_set], from)) &&
            (r->to_set < 0 || ccset_has(&s->ccsets[r->to_set], to)))
            return true;
    }
    if (r->n_pairs) {
        uint32_t key = (uint32_t)from << 16 | to;
        size_t lo = 0, hi = r->n_pairs;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (r->pairs[mid] == key)
                return true;
            if (r->pairs[mid] < key)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return false;
}

bool eval_route(er_eval *e, const cnode *n)
{
    const er_decl *d = e->d;
    if (n->cmp != RF_EXPORT && route_match(e->s, n, d->origin, d->destination))
        return true;
    if (n->cmp != RF_ORIGIN && route_match(e->s, n, d->export_country, d->destination))
        return true;
    return false;
}

void evidence_route(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    (void)fname;
    const er_decl *d = e->d;
    uint16_t from = n->cmp == RF_EXPORT ? d->export_country : d->origin;
    if (n->cmp == RF_EITHER && !route_match(e->s, n, d->origin, d->destination))
        from = d->export_country;
    if (!from || !d->destination)
        er_sb_printf(b, "route incomplete");
    else
        er_sb_printf(b, "route %c%c>%c%c %smatches %s", ER_CC_A(from), ER_CC_B(from), ER_CC_A(d->destination),
                     ER_CC_B(d->destination), neg ? "not " : "", n->label);
}

bool trace_route(json_object *o, er_eval *e, const cnode *n)
{
    const er_decl *d = e->d;
    char rb[16] = "";
    trace_str(o, "field", "route");
    if (d->origin && d->destination)
        snprintf(rb, sizeof rb, "%c%c>%c%c", ER_CC_A(d->origin), ER_CC_B(d->origin), ER_CC_A(d->destination),
                 ER_CC_B(d->destination));
    trace_str(o, "value", rb);
    if (d->export_country && d->destination) {
        snprintf(rb, sizeof rb, "%c%c>%c%c", ER_CC_A(d->export_country), ER_CC_B(d->export_country),
                 ER_CC_A(d->destination), ER_CC_B(d->destination));
        trace_str(o, "value_export", rb);
    }
    trace_str(o, "operand", n->label ? n->label : "");
    return true;
}

void describe_route(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    (void)fname;
    const routeset *r = &s->routes[n->a];
    static const char *const via[] = {"origin", "export_country", "origin or export_country"};
    er_sb_printf(b, "route (%s -> destination)", via[n->cmp < 3 ? n->cmp : 0]);
    if (r->from_set >= 0) {
        er_sb_printf(b, " from ");
        describe_cc(b, &s->ccsets[r->from_set]);
    }
    if (r->to_set >= 0) {
        er_sb_printf(b, "%s to ", r->from_set >= 0 ? ";" : "");
        describe_cc(b, &s->ccsets[r->to_set]);
    }
    if (r->n_pairs) {
        er_sb_printf(b, "%s pairs", r->from_set >= 0 || r->to_set >= 0 ? "; or" : "");
        for (size_t i = 0; i < r->n_pairs; i++) {
            uint16_t x = (uint16_t)(r->pairs[i] >> 16), y = (uint16_t)(r->pairs[i] & 0xffff);
            er_sb_printf(b, " %c%c>%c%c", ER_CC_A(x), ER_CC_B(x), ER_CC_A(y), ER_CC_B(y));
        }
    }
}
