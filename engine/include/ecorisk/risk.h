/*
 * risk.h — one calibrated risk per declaration (docs/scoring.md §6): the
 * log-odds contributed by the anomaly features (one table, one row per
 * er_feature), each profile's log-odds, and their combination into a
 * probability-like value in [0, 1] that is comparable across profiles and
 * domains. Pure functions of their arguments; no state, no allocation.
 */
#ifndef ECORISK_RISK_H
#define ECORISK_RISK_H

#include "ecorisk/api.h"
#include <stddef.h>
#include "ecorisk/anomaly.h"

ER_BEGIN_DECLS

/* Prior of a declaration in no profile's scope (docs/scoring.md §6.4). */
#define ER_RISK_BASE_PRIOR 1e-4

/* Per-feature parameters of the continuous anomaly term:
 * term = coef · min(cap, max(0, −log10 p − chance)). */
typedef struct er_risk_feature_param {
    double chance;   /* −log10 p below which the feature says nothing */
    double coef;     /* log-odds per decade of p beyond chance */
    double cap;      /* decades beyond chance counted at most */
} er_risk_feature_param;

/* The table row of feature f (borrowed, static). */
const er_risk_feature_param *er_risk_feature_params(er_feature f);

/* Log-odds of one feature value: 0 when not computable. */
double er_risk_feature_term(er_feature f, const er_feature_value *v);
/* Σ over every feature of er_risk_feature_term, in feature order; 0 without a baseline. */
double er_risk_anomaly_logit(const er_anomalies *an);

/* softplus(z) = ln(1 + e^z) = −ln(1 − σ(z)), computed without overflow. */
double er_risk_softplus(double z);
/* ln(p / (1 − p)). */
double er_risk_logit(double p);
/* Risk from the combined hazard H = Σ softplus(z_p) (noisy-OR): 1 − e^−H. */
double er_risk_from_hazard(double h);

ER_END_DECLS
#endif
