/*
 * op_sets.c — the set tests of a field (docs/profiles.md §3): `eq`, `in`,
 * `in_list` on text fields (sorted string set), on flow and mode (bit mask),
 * on countries (bitset; transit: any overlap), and `prefix`, `prefix_list` on
 * hs (the shared HS prefix trie). Also the operand reading they share with
 * the keyword tests.
 */
#include <stdio.h>
#include <string.h>

#include "profile/profile_op.h"

bool set_operand(ctx *c, const popnd *a, entries *es, listdef **single, const char **label)
{
    size_t kl = strlen(a->key);
    *single = NULL;
    if (kl > 5 && strcmp(a->key + kl - 5, "_list") == 0) {
        bool ok = collect_lists(c, a->v, a->vpath, es, single);
        *label = es->label;
        return ok;
    }
    bool eq = strcmp(a->key, "eq") == 0;
    if (eq && !json_object_is_type(a->v, json_type_string)) {
        lint_err(c, a->vpath, "expected a string, got %s", jtype(a->v));
        return false;
    }
    bool ok = collect_inline(c, a->v, a->vpath, es);
    *label = inline_label(c, es, eq);
    return ok;
}

int32_t leaf_new(ctx *c, const pop *op, const popnd *a, uint32_t set, const char *label)
{
    int32_t id = node_new(c, op, a->path);
    if (id < 0)
        return -1;
    cnode *n = &c->s->nodes[id];
    n->field = (uint8_t)a->field;
    n->a = set;
    n->extra = a->extra;
    n->label = label;
    return id;
}

/* Reads the operand, builds the set of kind k (or the string set when k < 0), makes the node. */
static int32_t compile_set(ctx *c, const popnd *a, int k)
{
    entries es = {0};
    listdef *single = NULL;
    const char *label = NULL;
    int32_t id = -1;
    if (set_operand(c, a, &es, &single, &label)) {
        int set = k < 0 ? build_str_set(c, &es, a->field) : cached_set(c, &es, single, (setkind)k);
        if (set >= 0)
            id = leaf_new(c, op_field(a->key, a->field), a, (uint32_t)set, label);
    }
    entries_free(&es);
    return id;
}

int32_t compile_str_in(ctx *c, const popnd *a)
{
    return compile_set(c, a, -1);   /* string sets are normalized per field: not shared */
}

int32_t compile_cc_in(ctx *c, const popnd *a)
{
    return compile_set(c, a, SET_CC);
}

int32_t compile_prefix(ctx *c, const popnd *a)
{
    return compile_set(c, a, SET_HS);
}

/* flow and mode are enums: the string set becomes a bit mask of their values. */
int32_t compile_enum_in(ctx *c, const popnd *a)
{
    int32_t id = compile_set(c, a, -1);
    if (id < 0)
        return -1;
    cnode *n = &c->s->nodes[id];
    const strset *ss = &c->s->strsets[n->a];
    uint32_t mask = 0;
    for (size_t i = 0; i < ss->n; i++)
        for (unsigned v = 1; v < 8; v++)
            if (strcmp(ss->v[i], n->field == PF_FLOW ? er_flow_str((er_flow)v) : er_mode_str((er_mode)v)) == 0)
                mask |= 1u << v;
    n->n = n->a;   /* the string set, for describe */
    n->a = mask;
    n->extra = NULL;
    return id;
}

bool eval_str_in(er_eval *e, const cnode *n)
{
    char buf[4];
    const char *v = pfield_str_value(e->d, (pfield)n->field, n->extra, buf, sizeof buf);
    return v && strset_has(&e->s->strsets[n->a], v);
}

bool eval_enum_in(er_eval *e, const cnode *n)
{
    return (n->a >> (n->field == PF_FLOW ? e->d->flow : e->d->mode)) & 1u;
}

bool eval_cc_in(er_eval *e, const cnode *n)
{
    const ccset *cs = &e->s->ccsets[n->a];
    const er_decl *d = e->d;
    switch ((pfield)n->field) {
    case PF_ORIGIN: return ccset_has(cs, d->origin);
    case PF_EXPORT_COUNTRY: return ccset_has(cs, d->export_country);
    case PF_DESTINATION: return ccset_has(cs, d->destination);
    case PF_TRANSIT:
        for (uint8_t i = 0; i < d->n_transit && i < ER_TRANSIT_MAX; i++)
            if (ccset_has(cs, d->transit[i]))
                return true;
        return false;
    default: return false;
    }
}

