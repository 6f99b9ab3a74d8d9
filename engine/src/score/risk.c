/*
 * risk.c — the risk formula of docs/scoring.md §6 (see risk.h): the anomaly
 * feature table and the noisy-OR combination of profile log-odds. Every sum is
 * taken in a fixed order in double, so the same evidence gives the same bits.
 */
#include "ecorisk/risk.h"

#include <math.h>

/* One row per anomaly feature, in er_feature order (docs/scoring.md §6.2). A new
 * feature needs its row here: the assertion below stops the build until it has one. */
static const er_risk_feature_param feature_params[] = {
    [ER_FEAT_UNIT_VALUE_LOW]  = {.chance = 2.0, .coef = 0.35, .cap = 4.0},
    [ER_FEAT_UNIT_VALUE_HIGH] = {.chance = 2.0, .coef = 0.20, .cap = 4.0},
    [ER_FEAT_MAHALANOBIS]     = {.chance = 2.0, .coef = 0.20, .cap = 4.0},
    [ER_FEAT_ROUTE_RARITY]    = {.chance = 1.3, .coef = 0.30, .cap = 2.0},
    [ER_FEAT_NEW_TRADER]      = {.chance = 0.5, .coef = 0.30, .cap = 1.5},
    [ER_FEAT_NEW_IMPORTER]    = {.chance = 0.5, .coef = 1.00, .cap = 1.5},
};
_Static_assert(sizeof feature_params / sizeof feature_params[0] == ER_FEAT_COUNT,
               "every er_feature needs a row in feature_params (docs/scoring.md §6.2)");

/* Per feature, a p above which −log10 p − chance is surely not positive:
 * 10^−chance raised by a relative 1e-9, far beyond log10's error, so most
 * declarations skip the logarithm and every term keeps its bits. A chance
 * changed above needs its value here: test_risk (feature_terms_exact_at_chance)
 * fails until it has it. */
static const double p_says_nothing[] = {
    [ER_FEAT_UNIT_VALUE_LOW]  = 1e-2 * (1 + 1e-9),
    [ER_FEAT_UNIT_VALUE_HIGH] = 1e-2 * (1 + 1e-9),
    [ER_FEAT_MAHALANOBIS]     = 1e-2 * (1 + 1e-9),
    [ER_FEAT_ROUTE_RARITY]    = 0.050118723362727229 * (1 + 1e-9),   /* 10^-1.3 */
    [ER_FEAT_NEW_TRADER]      = 0.31622776601683794 * (1 + 1e-9),    /* 10^-0.5 */
    [ER_FEAT_NEW_IMPORTER]    = 0.31622776601683794 * (1 + 1e-9),
};
_Static_assert(sizeof p_says_nothing / sizeof p_says_nothing[0] == ER_FEAT_COUNT,
               "every er_feature needs its p_says_nothing (10^-chance)");

const er_risk_feature_param *er_risk_feature_params(er_feature f)
{
    return (unsigned)f < ER_FEAT_COUNT ? &feature_params[f] : NULL;
}

double er_risk_feature_term(er_feature f, const er_feature_value *v)
{
    if ((unsigned)f >= ER_FEAT_COUNT || !v->computable || v->unit_error || !(v->p > 0) || v->p > p_says_nothing[f])
        return 0;
    const er_risk_feature_param *k = &feature_params[f];
    double dec = -log10(v->p) - k->chance;
    if (!(dec > 0))
        return 0;
    return k->coef * (dec < k->cap ? dec : k->cap);
}

double er_risk_anomaly_logit(const er_anomalies *an)
{
    double s = 0;
    if (!an || !an->have_baseline)
        return 0;
    for (int f = 0; f < ER_FEAT_COUNT; f++)
        s += er_risk_feature_term((er_feature)f, &an->f[f]);
    return s;
}

double er_risk_softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

double er_risk_logit(double p)
{
    return log(p / (1 - p));
}

double er_risk_from_hazard(double h)
{
    return h > 0 ? -expm1(-h) : 0;
}
