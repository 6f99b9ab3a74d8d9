/*
 * run_impl.h — the pieces of the daily run (run.h) and what they share.
 * Private to libecorisk; docs/architecture.md, "The daily run", shows the flow.
 *
 *   run.c          er_run: load, read and commit batches in feed order, finish
 *   run_config.c   the run config file: lanes, capacity, minimum random rate
 *   run_plan.c     office/flow groups, random top-up and lane capacity plan
 *   run_pool.c     the worker pool: score and format one batch per slot
 *   run_output.c   alerts.jsonl in risk order, the output files, atomic writes
 *   run_metrics.c  counts, summary.json and metrics.prom
 */
#ifndef ECORISK_SCORE_RUN_IMPL_H
#define ECORISK_SCORE_RUN_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sbuf.h"
#include "ecorisk/anomaly.h"
#include "ecorisk/baseline.h"
#include "ecorisk/feed.h"
#include "ecorisk/model.h"
#include "ecorisk/profile.h"
#include "ecorisk/quarantine.h"
#include "ecorisk/run.h"
#include "ecorisk/score.h"
#include "registry/registry_run.h"
#include "score/alert.h"
#include "score/runout.h"

#define ER_RUN_MAX_GROUPS 65536   /* distinct office/flow groups tracked; the rest pool in one */
#define ER_RUN_MAX_RULES 256

/* ---- run config (run_config.c) ---- */

typedef struct rule {
    char    office[ER_LIMIT_OFFICE + 1];  /* "*" = any */
    int     flow;                         /* er_flow, -1 = any */
    double  cap[ER_LANE_COUNT];           /* fraction of the group's declarations; <0 = no limit */
    double  min_random;                   /* fraction of in-scope declarations; 0 = none */
    er_lane random_lane;
    double  explore;                      /* exploration share of in-scope declarations; 0 = none */
    er_lane explore_lane;
} rule;

typedef struct run_config {
    rule          rules[ER_RUN_MAX_RULES];
    size_t        n_rules;
    bool          any_capacity, any_random, any_explore;
    er_risk_lanes lanes;                 /* risk thresholds of the red and yellow lanes */
    bool          order_harm;            /* "capacity_order": "harm" (docs/registries.md#harm) */
} run_config;

void      run_config_defaults(run_config *cfg);
er_status run_config_load(run_config *cfg, const char *path, er_err *err);
/* Most specific rule for a group: exact office beats "*", exact flow beats "*". */
const rule *run_config_match(const run_config *cfg, const char *office, int flow);

/* ---- groups and the plan (run_plan.c) ---- */

typedef struct group {
    char    *office;
    int      flow;
    uint64_t n_decl, n_in_scope, n_random, n_explore;
} group;

typedef struct groups {
    group    *g;
    size_t    n, cap;
    uint32_t *slots;        /* open addressing: index + 1, 0 = empty */
    size_t    n_slots;
} groups;

void groups_free(groups *gs);
/* Group index for (office, flow); -1 on ENOMEM. Past ER_RUN_MAX_GROUPS, one pooled group. */
long groups_get(groups *gs, const char *office, int flow);

/* One alert or top-up candidate of the day, as spooled. */
typedef struct alert_rec {
    uint64_t ordinal;        /* global declaration ordinal (feed order) */
    uint32_t group;
    uint32_t profile;
    uint8_t  lane, final_lane, domain;
    bool     random, over_capacity, topup;
    bool     explore;        /* a top-up candidate picked for an exploration slot */
    double   score;
    double   risk;           /* the rank key (score.h) */
    double   harm;           /* expected harm for "capacity_order": "harm", else 0 */
    uint64_t hash;           /* selection hash (top-up candidates) */
    uint64_t off;            /* byte offset in the spool file */
    uint32_t len;
} alert_rec;

/* The day's alerts and top-up candidates, and where their lines are spooled. */
typedef struct run_recs {
    alert_rec *recs, *cands;
    size_t     n_recs, cap_recs, n_cands, cap_cands;
    FILE      *spool, *cspool;
    uint64_t   spool_off, cspool_off;
} run_recs;

/* The plan in two steps, the picked candidates formatted between them
 * (run_cands.c): random top-up and exploration (picked candidates join the
 * alerts), then lane capacity. ER_ENOMEM with err filled. */
er_status run_plan_fill(const run_config *cfg, groups *gs, run_recs *rc, er_err *err);
er_status run_plan_capacity(const run_config *cfg, groups *gs, run_recs *rc, er_err *err);
/* alerts.jsonl order: risk descending, ties in declaration order. */
void run_plan_sort(run_recs *rc);

/* ---- the worker pool (run_pool.c) ---- */

typedef struct slot_alert {
    uint32_t decl;           /* index in the batch */
    uint32_t profile;
    uint8_t  lane, domain;
    bool     random;
    double   score, risk;
    uint32_t len;            /* bytes of the alert line in slot->alerts */
} slot_alert;

