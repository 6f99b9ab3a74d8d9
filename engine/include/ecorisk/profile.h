/*
 * profile.h — risk profiles (docs/profiles.md): loading and linting profile packs,
 * compiling them into matchers, and evaluating declarations.
 *
 * A profile set is loaded from pack files (profiles/<domain>.json) and reference lists
 * (profiles/lists/), validated (lint), and compiled once: HS prefixes into a
 * trie, country sets into bitsets, keywords into one automaton per pack. After
 * loading, the set is read-only and may be shared by threads; evaluation needs
 * only a per-thread er_eval.
 *
 * Errors in a pack are collected as lint messages, each naming the file, the
 * JSON path (e.g. profiles[3].indicators[1].when) and what was expected;
 * er_profileset_load fails with ER_EPARSE when a pack or list file is not
 * valid JSON, else with ER_EPROFILE when any message is an error.
 */
#ifndef ECORISK_PROFILE_H
#define ECORISK_PROFILE_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "ecorisk/anomaly.h"
#include "ecorisk/decl.h"
#include "ecorisk/refdata.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

#define ER_MAX_INDICATORS 64     /* per profile (fired set is a uint64_t mask) */
#define ER_RISK_DEFAULT_PRIOR 0.01 /* a profile's prior when its pack gives none (docs/scoring.md §6) */
/* Log-odds of an indicator's weight points when the pack gives no log_odds: every 10
 * points double the odds (docs/scoring.md §6). */
#define ER_RISK_POINTS_PER_DOUBLING 10.0

typedef enum er_domain { ER_DOMAIN_WILDLIFE = 0, ER_DOMAIN_ODS, ER_DOMAIN_WASTE, ER_DOMAIN_COUNT } er_domain;
typedef enum er_lane { ER_LANE_GREEN = 0, ER_LANE_BLUE, ER_LANE_YELLOW, ER_LANE_RED, ER_LANE_COUNT } er_lane;

const char *er_domain_str(er_domain d);    /* "wildlife", "ods", "waste" */
const char *er_lane_str(er_lane l);        /* "green", "blue", "yellow", "red" */
/* CEN-style commodity group for a domain / HS code ("fauna and flora", "ODS", ...). */
const char *er_cen_group(er_domain d, const char *hs);

typedef struct er_indicator_info {
    const char *id;
    double      weight;        /* 0..100, added to the score when it fires */
    double      log_odds;      /* added to the profile's log-odds when it fires (docs/scoring.md §6):
                                  the pack's `log_odds`, else weight·ln2/10 */
    const char *reason;        /* human reason shown in alerts */
    bool        is_anomaly;    /* condition uses an anomaly predicate */
} er_indicator_info;

typedef struct er_profile_info {
    const char *id, *title, *owner, *file;
    int         version;
    er_domain   domain;
    const char *const *references;  size_t n_references;
    int32_t     valid_from, valid_until;      /* days, on the declaration date; 0 = open */
    double      alert_threshold;               /* score ≥ this → alert */
    double      lane_red, lane_yellow, lane_blue; /* score thresholds */
    double      random_rate;                   /* 0..1 control-sample rate */
    double      prior;                         /* prior probability of an illicit declaration in scope
                                                  (pack `prior`, default ER_RISK_DEFAULT_PRIOR) */
    double      anomaly_scale;                 /* multiplier of the declaration's anomaly term in this
                                                  profile's log-odds (pack `anomaly_scale`, default 1;
                                                  `tune` writes 0: docs/scoring.md §6.1) */
    const er_indicator_info *indicators;  size_t n_indicators;
    int32_t     review_by;                     /* days; 0 = none (lint notice only) */
} er_profile_info;

typedef enum er_lint_severity { ER_LINT_ERROR = 0, ER_LINT_WARNING } er_lint_severity;
typedef struct er_lint_msg {
    er_lint_severity severity;
    const char *file;        /* pack or list file */
    const char *path;        /* JSON path, e.g. "profiles[3].indicators[1].when" */
    const char *message;     /* what was wrong and what was expected */
} er_lint_msg;

typedef struct er_profileset er_profileset;

typedef struct er_profile_opts {
    const er_refdata *ref;       /* borrowed; required (country validation) */
    const char       *lists_dir; /* NULL: <dir of first pack>/lists */
    int32_t           today;     /* days; for validity checks (0 = now) */
} er_profile_opts;

/* Default folder of the shipped packs: $ECORISK_PROFILES, else
 * $ECORISK_HOME/profiles, else the source tree's profiles/, else the
 * installed data dir (share/ecorisk/profiles).
 * Static string (or the environment's), never NULL. */
const char *er_profile_default_dir(void);

