/*
 * feed.h — streaming feed readers: CSV (RFC 4180) and JSON Lines, plain or
 * gzip, from a file, stdin ("-") or a URL (https://, sftp://, and http:// for
 * loopback tests) fetched with libcurl, through a column mapping into
 * er_decl records, with validation and quarantine (docs/feeds.md).
 *
 * Streaming: the reader holds one input buffer and fills one er_batch at a
 * time, so memory is flat whatever the feed size. Every record read ends up
 * either in batch->decls or in batch->quarantined; er_feed_stats reconciles
 * rows_read == accepted + quarantined at any point.
 *
 * Whole-feed problems (unreadable file, unknown mapping, missing required
 * column, broken gzip stream) are returned as errors from er_feed_open or
 * er_feed_next; a bad record never is.
 */
#ifndef ECORISK_FEED_H
#define ECORISK_FEED_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stdint.h>
#include "ecorisk/decl.h"
#include "ecorisk/refdata.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_mapping er_mapping;
typedef struct er_feed er_feed;

typedef enum er_format { ER_FORMAT_AUTO = 0, ER_FORMAT_CSV, ER_FORMAT_JSONL } er_format;

/* Format names come from the feed reader table (docs/architecture.md#feed-readers):
 * er_format_name gives "auto" or the reader's name ("csv", "jsonl"), a static
 * string, or NULL for a value no reader has; er_format_from_name is its inverse
 * ("auto" included) and returns false for a name no reader has;
 * er_format_list writes the readers' names ("csv, jsonl") into buf (always
 * NUL-terminated; truncated to n) for messages. */
const char *er_format_name(er_format f);
bool        er_format_from_name(const char *name, er_format *out);
void        er_format_list(char *buf, size_t n);

/* Load a mapping by file path, or by built-in name ("canonical-csv",
 * "canonical-jsonl", "kcs-customs", ...) searched in feeds/mappings/. */
er_status er_mapping_load(er_mapping **out, const char *name_or_path, er_err *err);
void      er_mapping_free(er_mapping *m);
const char *er_mapping_name(const er_mapping *m);     /* borrowed, lives with m */
/* SHA-256 (hex) of the mapping file as read; "" for the built-in canonical
 * mappings. Borrowed, lives with m. */
const char *er_mapping_sha256(const er_mapping *m);
er_format   er_mapping_format(const er_mapping *m);

typedef struct er_feed_opts {
    const char        *source;       /* path, "-" or URL */
    const er_mapping  *mapping;      /* borrowed for the feed's lifetime; NULL = by format */
    const er_refdata  *ref;          /* borrowed; required */
    er_format          format;       /* AUTO: from mapping, else extension, else sniff */
    int32_t            since, until; /* inclusive date filter in days; 0 = none */
    const char        *label_field;  /* keep this column even if mapped away (backtest) */
    const char        *cacert;       /* for https sources; NULL = system store */
    long               max_time_s;   /* total fetch timeout for URLs; 0 = none */
    /* Called (from er_feed_open) for problems that do not stop the feed, e.g. an
     * optional mapped column missing from the header; NULL: not reported. */
    void             (*warn)(void *ud, const char *msg);
    void              *warn_ud;
} er_feed_opts;

typedef struct er_feed_stats {
    uint64_t rows_read;              /* records seen (header excluded) */
    uint64_t accepted;
    uint64_t quarantined;
    uint64_t by_reason[ER_Q_COUNT];
    uint64_t bytes_read;             /* decompressed bytes */
    int32_t  min_date, max_date;     /* over accepted records; 0 when none */
    uint64_t blank_lines;            /* empty lines skipped (not records) */
    uint64_t dup_window_resets;      /* duplicate-id table restarts (see docs/feeds.md) */
} er_feed_stats;

er_status er_feed_open(er_feed **out, const er_feed_opts *opts, er_err *err);
void      er_feed_free(er_feed *f);
/* Reset b and fill it with up to b->cap accepted declarations (and the
 * quarantine records met on the way). Returns ER_OK with b->n + b->n_q > 0,
 * ER_EOF when nothing is left (b empty), or an error for a whole-feed problem. */
er_status er_feed_next(er_feed *f, er_batch *b, er_err *err);
const er_feed_stats *er_feed_stats_get(const er_feed *f);   /* borrowed, lives with f */
const char *er_feed_name(const er_feed *f);                  /* as given in opts->source */
/* The format in use (CSV or JSONL, after auto-detection) and the mapping's name. */
er_format   er_feed_format(const er_feed *f);
const char *er_feed_mapping_name(const er_feed *f);
/* Raw (possibly compressed) bytes consumed and the file size when known (0 if not),
 * for progress reporting. */
uint64_t    er_feed_raw_bytes(const er_feed *f);
uint64_t    er_feed_size(const er_feed *f);

/* The same records as er_feed_next in three steps, so that parsing and
 * validation run on many threads while the outputs stay those of
 * er_feed_next (docs/feeds.md, "Reading on several threads"):
 *   er_feed_cut    (the thread reading f, in feed order) takes the next up to
 *                  max_records whole records into chunk c without splitting
 *                  them; ER_EOF when none is left;
 *   er_feed_parse  (any thread; f only read) splits, maps and validates c into
 *                  b (reset first): declarations and quarantine records, in
 *                  feed order, ids not yet checked;
 *   er_feed_settle (one thread at a time, chunks in the order they were cut)
 *                  checks b's ids against the feed's earlier ones, moving
 *                  duplicates to b's quarantine records (kept in feed order),
 *                  and adds c's counts to f's statistics.
 * Every format reads this way. A chunk is reused from cut to cut (er_feed_chunk_new / _free); f must outlive the
 * chunks cut from it until they are settled, and b's views into c stay valid
 * until c is cut again. max_records is at most b->cap. */
typedef struct er_feed_chunk er_feed_chunk;
er_status er_feed_chunk_new(er_feed_chunk **out, er_err *err);
void      er_feed_chunk_free(er_feed_chunk *c);   /* NULL: no-op */
er_status er_feed_cut(er_feed *f, er_feed_chunk *c, size_t max_records, er_err *err);
er_status er_feed_parse(const er_feed *f, er_feed_chunk *c, er_batch *b, er_err *err);
er_status er_feed_settle(er_feed *f, er_feed_chunk *c, er_batch *b, er_err *err);

/* Exact duplicate-id detection covers this many accepted ids; past it the
 * table restarts (stats.dup_window_resets) so memory stays bounded (32 MiB). */
#define ER_FEED_DUP_EXACT (3u << 20)


ER_END_DECLS
#endif
