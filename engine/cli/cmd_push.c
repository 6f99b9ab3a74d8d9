/*
 * cmd_push.c — `ecorisk push`: spool alerts.jsonl into the outbox
 * (--enqueue) and/or deliver the outbox to a CEN-style endpoint (push.h).
 * Parses options, reads the token file, logs events and prints a summary;
 * all delivery logic lives in engine/src/deliver/ (push.c, outbox.c).
 *
 * Exit status: 0 nothing left pending and nothing rejected; 1 nothing left
 * pending but some batches were rejected into dead/ by this push; 75 alerts
 * left pending (endpoint down or failing: run again later; also when another
 * push holds the outbox); 69 endpoint unusable as configured (TLS
 * verification, URL, 401/403/404, redirects) with alerts pending; 65 an
 * --enqueue line is not an alert (nothing from that file is spooled);
 * 64 usage; 66 input missing; 71/74 memory / outbox I/O failure.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ecorisk/outbox.h"
#include "ecorisk/push.h"

static const cli_opt push_opts[] = {
    {"outbox", 'o', CLI_STR, NULL, "DIR", "outbox directory (pending/, sent/, dead/); created if missing"},
    {"endpoint", 'e', CLI_STR, NULL, "DEST", "where batches go: https:// URL (CEN-style endpoint), dir:PATH or file://PATH (a hand-over directory), - (stdout)"},
    {"enqueue", 0, CLI_LIST, NULL, "FILE", "spool the alerts of this alerts.jsonl (- = stdin) first"},
    {"no-send", 0, CLI_FLAG, NULL, NULL, "only spool (--enqueue); do not contact the endpoint"},
};

/* How alerts are batched and delivered: push's, and run's with --push. */
const cli_opt cli_delivery_opts[CLI_N_DELIVERY_OPTS] = {
    {"token-file", 0, CLI_STR, NULL, "FILE", "file holding the bearer token (else env ECORISK_TOKEN)"},
    {"cacert", 0, CLI_STR, NULL, "FILE", "CA certificate(s) to verify the endpoint (PEM)"},
    {"cert", 0, CLI_STR, NULL, "FILE", "client certificate for mutual TLS (PEM)"},
    {"key", 0, CLI_STR, NULL, "FILE", "client private key for mutual TLS (PEM)"},
    {"batch", 0, CLI_INT, "500", "N", "alerts per batch when spooling; larger pending batches are split"},
    {"max-time", 0, CLI_DOUBLE, "60", "S", "total time limit per HTTP request, seconds"},
    {"connect-timeout", 0, CLI_DOUBLE, "10", "S", "connection time limit, seconds"},
    {"retries", 0, CLI_INT, "4", "N", "retries per batch after the first attempt, then it stays pending"},
    {"backoff", 0, CLI_DOUBLE, "0.5", "S", "first backoff delay, doubled per retry with jitter"},
    {"backoff-max", 0, CLI_DOUBLE, "30", "S", "backoff cap, seconds"},
    {"retry-after-max", 0, CLI_DOUBLE, "120", "S", "longer Retry-After: stop and keep pending"},
    {"insecure-http", 0, CLI_FLAG, NULL, NULL, "allow plain http:// endpoints (loopback tests only)"},
    {"non-nominal", 0, CLI_FLAG, NULL, NULL, "strip importer/exporter/declarant from what is sent"},
};

/* --enqueue: the library checks and spools (er_outbox_enqueue_file); this prints. */
static int enqueue(er_outbox *ob, const char *path, size_t batch)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    size_t n = 0, spooled = 0;
    er_err err;
    er_status st = er_outbox_enqueue_file(ob, path, batch, &n, &spooled, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    if (n == 0)
        cli_info("%s: no alerts to spool", name);
    else
        cli_info("%s: %zu alerts spooled into %s/pending in batches of at most %zu", name, n, er_outbox_dir(ob),
                 batch);
    return EX_OK_;
}

/* ---- events and summary ---- */

static void on_event(const er_push_event *ev, void *ud)
{
    (void)ud;
    switch (ev->kind) {
    case ER_PUSH_EV_DELIVERED:
        cli_debug("batch %.16s: %zu alerts delivered (%s, attempt %d)", ev->batch, ev->n_alerts, ev->detail,
                  ev->attempt);
        break;
    case ER_PUSH_EV_RETRY:
        cli_warn("batch %.16s: attempt %d failed (%s); retrying in %.1f s", ev->batch, ev->attempt, ev->detail,
                 (double)ev->delay_ms / 1000.0);
        break;
    case ER_PUSH_EV_DEAD:
        cli_warn("batch %.16s: %zu alerts moved to dead/: %s (HTTP %ld)", ev->batch, ev->n_alerts, ev->detail,
                 ev->http_status);
        break;
    case ER_PUSH_EV_REBATCHED:
        cli_info("batch %.16s: %zu alerts re-batched into smaller batches", ev->batch, ev->n_alerts);
        break;
    case ER_PUSH_EV_GAVE_UP:
        cli_warn("batch %.16s: giving up for now: %s", ev->batch, ev->detail);
        break;
    case ER_PUSH_EV_STOPPED:
        cli_error("batch %.16s: endpoint refused: %s", ev->batch, ev->detail);
        break;
    }
}

