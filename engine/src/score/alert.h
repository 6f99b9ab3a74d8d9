/*
 * alert.h — building one alert's JSON text (docs/alerts.md),
 * private to the library. The alert id is a deterministic hash of the
 * declaration id, profile id, profile version and baseline id, so re-runs
 * never create new alerts for the same finding.
 */
#ifndef ECORISK_ALERT_H
#define ECORISK_ALERT_H

#include <stdbool.h>
#include "ecorisk/profile.h"
#include "ecorisk/score.h"
#include "core/sbuf.h"

typedef struct er_alert_ctx {
    const er_profileset *ps;
    const char          *run_id;        /* 16 hex */
    const char          *baseline_id;   /* "" when no baseline */
    int32_t              as_of;         /* created date (days); 0: the declaration's date */
} er_alert_ctx;

/* alert_id (32 hex + NUL) for a declaration and profile. */
void er_alert_id(const er_alert_ctx *c, const char *decl_id, const er_profile_info *p, char out[33]);

/* Append one alert object (no newline) for d with its score s, carried by
 * profile result `which` (normally s->best). lane / over_capacity are the
 * final values after capacity planning; topup marks a declaration picked to
 * top up the minimum random-control rate. */
void er_alert_format(er_sb *b, const er_alert_ctx *c, const er_decl *d, const er_decl_score *s,
                     size_t which, er_lane lane, bool over_capacity, bool topup);

/* One anomaly feature's fields after its name: observed, expected_range, p,
 * group_level, group (shared by alerts and explain). */
void er_alert_feature_fields(er_sb *b, const er_feature_value *v);

/* The declaration's reference data as a JSON object (CEN seizure-report terms). */
void er_alert_decl_json(er_sb *b, const er_decl *d);

#endif
