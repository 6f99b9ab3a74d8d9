/*
 * anomaly.h — the anomaly features of one declaration against a baseline
 * (docs/scoring.md). Produced by the statistics module (baseline.h), consumed by
 * profile predicates (profile.h), alerts and explain.
 *
 * Every feature is a tail probability p in [0,1] with the observed value, the
 * expected range and the baseline group level that was used. A feature that
 * cannot be computed (no mass, no value, no baseline group, no importer) has
 * computable == false and p == 1; outputs never contain NaN or inf.
 */
#ifndef ECORISK_ANOMALY_H
#define ECORISK_ANOMALY_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stdint.h>

ER_BEGIN_DECLS

typedef enum er_feature {
    ER_FEAT_UNIT_VALUE_LOW = 0,  /* log unit value far below the group (under-valuation) */
    ER_FEAT_UNIT_VALUE_HIGH,     /* log unit value far above the group */
    ER_FEAT_MAHALANOBIS,         /* multivariate outlier: chi-square tail of d² */
    ER_FEAT_ROUTE_RARITY,        /* origin → destination rare for the HS4 (smoothed) */
    ER_FEAT_NEW_TRADER,          /* importer with few or no declarations in this HS chapter */
    ER_FEAT_NEW_IMPORTER,        /* importer with few or no declarations at all */
    ER_FEAT_COUNT
} er_feature;

typedef enum er_level {
    ER_LEVEL_NONE = 0, ER_LEVEL_HS6, ER_LEVEL_HS4, ER_LEVEL_HS2, ER_LEVEL_ALL
} er_level;

const char *er_feature_str(er_feature f);  /* "unit_value_low", ..., stable names */
const char *er_level_str(er_level l);      /* "none", "hs6", "hs4", "hs2", "all" */
/* Parse a feature name as used in profiles; returns ER_FEAT_COUNT if unknown. */
er_feature  er_feature_parse(const char *name);

#define ER_UNIT_ERROR_RATIO 100.0   /* median / unit value beyond which a low unit value is a unit error */

typedef struct er_feature_value {
    bool    computable;
    uint8_t level;           /* er_level used */
    char    group[11];       /* group key at that level: "290345", "2903", "29", "*" */
    double  observed;        /* unit value, d², route count, declarations known (novelty) */
    double  expected_lo;     /* expected range (e.g. 5th..95th percentile), same scale */
    double  expected_hi;
    double  p;               /* tail probability; 1 when not computable */
    bool    unit_error;      /* unit_value_low only: more than ER_UNIT_ERROR_RATIO below the group
                                median, the mark of a unit or data-entry error (grams entered as
                                kilograms), not of undervaluation: p is kept, but anomaly
                                predicates do not fire on it and it adds no risk (docs/scoring.md 3.1) */
} er_feature_value;

typedef struct er_anomalies {
    bool             have_baseline;          /* false: no baseline loaded ("no data") */
    er_feature_value f[ER_FEAT_COUNT];
    uint8_t          n_computable;
} er_anomalies;

/* Fisher's combination of the computable features' p (docs/scoring.md
 * 3.5), in [0, 1]; 1 without a baseline or a computable
 * feature. Computed when asked (alerts, explanations), not with the features:
 * nothing in scoring reads it. */
double er_anomaly_fisher_p(const er_anomalies *an);

ER_END_DECLS
#endif