typedef struct slot_cand {
    uint32_t decl;
    uint32_t profile;
    uint8_t  domain;
    uint8_t  lane;           /* the carrying profile's lane by score, as spooled */
    double   score, risk;
    uint64_t hash;
    uint32_t len;
} slot_cand;

typedef struct slot {
    er_batch     *batch;
    er_sb         alerts, cands, scores;
    slot_alert   *sa;
    size_t        n_sa, cap_sa;
    slot_cand    *sc;
    size_t        n_sc, cap_sc;
    uint8_t      *in_scope;  /* per declaration */
    float        *rows;      /* with a model: feature rows of the batch */
    double       *prob;      /* with a model: its probability per declaration */
    er_anomalies *an;        /* with a model: anomaly features of the declarations the
                              * formatting pass scores again (alerts, candidates; all for scores.csv) */
    uint32_t   *cidx;        /* with a model: per declaration, its row in contrib (alerts and candidates) */
    uint32_t   *ridx;        /* with a model: per declaration scored, its row in rows */
    float      *crows;       /* with a model: the feature rows of those, together */
    double     *contrib;     /* with a model: their SHAP contributions (features + 1 each) */
    size_t      cap_crows, cap_contrib;
    uint64_t     *oow;       /* per profile: in scope but for the validity window (only with windows) */
    size_t        feed;      /* index in opts->feeds the batch was read from */
    uint64_t      seqno;     /* the batch's place in the run (slots are reused in turn) */
    /* The reading thread cuts records into chunk, a worker parses them into
     * batch, then (in order) they are settled. */
    er_feed_chunk *chunk;
    er_feed       *from;     /* the feed it was cut from */
    bool          parsed;    /* parsed, waiting to be settled */
    er_status     st;        /* parse or settle failure, with err */
    er_err        err;
    bool          ready, done, oom;
} slot;

typedef struct run_ctx {
    const er_run_opts   *opts;
    const er_profileset *ps;
    const er_baseline   *bl;
    er_alert_ctx         actx;
    er_risk_lanes        lanes;
    bool                 want_cands;
    bool                 cand_prob;   /* with a model: candidates' probabilities while scoring (exploration needs them) */
    er_model            *model;       /* NULL: risk from the packs (docs/scoring.md §7) */
    slot                *slots;
    size_t               n_slots;
    /* work queue */
    pthread_mutex_t      mu;
    pthread_cond_t       work_cv, done_cv;
    size_t              *queue;       /* batches to score */
    size_t               q_head, q_tail, q_len;
    size_t              *pqueue;      /* chunks to parse */
    size_t               p_head, p_tail, p_len;
    /* Settling (duplicate ids, statistics, the registries' ledger pass) goes
     * batch by batch in feed order, done by whichever thread finds the next
     * one parsed; settle says how (run.c). */
    uint64_t             n_submitted, next_settle;
    bool                 settling;
    er_status          (*settle)(void *ud, slot *s, er_err *err);
    void                *settle_ud;
    bool                 stop;
    bool                 go;          /* baseline loaded, run id set: workers may score */
    er_status            worker_st;
    /* threads */
    pthread_t           *th;
    size_t               n_threads;
    bool                 mu_init;
} run_ctx;

/* What the model says of one declaration: its feature row (n_features),
 * probability and contributions (n_features + 1). Borrowed. */
typedef struct run_model_view {
    const float  *row;
    double        prob;
    const double *contrib;
} run_model_view;

/* One alert line (or picked top-up candidate) of d appended to buf: the alert
 * JSON, with a model its view of d (mv), the newline. Returns its length. */
size_t run_format_alert(const run_ctx *c, er_sb *buf, const er_decl *d, const er_decl_score *sc, size_t which,
                        er_lane lane, bool candidate, double profile_risk, const run_model_view *mv);

/* ---- top-up candidates (run_cands.c) ---- */

/* The profile result carrying a candidate: its best in-scope profile. */
size_t    cand_carrier(const er_decl_score *sc);
/* A compact copy of d appended to b; returns its length (0 with b->oom set). */
size_t    cand_pack(er_sb *b, const er_decl *d);
/* d from buf[0..len), its strings pointing into buf, its extras into *extra
 * (malloc'd: the caller frees it, also on error) and its document check into
 * *docs: ER_OK, ER_ENOMEM, or ER_EINTERNAL when buf is not one packed declaration. */
er_status cand_unpack(const char *buf, size_t len, er_decl *d, er_extra **extra, er_doccheck *docs);

/* Slots (batches of bsz, per-profile counters when windows) and n_threads
 * workers waiting for c->go. On error the caller still calls run_pool_free. */
er_status run_pool_start(run_ctx *c, size_t n_threads, size_t n_slots, size_t bsz, size_t n_profiles,
                         bool windows, er_err *err);
/* Hand slot idx to the workers: its chunk to parse, settle and score. */
void      run_pool_submit(run_ctx *c, size_t idx);
/* Let the workers score (the baseline is in). */
void      run_pool_go(run_ctx *c);
/* Wait until slot s is scored (or failed: s->oom, s->st). */
void      run_pool_wait(run_ctx *c, slot *s);
/* Stop and join the workers (what is queued is finished first once going). */
void      run_pool_stop(run_ctx *c);
void      run_pool_free(run_ctx *c);

