/*
 * test_analyst_stats.c — the statistics of the analyst tools against known
 * values: Wilson intervals, label parsing, rankings at inspection rates with
 * ties, the logistic fit on a saturated model (closed form) and recovering
 * known weights from data generated with them (seeded GSL RNG), and the
 * outcome store (add, dedupe, last write wins, all-or-nothing on errors).
 */
#include "check_main.h"
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecorisk/analyst.h"
#include "tmp_fixture.h"

START_TEST(wilson_known_values)
{
    double lo, hi;
    er_wilson(8, 10, 0.95, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.4901625, 5e-7);
    ck_assert_double_eq_tol(hi, 0.9433178, 5e-7);
    char s[64];
    snprintf(s, sizeof s, "%.4f %.4f", lo, hi);
    ck_assert_str_eq(s, "0.4902 0.9433");
    er_wilson(0, 10, 0.95, &lo, &hi);
    ck_assert_double_eq(lo, 0);
    ck_assert_double_eq_tol(hi, 0.2775328, 5e-7);
    er_wilson(10, 10, 0.95, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.7224672, 5e-7);
    ck_assert_double_eq(hi, 1);
    er_wilson(1, 2, 0.95, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.0945312, 5e-7);
    ck_assert_double_eq_tol(hi, 0.9054688, 5e-7);
    er_wilson(3, 0, 0.95, &lo, &hi);
    ck_assert_double_eq(lo, 0);
    ck_assert_double_eq(hi, 1);
}
END_TEST

START_TEST(labels)
{
    ck_assert_int_eq(er_label_parse("1"), 1);
    ck_assert_int_eq(er_label_parse("2"), 1);
    ck_assert_int_eq(er_label_parse("0.0"), 0);
    ck_assert_int_eq(er_label_parse("0"), 0);
    ck_assert_int_eq(er_label_parse(" Yes "), 1);
    ck_assert_int_eq(er_label_parse("TRUE"), 1);
    ck_assert_int_eq(er_label_parse("no"), 0);
    ck_assert_int_eq(er_label_parse("false"), 0);
    ck_assert_int_eq(er_label_parse(""), -1);
    ck_assert_int_eq(er_label_parse(NULL), -1);
    ck_assert_int_eq(er_label_parse("maybe"), -1);
    ck_assert_int_eq(er_label_parse("1x"), -1);
}
END_TEST

START_TEST(ranking_with_ties)
{
    /* 10 declarations; scores with ties broken by order. */
    er_rank_item it[10] = {
        {10, 0, false}, {50, 1, true}, {50, 2, false}, {0, 3, true}, {80, 4, true},
        {50, 3, true},  {20, 6, false}, {0, 7, false}, {80, 8, false}, {5, 9, true},
    };
    er_rank_sort(it, 10);
    uint64_t want[10] = {4, 8, 1, 2, 3, 6, 0, 9, 3, 7};
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(it[i].order, want[i]);
    ck_assert_double_eq(it[4].score, 50);   /* order 3 with score 50 before order 3 score 0 */
    ck_assert_uint_eq(er_rank_k(0.05, 10), 1);
    ck_assert_uint_eq(er_rank_k(0.2, 10), 2);
    ck_assert_uint_eq(er_rank_k(0.25, 10), 3);
    ck_assert_uint_eq(er_rank_k(0.05, 200), 10);   /* 0.05 * 200 is not 10.000000000000002 here */
    ck_assert_uint_eq(er_rank_k(0.01, 45519), 456);
    ck_assert_uint_eq(er_rank_k(0, 10), 0);
    er_rank_at a;
    er_rank_at_rate(it, 10, 5, 0.3, &a);
    ck_assert_uint_eq(a.k, 3);
    ck_assert_uint_eq(a.hits, 2);
    ck_assert_double_eq_tol(a.precision, 2.0 / 3, 1e-15);
    ck_assert_double_eq_tol(a.recall, 0.4, 1e-15);
    ck_assert_double_eq(a.min_score, 50);
    /* AP: positives at ranks 1, 3, 5, 8, 9 → (1/1 + 2/3 + 3/5 + 4/8 + 5/9) / 5 = 299/450 */
    ck_assert_double_eq_tol(er_rank_ap(it, 10, 5), 299.0 / 450, 1e-15);
    ck_assert_double_eq(er_rank_ap(it, 10, 0), 0);
}
END_TEST

