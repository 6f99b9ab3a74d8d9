/*
 * refdata.h — reference tables every module shares: ISO 3166-1 countries
 * (with OECD / EU membership and region), ISO 4217 currencies with the rates
 * table that converts declared values into one reference currency.
 *
 * Loaded once from feeds/reference/ (or the installed share/ecorisk/reference)
 * and read-only afterwards, so it may be shared by threads. Free with
 * er_refdata_free.
 */
#ifndef ECORISK_REFDATA_H
#define ECORISK_REFDATA_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stdint.h>
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_refdata er_refdata;

/* dir: folder holding countries.csv and currency-rates.csv; NULL = default
 * (ECORISK_REFERENCE env, the source tree, then the installed data dir). */
er_status er_refdata_load(er_refdata **out, const char *dir, er_err *err);
void      er_refdata_free(er_refdata *r);

bool        er_country_valid(const er_refdata *r, uint16_t cc);
bool        er_country_oecd(const er_refdata *r, uint16_t cc);
bool        er_country_eu(const er_refdata *r, uint16_t cc);
const char *er_country_name(const er_refdata *r, uint16_t cc);  /* "" when unknown */
/* Parse a 2-letter code (case-insensitive) into *cc; false if not in the ISO list. */
bool        er_country_parse(const er_refdata *r, const char *s, size_t len, uint16_t *cc);

/* The reference currency (e.g. "USD"). */
const char *er_refdata_ref_currency(const er_refdata *r);
/* Units of reference currency per one unit of `code`; false if unknown. */
bool        er_currency_rate(const er_refdata *r, const char *code, double *rate);

ER_END_DECLS
#endif
