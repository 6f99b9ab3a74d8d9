/*
 * run_pool.c — the run's worker pool: N threads take filled batch slots from a
 * queue, score every declaration (through the packs, and the learned model
 * when one is loaded) and format its alert line, top-up candidate line and
 * scores.csv row into the slot's own buffers. The reading thread commits the
 * slots in feed order (run.c), so what workers do in parallel never shows in
 * the output order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/grow.h"
#include "score/run_impl.h"

static void csv_field(er_sb *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        er_sb_puts(b, s);
        return;
    }
    er_sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            er_sb_putc(b, '"');
        er_sb_putc(b, *s);
    }
    er_sb_putc(b, '"');
}

enum { AN_CHUNK = ER_EVAL_CHUNK };

/* Anomalies of rows first..first+n of the batch (n <= AN_CHUNK) into an[0..n),
 * and need[k]: whether row first+k must be scored at all. Without scores.csv a
 * declaration in no profile's scope writes nothing, so neither its anomalies
 * nor its profiles are computed (the same outputs, byte for byte). */
static void chunk_anomalies(const run_ctx *c, er_eval *ev, const er_batch *b, size_t first, size_t n,
                            er_anomalies *an, bool *need)
{
    uint32_t idx[AN_CHUNK];
    size_t k = 0;
    if (c->opts->all_scores)
        memset(need, 1, n * sizeof *need);
    else
        er_eval_scopes(ev, &b->decls[first], n, need);
    for (size_t j = 0; j < n; j++)
        if (need[j])
            idx[k++] = (uint32_t)j;
    if (k == n)
        er_anomaly_compute_batch(c->bl, &b->decls[first], n, an);
    else
        er_anomaly_compute_some(c->bl, &b->decls[first], idx, k, an);
}

/* Whether a declaration with these in_scope bits needs its probability now. */
static bool wants_prob(const run_ctx *c, uint8_t bits)
{
    return (bits & 1) || ((bits & 2) && c->cand_prob) || c->opts->all_scores;
}

/* With a model: score the batch once, build the feature rows of the
 * declarations whose probability is written (alerts, top-up candidates; every
 * one for scores.csv), predict them in one call, and keep the anomaly features
 * and which declarations alert or may be topped up (in_scope bit 1: alert,
 * bit 2: candidate) for the formatting pass. */
static bool model_pass(run_ctx *c, er_eval *ev, er_model_pred *pred, slot *s)
{
    er_batch *b = s->batch;
    er_decl_score sc;
    size_t nf = er_model_n_features(c->model);
    er_err err;
    size_t m = 0;   /* declarations scored: their feature rows are rows[0..m) */
    er_anomalies an[AN_CHUNK];   /* a chunk's features, computed together; kept in s->an
                                  * only for what the formatting pass scores again */
    bool need[AN_CHUNK];
    for (size_t i = 0; i < b->n; i++) {
        if (i % AN_CHUNK == 0)
            chunk_anomalies(c, ev, b, i, b->n - i < AN_CHUNK ? b->n - i : AN_CHUNK, an, need);
        if (!need[i % AN_CHUNK]) {
            s->in_scope[i] = 0;
            continue;
        }
        sc.an = an[i % AN_CHUNK];
        er_score_decl_an(c->ps, ev, &b->decls[i], &sc);
        for (size_t k = 0; s->oow && k < sc.n_results; k++)
            s->oow[k] += sc.results[k].out_of_window;
        s->in_scope[i] = (uint8_t)((sc.in_scope ? 4 : 0) | (sc.best >= 0 ? 1 : 0) |
                                   (sc.best < 0 && sc.in_scope && c->want_cands ? 2 : 0));
        if ((s->in_scope[i] & 3) || c->opts->all_scores)
            s->an[i] = sc.an;
        /* the probability is read only for what is written: alerts, scores.csv, and
         * candidates when exploration ranks them (else the picked ones get it at the end) */
        if (wants_prob(c, s->in_scope[i])) {
            er_model_features(c->model, &b->decls[i], &sc, s->rows + m * nf);
            s->ridx[i] = (uint32_t)m++;
        }
    }
    if (er_model_predict(pred, s->rows, m, s->prob, &err) != ER_OK)
        return false;
    for (size_t i = b->n; i-- > 0;)   /* to declaration order: ridx[i] <= i, so downwards is safe */
        s->prob[i] = wants_prob(c, s->in_scope[i]) ? s->prob[s->ridx[i]] : NAN;
    /* SHAP values for the alerts; a candidate's contributions are computed
     * only if the plan picks it (run_cands.c) */
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (s->in_scope[i] & 1) {
            if (!er_grow((void **)&s->crows, &s->cap_crows, (n + 1) * nf, sizeof *s->crows))
                return false;
            memcpy(s->crows + n * nf, s->rows + (size_t)s->ridx[i] * nf, nf * sizeof *s->crows);
            s->cidx[i] = (uint32_t)n++;
        }
    return er_grow((void **)&s->contrib, &s->cap_contrib, (n ? n : 1) * (nf + 1), sizeof *s->contrib) &&
           er_model_contrib(pred, s->crows, n, s->contrib, &err) == ER_OK;
}

