/*
 * profile_eval.c — evaluating compiled profiles on one declaration: scope,
 * indicators, score, lane, alert and deterministic random selection
 * (er_eval_run). Evidence and the explain trace are in profile_explain.c.
 * Per-declaration work is shared across profiles: one HS trie walk and one
 * keyword scan per pack and text field, both computed lazily. Each condition
 * node is evaluated by its operator's row (profile_op.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mix64.h"
#include "core/wordload.h"
#include "profile/profile_op.h"

/* ---- evaluation state ------------------------------------------------------------ */

er_status er_eval_new(er_eval **out, const er_profileset *s, er_err *err)
{
    er_eval *e = calloc(1, sizeof *e);
    if (!e)
        goto nomem;
    e->s = s;
    size_t nk = s->n_slots;
    e->res = calloc(s->n_prof ? s->n_prof : 1, sizeof *e->res);
    e->hs_mask = calloc(s->hs_words ? s->hs_words : 1, sizeof *e->hs_mask);
    e->kw_mask = calloc((nk ? nk : 1) * s->kw_words, sizeof *e->kw_mask);
    e->kw_done = calloc(nk ? nk : 1, 1);
    e->norm_cap = ER_LIMIT_EXTRA > ER_LIMIT_DESCRIPTION ? ER_LIMIT_EXTRA * 3 : ER_LIMIT_DESCRIPTION * 3;
    e->norm = malloc(e->norm_cap * (s->n_slots ? s->n_slots : 1));
    e->kept_use = calloc(ER_EVAL_CHUNK, 1);
    e->kept_hs = calloc((size_t)ER_EVAL_CHUNK * (s->hs_words ? s->hs_words : 1), sizeof *e->kept_hs);
    e->kept_kw = calloc((size_t)ER_EVAL_CHUNK * (nk ? nk : 1) * (s->kw_words ? s->kw_words : 1), sizeof *e->kept_kw);
    e->kept_done = calloc((size_t)ER_EVAL_CHUNK * (nk ? nk : 1), 1);
    e->hs_memo_key = calloc((size_t)EVAL_HS_MEMO * 2, sizeof *e->hs_memo_key);
    e->hs_memo_mask = calloc((size_t)EVAL_HS_MEMO * (s->hs_words ? s->hs_words : 1), sizeof *e->hs_memo_mask);
    if (!e->res || !e->hs_mask || !e->kw_mask || !e->kw_done || !e->norm || !e->kept_use || !e->kept_hs ||
        !e->kept_kw || !e->kept_done || !e->hs_memo_key || !e->hs_memo_mask)
        goto nomem;
    *out = e;
    return ER_OK;
nomem:
    er_eval_free(e);
    return er_errf(err, ER_ENOMEM, "out of memory allocating profile evaluation state");
}

void er_eval_free(er_eval *e)
{
    if (!e)
        return;
    free(e->hs_memo_mask);
    free(e->hs_memo_key);
    free(e->kept_done);
    free(e->kept_kw);
    free(e->kept_hs);
    free(e->kept_use);
    free(e->tnorm);
    free(e->norm);
    free(e->kw_done);
    free(e->kw_mask);
    free(e->hs_mask);
    free(e->res);
    free(e);
}

void eval_reset(er_eval *e, const er_decl *d, const er_anomalies *an)
{
    e->d = d;
    e->an = an;
    e->hs_done = false;
    memset(e->kw_done, 0, e->s->n_slots);
}

const char *slot_text(const er_profileset *s, const er_decl *d, uint32_t slot)
{
    if (slot == 0)
        return d->description;
    const char *name = s->slots[slot];
    pfield f = pfield_parse(name);
    char buf[4];
    return f == PF_COUNT ? er_decl_extra(d, name) : pfield_str_value(d, f, name, buf, 0);
}

