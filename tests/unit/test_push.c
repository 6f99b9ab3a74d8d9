/*
 * test_push.c — push response handling (push.h): status classification,
 * Retry-After parsing (seconds and the three HTTP date forms), backoff with
 * jitter bounds, the non-nominal body, the batch scanner, token loading, and
 * er_push_run's refusals and its "endpoint down" outcome on loopback.
 */
#include "check_main.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecorisk/outbox.h"
#include "ecorisk/push.h"
#include "deliver/push_int.h"
#include "tmp_fixture.h"

START_TEST(classify)
{
    static const long ok[] = {200, 201, 202, 204, 299};
    static const long retry[] = {100, 408, 409, 425, 429, 500, 502, 503, 504, 599, 600, 0};
    static const long reject[] = {400, 402, 410, 411, 413, 415, 422, 451, 499};
    static const long stop[] = {300, 301, 302, 307, 308, 401, 403, 404, 405, 407};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ck_assert_int_eq(er_push_classify(ok[i]), ER_PUSH_OK);
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        ck_assert_int_eq(er_push_classify(retry[i]), ER_PUSH_RETRY);
    for (size_t i = 0; i < sizeof reject / sizeof *reject; i++)
        ck_assert_int_eq(er_push_classify(reject[i]), ER_PUSH_REJECT);
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        ck_assert_int_eq(er_push_classify(stop[i]), ER_PUSH_STOP);
}
END_TEST

START_TEST(retry_after)
{
    long ms = -1;
    ck_assert_int_eq(er_push_parse_retry_after("120", 0, &ms), ER_OK);
    ck_assert_int_eq(ms, 120000);
    ck_assert_int_eq(er_push_parse_retry_after(" 5\r\n", 0, &ms), ER_OK);
    ck_assert_int_eq(ms, 5000);
    ck_assert_int_eq(er_push_parse_retry_after("0", 0, &ms), ER_OK);
    ck_assert_int_eq(ms, 0);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    ck_assert_int_eq(er_push_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412450, &ms), ER_OK);
    ck_assert_int_eq(ms, 30000);
    ck_assert_int_eq(er_push_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412470, &ms), ER_OK);
    ck_assert_int_eq(ms, 10000);
    ck_assert_int_eq(er_push_parse_retry_after("Wed Oct 21 07:28:00 2015", 1445412477, &ms), ER_OK);
    ck_assert_int_eq(ms, 3000);
    ck_assert_int_eq(er_push_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412999, &ms), ER_OK);
    ck_assert_int_eq(ms, 0);   /* in the past */
    ck_assert_int_eq(er_push_parse_retry_after("99999999999", 0, &ms), ER_OK);
    ck_assert_int_gt(ms, 1000L * 86400 * 365);
    ck_assert_int_eq(er_push_parse_retry_after("", 0, &ms), ER_EPARSE);
    ck_assert_int_eq(er_push_parse_retry_after("soon", 0, &ms), ER_EPARSE);
    ck_assert_int_eq(er_push_parse_retry_after("1.5", 0, &ms), ER_EPARSE);
    ck_assert_int_eq(er_push_parse_retry_after("-3", 0, &ms), ER_EPARSE);
    ck_assert_int_eq(er_push_parse_retry_after(NULL, 0, &ms), ER_EPARSE);
}
END_TEST

START_TEST(backoff)
{
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 1, 0.0), 250);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 1, 0.5), 375);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 2, 0.0), 500);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 3, 0.0), 1000);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 3, 0.999), 1999);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 20, 0.0), 15000);
    ck_assert_int_eq(er_push_backoff_ms(500, 30000, 1000, 1.0), 29999);
    for (int a = 1; a < 12; a++)
        for (double u = 0; u < 1; u += 0.125) {
            long d = er_push_backoff_ms(100, 5000, a, u);
            long cap = 100L << (a - 1) > 5000 ? 5000 : 100L << (a - 1);
            ck_assert_int_ge(d, cap / 2);
            ck_assert_int_le(d, cap);
        }
}
END_TEST

