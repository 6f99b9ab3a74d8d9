/*
 * sink_http.c — the HTTP row of the sink table (sink.h): POSTs a batch to a
 * CEN-style endpoint with libcurl (docs/alerts.md) over one reused
 * connection, with its Idempotency-Key and the bearer token, and classifies
 * the answer: 2xx delivered, 408/409/425/429/5xx and connection errors
 * retried (Retry-After read), other 4xx rejected, 3xx/401/403/404/405/407
 * and TLS or URL problems stop the push. The token is only ever put in the
 * Authorization header and wiped when freed.
 */
#include "deliver/sink.h"
#include "deliver/push_int.h"
#include "deliver/outbox_int.h"
#include "core/curl_api.h"
#include "core/loopback.h"
#include "ecorisk/version.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BODY_KEEP_MAX (64 * 1024)   /* response body bytes kept for receipts */

#define xmalloc er_push_xmalloc
#define wipe    er_push_wipe

typedef struct resp {
    char  *body;
    size_t len;
    size_t cap;
    bool   oom;
    char   retry_after[64];
} resp;

typedef struct http_sink {
    const er_push_opts *opts;
    CURL               *curl;          /* set up at the first delivery */
    struct curl_slist  *base_headers;
    char               *auth_header;   /* "Authorization: Bearer ..." (wiped on free) */
    char                endpoint_public[512];
    char                errbuf[CURL_ERROR_SIZE];
    resp                r;
    int                 sent;          /* requests put on the wire by this perform */
} http_sink;

/* Every request libcurl writes, including its own silent resend when a
 * reused connection turns out closed, shows here as one block of request
 * headers: counting them makes `requests` the number of HTTP attempts the
 * receiver may have seen (docs/alerts.md). Nothing is logged: the headers
 * hold the token. */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)c;
    http_sink *s = ud;
    if (type == CURLINFO_HEADER_OUT && size >= 5 && memcmp(data, "POST ", 5) == 0)
        s->sent++;
    return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    resp *r = ud;
    size_t n = size * nmemb;
    size_t keep = r->len < BODY_KEEP_MAX ? BODY_KEEP_MAX - r->len : 0;
    if (keep > n)
        keep = n;
    if (keep && !r->oom) {
        if (r->len + keep + 1 > r->cap) {
            size_t nc = r->cap ? r->cap : 1024;
            while (nc < r->len + keep + 1)
                nc *= 2;
            char *nb = er_outbox_fault_alloc() ? NULL : realloc(r->body, nc);
            if (!nb) {
                r->oom = true;
                return n;
            }
            r->body = nb;
            r->cap = nc;
        }
        memcpy(r->body + r->len, p, keep);
        r->len += keep;
        r->body[r->len] = '\0';
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    resp *r = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t vl = n - (sizeof name - 1);
        if (vl >= sizeof r->retry_after)
            vl = sizeof r->retry_after - 1;
        memcpy(r->retry_after, p + sizeof name - 1, vl);
        r->retry_after[vl] = '\0';
    }
    return n;
}

/* Curl results that retrying cannot fix: stop, keep everything pending. */
static bool curl_fatal(CURLcode c)
{
    switch (c) {
    case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT: case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED: case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_LOGIN_DENIED: case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT: case CURLE_UNKNOWN_OPTION: case CURLE_REMOTE_ACCESS_DENIED:
        return true;
    default:
        return false;
    }
}

/* TLS alerts from the server that say our credentials are refused (e.g. a
 * missing client certificate, reported by TLS 1.3 only at the first read):
 * retrying cannot help. */
static bool tls_alert_fatal(const char *msg)
{
    static const char *const alerts[] = {"alert certificate required", "alert bad certificate",
                                         "alert unknown ca", "alert certificate unknown",
                                         "alert access denied", "alert certificate revoked",
                                         "alert certificate expired", "alert handshake failure"};
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (strstr(msg, alerts[i]))
            return true;
    return false;
}