START_TEST(logit_saturated_closed_form)
{
    /* x=0: 10 samples, 2 positive; x=1: 10 samples, 6 positive. MLE is closed form. */
    uint64_t x[20];
    uint8_t y[20];
    for (int i = 0; i < 20; i++) {
        x[i] = i >= 10;
        y[i] = i < 10 ? i < 2 : i < 16;
    }
    er_logit_opts o = {.lambda = 0};
    er_logit_model m;
    er_err err = {{0}};
    ck_assert_int_eq(er_logit_fit(x, y, 20, 1, &o, &m, &err), ER_OK);
    ck_assert(m.converged);
    ck_assert_double_eq_tol(m.beta[0], log(0.25), 1e-9);
    ck_assert_double_eq_tol(m.beta[1], log(1.5) - log(0.25), 1e-9);
    ck_assert_double_eq_tol(m.se[0], sqrt(1 / 1.6), 1e-9);
    ck_assert_double_eq_tol(m.se[1], sqrt(1 / 1.6 + 1 / 2.4), 1e-9);
    ck_assert_uint_eq(m.fired[0], 10);
    ck_assert_uint_eq(m.positives, 8);
    /* log-likelihood: 10 (0.2 ln 0.2 + 0.8 ln 0.8) + 10 (0.6 ln 0.6 + 0.4 ln 0.4) */
    ck_assert_double_eq_tol(m.loglik, 2 * log(0.2) + 8 * log(0.8) + 6 * log(0.6) + 4 * log(0.4), 1e-9);

    /* A ridge penalty shrinks the coefficient towards 0. */
    o.lambda = 5;
    ck_assert_int_eq(er_logit_fit(x, y, 20, 1, &o, &m, &err), ER_OK);
    ck_assert(m.beta[1] > 0 && m.beta[1] < log(1.5) - log(0.25) - 0.3);

    /* Errors: too many features; one label only without a penalty. */
    ck_assert_int_eq(er_logit_fit(x, y, 20, 65, &o, &m, &err), ER_EINVAL);
    ck_assert_str_eq(err.msg, "logistic regression: 65 features (at most 64)");
    uint8_t zeros[20] = {0};
    o.lambda = 0;
    ck_assert_int_eq(er_logit_fit(x, zeros, 20, 1, &o, &m, &err), ER_EINVAL);
}
END_TEST