static const char *BATCH =
    "[\n{\"alert_id\":\"a\",\"declaration\":{\"id\":\"D1\",\"importer\":\"ACME\",\"exporter\":\"X\","
    "\"declarant\":\"Y\",\"hs\":\"010690\",\"description\":\"a/b \\\"q\\\" ]}\"}},\n"
    "{\"alert_id\":\"b\",\"declaration\":{\"id\":\"D2\"}}\n]\n";

START_TEST(body_non_nominal)
{
    char *out = NULL;
    size_t len = 0, n = 0;
    er_err err;
    ck_assert_int_eq(er_push_body(BATCH, strlen(BATCH), false, &out, &len, &n, &err), ER_OK);
    ck_assert_str_eq(out, BATCH);
    ck_assert_uint_eq(len, strlen(BATCH));
    ck_assert_uint_eq(n, 2);
    free(out);
    ck_assert_int_eq(er_push_body(BATCH, strlen(BATCH), true, &out, &len, &n, &err), ER_OK);
    ck_assert_str_eq(out, "[{\"alert_id\":\"a\",\"declaration\":{\"id\":\"D1\",\"hs\":\"010690\","
                          "\"description\":\"a/b \\\"q\\\" ]}\"}},{\"alert_id\":\"b\",\"declaration\":{\"id\":\"D2\"}}]");
    ck_assert_uint_eq(n, 2);
    free(out);
    ck_assert_int_eq(er_push_body("[]", 2, true, &out, &len, &n, &err), ER_EFORMAT);
    ck_assert_int_eq(er_push_body("[1]", 3, false, &out, &len, &n, &err), ER_EFORMAT);
    ck_assert_int_eq(er_push_body("{\"a\":1}", 7, false, &out, &len, &n, &err), ER_EFORMAT);
    ck_assert_int_eq(er_push_body("[{}] x", 6, false, &out, &len, &n, &err), ER_EFORMAT);
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(scan)
{
    size_t n = 99;
    ck_assert(er_push_scan_batch(BATCH, strlen(BATCH), &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(er_push_scan_batch("[{}]", 4, &n));
    ck_assert_uint_eq(n, 1);
    const char *tricky = " [ {\"a\":[{},{}]} , {\"b\":\"}\\\\\"} ]\n";
    ck_assert(er_push_scan_batch(tricky, strlen(tricky), &n));
    ck_assert_uint_eq(n, 2);
    static const char *bad[] = {"", "[]", "[{}", "[{},]", "{}", "[{\"a\":\"x}]", "[{}]]", "[{}] {}",
                                "[1]", "[{\"a\":[}]", "[{\"a\":\"\\\"}]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!er_push_scan_batch(bad[i], strlen(bad[i]), &n), "accepted: %s", bad[i]);
}
END_TEST

START_TEST(token)
{
    char path[1024];
    tf_mkstemps(path, sizeof path, "token-", NULL);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "s3cr3t-T0KEN\n", 13), 13);
    close(fd);
    char *t = NULL;
    er_err err;
    ck_assert_int_eq(er_push_token_load(&t, path, &err), ER_OK);
    ck_assert_str_eq(t, "s3cr3t-T0KEN");
    er_push_token_free(t);

    FILE *f = fopen(path, "w");
    fputs("bad token\n", f);
    fclose(f);
    ck_assert_int_eq(er_push_token_load(&t, path, &err), ER_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert(strstr(err.msg, "bad token") == NULL);
    ck_assert(strstr(err.msg, "position 4") != NULL);
    f = fopen(path, "w");
    fputs("\n", f);
    fclose(f);
    ck_assert_int_eq(er_push_token_load(&t, path, &err), ER_EINVAL);
    unlink(path);
    ck_assert_int_eq(er_push_token_load(&t, path, &err), ER_ENOTFOUND);

    unsetenv("ECORISK_TOKEN");
    ck_assert_int_eq(er_push_token_load(&t, NULL, &err), ER_OK);
    ck_assert_ptr_null(t);
    setenv("ECORISK_TOKEN", "env-token", 1);
    ck_assert_int_eq(er_push_token_load(&t, NULL, &err), ER_OK);
    ck_assert_str_eq(t, "env-token");
    er_push_token_free(t);
    unsetenv("ECORISK_TOKEN");
}
END_TEST

static char root[256];

/* A fresh outbox root (removed with the scratch directory at exit). */
static void mkroot(void)
{
    tf_mkdtemp(root, sizeof root, "push-");
}

START_TEST(run_refusals)
{
    mkroot();
    er_outbox *o = NULL;
    er_err err;
    ck_assert_int_eq(er_outbox_open(&o, root, &err), ER_OK);
    er_push_opts po;
    er_push_summary sum;
    er_push_opts_init(&po);
    po.endpoint = "http://127.0.0.1:9/x";
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EINVAL);
    ck_assert(strstr(err.msg, "--insecure-http") != NULL);
    po.endpoint = "ftp://127.0.0.1/x";
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EINVAL);
    po.endpoint = "https://user:pw@127.0.0.1/x";
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EINVAL);
    ck_assert(strstr(err.msg, "pw") == NULL);
    po.endpoint = "not a url";
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EINVAL);
    po.endpoint = "https://127.0.0.1/x";
    po.cert = "c.pem";
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EINVAL);
    po.cert = NULL;
    /* nothing pending: nothing to do, no connection attempted */
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_OK);
    ck_assert_uint_eq(sum.requests, 0);
    er_outbox_free(o);
}
END_TEST

