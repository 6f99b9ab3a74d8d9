/*
 * fuzz_push.c — libFuzzer harness for the delivery module's response and
 * batch handling (push.h): HTTP status classification, Retry-After parsing
 * (delta-seconds and HTTP dates), the backoff schedule, the non-nominal body
 * rewrite and the batch scanner. Input layout:
 *   bytes 0-1  HTTP status (0..65535), byte 2 flags (bit 0: non-nominal),
 *   bytes 3-6  backoff parameters, then the Retry-After value up to '\n',
 *   then a stored batch (a JSON array of alerts).
 * Checks: the classification follows the documented table; a parsed
 * Retry-After is never negative and delta-seconds give exactly n*1000 ms;
 * backoff stays in [0, max] and at least half the first delay; a body is the batch unchanged unless
 * non-nominal, and then a JSON array of as many objects without
 * importer/exporter/declarant; scanner and body agree on the alert count.
 */
#include <json-c/json.h>
#include <limits.h>

#include "ecorisk/push.h"
#include "deliver/push_int.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_class(long s)
{
    er_push_class c = er_push_classify(s);
    if (s >= 200 && s < 300)
        FZ_CHECK(c == ER_PUSH_OK);
    else if ((s >= 300 && s < 400) || s == 401 || s == 403 || s == 404 || s == 405 || s == 407)
        FZ_CHECK(c == ER_PUSH_STOP);
    else if (s == 408 || s == 409 || s == 425 || s == 429 || s >= 500 || s < 200)
        FZ_CHECK(c == ER_PUSH_RETRY);
    else
        FZ_CHECK(c == ER_PUSH_REJECT);
}

static void check_body(const char *batch, size_t len, bool nn)
{
    char *out = NULL;
    size_t out_len = 0, n = 0, scanned = 0;
    er_err err = {{0}};
    bool scan_ok = er_push_scan_batch(batch, len, &scanned);
    er_status st = er_push_body(batch, len, nn, &out, &out_len, &n, &err);
    if (st != ER_OK) {
        FZ_CHECK(out == NULL && err.msg[0]);
        return;
    }
    FZ_CHECK(out && n > 0);
    if (scan_ok)
        FZ_CHECK(scanned == n);
    if (!nn) {
        FZ_CHECK(out_len == len && memcmp(out, batch, len) == 0);
    } else {
        json_tokener *tok = json_tokener_new();
        json_object *arr = json_tokener_parse_ex(tok, out, (int)out_len);
        FZ_CHECK(arr && json_tokener_get_error(tok) == json_tokener_success);
        FZ_CHECK(json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == n);
        for (size_t i = 0; i < n; i++) {
            json_object *a = json_object_array_get_idx(arr, i), *d = NULL;
            FZ_CHECK(json_object_is_type(a, json_type_object));
            if (json_object_object_get_ex(a, "declaration", &d) && json_object_is_type(d, json_type_object)) {
                FZ_CHECK(!json_object_object_get_ex(d, "importer", NULL));
                FZ_CHECK(!json_object_object_get_ex(d, "exporter", NULL));
                FZ_CHECK(!json_object_object_get_ex(d, "declarant", NULL));
            }
        }
        json_object_put(arr);
        json_tokener_free(tok);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 7)
        return 0;
    long status = (long)data[0] << 8 | data[1];
    bool nn = data[2] & 1;
    check_class(status);
    check_class(-status);
    check_class(status * 1000003L);

    long base = 1 + data[3] * 37L, max = base + data[4] * 997L;
    int attempt = 1 + data[5] % 70;
    double u = data[6] / 256.0;
    long b = er_push_backoff_ms(base, max, attempt, u);
    /* jittered to [d/2, d] in whole milliseconds, d <= max: 0 only when d == 1 */
    FZ_CHECK(b >= 0 && b <= max);
    FZ_CHECK(b >= (base < max ? base : max) / 2);

    const uint8_t *p = data + 7, *end = data + size;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    size_t vlen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    char *value = malloc(vlen + 1);
    FZ_CHECK(value);
    memcpy(value, p, vlen);
    value[vlen] = '\0';
    long ms = -1;
    er_status st = er_push_parse_retry_after(value, 1764000000, &ms);
    if (st == ER_OK) {
        FZ_CHECK(ms >= 0);
        char *q = value;
        while (*q == ' ' || *q == '\t')
            q++;
        size_t k = strspn(q, "0123456789");
        if (k > 0 && k <= 9 && q[k + strspn(q + k, " \t\r\n")] == '\0')
            FZ_CHECK(ms == strtol(q, NULL, 10) * 1000L);
    } else {
        FZ_CHECK(st == ER_EPARSE);
    }
    free(value);

    if (nl) {
        size_t blen = (size_t)(end - nl - 1);
        char *batch = malloc(blen + 1);
        FZ_CHECK(batch);
        memcpy(batch, nl + 1, blen);
        batch[blen] = '\0';
        check_body(batch, blen, nn);
        free(batch);
    }
    return 0;
}