static long secs_to_ms(double s)
{
    if (s <= 0)
        return 0;
    if (s > 86400.0 * 7)
        s = 86400.0 * 7;
    return (long)(s * 1000.0 + 0.5);
}

/* The delivery options of a (push's names) into *po, checked. EX_OK_ or EX_USAGE_. */
static int delivery_opts(const cli_args *a, const char *cmd, const char *dest, er_push_opts *po)
{
    long batch = cli_int(a, "batch");
    long retries = cli_int(a, "retries");
    if (batch < 1 || batch > 1000000) {
        cli_error("%s: --batch expects 1..1000000, got %ld", cmd, batch);
        return EX_USAGE_;
    }
    if (retries < 0 || retries > 100) {
        cli_error("%s: --retries expects 0..100, got %ld", cmd, retries);
        return EX_USAGE_;
    }
    if (cli_given(a, "cert") != cli_given(a, "key")) {
        cli_error("%s: mutual TLS needs both --cert and --key", cmd);
        return EX_USAGE_;
    }
    er_push_opts_init(po);
    po->endpoint = dest;
    po->cacert = cli_str(a, "cacert");
    po->cert = cli_str(a, "cert");
    po->key = cli_str(a, "key");
    po->insecure_http = cli_flag(a, "insecure-http");
    po->non_nominal = cli_flag(a, "non-nominal");
    po->batch_max = (size_t)batch;
    po->max_time_ms = secs_to_ms(cli_double(a, "max-time"));
    po->connect_timeout_ms = secs_to_ms(cli_double(a, "connect-timeout"));
    po->max_attempts = (int)retries + 1;
    po->backoff_base_ms = secs_to_ms(cli_double(a, "backoff"));
    po->backoff_max_ms = secs_to_ms(cli_double(a, "backoff-max"));
    po->retry_after_max_ms = secs_to_ms(cli_double(a, "retry-after-max"));
    po->on_event = on_event;
    if (po->max_time_ms < 1 || po->connect_timeout_ms < 1) {
        cli_error("%s: --max-time and --connect-timeout must be positive", cmd);
        return EX_USAGE_;
    }
    return EX_OK_;
}

/* The summary (JSON on stdout, or on stderr when the batches go to stdout)
 * and the exit status of a push. */
static int report(er_status st, const er_push_summary *sum, const er_err *err, const char *dir,
                  const char *dest)
{
    fprintf(strcmp(dest, "-") == 0 ? stderr : stdout,
            "{\"delivered_batches\":%zu,\"delivered_alerts\":%zu,\"dead_batches\":%zu,\"dead_alerts\":%zu,"
            "\"pending_batches\":%zu,\"pending_alerts\":%zu,\"requests\":%zu,\"resends\":%zu,\"retries\":%zu,"
            "\"rebatched\":%zu,\"status\":\"%s\"}\n",
            sum->batches_delivered, sum->alerts_delivered, sum->batches_dead, sum->alerts_dead,
            sum->batches_pending, sum->alerts_pending, sum->requests, sum->resends, sum->retries,
            sum->rebatched, er_status_str(st));
    fflush(stdout);
    if (sum->foreign)
        cli_warn("%s/pending: %zu files that are not batches were left alone", dir, sum->foreign);
    cli_info("push: delivered %zu alerts in %zu batches, %zu retries, %zu alerts to dead/, "
             "%zu alerts in %zu batches pending",
             sum->alerts_delivered, sum->batches_delivered, sum->retries, sum->alerts_dead, sum->alerts_pending,
             sum->batches_pending);
    switch (st) {
    case ER_OK:
        if (sum->batches_dead)
            cli_warn("push: %zu batches were rejected; see %s/dead/*.response.json", sum->batches_dead, dir);
        return sum->batches_dead ? EX_FINDINGS : EX_OK_;
    case ER_EPENDING:
        cli_warn("%s", err->msg);
        return EX_TEMPFAIL_;
    case ER_ELIMIT:
        cli_error("%s", err->msg);
        return EX_TEMPFAIL_;
    case ER_ENET:
    case ER_EHTTP:
        cli_error("%s", err->msg);
        return EX_UNAVAILABLE_;
    default:
        cli_error("push failed: %s", err->msg);
        return cli_exit_code(st);
    }
}

