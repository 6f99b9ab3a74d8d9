/*
 * push.h — delivery of the outbox (outbox.h) to a CEN-style HTTP endpoint
 * with libcurl (docs/alerts.md): each pending batch is POSTed as a JSON array
 * with an Idempotency-Key header (the batch hash), over one reused
 * connection; 2xx moves it to sent/ with a receipt, a rejecting 4xx to dead/
 * with the response; connection errors, timeouts, 408/409/425/429 and 5xx are
 * retried with exponential backoff and jitter (Retry-After honoured), a
 * bounded number of times, after which the batch simply stays pending.
 *
 * How the daily run spools and pushes (the whole API a caller needs):
 *
 *     er_outbox *ob = NULL;
 *     er_push_opts po;
 *     er_push_summary sum;
 *     char *token = NULL;
 *     st = er_outbox_open(&ob, outbox_dir, err);                   // creates dirs
 *     st = er_outbox_put_all(ob, alert_texts, n, 500, NULL, err);  // durable now
 *     st = er_push_token_load(&token, token_file_or_NULL, err);    // or ECORISK_TOKEN
 *     er_push_opts_init(&po);
 *     po.endpoint = url; po.token = token;   // + cacert, cert, key, non_nominal...
 *     st = er_push_run(ob, &po, &sum, err);  // ER_OK, ER_EPENDING, ...
 *     er_push_token_free(token);
 *     er_outbox_free(ob);
 *
 * er_push_run's status: ER_OK — nothing is left pending (delivered, or dead
 * when rejected: see sum.batches_dead); ER_EPENDING — the endpoint kept
 * failing transiently, the rest stays pending for the next push; ER_ENET — the
 * endpoint cannot be used as configured (TLS verification failed, bad URL,
 * certificate/key file unusable); ER_EHTTP — it answered 3xx/401/403/404/405/
 * 407 (wrong URL or credentials: nothing is moved to dead/ for that);
 * ER_EIO / ER_ENOMEM — the outbox could not record a result (the batch stays
 * pending and will be sent again; never counted as delivered); ER_ELIMIT —
 * another push holds the outbox lock; ER_EINVAL — bad options. Whatever the
 * status, *sum is filled and every alert is in pending/, sent/ or dead/.
 *
 * Order: batches are sent oldest first (file mtime, then name), alerts in a
 * batch in their order; after a stop, later batches wait. Delivery is
 * at-least-once (a lost response means a resend); receivers deduplicate by
 * alert_id and may use the Idempotency-Key.
 *
 * Re-batching (batch_max > 0): a pending batch holding more than batch_max
 * alerts is first split, inside the outbox, into pending batches of at most
 * batch_max alerts (each durable, named and keyed by its own content hash,
 * given the original's mtime so the order holds); the original is removed
 * only after all its chunks are durable. A crash in between leaves both, so
 * some alerts may be sent twice — never lost.
 *
 * Non-nominal (non_nominal = true): declaration.importer, .exporter and
 * .declarant are removed from the JSON that is sent; the outbox keeps the
 * complete alerts. The Idempotency-Key stays the batch hash.
 *
 * Secrets: the token is only ever put in the Authorization header. It is
 * never logged, never in an event, error message, receipt or outbox file.
 * libcurl verbose output is never enabled.
 *
 * The library does not print: pass on_event to observe progress.
 */
#ifndef ECORISK_PUSH_H
#define ECORISK_PUSH_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/outbox.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef enum er_push_event_kind {
    ER_PUSH_EV_DELIVERED,   /* 2xx, moved to sent/ */
    ER_PUSH_EV_RETRY,       /* attempt failed transiently; waiting delay_ms */
    ER_PUSH_EV_DEAD,        /* rejected (or unreadable): moved to dead/ */
    ER_PUSH_EV_REBATCHED,   /* split into chunks of batch_max (n_alerts = original size) */
    ER_PUSH_EV_GAVE_UP,     /* attempts exhausted or Retry-After too long: stays pending */
    ER_PUSH_EV_STOPPED      /* endpoint unusable (TLS, URL, 3xx/401/403/404/405/407) */
} er_push_event_kind;

typedef struct er_push_event {
    er_push_event_kind kind;
    const char *batch;      /* batch file name */
    size_t      n_alerts;
    int         attempt;    /* 1-based attempt number of this batch */
    long        http_status;/* 0 when no HTTP response was received */
    const char *detail;     /* one line: curl error or reason (never the token) */
    long        delay_ms;   /* RETRY: the wait before the next attempt */
} er_push_event;            /* every pointer borrowed for the callback only */

typedef struct er_push_opts {
    const char *endpoint;          /* destination: https:// URL (http:// only with insecure_http),
                                      "dir:PATH" / "file://PATH" (a batch is written durably as
                                      PATH/<batch name>), or "-" (stdout); docs/operations.md */
    const char *token;             /* bearer token text, or NULL (no Authorization) */
    const char *cacert;            /* CA bundle to verify the server, or NULL (system) */
    const char *cert, *key;        /* client certificate + key for mutual TLS, or NULL */
    bool        insecure_http;     /* allow plain http:// (loopback tests only) */
    bool        non_nominal;       /* strip importer / exporter / declarant */
    size_t      batch_max;         /* re-batch pending batches above this (0 = as stored) */
    long        connect_timeout_ms;/* default 10000 */
    long        max_time_ms;       /* whole request, default 60000 */
    int         max_attempts;      /* per batch and invocation, default 5 */
    long        backoff_base_ms;   /* first backoff, default 500 */
    long        backoff_max_ms;    /* backoff cap, default 30000 */
    long        retry_after_max_ms;/* longer Retry-After: stop, keep pending; default 120000 */
    void      (*on_event)(const er_push_event *ev, void *ud);
    void       *ud;
} er_push_opts;

typedef struct er_push_summary {
    size_t batches_delivered, alerts_delivered;   /* this invocation */
    size_t batches_dead, alerts_dead;             /* moved to dead/ by this invocation */
    size_t batches_pending, alerts_pending;       /* left in pending/ at the end */
    size_t requests;                              /* HTTP requests attempted, libcurl's resends included */
    size_t resends;                               /* of which libcurl resent on a closed reused connection */
    size_t retries;                               /* failed attempts followed by a retry */
    size_t rebatched;                             /* pending batches split by batch_max */
    size_t foreign;                               /* non-batch files found in pending/ */
} er_push_summary;

/* Defaults as documented in er_push_opts. */
void er_push_opts_init(er_push_opts *o);

/* Read the bearer token from file (trailing newline/space stripped), or when
 * file is NULL from the environment variable ECORISK_TOKEN; *token is NULL if
 * neither is set. A token must be 1..8192 visible ASCII characters. Free with
 * er_push_token_free (wipes it). Messages never quote the token. */
er_status er_push_token_load(char **token, const char *file, er_err *err);
void      er_push_token_free(char *token);

/* Push every pending batch (see the top of this file). Takes the outbox lock. */
er_status er_push_run(er_outbox *o, const er_push_opts *opts, er_push_summary *sum, er_err *err);

ER_END_DECLS
#endif
