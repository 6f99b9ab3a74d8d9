/*
 * quarantine.h — writing quarantine records (decl.h er_qrecord) as JSON
 * Lines, one object per line:
 *   {"file":"...","line":N,"seq":N,"reason":"...","field":"..."|null,
 *    "detail":"...","excerpt":"..."|null}
 * Every command that reads feeds writes its quarantine.jsonl through here.
 * Strings are escaped for JSON; bytes that are not valid UTF-8 (excerpts of
 * binary garbage, cut multi-byte sequences) become U+FFFD, so the output is
 * always valid UTF-8 JSON.
 */
#ifndef ECORISK_QUARANTINE_H
#define ECORISK_QUARANTINE_H

#include "ecorisk/api.h"
#include <stddef.h>
#include <stdio.h>
#include "ecorisk/decl.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

/* One record + '\n'. ER_EIO (message names errno) when the write fails. */
er_status er_quarantine_write(FILE *out, const er_qrecord *q, er_err *err);
/* All quarantine records of a batch, in feed order. */
er_status er_quarantine_write_batch(FILE *out, const er_batch *b, er_err *err);
/* A JSON string literal (with quotes) for s[0..len): escapes, U+FFFD for bad UTF-8. */
void er_quarantine_write_string(FILE *out, const char *s, size_t len);

ER_END_DECLS
#endif