int cli_push_deliver(const cli_args *a, const char *cmd, er_outbox *ob, const char *dest)
{
    er_push_opts po;
    er_push_summary sum;
    char *token = NULL;
    er_err err;
    er_status st;
    int rc = delivery_opts(a, cmd, dest, &po);
    if (rc != EX_OK_)
        return rc;
    const char *tf = cli_str(a, "token-file");
    if (tf) {
        struct stat sb;
        if (stat(tf, &sb) == 0 && (sb.st_mode & 077))
            cli_warn("%s: the token file is readable by group or others (chmod 600 it)", tf);
    }
    if ((st = er_push_token_load(&token, tf, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        return st == ER_EINVAL ? EX_CONFIG_ : cli_exit_code(st);
    }
    po.token = token;
    st = er_push_run(ob, &po, &sum, &err);
    rc = report(st, &sum, &err, er_outbox_dir(ob), dest);
    er_push_token_free(token);
    return rc;
}

static int push_main(const cli_args *a)
{
    const char *dir = cli_str(a, "outbox");
    const char *endpoint = cli_str(a, "endpoint");
    const char *const *enq = NULL;
    size_t n_enq = cli_list(a, "enqueue", &enq);
    bool no_send = cli_flag(a, "no-send");
    long batch = cli_int(a, "batch");
    er_outbox *ob = NULL;
    er_push_opts po;
    er_err err;
    er_status st;
    int rc = EX_OK_;
    char *const *pos = NULL;

    if (cli_positional(a, &pos) > 0) {
        cli_error("push: unexpected argument '%s'", pos[0]);
        return EX_USAGE_;
    }
    if (!dir) {
        cli_error("push: --outbox DIR is required");
        return EX_USAGE_;
    }
    if (!no_send && !endpoint) {
        cli_error("push: --endpoint URL is required (or --no-send with --enqueue)");
        return EX_USAGE_;
    }
    if (no_send && n_enq == 0) {
        cli_error("push: --no-send only makes sense with --enqueue FILE");
        return EX_USAGE_;
    }
    if ((rc = delivery_opts(a, "push", endpoint ? endpoint : "", &po)) != EX_OK_)
        return rc;
    if ((st = er_outbox_open(&ob, dir, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = st == ER_EIO ? EX_CANTCREAT_ : cli_exit_code(st);
        goto cleanup;
    }
    for (size_t i = 0; i < n_enq; i++)
        if ((rc = enqueue(ob, enq[i], (size_t)batch)) != EX_OK_)
            goto cleanup;
    if (!no_send)
        rc = cli_push_deliver(a, "push", ob, endpoint);

cleanup:
    er_outbox_free(ob);
    return rc;
}

const cli_cmd cmd_push = {
    "push",
    "spool alerts into the outbox and deliver it to a CEN-style endpoint",
    "--outbox DIR (--endpoint DEST | --enqueue FILE --no-send) [options]",
    "Delivers the batches in DIR/pending to URL as JSON arrays (POST, Idempotency-Key = batch hash, "
    "one reused TLS connection). 2xx moves a batch to sent/ with the receipt, other 4xx to dead/ with the "
    "response; connection errors, timeouts, 429 and 5xx are retried with exponential backoff and jitter "
    "(Retry-After honoured), then the batch stays pending. --enqueue spools an alerts.jsonl first "
    "(validated as a whole, durable before any network call). --endpoint dir:PATH (or file://PATH) writes "
    "each batch durably as PATH/<hash>.json instead, for an air-gapped hand-over (a batch delivered twice is "
    "the same file); --endpoint - writes the batches (JSON arrays) on stdout (the summary then goes to stderr). The bearer token comes from --token-file or "
    "the ECORISK_TOKEN environment variable, never from the command line. Prints a JSON summary on stdout. "
    "Exit: 0 all delivered; 1 some batches rejected into dead/; 75 alerts left pending (retry later); "
    "69 endpoint unusable as configured (TLS, URL, credentials), alerts pending. See docs/alerts.md.",
    push_opts,
    CLI_NOPTS(push_opts),
    push_main,
    .group = cli_delivery_opts,
    .n_group = CLI_NOPTS(cli_delivery_opts),
    .group_title = "Delivery options",
    .examples = "ecorisk push --outbox /var/lib/ecorisk/outbox --endpoint https://cen.example.org/alerts --token-file /etc/ecorisk/token\n  deliver what is pending\n"};
