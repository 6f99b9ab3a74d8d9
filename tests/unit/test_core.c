/*
 * test_core.c — the library core every module uses: status names and error
 * messages, the batch arena and interner, dates, quarantine records, and
 * libraries opened on first use.
 */
#include "check_main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/arena.h"
#include "ecorisk/decl.h"
#include "ecorisk/status.h"
#include "core/dynlib.h"

#include <math.h>

/* A table as curl_api.h / xgb_api.h make them, over libm. */
typedef struct m_api {
    double (*cos)(double);
    double (*sqrt)(double);
} m_api;

START_TEST(test_dynlib)
{
    er_err err;
    m_api m = {0};
    static const er_dynsym ok_syms[] = {{"cos", offsetof(m_api, cos)}, {"sqrt", offsetof(m_api, sqrt)}, {NULL, 0}};
    er_dynlib ok = ER_DYNLIB_INIT("libm", "libm.so.6", ok_syms, &m);
    ck_assert_int_eq(er_dynlib_load(&ok, &err), ER_OK);
    ck_assert(m.cos != NULL && m.sqrt != NULL);
    ck_assert(m.cos(0.0) == 1.0 && m.sqrt(16.0) == 4.0);
    ck_assert_int_eq(er_dynlib_load(&ok, NULL), ER_OK);   /* once */

    /* a missing symbol fails the load, naming it */
    m_api m2 = {0};
    static const er_dynsym bad_syms[] = {{"cos", offsetof(m_api, cos)}, {"no_such_fn", offsetof(m_api, sqrt)},
                                         {NULL, 0}};
    er_dynlib bad = ER_DYNLIB_INIT("libm", "libm.so.6", bad_syms, &m2);
    ck_assert_int_eq(er_dynlib_load(&bad, &err), ER_ELIBRARY);
    ck_assert_str_eq(err.msg, "libm (libm.so.6) has no no_such_fn: a version this ecorisk was not built for");

    /* a library that is not there: the soname and the loader's reason; the same again later */
    er_dynlib gone = ER_DYNLIB_INIT("libnothing", "libecorisk-absent.so.9", ok_syms, &m2);
    ck_assert_int_eq(er_dynlib_load(&gone, &err), ER_ELIBRARY);
    ck_assert_msg(strncmp(err.msg, "libnothing is needed for this but cannot be loaded (libecorisk-absent.so.9): ",
                          77) == 0, "%s", err.msg);
    ck_assert(strstr(err.msg, "libecorisk-absent.so.9: cannot open shared object file") != NULL);
    char first[sizeof err.msg];
    snprintf(first, sizeof first, "%s", err.msg);
    memset(err.msg, 0, sizeof err.msg);
    ck_assert_int_eq(er_dynlib_load(&gone, &err), ER_ELIBRARY);
    ck_assert_str_eq(err.msg, first);
    ck_assert_str_eq(er_status_str(ER_ELIBRARY), "shared library unavailable");
}
END_TEST

START_TEST(test_status)
{
    ck_assert_str_eq(er_status_str(ER_OK), "ok");
    ck_assert_str_eq(er_status_str(ER_EPROFILE), "invalid profile pack");
    ck_assert_str_eq(er_status_str((er_status)999), "unknown status");
    er_err e;
    ck_assert_int_eq(er_errf(&e, ER_EIO, "%s: %d", "x.csv", 7), ER_EIO);
    ck_assert_str_eq(e.msg, "x.csv: 7");
    ck_assert_int_eq(er_err_prefix(&e, ER_EIO, "feed %s", "a"), ER_EIO);
    ck_assert_str_eq(e.msg, "feed a: x.csv: 7");
    ck_assert_int_eq(er_errf(NULL, ER_ENOMEM, "ignored"), ER_ENOMEM);
}
END_TEST

