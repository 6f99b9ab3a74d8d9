/*
 * op_document.c — {"document": KIND, "is": STATE or [STATE, ...]}: the
 * documents of that kind the declaration cites are in one of the states,
 * as the registry check found them before scoring (docs/registries.md);
 * no data without --registry.
 */
#include <stdio.h>
#include <string.h>

#include "profile/profile_op.h"

static const char *const states = "missing, unknown, expired, mismatch, exhausted or exceeded";

/* The state named by v, or ER_DS_COUNT. */
static unsigned doc_state(json_object *v)
{
    for (unsigned b = 0; b < ER_DS_COUNT && json_object_is_type(v, json_type_string); b++)
        if (strcmp(json_object_get_string(v), er_docstate_str(b)) == 0)
            return b;
    return ER_DS_COUNT;
}

/* "is": the mask of states and their label "expired|mismatch"; false after reporting. */
static bool doc_states(ctx *c, const popnd *a, json_object *is, uint32_t *mask, char *label, size_t cap)
{
    char p[512];
    size_t n = json_object_is_type(is, json_type_array) ? json_object_array_length(is) : 1;
    *mask = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_is_type(is, json_type_array) ? json_object_array_get_idx(is, i) : is;
        unsigned bit = doc_state(v);
        if (bit == ER_DS_COUNT) {
            lint_err(c, sub(p, sizeof p, a->path, "is"), "expected a state (%s) or an array of states, got %s", states,
                     json_object_is_type(v, json_type_string) ? json_object_get_string(v) : jtype(v));
            return false;
        }
        *mask |= 1u << bit;
        size_t L = strlen(label);
        snprintf(label + L, cap - L, "%s%s", L ? "|" : "", er_docstate_str(bit));
    }
    if (!*mask) {
        lint_err(c, sub(p, sizeof p, a->path, "is"), "expected at least one state (%s)", states);
        return false;
    }
    return true;
}

int32_t compile_document(ctx *c, const popnd *a)
{
    static const char *const keys[] = {"document", "is", NULL};
    check_keys(c, a->cond, a->path, keys, "document, is");
    json_object *k = a->v;
    int kind = -1;
    for (int i = 0; i < ER_DOC_KINDS && json_object_is_type(k, json_type_string); i++)
        if (strcmp(json_object_get_string(k), er_dockind_str((er_dockind)i)) == 0)
            kind = i;
    if (kind < 0) {
        lint_err(c, a->vpath, "expected permit, licence or consent, got %s",
                 json_object_is_type(k, json_type_string) ? json_object_get_string(k) : jtype(k));
        return -1;
    }
    uint32_t mask;
    char label[160] = "";
    if (!doc_states(c, a, json_object_object_get(a->cond, "is"), &mask, label, sizeof label))
        return -1;
    int32_t id = node_new(c, op_form("document"), a->path);
    if (id >= 0) {
        c->s->nodes[id].cmp = (uint8_t)kind;
        c->s->nodes[id].a = mask;
        c->s->nodes[id].label = afmt(c->s, "%s", label);
    }
    return id;
}

bool eval_document(er_eval *e, const cnode *n)
{
    return e->d->docs && (e->d->docs->state[n->cmp] & n->a);
}

void evidence_document(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    (void)fname;
    const er_decl *d = e->d;
    const char *kind = er_dockind_str((er_dockind)n->cmp);
    if (!d->docs)
        er_sb_printf(b, "%s: no data (no registries)", kind);
    else if (d->docs->state[n->cmp] & ER_DS_MISSING)
        er_sb_printf(b, "no %s cited", kind);
    else if (d->docs->evidence[n->cmp])
        er_sb_printf(b, "%s", d->docs->evidence[n->cmp]);
    else
        er_sb_printf(b, "%s %s%s", kind, neg ? "not " : "", n->label);
}

bool trace_document(json_object *o, er_eval *e, const cnode *n)
{
    const er_decl *d = e->d;
    char vb[96] = "";
    trace_str(o, "field", er_dockind_str((er_dockind)n->cmp));
    for (unsigned b = 0; d->docs && b < ER_DS_COUNT; b++)
        if (d->docs->state[n->cmp] & (1u << b))
            snprintf(vb + strlen(vb), sizeof vb - strlen(vb), "%s%s", vb[0] ? "|" : "", er_docstate_str(b));
    if (d->docs)
        trace_str(o, "value", vb);
    else
        json_object_object_add(o, "no_data", json_object_new_boolean(true));
    trace_str(o, "operand", n->label);
    return true;
}

OP_DESCRIBE(document)
{
    (void)s, (void)fname;
    er_sb_printf(b, "%s document %s (with --registry)", er_dockind_str((er_dockind)n->cmp), n->label);
}
