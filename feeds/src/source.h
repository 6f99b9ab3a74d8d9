/*
 * source.h — the byte source under every feed reader (private to feeds/src).
 *
 * A source is a file, stdin ("-"), or a URL (http://, https://, sftp://)
 * pulled through the libcurl multi interface, so the feed is streamed and
 * never loaded whole. Gzip is detected by its magic bytes (1f 8b) and
 * inflated transparently (concatenated members too).
 *
 * On top of a source, an rbuf is the one read buffer the CSV and JSONL
 * readers scan: bytes [pos, end) are unread; rbuf_fill compacts and reads
 * more. The buffer has 64 bytes of zeroed slack after `cap` so vector code
 * may over-read.
 */
#ifndef ER_FEEDS_SOURCE_H
#define ER_FEEDS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ecorisk/status.h"

typedef struct er_src er_src;

typedef struct src_opts {
    const char *cacert;     /* CA bundle for https; NULL = system store */
    long        max_time_s; /* total timeout for URLs; 0 = none */
} src_opts;

/* Opens the source and reads its first bytes (so a missing file, refused
 * connection or HTTP error is reported here). ER_ENOTFOUND for a missing
 * file, ER_EIO for an unreadable one, ER_ENET / ER_EHTTP for URLs. */
er_status src_open(er_src **out, const char *source, const src_opts *o, er_err *err);
void      src_free(er_src *s);
/* Reads up to cap decompressed bytes; *n == 0 means end of input. */
er_status src_read(er_src *s, char *buf, size_t cap, size_t *n, er_err *err);
/* Reads up to cap decompressed bytes without consuming them (sniffing): the
 * next src_read calls return them first. Call at most once, before reading. */
er_status src_peek(er_src *s, char *buf, size_t cap, size_t *n, er_err *err);
/* From now on every byte a equals b and b a in what src_read returns: a CSV
 * with another delimiter is read by the comma tokenizer as if comma-separated,
 * and the feed swaps the bytes back in each field (feed.c, unswap_fields). */
void      src_swap(er_src *s, char a, char b);
bool      src_is_gzip(const er_src *s);
bool      src_is_url(const char *source);
/* Compressed / raw bytes consumed so far (for progress against file size). */
uint64_t  src_raw_bytes(const er_src *s);
/* File size in bytes when known (regular files), else 0. */
uint64_t  src_size(const er_src *s);
/* Bytes the source will probably give, for sizing tables: the file size, or
 * for a gzip file the larger of it and the last member's recorded length
 * (the whole inflated size of a single-member file under 4 GiB); 0 unknown. */
uint64_t  src_size_hint(const er_src *s);
/* Lending (gzip inflated on its own thread): the next inflated chunk handed
 * over in place instead of copied, with the caller's k unread bytes at tail
 * (k <= SRC_LEND_TAIL) copied in front of it. While a chunk is lent the
 * thread does not refill it; src_lend with held releases the one lent
 * before (after the copy: tail may point into it), src_unlend releases it
 * without taking another. *n = 0 at the end of input (nothing released). */
#define SRC_LEND_TAIL (64u * 1024u)
bool      src_lends(const er_src *s);
er_status src_lend(er_src *s, bool held, const char *tail, size_t k, char **buf, size_t *n, er_err *err);
void      src_unlend(er_src *s);

#define RBUF_SLACK 64

typedef struct rbuf {
    er_src  *src;      /* borrowed */
    char    *buf;
    size_t   cap;      /* usable bytes now (slack follows); grows up to max */
    size_t   max;      /* largest cap: the longest record a reader accepts, plus read-ahead */
    size_t   pos, end;
    bool     eof;
    uint64_t consumed; /* bytes before buf[0] (absolute offset of buf[0]) */
    bool     lent;     /* buf is a chunk lent by the source (src_lend); own waits */
    char    *own;      /* the rbuf's own buffer while lent */
    size_t   own_cap;
} rbuf;

er_status rbuf_init(rbuf *r, er_src *src, size_t cap, er_err *err);
void      rbuf_free(rbuf *r);
/* Moves [pos,end) to the front and reads more. Returns ER_OK having read
 * at least one byte, or ER_OK with r->eof set when the source is done (or
 * when the buffer is already full: check end - pos == cap). */
er_status rbuf_fill(rbuf *r, er_err *err);
/* The next line, reading more as needed: ER_OK with *s at its first byte and
 * *nl at its '\n' (NULL when the input ends without one); ER_ELIMIT, with
 * *s set and err untouched, when more than max bytes come without a '\n'
 * (the caller reports the line and skips it); ER_EOF at the end. Nothing is
 * consumed: the caller moves r->pos. */
