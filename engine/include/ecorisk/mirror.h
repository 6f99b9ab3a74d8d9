/*
 * mirror.h — mirror checks on pooled or exchanged declarations
 * (docs/registries.md "Mirror checks"): every export declaration of one
 * administration is paired with the import declaration the partner
 * administration should hold for the same goods — by container number, else
 * by HS4, countries, mass and a date window — and the pairs whose HS chapter,
 * waste status, mass, value or parties disagree are reported, as are exports
 * with no matching import.
 */
#ifndef ECORISK_MIRROR_H
#define ECORISK_MIRROR_H

#include "ecorisk/api.h"
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/feed.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_mirror_opts {
    const char *const *exports;     /* feeds holding the export declarations (flow EX) */
    size_t             n_exports;
    const char *const *imports;     /* feeds holding the partner's import declarations (flow IM) */
    size_t             n_imports;
    const char        *mapping;     /* mapping name or path for both; NULL: by format */
    const char        *reference;   /* reference data dir; NULL: default */
    const char        *out;         /* mirror.jsonl to write (tmp + rename); "-": stdout */
    int                window_days; /* import date within [export - 2, export + window]; 0: 30 */
    double             mass_tol;    /* relative mass difference allowed; 0: 0.10 */
    double             value_ratio; /* larger / smaller value_ref allowed; 0: 1.5 */
} er_mirror_opts;

typedef enum er_mirror_finding {
    ER_MF_NO_IMPORT = 0,  /* export with no matching import */
    ER_MF_HS_CHAPTER,     /* HS chapters differ */
    ER_MF_WASTE_AS_GOODS, /* exported under a waste code, imported under a non-waste one */
    ER_MF_GOODS_AS_WASTE, /* the reverse */
    ER_MF_MASS,           /* net mass differs beyond mass_tol */
    ER_MF_VALUE,          /* value differs beyond value_ratio */
    ER_MF_EXPORTER,       /* exporter names differ */
    ER_MF_IMPORTER,       /* importer names differ */
    ER_MF_COUNT
} er_mirror_finding;

const char *er_mirror_finding_str(er_mirror_finding f);   /* "no_import", "hs_chapter", ... */

typedef struct er_mirror_result {
    uint64_t exports, imports;          /* declarations considered */
    uint64_t by_container, by_attributes, unmatched;
    uint64_t pairs_flagged;             /* matched pairs with at least one finding */
    uint64_t by_finding[ER_MF_COUNT];
} er_mirror_result;

er_status er_mirror(const er_mirror_opts *o, er_mirror_result *res, er_err *err);

ER_END_DECLS
#endif
