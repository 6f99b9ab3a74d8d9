/*
 * anomaly_names.c — stable names of anomaly features and baseline group
 * levels (anomaly.h), shared by the statistics, profile and alert modules.
 */
#include "ecorisk/anomaly.h"

#include <string.h>

static const char *const feature_names[ER_FEAT_COUNT] = {
    [ER_FEAT_UNIT_VALUE_LOW] = "unit_value_low",
    [ER_FEAT_UNIT_VALUE_HIGH] = "unit_value_high",
    [ER_FEAT_MAHALANOBIS] = "mahalanobis",
    [ER_FEAT_ROUTE_RARITY] = "route_rarity",
    [ER_FEAT_NEW_TRADER] = "new_trader",
    [ER_FEAT_NEW_IMPORTER] = "new_importer",
};

const char *er_feature_str(er_feature f)
{
    return (unsigned)f < ER_FEAT_COUNT ? feature_names[f] : "unknown";
}

er_feature er_feature_parse(const char *name)
{
    for (int i = 0; i < ER_FEAT_COUNT; i++)
        if (strcmp(feature_names[i], name) == 0)
            return (er_feature)i;
    return ER_FEAT_COUNT;
}

const char *er_level_str(er_level l)
{
    static const char *const n[] = {"none", "hs6", "hs4", "hs2", "all"};
    return (unsigned)l < sizeof n / sizeof n[0] ? n[l] : "none";
}