/* The endpoint without userinfo or query, for receipts. Validates the URL. */
static er_status check_endpoint(http_sink *s, er_err *err)
{
    er_status st = ER_OK;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *pass = NULL;

    if (!u)
        return er_errf(err, ER_ENOMEM, "out of memory parsing the endpoint URL");
    if (!s->opts->endpoint || curl_url_set(u, CURLUPART_URL, s->opts->endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        st = er_errf(err, ER_EINVAL, "endpoint: not a valid URL");
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
        st = er_errf(err, ER_EINVAL, "endpoint: credentials in the URL are refused (use a token file)");
        goto cleanup;
    }
    if (strcasecmp(scheme, "https") != 0 && !(strcasecmp(scheme, "http") == 0 && s->opts->insecure_http)) {
        st = er_errf(err, ER_EINVAL, "endpoint: scheme '%s' refused: https is required%s", scheme,
                     strcasecmp(scheme, "http") == 0 ? " (plain http only with --insecure-http, for tests)"
                                                     : "");
        goto cleanup;
    }
    if (strcasecmp(scheme, "http") == 0 && !er_host_is_loopback(host, strlen(host))) {
        st = er_errf(err, ER_EINVAL, "endpoint: plain http is only accepted for loopback test "
                     "servers (127.0.0.1, localhost, [::1]), not '%s'; use https://", host);
        goto cleanup;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    snprintf(s->endpoint_public, sizeof s->endpoint_public, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
             port ? port : "", path ? path : "/");

cleanup:
    curl_free(pass);
    curl_free(user);
    curl_free(path);
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return st;
}

static er_status http_start(http_sink *s, er_err *err)
{
    const er_push_opts *o = s->opts;
    CURL *c = s->curl = curl_easy_init();
    if (!c)
        return er_errf(err, ER_ENOMEM, "out of memory creating the HTTP client");
    struct curl_slist *h = NULL, *t;
    static const char *const hdrs[] = {"Content-Type: application/json", "Accept: application/json",
                                       "Expect:", ("User-Agent: ecorisk/" ECORISK_VERSION)};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        if (er_outbox_fault_alloc() || !(t = curl_slist_append(h, hdrs[i]))) {
            curl_slist_free_all(h);
            return er_errf(err, ER_ENOMEM, "out of memory building request headers");
        }
        h = t;
    }
    s->base_headers = h;
    if (o->token) {
        size_t n = strlen(o->token) + 32;
        s->auth_header = xmalloc(n);
        if (!s->auth_header)
            return er_errf(err, ER_ENOMEM, "out of memory building request headers");
        snprintf(s->auth_header, n, "Authorization: Bearer %s", o->token);
    }
    curl_easy_setopt(c, CURLOPT_URL, o->endpoint);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, o->insecure_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    /* verbose only feeds on_debug (it replaces curl's own stderr trace) */
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->max_time_ms > 0 ? o->max_time_ms : 60000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s->r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s->r);
    if (o->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
    if (o->cert)
        curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
    if (o->key)
        curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
    return ER_OK;
}

void er_sink_http_close(void *state)
{
    http_sink *s = state;
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->base_headers);
    if (s->auth_header) {
        wipe(s->auth_header, strlen(s->auth_header));
        free(s->auth_header);
    }
    free(s->r.body);
    free(s);
}


/* Every destination no other row claims: open checks it is a usable URL. */
bool er_sink_http_claims(const char *dest)
{
    (void)dest;
    return true;
}

er_status er_sink_http_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                            er_err *err)
{
    *state = NULL;
    er_status st = er_curl_load(err);   /* every curl call of the sink comes after this */
    if (st != ER_OK)
        return st;
    http_sink *s = calloc(1, sizeof *s);
    if (!s)
        return er_errf(err, ER_ENOMEM, "out of memory");
    s->opts = o;
    st = check_endpoint(s, err);
    (void)dest;   /* o->endpoint */
    if (st != ER_OK) {
        free(s);
        return st;
    }
    snprintf(pub, cap, "%s", s->endpoint_public);
    *state = s;
    return ER_OK;
}