static inline er_status rbuf_line(rbuf *r, size_t max, const char **s, const char **nl,
                                  er_err *err)
{
    for (;;) {
        const char *p = r->buf + r->pos, *e = r->buf + r->end;
        if (p < e) {
            const char *n = memchr(p, '\n', (size_t)(e - p));
            if (n || r->eof) {
                *s = p;
                *nl = n;
                return ER_OK;
            }
            if ((size_t)(e - p) > max) {
                *s = p;
                *nl = NULL;
                return ER_ELIMIT;
            }
        } else if (r->eof) {
            return ER_EOF;
        }
        er_status st = rbuf_fill(r, err);
        if (st != ER_OK)
            return st;
    }
}
/* At the start of a stream: skip a UTF-8 byte-order mark if there is one. */
er_status rbuf_skip_bom(rbuf *r, er_err *err);
/* Discard through the next '\n' (streaming, whatever the line's length);
 * adds 1 to *line when one was found (none at the end of input). */
er_status rbuf_skip_line(rbuf *r, uint64_t *line, er_err *err);
/* Before a line reader's next record: the byte-order mark at the start
 * (once: *started), then the rest of a line left by an error (*skip_nl). */
er_status rbuf_begin(rbuf *r, bool *started, bool *skip_nl, uint64_t *line, er_err *err);

/* ---- cuts: whole records copied out of an rbuf (docs/feeds.md, "Reading on
 * several threads") ----
 * A reader's cut function, on the reading thread, copies the next whole
 * records from its rbuf into an rcut without parsing them; a record the
 * reader had to parse to find its end and turned into an error is kept
 * resolved instead (its bytes are not copied). The reader's parser, reset
 * onto the cut (rbuf_mem) on any thread, then reads the same records. */
#define RCUT_RAW_MAX 256   /* bytes of an error record's excerpt kept */

typedef struct rcut_bad {
    size_t   at;             /* offset in buf where the record stood */
    int      kind;           /* the reader's error code */
    uint64_t line, err_line; /* where it started, where the error was seen */
    uint64_t resume_line;    /* line of the byte at `at` after it */
    size_t   msg_off;        /* its message, NUL-terminated, in xbuf */
    size_t   raw_off, raw_len;   /* its excerpt in xbuf */
} rcut_bad;

typedef struct rcut {
    char     *buf;           /* the records' bytes, RBUF_SLACK zeroed bytes after len */
    size_t    len, cap;
    uint64_t  line0;         /* line of buf[0] */
    size_t    n_rec;         /* records (error records included) */
    rcut_bad *bad;
    size_t    n_bad, cap_bad;
    char     *xbuf;          /* messages and excerpts of the error records */
    size_t    xlen, xcap;
} rcut;

/* Empty o (its buffers kept) for a cut starting at line line0. */
void rcut_reset(rcut *o, uint64_t line0);
/* n bytes to the end of o's buffer. false: out of memory. */
bool rcut_put(rcut *o, const char *p, size_t n);
/* An error record at the current end of the buffer (resume_line to be set by
 * the caller once the reader has skipped past it). false: out of memory. */
bool rcut_add_bad(rcut *o, int kind, const char *msg, uint64_t line, uint64_t err_line, const char *raw,
                  size_t raw_len);
/* The cut complete: its slack zeroed. false: out of memory. */
bool rcut_finish(rcut *o);
void rcut_free(rcut *o);   /* its buffers; o itself is the caller's */
/* r reads o's bytes (borrowed until r is reset; fields are split in place). */
void rbuf_mem(rbuf *r, rcut *o);
/* Reading a cut (o may be NULL: a stream): the error record the cutter kept
 * at offset pos, next in turn (*i, advanced), or NULL. */
static inline const rcut_bad *rcut_bad_at(const rcut *o, size_t *i, size_t pos)
{
    return o && *i < o->n_bad && o->bad[*i].at == pos ? &o->bad[(*i)++] : NULL;
}

/* A line reader (CSV, JSONL) as the cutter sees it: its buffer and counters
 * (borrowed), and what only the reader knows. */
typedef struct rcut_reader {
    rbuf     *r;
    uint64_t *line, *blank;
    bool     *started, *skip_nl;
    size_t    max_record;
    /* Whether the whole line [p, le) is one record as it stands (le: its
     * '\n' or the end of the input); then the parser needs nothing after it. */
    bool    (*whole)(const char *p, const char *le);
    /* Optional: whole lines taken in bulk from r->pos, counting blank lines
     * and lines, records into *n_rec up to max. */
    void    (*bulk)(void *rd, size_t *n_rec, size_t max);
    /* The reader's parser on the record at r->pos: ER_OK with *start at its
     * first byte when it is accepted as a record, or with *start NULL once its
     * error record is added to o (rcut_add_bad); ER_EOF at the end. */
    er_status (*record)(void *rd, rcut *o, const char **start, er_err *err);
    void     *rd;
} rcut_reader;

/* The next up to max_records records (and about max_bytes) into o: blank
 * lines and whole lines copied as they stand, any other record through the
 * reader's parser. ER_EOF when no record is left. */
er_status rcut_next(const rcut_reader *rr, rcut *o, size_t max_records, size_t max_bytes, er_err *err);

#endif
