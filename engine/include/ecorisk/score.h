/*
 * score.h — scoring one declaration: its anomaly features against the
 * baseline, every profile's result, the profile that carries the alert and
 * the highest score per domain. The single place where statistics and
 * profiles meet; used by run, explain, backtest, diff and tune alike, so all
 * of them score a declaration the same way.
 */
#ifndef ECORISK_SCORE_H
#define ECORISK_SCORE_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include "ecorisk/anomaly.h"
#include "ecorisk/baseline.h"
#include "ecorisk/decl.h"
#include "ecorisk/profile.h"

ER_BEGIN_DECLS

typedef struct er_decl_score {
    er_anomalies             an;
    const er_profile_result *results;     /* borrowed from the er_eval, valid until its next use */
    size_t                   n_results;
    long                     best;        /* index into results of the alert's profile, -1: no alert */
    size_t                   n_alerting;  /* profiles whose alert flag is set */
    bool                     in_scope;    /* at least one profile in scope */
    double                   domain_score[ER_DOMAIN_COUNT]; /* max score per domain (0 if none in scope) */
    /* One risk per declaration (docs/scoring.md §6): */
    double                   anomaly_logit; /* Σ of the anomaly feature terms (risk.h) */
    double                   hazard;        /* Σ softplus(z_p) over in-scope profiles, or softplus(z_base):
                                               −ln(1 − risk) */
    double                   risk;          /* 1 − e^−hazard, in [0, 1] */
} er_decl_score;

/* Lanes by risk (docs/scoring.md §6, docs/operations.md): an alert whose
 * risk is at least `red` goes to the red lane, at least `yellow` to yellow,
 * any other alert to blue. Defaults 0.5 and 0.2; a run config may set them
 * ("risk_lanes"). */
typedef struct er_risk_lanes {
    double red, yellow;
} er_risk_lanes;
#define ER_RISK_LANE_RED_DEFAULT    0.5
#define ER_RISK_LANE_YELLOW_DEFAULT 0.2

/* The lane of the alert carried by result `which` of sc: a random-control
 * selection keeps its profile's lane (never below yellow); any other alert
 * takes the lane of the declaration's risk. t NULL: the defaults. */
er_lane er_score_lane(const er_decl_score *sc, size_t which, const er_risk_lanes *t);

/* Rank order of two scored declarations: risk descending, then declaration order
 * (the caller's ordinals). <0 when a ranks first. */
int er_risk_cmp(double risk_a, unsigned long long ord_a, double risk_b, unsigned long long ord_b);

/* Score d. bl may be NULL (anomaly predicates evaluate as "no data").
 * The alert's profile is the alerting profile with the highest score; ties go
 * to a non-random selection, then to the earlier profile in the set. */
void er_score_decl(const er_profileset *ps, const er_baseline *bl, er_eval *ev,
                   const er_decl *d, er_decl_score *out);
/* The same with out->an already holding d's anomaly features (a caller that
 * computes them for a whole batch with er_anomaly_compute_batch). */
void er_score_decl_an(const er_profileset *ps, er_eval *ev, const er_decl *d, er_decl_score *out);

ER_END_DECLS
#endif
