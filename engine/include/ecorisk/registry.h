/*
 * registry.h — documents as live ledgers (docs/registries.md): the CITES
 * permit, ODS/HFC licence and Basel consent registries a run checks cited
 * document numbers against, and the durable ledger of the quantity each
 * declaration consumed from each document, kept across runs.
 *
 * A run loads the registries once (read-only afterwards), opens the ledger
 * (exclusive lock; the entries of every other run key are the starting
 * balance), passes each batch through er_ledger_check_batch in feed order on
 * one thread (so consumption is deterministic whatever the scoring thread
 * count), scores, and commits the ledger: this run key's entries are written
 * to one file, fsynced and renamed into place, so a killed run leaves the
 * previous state and a re-run of the same key replaces its entries instead of
 * adding to them.
 */
#ifndef ECORISK_REGISTRY_H
#define ECORISK_REGISTRY_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/decl.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef enum er_dockind { ER_DOC_PERMIT = 0, ER_DOC_LICENCE, ER_DOC_CONSENT, ER_DOC_KINDS } er_dockind;

const char *er_dockind_str(er_dockind k);     /* "permit", "licence", "consent" */

/* Document states, per kind (bits of er_doccheck.state). */
enum {
    ER_DS_MISSING   = 1u << 0,   /* the declaration cites no document of this kind */
    ER_DS_UNKNOWN   = 1u << 1,   /* a cited number is not in the registry */
    ER_DS_EXPIRED   = 1u << 2,   /* declaration date outside the validity (licence: other year) */
    ER_DS_MISMATCH  = 1u << 3,   /* parties, countries, taxon, HS or flow disagree */
    ER_DS_EXHAUSTED = 1u << 4,   /* fully used before this declaration */
    ER_DS_EXCEEDED  = 1u << 5,   /* this declaration takes the cumulative quantity over the limit */
    ER_DS_COUNT     = 6
};

const char *er_docstate_str(unsigned bit_index);   /* "missing", "unknown", ... ; NULL past the end */

/* What the registry pass found for one declaration. Strings live as long as
 * the declaration's batch. */
typedef struct er_doccheck {
    uint8_t     state[ER_DOC_KINDS];
    const char *evidence[ER_DOC_KINDS];   /* e.g. "permit FR-24-0012: 40 of 50 kg already used; ..."; NULL: none */
    /* Harm (docs/registries.md#harm): ODS/HFC substance and tonnes at stake. */
    const char *substance;                /* NULL: not identified */
    double      odp_t, co2e_t;
    uint8_t     cites_appendix;           /* 1..3 from a cited permit, 0 unknown */
    char        basel_code[12];           /* waste code of a cited consent, "" unknown */
} er_doccheck;

/* ---- registries ---- */

typedef struct er_registry er_registry;

/* Load DIR/cites-permits.csv, DIR/ods-licences.csv, DIR/basel-consents.csv
 * (each optional; at least one must exist) and the ODS substance table
 * (ods-substances.csv from the reference data, or ref_dir when not NULL).
 * Errors name the file, line and column. Free with er_registry_free. */
er_status er_registry_load(er_registry **out, const char *dir, const char *ref_dir, er_err *err);
void      er_registry_free(er_registry *r);
size_t    er_registry_count(const er_registry *r, er_dockind k);
/* Limit of a document ("kg" or the permit's unit) for `ledger show`; false when unknown. */
bool      er_registry_limit(const er_registry *r, er_dockind k, const char *number, int year, double *limit,
                            const char **unit);

/* ODS harm for mass_kg of the substance named (e.g. "HCFC-22", "R-22", "hcfc22");
 * false when the name is not a controlled substance. */
bool er_registry_harm(const er_registry *r, const char *substance, double mass_kg, double *odp_t,
                      double *co2e_t, const char **canonical);

/* ---- ledger ---- */

typedef struct er_ledger er_ledger;

/* Open the ledger in dir (created if missing) for run key `key` (file-name
 * safe, e.g. "2026-01-05-3f2a9c01"): takes an exclusive lock on dir/lock
 * (ER_EPENDING when another run holds it) and loads every other key's entries
 * as the starting balance. dir NULL: an in-memory ledger starting empty,
 * never written. */
er_status er_ledger_open(er_ledger **out, const char *dir, const char *key, er_err *err);
/* The same starting balance without the lock, for `explain`: never committed. */
er_status er_ledger_open_readonly(er_ledger **out, const char *dir, const char *key, er_err *err);
void      er_ledger_free(er_ledger *l);   /* releases the lock; uncommitted entries are dropped */

/* The sequential pass: for each declaration of b in order, check its cited
 * documents against r, consume quantities, and point d->docs at the result
 * (allocated in b's arena). Must be called for batches in feed order. */
er_status er_ledger_check_batch(er_ledger *l, const er_registry *r, er_batch *b, er_err *err);

/* Write this key's entries durably (tmp, fsync, rename, fsync dir). */
er_status er_ledger_commit(er_ledger *l, er_err *err);

typedef struct er_ledger_stats {
    uint64_t entries_base, entries_run;   /* (declaration, document) records */
    uint64_t already_counted;             /* declarations found under another run key */
} er_ledger_stats;
void er_ledger_stats_get(const er_ledger *l, er_ledger_stats *st);

/* `ledger show`: a TSV text (kind, number, year, used, unit, limit, declarations)
 * totalled over every key, sorted; limits from r when not NULL. *text is malloc'd. */
er_status er_ledger_show(const char *dir, const er_registry *r, char **text, er_err *err);
/* `ledger reset --year`: remove the run files whose key date is in year. */
er_status er_ledger_reset_year(const char *dir, int year, size_t *removed, er_err *err);

ER_END_DECLS
#endif
