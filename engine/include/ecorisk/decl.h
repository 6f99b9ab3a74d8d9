/*
 * decl.h — the declaration model (docs/feeds.md) and a batch of declarations.
 *
 * One fixed struct per declaration; all strings are borrowed from the batch's
 * arena (interned where they repeat) and live until er_batch_reset/free.
 * Countries are packed alpha-2 codes (ER_CC('F','R')), 0 = absent. Optional
 * numbers carry a presence bit in `present`; an absent number is 0.0 and must
 * not be read without checking its bit. Unmapped feed columns are kept as
 * extras (name → value), testable by profiles as `extra.<name>`.
 *
 * A batch also carries the records of that stretch of the feed that were
 * quarantined (line, reason, detail), so a writer can emit them in feed order.
 */
#ifndef ECORISK_DECL_H
#define ECORISK_DECL_H

#include "ecorisk/api.h"
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/arena.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

#define ER_CC(a, b) ((uint16_t)(((unsigned)(unsigned char)(a) << 8) | (unsigned char)(b)))
#define ER_CC_A(cc) ((char)((cc) >> 8))
#define ER_CC_B(cc) ((char)((cc) & 0xff))

#define ER_HS_MAX        10   /* digits */
#define ER_TRANSIT_MAX   8    /* transit countries kept per declaration */

/* Field length limits (bytes); longer values quarantine the record. */
#define ER_LIMIT_ID          64
#define ER_LIMIT_PARTY       128   /* declarant, importer, exporter */
#define ER_LIMIT_DESCRIPTION 1024
#define ER_LIMIT_OFFICE      32
#define ER_LIMIT_UNIT        8
#define ER_LIMIT_CONTAINER   16
#define ER_LIMIT_DOCREFS     256   /* permits, licences, consents: references separated by ';' or '|' */
#define ER_LIMIT_EXTRA       1024
#define ER_LIMIT_EXTRAS      64    /* extras per record */
#define ER_LIMIT_RECORD      (1u << 20) /* 1 MiB per record (CSV record / JSON line) */

typedef enum er_flow { ER_FLOW_NONE = 0, ER_FLOW_IM, ER_FLOW_EX, ER_FLOW_TR } er_flow;
typedef enum er_mode {
    ER_MODE_NONE = 0, ER_MODE_SEA, ER_MODE_AIR, ER_MODE_ROAD, ER_MODE_RAIL,
    ER_MODE_POST, ER_MODE_OTHER
} er_mode;

const char *er_flow_str(er_flow f);   /* "IM", "EX", "TR", "" */
const char *er_mode_str(er_mode m);   /* "SEA", ..., "" */

/* Presence bits for optional fields. */
enum {
    ER_P_NET_KG    = 1u << 0,
    ER_P_GROSS_KG  = 1u << 1,
    ER_P_QUANTITY  = 1u << 2,
    ER_P_VALUE     = 1u << 3,   /* value (and value_ref when currency known) */
    ER_P_PACKAGES  = 1u << 4,
    ER_P_VALUE_REF = 1u << 5    /* value converted to the reference currency */
};

typedef struct er_extra {
    const char *name;    /* column name, interned */
    const char *value;
} er_extra;

typedef struct er_decl {
    const char *id;              /* required */
    int32_t     date;            /* days since 1970-01-01, required */
    uint8_t     flow;            /* er_flow */
    uint8_t     mode;            /* er_mode */
    uint8_t     hs_len;          /* 6..10 */
    uint8_t     n_transit;
    char        hs[ER_HS_MAX + 1];  /* digits only, NUL-terminated, required */
    char        currency[4];     /* ISO 4217 or "" */
    uint16_t    origin, export_country, destination;  /* ER_CC or 0 */
    uint16_t    transit[ER_TRANSIT_MAX];
    uint32_t    present;         /* ER_P_* bits */
    const char *declarant, *importer, *exporter;  /* NULL when absent */
    const char *description, *office, *unit, *container;
    double      net_kg, gross_kg, quantity, value, value_ref, packages;
    uint32_t    n_extra;
    er_extra   *extra;
    uint64_t    line;            /* 1-based physical line where the record starts */
    uint64_t    seq;             /* 0-based record index in the feed (header excluded) */
    /* Documents cited (docs/registries.md): permit, licence and consent numbers, each
     * field a list separated by ';' or '|'; NULL when absent. */
    const char *permits, *licences, *consents;
    /* Registry check of this declaration (registry.h), set by the run's sequential
     * ledger pass before scoring; NULL when the run has no registries. */
    const struct er_doccheck *docs;
} er_decl;

/* Quarantine reasons (stable names, used in quarantine.jsonl and summaries). */
typedef enum er_qreason {
    ER_Q_SYNTAX = 0,       /* CSV / JSON syntax error */
    ER_Q_FIELD_COUNT,      /* CSV record with a different number of fields */
    ER_Q_MISSING_FIELD,    /* a required field is empty or absent */
    ER_Q_BAD_HS,
    ER_Q_BAD_DATE,
    ER_Q_BAD_NUMBER,       /* not a number, NaN, inf */
    ER_Q_NEGATIVE,
    ER_Q_GROSS_LT_NET,
    ER_Q_TOO_LONG,         /* field or record over its limit */
    ER_Q_BAD_UTF8,
    ER_Q_BAD_COUNTRY,
    ER_Q_BAD_CURRENCY,
    ER_Q_BAD_FLOW,
    ER_Q_BAD_MODE,
    ER_Q_DUPLICATE_ID,
    ER_Q_OUT_OF_RANGE,     /* outside --since / --until */
    ER_Q_COUNT
} er_qreason;

const char *er_qreason_str(er_qreason r);   /* "syntax", "field_count", ... */

typedef struct er_qrecord {
    const char *file;      /* feed name as given (borrowed from the feed) */
    uint64_t    line;      /* 1-based line of the record start */
    uint64_t    seq;       /* record index in the feed */
    er_qreason  reason;
    const char *field;     /* offending field (canonical or column name) or NULL */
    const char *detail;    /* human detail, in the batch arena */
    const char *excerpt;   /* first bytes of the raw record (valid UTF-8, escaped on output) */
    size_t      excerpt_len; /* bytes in excerpt, which may hold NUL bytes (0: up to its NUL) */
} er_qrecord;

typedef struct er_batch {
    er_arena   *arena;
    er_decl    *decls;
    size_t      n, cap;
    er_qrecord *quarantined;
    size_t      n_q, cap_q;
} er_batch;

/* cap: declarations per batch (e.g. 8192). Free with er_batch_free. */
er_status er_batch_new(er_batch **out, size_t cap, er_err *err);
void      er_batch_free(er_batch *b);
void      er_batch_reset(er_batch *b);   /* drops decls, quarantine records and arena */
/* Slot for one more declaration (zeroed), or NULL when full / ENOMEM. */
er_decl  *er_batch_push(er_batch *b);
/* Append a quarantine record; detail is formatted into the arena. */
er_status er_batch_quarantine(er_batch *b, const char *file, uint64_t line, uint64_t seq,
                              er_qreason reason, const char *field, const char *excerpt,
                              size_t excerpt_len, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

/* Look up an extra by column name; NULL when absent. */
const char *er_decl_extra(const er_decl *d, const char *name);

/* Dates: "YYYY-MM-DD" (also accepts "YYYYMMDD" and a trailing "T..."), → days since epoch. */
er_status er_date_parse(const char *s, size_t len, int32_t *days);
void      er_date_format(int32_t days, char out[11]);   /* "YYYY-MM-DD" */

ER_END_DECLS
#endif
