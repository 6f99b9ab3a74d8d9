/*
 * run.c — the daily run (run.h): reads the day's feeds batch by batch on the
 * calling thread, scores batches on N worker threads (run_pool.c), and
 * commits them in feed order, so the output is identical whatever the thread
 * count. The baseline loads on its own thread while the first batches are
 * read; scoring and the output files wait for it.
 *
 * alerts.jsonl is ordered by risk, highest first (docs/alerts.md), and lane
 * capacity and the minimum random-control rate (docs/profiles.md) need the
 * whole day: alerts are first spooled to a temporary file with a compact record
 * each (risk, score, lane, office/flow group), and, when a run config asks for a
 * random top-up or exploration, the top-up candidates (in-scope declarations
 * that did not alert) to a second one as compact declaration copies; after the
 * last batch the plan is made per office and flow (run_plan.c), the picked
 * candidates are formatted (run_cands.c) and alerts.jsonl is written in one
 * pass in risk order (run_output.c). The pieces are listed in run_impl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/sha256.h"
#include "ecorisk/refdata.h"
#include "score/run_impl.h"

#define LOAD_AHEAD_SLOTS 5        /* batches read while the baseline loads (5 × 8192 rows) */

static void *load_baseline(void *arg)
{
    bl_loader *l = arg;
    l->st = er_baseline_load(&l->bl, l->path, &l->err);
    atomic_store_explicit(&l->done, true, memory_order_release);
    return NULL;
}

/* Whether joining the loader would not wait. */
static bool loader_ready(bl_loader *l)
{
    return !l->running || atomic_load_explicit(&l->done, memory_order_acquire);
}

static er_status loader_join(bl_loader *l, er_baseline **out, er_err *err)
{
    if (l->running) {
        pthread_join(l->th, NULL);
        l->running = false;
    }
    if (l->st != ER_OK) {
        *err = l->err;
        return l->st;
    }
    *out = l->bl;
    l->bl = NULL;
    return ER_OK;
}

/* Load everything first: a bad pack, mapping or baseline stops the run before any
 * output (the baseline on its own thread, joined before the first file is opened). */
static er_status run_load(run_state *R, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    if (o->baseline) {
        R->loader.running = pthread_create(&R->loader.th, NULL, load_baseline, &R->loader) == 0;
        if (!R->loader.running)
            load_baseline(&R->loader);
    }
    if ((st = er_refdata_load(&R->ref, o->reference, err)) != ER_OK)
        return st;
    if (o->mapping && (st = er_mapping_load(&R->map, o->mapping, err)) != ER_OK)
        return st;
    er_profile_opts popts = {.ref = R->ref, .today = o->as_of};
    if ((st = er_profileset_load(&R->ps, o->profiles, o->n_profiles, &popts, false, err)) != ER_OK)
        return st;
    run_config_defaults(&R->cfg);
    if (o->config && ((st = run_config_load(&R->cfg, o->config, err)) != ER_OK ||
                      (st = er_sha256_file(o->config, R->meta.config_sha256, err)) != ER_OK))
        return st;
    R->meta.mapping = R->map ? er_mapping_name(R->map)
                    : o->format == ER_FORMAT_JSONL ? "canonical-jsonl" : "canonical-csv";
    R->meta.mapping_sha256 = R->map ? er_mapping_sha256(R->map) : "";
    R->planned = R->cfg.any_capacity || R->cfg.any_random || R->cfg.any_explore;
    if ((st = reg_run_open(&R->rr, o, false, err)) != ER_OK)
        return st;
    if (o->model && (st = er_model_load(&R->c.model, o->model, err)) != ER_OK)
        return st;
    return ER_OK;
}

static er_status settle_slot(void *ud, slot *s, er_err *err);

