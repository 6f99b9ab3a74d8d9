/*
 * push.c — delivers the outbox to a CEN-style HTTP endpoint (push.h,
 * docs/alerts.md): one reused libcurl easy handle (keep-alive), a POST per
 * pending batch with its Idempotency-Key, status classification, backoff with
 * jitter and Retry-After, receipts to sent/, rejections to dead/, optional
 * re-batching and non-nominal stripping. Never prints; reports via on_event.
 */
#include "ecorisk/push.h"
#include "deliver/push_int.h"
#include "deliver/outbox_int.h"
#include "deliver/sink.h"
#include "core/curl_api.h"
#include "core/loopback.h"
#include "ecorisk/version.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BODY_KEEP_MAX (64 * 1024)   /* response body bytes kept for receipts */
#define TOKEN_MAX 8192

void *er_push_xmalloc(size_t n)
{
    if (er_outbox_fault_alloc())
        return NULL;
    return malloc(n ? n : 1);
}
#define xmalloc er_push_xmalloc

void er_push_opts_init(er_push_opts *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 10000;
    o->max_time_ms = 60000;
    o->max_attempts = 5;
    o->backoff_base_ms = 500;
    o->backoff_max_ms = 30000;
    o->retry_after_max_ms = 120000;
}

/* ---- token ---- */

void er_push_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}
#define wipe er_push_wipe

void er_push_token_free(char *token)
{
    if (!token)
        return;
    wipe(token, strlen(token));
    free(token);
}

er_status er_push_token_load(char **token, const char *file, er_err *err)
{
    er_status st = ER_OK;
    char *buf = NULL;
    FILE *f = NULL;
    size_t len = 0;

    *token = NULL;
    if (!file) {
        const char *env = getenv("ECORISK_TOKEN");
        if (!env || !*env)
            goto cleanup;
        len = strlen(env);
        if (len > TOKEN_MAX) {
            st = er_errf(err, ER_EINVAL, "ECORISK_TOKEN: longer than %d characters", TOKEN_MAX);
            goto cleanup;
        }
        buf = xmalloc(len + 1);
        if (!buf) {
            st = er_errf(err, ER_ENOMEM, "ECORISK_TOKEN: out of memory");
            goto cleanup;
        }
        memcpy(buf, env, len + 1);
    } else {
        f = fopen(file, "rb");
        if (!f) {
            st = er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open the token file: %s",
                         file, strerror(errno));
            goto cleanup;
        }
        buf = xmalloc(TOKEN_MAX + 2);
        if (!buf) {
            st = er_errf(err, ER_ENOMEM, "%s: out of memory", file);
            goto cleanup;
        }
        len = fread(buf, 1, TOKEN_MAX + 1, f);
        if (ferror(f)) {
            st = er_errf(err, ER_EIO, "%s: cannot read the token file", file);
            goto cleanup;
        }
        buf[len] = '\0';
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                       buf[len - 1] == '\t'))
            buf[--len] = '\0';
        if (len > TOKEN_MAX) {
            st = er_errf(err, ER_EINVAL, "%s: token longer than %d characters", file, TOKEN_MAX);
            goto cleanup;
        }
    }
    if (len == 0) {
        st = er_errf(err, ER_EINVAL, "%s: the token is empty", file ? file : "ECORISK_TOKEN");
        goto cleanup;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e) {
            st = er_errf(err, ER_EINVAL,
                         "%s: the token contains a character not allowed in a bearer token (position %zu)",
                         file ? file : "ECORISK_TOKEN", i + 1);
            goto cleanup;
        }
    *token = buf;
    buf = NULL;

cleanup:
    if (f)
        fclose(f);
    if (buf) {
        wipe(buf, TOKEN_MAX + 2 > len + 1 ? len + 1 : TOKEN_MAX + 2);
        free(buf);
    }
    return st;
}

/* ---- response handling ---- */

