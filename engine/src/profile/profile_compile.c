/*
 * profile_compile.c — the condition compiler: a condition object becomes
 * nodes of the flat graph of profile_int.h through the operator table
 * (profile_op.h). It finds the row the JSON selects — a form by its key, a
 * field test by its operator and the field's kind — reports what does not
 * fit with the JSON path and the choices the table offers, and lets the
 * row's compile function do the rest.
 */
#include <stdio.h>
#include <string.h>

#include "profile/profile_op.h"

int32_t node_new(ctx *c, const pop *op, const char *path)
{
    er_profileset *s = c->s;
    if (!CGROW(c, s->nodes, s->n_nodes, s->cap_nodes, s->n_nodes + 1))
        return -1;
    cnode *n = &s->nodes[s->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)(op - profile_ops);
    n->pack = c->pack;
    n->path = adup(s, path);
    return (int32_t)s->n_nodes++;
}

bool node_kids(ctx *c, int32_t parent, const int32_t *kids, size_t n)
{
    er_profileset *s = c->s;
    if (!CGROW(c, s->kids, s->n_kids, s->cap_kids, s->n_kids + n))
        return false;
    s->nodes[parent].a = (uint32_t)s->n_kids;
    s->nodes[parent].n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        s->kids[s->n_kids++] = (uint32_t)kids[i];
    return true;
}

uint32_t text_slot(ctx *c, pfield f, const char *extra)
{
    er_profileset *s = c->s;
    if (f == PF_DESCRIPTION)
        return 0;
    if (s->n_slots == 0) {
        if (!CGROW(c, s->slots, s->n_slots, s->cap_slots, 1))
            return 0;
        s->slots[s->n_slots++] = "description";
    }
    const char *name = f == PF_EXTRA ? extra : pfield_name(f);
    for (size_t i = 1; i < s->n_slots; i++)
        if (strcmp(s->slots[i], name) == 0 && (f == PF_EXTRA) == (pfield_parse(name) == PF_COUNT))
            return (uint32_t)i;
    if (!CGROW(c, s->slots, s->n_slots, s->cap_slots, s->n_slots + 1))
        return 0;
    s->slots[s->n_slots] = name;
    return (uint32_t)s->n_slots++;
}

/* The field of {"field": F, ...}; PF_COUNT after reporting. */
static pfield field_of(ctx *c, json_object *j, const char *path)
{
    char p[512];
    json_object *fo = json_object_object_get(j, "field");
    if (!json_object_is_type(fo, json_type_string)) {
        lint_err(c, sub(p, sizeof p, path, "field"), "expected a field name, got %s", jtype(fo));
        return PF_COUNT;
    }
    pfield f = pfield_parse(json_object_get_string(fo));
    if (f == PF_COUNT)
        lint_err(c, sub(p, sizeof p, path, "field"),
                 "unknown field \"%s\" (expected a declaration field such as hs, origin, description, net_kg, unit_value, or extra.<column>)",
                 json_object_get_string(fo));
    return f;
}

/* {"field": F, OP: operand}: exactly one operator the field's kind accepts. */
static int32_t compile_field(ctx *c, json_object *j, const char *path, int depth, bool *anomaly)
{
    pfield f = field_of(c, j, path);
    if (f == PF_COUNT)
        return -1;
    const char *fname = json_object_get_string(json_object_object_get(j, "field"));
    popnd a = {.cond = j, .path = path, .field = f, .depth = depth, .anomaly = anomaly};
    int nops = 0;
    json_object_object_foreach(j, key, val)
    {
        if (strcmp(key, "field") == 0)
            continue;
        a.key = key;
        a.v = val;
        nops++;
    }
    char allowed[256], p[512];
    op_field_keys(f, allowed, sizeof allowed);
    if (nops != 1) {
        lint_err(c, path, "expected exactly one operator for field \"%s\" (one of: %s), got %d", fname, allowed,
                 nops);
        return -1;
    }
    a.vpath = sub(p, sizeof p, path, a.key);
    const pop *op = op_field(a.key, f);
    if (!op) {
        lint_err(c, p, "unknown operator \"%s\" for field \"%s\" (expected one of: %s)", a.key, fname, allowed);
        return -1;
    }
    a.extra = f == PF_EXTRA ? adup(c->s, fname + 6) : NULL;
    return op->compile(c, &a);
}

/* Calls the compile function of form op, whose key is in j. */
static int32_t compile_form(ctx *c, const pop *op, json_object *j, const char *path, int depth, bool *anomaly)
{
    char p[512];
    popnd a = {.cond = j, .v = json_object_object_get(j, op->keys), .key = op->keys, .path = path,
               .vpath = sub(p, sizeof p, path, op->keys), .field = PF_COUNT, .depth = depth, .anomaly = anomaly};
    return op->compile(c, &a);
}

int32_t compile(ctx *c, json_object *j, const char *path, int depth, bool *anomaly)
{
    char p[512], keys[256];
    op_cond_keys(keys, sizeof keys);
    if (depth > 32) {
        lint_err(c, path, "conditions nested too deeply (expected at most 32 levels)");
        return -1;
    }
    if (!json_object_is_type(j, json_type_object)) {
        lint_err(c, path, "expected a condition object (%s), got %s", keys, jtype(j));
        return -1;
    }
    if (json_object_object_get_ex(j, "field", NULL))
        return compile_field(c, j, path, depth, anomaly);
    /* forms that check their own keys come first; the others stand alone */
    for (size_t i = 0; i < profile_n_ops; i++) {
        const pop *op = &profile_ops[i];
        if (!op->kinds && (op->flags & OPF_OWN_KEYS) && json_object_object_get_ex(j, op->keys, NULL))
            return compile_form(c, op, j, path, depth, anomaly);
    }
    int n = json_object_object_length(j);
    if (n != 1) {
        lint_err(c, path, "expected a condition with exactly one of %s, got %d keys", keys, n);
        return -1;
    }
    json_object_object_foreach(j, key, val)
    {
        (void)val;
        const pop *op = op_form(key);
        if (op)
            return compile_form(c, op, j, path, depth, anomaly);
        lint_err(c, sub(p, sizeof p, path, key), "unknown condition \"%s\" (expected one of: %s)", key, keys);
    }
    return -1;
}