/* Counters, slots and the workers. */
static er_status run_setup(run_state *R, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    run_ctx *c = &R->c;
    c->lanes = R->cfg.lanes;
    c->opts = o;
    c->ps = R->ps;
    c->actx.ps = R->ps;
    c->actx.as_of = o->as_of;
    c->want_cands = R->cfg.any_random || R->cfg.any_explore;
    c->settle = settle_slot;
    c->settle_ud = R;
    c->cand_prob = R->cfg.any_explore;
    R->np = er_profileset_count(R->ps);
    if ((st = counts_alloc(&R->k, R->np, err)) != ER_OK)
        return st;
    bool windows = false;   /* any validity window: count what it keeps out */
    for (size_t i = 0; i < R->np; i++)
        windows |= er_profileset_info(R->ps, i)->valid_from || er_profileset_info(R->ps, i)->valid_until;
    size_t n_threads = o->threads ? o->threads : 1;
    /* Two batches per worker in flight plus the one being read; with a baseline,
     * enough more that reading goes on while it loads (each slot costs memory
     * only once filled). */
    size_t n_slots = n_threads * 2 + 1;
    if (R->loader.running && n_slots < LOAD_AHEAD_SLOTS)
        n_slots = LOAD_AHEAD_SLOTS;
    return run_pool_start(c, n_threads, n_slots, o->batch_size ? o->batch_size : 8192, R->np, windows, err);
}

/* The current feed is read to its end: on to the next. It stays open until
 * its last batch is committed (its chunks are parsed and settled until then). */
static void end_feed(run_state *R)
{
    R->bytes_before += er_feed_stats_get(R->feed)->bytes_read;
    R->feed = NULL;
    R->feed_i++;
}

/* The feeds read to their end whose batches are all committed: their
 * statistics added, closed. */
static void retire_feeds(run_state *R)
{
    const run_ctx *c = &R->c;
    while (R->n_retired < R->feed_i) {
        if (R->next_commit < R->next_fill && c->slots[R->next_commit % c->n_slots].feed <= R->n_retired)
            break;
        counts_add_feed(&R->k, er_feed_stats_get(R->feeds[R->n_retired]));
        er_feed_free(R->feeds[R->n_retired]);
        R->feeds[R->n_retired++] = NULL;
    }
}

/* In feed order, on one thread at a time (run_pool.c): a chunk's duplicate
 * ids and counts, then the documents and ledger, before scoring. */
static er_status settle_slot(void *ud, slot *s, er_err *err)
{
    run_state *R = ud;
    er_status st;
    if ((st = er_feed_settle(s->from, s->chunk, s->batch, err)) != ER_OK)
        return st;
    return reg_run_batch(&R->rr, s->batch, err);
}

/* The next chunk of records into slot s, opening the feeds in turn; R->eof
 * after the last. The records are only cut here: the workers parse them. */
static er_status fill_slot(run_state *R, slot *s, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    s->st = ER_OK;
    while (R->feed_i < o->n_feeds) {
        if (!R->feed) {
            er_feed_opts fo = {.source = o->feeds[R->feed_i], .mapping = R->map, .ref = R->ref,
                               .format = o->format, .since = o->since, .until = o->until,
                               .warn = o->warn, .warn_ud = o->warn_ud};
            if ((st = er_feed_open(&R->feed, &fo, err)) != ER_OK)
                return st;
            R->feeds[R->feed_i] = R->feed;
        }
        s->feed = R->feed_i;
        s->from = R->feed;
        if (!s->chunk && (st = er_feed_chunk_new(&s->chunk, err)) != ER_OK)
            return st;
        st = er_feed_cut(R->feed, s->chunk, s->batch->cap, err);
        if (st != ER_EOF)
            return st;
        end_feed(R);
    }
    R->eof = true;
    return ER_OK;
}

