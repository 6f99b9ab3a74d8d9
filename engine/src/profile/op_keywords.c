/*
 * op_keywords.c — `keywords` and `keyword_list` on a text field: the text,
 * normalized (docs/profiles.md#keywords), contains a keyword of the set,
 * found by the pack's automaton in one scan shared by every profile.
 */
#include <string.h>

#include "profile/profile_op.h"

int32_t compile_keywords(ctx *c, const popnd *a)
{
    entries es = {0};
    listdef *single = NULL;
    const char *label = NULL;
    int32_t id = -1;
    if (set_operand(c, a, &es, &single, &label)) {
        int set = cached_set(c, &es, single, SET_KW);
        if (set >= 0)
            id = leaf_new(c, op_field(a->key, a->field), a, (uint32_t)set, label);
        if (id >= 0)
            c->s->nodes[id].slot = text_slot(c, a->field, a->extra);
    }
    entries_free(&es);
    return id;
}

bool eval_keywords(er_eval *e, const cnode *n)
{
    const uint64_t *m = kw_get(e, n->slot);
    return (m[n->a / 64] >> (n->a % 64)) & 1u;
}

void evidence_keywords(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    const er_profileset *s = e->s;
    const char *t = slot_text(s, e->d, n->slot);
    size_t st = 0, pl = 0;
    size_t len = t ? kw_normalize(t, strlen(t), e->tnorm, EVAL_TNORM_CAP) : 0;
    if (!neg && t && kw_first(&s->kw[n->pack], e->tnorm, len, n->a, &st, &pl))
        er_sb_printf(b, "%s contains \"%.*s\" (%s)", fname, (int)pl, e->tnorm + st, n->label);
    else
        er_sb_printf(b, "%s has no keyword of %s", fname, n->label);
}

void describe_keywords(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
{
    er_sb_printf(b, "%s contains a keyword of %s:", fname, n->label);
    for (size_t i = 0; i < s->kw_n_entries[n->a]; i++)
        er_sb_printf(b, " \"%s\"", s->kw_entries[n->a][i]);
}