/* Close the alert object just formatted with the model's view of it: its
 * probability, the profiles' own risk and the top contributions in words. */
static void model_alert(const run_ctx *c, const er_decl *d, er_sb *out, size_t before, double profile_risk,
                        const run_model_view *mv, bool candidate)
{
    if (out->len <= before || out->p[out->len - 1] != '}')
        return;
    out->len--;
    er_sb_puts(out, ",\"profile_risk\":");
    er_sb_json_numg(out, profile_risk, 17);
    er_sb_json_key(out, "model");
    er_model_explain_row(c->model, d, mv->row, mv->prob, mv->contrib, !candidate, 5, out);
    er_sb_putc(out, '}');
}

size_t run_format_alert(const run_ctx *c, er_sb *buf, const er_decl *d, const er_decl_score *sc, size_t which,
                        er_lane lane, bool candidate, double profile_risk, const run_model_view *mv)
{
    size_t before = buf->len;
    er_alert_format(buf, &c->actx, d, sc, which, lane, false, candidate);
    if (c->model)
        model_alert(c, d, buf, before, profile_risk, mv, candidate);
    er_sb_putc(buf, '\n');
    return buf->len - before;
}

/* The model's view of declaration i of the slot (computed by model_pass). */
static run_model_view slot_view(const run_ctx *c, const slot *s, size_t i)
{
    size_t nf = er_model_n_features(c->model);
    return (run_model_view){s->rows + (size_t)s->ridx[i] * nf, s->prob[i], s->contrib + (size_t)s->cidx[i] * (nf + 1)};
}

static void score_row(er_sb *b, const er_decl *d, const er_decl_score *sc)
{
    csv_field(b, d->id);
    for (int dom = 0; dom < ER_DOMAIN_COUNT; dom++) {
        er_sb_putc(b, ',');
        er_sb_json_numg(b, sc->domain_score[dom], 6);
    }
    er_sb_putc(b, ',');
    er_sb_json_numg(b, sc->risk, 17);
    er_sb_putc(b, '\n');
}

static bool slot_add_alert(run_ctx *c, slot *s, size_t i, const er_decl_score *sc,
                           double profile_risk)
{
    const er_profile_result *r = &sc->results[sc->best];
    er_lane lane = er_score_lane(sc, (size_t)sc->best, &c->lanes);
    run_model_view mv = {0};
    if (c->model)
        mv = slot_view(c, s, i);
    size_t len = run_format_alert(c, &s->alerts, &s->batch->decls[i], sc, (size_t)sc->best, lane, false,
                                  profile_risk, &mv);
    if (!er_grow((void **)&s->sa, &s->cap_sa, s->n_sa + 1, sizeof *s->sa))
        return false;
    slot_alert *a = &s->sa[s->n_sa++];
    a->decl = (uint32_t)i;
    a->profile = r->profile;
    a->lane = (uint8_t)lane;
    a->domain = (uint8_t)er_profileset_info(c->ps, r->profile)->domain;
    a->random = r->random;
    a->score = r->score;
    a->risk = sc->risk;
    a->len = (uint32_t)len;
    return true;
}

/* Candidate for the random top-up, carried by its best in-scope profile: a
 * compact copy of the declaration, formatted only if the plan picks it
 * (run_cands.c). */
static bool slot_add_cand(run_ctx *c, slot *s, size_t i, const er_decl_score *sc)
{
    const er_decl *d = &s->batch->decls[i];
    const er_profile_result *r = &sc->results[cand_carrier(sc)];
    size_t len = cand_pack(&s->cands, d);
    if (!er_grow((void **)&s->sc, &s->cap_sc, s->n_sc + 1, sizeof *s->sc))
        return false;
    slot_cand *cd = &s->sc[s->n_sc++];
    cd->decl = (uint32_t)i;
    cd->profile = r->profile;
    cd->domain = (uint8_t)er_profileset_info(c->ps, r->profile)->domain;
    cd->lane = r->lane;
    cd->score = r->score;
    cd->risk = sc->risk;
    cd->hash = er_hash64(d->id, strlen(d->id), 0x72616e646f6dULL);
    cd->len = (uint32_t)len;
    return true;
}

