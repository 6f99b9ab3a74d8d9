/*
 * op_number.c — comparisons of a numeric field, stored or derived (`gt`,
 * `ge`, `lt`, `le`, `eq`, `ne`, `between`), and `exists` on any field
 * (docs/profiles.md §3). A missing value makes a comparison false.
 */
#include <string.h>

#include "profile/profile_op.h"

static const char *const cmp_key[] = {"gt", "ge", "lt", "le", "eq", "ne", "between"};
static const char *const cmp_sym[] = {">", ">=", "<", "<=", "=", "!=", "in"};
static const char *const cmp_neg[] = {"<=", "<", ">=", ">", "!=", "=", "not in"};

/* The operand of between: [low, high] with low <= high. */
static bool range_operand(ctx *c, const popnd *a, double *x, double *y)
{
    json_object *ov = a->v;
    if (!json_object_is_type(ov, json_type_array) || json_object_array_length(ov) != 2 ||
        !is_num(json_object_array_get_idx(ov, 0)) || !is_num(json_object_array_get_idx(ov, 1))) {
        lint_err(c, a->vpath, "expected [low, high] (two numbers), got %s", jtype(ov));
        return false;
    }
    *x = json_object_get_double(json_object_array_get_idx(ov, 0));
    *y = json_object_get_double(json_object_array_get_idx(ov, 1));
    if (*x > *y) {
        lint_err(c, a->vpath, "empty range [%g, %g] (expected low <= high)", *x, *y);
        return false;
    }
    return true;
}

int32_t compile_num(ctx *c, const popnd *a)
{
    int cmp = 0;
    for (int k = 0; k < 7; k++)
        if (strcmp(cmp_key[k], a->key) == 0)
            cmp = k;
    double x = 0, y = 0;
    if (cmp == NC_BETWEEN) {
        if (!range_operand(c, a, &x, &y))
            return -1;
    } else if (!is_num(a->v)) {
        lint_err(c, a->vpath, "expected a number, got %s", jtype(a->v));
        return -1;
    } else {
        x = json_object_get_double(a->v);
    }
    int32_t id = node_new(c, op_field(a->key, a->field), a->path);
    if (id < 0)
        return -1;
    cnode *n = &c->s->nodes[id];
    n->field = (uint8_t)a->field;
    n->cmp = (uint8_t)cmp;
    n->x = x;
    n->y = y;
    return id;
}

/* {"field": F, "exists": true|false}; false compiles to not(exists). */
int32_t compile_exists(ctx *c, const popnd *a)
{
    if (!json_object_is_type(a->v, json_type_boolean)) {
        lint_err(c, a->vpath, "expected true or false, got %s", jtype(a->v));
        return -1;
    }
    int32_t id = node_new(c, op_field("exists", a->field), a->path);
    if (id < 0)
        return -1;
    c->s->nodes[id].field = (uint8_t)a->field;
    c->s->nodes[id].extra = a->extra;
    if (json_object_get_boolean(a->v))
        return id;
    int32_t nid = node_new(c, op_form("not"), a->path);
    if (nid < 0 || !node_kids(c, nid, &id, 1))
        return -1;
    return nid;
}

static bool num_cmp(uint8_t cmp, double v, double x, double y)
{
    switch (cmp) {
    case NC_GT: return v > x;
    case NC_GE: return v >= x;
    case NC_LT: return v < x;
    case NC_LE: return v <= x;
    case NC_EQ: return v == x;
    case NC_NE: return v != x;
    case NC_BETWEEN: return v >= x && v <= y;
    default: return false;
    }
}

bool eval_num(er_eval *e, const cnode *n)
{
    double v;
    return pfield_num_value(e->d, (pfield)n->field, &v) && num_cmp(n->cmp, v, n->x, n->y);
}

bool eval_exists(er_eval *e, const cnode *n)
{
    if (PF_IS_NUMBER(n->field)) {
        double v;
        return pfield_num_value(e->d, (pfield)n->field, &v);
    }
    char buf[3 * ER_TRANSIT_MAX + 1];
    return pfield_str_value(e->d, (pfield)n->field, n->extra, buf, sizeof buf) != NULL;
}

void evidence_num(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    double v;
    const char *op = n->cmp < 7 ? (neg ? cmp_neg[n->cmp] : cmp_sym[n->cmp]) : "?";
    if (!pfield_num_value(e->d, (pfield)n->field, &v))
        er_sb_printf(b, "%s not available", fname);
    else if (n->cmp == NC_BETWEEN)
        er_sb_printg(b, "%s %.6g %s [%.6g, %.6g]", fname, v, op, n->x, n->y);
    else
        er_sb_printg(b, "%s %.6g %s %.6g", fname, v, op, n->x);
}

void evidence_exists(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    (void)e;
    (void)n;
    er_sb_printf(b, "%s %s", fname, neg ? "absent" : "present");
}

/* "value" (or "no_data") of a numeric field. */
static void trace_num_value(json_object *o, er_eval *e, const cnode *n)
{
    char fb[80];
    double v;
    trace_str(o, "field", field_label(n, fb, sizeof fb));
    if (pfield_num_value(e->d, (pfield)n->field, &v))
        json_object_object_add(o, "value", json_object_new_double(v));
    else
        json_object_object_add(o, "no_data", json_object_new_boolean(true));
}

bool trace_num(json_object *o, er_eval *e, const cnode *n)
{
    trace_num_value(o, e, n);
    json_object_object_add(o, "operand", json_object_new_double(n->x));
    if (n->cmp == NC_BETWEEN)
        json_object_object_add(o, "operand_high", json_object_new_double(n->y));
    return true;
}

bool trace_exists(json_object *o, er_eval *e, const cnode *n)
{
    if (!PF_IS_NUMBER(n->field))
        return trace_value(o, e, n);
    trace_num_value(o, e, n);
    return true;
}

void describe_num(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    (void)s;
    static const char *const sym[] = {">", ">=", "<", "<=", "=", "!=", "between"};
    if (n->cmp == NC_BETWEEN)
        er_sb_printf(b, "%s between %.6g and %.6g", fname, n->x, n->y);
    else
        er_sb_printf(b, "%s %s %.6g", fname, sym[n->cmp < 6 ? n->cmp : 0], n->x);
}

void describe_exists(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    (void)s;
    (void)n;
    er_sb_printf(b, "%s present", fname);
}
