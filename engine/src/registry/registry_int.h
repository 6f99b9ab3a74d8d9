/*
 * registry_int.h — private structures of the registry module: the loaded
 * permit, licence, consent and substance tables (registry.c), the string
 * hash map both the registries and the ledger index by, and the small CSV
 * reader the registry files and ledger files share.
 */
#ifndef ECORISK_REGISTRY_INT_H
#define ECORISK_REGISTRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecorisk/registry.h"

/* ---- string → index map (open addressing; keys owned) ---- */
typedef struct smap {
    char    **keys;
    uint32_t *vals;
    size_t    cap, n;
} smap;

bool smap_put(smap *m, const char *key, size_t len, uint32_t val);   /* false on ENOMEM; replaces */
long smap_get(const smap *m, const char *key, size_t len);           /* -1 when absent */
void smap_free(smap *m);

/* ---- CSV records (RFC 4180 quoting; '#' lines before the header are comments) ---- */
typedef struct rcsv {
    char       *buf;        /* whole file */
    size_t      len, pos;
    uint64_t    line;       /* line of the current record */
    char      **f;          /* fields of the current record (in buf, unescaped in place) */
    size_t      n, cap;
    char      **hdr;        /* header names (copies) */
    size_t      n_hdr;
} rcsv;

/* Read path; *found = false (and ER_OK) when it does not exist and may_miss. */
er_status rcsv_open(rcsv *c, const char *path, bool may_miss, bool *found, er_err *err);
/* Next record into c->f / c->n: ER_OK, ER_EOF, or ER_EPARSE (unterminated quote). */
er_status rcsv_next(rcsv *c, er_err *err, const char *path);
int       rcsv_col(const rcsv *c, const char *name);   /* header index or -1 */
void      rcsv_close(rcsv *c);

/* ---- registry records ---- */
typedef struct permit {
    char    *number, *type, *exporter, *importer, *taxon, *source, *purpose, *hs, *unit;
    uint16_t country;          /* issuing country */
    uint8_t  appendix;         /* 1..3, 0 unknown */
    bool     by_mass;          /* unit kg: consumes net_kg; else quantity */
    double   quantity;
    int32_t  from, until;      /* days; 0 = open */
} permit;

typedef struct licence {
    char    *number, *trader, *substance, *hs;
    int      year;
    uint8_t  flow;             /* er_flow, 0 = either */
    double   quantity_kg, odp_t, co2e_t;
} licence;

typedef struct consent {
    char    *number, *exporter, *importer, *waste_code, *hs;
    uint16_t export_country, import_country;
    uint16_t transit[ER_TRANSIT_MAX];
    uint8_t  n_transit;
    double   quantity_kg;
    int32_t  from, until;
} consent;

typedef struct substance {
    char  *name;               /* as in the table, e.g. "HCFC-22" */
    double odp, gwp;
} substance;

struct er_registry {
    permit    *permits;   size_t n_permits;
    licence   *licences;  size_t n_licences;
    consent   *consents;  size_t n_consents;
    substance *subs;      size_t n_subs;
    smap       by_permit, by_licence_year, by_licence, by_consent;  /* number (licence: "number|year") */
    smap       sub_by_name, sub_by_hs;                              /* normalized name; HS6 */
};

/* Upper-case alphanumerics only ("Hcfc-22 " → "HCFC22"); returns the length. */
size_t reg_norm(const char *s, char *out, size_t cap);
/* Substance index for a name (aliases R-nn), or -1. */
long   reg_substance(const er_registry *r, const char *name);

/* ---- ledger internals used by the check pass (ledger.c) ---- */
/* Balance index of a document (created at 0) and its used quantity; -1 on ENOMEM. */
long   ledger_balance(er_ledger *l, int kind, const char *number, int year, double *used);
/* Quantity decl took from the document under another run key; -1 when decl is not recorded there. */
double ledger_prior(const er_ledger *l, const char *decl, int kind, const char *number, int year);
bool   ledger_known_decl(const er_ledger *l, const char *decl);
void   ledger_note_already(er_ledger *l);
/* Record decl's consumption in this run and add it to the balance; false on ENOMEM. */
bool   ledger_consume(er_ledger *l, long bal, const char *decl, double qty);

#endif