static void process_slot(run_ctx *c, er_eval *ev, er_model_pred *pred, slot *s)
{
    er_batch *b = s->batch;
    er_decl_score sc;
    er_sb_reset(&s->alerts);
    er_sb_reset(&s->cands);
    er_sb_reset(&s->scores);
    s->n_sa = s->n_sc = 0;
    s->oom = false;
    if (c->model && !model_pass(c, ev, pred, s)) {
        s->oom = true;
        return;
    }
    er_anomalies an[AN_CHUNK];   /* features of a chunk of the batch, computed together */
    bool need[AN_CHUNK];
    for (size_t i = 0; i < b->n; i++) {
        const er_decl *d = &b->decls[i];
        double profile_risk = 0;
        if (c->model) {
            /* only alerts and top-up candidates need the profiles again (and every row for scores.csv) */
            if (!(s->in_scope[i] & 3) && !c->opts->all_scores) {
                s->in_scope[i] = (s->in_scope[i] & 4) != 0;
                continue;
            }
            sc.an = s->an[i];
            er_score_decl_an(c->ps, ev, d, &sc);
            profile_risk = sc.risk;
            sc.risk = s->prob[i];
        } else {
            if (i % AN_CHUNK == 0)
                chunk_anomalies(c, ev, b, i, b->n - i < AN_CHUNK ? b->n - i : AN_CHUNK, an, need);
            if (!need[i % AN_CHUNK]) {
                s->in_scope[i] = false;
                continue;
            }
            sc.an = an[i % AN_CHUNK];
            er_score_decl_an(c->ps, ev, d, &sc);
        }
        s->in_scope[i] = sc.in_scope;
        for (size_t k = 0; s->oow && !c->model && k < sc.n_results; k++)   /* with a model: model_pass */
            s->oow[k] += sc.results[k].out_of_window;
        if (c->opts->all_scores)
            score_row(&s->scores, d, &sc);
        bool ok = true;
        if (sc.best >= 0)
            ok = slot_add_alert(c, s, i, &sc, profile_risk);
        else if (sc.in_scope && c->want_cands)
            ok = slot_add_cand(c, s, i, &sc);
        if (!ok) {
            s->oom = true;
            return;
        }
    }
    if (s->alerts.oom || s->cands.oom || s->scores.oom)
        s->oom = true;
}

/* Settle the parsed batches in feed order, as far as they go, and queue them
 * for scoring. Called with c->mu held; one thread settles at a time, the
 * others leave the work to it (it looks again before it stops). */
static void settle_ready(run_ctx *c)
{
    if (c->settling)
        return;
    c->settling = true;
    for (;;) {
        slot *s = &c->slots[c->next_settle % c->n_slots];
        if (c->next_settle == c->n_submitted || s->seqno != c->next_settle || !s->parsed)
            break;
        pthread_mutex_unlock(&c->mu);
        if (s->st == ER_OK)
            s->st = c->settle(c->settle_ud, s, &s->err);
        pthread_mutex_lock(&c->mu);
        s->parsed = false;
        c->next_settle++;
        c->queue[c->q_tail] = (size_t)(s - c->slots);
        c->q_tail = (c->q_tail + 1) % c->n_slots;
        c->q_len++;
        pthread_cond_broadcast(&c->work_cv);
    }
    c->settling = false;
}

static void *worker(void *arg)
{
    run_ctx *c = arg;
    er_eval *ev = NULL;
    er_err err;
#ifdef __linux__
    prctl(PR_SET_NAME, "ecorisk-score", 0, 0, 0);   /* top -H, perf: who does what */
#endif
    er_model_pred *pred = NULL;
    er_status st = er_eval_new(&ev, c->ps, &err);
    if (st == ER_OK && c->model)
        st = er_model_pred_new(&pred, c->model, &err);
    pthread_mutex_lock(&c->mu);
    if (st != ER_OK)
        c->worker_st = st;
    for (;;) {
        /* a batch to score first (it is older), else a chunk to parse (no baseline needed) */
        bool score;
        while (!(score = c->q_len && c->go) && !c->p_len && !c->stop)
            pthread_cond_wait(&c->work_cv, &c->mu);
        if (!score && !c->p_len)
            break;   /* stopping, nothing left that may run */
        if (!score) {
            size_t idx = c->pqueue[c->p_head];
            c->p_head = (c->p_head + 1) % c->n_slots;
            c->p_len--;
            pthread_mutex_unlock(&c->mu);
            slot *s = &c->slots[idx];
            s->st = er_feed_parse(s->from, s->chunk, s->batch, &s->err);
            pthread_mutex_lock(&c->mu);
            s->parsed = true;
            settle_ready(c);
            continue;
        }
        size_t idx = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % c->n_slots;
        c->q_len--;
        pthread_mutex_unlock(&c->mu);
        slot *s = &c->slots[idx];
        if (s->st != ER_OK)
            ;   /* parse or settle failed: the commit reports it */
        else if (ev && (pred || !c->model))
            process_slot(c, ev, pred, s);
        else
            s->oom = true;
        pthread_mutex_lock(&c->mu);
        s->done = true;
        pthread_cond_broadcast(&c->done_cv);
    }
    pthread_mutex_unlock(&c->mu);
    er_model_pred_free(pred);
    er_eval_free(ev);
    return NULL;
}