er_push_class er_push_classify(long s)
{
    if (s >= 200 && s < 300)
        return ER_PUSH_OK;
    if (s >= 300 && s < 400)
        return ER_PUSH_STOP;
    if (s == 401 || s == 403 || s == 404 || s == 405 || s == 407)
        return ER_PUSH_STOP;
    if (s == 408 || s == 409 || s == 425 || s == 429)
        return ER_PUSH_RETRY;
    if (s >= 400 && s < 500)
        return ER_PUSH_REJECT;
    return ER_PUSH_RETRY;
}

er_status er_push_parse_retry_after(const char *value, int64_t now, long *delay_ms)
{
    const char *p = value;
    *delay_ms = 0;
    if (!p)
        return ER_EPARSE;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n == 0)
        return ER_EPARSE;
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            digits = false;
    if (digits) {
        if (n > 9)   /* > 31 years: treat as "very long" */
            *delay_ms = LONG_MAX / 2;
        else
            *delay_ms = strtol(p, NULL, 10) * 1000L;
        return ER_OK;
    }
    char buf[64];
    if (n >= sizeof buf)
        return ER_EPARSE;
    memcpy(buf, p, n);
    buf[n] = '\0';
    /* HTTP dates (IMF-fixdate, RFC 850, asctime) all contain a letter month
     * and a hh:mm:ss time; curl_getdate parses all three. */
    if (!strchr(buf, ':') || er_curl_load(NULL) != ER_OK)
        return ER_EPARSE;
    time_t t = curl_getdate(buf, NULL);
    if (t == (time_t)-1)
        return ER_EPARSE;
    int64_t d = (int64_t)t - now;
    *delay_ms = d <= 0 ? 0 : (d > LONG_MAX / 2000 ? LONG_MAX / 2 : (long)d * 1000L);
    return ER_OK;
}

long er_push_backoff_ms(long base_ms, long max_ms, int attempt, double u)
{
    if (base_ms < 1)
        base_ms = 1;
    if (max_ms < base_ms)
        max_ms = base_ms;
    long d = base_ms;
    for (int i = 1; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    if (u < 0)
        u = 0;
    if (u >= 1)
        u = 0.999999;
    return d / 2 + (long)((double)(d - d / 2) * u);
}

static json_object *parse_json(const char *s, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    /* Strict RFC 8259: json-c otherwise takes comments, single quotes and
     * trailing commas, and would count a batch differently from the scanner. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, s, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(j);
        j = NULL;
    } else {
        size_t end = json_tokener_get_parse_end(tok);
        for (; end < len; end++)
            if (!isspace((unsigned char)s[end])) {
                json_object_put(j);
                j = NULL;
                break;
            }
    }
    json_tokener_free(tok);
    return j;
}

/* Parse a stored batch: a non-empty JSON array of objects. */
static er_status parse_batch(const char *batch, size_t len, json_object **out, er_err *err)
{
    json_object *j = parse_json(batch, len);
    *out = NULL;
    if (!j || !json_object_is_type(j, json_type_array) || json_object_array_length(j) == 0) {
        json_object_put(j);
        return er_errf(err, ER_EFORMAT, "not a non-empty JSON array of alerts");
    }
    size_t n = json_object_array_length(j);
    for (size_t i = 0; i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(j, i), json_type_object)) {
            json_object_put(j);
            return er_errf(err, ER_EFORMAT, "[%zu]: not a JSON object", i);
        }
    *out = j;
    return ER_OK;
}

static const int SER_FLAGS = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

er_status er_push_body(const char *batch, size_t len, bool non_nominal, char **out, size_t *out_len,
                       size_t *n_alerts, er_err *err)
{
    er_status st = ER_OK;
    json_object *arr = NULL;
    char *buf = NULL;

    *out = NULL;
    *out_len = 0;
    *n_alerts = 0;
    if ((st = parse_batch(batch, len, &arr, err)) != ER_OK)
        goto cleanup;
    size_t n = json_object_array_length(arr);
    const char *src = batch;
    size_t src_len = len;
    if (non_nominal) {
        static const char *const personal[] = {"importer", "exporter", "declarant"};
        for (size_t i = 0; i < n; i++) {
            json_object *decl = NULL;
            if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "declaration", &decl) &&
                json_object_is_type(decl, json_type_object))
                for (size_t k = 0; k < 3; k++)
                    json_object_object_del(decl, personal[k]);
        }
        size_t sl = 0;
        src = json_object_to_json_string_length(arr, SER_FLAGS, &sl);
        if (!src) {
            st = er_errf(err, ER_ENOMEM, "out of memory serialising a batch");
            goto cleanup;
        }
        src_len = sl;
    }
    buf = xmalloc(src_len + 1);
    if (!buf) {
        st = er_errf(err, ER_ENOMEM, "out of memory building a request body of %zu bytes", src_len);
        goto cleanup;
    }
    memcpy(buf, src, src_len);
    buf[src_len] = '\0';
    *out = buf;
    *out_len = src_len;
    *n_alerts = n;
    buf = NULL;

