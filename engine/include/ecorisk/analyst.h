/*
 * analyst.h — the analyst tools (docs/analysts.md): backtest of profile
 * packs against labelled history, what-if diff of two profile sets, weight
 * tuning by regularised logistic regression, the local outcome store of
 * inspection results, and the self-contained HTML report of a run.
 *
 * Every declaration is scored with er_score_decl (score.h), exactly as the
 * daily run scores it, so the numbers here are the numbers the run produces.
 * Outputs are deterministic: same inputs, same bytes (doubles printed %.6g).
 *
 * Labels: a declaration is positive when its label column (--label-field,
 * kept as an extra by the feed reader) is a non-zero number, "yes", "y" or
 * "true" (case-insensitive); negative when it is 0, "no", "n" or "false";
 * unlabelled otherwise (empty, absent, other text). When an outcome store is
 * given, a recorded inspection result (seized yes/no) overrides the column.
 * Unlabelled declarations are counted but left out of every rate.
 */
#ifndef ECORISK_ANALYST_H
#define ECORISK_ANALYST_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/feed.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

/* ---- statistics helpers (pure functions) ---- */

/* Wilson score interval for k successes out of n at confidence `conf`
 * (e.g. 0.95; z = gsl_cdf_ugaussian_Pinv(1 - (1 - conf) / 2)).
 * n == 0 gives [0, 1]. */
void er_wilson(uint64_t k, uint64_t n, double conf, double *lo, double *hi);

/* Parse a label value: 1 positive, 0 negative, -1 unlabelled (see above). */
int er_label_parse(const char *s);

/* One entry of a ranking: ordered by score descending, then `order` ascending
 * (declaration order), so ties are broken deterministically. */
typedef struct er_rank_item {
    double   score;
    uint64_t order;
    bool     positive;
} er_rank_item;

void er_rank_sort(er_rank_item *items, size_t n);

/* Declarations inspected at rate r of n: ceil(r * n) (at least 1 when n > 0
 * and r > 0, at most n). */
size_t er_rank_k(double rate, size_t n);

typedef struct er_rank_at {
    double   rate;       /* requested inspection rate */
    size_t   k;          /* declarations inspected: er_rank_k(rate, n) */
    size_t   hits;       /* positives among the top k */
    double   precision;  /* hits / k (0 when k == 0) */
    double   recall;     /* hits / positives (0 when no positives) */
    double   min_score;  /* score of the k-th declaration: the threshold reaching the rate */
} er_rank_at;

/* Metrics at `rate` over items already sorted by er_rank_sort. */
void er_rank_at_rate(const er_rank_item *sorted, size_t n, size_t positives, double rate, er_rank_at *out);

/* Average precision over items sorted by er_rank_sort (ties therefore in declaration
 * order, docs/analysts.md): (1/positives) Σ over the ranks k holding a positive of
 * hits(top k) / k. 0 when there are no positives. */
double er_rank_ap(const er_rank_item *sorted, size_t n, size_t positives);

/* ---- L2-regularised logistic regression on binary features (IRLS) ---- */

/* A sample: features as a bit mask (bit j = feature j present, j < 64), and its label. */
typedef struct er_logit_opts {
    double   lambda;      /* L2 penalty on the feature coefficients (not the intercept); ≥ 0 */
    unsigned max_iter;    /* Newton steps; 0: 100 */
    double   tol;         /* convergence: max |step| below this; 0: 1e-10 */
} er_logit_opts;

typedef struct er_logit_model {
    size_t   n_features;
    double   beta[65];      /* beta[0] intercept, beta[1 + j] feature j */
    double   se[65];        /* standard errors from the inverse penalised Hessian */
    uint64_t fired[64];     /* samples where feature j is present */
    uint64_t n, positives;
    unsigned iterations;
    bool     converged;
    double   loglik;        /* log-likelihood at the fit (without the penalty) */
} er_logit_model;

/* Fit on n samples. Identical masks are aggregated first, so the cost is in
 * the number of distinct masks, not samples. ER_EINVAL for n_features > 64. */
er_status er_logit_fit(const uint64_t *x, const uint8_t *y, size_t n, size_t n_features,
                       const er_logit_opts *opts, er_logit_model *m, er_err *err);

/* Linear predictor beta0 + sum beta_j x_j. */
double er_logit_eta(const er_logit_model *m, uint64_t x);

/* ---- the outcome store ---- */

/* A directory holding outcomes.jsonl: one JSON object per line,
 *   {"id":"...","seized":true,"date":"YYYY-MM-DD","notes":"...","source":"file","line":N}
 * appended only; when an id appears more than once the last line wins. */
typedef struct er_outcomes er_outcomes;

typedef struct er_outcome {
    const char *id;
    bool        seized;
    int32_t     date;       /* inspection date (days), 0 when not given */
    const char *notes;      /* "" when none */
} er_outcome;

/* Load the store in dir (a missing outcomes.jsonl is an empty store; a
 * missing directory is ER_ENOTFOUND; a malformed line is ER_EPARSE naming
 * file and line). */
er_status er_outcomes_load(er_outcomes **out, const char *dir, er_err *err);
void      er_outcomes_free(er_outcomes *o);
size_t    er_outcomes_count(const er_outcomes *o);   /* distinct declarations */
/* Borrowed; lives with o. NULL when the declaration has no recorded outcome. */
const er_outcome *er_outcomes_get(const er_outcomes *o, const char *id);

