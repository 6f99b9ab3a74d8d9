/*
 * run.h — the daily run (docs/architecture.md, docs/alerts.md): stream the day's feeds, score
 * every declaration on N threads, and write into the output directory
 *   alerts.jsonl      one alert per alerting declaration, by risk (highest first,
 *                     ties in feed order; docs/scoring.md §6)
 *   quarantine.jsonl  every rejected record with file, line and reason
 *   summary.json      counts that reconcile, alerts per domain/profile/lane,
 *                     baseline id, profile versions, timings
 *   metrics.prom      Prometheus textfile-collector metrics
 *   scores.csv        with all_scores: declaration id, score per domain and risk
 * Output files are written under temporary names and renamed into place when
 * complete, so a crashed run never leaves a half file that looks finished.
 * Output is byte-identical for the same inputs whatever the thread count
 * (timings in summary.json and metrics.prom excepted).
 */
#ifndef ECORISK_RUN_H
#define ECORISK_RUN_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/feed.h"
#include "ecorisk/profile.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_run_opts {
    const char *const *feeds;       /* paths, "-" or URLs; read in order as one day */
    size_t             n_feeds;
    const char        *mapping;     /* mapping name or path; NULL: by format */
    er_format          format;
    const char *const *profiles;    /* pack files or directories */
    size_t             n_profiles;
    const char        *baseline;    /* baseline file; NULL: anomaly predicates have no data */
    const char        *out_dir;     /* created if missing; "-": alerts.jsonl to stdout only */
    const char        *config;      /* run config (lane capacity, minimum random rate); NULL: none */
    const char        *reference;   /* reference data dir; NULL: default */
    unsigned           threads;     /* worker threads, ≥ 1 */
    int32_t            since, until;/* inclusive date filter (days); 0: none */
    int32_t            as_of;       /* business date stamped as `created` (days); 0: each declaration's date */
    bool               all_scores;  /* write scores.csv */
    const char        *model;       /* learned model file (model.h): risk becomes its probability; NULL: none */
    size_t             batch_size;  /* declarations per batch; 0: 8192 */
    /* Quarantined share of the rows read above which the result says so
     * (summary, metrics, er_run_result.quarantine_exceeded); 0: the default
     * ER_RUN_MAX_QUARANTINE_SHARE; 1 or more: never. */
    double             max_quarantine_share;
    /* Also write the metrics here (temporary file + rename, so a textfile
     * collector never reads half a file), on success and, with
     * ecorisk_run_success 0, on failure; NULL: only DIR/metrics.prom. */
    const char        *metrics_file;
    /* Problems that do not stop the run (an optional mapped column missing
     * from a feed's header): called from the reading thread; NULL: none. */
    void             (*warn)(void *ud, const char *msg);
    void              *warn_ud;
    /* Optional progress callback, called from the reading thread. */
    void             (*progress)(void *ud, uint64_t rows, uint64_t bytes, uint64_t alerts);
    void              *progress_ud;
    /* Optional: called once every output file is complete in the staging
     * directory `staged` (docs/operations.md, "Outputs: one transaction") and
     * before it is published as out_dir; an error stops the run unpublished.
     * `run --push` spools staged/alerts.jsonl into the outbox here. */
    er_status        (*before_publish)(void *ud, const char *staged, er_err *err);
    void              *publish_ud;
    /* Registries (docs/registries.md): document registry dir; NULL: no document checks. */
    const char        *registry;
    const char        *ledger;      /* durable ledger dir (needs registry and as_of); NULL: in-memory only */
} er_run_opts;

#define ER_RUN_MAX_QUARANTINE_SHARE 0.05

typedef struct er_run_result {
    char     run_id[17];
    uint64_t rows_read, accepted, quarantined, alerts, random, over_capacity;
    uint64_t dup_window_resets;   /* duplicate-id table restarts (docs/feeds.md, Duplicates) */
    uint64_t alerts_by_lane[ER_LANE_COUNT];
    uint64_t alerts_by_domain[ER_DOMAIN_COUNT];
    double   seconds;
    double   quarantine_share;      /* quarantined / read; 0 when nothing was read */
    bool     quarantine_exceeded;   /* quarantine_share > max_quarantine_share */
} er_run_result;

er_status er_run(const er_run_opts *opts, er_run_result *res, er_err *err);

/* `explain`: the full trace for one declaration. Uses feeds, mapping, format,
 * profiles, baseline, reference, as_of and since/until of opts; the rest is
 * ignored. Scans the feeds for decl_id; on success *json receives a malloc'd
 * JSON text (caller frees with free()) holding the declaration as read, every
 * anomaly feature (computable or not, with group and p), every profile's
 * trace (every condition with the values compared) and the alert the run
 * would emit, if any. A declaration that was quarantined is reported with its
 * quarantine record. ER_ENOTFOUND when no record has that id. */
er_status er_explain(const er_run_opts *opts, const char *decl_id, char **json, er_err *err);

ER_END_DECLS
#endif