cleanup:
    free(buf);
    json_object_put(arr);
    return st;
}

/* ---- the push session ---- */

typedef struct session {
    er_outbox          *ob;
    const er_push_opts *opts;
    er_push_summary    *sum;
    const er_sink      *sink;          /* the destination's row of er_sinks */
    void               *sk;            /* its state */
    char                endpoint_public[512];
    uint64_t            rng;
} session;

static double rand_unit(session *s)
{
    /* xorshift64*: jitter only, no security role */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void emit(session *s, er_push_event_kind kind, const char *batch, size_t n, int attempt, long http,
                 const char *detail, long delay)
{
    if (!s->opts->on_event)
        return;
    er_push_event ev = {kind, batch, n, attempt, http, detail ? detail : "", delay};
    s->opts->on_event(&ev, s->opts->ud);
}

/* The receipt / response file: deterministic JSON, never the token. */
static er_status side_json(session *s, const char *batch, size_t n, long status, const char *reason,
                           const char *body, size_t body_len, char **out, er_err *err)
{
    er_status st = ER_OK;
    json_object *j = json_object_new_object();
    *out = NULL;
    if (!j)
        return er_errf(err, ER_ENOMEM, "out of memory building a receipt");
    char key[65];
    snprintf(key, sizeof key, "%.64s", batch);
    json_object_object_add(j, "batch", json_object_new_string(batch));
    json_object_object_add(j, "idempotency_key", json_object_new_string(key));
    json_object_object_add(j, "alerts", json_object_new_int64((int64_t)n));
    json_object_object_add(j, "endpoint", json_object_new_string(s->endpoint_public));
    json_object_object_add(j, "non_nominal", json_object_new_boolean(s->opts->non_nominal));
    json_object_object_add(j, "status", json_object_new_int64(status));
    if (reason)
        json_object_object_add(j, "reason", json_object_new_string(reason));
    json_object *resp_j = NULL;
    if (body && body_len)
        resp_j = parse_json(body, body_len);
    if (!resp_j)
        resp_j = json_object_new_string_len(body ? body : "", body ? (int)body_len : 0);
    json_object_object_add(j, "response", resp_j);
    const char *txt = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t tl = txt ? strlen(txt) : 0;
    char *buf = txt ? xmalloc(tl + 2) : NULL;
    if (!buf) {
        st = er_errf(err, ER_ENOMEM, "out of memory building a receipt");
        goto cleanup;
    }
    memcpy(buf, txt, tl);
    buf[tl] = '\n';
    buf[tl + 1] = '\0';
    *out = buf;

cleanup:
    json_object_put(j);
    return st;
}

/* Count the alerts of a stored batch without building it: the text must be
 * '[' object (',' object)* ']' with balanced nesting and terminated strings.
 * (Each alert was validated as a JSON object when it was put, and the name
 * hash proves the file is unchanged since; this guards against hand-placed
 * files, which the receiver would reject in any case.) */
bool er_push_scan_batch(const char *s, size_t len, size_t *n_alerts)
{
    size_t i = 0, n = 0;
#define WS() while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++
    *n_alerts = 0;
    WS();
    if (i >= len || s[i++] != '[')
        return false;
    for (;;) {
        WS();
        if (i >= len || s[i] != '{')
            return false;
        int depth = 0;
        do {
            char c = s[i++];
            if (c == '"') {
                while (i < len && s[i] != '"') {
                    if (s[i] == '\\')
                        i++;
                    else if ((unsigned char)s[i] < 0x20)
                        return false;
                    i++;
                }
                if (i >= len)
                    return false;
                i++;
            } else if (c == '{' || c == '[') {
                if (++depth > 512)
                    return false;
            } else if (c == '}' || c == ']') {
                depth--;
            }
        } while (depth > 0 && i < len);
        if (depth != 0 || s[i - 1] != '}')
            return false;
        n++;
        WS();
        if (i >= len)
            return false;
        if (s[i] == ',') {
            i++;
            continue;
        }
        if (s[i++] != ']')
            return false;
        break;
    }
    WS();
#undef WS
    if (i != len)
        return false;
    *n_alerts = n;
    return true;
}

typedef enum outcome { OUT_DONE, OUT_STOP_PENDING, OUT_STOP_CONFIG, OUT_STOP_HTTP, OUT_FAIL } outcome;

/* Move a batch to dead/ with a reason (and the receiver's answer rp, if any). */
static outcome to_dead(session *s, const char *name, size_t n, const er_sink_reply *rp, const char *reason,
                       int attempt, er_status *st, er_err *err)
{
    char *side = NULL;
    long status = rp ? rp->status : 0;
    if ((*st = side_json(s, name, n, status, reason, rp ? rp->body : NULL, rp ? rp->body_len : 0, &side,
                         err)) != ER_OK)
        return OUT_FAIL;
    *st = er_outbox_mark_dead(s->ob, name, side, err);
    free(side);
    if (*st == ER_ENOTFOUND) {   /* moved by someone else meanwhile: nothing to do */
        *st = ER_OK;
        return OUT_DONE;
    }
    if (*st != ER_OK)
        return OUT_FAIL;
    s->sum->batches_dead++;
    s->sum->alerts_dead += n;
    emit(s, ER_PUSH_EV_DEAD, name, n, attempt, status, reason, 0);
    return OUT_DONE;
}

/* Record a delivered batch: its receipt into sent/, then the batch. */
static outcome to_sent(session *s, const char *name, size_t n, const er_sink_reply *rp, int attempt,
                       er_status *st, er_err *err)
{
    char *side = NULL;
    if ((*st = side_json(s, name, n, rp->status, NULL, rp->body, rp->body_len, &side, err)) != ER_OK) {
        er_err_prefix(err, *st, "%s delivered (%s) but not recorded; it stays pending", name, rp->detail);
        return OUT_FAIL;
    }
    *st = er_outbox_mark_sent(s->ob, name, side, err);
    free(side);
    if (*st == ER_ENOTFOUND) {
        *st = ER_OK;
        return OUT_DONE;
    }
    if (*st != ER_OK) {
        er_err_prefix(err, *st, "delivered (%s) but could not record it; the batch stays "
                                "pending and will be sent again", rp->detail);
        return OUT_FAIL;
    }
    s->sum->batches_delivered++;
    s->sum->alerts_delivered += n;
    emit(s, ER_PUSH_EV_DELIVERED, name, n, attempt, rp->status, rp->detail, 0);
    return OUT_DONE;
}

/* After a transient failure: wait and go on (true), or give up with the
 * batch pending (false, *out set). */
static bool retry_wait(session *s, const char *name, size_t n, const er_sink_reply *rp, int attempt,
                       outcome *out, er_status *st, er_err *err)
{
    const er_push_opts *o = s->opts;
    int max_attempts = o->max_attempts > 0 ? o->max_attempts : 1;
    long delay = er_push_backoff_ms(o->backoff_base_ms, o->backoff_max_ms, attempt, rand_unit(s));
    if (rp->has_retry_after)
        delay = rp->retry_after_ms;
    if (attempt >= max_attempts || (rp->has_retry_after && rp->retry_after_ms > o->retry_after_max_ms)) {
        char why[sizeof rp->detail + 160];
        if (attempt >= max_attempts)
            snprintf(why, sizeof why, "%s; %d attempts made, the batch stays pending", rp->detail, attempt);
        else
            snprintf(why, sizeof why, "%s; Retry-After of %ld s exceeds the limit, the batch stays pending",
                     rp->detail, rp->retry_after_ms / 1000);
        emit(s, ER_PUSH_EV_GAVE_UP, name, n, attempt, rp->status, why, 0);
        *st = er_errf(err, ER_EPENDING, "%s: %s", s->endpoint_public, why);
        *out = OUT_STOP_PENDING;
        return false;
    }
    s->sum->retries++;
    emit(s, ER_PUSH_EV_RETRY, name, n, attempt, rp->status, rp->detail, delay);
    sleep_ms(delay);
    return true;
}

/* The body delivered for a stored batch: the batch itself, or in non-nominal
 * mode a stripped copy (*conv, the caller's to free). A batch that cannot be
 * read goes to dead/ (*body NULL, *out set). */
static outcome batch_body(session *s, const char *name, const char *raw, size_t raw_len, size_t n,
                          char **conv, er_sink_batch *b, er_status *st, er_err *err)
{
    b->name = name;
    b->body = raw;
    b->len = raw_len;
    b->n_alerts = n;
    *conv = NULL;
    *st = ER_OK;
    if (!s->opts->non_nominal)
        return OUT_DONE;
    er_err perr;
    size_t n2 = 0;
    *st = er_push_body(raw, raw_len, true, conv, &b->len, &n2, &perr);
    if (*st == ER_EFORMAT) {
        char reason[ER_ERR_MSG_MAX + 32];
        snprintf(reason, sizeof reason, "stored batch unreadable: %s", perr.msg);
        b->body = NULL;
        return to_dead(s, name, n, NULL, reason, 0, st, err);
    }
    if (*st != ER_OK) {
        er_errf(err, *st, "%s/pending/%s: %s", er_outbox_dir(s->ob), name, perr.msg);
        return OUT_FAIL;
    }
    b->body = *conv;
    return OUT_DONE;
}

/* Deliver one batch (raw = its stored bytes, n alerts) through the sink, with retries. */
static outcome send_raw(session *s, const char *name, const char *raw, size_t raw_len, size_t n,
                        er_status *st, er_err *err)
{
    char *conv = NULL;
    er_sink_batch b;
    outcome out = batch_body(s, name, raw, raw_len, n, &conv, &b, st, err);
    if (out != OUT_DONE || !b.body)
        goto cleanup;
    for (int attempt = 1;; attempt++) {
        er_sink_reply rp;
        memset(&rp, 0, sizeof rp);
        s->sink->deliver(s->sk, &b, &rp, err);
        s->sum->requests += rp.requests;
        s->sum->resends += rp.resends;
        switch (rp.result) {
        case ER_SINK_OK:
            out = to_sent(s, name, n, &rp, attempt, st, err);
            goto cleanup;
        case ER_SINK_REJECT:
            out = to_dead(s, name, n, &rp, "rejected by the receiver", attempt, st, err);
            goto cleanup;
        case ER_SINK_STOP:
            emit(s, ER_PUSH_EV_STOPPED, name, n, attempt, rp.status, rp.detail, 0);
            *st = rp.st;
            out = rp.st == ER_EHTTP ? OUT_STOP_HTTP : OUT_STOP_CONFIG;
            goto cleanup;
        case ER_SINK_FAIL:
            *st = rp.st;
            out = OUT_FAIL;
            goto cleanup;
        case ER_SINK_RETRY:
            if (!retry_wait(s, name, n, &rp, attempt, &out, st, err))
                goto cleanup;
            break;
        }
    }
cleanup:
    free(conv);
    return out;
}

/* Split a stored batch of n > batch_max alerts into chunk batches (push.h).
 * names receives the chunk names in order (caller frees each and the array). */
static er_status rebatch(session *s, const er_outbox_entry *e, const char *raw, size_t raw_len, char ***names,
                         size_t *n_names, er_err *err)
{
    er_status st = ER_OK;
    json_object *arr = NULL;
    const char **texts = NULL;
    char **out = NULL;
    size_t n = 0, k = 0;
    size_t max = s->opts->batch_max;

    *names = NULL;
    *n_names = 0;
    if ((st = parse_batch(raw, raw_len, &arr, err)) != ER_OK) {
        er_err_prefix(err, st, "%s/pending/%s", er_outbox_dir(s->ob), e->name);
        goto cleanup;
    }
    n = json_object_array_length(arr);
    texts = xmalloc(n * sizeof *texts);
    out = xmalloc(((n + max - 1) / max) * sizeof *out);
    if (!texts || !out) {
        st = er_errf(err, ER_ENOMEM, "out of memory re-batching %s", e->name);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        texts[i] = json_object_to_json_string_ext(json_object_array_get_idx(arr, i), SER_FLAGS);
        if (!texts[i]) {
            st = er_errf(err, ER_ENOMEM, "out of memory re-batching %s", e->name);
            goto cleanup;
        }
    }
    for (size_t off = 0; off < n; off += max, k++) {
        size_t m = n - off < max ? n - off : max;
        const char *nm = NULL;
        if ((st = er_outbox_put(s->ob, texts + off, m, &nm, err)) != ER_OK)
            goto cleanup;
        out[k] = er_outbox_fault_alloc() ? NULL : strdup(nm);
        if (!out[k]) {
            st = er_errf(err, ER_ENOMEM, "out of memory re-batching %s", e->name);
            goto cleanup;
        }
        /* keep the original order among pending batches */
        er_outbox_set_mtime(s->ob, nm, e->mtime_ns + (int64_t)k, NULL);
    }
    if ((st = er_outbox_remove_pending(s->ob, e->name, err)) != ER_OK && st != ER_ENOTFOUND)
        goto cleanup;
    st = ER_OK;
    s->sum->rebatched++;
    emit(s, ER_PUSH_EV_REBATCHED, e->name, n, 0, 0, NULL, 0);
    *names = out;
    *n_names = k;
    out = NULL;
    k = 0;

cleanup:
    if (out) {
        for (size_t i = 0; i < k; i++)
            free(out[i]);
        free(out);
    }
    free(texts);
    json_object_put(arr);
    return st;
}

/* Read a pending batch and check it: hash against name, shape. Returns
 * OUT_DONE with *raw == NULL when the batch is gone or was moved to dead/. */
static outcome load_batch(session *s, const char *name, char **raw, size_t *len, size_t *n, er_status *st,
                          er_err *err)
{
    char hex[65];
    *raw = NULL;
    *st = er_outbox_read(s->ob, ER_OUTBOX_PENDING, name, raw, len, err);
    if (*st == ER_ENOTFOUND) {
        *st = ER_OK;
        return OUT_DONE;
    }
    if (*st != ER_OK)
        return OUT_FAIL;
    if ((*st = er_outbox_hash(*raw, *len, hex, err)) != ER_OK) {
        free(*raw);
        *raw = NULL;
        return OUT_FAIL;
    }
    const char *why = NULL;
    if (strncmp(hex, name, 64) != 0)
        why = "stored batch does not match its content hash (corrupted)";
    else if (!er_push_scan_batch(*raw, *len, n))
        why = "stored batch is not a JSON array of alert objects";
    if (why) {
        free(*raw);
        *raw = NULL;
        return to_dead(s, name, 0, NULL, why, 0, st, err);
    }
    return OUT_DONE;
}

/* One entry of the pending listing: re-batch if needed, then send. */
static outcome process_entry(session *s, const er_outbox_entry *e, er_status *st, er_err *err)
{
    char *raw = NULL;
    size_t len = 0, n = 0;
    char **chunks = NULL;
    size_t n_chunks = 0;
    outcome out = load_batch(s, e->name, &raw, &len, &n, st, err);

    if (out != OUT_DONE || !raw)
        goto cleanup;
    if (s->opts->batch_max == 0 || n <= s->opts->batch_max) {
        out = send_raw(s, e->name, raw, len, n, st, err);
        goto cleanup;
    }
    if ((*st = rebatch(s, e, raw, len, &chunks, &n_chunks, err)) != ER_OK) {
        out = OUT_FAIL;
        goto cleanup;
    }
    free(raw);
    raw = NULL;
    for (size_t k = 0; k < n_chunks && out == OUT_DONE; k++) {
        out = load_batch(s, chunks[k], &raw, &len, &n, st, err);
        if (out == OUT_DONE && raw)
            out = send_raw(s, chunks[k], raw, len, n, st, err);
        free(raw);
        raw = NULL;
    }

cleanup:
    for (size_t k = 0; k < n_chunks; k++)
        free(chunks[k]);
    free(chunks);
    free(raw);
    return out;
}

/* Count what is left in pending/ for the summary. */
static er_status count_pending(session *s, er_err *err)
{
    er_outbox_list l;
    er_status st = er_outbox_list_batches(s->ob, ER_OUTBOX_PENDING, &l, err);
    if (st != ER_OK)
        return st;
    s->sum->batches_pending = l.n;
    s->sum->alerts_pending = 0;
    s->sum->foreign = l.n_foreign;
    for (size_t i = 0; i < l.n; i++) {
        char *raw = NULL;
        size_t len = 0, n = 0;
        if (er_outbox_read(s->ob, ER_OUTBOX_PENDING, l.e[i].name, &raw, &len, NULL) == ER_OK &&
            er_push_scan_batch(raw, len, &n))
            s->sum->alerts_pending += n;
        free(raw);
    }
    er_outbox_list_free(&l);
    return ER_OK;
}

er_status er_push_run(er_outbox *ob, const er_push_opts *opts, er_push_summary *sum, er_err *err)
{
    er_status st = ER_OK;
    session s;
    er_outbox_list l = {0};
    outcome out = OUT_DONE;

    memset(sum, 0, sizeof *sum);
    memset(&s, 0, sizeof s);
    s.ob = ob;
    s.opts = opts;
    s.sum = sum;
    if (!(s.sink = er_sink_for(opts->endpoint))) {
        st = er_errf(err, ER_EINVAL, "no destination given");
        goto cleanup;
    }
    if ((st = s.sink->open(&s.sk, opts->endpoint, opts, s.endpoint_public, sizeof s.endpoint_public,
                           err)) != ER_OK)
        goto cleanup;
    s.rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&s;
    if (!s.rng)
        s.rng = 1;
    if ((opts->cert && !opts->key) || (!opts->cert && opts->key)) {
        st = er_errf(err, ER_EINVAL, "mutual TLS needs both a certificate and a key");
        goto cleanup;
    }
    if ((st = er_outbox_lock(ob, err)) != ER_OK)
        goto cleanup;
    er_outbox_clean_tmp(ob, 86400, NULL, NULL);   /* crashed writes, never acknowledged */

    /* Passes over pending/ until it is empty or something stops us: batches
     * spooled while we push are taken too (bounded, so a stuck file cannot
     * loop us forever). */
    for (int pass = 0; pass < 16 && out == OUT_DONE; pass++) {
        er_outbox_list_free(&l);
        if ((st = er_outbox_list_batches(ob, ER_OUTBOX_PENDING, &l, err)) != ER_OK)
            goto cleanup;
        if (l.n == 0)
            break;
        for (size_t i = 0; i < l.n && out == OUT_DONE; i++)
            out = process_entry(&s, &l.e[i], &st, err);
    }

cleanup:
    er_outbox_list_free(&l);
    if (s.sink)
        s.sink->close(s.sk);
    {
        /* the summary is filled whatever happened; a counting failure only
         * matters if nothing else failed */
        er_err cerr;
        er_status cst = count_pending(&s, &cerr);
        if (cst != ER_OK && st == ER_OK) {
            st = cst;
            if (err)
                *err = cerr;
        }
    }
    if (st == ER_OK && sum->batches_pending > 0)
        st = er_errf(err, ER_EPENDING, "%s: %zu batches still pending", er_outbox_dir(ob),
                     sum->batches_pending);
    return st;
}