/* The request headers of one batch: the session's, its Idempotency-Key, the token. */
static struct curl_slist *batch_headers(const http_sink *s, const char *name)
{
    char key_hdr[96];
    struct curl_slist *hdrs = NULL, *t = NULL;
    snprintf(key_hdr, sizeof key_hdr, "Idempotency-Key: %.64s", name);
    for (struct curl_slist *b = s->base_headers; b; b = b->next) {
        if (er_outbox_fault_alloc() || !(t = curl_slist_append(hdrs, b->data)))
            goto oom;
        hdrs = t;
    }
    if (er_outbox_fault_alloc() || !(t = curl_slist_append(hdrs, key_hdr)))
        goto oom;
    hdrs = t;
    if (s->auth_header) {
        if (er_outbox_fault_alloc() || !(t = curl_slist_append(hdrs, s->auth_header)))
            goto oom;
        hdrs = t;
    }
    return hdrs;
oom:
    curl_slist_free_all(hdrs);
    return NULL;
}

static void free_headers(struct curl_slist *hdrs)
{
    for (struct curl_slist *h = hdrs; h; h = h->next)   /* no token left in freed memory */
        if (strncmp(h->data, "Authorization:", 14) == 0)
            wipe(h->data, strlen(h->data));
    curl_slist_free_all(hdrs);
}

/* Classify a completed perform (cc, HTTP status) into r. */
static void classify(http_sink *s, CURLcode cc, const char *name, er_sink_reply *r, er_err *err)
{
    if (cc != CURLE_OK) {
        snprintf(r->detail, sizeof r->detail, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
        if (cc == CURLE_OUT_OF_MEMORY) {
            r->result = ER_SINK_FAIL;
            r->st = er_errf(err, ER_ENOMEM, "out of memory sending %s", name);
        } else if (curl_fatal(cc) || tls_alert_fatal(s->errbuf)) {
            r->result = ER_SINK_STOP;
            r->st = er_errf(err, ER_ENET, "%s: %s", s->endpoint_public, r->detail);
        } else {
            r->result = ER_SINK_RETRY;
        }
        return;
    }
    long http = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &http);
    r->status = http;
    snprintf(r->detail, sizeof r->detail, "HTTP %ld", http);
    switch (er_push_classify(http)) {
    case ER_PUSH_OK:
        r->result = ER_SINK_OK;
        break;
    case ER_PUSH_REJECT:
        r->result = ER_SINK_REJECT;
        break;
    case ER_PUSH_STOP:
        r->result = ER_SINK_STOP;
        r->st = er_errf(err, ER_EHTTP, "%s answered HTTP %ld%s; nothing more is sent, batches stay pending",
                        s->endpoint_public, http,
                        http == 401 || http == 403 || http == 407 ? " (check the token / client certificate)"
                        : http >= 300 && http < 400               ? " (redirects are not followed)"
                                                                  : " (check the endpoint URL)");
        break;
    default:
        r->result = ER_SINK_RETRY;
        r->has_retry_after = s->r.retry_after[0] && http &&
                             er_push_parse_retry_after(s->r.retry_after, (int64_t)time(NULL),
                                                       &r->retry_after_ms) == ER_OK;
        break;
    }
}

void er_sink_http_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err)
{
    http_sink *s = state;
    if (!s->curl && (r->st = http_start(s, err)) != ER_OK) {
        r->result = ER_SINK_FAIL;
        return;
    }
    struct curl_slist *hdrs = batch_headers(s, b->name);
    if (!hdrs) {
        r->result = ER_SINK_FAIL;
        r->st = er_errf(err, ER_ENOMEM, "out of memory building request headers");
        return;
    }
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, b->body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
    s->r.len = 0;
    s->r.oom = false;
    s->r.retry_after[0] = '\0';
    if (s->r.body)
        s->r.body[0] = '\0';
    s->errbuf[0] = '\0';
    s->sent = 0;
    CURLcode cc = curl_easy_perform(s->curl);
    /* one per attempt, plus libcurl's resends on a closed reused connection */
    r->requests = s->sent > 1 ? (size_t)s->sent : 1;
    r->resends = s->sent > 1 ? (size_t)s->sent - 1 : 0;
    classify(s, cc, b->name, r, err);
    if (s->r.oom && r->result != ER_SINK_FAIL && !(cc != CURLE_OK && r->result == ER_SINK_STOP)) {
        r->st = er_errf(err, ER_ENOMEM, "out of memory reading the response for %s%s", b->name,
                        r->result == ER_SINK_OK ? " (delivered, not recorded: it stays pending)" : "");
        r->result = ER_SINK_FAIL;
    }
    r->body = s->r.body;
    r->body_len = s->r.len;
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
    free_headers(hdrs);
}
