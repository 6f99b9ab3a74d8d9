/*
 * inputs.h — the inputs every scoring operation loads before it reads a
 * declaration, private to the library: reference data, the column mapping,
 * the profile packs and the baseline, loaded in that order (a bad reference
 * table or mapping is reported before the packs, whose checks need the
 * reference data) by one call, and freed by one.
 */
#ifndef ECORISK_SCORE_INPUTS_H
#define ECORISK_SCORE_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "ecorisk/baseline.h"
#include "ecorisk/feed.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"

/* What to load; every path is borrowed for the call only. */
typedef struct er_inputs_spec {
    const char        *reference;    /* NULL: the library's default location */
    const char        *mapping;      /* NULL: none (the feed's format decides) */
    const char *const *profiles;     /* pack files or folders */
    size_t             n_profiles;   /* 0: no packs are loaded */
    int32_t            today;        /* validity checks of the packs (days; 0 = now) */
    const char        *lists_dir;    /* NULL: beside the first pack */
    const char        *baseline;     /* NULL: none */
} er_inputs_spec;

/* What was loaded; owned, freed by er_inputs_free. */
typedef struct er_inputs {
    er_refdata    *ref;
    er_mapping    *map;
    er_profileset *ps;
    er_baseline   *bl;
} er_inputs;

/* Load what spec names into *in (zeroed first). On failure frees what it
 * loaded and returns the first error (err names the file). */
er_status er_inputs_load(er_inputs *in, const er_inputs_spec *spec, er_err *err);
/* Free everything in *in and zero it; a zeroed *in is a no-op. */
void      er_inputs_free(er_inputs *in);

#endif
