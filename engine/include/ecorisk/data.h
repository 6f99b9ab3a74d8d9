/*
 * data.h — where the shipped data is found: the profile packs, the column
 * mappings and the reference tables. One lookup for all three, so they can
 * never disagree on the search order, which is, for each kind:
 *   1. its own environment variable (ECORISK_PROFILES, ECORISK_MAPPINGS,
 *      ECORISK_REFERENCE);
 *   2. <home>/<sub> where home is $ECORISK_HOME, or when that is unset the
 *      folder given to er_data_set_home (the CLI passes
 *      <dir of the executable>/../share/ecorisk, so an installed tree moved
 *      elsewhere still finds its own data);
 *   3. the source tree the library was built from;
 *   4. the installed data directory (share/ecorisk).
 * A candidate folder counts only if it exists (and, when a file is named,
 * holds that file). See docs/architecture.md.
 */
#ifndef ECORISK_DATA_H
#define ECORISK_DATA_H

#include "ecorisk/api.h"
#include <stddef.h>
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef enum er_data_kind { ER_DATA_PROFILES = 0, ER_DATA_MAPPINGS, ER_DATA_REFERENCE } er_data_kind;

/* The fallback home (step 2 when $ECORISK_HOME is unset); copied. Call before
 * any load, from one thread (program start-up). NULL clears it. */
void er_data_set_home(const char *dir);

/* Find the folder of `kind` (holding `file` when file is not NULL) and write
 * it to out (cap bytes). ER_ENOTFOUND with a message naming every place
 * searched; ER_ELIMIT if a path does not fit in cap. */
er_status er_data_find(er_data_kind kind, const char *file, char *out, size_t cap, er_err *err);

ER_END_DECLS
#endif