START_TEST(logit_recovers_known_weights)
{
    /* Data generated with known weights; feature 3 never fires (no data: beta 0, se unknown). */
    const double truth[6] = {-2.0, 1.5, 0.8, 0.0, 0.0, 2.2};
    const double prob[5] = {0.3, 0.4, 0.25, 0.0, 0.15};
    const size_t n = 60000;
    uint64_t *x = malloc(n * sizeof *x);
    uint8_t *y = malloc(n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20240607);
    for (size_t i = 0; i < n; i++) {
        uint64_t m = 0;
        double eta = truth[0];
        for (int j = 0; j < 5; j++)
            if (gsl_rng_uniform(r) < prob[j]) {
                m |= 1ULL << j;
                eta += truth[1 + j];
            }
        x[i] = m;
        y[i] = gsl_rng_uniform(r) < 1 / (1 + exp(-eta));
    }
    er_logit_opts o = {.lambda = 0.01};
    er_logit_model fit;
    er_err err = {{0}};
    ck_assert_int_eq(er_logit_fit(x, y, n, 5, &o, &fit, &err), ER_OK);
    ck_assert(fit.converged);
    for (int j = 0; j < 6; j++) {
        if (j == 4) {
            ck_assert_uint_eq(fit.fired[3], 0);
            ck_assert_double_eq(fit.beta[4], 0);
            ck_assert(isnan(fit.se[4]));
            continue;
        }
        ck_assert_msg(fabs(fit.beta[j] - truth[j]) < 4 * fit.se[j] && fabs(fit.beta[j] - truth[j]) < 0.12,
                      "beta[%d] = %g (se %g), truth %g", j, fit.beta[j], fit.se[j], truth[j]);
        ck_assert(fit.se[j] > 0.005 && fit.se[j] < 0.06);
    }
    /* The weight ordering is recovered: feature 4 > feature 0 > feature 1 > feature 2 (0). */
    ck_assert(fit.beta[5] > fit.beta[1] && fit.beta[1] > fit.beta[2] && fit.beta[2] > fit.beta[3]);
    ck_assert_double_eq_tol(er_logit_eta(&fit, 0x11), fit.beta[0] + fit.beta[1] + fit.beta[5], 1e-12);
    gsl_rng_free(r);
    free(y);
    free(x);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(outcome_store)
{
    char dir[160];
    tf_mkdtemp(dir, sizeof dir, "outcomes-");
    char store[256], csv[256], csv2[256], bad[256], jsonl[300];
    snprintf(store, sizeof store, "%s/store/sub", dir);
    snprintf(csv, sizeof csv, "%s/r1.csv", dir);
    snprintf(csv2, sizeof csv2, "%s/r2.csv", dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    snprintf(jsonl, sizeof jsonl, "%s/outcomes.jsonl", store);
    write_file(csv, "\xef\xbb\xbf" "declaration_id,seized,date,notes\r\n"
                    "D1,yes,2026-01-05,\"ivory, 3 pieces\"\r\n"
                    "D2,no,,\r\n"
                    "D3,1,2026-01-06,\"said \"\"none\"\"\"\r\n");
    er_outcomes_added res;
    er_err err = {{0}};
    er_outcomes *o = NULL;
    ck_assert_int_eq(er_outcomes_load(&o, store, &err), ER_ENOTFOUND);
    ck_assert_msg(er_outcomes_add(store, csv, &res, &err) == ER_OK, "%s", err.msg);
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.added, 3);
    ck_assert_uint_eq(res.updated, 0);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"id\":\"D1\",\"seized\":true,\"date\":\"2026-01-05\",\"notes\":\"ivory, 3 pieces\",\"source\":\"%s\",\"line\":2}\n"
             "{\"id\":\"D2\",\"seized\":false,\"source\":\"%s\",\"line\":3}\n"
             "{\"id\":\"D3\",\"seized\":true,\"date\":\"2026-01-06\",\"notes\":\"said \\\"none\\\"\",\"source\":\"%s\",\"line\":4}\n",
             csv, csv, csv);
    ck_assert_str_eq(slurp(jsonl), want);

    /* Same file again: nothing appended. Then an update and a new one. */
    ck_assert_int_eq(er_outcomes_add(store, csv, &res, &err), ER_OK);
    ck_assert_uint_eq(res.unchanged, 3);
    ck_assert_uint_eq(res.added + res.updated, 0);
    ck_assert_str_eq(slurp(jsonl), want);
    write_file(csv2, "seized,id\nyes,D2\nno,D4\nyes,D4\n");
    ck_assert_int_eq(er_outcomes_add(store, csv2, &res, &err), ER_OK);
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.added, 1);
    ck_assert_uint_eq(res.updated, 2);

    ck_assert_int_eq(er_outcomes_load(&o, store, &err), ER_OK);
    ck_assert_uint_eq(er_outcomes_count(o), 4);
    const er_outcome *e = er_outcomes_get(o, "D2");
    ck_assert_ptr_nonnull(e);
    ck_assert(e->seized);
    e = er_outcomes_get(o, "D4");
    ck_assert(e->seized);
    e = er_outcomes_get(o, "D1");
    ck_assert_str_eq(e->notes, "ivory, 3 pieces");
    ck_assert_ptr_null(er_outcomes_get(o, "D9"));
    er_outcomes_free(o);

    /* A bad row fails the whole file and writes nothing. */
    char before[8192];
    strcpy(before, slurp(jsonl));
    write_file(bad, "declaration_id,seized\nD5,yes\nD6,perhaps\n");
    ck_assert_int_eq(er_outcomes_add(store, bad, &res, &err), ER_EFORMAT);
    snprintf(want, sizeof want, "%s:3: seized: expected yes/no, true/false or 1/0, got 'perhaps'", bad);
    ck_assert_str_eq(err.msg, want);
    ck_assert_str_eq(slurp(jsonl), before);
    write_file(bad, "declaration,seized\nD5,yes\n");
    ck_assert_int_eq(er_outcomes_add(store, bad, &res, &err), ER_EFORMAT);
    snprintf(want, sizeof want, "%s:1: unknown column 'declaration' (expected declaration_id, seized, date, notes)", bad);
    ck_assert_str_eq(err.msg, want);
    write_file(bad, "id,seized,date\nD5,yes,2026-13-01\n");
    ck_assert_int_eq(er_outcomes_add(store, bad, &res, &err), ER_EFORMAT);
    write_file(bad, "id,seized\nD5,yes,extra\n");
    ck_assert_int_eq(er_outcomes_add(store, bad, &res, &err), ER_EFORMAT);
    snprintf(want, sizeof want, "%s:2: 3 fields, the header has 2", bad);
    ck_assert_str_eq(err.msg, want);
    ck_assert_str_eq(slurp(jsonl), before);

    /* A corrupt store line is reported with file and line. */
    FILE *f = fopen(jsonl, "a");
    fputs("{\"id\":\"D7\",\"seized\":\"yes\"}\n", f);
    fclose(f);
    ck_assert_int_eq(er_outcomes_load(&o, store, &err), ER_EPARSE);
    snprintf(want, sizeof want, "%s:7: $.seized: expected true or false", jsonl);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("analyst_stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, wilson_known_values);
    tcase_add_test(tc, labels);
    tcase_add_test(tc, ranking_with_ties);
    tcase_add_test(tc, logit_saturated_closed_form);
    tcase_add_test(tc, logit_recovers_known_weights);
    tcase_add_test(tc, outcome_store);
    suite_add_tcase(s, tc);
    return s;
}
