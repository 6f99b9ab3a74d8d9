/*
 * jsonl.h — streaming JSON Lines reader (private to feeds/src): one JSON
 * object per line, checked strictly against RFC 8259 (er_json_check) and
 * parsed with json-c's json_tokener. A bad line comes back with an error
 * naming its line and column; the stream goes on.
 */
#ifndef ER_FEEDS_JSONL_H
#define ER_FEEDS_JSONL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "source.h"

typedef enum jsonl_rerr { JL_OK = 0, JL_SYNTAX, JL_TOOLONG, JL_NOTOBJECT } jsonl_rerr;

typedef struct jsonl_rec {
    uint64_t     line;
    const char  *raw;        /* the line (valid until the next call) */
    size_t       raw_len;
    json_object *obj;        /* owned by the reader, valid until the next call */
    jsonl_rerr   err;
    char         errmsg[200];
} jsonl_rec;

typedef struct er_jsonl er_jsonl;

er_status jsonl_open(er_jsonl **out, er_src *src, size_t max_record, er_err *err);
void      jsonl_free(er_jsonl *j);
er_status jsonl_next(er_jsonl *j, jsonl_rec *rec, er_err *err);   /* ER_EOF at end */
uint64_t  jsonl_blank_lines(const er_jsonl *j);
uint64_t  jsonl_bytes(const er_jsonl *j);

/* Reading in two steps (source.h, "cuts"): jsonl_cut_next copies the next up
 * to max_records lines (and about max_bytes) as they stand, a line over the
 * record limit kept as its error record; jsonl_next on a reader reset onto the
 * cut (jsonl_mem_reset), on any thread, gives what it would have given on
 * the stream. ER_EOF when no record is left. */
er_status jsonl_cut_next(er_jsonl *j, rcut *o, size_t max_records, size_t max_bytes, er_err *err);
er_status jsonl_mem_open(er_jsonl **out, const er_jsonl *like, er_err *err);   /* like's limit */
void      jsonl_mem_reset(er_jsonl *j, rcut *o);   /* o borrowed until the next reset */
void      jsonl_mem_free(er_jsonl *j);

/* Strict RFC 8259 check of one JSON text p[0..n) (whitespace around the value
 * allowed). false: *off is the byte offset of the error, *msg says what. */
bool er_json_check(const char *p, size_t n, size_t *off, const char **msg);

#endif