static int n_retry_events, n_gaveup_events;
static void on_ev(const er_push_event *ev, void *ud)
{
    (void)ud;
    if (ev->kind == ER_PUSH_EV_RETRY)
        n_retry_events++;
    if (ev->kind == ER_PUSH_EV_GAVE_UP)
        n_gaveup_events++;
}

START_TEST(run_endpoint_down)
{
    mkroot();
    er_outbox *o = NULL;
    er_err err;
    ck_assert_int_eq(er_outbox_open(&o, root, &err), ER_OK);
    const char *a[] = {"{\"alert_id\":\"1\"}", "{\"alert_id\":\"2\"}", "{\"alert_id\":\"3\"}"};
    ck_assert_int_eq(er_outbox_put_all(o, a, 3, 2, NULL, &err), ER_OK);
    er_push_opts po;
    er_push_summary sum;
    er_push_opts_init(&po);
    po.endpoint = "http://127.0.0.1:9/alerts";   /* discard port: nothing listens */
    po.insecure_http = true;
    po.max_attempts = 3;
    po.backoff_base_ms = 10;
    po.on_event = on_ev;
    ck_assert_int_eq(er_push_run(o, &po, &sum, &err), ER_EPENDING);
    ck_assert(strstr(err.msg, "3 attempts") != NULL);
    ck_assert_uint_eq(sum.requests, 3);
    ck_assert_uint_eq(sum.retries, 2);
    ck_assert_int_eq(n_retry_events, 2);
    ck_assert_int_eq(n_gaveup_events, 1);
    ck_assert_uint_eq(sum.batches_delivered, 0);
    ck_assert_uint_eq(sum.batches_pending, 2);
    ck_assert_uint_eq(sum.alerts_pending, 3);
    er_outbox_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("push");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, classify);
    tcase_add_test(tc, retry_after);
    tcase_add_test(tc, backoff);
    tcase_add_test(tc, body_non_nominal);
    tcase_add_test(tc, scan);
    tcase_add_test(tc, token);
    tcase_add_test(tc, run_refusals);
    tcase_add_test(tc, run_endpoint_down);
    suite_add_tcase(s, tc);
    return s;
}