/* ---- counts, summary and metrics (run_metrics.c) ---- */

typedef struct counts {
    uint64_t rows_read, accepted, quarantined, by_reason[ER_Q_COUNT];
    uint64_t dup_window_resets;             /* duplicate-id table restarts, all feeds */
    uint64_t alerts, random, topup, explore, over_capacity, in_scope;
    uint64_t by_lane[ER_LANE_COUNT], by_domain[ER_DOMAIN_COUNT];
    uint64_t *by_profile;                   /* [n_profiles] */
    uint64_t *by_profile_lane;              /* [n_profiles * ER_LANE_COUNT] */
    uint64_t *out_of_window;                /* [n_profiles]: in scope but for the validity window */
    int32_t  min_date, max_date;
} counts;

/* What a run records about how it was made, besides the counts (docs/operations.md#summary). */
typedef struct run_meta {
    const char *mapping, *mapping_sha256;   /* mapping name; "" sha for the built-in ones */
    char        config_sha256[65];          /* "" without --config */
    double      q_share, q_max;             /* quarantined share; its threshold */
    bool        q_exceeded;
} run_meta;

er_status counts_alloc(counts *k, size_t n_profiles, er_err *err);
void      counts_free(counts *k);
/* Add one closed feed's statistics. */
void      counts_add_feed(counts *k, const er_feed_stats *fst);
void      count_alert(counts *k, const alert_rec *r);
void      write_summary(er_sb *b, const er_run_opts *o, const er_profileset *ps, const char *run_id,
                        const char *baseline_id, const counts *k, const double secs[3], const run_meta *m,
                        const er_sb *manifest);
/* The families a failed run can fill in too: success, when, how long. */
void      write_run_status(er_sb *b, bool success, double total_s);
void      write_metrics(er_sb *b, const er_profileset *ps, const counts *k, double total_s, const run_meta *m);

/* ---- outputs (run_output.c) ---- */

/* Copy one spooled alert line into out, rewriting lane / over_capacity if planned;
 * read from whole (the spool's bytes, borrowed) when given, else from spool. */
er_status emit_alert(FILE *spool, const char *whole, const alert_rec *r, er_sb *line, FILE *out, er_err *err);
/* Text to path through a temporary file + rename: a reader sees the old file or the new one. */
er_status write_atomic(const char *path, const er_sb *b, er_err *err);
/* A whole file from b in the run's staging directory. */
er_status write_file(er_runout *ro, const char *name, const er_sb *b, er_err *err);
double    run_now_s(void);

/* ---- one run's state (run.c), shared by its phases ---- */

/* The baseline loads on its own thread while the packs load and the first
 * batches are read (a large baseline takes a few hundred milliseconds). */
typedef struct bl_loader {
    const char  *path;
    er_baseline *bl;
    er_status    st;
    er_err       err;
    pthread_t    th;
    bool         running;
    atomic_bool  done;       /* set by the loading thread as it ends */
} bl_loader;

typedef struct run_state {
    const er_run_opts *o;
    er_run_result     *res;
    er_refdata        *ref;
    er_mapping        *map;
    er_profileset     *ps;
    er_baseline       *bl;
    size_t             np;              /* profiles */
    bl_loader          loader;
    run_config         cfg;
    run_meta           meta;
    reg_run            rr;              /* registries and ledger (docs/registries.md) */
    run_ctx            c;
    /* reading */
    er_feed           *feed;            /* the one being read: feeds[feed_i] */
    er_feed          **feeds;           /* [n_feeds]: open until their last batch is committed */
    size_t             feed_i, n_retired;
    uint64_t           bytes_before;    /* bytes of the feeds already closed */
    uint64_t           next_fill, next_commit;
    bool               eof;
    /* committing */
    counts             k;
    groups             gs;
    run_recs           rc;
    uint64_t           ordinal;         /* declarations committed */
    bool               planned;         /* capacity or random top-up: the plan runs */
    /* outputs */
    er_runout          ro;
    bool               to_stdout;
    FILE              *f_alerts, *f_quar, *f_scores, *alerts_out;
    er_sb              line, text;
    bool               metrics_done;
    double             t_start, t0, t_loaded;
} run_state;

/* Outputs open, spool files made (when scoring starts). */
er_status run_open_outputs(run_state *R, er_err *err);
/* Between the plan's steps: the picked candidates read back from the
 * candidate spool, scored again and formatted; their records then point at
 * their lines (appended to the same spool) and hold their risk. */
er_status run_cands_format(run_state *R, er_err *err);
/* alerts.jsonl (or stdout) in risk order. */
er_status run_emit_alerts(run_state *R, er_err *err);
/* Every file complete, summary.json last, then one atomic publish (or flush stdout). */
er_status run_publish(run_state *R, er_err *err);
/* The failure metrics when the run did not finish, and every file closed. */
void      run_close_outputs(run_state *R);

#endif