const uint64_t *kw_get(er_eval *e, uint32_t slot)
{
    const er_profileset *s = e->s;
    uint64_t *m = e->kw_mask + (size_t)slot * s->kw_words;
    if (!e->kw_done[slot]) {
        /* first keyword test on this text: every pack's keywords found in one
         * scan (keyword sets are numbered across packs, so one mask holds
         * them all); ASCII text is scanned as it is, any other normalized first */
        const char *t = slot_text(s, e->d, slot);
        size_t len = 0;
        memset(m, 0, s->kw_words * sizeof *m);
        e->kw_done[slot] = 1;
        if (t && (!kwt_scan_str(&s->kwt, t, m, &len) || len > e->norm_cap)) {
            char *norm = e->norm + (size_t)slot * e->norm_cap;
            len = kw_normalize(t, len, norm, e->norm_cap);
            memset(m, 0, s->kw_words * sizeof *m);
            kwt_scan(&s->kwt, norm, len, m);
        }
    }
    return m;
}

bool pev(er_eval *e, uint32_t ni)
{
    const cnode *n = &e->s->nodes[ni];
    return profile_ops[n->op].eval(e, n);
}

static bool random_pick(const pprofile *p, const er_decl *d)
{
    if (!(p->info.random_rate > 0) || !d->id)
        return false;
    uint64_t h = er_mix64(er_hash64(d->id, strlen(d->id), p->seed));
    double u = (double)(h >> 11) * 0x1p-53;
    return u < p->info.random_rate;
}

static uint8_t lane_of(const er_profile_info *in, double score)
{
    if (score >= in->lane_red)
        return ER_LANE_RED;
    if (score >= in->lane_yellow)
        return ER_LANE_YELLOW;
    if (score >= in->lane_blue)
        return ER_LANE_BLUE;
    return ER_LANE_GREEN;
}

bool eval_in_window(const er_profile_info *in, const er_decl *d)
{
    return (!in->valid_from || d->date >= in->valid_from) && (!in->valid_until || d->date <= in->valid_until);
}

/* Continuous scaling of a fired anomaly indicator (docs/scoring.md §6): the largest
 * ln p / ln t over its anomaly predicates that hold, between 1 and 2. */
static double anomaly_scale(const pindicator *in, const er_anomalies *an)
{
    double best = 1;
    if (!an || !an->have_baseline)
        return best;
    for (uint8_t k = 0; k < in->n_an; k++) {
        const er_feature_value *f = &an->f[in->an_feat[k]];
        double lt = in->an_lt[k];
        if (!f->computable || f->unit_error || !(lt > 0) || !(f->p > 0))
            continue;
        double r = -log(f->p) / lt;
        if (r > best)
            best = r;
    }
    return best > 2 ? 2 : best;
}

static double ind_logodds(const pindicator *in, const er_anomalies *an)
{
    return in->n_an ? in->info.log_odds * anomaly_scale(in, an) : in->info.log_odds;
}

double er_eval_indicator_logodds(const er_profileset *s, size_t profile, size_t indicator, const er_anomalies *an)
{
    if (profile >= s->n_prof || indicator >= s->prof[profile].info.n_indicators)
        return 0;
    return ind_logodds(&s->prof[profile].ind[indicator], an);
}

/* Profile i on the current declaration; r holds the out-of-scope template. */
static void eval_profile(er_eval *e, size_t i, er_profile_result *r)
{
    const pprofile *p = &e->s->prof[i];
    const er_decl *d = e->d;
    if (!eval_in_window(&p->info, d)) {
        r->out_of_window = pev(e, p->scope);   /* counted by run (summary.json) */
        return;
    }
    if (!pev(e, p->scope))
        return;
    r->in_scope = true;
    double score = 0, logit = p->logit_prior;
    for (size_t k = 0; k < p->info.n_indicators; k++)
        if (pev(e, p->ind[k].root)) {
            r->fired |= (uint64_t)1 << k;
            score += p->info.indicators[k].weight;
            logit += ind_logodds(&p->ind[k], e->an);
        }
    r->logit = logit;
    r->score = score > 100 ? 100 : score;
    r->lane = lane_of(&p->info, r->score);
    r->random = random_pick(p, d);
    if (r->random && r->lane < ER_LANE_YELLOW)
        r->lane = ER_LANE_YELLOW;
    r->alert = r->score >= p->info.alert_threshold || r->random;
}