/* Load packs: each path is a pack file or a directory of *.json packs.
 * On ER_EPROFILE or ER_EPARSE (a file that is not JSON), the lint messages are
 * still available via *out when keep_on_error is true (for `profile lint`);
 * otherwise *out is NULL. ER_ENOTFOUND / ER_EIO: a path cannot be read. */
er_status er_profileset_load(er_profileset **out, const char *const *paths, size_t n_paths,
                             const er_profile_opts *opts, bool keep_on_error, er_err *err);
void      er_profileset_free(er_profileset *s);

size_t                 er_profileset_count(const er_profileset *s);
const er_profile_info *er_profileset_info(const er_profileset *s, size_t i); /* borrowed, lives with s */
/* Index of a profile by id, or (size_t)-1. */
size_t                 er_profileset_find(const er_profileset *s, const char *id);
size_t                 er_profileset_lint(const er_profileset *s, const er_lint_msg **msgs);
/* Content hash of all packs and lists (hex, borrowed). */
const char            *er_profileset_hash(const er_profileset *s);

/* Per-profile result of one evaluation. */
typedef struct er_profile_result {
    uint32_t profile;        /* index in the set */
    bool     in_scope;
    bool     alert;          /* score ≥ alert threshold, or random selection */
    bool     random;         /* selected by the random control rate */
    uint8_t  lane;           /* er_lane */
    double   score;          /* 0..100 */
    double   logit;          /* in scope: logit(prior) + Σ fired indicators' log-odds, anomaly
                                indicators scaled by how far p lies beyond their threshold
                                (docs/scoring.md §6); the declaration-wide anomaly term is added
                                by er_score_decl */
    uint64_t fired;          /* bit i: indicator i fired */
    bool     out_of_window;  /* in scope but for the validity window (declaration date) */
} er_profile_result;

/* Per-thread evaluation state. */
typedef struct er_eval er_eval;
er_status er_eval_new(er_eval **out, const er_profileset *s, er_err *err);
void      er_eval_free(er_eval *e);

/* Evaluate every profile on d. an may be NULL (anomaly predicates → "no data",
 * never fire). Results are borrowed from e, valid until the next call. Returns
 * the number of results (one per profile in the set, in set order). */
size_t er_eval_run(er_eval *e, const er_decl *d, const er_anomalies *an,
                   const er_profile_result **results);
/* Whether er_eval_run could find d in any profile's scope (in or out of its
 * validity window): the scopes alone, without anomalies, and true for a scope
 * that tests an anomaly. False means every result would be out of scope, so
 * a run that writes nothing for such a declaration need not compute its
 * anomalies (docs/architecture.md, "The daily run"). */
bool   er_eval_any_scope(er_eval *e, const er_decl *d);
/* er_eval_any_scope for each of d[0..n) (n <= ER_EVAL_CHUNK; need[k] its
 * answer), keeping what it computed (HS sets, keyword matches) so that one
 * er_eval_run on each of these declarations, by the same address and before
 * the next er_eval_scopes, does not compute it again. The declarations must
 * not change in between. */
#define ER_EVAL_CHUNK 64
void   er_eval_scopes(er_eval *e, const er_decl *d, size_t n, bool *need);

/* Log-odds contribution of indicator `indicator` of `profile` on an anomaly set an
 * (0 when it does not fire): its log_odds, scaled for anomaly conditions by
 * min(2, log p / log t) over the fired anomaly predicates (docs/scoring.md §6). Used
 * by evaluation and by explain, so both agree. */
double er_eval_indicator_logodds(const er_profileset *s, size_t profile, size_t indicator,
                                 const er_anomalies *an);

/* Evidence for a fired indicator: the values that made it fire, e.g.
 * "hs 050790 in list cites-hs-broad; origin NG in list pangolin-range-states".
 * Writes a NUL-terminated string into buf (truncated to len). */
size_t er_eval_evidence(const er_profileset *s, size_t profile, size_t indicator,
                        const er_decl *d, const er_anomalies *an, char *buf, size_t len);
/* The same, telling an empty evidence from a failure: ER_ENOMEM (buf empty) when
 * memory ran out, else ER_OK. The alerts use it, so that an alert is never
 * written with its evidence missing. */
er_status er_eval_evidence_str(const er_profileset *s, size_t profile, size_t indicator,
                               const er_decl *d, const er_anomalies *an, char *buf, size_t len);

/* Full trace for one declaration as a JSON text: every profile, every
 * condition true/false with the values compared. Returns a malloc'd string
 * the caller frees with free(); NULL on ENOMEM. */
char *er_eval_explain(const er_profileset *s, const er_decl *d, const er_anomalies *an);

/* Readable description of one profile with its resolved lists (malloc'd, free()). */
char *er_profile_describe(const er_profileset *s, size_t profile);

ER_END_DECLS
#endif