static er_status slot_alloc(run_ctx *c, slot *s, size_t bsz, size_t np, bool windows, er_err *err)
{
    er_status st = er_batch_new(&s->batch, bsz, err);
    if (st != ER_OK)
        return st;
    s->in_scope = malloc(bsz);
    if (c->model) {
        s->rows = malloc(bsz * er_model_n_features(c->model) * sizeof *s->rows);
        s->prob = malloc(bsz * sizeof *s->prob);
        s->an = malloc(bsz * sizeof *s->an);
        s->cidx = malloc(bsz * sizeof *s->cidx);
        s->ridx = malloc(bsz * sizeof *s->ridx);
    }
    if (windows)
        s->oow = calloc(np ? np : 1, sizeof *s->oow);
    if (!s->in_scope || (windows && !s->oow) || (c->model && (!s->rows || !s->prob || !s->an || !s->cidx || !s->ridx)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    return ER_OK;
}

er_status run_pool_start(run_ctx *c, size_t n_threads, size_t n_slots, size_t bsz, size_t np, bool windows,
                         er_err *err)
{
    er_status st;
    c->n_slots = n_slots;
    c->slots = calloc(c->n_slots, sizeof *c->slots);
    c->queue = calloc(c->n_slots, sizeof *c->queue);
    c->pqueue = calloc(c->n_slots, sizeof *c->pqueue);
    c->th = calloc(n_threads, sizeof *c->th);
    if (!c->slots || !c->queue || !c->pqueue || !c->th)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n_slots; i++)
        if ((st = slot_alloc(c, &c->slots[i], bsz, np, windows, err)) != ER_OK)
            return st;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work_cv, NULL);
    pthread_cond_init(&c->done_cv, NULL);
    c->mu_init = true;
    for (size_t i = 0; i < n_threads; i++) {
        if (pthread_create(&c->th[i], NULL, worker, c) != 0)
            return er_errf(err, ER_EINTERNAL, "cannot start worker thread");
        c->n_threads = i + 1;
    }
    return ER_OK;
}

void run_pool_submit(run_ctx *c, size_t idx)
{
    slot *s = &c->slots[idx];
    pthread_mutex_lock(&c->mu);
    s->done = false;
    s->seqno = c->n_submitted++;
    s->parsed = false;
    c->pqueue[c->p_tail] = idx;
    c->p_tail = (c->p_tail + 1) % c->n_slots;
    c->p_len++;
    pthread_cond_broadcast(&c->work_cv);   /* one woken may take a batch to score instead */
    pthread_mutex_unlock(&c->mu);
}

void run_pool_go(run_ctx *c)
{
    pthread_mutex_lock(&c->mu);
    c->go = true;
    pthread_cond_broadcast(&c->work_cv);
    pthread_mutex_unlock(&c->mu);
}

void run_pool_wait(run_ctx *c, slot *s)
{
    pthread_mutex_lock(&c->mu);
    while (!s->done)
        pthread_cond_wait(&c->done_cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void run_pool_stop(run_ctx *c)
{
    if (!c->n_threads)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->work_cv);
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < c->n_threads; i++)
        pthread_join(c->th[i], NULL);
    c->n_threads = 0;
}

void run_pool_free(run_ctx *c)
{
    run_pool_stop(c);
    er_model_free(c->model);
    if (c->mu_init) {
        pthread_cond_destroy(&c->done_cv);
        pthread_cond_destroy(&c->work_cv);
        pthread_mutex_destroy(&c->mu);
    }
    for (size_t i = 0; c->slots && i < c->n_slots; i++) {
        slot *s = &c->slots[i];
        er_batch_free(s->batch);
        er_feed_chunk_free(s->chunk);
        er_sb_free(&s->alerts);
        er_sb_free(&s->cands);
        er_sb_free(&s->scores);
        free(s->sa);
        free(s->sc);
        free(s->in_scope);
        free(s->rows);
        free(s->prob);
        free(s->an);
        free(s->cidx);
        free(s->ridx);
        free(s->crows);
        free(s->contrib);
        free(s->oow);
    }
    free(c->slots);
    free(c->queue);
    free(c->pqueue);
    free(c->th);
}
