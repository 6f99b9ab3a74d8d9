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

#define RBUF_SLACK 64

typedef struct rbuf {
    er_src  *src;      /* borrowed */
    char    *buf;
    size_t   cap;      /* usable bytes now (slack follows); grows up to max */
    size_t   max;      /* largest cap: the longest record a reader accepts, plus read-ahead */
    size_t   pos, end;
    bool     eof;
    uint64_t consumed; /* bytes before buf[0] (absolute offset of buf[0]) */
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

#endif
