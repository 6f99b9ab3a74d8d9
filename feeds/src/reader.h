/*
 * reader.h — the feed reader extension point (docs/architecture.md#feed-readers).
 *
 * A feed format is one row of er_feed_readers[] (readers.c): its name, the
 * file-name endings that select it, a sniff of the first bytes, and open /
 * next / cut / parse / counts / free over its own state. feed.c picks a row (explicit
 * format, mapping, file name, then sniff), opens it on the feed's source and
 * asks it for raw records; validation, duplicate ids and quarantine stay in
 * feed.c, so every reader produces the same quarantine records.
 * Private to feeds/src.
 */
#ifndef ER_FEEDS_READER_H
#define ER_FEEDS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/quarantine.h"
#include "feed_internal.h"
#include "source.h"

/* What a reader may use of its feed, borrowed for the reader's lifetime. */
typedef struct feed_ctx {
    const char       *name;          /* the feed's source, for messages */
    const er_mapping *map;           /* columns / keys, delimiter, extras */
    const char       *label_field;   /* column kept as an extra even when extras are off; or NULL */
    void            (*warn)(void *ud, const char *msg);   /* may be NULL */
    void             *warn_ud;
} feed_ctx;

/* One record as the reader saw it. bad: the record is to be quarantined with
 * reason / field / detail instead of validated (raw_rec is then unused). */
typedef struct feed_item {
    uint64_t    line;        /* 1-based line of the record's first byte */
    const char *raw;         /* the raw record, for excerpts (valid until the next call) */
    size_t      raw_len;
    bool        bad;
    er_qreason  reason;
    const char *field;       /* canonical field name or NULL */
    char        detail[256];
} feed_item;

/* A cut: whole records taken from the feed in order on the reading thread,
 * to be parsed on another (docs/architecture.md#feed-readers). What it holds
 * is the cutting reader's own (part, freed with part_free); the feed driver
 * only reads n_rec. */
typedef struct feed_chunk {
    size_t      n_rec;                   /* records in it (bad ones included) */
    const void *owner;                   /* the reader row whose part this is */
    void       *part;
    void      (*part_free)(void *part);
    bool        fresh;                   /* cut since its last parse started */
} feed_chunk;

#define ER_CUT_MAX_BYTES (32u << 20)   /* a cut of very long records stops at about this size */

/* Whether c's part is the one the reader owner made. */
static inline bool er_chunk_owned(const feed_chunk *c, const void *owner) { return c->owner == owner; }
/* c's part becomes part (freed with part_free), the previous one freed. */
void er_chunk_adopt(feed_chunk *c, const void *owner, void *part, void (*part_free)(void *part));

typedef struct feed_reader {
    const char *name;                /* "csv", "jsonl": as in --format and a mapping's "format" */
    er_format   fmt;
    const char *suffixes[4];         /* file-name endings (before .gz, after a URL's query), NULL-ended */
    /* Claims a feed by its first bytes (p[0..n), after a UTF-8 byte-order mark).
     * Rows are asked in table order; when none claims, row 0 reads the feed. */
    bool      (*sniff)(const char *p, size_t n);
    /* Opens the reader on src (borrowed; positioned at the start). A header
     * that cannot be bound fails here with a message naming the feed. */
    er_status (*open)(void **state, er_src *src, const feed_ctx *c, er_err *err);
    /* Next record into r (zeroed by the caller) and it. ER_EOF at end. The views
     * in r and it stay valid until the next call. */
    er_status (*next)(void *state, raw_rec *r, feed_item *it, er_err *err);
    /* Reading in two steps (the daily run's way, feed.h: er_feed_cut).
     * cut: the next up to max_records whole records into c, on the reading
     *   thread (which alone calls next / cut / counts); ER_EOF when none is left.
     * parse: c's next record into r (zeroed by the caller) and it, exactly as
     *   next would have given it; state is only read, so other threads parse
     *   other chunks meanwhile. ER_EOF after its last. The views stay valid
     *   until c is cut again. */
    er_status (*cut)(void *state, feed_chunk *c, size_t max_records, er_err *err);
    er_status (*parse)(const void *state, feed_chunk *c, raw_rec *r, feed_item *it, er_err *err);
    /* Bytes consumed so far and blank lines skipped. */
    void      (*counts)(const void *state, uint64_t *bytes, uint64_t *blank_lines);
    void      (*free)(void *state);  /* NULL-safe */
} feed_reader;

extern const feed_reader er_feed_readers[];
extern const size_t      er_feed_n_readers;

/* The row reading fmt, or NULL (ER_FORMAT_AUTO or unknown). */
const feed_reader *er_feed_reader_by_format(er_format fmt);
/* The row whose suffix ends the source name (URL query and ".gz" ignored), or NULL. */
const feed_reader *er_feed_reader_by_name(const char *source);
/* The row claiming p[0..n) (byte-order mark skipped here), else row 0. */
const feed_reader *er_feed_reader_sniff(const char *p, size_t n);

/* Where a record came from (its first line and raw bytes, for quarantine). */
static inline void er_feed_item_at(feed_item *it, uint64_t line, const char *raw, size_t raw_len)
{
    it->line = line;
    it->raw = raw;
    it->raw_len = raw_len;
}

/* The first byte of p[0..n) that is not a space, tab, CR or LF; n if none. */
static inline size_t er_feed_skip_space(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* Each row's functions, defined in its reader file (reader_<name>.c, named er_reader_<name>_<op>). */
bool      er_reader_csv_sniff(const char *p, size_t n);
er_status er_reader_csv_open(void **state, er_src *src, const feed_ctx *c, er_err *err);
er_status er_reader_csv_next(void *state, raw_rec *r, feed_item *it, er_err *err);
er_status er_reader_csv_cut(void *state, feed_chunk *c, size_t max_records, er_err *err);
er_status er_reader_csv_parse(const void *state, feed_chunk *c, raw_rec *r, feed_item *it, er_err *err);
void      er_reader_csv_counts(const void *state, uint64_t *bytes, uint64_t *blank_lines);
void      er_reader_csv_free(void *state);

bool      er_reader_jsonl_sniff(const char *p, size_t n);
er_status er_reader_jsonl_open(void **state, er_src *src, const feed_ctx *c, er_err *err);
er_status er_reader_jsonl_next(void *state, raw_rec *r, feed_item *it, er_err *err);
er_status er_reader_jsonl_cut(void *state, feed_chunk *c, size_t max_records, er_err *err);
er_status er_reader_jsonl_parse(const void *state, feed_chunk *c, raw_rec *r, feed_item *it, er_err *err);
void      er_reader_jsonl_counts(const void *state, uint64_t *bytes, uint64_t *blank_lines);
void      er_reader_jsonl_free(void *state);

#endif
