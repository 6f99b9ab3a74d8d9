/*
 * outbox.h — the durable alert outbox (DESIGN.md §6), a Maildir-style spool:
 *   <dir>/tmp/      batches being written
 *   <dir>/pending/  batches fsynced and renamed in, waiting for delivery
 *   <dir>/sent/     delivered batches, with the receiver's receipt
 *   <dir>/dead/     batches the receiver rejected (4xx), with its response
 * A batch file is a JSON array of alerts, named by its content hash, written
 * to tmp/, fsynced, renamed into pending/, and the directory fsynced, before
 * any network call. Names are generated, never taken from input.
 */
#ifndef ECORISK_OUTBOX_H
#define ECORISK_OUTBOX_H

#include <stddef.h>
#include "ecorisk/status.h"

typedef struct er_outbox er_outbox;

/* Opens (creating if needed) the outbox at dir. */
er_status er_outbox_open(er_outbox **out, const char *dir, er_err *err);
void      er_outbox_free(er_outbox *o);

/* Spool one batch: alerts[i] are JSON object texts (one alert each). The
 * batch lands in pending/ durably before this returns ER_OK. If name_out is
 * non-NULL it receives the batch file name (borrowed until the next call). */
er_status er_outbox_put(er_outbox *o, const char *const *alerts, size_t n,
                        const char **name_out, er_err *err);

#endif