bool eval_prefix(er_eval *e, const cnode *n)
{
    if (!e->hs_done)
        eval_hs(e);
    return (e->hs_mask[n->a / 64] >> (n->a % 64)) & 1u;
}

static void value_in(er_sb *b, const cnode *n, const char *v, bool neg, const char *fname, bool quote)
{
    if (!v || !*v)
        er_sb_printf(b, "%s absent", fname);
    else if (quote)
        er_sb_printf(b, "%s \"%s\" %sin %s", fname, v, neg ? "not " : "", n->label);
    else
        er_sb_printf(b, "%s %s %sin %s", fname, v, neg ? "not " : "", n->label);
}

void evidence_str_in(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    char vb[3 * ER_TRANSIT_MAX + 1];
    value_in(b, n, pfield_str_value(e->d, (pfield)n->field, n->extra, vb, sizeof vb), neg, fname, true);
}

void evidence_enum_in(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    const er_decl *d = e->d;
    value_in(b, n, n->field == PF_FLOW ? er_flow_str((er_flow)d->flow) : er_mode_str((er_mode)d->mode), neg, fname,
             true);
}

void evidence_cc_in(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    const er_decl *d = e->d;
    char vb[3 * ER_TRANSIT_MAX + 1];
    if (n->field != PF_TRANSIT) {
        value_in(b, n, pfield_str_value(d, (pfield)n->field, NULL, vb, sizeof vb), neg, fname, false);
        return;
    }
    const ccset *cs = &e->s->ccsets[n->a];
    uint16_t hit = 0;
    for (uint8_t i = 0; i < d->n_transit && i < ER_TRANSIT_MAX && !hit; i++)
        if (ccset_has(cs, d->transit[i]))
            hit = d->transit[i];
    if (!d->n_transit)
        er_sb_printf(b, "transit absent");
    else if (hit && !neg)
        er_sb_printf(b, "transit %c%c in %s", ER_CC_A(hit), ER_CC_B(hit), n->label);
    else
        er_sb_printf(b, "transit %s %sin %s", pfield_str_value(d, PF_TRANSIT, NULL, vb, sizeof vb), neg ? "not " : "",
                     n->label);
}

void evidence_prefix(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    (void)fname;
    er_sb_printf(b, "hs %s %sin %s", e->d->hs, neg ? "not " : "", n->label);
}

static bool trace_leaf(json_object *o, const cnode *n, const char *v)
{
    char fb[80];
    trace_str(o, "field", field_label(n, fb, sizeof fb));
    trace_str(o, "value", v);
    if (n->label)
        trace_str(o, "operand", n->label);
    return true;
}

bool trace_value(json_object *o, er_eval *e, const cnode *n)
{
    char vb[3 * ER_TRANSIT_MAX + 1];
    return trace_leaf(o, n, pfield_str_value(e->d, (pfield)n->field, n->extra, vb, sizeof vb));
}

bool trace_prefix(json_object *o, er_eval *e, const cnode *n)
{
    return trace_leaf(o, n, e->d->hs);
}

static void describe_strset(er_sb *b, const strset *ss, const cnode *n, const char *fname)
{
    er_sb_printf(b, "%s in %s:", fname, n->label);
    for (size_t i = 0; i < ss->n; i++)
        er_sb_printf(b, " %s", ss->v[i]);
}

void describe_str_in(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    describe_strset(b, &s->strsets[n->a], n, fname);
}

void describe_enum_in(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    describe_strset(b, &s->strsets[n->n], n, fname);
}

void describe_cc_in(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    er_sb_printf(b, "%s %s %s: ", fname, n->field == PF_TRANSIT ? "overlaps" : "in", n->label);
    describe_cc(b, &s->ccsets[n->a]);
}

void describe_prefix(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    (void)fname;
    er_sb_printf(b, "hs starts with %s:", n->label);
    for (size_t i = 0; i < s->hs_n_entries[n->a]; i++)
        er_sb_printf(b, " %s", s->hs_entries[n->a][i]);
}
