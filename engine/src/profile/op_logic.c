/*
 * op_logic.c — the operators that combine conditions: `all` (every child
 * holds), `any` (some child holds) and `not` (docs/profiles.md §3).
 */
#include <stdlib.h>

#include "profile/profile_op.h"

/* {"all": [COND, ...]} and {"any": [COND, ...]}: a non-empty array of conditions. */
int32_t compile_group(ctx *c, const popnd *a)
{
    if (!json_object_is_type(a->v, json_type_array) || json_object_array_length(a->v) == 0) {
        lint_err(c, a->vpath, "expected a non-empty array of conditions, got %s", jtype(a->v));
        return -1;
    }
    size_t n = json_object_array_length(a->v);
    int32_t *tmp = calloc(n, sizeof *tmp);
    if (!tmp) {
        c->nomem = true;
        return -1;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char q[512];
        tmp[i] = compile(c, json_object_array_get_idx(a->v, i), idx(q, sizeof q, a->path, a->key, i), a->depth + 1,
                         a->anomaly);
        if (tmp[i] < 0)
            ok = false;
    }
    int32_t id = -1;
    if (ok) {
        id = node_new(c, op_form(a->key), a->path);
        if (id >= 0 && !node_kids(c, id, tmp, n))
            id = -1;
        if (id < 0)
            c->nomem = true;
    }
    free(tmp);
    return id;
}

/* {"not": COND} */
int32_t compile_not(ctx *c, const popnd *a)
{
    int32_t k = compile(c, a->v, a->vpath, a->depth + 1, a->anomaly);
    if (k < 0)
        return -1;
    int32_t id = node_new(c, op_form("not"), a->path);
    if (id < 0 || !node_kids(c, id, &k, 1)) {
        c->nomem = true;
        return -1;
    }
    return id;
}

bool eval_all(er_eval *e, const cnode *n)
{
    for (uint32_t i = 0; i < n->n; i++)
        if (!pev(e, e->s->kids[n->a + i]))
            return false;
    return true;
}

bool eval_any(er_eval *e, const cnode *n)
{
    for (uint32_t i = 0; i < n->n; i++)
        if (pev(e, e->s->kids[n->a + i]))
            return true;
    return false;
}

bool eval_not(er_eval *e, const cnode *n)
{
    return !pev(e, e->s->kids[n->a]);
}

void describe_group(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    (void)s;
    (void)fname;
    const pop *op = node_op(n);
    if (op->flags & OPF_NEGATES)
        er_sb_printf(b, "%s:", op->name);
    else
        er_sb_printf(b, "%s of:", op->name);
}