/* Whether a term of gated profile k's gate holds: one of its HS sets holds
 * the declared code (e->hs_mask) or the scan of a text finds one of its
 * keyword sets (scanned only when no HS set does). */
static bool gate_holds(er_eval *e, size_t k)
{
    const er_profileset *s = e->s;
    const uint64_t *g = s->gate_hs + k * s->hs_words;
    uint64_t hit = 0;
    for (uint32_t w = 0; w < s->hs_words; w++)
        hit |= e->hs_mask[w] & g[w];
    if (hit)
        return true;
    for (uint32_t j = s->gterm_start[k]; j < s->gterm_start[k + 1]; j++) {
        const gterm *t = &s->gterms[j];
        if ((kw_get(e, t->slot)[t->set / 64] >> (t->set % 64)) & 1u)
            return true;
    }
    return false;
}

/* The candidate profiles of the current declaration — the ungated ones, those
 * whose gate of HS and keyword sets holds, then those gated by an HS set its
 * code belongs to (e->hs_mask) — each given to visit until it returns true;
 * whether one did. */
static bool each_candidate(er_eval *e, bool (*visit)(er_eval *, uint32_t))
{
    const er_profileset *s = e->s;
    for (size_t k = 0; k < s->n_ungated; k++)
        if (visit(e, s->ungated[k]))
            return true;
    if (s->gate_by_hsset) {
        /* the gates as bits: those the code's HS sets open, then, when
         * profiles with keyword terms are left, those the keyword sets found
         * in the gates' texts open; visited in order, as gate_holds finds them */
        uint64_t open = 0;
        for (uint32_t w = 0; w < s->hs_words; w++)
            for (uint64_t bits = e->hs_mask[w]; bits; bits &= bits - 1)
                open |= s->gate_by_hsset[(size_t)w * 64 + (size_t)__builtin_ctzll(bits)];
        if (s->gated_kw & ~open)
            for (size_t i = 0; i < s->n_gate_slots; i++) {
                const uint64_t *m = kw_get(e, s->gate_slots[i]);
                const uint64_t *g = s->gate_by_kwset + (size_t)s->gate_slots[i] * s->kw_words * 64;
                for (uint32_t w = 0; w < s->kw_words; w++)
                    for (uint64_t bits = m[w]; bits; bits &= bits - 1)
                        open |= g[(size_t)w * 64 + (size_t)__builtin_ctzll(bits)];
            }
        for (; open; open &= open - 1)
            if (visit(e, s->gated[__builtin_ctzll(open)]))
                return true;
    } else {
        for (size_t k = 0; k < s->n_gated; k++)
            if (gate_holds(e, k) && visit(e, s->gated[k]))
                return true;
    }
    for (uint32_t w = 0; w < s->hs_words; w++)
        for (uint64_t bits = e->hs_mask[w]; bits; bits &= bits - 1) {
            size_t set = (size_t)w * 64 + (size_t)__builtin_ctzll(bits);
            for (uint32_t j = s->gate_start[set]; j < s->gate_start[set + 1]; j++)
                if (visit(e, s->gate_idx[j]))
                    return true;
        }
    return false;
}

static bool scope_may_hold(er_eval *e, uint32_t i)
{
    const pprofile *p = &e->s->prof[i];
    return p->scope_anomaly || pev(e, p->scope);
}

/* Evaluates candidate i into its result; never stops the walk. */
static bool eval_candidate(er_eval *e, uint32_t i)
{
    eval_profile(e, i, &e->res[i]);
    return false;
}

