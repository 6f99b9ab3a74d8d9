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
#include "core/loopback.h"
#include "ecorisk/version.h"

#include <ctype.h>
#include <curl/curl.h>
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

static void *xmalloc(size_t n)
{
    if (er_outbox_fault_alloc())
        return NULL;
    return malloc(n ? n : 1);
}

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

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

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
    if (!strchr(buf, ':'))
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

typedef struct resp {
    char  *body;
    size_t len;
    size_t cap;
    bool   oom;
    char   retry_after[64];
} resp;

typedef struct session {
    er_outbox          *ob;
    const er_push_opts *opts;
    er_push_summary    *sum;
    CURL               *curl;
    struct curl_slist  *base_headers;
    char               *auth_header;   /* "Authorization: Bearer ..." (wiped on free) */
    char                endpoint_public[512];
    char                errbuf[CURL_ERROR_SIZE];
    resp                r;
    uint64_t            rng;
    int                 sent;          /* requests put on the wire by this perform */
} session;

/* Every request libcurl writes, including its own silent resend when a
 * reused connection turns out closed, shows here as one block of request
 * headers: counting them makes `requests` the number of HTTP attempts the
 * receiver may have seen (docs/alerts.md). Nothing is logged: the headers
 * hold the token. */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)c;
    session *s = ud;
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
static er_status check_endpoint(session *s, er_err *err)
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

static er_status session_init(session *s, er_err *err)
{
    const er_push_opts *o = s->opts;
    CURL *c;
    static bool global_done;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return er_errf(err, ER_ENET, "libcurl initialisation failed");
        global_done = true;
    }
    c = s->curl = curl_easy_init();
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
    s->rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)s;
    if (!s->rng)
        s->rng = 1;
    return ER_OK;
}

static void session_free(session *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->base_headers);
    if (s->auth_header) {
        wipe(s->auth_header, strlen(s->auth_header));
        free(s->auth_header);
    }
    free(s->r.body);
}

/* The receipt / response file: deterministic JSON, never the token. */
static er_status side_json(session *s, const char *batch, size_t n, long status, const char *reason,
                           char **out, er_err *err)
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
    if (s->r.body && s->r.len)
        resp_j = parse_json(s->r.body, s->r.len);
    if (!resp_j)
        resp_j = json_object_new_string_len(s->r.body ? s->r.body : "", (int)s->r.len);
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

