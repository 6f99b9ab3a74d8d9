/*
 * sink.h — the alert sink extension point (docs/architecture.md#alert-sinks).
 *
 * A sink is one row of er_sinks[] (sink.c): a name, which destinations it
 * claims, open (check the destination and the options, before any batch is
 * touched), deliver (one attempt at one batch), close. push.c owns
 * everything around it, the same for every sink: the outbox walk, re-batching,
 * non-nominal stripping, retries with backoff, receipts to sent/, rejections
 * to dead/, events and the summary. A sink never touches the outbox.
 * Private to libecorisk.
 */
#ifndef ECORISK_DELIVER_SINK_H
#define ECORISK_DELIVER_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include "ecorisk/push.h"

typedef enum er_sink_result {
    ER_SINK_OK,       /* delivered: the batch goes to sent/ with a receipt */
    ER_SINK_RETRY,    /* transient failure: retried with backoff, then stays pending */
    ER_SINK_REJECT,   /* the receiver refuses this batch for good: to dead/ */
    ER_SINK_STOP,     /* the destination is unusable as configured: stop, all stays pending */
    ER_SINK_FAIL      /* local failure (memory): stop, the batch stays pending */
} er_sink_result;

/* One batch to deliver; every pointer borrowed for the call. */
typedef struct er_sink_batch {
    const char *name;        /* "<64 hex>.json": also the idempotency key */
    const char *body;        /* the JSON array to deliver (stripped when non-nominal) */
    size_t      len;
    size_t      n_alerts;
} er_sink_batch;

/* What one attempt gave. The driver zeroes it before each call. */
typedef struct er_sink_reply {
    er_sink_result result;
    er_status   st;          /* STOP / FAIL: the status; the message is in err */
    long        status;      /* the receiver's status code (HTTP), 0 if none */
    char        detail[320]; /* one line for events: "HTTP 503", an error text */
    const char *body;        /* the receiver's response for receipts (borrowed until
                                the next call), or NULL */
    size_t      body_len;
    bool        has_retry_after;
    long        retry_after_ms;
    size_t      requests;    /* requests the receiver may have seen (0 for files) */
    size_t      resends;     /* of which resent by the transport */
} er_sink_reply;

typedef struct er_sink {
    const char *name;                       /* "http", "dir", "stdout" */
    bool      (*claims)(const char *dest);  /* rows are asked in table order */
    /* Check dest and the options; *state is the sink's. public_name (cap
     * bytes) receives the destination as receipts name it (no credentials). */
    er_status (*open)(void **state, const char *dest, const er_push_opts *o, char *public_name,
                      size_t cap, er_err *err);
    void      (*deliver)(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err);
    void      (*close)(void *state);        /* NULL-safe */
} er_sink;

extern const er_sink er_sinks[];
extern const size_t  er_n_sinks;

/* The row claiming dest, or NULL. */
const er_sink *er_sink_for(const char *dest);

/* The rows' functions, each in its sink_<name>.c. */
bool      er_sink_http_claims(const char *dest);
er_status er_sink_http_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                            er_err *err);
void      er_sink_http_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err);
void      er_sink_http_close(void *state);

bool      er_sink_dir_claims(const char *dest);
er_status er_sink_dir_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                           er_err *err);
void      er_sink_dir_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err);
void      er_sink_dir_close(void *state);

bool      er_sink_stdout_claims(const char *dest);
er_status er_sink_stdout_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                              er_err *err);
void      er_sink_stdout_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err);
void      er_sink_stdout_close(void *state);

#endif