/* run id: what the run was asked to do, so a re-run has the same id. */
static void make_run_id(run_state *R)
{
    const er_run_opts *o = R->o;
    const er_profileset *ps = R->ps;
    uint64_t h = er_hash64("ecorisk-run", 11, 0);
    const char *bid = R->bl ? er_baseline_id(R->bl) : "";
    h = er_hash64(er_profileset_hash(ps), strlen(er_profileset_hash(ps)) + 1, h);
    h = er_hash64(bid, strlen(bid) + 1, h);
    if (R->c.model)
        h = er_hash64(er_model_id(R->c.model), strlen(er_model_id(R->c.model)) + 1, h);
    for (size_t i = 0; i < o->n_feeds; i++)
        h = er_hash64(o->feeds[i], strlen(o->feeds[i]) + 1, h);
    int32_t dates[3] = {o->since, o->until, o->as_of};
    h = er_hash64(dates, sizeof dates, h);
    snprintf(R->res->run_id, sizeof R->res->run_id, "%016llx", (unsigned long long)h);
}

/* Scoring starts: the baseline is in, the run id is known, outputs open. */
static er_status run_start(run_state *R, er_err *err)
{
    er_status st;
    if ((st = loader_join(&R->loader, &R->bl, err)) != ER_OK)
        return st;
    if (R->c.model && (st = er_model_bind(R->c.model, R->ps, R->bl, err)) != ER_OK)
        return st;
    make_run_id(R);
    R->c.bl = R->bl;
    R->c.actx.run_id = R->res->run_id;
    R->c.actx.baseline_id = R->bl ? er_baseline_id(R->bl) : "";
    if ((st = run_open_outputs(R, err)) != ER_OK)
        return st;
    R->t_loaded = run_now_s();
    run_pool_go(&R->c);
    return ER_OK;
}

/* Per-declaration counts, and the office/flow groups when the plan runs. */
static er_status commit_groups(run_state *R, const slot *s, er_err *err)
{
    const er_batch *b = s->batch;
    for (size_t i = 0; i < b->n; i++) {
        R->k.in_scope += s->in_scope[i];
        if (!R->planned)
            continue;
        long gi = groups_get(&R->gs, b->decls[i].office, b->decls[i].flow);
        if (gi < 0)
            return er_errf(err, ER_ENOMEM, "out of memory");
        R->gs.g[gi].n_decl++;
        R->gs.g[gi].n_in_scope += s->in_scope[i];
    }
    return ER_OK;
}

/* The batch's alerts: records for the plan, lines to the spool. */
static er_status commit_alerts(run_state *R, const slot *s, uint64_t base, er_err *err)
{
    const er_batch *b = s->batch;
    run_recs *rc = &R->rc;
    size_t off = 0;
    for (size_t i = 0; i < s->n_sa; i++) {
        const slot_alert *a = &s->sa[i];
        const er_decl *d = &b->decls[a->decl];
        alert_rec r = {.ordinal = base + a->decl, .profile = a->profile, .lane = a->lane,
                       .final_lane = a->lane, .domain = a->domain, .random = a->random,
                       .score = a->score, .risk = a->risk, .off = rc->spool_off + off, .len = a->len};
        reg_run_alert(&R->rr, d, (er_domain)a->domain);
        if (!er_grow((void **)&rc->recs, &rc->cap_recs, rc->n_recs + 1, sizeof *rc->recs))
            return er_errf(err, ER_ENOMEM, "out of memory");
        if (R->planned) {
            long gi = groups_get(&R->gs, d->office, d->flow);
            if (gi < 0)
                return er_errf(err, ER_ENOMEM, "out of memory");
            r.group = (uint32_t)gi;
            if (R->cfg.order_harm)
                r.harm = reg_run_expected_harm(d, a->score);
            R->gs.g[gi].n_random += a->random;
        }
        rc->recs[rc->n_recs++] = r;
        off += a->len;
    }
    if (s->alerts.len) {
        fwrite(s->alerts.p, 1, s->alerts.len, rc->spool);
        rc->spool_off += s->alerts.len;
    }
    return ER_OK;
}

