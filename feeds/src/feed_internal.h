/*
 * feed_internal.h — what the feed modules (mapping, validation, CSV and JSONL
 * readers, feed driver) share privately: the canonical field table, the
 * loaded mapping, and the raw record handed to validation.
 */
#ifndef ER_FEEDS_INTERNAL_H
#define ER_FEEDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/decl.h"
#include "ecorisk/feed.h"
#include "ecorisk/refdata.h"

/* Canonical fields, in canonical CSV column order (docs/feeds.md). */
enum {
    F_ID, F_DATE, F_FLOW, F_DECLARANT, F_IMPORTER, F_EXPORTER, F_HS, F_DESCRIPTION,
    F_ORIGIN, F_EXPORT_COUNTRY, F_DESTINATION, F_TRANSIT, F_MODE, F_OFFICE, F_NET_KG,
    F_GROSS_KG, F_QUANTITY, F_UNIT, F_VALUE, F_CURRENCY, F_PACKAGES, F_CONTAINER,
    F_PERMITS, F_LICENCES, F_CONSENTS,   /* optional document references (docs/registries.md) */
    F_COUNT
};
extern const char *const er_field_names[F_COUNT];
int er_field_index(const char *name);   /* -1 if not canonical */

typedef struct map_value {
    char  *from, *to;
    size_t from_len, to_len;
} map_value;

typedef struct map_field {
    char      *column;     /* source column (CSV header) or key (JSONL); NULL = none */
    char      *constant;   /* used when the column is absent or empty; NULL = none */
    size_t     constant_len;
    map_value *values;     /* value map applied before validation (exact match) */
    size_t     n_values;
    bool       may_be_absent; /* "optional": true: no warning when the column is not in the header */
} map_field;

#define ER_MAP_DATE_FORMATS 8

/* Parse one date by a mapping pattern (YYYY, MM, DD and literal characters,
 * e.g. "DD/MM/YYYY"); a time after a space or 'T' is ignored. */
bool er_date_parse_pattern(const char *s, size_t len, const char *pattern, int32_t *days);

struct er_mapping {
    char     *name;
    char     *path;        /* file it came from, or "(built-in)" */
    char      sha256[65];  /* of the file's bytes; "" for the built-in canonical mappings */
    er_format format;
    bool      keep_extras; /* unmapped columns become extras (default true) */
    /* Source conventions (docs/feeds.md#mappings): date patterns tried in order
     * (none: YYYY-MM-DD / YYYYMMDD), the CSV delimiter, and the decimal and
     * optional thousands separators of numbers. */
    char      date_formats[ER_MAP_DATE_FORMATS][16];
    size_t    n_date_formats;
    char      delimiter;   /* ',' (default) ';' '\t' '|' */
    char      decimal;     /* '.' (default) or ',' */
    char      thousands;   /* 0 (none), '.', ',', ' ' or '\'' */
    char      unknown_countries[8][3];   /* upper-case codes read as "country unknown" */
    size_t    n_unknown_countries;
    map_field f[F_COUNT];
    /* the fields with a constant or a value map, in field order: the only
     * ones validation rewrites (set by mapping_index when the mapping is made) */
    uint8_t   rewrite[F_COUNT];
    uint8_t   n_rewrite;
};

/* The built-in identity mapping (canonical names), for opts->mapping == NULL. */
er_status er_mapping_canonical(er_mapping **out, er_format fmt, er_err *err);

/* One record as text views, before validation. v[i] == NULL: field absent. */
typedef struct raw_rec {
    const char *v[F_COUNT];
    uint32_t    len[F_COUNT];
    bool        ascii;      /* the record's own text is ASCII without NUL, so its
                               values need no UTF-8 check (mapping constants and
                               value maps are checked when the mapping loads) */
    bool        trimmed;    /* no value starts or ends with a byte <= ' ', so
                               trimming would change none (known for CSV lines
                               split in place; else false and every value is trimmed) */
    size_t      n_extra;
    const char *xname[ER_LIMIT_EXTRAS];   /* borrowed: header / key strings */
    const char *xval[ER_LIMIT_EXTRAS];
    uint32_t    xlen[ER_LIMIT_EXTRAS];
} raw_rec;

/* A direct-mapped cache that interns repeated strings (traders, offices,
 * units) into the batch arena without a full hash table; entries from an
 * older batch (gen) are ignored. */
#define ICACHE_SLOTS 1024
typedef struct icache_slot {
    uint64_t    w0, w1;    /* first 16 bytes, zero-padded */
    const char *s;
    uint32_t    len, gen;
} icache_slot;
typedef struct icache {
    icache_slot slot[ICACHE_SLOTS];
    uint32_t    gen;       /* bump per batch */
    /* last valid date text and its value: a day's feed repeats one date */
    char        date_s[16];
    uint32_t    date_len;
    int32_t     date_days;
} icache;

typedef struct vctx {
    const er_refdata *ref;
    const er_mapping *map;
    er_arena         *arena;
    icache           *ic;
    int32_t           since, until;
} vctx;

typedef struct vfail {
    er_qreason  reason;
    int         field;        /* F_* or -1 (extras: see xfield) */
    const char *xfield;       /* extra column name when field == -1 */
    char        detail[256];
} vfail;

/* Strip the spaces and tabs around a value (a view: *p and *n move). */
static inline void er_trim(const char **pp, uint32_t *pn)
{
    const char *p = *pp;
    uint32_t n = *pn;
    /* most values start and end with a byte above ' ': nothing to do */
    if (n == 0 || ((unsigned char)p[0] > ' ' && (unsigned char)p[n - 1] > ' '))
        return;
    while (n && (p[0] == ' ' || p[0] == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *pp = p;
    *pn = n;
}

/* Validate and convert one record into *d (zeroed by the caller). Returns
 * true when accepted; false with *fail filled. Duplicate ids are the feed's
 * business (checked after this). */
bool er_validate(const vctx *c, raw_rec *r, er_decl *d, vfail *fail);

/* Helpers shared with tests. */
int  er_text_check(const char *p, size_t n, size_t *bad_at);   /* 0 ok, 1 bad UTF-8, 2 NUL */
bool er_parse_number(const char *p, size_t n, double *out);

#endif