void eval_hs(er_eval *e)
{
    const er_profileset *s = e->s;
    const char *hs = e->d->hs;
    uint64_t w[2];
    er_load16(hs, strnlen(hs, sizeof e->d->hs), w);
    e->hs_done = true;
    if (!w[0]) {
        hs_lookup(s, hs, e->hs_mask);
        return;
    }
    uint64_t h = (w[0] ^ w[1] * 0x9E3779B97F4A7C15ULL) * 0xff51afd7ed558ccdULL;
    size_t i = (size_t)(h >> 56) % EVAL_HS_MEMO;
    uint64_t *key = e->hs_memo_key + 2 * i, *mask = e->hs_memo_mask + i * s->hs_words;
    if (key[0] != w[0] || key[1] != w[1]) {
        hs_lookup(s, hs, mask);
        key[0] = w[0];
        key[1] = w[1];
    }
    memcpy(e->hs_mask, mask, s->hs_words * sizeof *mask);
}

bool er_eval_any_scope(er_eval *e, const er_decl *d)
{
    eval_reset(e, d, NULL);
    eval_hs(e);
    return each_candidate(e, scope_may_hold);
}

/* Sizes of one kept declaration's HS mask, keyword masks and keyword flags. */
static void kept_sizes(const er_profileset *s, size_t *hs, size_t *kw, size_t *done)
{
    *done = s->n_slots;
    *kw = *done * s->kw_words;
    *hs = s->hs_words;
}

void er_eval_scopes(er_eval *e, const er_decl *d, size_t n, bool *need)
{
    size_t nh, nk, nd;
    kept_sizes(e->s, &nh, &nk, &nd);
    if (n > ER_EVAL_CHUNK)
        n = ER_EVAL_CHUNK;
    e->kept_d = 0;
    for (size_t k = 0; k < n; k++) {
        need[k] = er_eval_any_scope(e, &d[k]);
        memcpy(e->kept_hs + k * nh, e->hs_mask, nh * sizeof *e->hs_mask);
        memcpy(e->kept_kw + k * nk, e->kw_mask, nk * sizeof *e->kw_mask);
        memcpy(e->kept_done + k * nd, e->kw_done, nd);
        e->kept_use[k] = 1;
    }
    e->kept_d = (uintptr_t)d;
    e->kept_n = n;
}

/* After eval_reset: the kept results of d when er_eval_scopes saw it and they
 * are still unused; false otherwise (then nothing is restored). */
static bool restore_kept(er_eval *e, const er_decl *d)
{
    uintptr_t at = (uintptr_t)d;
    if (!e->kept_d || at < e->kept_d || (at - e->kept_d) % sizeof *d != 0)
        return false;
    size_t k = (at - e->kept_d) / sizeof *d, nh, nk, nd;
    if (k >= e->kept_n || !e->kept_use[k])
        return false;
    kept_sizes(e->s, &nh, &nk, &nd);
    memcpy(e->hs_mask, e->kept_hs + k * nh, nh * sizeof *e->hs_mask);
    memcpy(e->kw_mask, e->kept_kw + k * nk, nk * sizeof *e->kw_mask);
    memcpy(e->kw_done, e->kept_done + k * nd, nd);
    e->kept_use[k] = 0;
    return true;
}

size_t er_eval_run(er_eval *e, const er_decl *d, const er_anomalies *an, const er_profile_result **results)
{
    eval_reset(e, d, an);
    const er_profileset *s = e->s;
    memcpy(e->res, s->res_template, s->n_prof * sizeof *e->res);
    /* only candidates are visited: ungated profiles, and the profiles gated
     * by an HS set the declared code belongs to (one trie walk, unless
     * er_eval_scopes has done it and the keyword scans for this declaration) */
    if (!restore_kept(e, d))
        eval_hs(e);
    e->hs_done = true;
    each_candidate(e, eval_candidate);
    *results = e->res;
    return s->n_prof;
}