/* Move a batch to dead/ with a reason (and the last response, if any). */
static outcome to_dead(session *s, const char *name, size_t n, long status, const char *reason, int attempt,
                       er_status *st, er_err *err)
{
    char *side = NULL;
    if ((*st = side_json(s, name, n, status, reason, &side, err)) != ER_OK)
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

/* POST one batch (raw = its stored bytes, n alerts) with retries. */
static outcome send_raw(session *s, const char *name, const char *raw, size_t raw_len, size_t n,
                        er_status *st, er_err *err)
{
    char *conv = NULL;
    const char *body = raw;
    size_t body_len = raw_len;
    struct curl_slist *hdrs = NULL;
    char key_hdr[96];
    outcome out = OUT_DONE;
    const er_push_opts *o = s->opts;

    *st = ER_OK;
    if (o->non_nominal) {
        er_err perr;
        size_t n2 = 0;
        *st = er_push_body(raw, raw_len, true, &conv, &body_len, &n2, &perr);
        if (*st == ER_EFORMAT) {
            char reason[ER_ERR_MSG_MAX + 32];
            snprintf(reason, sizeof reason, "stored batch unreadable: %s", perr.msg);
            out = to_dead(s, name, n, 0, reason, 0, st, err);
            goto cleanup;
        }
        if (*st != ER_OK) {
            er_errf(err, *st, "%s/pending/%s: %s", er_outbox_dir(s->ob), name, perr.msg);
            out = OUT_FAIL;
            goto cleanup;
        }
        body = conv;
    }
    snprintf(key_hdr, sizeof key_hdr, "Idempotency-Key: %.64s", name);
    {
        struct curl_slist *t = NULL;
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
    }
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);

    int max_attempts = o->max_attempts > 0 ? o->max_attempts : 1;
    for (int attempt = 1;; attempt++) {
        s->r.len = 0;
        s->r.oom = false;
        s->r.retry_after[0] = '\0';
        if (s->r.body)
            s->r.body[0] = '\0';
        s->errbuf[0] = '\0';
        s->sent = 0;
        CURLcode cc = curl_easy_perform(s->curl);
        /* one per attempt, plus libcurl's resends on a closed reused connection */
        s->sum->requests += s->sent > 1 ? (size_t)s->sent : 1;
        if (s->sent > 1)
            s->sum->resends += (size_t)s->sent - 1;
        long http = 0;
        char detail[CURL_ERROR_SIZE + 64];
        er_push_class cls;
        if (cc == CURLE_OK) {
            curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &http);
            cls = er_push_classify(http);
            snprintf(detail, sizeof detail, "HTTP %ld", http);
        } else {
            snprintf(detail, sizeof detail, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
            if (cc == CURLE_OUT_OF_MEMORY) {
                *st = er_errf(err, ER_ENOMEM, "out of memory sending %s", name);
                out = OUT_FAIL;
                goto cleanup;
            }
            if (curl_fatal(cc) || tls_alert_fatal(s->errbuf)) {
                emit(s, ER_PUSH_EV_STOPPED, name, n, attempt, 0, detail, 0);
                *st = er_errf(err, ER_ENET, "%s: %s", s->endpoint_public, detail);
                out = OUT_STOP_CONFIG;
                goto cleanup;
            }
            cls = ER_PUSH_RETRY;
        }
        if (s->r.oom) {
            *st = er_errf(err, ER_ENOMEM, "out of memory reading the response for %s%s", name,
                          cls == ER_PUSH_OK ? " (delivered, not recorded: it stays pending)" : "");
            out = OUT_FAIL;
            goto cleanup;
        }
        if (cls == ER_PUSH_OK) {
            char *side = NULL;
            if ((*st = side_json(s, name, n, http, NULL, &side, err)) != ER_OK) {
                er_err_prefix(err, *st, "%s delivered (HTTP %ld) but not recorded; it stays pending", name, http);
                out = OUT_FAIL;
                goto cleanup;
            }
            *st = er_outbox_mark_sent(s->ob, name, side, err);
            free(side);
            if (*st == ER_ENOTFOUND) {
                *st = ER_OK;
                goto cleanup;
            }
            if (*st != ER_OK) {
                er_err_prefix(err, *st, "delivered (HTTP %ld) but could not record it; the batch stays "
                                        "pending and will be sent again", http);
                out = OUT_FAIL;
                goto cleanup;
            }
            s->sum->batches_delivered++;
            s->sum->alerts_delivered += n;
            emit(s, ER_PUSH_EV_DELIVERED, name, n, attempt, http, detail, 0);
            goto cleanup;
        }
        if (cls == ER_PUSH_REJECT) {
            out = to_dead(s, name, n, http, "rejected by the receiver", attempt, st, err);
            goto cleanup;
        }
        if (cls == ER_PUSH_STOP) {
            emit(s, ER_PUSH_EV_STOPPED, name, n, attempt, http, detail, 0);
            *st = er_errf(err, ER_EHTTP, "%s answered HTTP %ld%s; nothing more is sent, batches stay pending",
                          s->endpoint_public, http,
                          http == 401 || http == 403 || http == 407 ? " (check the token / client certificate)"
                          : http >= 300 && http < 400               ? " (redirects are not followed)"
                                                                    : " (check the endpoint URL)");
            out = OUT_STOP_HTTP;
            goto cleanup;
        }
        /* retry */
        long delay = er_push_backoff_ms(o->backoff_base_ms, o->backoff_max_ms, attempt, rand_unit(s));
        long ra = 0;
        bool has_ra = s->r.retry_after[0] && http &&
                      er_push_parse_retry_after(s->r.retry_after, (int64_t)time(NULL), &ra) == ER_OK;
        if (has_ra)
            delay = ra;
        if (attempt >= max_attempts || (has_ra && ra > o->retry_after_max_ms)) {
            char why[CURL_ERROR_SIZE + 160];
            if (attempt >= max_attempts)
                snprintf(why, sizeof why, "%s; %d attempts made, the batch stays pending", detail, attempt);
            else
                snprintf(why, sizeof why, "%s; Retry-After of %ld s exceeds the limit, the batch stays pending",
                         detail, ra / 1000);
            emit(s, ER_PUSH_EV_GAVE_UP, name, n, attempt, http, why, 0);
            *st = er_errf(err, ER_EPENDING, "%s: %s", s->endpoint_public, why);
            out = OUT_STOP_PENDING;
            goto cleanup;
        }
        s->sum->retries++;
        emit(s, ER_PUSH_EV_RETRY, name, n, attempt, http, detail, delay);
        sleep_ms(delay);
    }

oom:
    *st = er_errf(err, ER_ENOMEM, "out of memory building request headers");
    out = OUT_FAIL;
cleanup:
    if (s->curl) {
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
    }
    for (struct curl_slist *h = hdrs; h; h = h->next)   /* no token left in freed memory */
        if (strncmp(h->data, "Authorization:", 14) == 0)
            wipe(h->data, strlen(h->data));
    curl_slist_free_all(hdrs);
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
        return to_dead(s, name, 0, 0, why, 0, st, err);
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
    if ((st = check_endpoint(&s, err)) != ER_OK)
        goto cleanup;
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
        if (!s.curl && (st = session_init(&s, err)) != ER_OK)
            goto cleanup;
        for (size_t i = 0; i < l.n && out == OUT_DONE; i++)
            out = process_entry(&s, &l.e[i], &st, err);
    }

cleanup:
    er_outbox_list_free(&l);
    session_free(&s);
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
