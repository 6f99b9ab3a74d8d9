/*
 * csv.h — streaming RFC 4180 CSV tokenizer (private to feeds/src).
 *
 * Splits a byte source into records of fields without copying in the common
 * case: a line whose quoted fields hold no doubled quote is split in place
 * (SSE2 bitmaps of commas and quotes); a record with "" escapes or a field
 * spanning lines goes through a small state machine that unescapes "" into a
 * scratch buffer. Field views are valid until the next csv_next call.
 * Handles CRLF or LF, a UTF-8 byte-order mark, and a last line without a
 * newline. Empty lines are skipped (counted in blank_lines).
 *
 * Errors inside one record never stop the stream: the record comes back with
 * err set and the reader resynchronises (after the newline following the
 * error; for a quote left open, at the line after the record's first line).
 */
#ifndef ER_FEEDS_CSV_H
#define ER_FEEDS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include "source.h"

typedef struct csv_field {
    const char *p;
    uint32_t    len;
} csv_field;

typedef enum csv_rerr { CSV_OK = 0, CSV_ESYNTAX, CSV_ETOOLONG } csv_rerr;

typedef struct csv_rec {
    const csv_field *f;
    size_t           n;          /* fields */
    uint64_t         line;       /* 1-based line of the record's first byte */
    const char      *raw;        /* start of the raw record (for excerpts) */
    size_t           raw_len;    /* its bytes without the final line end (may be cut
                                    for errors) */
    bool             ascii;      /* every byte of the record is ASCII and none is NUL
                                    (known for lines split in place; false for
                                    records from the state machine) */
    bool             trimmed;    /* no field starts or ends with a byte <= ' '
                                    (known for lines split through bitmaps;
                                    false otherwise) */
    csv_rerr         err;
    const char      *errmsg;     /* static text when err != CSV_OK */
    uint64_t         err_line;   /* line where the error was seen */
} csv_rec;

typedef struct er_csv er_csv;

/* Reading in two steps (source.h, "cuts"): csv_cut_next copies whole records
 * without splitting them — a line with an even number of quotes is one record
 * whatever it holds, so only the rare line with an odd number goes through the
 * parser to find where its record ends. csv_next on a parser reset onto the
 * cut (csv_mem_reset), on any thread, gives exactly the records csv_next
 * would have given on the stream. */

/* src is borrowed for the reader's lifetime; max_record bounds one record. */
er_status csv_open(er_csv **out, er_src *src, size_t max_record, er_err *err);
void      csv_free(er_csv *c);
/* ER_OK with *rec filled, ER_EOF at end, or an error from the source. */
er_status csv_next(er_csv *c, csv_rec *rec, er_err *err);
uint64_t  csv_blank_lines(const er_csv *c);
uint64_t  csv_bytes(const er_csv *c);   /* bytes consumed so far */
/* Tests and fuzzing: every record through the state machine, as the
 * reference the in-place splitter must agree with (ascii aside). */
void      csv_state_machine_only(er_csv *c);

/* The next up to max_records records (and up to about max_bytes) of c's stream
 * into o, which is reused (its buffers kept). ER_EOF when none is left. Blank
 * lines and bytes are counted on c as csv_next would. */
er_status csv_cut_next(er_csv *c, rcut *o, size_t max_records, size_t max_bytes, er_err *err);
/* A parser of cuts, with like's record limit and mode; csv_mem_free frees it. */
er_status csv_mem_open(er_csv **out, const er_csv *like, er_err *err);
/* Parse o from its start with csv_next: o is borrowed (and its bytes written:
 * fields are split in place) until the next reset. */
void      csv_mem_reset(er_csv *c, rcut *o);
void      csv_mem_free(er_csv *c);

#endif