/* The batch's top-up candidates: records and lines to the candidate spool. */
static er_status commit_cands(run_state *R, const slot *s, uint64_t base, er_err *err)
{
    const er_batch *b = s->batch;
    run_recs *rc = &R->rc;
    size_t off = 0;
    for (size_t i = 0; i < s->n_sc; i++) {
        const slot_cand *cd = &s->sc[i];
        const er_decl *d = &b->decls[cd->decl];
        long gi = groups_get(&R->gs, d->office, d->flow);
        if (gi < 0 || !er_grow((void **)&rc->cands, &rc->cap_cands, rc->n_cands + 1, sizeof *rc->cands))
            return er_errf(err, ER_ENOMEM, "out of memory");
        alert_rec r = {.ordinal = base + cd->decl, .group = (uint32_t)gi, .profile = cd->profile,
                       .lane = cd->lane, .final_lane = cd->lane, .domain = cd->domain,
                       .score = cd->score, .risk = cd->risk, .hash = cd->hash, .off = rc->cspool_off,
                       .len = cd->len};
        fwrite(s->cands.p + off, 1, cd->len, rc->cspool);
        rc->cspool_off += cd->len;
        off += cd->len;
        rc->cands[rc->n_cands++] = r;
    }
    return ER_OK;
}

/* Commit the oldest batch, in order: quarantine, scores, counts, alerts, candidates. */
static er_status commit_slot(run_state *R, er_err *err)
{
    er_status st;
    const er_run_opts *o = R->o;
    slot *s = &R->c.slots[R->next_commit % R->c.n_slots];
    run_pool_wait(&R->c, s);
    if (s->st != ER_OK) {
        *err = s->err;
        return s->st;
    }
    if (s->oom || R->c.worker_st != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory while scoring");
    er_batch *b = s->batch;
    /* The feed that produced these records may be closed by now: name it from opts. */
    for (size_t i = 0; i < b->n_q; i++)
        b->quarantined[i].file = o->feeds[s->feed];
    if (R->f_quar && (st = er_quarantine_write_batch(R->f_quar, b, err)) != ER_OK)
        return st;
    if (R->f_scores && s->scores.len)
        fwrite(s->scores.p, 1, s->scores.len, R->f_scores);
    uint64_t base = R->ordinal;
    for (size_t p = 0; s->oow && p < R->np; p++) {
        R->k.out_of_window[p] += s->oow[p];
        s->oow[p] = 0;
    }
    if ((st = commit_groups(R, s, err)) != ER_OK)
        return st;
    R->ordinal += b->n;
    if ((st = commit_alerts(R, s, base, err)) != ER_OK || (st = commit_cands(R, s, base, err)) != ER_OK)
        return st;
    R->next_commit++;
    retire_feeds(R);
    if (o->progress) {
        uint64_t bytes = R->bytes_before + (R->feed ? er_feed_stats_get(R->feed)->bytes_read : 0);
        o->progress(o->progress_ud, R->ordinal, bytes, R->rc.n_recs);
    }
    return ER_OK;
}

/* Read ahead while slots are free, start scoring once the baseline is in
 * (or when the read-ahead is full: then wait for it), commit the oldest batch
 * otherwise. */
static er_status run_loop(run_state *R, er_err *err)
{
    er_status st;
    run_ctx *c = &R->c;
    while (!R->eof || R->next_commit < R->next_fill || !c->go) {
        if (!R->eof && R->next_fill - R->next_commit < c->n_slots) {
            size_t idx = R->next_fill % c->n_slots;
            if ((st = fill_slot(R, &c->slots[idx], err)) != ER_OK)
                return st;
            if (!R->eof) {
                run_pool_submit(c, idx);
                R->next_fill++;
            }
            /* score as soon as the baseline is in, not when the read-ahead is full */
            if (!c->go && loader_ready(&R->loader) && (st = run_start(R, err)) != ER_OK)
                return st;
            continue;
        }
        if (!c->go) {
            if ((st = run_start(R, err)) != ER_OK)
                return st;
            if (R->next_commit == R->next_fill)
                continue;
        }
        if ((st = commit_slot(R, err)) != ER_OK)
            return st;
    }
    retire_feeds(R);
    return ER_OK;
}

static void fill_result(run_state *R)
{
    er_run_result *res = R->res;
    const counts *k = &R->k;
    const er_run_opts *o = R->o;
    res->rows_read = k->rows_read;
    res->accepted = k->accepted;
    res->quarantined = k->quarantined;
    res->dup_window_resets = k->dup_window_resets;
    res->alerts = k->alerts;
    res->random = k->random;
    res->over_capacity = k->over_capacity;
    memcpy(res->alerts_by_lane, k->by_lane, sizeof k->by_lane);
    memcpy(res->alerts_by_domain, k->by_domain, sizeof k->by_domain);
    res->seconds = run_now_s() - R->t0;
    R->meta.q_max = o->max_quarantine_share > 0 ? o->max_quarantine_share : ER_RUN_MAX_QUARANTINE_SHARE;
    R->meta.q_share = k->rows_read ? (double)k->quarantined / (double)k->rows_read : 0;
    R->meta.q_exceeded = R->meta.q_share > R->meta.q_max;
    res->quarantine_share = R->meta.q_share;
    res->quarantine_exceeded = R->meta.q_exceeded;
}

/* After the last batch: reconcile, plan, write alerts.jsonl, publish. */
static er_status run_finish(run_state *R, er_err *err)
{
    er_status st;
    const counts *k = &R->k;
    if (k->rows_read != k->accepted + k->quarantined)
        return er_errf(err, ER_EINTERNAL, "accounting does not reconcile: read %llu != accepted %llu + quarantined %llu",
                       (unsigned long long)k->rows_read, (unsigned long long)k->accepted,
                       (unsigned long long)k->quarantined);
    if (R->planned && ((st = run_plan_fill(&R->cfg, &R->gs, &R->rc, err)) != ER_OK ||
                       (st = run_cands_format(R, err)) != ER_OK ||
                       (st = run_plan_capacity(&R->cfg, &R->gs, &R->rc, err)) != ER_OK))
        return st;
    run_plan_sort(&R->rc);
    if ((st = run_emit_alerts(R, err)) != ER_OK)
        return st;
    fill_result(R);
    return run_publish(R, err);
}

static void run_state_free(run_state *R)
{
    run_close_outputs(R);
    if (R->loader.running)
        pthread_join(R->loader.th, NULL);
    er_baseline_free(R->loader.bl);
    run_pool_free(&R->c);
    free(R->rc.cands);
    free(R->rc.recs);
    counts_free(&R->k);
    groups_free(&R->gs);
    for (size_t i = 0; R->feeds && i < R->o->n_feeds; i++)
        er_feed_free(R->feeds[i]);
    free(R->feeds);
    er_baseline_free(R->bl);
    er_profileset_free(R->ps);
    er_mapping_free(R->map);
    er_refdata_free(R->ref);
    reg_run_close(&R->rr);
}

er_status er_run(const er_run_opts *o, er_run_result *res, er_err *err)
{
    er_status st;
    run_state *R = calloc(1, sizeof *R);
    if (!R)
        return er_errf(err, ER_ENOMEM, "out of memory");
    R->t_start = R->t0 = run_now_s();   /* t_start for the failure metrics */
    R->o = o;
    R->res = res;
    R->loader.path = o->baseline;
    R->meta.mapping = R->meta.mapping_sha256 = "";
    R->to_stdout = strcmp(o->out_dir, "-") == 0;
    memset(res, 0, sizeof *res);
    er_runout_init(&R->ro);
    if (!(R->feeds = calloc(o->n_feeds ? o->n_feeds : 1, sizeof *R->feeds))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = run_load(R, err)) != ER_OK || (st = run_setup(R, err)) != ER_OK)
        goto cleanup;
    st = run_loop(R, err);
    run_pool_stop(&R->c);
    if (st != ER_OK)
        goto cleanup;
    st = run_finish(R, err);
cleanup:
    run_state_free(R);
    free(R);
    return er_err_default(err, st);
}