START_TEST(test_arena_intern)
{
    er_arena *a = er_arena_new(64);
    ck_assert_ptr_nonnull(a);
    const char *x = er_arena_intern(a, "importer-1", 10);
    const char *y = er_arena_intern(a, "importer-1xyz", 10);
    ck_assert_ptr_eq(x, y);
    ck_assert_str_eq(x, "importer-1");
    const char *first = NULL;
    for (int i = 0; i < 5000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "id-%d", i);
        const char *p = er_arena_intern(a, buf, (size_t)n);
        ck_assert_str_eq(p, buf);
        if (i == 0)
            first = p;
    }
    ck_assert_ptr_eq(er_arena_intern(a, "id-0", 4), first);
    void *big = er_arena_alloc(a, 1000);   /* larger than a block */
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq((uintptr_t)big % 8, 0);
    er_arena_reset(a);
    ck_assert_str_eq(er_arena_intern(a, "after", 5), "after");
    er_arena_free(a);
    er_arena_free(NULL);
}
END_TEST

START_TEST(test_dates)
{
    int32_t d;
    char out[11];
    ck_assert_int_eq(er_date_parse("1970-01-01", 10, &d), ER_OK);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(er_date_parse("2024-02-29", 10, &d), ER_OK);
    ck_assert_int_eq(d, 19782);
    er_date_format(d, out);
    ck_assert_str_eq(out, "2024-02-29");
    ck_assert_int_eq(er_date_parse("20240229", 8, &d), ER_OK);
    ck_assert_int_eq(d, 19782);
    ck_assert_int_eq(er_date_parse("2024-02-29T10:00:00Z", 20, &d), ER_OK);
    ck_assert_int_eq(er_date_parse("2023-02-29", 10, &d), ER_EPARSE);
    ck_assert_int_eq(er_date_parse("2023-13-01", 10, &d), ER_EPARSE);
    ck_assert_int_eq(er_date_parse("2023-1-01", 9, &d), ER_EPARSE);
    ck_assert_int_eq(er_date_parse("yesterday!", 10, &d), ER_EPARSE);
    ck_assert_int_eq(er_date_parse("2023-01-01x", 11, &d), ER_EPARSE);
    er_date_format(-1, out);
    ck_assert_str_eq(out, "1969-12-31");
}
END_TEST

START_TEST(test_batch)
{
    er_batch *b = NULL;
    ck_assert_int_eq(er_batch_new(&b, 2, NULL), ER_OK);
    er_decl *d1 = er_batch_push(b);
    er_decl *d2 = er_batch_push(b);
    ck_assert_ptr_nonnull(d1);
    ck_assert_ptr_nonnull(d2);
    ck_assert_ptr_null(er_batch_push(b));
    er_extra ex[1] = {{"Fraud", "1"}};
    d1->extra = ex;
    d1->n_extra = 1;
    ck_assert_str_eq(er_decl_extra(d1, "Fraud"), "1");
    ck_assert_ptr_null(er_decl_extra(d1, "fraud"));
    ck_assert_int_eq(er_batch_quarantine(b, "day.csv", 12, 10, ER_Q_BAD_HS, "hs", "A,B", 3,
                                         "hs '%s' is not 6-10 digits", "12"), ER_OK);
    ck_assert_uint_eq(b->n_q, 1);
    ck_assert_str_eq(b->quarantined[0].detail, "hs '12' is not 6-10 digits");
    ck_assert_str_eq(b->quarantined[0].field, "hs");
    ck_assert_str_eq(b->quarantined[0].excerpt, "A,B");
    ck_assert_str_eq(er_qreason_str(b->quarantined[0].reason), "bad_hs");
    er_batch_reset(b);
    ck_assert_uint_eq(b->n, 0);
    ck_assert_uint_eq(b->n_q, 0);
    er_batch_free(b);
    er_batch_free(NULL);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(er_flow_str(ER_FLOW_EX), "EX");
    ck_assert_str_eq(er_mode_str(ER_MODE_POST), "POST");
    ck_assert_str_eq(er_mode_str((er_mode)77), "");
    ck_assert_str_eq(er_qreason_str(ER_Q_GROSS_LT_NET), "gross_lt_net");
    ck_assert_str_eq(er_qreason_str(ER_Q_COUNT), "unknown");
    ck_assert(er_hash64("", 0, 0) == 1469598103934665603ULL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_dynlib);
    tcase_add_test(tc, test_arena_intern);
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_batch);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}