typedef struct er_outcomes_added {
    uint64_t rows;        /* data rows in the CSV */
    uint64_t added;       /* new declarations */
    uint64_t updated;     /* declarations whose result or notes changed */
    uint64_t unchanged;   /* identical to what the store holds: not appended */
} er_outcomes_added;

/* Record the inspection results of a CSV file (RFC 4180, header row) with
 * columns declaration_id (or id), seized (yes/no/true/false/1/0), and
 * optionally date (YYYY-MM-DD) and notes, into the store in dir (created if
 * missing). All or nothing: any invalid row fails the whole file with a
 * message naming the file, line and column, and nothing is written. New and
 * changed rows are appended in one write and fsynced. */
er_status er_outcomes_add(const char *dir, const char *csv_path, er_outcomes_added *res, er_err *err);

/* ---- inputs shared by backtest, diff and tune ---- */

typedef struct er_analyst_input {
    const char *const *feeds;      /* labelled history: paths, "-" or URLs */
    size_t             n_feeds;
    const char        *mapping;    /* NULL: by format */
    er_format          format;
    const char        *baseline;   /* NULL: anomaly predicates have no data */
    const char        *reference;  /* reference data dir; NULL: default */
    int32_t            since, until;
    const char        *label_field;/* column holding the label; NULL: outcome store only */
    const char        *outcomes;   /* outcome store dir; NULL: none */
} er_analyst_input;

/* ---- backtest ---- */

typedef struct er_backtest_opts {
    er_analyst_input   in;
    const char *const *profiles;
    size_t             n_profiles;
    double             target_rate;  /* inspection rate for the threshold (e.g. 0.05); 0: none */
    double             confidence;   /* Wilson interval level; 0: 0.95 */
    const char        *model;        /* learned model file (model.h); NULL: none */
} er_backtest_opts;

/* Score every declaration and compute, per profile, per domain and overall:
 * declarations in scope, alerts, hits, hit rate with its Wilson interval,
 * recall, lift over the base rate; precision and recall at 1 %, 2 %, 5 %
 * (and the target rate) of the overall ranking by the highest domain score;
 * the score threshold reaching the target rate; per profile hit rates by
 * month. With a model, the declarations are also ranked by the model's
 * probability (average precision, precision and recall at 1, 2, 5 and 10 %)
 * next to the packs' ranking.
 * *json and *table receive malloc'd texts (free with free()). */
er_status er_backtest(const er_backtest_opts *o, char **json, char **table, er_err *err);

/* ---- diff ---- */

typedef struct er_diff_opts {
    er_analyst_input   in;          /* label_field / outcomes: optional, for precision and AP by risk */
    const char *const *profiles_a;  /* current set */
    size_t             n_a;
    const char *const *profiles_b;  /* candidate set (--against); none: set A again */
    size_t             n_b;
    size_t             examples;    /* examples per profile and direction; 0: 5 */
    const char        *model_a;     /* learned model of A (model.h): A's risk is its probability; NULL: packs */
    const char        *model_b;     /* learned model of B (--against-model); NULL: packs */
} er_diff_opts;

/* Alerts gained and lost from set A to set B on the same declarations: per
 * declaration (the alert the run would emit), per profile id (its alert flag)
 * and per lane, with example declarations (id, score in A and B); and the two
 * rankings by risk (top overlap; precision and average precision with labels),
 * where a side with a model ranks by the model's probability, as run --model
 * does: packs only against a model, or two models. */
er_status er_diff(const er_diff_opts *o, char **json, char **table, er_err *err);

/* ---- tune ---- */

typedef struct er_tune_opts {
    er_analyst_input in;
    const char      *pack;          /* one pack file */
    const char      *lists_dir;     /* NULL: <dir of pack>/lists */
    const char      *out;           /* tuned copy; refused if it names the pack or a feed */
    double           lambda;        /* L2 penalty; < 0: 1.0 */
    double           train_fraction;/* time-ordered split when split_date is 0; 0: 0.8 */
    int32_t          split_date;    /* train on dates before it, test on and after it */
    unsigned         min_samples;   /* in-scope training rows a profile needs; 0: 30 */
    bool             all_labels;    /* fit on every label (deployment): no test period, the
                                       reported figures are in-sample */
} er_tune_opts;

/* Fit each profile's indicator weights (features: indicators fired, 0/1) to
 * the labels of the training period, report coefficients with standard
 * errors, write the tuned pack (weights ∝ positive coefficients, rescaled so
 * each profile keeps its total weight, capped at 100; version + 1), then
 * score the test period with the original and the tuned pack and report
 * precision and recall at 1 % and 5 % next to the base rate. */
er_status er_tune(const er_tune_opts *o, char **json, char **table, er_err *err);

/* ---- report ---- */

typedef struct er_report_opts {
    const char *run_dir;     /* holds alerts.jsonl and summary.json */
    const char *backtest;    /* backtest JSON (er_backtest); NULL: none */
    const char *outcomes;    /* outcome store dir; NULL: none */
    const char *out;         /* HTML file to write */
    const char *title;       /* NULL: "ecorisk run <run_id>" */
    size_t      top;         /* rows in the top-N charts; 0: 10 */
    size_t      max_rows;    /* alert table rows, highest risk first; 0: all */
} er_report_opts;

/* One self-contained HTML file: inline SVG charts, inline CSS and a little
 * inline JS (table sorting only; everything is readable without it), print
 * styles. Written under a temporary name and renamed into place. */
er_status er_report(const er_report_opts *o, er_err *err);

ER_END_DECLS
#endif
