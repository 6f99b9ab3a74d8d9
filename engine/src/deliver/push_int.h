/*
 * push_int.h — the parts of push.c that are not API but are tested on their
 * own (tests/unit/test_push.c, tests/fuzz/fuzz_push.c): how an HTTP status is
 * classified, Retry-After parsing, backoff, and the body of a stored batch.
 * Private to libecorisk (hidden in the shared library).
 */
#ifndef ECORISK_PUSH_INT_H
#define ECORISK_PUSH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/push.h"

typedef enum er_push_class {
    ER_PUSH_OK,        /* 2xx: delivered */
    ER_PUSH_RETRY,     /* 408 409 425 429 5xx 1xx, unknown: retry later */
    ER_PUSH_REJECT,    /* other 4xx: to dead/ */
    ER_PUSH_STOP       /* 3xx 401 403 404 405 407: configuration problem, keep pending */
} er_push_class;
er_push_class er_push_classify(long http_status);

/* Retry-After value (delta-seconds or an HTTP date) → milliseconds from now
 * (now in Unix seconds; a past date gives 0). ER_EPARSE if neither. */
er_status er_push_parse_retry_after(const char *value, int64_t now, long *delay_ms);

/* Backoff before attempt+1 after `attempt` failures (1-based): base * 2^(attempt-1)
 * capped at max_ms, then jittered to [d/2, d] by u in [0,1). */
long er_push_backoff_ms(long base_ms, long max_ms, int attempt, double u);

/* The body sent for a stored batch: in non-nominal mode a copy of the JSON
 * array without declaration.importer/exporter/declarant, else the batch
 * unchanged. *n_alerts is the array length. *out is the caller's to free().
 * ER_EFORMAT if batch is not a non-empty JSON array of objects. */
er_status er_push_body(const char *batch, size_t len, bool non_nominal, char **out,
                       size_t *out_len, size_t *n_alerts, er_err *err);

/* Count the alerts of a stored batch without building it (structure only:
 * '[' object (',' object)* ']'). false if the text does not have that shape. */
bool er_push_scan_batch(const char *s, size_t len, size_t *n_alerts);

/* malloc that the allocation fault hook can fail (outbox.h), and wiping
 * memory that held a secret, shared by push.c and the sinks. */
void *er_push_xmalloc(size_t n);
void  er_push_wipe(void *p, size_t n);

#endif
