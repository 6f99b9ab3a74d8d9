/*
 * outbox.h — the durable alert outbox (docs/alerts.md), a Maildir-style spool:
 *   <dir>/tmp/      batches being written
 *   <dir>/pending/  batches fsynced and renamed in, waiting for delivery
 *   <dir>/sent/     delivered batches, with the receiver's receipt
 *   <dir>/dead/     batches the receiver rejected (4xx), with its response
 * A batch file is a JSON array of alerts, named by its content hash, written
 * to tmp/, fsynced, renamed into pending/, and the directory fsynced, before
 * any network call. Names are generated, never taken from input.
 *
 * File names: a batch is "<h>.json" where <h> is the lowercase hex SHA-256 of
 * the file's bytes (64 characters, also the push Idempotency-Key). Next to a
 * batch in sent/ lies "<h>.receipt.json", next to one in dead/ lies
 * "<h>.response.json" (status, reason, response body). Any name that does not
 * have exactly this shape is refused by every function below, so no name can
 * ever leave the outbox directory. Files in pending/ with other names are
 * never touched (listing counts them as foreign).
 *
 * Crash safety: every state change is "write to tmp/, fsync, rename, fsync
 * the directories". A batch is always whole in exactly one of pending/,
 * sent/ or dead/ (or, for the instant between the two renames of a move, its
 * receipt is already in sent/ while the batch is still pending: it will be
 * sent again, which the receiver deduplicates). Nothing is ever deleted except
 * a pending batch that has first been re-batched into smaller pending batches.
 *
 * Threads: an er_outbox is used by one thread at a time. Several processes
 * may put into the same outbox concurrently; one pushes at a time
 * (er_outbox_lock).
 *
 * Fault injection (for the test-suite, harmless in production): if the
 * environment variable ECORISK_FAULT_WRITE=N is set when the outbox is opened,
 * the N-th file-system write operation of this process in the outbox module
 * (open for writing, write, fsync, rename, mkdir, unlink) fails with ENOSPC; ECORISK_FAULT_ALLOC=N makes
 * the N-th allocation in the outbox and push modules fail.
 */
#ifndef ECORISK_OUTBOX_H
#define ECORISK_OUTBOX_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_outbox er_outbox;

/* Opens (creating if needed) the outbox at dir. */
er_status er_outbox_open(er_outbox **out, const char *dir, er_err *err);
void      er_outbox_free(er_outbox *o);

/* Spool one batch: alerts[i] are JSON object texts (one alert each). The
 * batch lands in pending/ durably before this returns ER_OK. If name_out is
 * non-NULL it receives the batch file name (borrowed until the next call).
 * Each text must parse as one JSON object (else ER_EPARSE naming its index;
 * nothing is written). n must be >= 1. Putting a batch whose identical copy
 * is already in pending/ or sent/ changes nothing and returns ER_OK. */
er_status er_outbox_put(er_outbox *o, const char *const *alerts, size_t n,
                        const char **name_out, er_err *err);

/* Spool n alerts as ceil(n / batch_max) batches of at most batch_max alerts
 * each (batch_max 0 = one batch), in order. On failure the batches already
 * put stay in pending/ (*n_put, may be NULL, tells how many alerts). */
er_status er_outbox_put_all(er_outbox *o, const char *const *alerts, size_t n,
                            size_t batch_max, size_t *n_put, er_err *err);

/* Spool an alerts.jsonl (path, or "-" for stdin) in batches of at most
 * batch_max (>= 1) alerts. Every line (blank lines skipped) must be a JSON
 * object with a non-empty string "alert_id": the whole file is checked
 * before anything is spooled, and a bad line spools nothing (ER_EPARSE
 * naming file:line). A file is read twice, never held in memory; stdin is
 * held. *n_alerts (may be NULL) counts the alerts in the file, *n_spooled
 * (may be NULL) those now durably pending, also on failure. ER_ENOTFOUND:
 * no such file; ER_EIO: read or outbox write failure; ER_ENOMEM. */
er_status er_outbox_enqueue_file(er_outbox *o, const char *path, size_t batch_max, size_t *n_alerts,
                                 size_t *n_spooled, er_err *err);

/* The directory the outbox was opened on (borrowed, lives as long as o). */
const char *er_outbox_dir(const er_outbox *o);

/* Lowercase hex SHA-256 of data into hex[65] (the batch naming hash).
 * ER_ENOMEM if the digest cannot be set up (libcrypto allocation). */
er_status er_outbox_hash(const void *data, size_t len, char hex[65], er_err *err);

/* True if name has the shape of a batch file name ("<64 hex>.json"). */
bool er_outbox_valid_name(const char *name);

/* ---- used by push (and by tests) ---- */

typedef enum er_outbox_state {
    ER_OUTBOX_PENDING = 0,
    ER_OUTBOX_SENT,
    ER_OUTBOX_DEAD
} er_outbox_state;

typedef struct er_outbox_entry {
    char     name[70];      /* "<64 hex>.json" */
    int64_t  mtime_ns;      /* modification time, for oldest-first order */
    uint64_t size;          /* bytes */
} er_outbox_entry;

typedef struct er_outbox_list {
    er_outbox_entry *e;     /* sorted oldest first (mtime, then name) */
    size_t           n;
    size_t           n_foreign; /* files whose names are not batch names (left alone) */
} er_outbox_list;

/* List the batches in one state directory. Free with er_outbox_list_free. */
er_status er_outbox_list_batches(er_outbox *o, er_outbox_state state, er_outbox_list *out,
                                 er_err *err);
void      er_outbox_list_free(er_outbox_list *l);   /* frees l->e, zeroes l; NULL ok */

/* Read a batch file. *buf (NUL-terminated, *len bytes) is the caller's to free().
 * ER_ENOTFOUND if it is not there (e.g. moved by a concurrent push). */
er_status er_outbox_read(er_outbox *o, er_outbox_state state, const char *name,
                         char **buf, size_t *len, er_err *err);

/* Move a pending batch to sent/ after a 2xx. receipt is a JSON text written
 * durably as sent/<h>.receipt.json BEFORE the batch is renamed. */
er_status er_outbox_mark_sent(er_outbox *o, const char *name, const char *receipt,
                              er_err *err);

/* Move a pending batch to dead/ with response (JSON text, dead/<h>.response.json). */
er_status er_outbox_mark_dead(er_outbox *o, const char *name, const char *response,
                              er_err *err);

/* Remove a pending batch (only after its alerts were re-put as other batches). */
er_status er_outbox_remove_pending(er_outbox *o, const char *name, er_err *err);

/* Set a pending batch's mtime (keeps re-batched chunks in their original order). */
er_status er_outbox_set_mtime(er_outbox *o, const char *name, int64_t mtime_ns, er_err *err);

/* Exclusive, non-blocking lock held until er_outbox_free (or process death):
 * ER_ELIMIT with a message if another process holds it. */
er_status er_outbox_lock(er_outbox *o, er_err *err);

/* Remove files in tmp/ last modified more than max_age_s seconds ago: writes
 * that crashed before their rename (never reported as spooled). *n_removed
 * (may be NULL) counts them. Call with the lock held (push does, with one day). */
er_status er_outbox_clean_tmp(er_outbox *o, long max_age_s, size_t *n_removed, er_err *err);

ER_END_DECLS
#endif
