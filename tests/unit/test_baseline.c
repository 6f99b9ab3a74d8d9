/*
 * test_baseline.c — the baseline: histogram quantiles and MAD against closed
 * forms (and against gsl_histogram_pdf), the merge property over 2, 3 and 7
 * shards in any order, byte-identical files, save/load round trips, and
 * clear errors (file + JSON path) for corrupt or version-mismatched files.
 */
#include "check_main.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_histogram.h>
#include <json-c/json.h>

#include "baseline_fixture.h"
#include "stats/baseline_impl.h"
#include "tmp_fixture.h"

static char tmpdir[256];

/* A fresh directory per test (removed with the scratch directory at exit). */
static void setup(void)
{
    tf_mkdtemp(tmpdir, sizeof tmpdir, "baseline-");
}

static char *tpath(const char *name)
{
    static char p[8][320];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(s, 1, n, f), n);
    fclose(f);
}

static er_baseline *build(const er_decl *d, size_t n, unsigned min_group)
{
    er_baseline_builder *b = NULL;
    er_baseline *bl = NULL;
    er_err err = {{0}};
    er_baseline_opts o = {min_group};
    ck_assert_int_eq(er_baseline_builder_new(&b, &o, &err), ER_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(er_baseline_builder_add(b, &d[i], &err), ER_OK);
    ck_assert_msg(er_baseline_builder_finish(b, &bl, &err) == ER_OK, "%s", err.msg);
    er_baseline_builder_free(b);
    return bl;
}

static char *text_of(const er_baseline *bl, size_t *len)
{
    char *t = er_bl_serialize(bl, len, er_baseline_id(bl));
    ck_assert_ptr_nonnull(t);
    return t;
}

/* ---- histogram statistics ---- */

#define BIN_X(i) (HIST_LO + (double)(i) * HIST_W)

START_TEST(hist_quantile_single_bin)
{
    er_bl_gsl_quiet();
    double h[HIST_BINS] = {0};
    h[300] = 8;
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 8, 0.5), BIN_X(300) + 0.5 * HIST_W, 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 8, 0.25), BIN_X(300) + 0.25 * HIST_W, 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 8, 0.0), BIN_X(300), 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 8, 1.0), BIN_X(301), 1e-12);
    /* uniform inside one bin: |x − m| uniform on [0, w/2] → MAD = w/4 */
    ck_assert_double_eq_tol(er_bl_hist_mad(h, 8, BIN_X(300) + 0.5 * HIST_W), HIST_W / 4, 1e-12);
}
END_TEST

START_TEST(hist_quantile_two_bins)
{
    double h[HIST_BINS] = {0};
    h[100] = 1;
    h[102] = 3;
    /* t = 2: one unit in bin 100, then 1/3 into bin 102 */
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 4, 0.5), BIN_X(102) + HIST_W / 3, 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_quantile(h, 4, 0.125), BIN_X(100) + 0.5 * HIST_W, 1e-12);
}
END_TEST

START_TEST(hist_mad_closed_forms)
{
    double h[HIST_BINS] = {0};
    /* uniform on 4 bins [a, a+4w): median a+2w, |x−m| uniform on [0,2w] → MAD = w */
    for (int i = 200; i < 204; i++) h[i] = 5;
    double m = er_bl_hist_quantile(h, 20, 0.5);
    ck_assert_double_eq_tol(m, BIN_X(202), 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_mad(h, 20, m), HIST_W, 1e-12);
    /* two equal blocks far apart: median at the end of the first, MAD = w */
    double g[HIST_BINS] = {0};
    g[50] = 1;
    g[60] = 1;
    m = er_bl_hist_quantile(g, 2, 0.5);
    ck_assert_double_eq_tol(m, BIN_X(51), 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_mad(g, 2, m), HIST_W, 1e-12);
    /* asymmetric: 3 in bin 10, 1 in bin 20; median 2/3 into bin 10 → m = a + 2w/3.
     * G(t) = mass within t: 3·(2t/w) for t ≤ w/3 (both sides), then 2 + 3·(t/w)...
     * half = 2 is reached exactly at t = w/3. */
    double k[HIST_BINS] = {0};
    k[10] = 3;
    k[20] = 1;
    m = er_bl_hist_quantile(k, 4, 0.5);
    ck_assert_double_eq_tol(m, BIN_X(10) + 2 * HIST_W / 3, 1e-12);
    ck_assert_double_eq_tol(er_bl_hist_mad(k, 4, m), HIST_W / 3, 1e-12);
}
END_TEST

/* The quantile matches GSL's own inverse CDF of the histogram (gsl_histogram_pdf_sample). */
START_TEST(hist_quantile_matches_gsl_pdf)
{
    er_bl_gsl_quiet();
    uint64_t s = 42;
    gsl_histogram *gh = gsl_histogram_alloc(HIST_BINS);
    gsl_histogram_set_ranges(gh, er_bl_hist_range, HIST_BINS + 1);
    double h[HIST_BINS] = {0};
    uint64_t n = 0;
    for (int i = 0; i < 5000; i++) {
        double x = 2 + 1.5 * fx_normal(&s);
        gsl_histogram_increment(gh, x);
        h[er_bl_hist_bin(x)] += 1;   /* the builder's binning is GSL's */
        n++;
    }
    for (int i = 0; i < HIST_BINS; i++)
        ck_assert_double_eq(h[i], gsl_histogram_get(gh, (size_t)i));
    gsl_histogram_pdf *pdf = gsl_histogram_pdf_alloc(HIST_BINS);
    gsl_histogram_pdf_init(pdf, gh);
    const double qs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.123};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        ck_assert_double_eq_tol(er_bl_hist_quantile(h, n, qs[i]), gsl_histogram_pdf_sample(pdf, qs[i]), 1e-9);
    gsl_histogram_pdf_free(pdf);
    gsl_histogram_free(gh);
}
END_TEST

/* The builder's direct bin index equals gsl_histogram_find's, edges included. */
START_TEST(hist_bin_matches_gsl)
{
    er_bl_gsl_quiet();
    gsl_histogram *gh = gsl_histogram_alloc(HIST_BINS);
    gsl_histogram_set_ranges(gh, er_bl_hist_range, HIST_BINS + 1);
    for (int i = 0; i <= HIST_BINS; i++)   /* the fixed edges are exact multiples of 1/16 */
        ck_assert_double_eq(er_bl_hist_range[i], HIST_LO + i / 16.0);
    uint64_t s = 3;
    for (int i = 0; i < 200000; i++) {
        double x = HIST_LO + (HIST_HI - HIST_LO) * fx_unif(&s);
        if (i % 10 == 0) /* exact edges */
            x = HIST_LO + (double)(fx_rng(&s) % HIST_BINS) * HIST_W;
        if (i % 10 == 1) /* one ulp below an edge */
            x = nextafter(HIST_LO + (double)(1 + fx_rng(&s) % (HIST_BINS - 1)) * HIST_W, -INFINITY);
        size_t k;
        ck_assert_int_eq(gsl_histogram_find(gh, x, &k), 0);
        ck_assert_uint_eq(er_bl_hist_bin(x), k);
    }
    ck_assert_uint_eq(er_bl_hist_bin(-1e300), 0);
    ck_assert_uint_eq(er_bl_hist_bin(HIST_HI), HIST_BINS - 1);
    ck_assert_uint_eq(er_bl_hist_bin(NAN), 0);
    gsl_histogram_free(gh);
}
END_TEST

/* ---- moments and group fallbacks ---- */

START_TEST(moments_and_levels)
{
    /* 3 rows with log unit values 1, 2, 3 (exact in fixed point) in one HS6. */
    er_decl d[3];
    for (int i = 0; i < 3; i++)
        d[i] = fx_decl("290345", 19000 + i, exp(1.0 + i) * 10.0, 10.0);
    er_baseline *bl = build(d, 3, 2);
    const group *g6 = er_bl_gs_find(&bl->gs, LV_HS6, 290345);
    const group *g4 = er_bl_gs_find(&bl->gs, LV_HS4, 2903);
    const group *g2 = er_bl_gs_find(&bl->gs, LV_HS2, 29);
    const group *ga = er_bl_gs_find(&bl->gs, LV_ALL, 0);
    ck_assert_ptr_nonnull(g6);
    ck_assert_ptr_nonnull(g4);
    ck_assert_ptr_nonnull(g2);
    ck_assert_ptr_nonnull(ga);
    ck_assert_uint_eq(g6->n, 3);
    ck_assert_uint_eq(ga->rows, 3);
    ck_assert_double_eq_tol(g6->mean, 2.0, 1e-12);
    ck_assert_double_eq_tol(g6->sd, 1.0, 1e-12);
    ck_assert_double_eq_tol(g4->m2.mu[0], 2.0, 1e-12);
    ck_assert_double_eq_tol(g4->m2.mu[1], log(10.0), 1e-6);   /* quantised to 2^-20 */
    ck_assert_double_eq_tol(g4->m2.cov[0], 1.0, 1e-12);
    ck_assert_uint_eq(bl->rows, 3);
    ck_assert_int_eq(bl->date_min, 19000);
    ck_assert_int_eq(bl->date_max, 19002);
    ck_assert_uint_eq(er_baseline_rows(bl), 3);
    ck_assert_uint_eq(strlen(er_baseline_id(bl)), 32);
    er_baseline_free(bl);
}
END_TEST

/* Unit errors (grams declared as kg) barely move the robust centre. */
START_TEST(robust_to_unit_errors)
{
    er_decl d[1100];
    uint64_t s = 7;
    for (int i = 0; i < 1100; i++) {
        double kg = 100, uv = exp(log(20.0) + 0.2 * fx_normal(&s));
        d[i] = fx_decl("391590", 19000, uv * kg, i < 1000 ? kg : kg * 1000);
    }
    er_baseline *clean = build(d, 1000, 30), *dirty = build(d, 1100, 30);
    const group *a = er_bl_gs_find(&clean->gs, LV_HS6, 391590), *b = er_bl_gs_find(&dirty->gs, LV_HS6, 391590);
    ck_assert(fabs(a->median - b->median) < 0.03);
    ck_assert(fabs(a->mad - b->mad) < 0.03);
    ck_assert(fabs(a->mean - b->mean) > 0.5);   /* the mean is poisoned, the median is not */
    er_baseline_free(clean);
    er_baseline_free(dirty);
}
END_TEST

/* ---- merge property ---- */

static er_baseline *merge_list(er_baseline **parts, size_t n)
{
    er_baseline *m = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_baseline_merge(&m, (const er_baseline *const *)parts, n, &err) == ER_OK, "%s", err.msg);
    return m;
}

static void check_equal(const er_baseline *a, const er_baseline *b)
{
    size_t la, lb;
    char *ta = text_of(a, &la), *tb = text_of(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_msg(memcmp(ta, tb, la) == 0, "merged baseline differs from the whole build");
    ck_assert_str_eq(er_baseline_id(a), er_baseline_id(b));
    ck_assert_uint_eq(a->gs.n, b->gs.n);
    for (size_t i = 0; i < a->gs.n; i++) {
        const group *x = &a->gs.g[i];
        const group *y = er_bl_gs_find(&b->gs, x->level, x->code);
        ck_assert_ptr_nonnull(y);
        ck_assert_uint_eq(x->rows, y->rows);
        ck_assert_uint_eq(x->n, y->n);
        ck_assert(x->s == y->s && x->ss == y->ss);
        ck_assert(memcmp(&x->mv3, &y->mv3, sizeof x->mv3) == 0);
        ck_assert(memcmp(x->hist, y->hist, HIST_BINS * sizeof *x->hist) == 0);
        ck_assert_double_eq_tol(x->median, y->median, 1e-12);
        ck_assert_double_eq_tol(x->mad, y->mad, 1e-12);
        for (int k = 0; k < 6; k++)
            ck_assert_double_eq_tol(x->m3.L[k], y->m3.L[k], 1e-12);
        ck_assert_uint_eq(x->route_k, y->route_k);
        ck_assert_uint_eq(x->traders, y->traders);
        ck_assert_uint_eq(x->nov.rows, y->nov.rows);
        ck_assert_uint_eq(x->nov.c05, y->nov.c05);
    }
    ck_assert_uint_eq(a->imp_nov.k, b->imp_nov.k);
    ck_assert_uint_eq(a->imp_nov.rows, b->imp_nov.rows);
    ck_assert_uint_eq(a->imp_nov.m, b->imp_nov.m);
    for (uint32_t j = 0; j < a->imp_nov.m; j++)
        ck_assert_uint_eq(a->imp_nov.sum_le[j], b->imp_nov.sum_le[j]);
    ck_assert_uint_eq(a->n_rs, b->n_rs);
    ck_assert_uint_eq(a->n_ts, b->n_ts);
    ck_assert(memcmp(a->ts, b->ts, a->n_ts * sizeof *a->ts) == 0 || a->n_ts == 0);
    free(ta);
    free(tb);
}

START_TEST(merge_equals_whole)
{
    fx_hist h = fx_history(20000, 99);
    er_baseline *whole = build(h.d, h.n, 30);
    const size_t shard_counts[] = {2, 3, 7};
    for (size_t si = 0; si < 3; si++) {
        size_t k = shard_counts[si];
        er_baseline *parts[7];
        /* contiguous shards of uneven size */
        size_t start = 0;
        for (size_t j = 0; j < k; j++) {
            size_t end = j + 1 == k ? h.n : start + h.n / k + (j % 2 ? 17 : 0);
            parts[j] = build(h.d + start, end - start, 30);
            start = end;
        }
        er_baseline *m = merge_list(parts, k);
        check_equal(whole, m);
        er_baseline_free(m);
        /* reversed order */
        er_baseline *rev[7];
        for (size_t j = 0; j < k; j++) rev[j] = parts[k - 1 - j];
        m = merge_list(rev, k);
        check_equal(whole, m);
        er_baseline_free(m);
        /* tree: merge(merge(first half), merge(second half)) */
        if (k >= 2) {
            er_baseline *l = merge_list(parts, k / 2), *r = merge_list(parts + k / 2, k - k / 2);
            er_baseline *lr[2] = {r, l};
            m = merge_list(lr, 2);
            check_equal(whole, m);
            er_baseline_free(m);
            er_baseline_free(l);
            er_baseline_free(r);
        }
        for (size_t j = 0; j < k; j++) er_baseline_free(parts[j]);
    }
    /* round-robin shards (interleaved rows) */
    er_decl *rr[3];
    size_t nrr[3] = {0};
    for (int j = 0; j < 3; j++) rr[j] = calloc(h.n, sizeof **rr);
    for (size_t i = 0; i < h.n; i++) rr[i % 3][nrr[i % 3]++] = h.d[i];
    er_baseline *p3[3];
    for (int j = 0; j < 3; j++) p3[j] = build(rr[j], nrr[j], 30);
    er_baseline *m = merge_list(p3, 3);
    check_equal(whole, m);
    er_baseline_free(m);
    for (int j = 0; j < 3; j++) {
        er_baseline_free(p3[j]);
        free(rr[j]);
    }
    er_baseline_free(whole);
    fx_history_free(&h);
}
END_TEST

/* Trader counts merge by sum and first-seen dates by minimum, at both levels:
 * X declares 2× in chapter 29 (days 19010, 19012) in shard A, 3× (days 19005..
 * 19007) in shard B and once in chapter 44 (day 19001) in B. */
START_TEST(merge_sums_trader_counts)
{
    er_decl d[6];
    for (int i = 0; i < 6; i++) {
        d[i] = fx_decl(i == 5 ? "440349" : "290345", i < 2 ? 19010 + 2 * i : i < 5 ? 19003 + i : 19001, 10, 1);
        d[i].importer = "X";
    }
    er_baseline *a = build(d, 2, 30), *b = build(d + 2, 4, 30), *whole = build(d, 6, 30);
    er_baseline *parts[2] = {a, b};
    er_baseline *m = merge_list(parts, 2);
    check_equal(whole, m);
    uint64_t h = er_bl_importer_hash("X");
    const trader_ent *t = er_bl_trader_get(&m->traders, h, 29);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->date, 19005);
    ck_assert_uint_eq(t->n, 5);
    t = er_bl_trader_get(&m->importers, h, IMPORTER_CH);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->date, 19001);
    ck_assert_uint_eq(t->n, 6);
    size_t len;
    char *txt = text_of(m, &len);
    char want[64];
    snprintf(want, sizeof want, "\"29\":\"%016llx:2022-01-13:5\"", (unsigned long long)h);
    ck_assert_msg(strstr(txt, want) != NULL, "%s not in the merged text", want);
    free(txt);
    er_baseline_free(m);
    er_baseline_free(whole);
    er_baseline_free(b);
    er_baseline_free(a);
}
END_TEST

/* The prefetching batch path builds exactly what one-by-one adds build. */
START_TEST(batch_equals_single_adds)
{
    fx_hist h = fx_history(20000, 77);
    er_baseline *one = build(h.d, h.n, 30), *bat = NULL;
    er_baseline_builder *b = NULL;
    er_err err = {{0}};
    er_baseline_opts o = {30};
    ck_assert_int_eq(er_baseline_builder_new(&b, &o, &err), ER_OK);
    for (size_t i = 0; i < h.n; i += 4096)
        ck_assert_int_eq(er_baseline_builder_add_batch(b, h.d + i, h.n - i < 4096 ? h.n - i : 4096, &err), ER_OK);
    ck_assert_int_eq(er_baseline_builder_finish(b, &bat, &err), ER_OK);
    check_equal(one, bat);
    er_baseline_builder_free(b);
    er_baseline_free(one);
    er_baseline_free(bat);
    fx_history_free(&h);
}
END_TEST

START_TEST(merge_rejects_different_min_group)
{
    fx_hist h = fx_history(100, 1);
    er_baseline *a = build(h.d, 50, 30), *b = build(h.d + 50, 50, 10), *m = NULL;
    er_baseline *v[2] = {a, b};
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_merge(&m, (const er_baseline *const *)v, 2, &err), ER_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "min_group"));
    ck_assert_int_eq(er_baseline_merge(&m, (const er_baseline *const *)v, 0, &err), ER_EINVAL);
    er_baseline_free(a);
    er_baseline_free(b);
    fx_history_free(&h);
}
END_TEST

/* ---- files ---- */

START_TEST(deterministic_and_round_trip)
{
    fx_hist h = fx_history(5000, 5);
    er_baseline *a = build(h.d, h.n, 30), *b = build(h.d, h.n, 30), *c = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_save(a, tpath("a.json"), &err), ER_OK);
    ck_assert_int_eq(er_baseline_save(b, tpath("b.json"), &err), ER_OK);
    size_t la, lb, lc;
    char *ta = slurp(tpath("a.json"), &la), *tb = slurp(tpath("b.json"), &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(ta, tb, la) == 0);
    ck_assert_msg(er_baseline_load(&c, tpath("a.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(c), er_baseline_id(a));
    ck_assert_int_eq(er_baseline_save(c, tpath("c.json"), &err), ER_OK);
    char *tc = slurp(tpath("c.json"), &lc);
    ck_assert_uint_eq(la, lc);
    ck_assert(memcmp(ta, tc, la) == 0);
    /* features computed from the loaded baseline equal those of the built one */
    for (size_t i = 0; i < 500; i++) {
        er_anomalies x, y;
        er_anomaly_compute(a, &h.d[i], &x);
        er_anomaly_compute(c, &h.d[i], &y);
        ck_assert(memcmp(&x, &y, sizeof x) == 0);
    }
    free(ta);
    free(tb);
    free(tc);
    er_baseline_free(a);
    er_baseline_free(b);
    er_baseline_free(c);
    fx_history_free(&h);
}
END_TEST

/* XXH64 (seed 0), the binary file's checksum: the reference library's values. */
START_TEST(xxh64_reference_vectors)
{
    static const struct { const char *s; uint64_t h; } v[] = {
        {"", 0xef46db3751d8e999ULL},
        {"a", 0xd24ec4f1a98c6e5bULL},
        {"abc", 0x44bc2cf5ad770999ULL},
        {"Nobody inspects the spammish repetition", 0xfbcea83c8a378bf1ULL},
        {"0123456789abcdef0123456789abcdef0123456789", 0xa76190c3acf08a1cULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_uint_eq(er_bl_xxh64(v[i].s, strlen(v[i].s)), v[i].h);
}
END_TEST

/* The binary form: built and converted files are the same bytes, it loads
 * with the same id, rows and features as the built baseline, converts back
 * to the identical JSON text, merges like the JSON form, and a flipped byte
 * or a truncation is rejected. */
START_TEST(binary_round_trip)
{
    fx_hist h = fx_history(5000, 5);
    er_baseline *a = build(h.d, h.n, 30), *j = NULL, *b = NULL, *m1 = NULL, *m2 = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_save(a, tpath("a.json"), &err), ER_OK);
    ck_assert_int_eq(er_baseline_save(a, tpath("a.bin"), &err), ER_OK);
    ck_assert_msg(er_baseline_load(&j, tpath("a.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(er_baseline_save_as(j, tpath("j.bin"), ER_BASELINE_BIN, &err), ER_OK);
    size_t la, lj, lt, l2;
    char *ta = slurp(tpath("a.bin"), &la), *tj = slurp(tpath("j.bin"), &lj);
    ck_assert_uint_eq(la, lj);
    ck_assert(memcmp(ta, tj, la) == 0);
    ck_assert(memcmp(ta, "ERBLBIN\n", 8) == 0);
    ck_assert_msg(er_baseline_load(&b, tpath("a.bin"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(b), er_baseline_id(a));
    ck_assert_uint_eq(er_baseline_rows(b), 5000);
    for (size_t i = 0; i < 500; i++) {
        er_anomalies x, y;
        er_anomaly_compute(a, &h.d[i], &x);
        er_anomaly_compute(b, &h.d[i], &y);
        ck_assert(memcmp(&x, &y, sizeof x) == 0);
    }
    ck_assert_int_eq(er_baseline_save_as(b, tpath("b.json"), ER_BASELINE_JSON, &err), ER_OK);
    char *t1 = slurp(tpath("a.json"), &lt), *t2 = slurp(tpath("b.json"), &l2);
    ck_assert_uint_eq(lt, l2);
    ck_assert(memcmp(t1, t2, lt) == 0);
    const er_baseline *two_b[2] = {b, b}, *two_a[2] = {a, a};
    ck_assert_int_eq(er_baseline_merge(&m1, two_b, 2, &err), ER_OK);
    ck_assert_int_eq(er_baseline_merge(&m2, two_a, 2, &err), ER_OK);
    ck_assert_str_eq(er_baseline_id(m1), er_baseline_id(m2));
    er_baseline *bad = NULL;
    ta[la / 2] ^= 1;
    spit(tpath("flip.bin"), ta, la);
    ck_assert_int_eq(er_baseline_load(&bad, tpath("flip.bin"), &err), ER_EBASELINE);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(strstr(err.msg, "checksum mismatch"));
    ta[la / 2] ^= 1;
    spit(tpath("short.bin"), ta, la - 8);
    ck_assert_int_eq(er_baseline_load(&bad, tpath("short.bin"), &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "file size"));
    free(ta);
    free(tj);
    free(t1);
    free(t2);
    er_baseline_free(m1);
    er_baseline_free(m2);
    er_baseline_free(a);
    er_baseline_free(j);
    er_baseline_free(b);
    fx_history_free(&h);
}
END_TEST

/* A baseline file that is not byte for byte what save wrote (pretty-printed,
 * groups and chapters in another order) loads through the slow path:
 * re-serialised, the same id, the same features, and saved back canonical. */
START_TEST(non_canonical_file_loads_the_same)
{
    fx_hist h = fx_history(5000, 5);
    er_baseline *a = build(h.d, h.n, 30), *c = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_save(a, tpath("a.json"), &err), ER_OK);
    json_object *root = json_object_from_file(tpath("a.json"));
    ck_assert_ptr_nonnull(root);
    /* reverse the groups array and the chapter order of traders */
    json_object *groups = json_object_object_get(root, "groups"), *rg = json_object_new_array();
    for (size_t i = json_object_array_length(groups); i-- > 0;)
        json_object_array_add(rg, json_object_get(json_object_array_get_idx(groups, i)));
    json_object_object_add(root, "groups", rg);
    json_object *tr = json_object_object_get(root, "traders"), *rt = json_object_new_object();
    const char *keys[100];
    size_t nk = 0;
    json_object_object_foreach(tr, k, v) {
        (void)v;
        keys[nk++] = k;
    }
    ck_assert_uint_gt(nk, 1);
    while (nk-- > 0)
        json_object_object_add(rt, keys[nk], json_object_get(json_object_object_get(tr, keys[nk])));
    json_object_object_add(root, "traders", rt);
    ck_assert_int_eq(json_object_to_file_ext(tpath("p.json"), root, JSON_C_TO_STRING_PRETTY), 0);
    json_object_put(root);

    ck_assert_msg(er_baseline_load(&c, tpath("p.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(c), er_baseline_id(a));
    for (size_t i = 0; i < 500; i++) {
        er_anomalies x, y;
        er_anomaly_compute(a, &h.d[i], &x);
        er_anomaly_compute(c, &h.d[i], &y);
        ck_assert(memcmp(&x, &y, sizeof x) == 0);
    }
    ck_assert_int_eq(er_baseline_save(c, tpath("c.json"), &err), ER_OK);
    size_t la, lc;
    char *ta = slurp(tpath("a.json"), &la), *tc = slurp(tpath("c.json"), &lc);
    ck_assert_uint_eq(la, lc);
    ck_assert(memcmp(ta, tc, la) == 0);
    /* an edited value in a pretty file is still caught: a first-seen date one day later */
    size_t lp;
    char *tp = slurp(tpath("p.json"), &lp);
    char *q = strstr(tp, "\"traders\"");
    ck_assert_ptr_nonnull(q);
    q = strstr(q + 9, "\":\"");            /* "NN":"hash:YYYY-MM-DD ..." */
    ck_assert_ptr_nonnull(q);
    q = strchr(q + 3, ':');
    ck_assert_ptr_nonnull(q);
    q[10] = q[10] == '1' ? '2' : '1';     /* the day's last digit */
    FILE *f = fopen(tpath("e.json"), "wb");
    fwrite(tp, 1, lp, f);
    fclose(f);
    ck_assert_int_eq(er_baseline_load(&c, tpath("e.json"), &err), ER_EBASELINE);
    ck_assert_msg(strstr(err.msg, "content hash") != NULL, "%s", err.msg);
    free(tp);
    free(ta);
    free(tc);
    er_baseline_free(c);
    er_baseline_free(a);
    fx_history_free(&h);
}
END_TEST

/* A file that is not canonical but carries the hash of its own text (an
 * ignored summary key renamed, then re-hashed) is intact, so it loads with
 * that id; saving it writes the canonical text under the canonical id, and
 * that file loads again (found by fuzz_baseline: save used to write the
 * canonical text under the file's id, which then failed to load). */
START_TEST(self_hashed_file_saves_canonical)
{
    fx_hist h = fx_history(2000, 3);
    er_baseline *a = build(h.d, h.n, 30), *c = NULL, *d = NULL;
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_save(a, tpath("a.json"), &err), ER_OK);
    size_t la;
    char *ta = slurp(tpath("a.json"), &la);
    char *t = malloc(la);
    memcpy(t, ta, la);
    char *m = strstr(t, "\"median\":");
    ck_assert_ptr_nonnull(m);
    memcpy(m + 1, "medion", 6);
    char *idp = strstr(t, "},\"id\":\"");
    ck_assert_ptr_nonnull(idp);
    idp += 8;
    memset(idp, '0', 32);
    char own[33];
    er_bl_text_id(t, la, own);
    memcpy(idp, own, 32);
    ck_assert_str_ne(own, er_baseline_id(a));
    FILE *f = fopen(tpath("s.json"), "wb");
    ck_assert_uint_eq(fwrite(t, 1, la, f), la);
    fclose(f);
    ck_assert_msg(er_baseline_load(&c, tpath("s.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(c), own);
    ck_assert_int_eq(er_baseline_save(c, tpath("c.json"), &err), ER_OK);
    size_t lc;
    char *tc = slurp(tpath("c.json"), &lc);
    ck_assert_uint_eq(lc, la);
    ck_assert(memcmp(tc, ta, la) == 0);
    ck_assert_msg(er_baseline_load(&d, tpath("c.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(d), er_baseline_id(a));
    free(tc);
    free(t);
    free(ta);
    er_baseline_free(d);
    er_baseline_free(c);
    er_baseline_free(a);
    fx_history_free(&h);
}
END_TEST

START_TEST(empty_baseline)
{
    er_baseline *a = build(NULL, 0, 30), *c = NULL;
    er_err err = {{0}};
    ck_assert_uint_eq(er_baseline_rows(a), 0);
    ck_assert_int_eq(er_baseline_save(a, tpath("e.json"), &err), ER_OK);
    ck_assert_msg(er_baseline_load(&c, tpath("e.json"), &err) == ER_OK, "%s", err.msg);
    ck_assert_str_eq(er_baseline_id(a), er_baseline_id(c));
    er_decl d = fx_decl("290345", 19000, 10, 1);
    er_anomalies an;
    er_anomaly_compute(c, &d, &an);
    ck_assert(an.have_baseline);
    ck_assert_uint_eq(an.n_computable, 0);
    ck_assert_double_eq(er_anomaly_fisher_p(&an), 1.0);
    er_baseline_free(a);
    er_baseline_free(c);
}
END_TEST

/* Replace the first occurrence of `from` with `to` in the saved file and load it. */
static er_status load_mutated(const char *text, size_t len, const char *from, const char *to, er_err *err)
{
    const char *p = strstr(text, from);
    ck_assert_msg(p != NULL, "fixture text lacks '%s'", from);
    size_t off = (size_t)(p - text), lf = strlen(from), lt = strlen(to);
    char *m = malloc(len - lf + lt + 1);
    memcpy(m, text, off);
    memcpy(m + off, to, lt);
    memcpy(m + off + lt, p + lf, len - off - lf);
    spit(tpath("m.json"), m, len - lf + lt);
    free(m);
    er_baseline *bl = NULL;
    er_status st = er_baseline_load(&bl, tpath("m.json"), err);
    er_baseline_free(bl);
    return st;
}

START_TEST(corrupt_files_fail_clearly)
{
    fx_hist h = fx_history(2000, 3);
    er_baseline *a = build(h.d, h.n, 30);
    er_err err = {{0}};
    ck_assert_int_eq(er_baseline_save(a, tpath("a.json"), &err), ER_OK);
    size_t len;
    char *t = slurp(tpath("a.json"), &len);

    ck_assert_int_eq(load_mutated(t, len, "\"format\":3", "\"format\":2", &err), ER_EVERSION);
    ck_assert_ptr_nonnull(strstr(err.msg, "m.json: $.format: baseline format 2, this ecorisk reads format 3"));
    ck_assert_int_eq(load_mutated(t, len, "\"kind\":\"ecorisk-baseline\"", "\"kind\":\"x\"", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.kind"));
    ck_assert_int_eq(load_mutated(t, len, "\"hist\":\"", "\"hist\":\"-", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "m.json: $.groups[0].hist: at character 0"));
    ck_assert_int_eq(load_mutated(t, len, "\"hist\":\"", "\"hist\":\"639:1 ", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.groups[0].hist: at character"));
    ck_assert_int_eq(load_mutated(t, len, "\"routes\":\"", "\"routes\":\"ZZ>:0 ", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.groups[0].routes: at character"));
    ck_assert_int_eq(load_mutated(t, len, "\n\"29\":\"", "\n\"29\":\"0000000000000000:2020-01-01:1 ", &err),
                     ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.traders.29: at character"));
    /* a first-seen entry without its count (format 2), or with a zero count */
    ck_assert_int_eq(load_mutated(t, len, "\n\"29\":\"", "\n\"29\":\"0000000000000001:2020-01-01 ", &err),
                     ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.traders.29: at character 28: expected \"hash:YYYY-MM-DD:count\""));
    ck_assert_int_eq(load_mutated(t, len, "\n\"29\":\"", "\n\"29\":\"0000000000000001:2020-01-01:0 ", &err),
                     ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.traders.29: at character"));
    /* one more row for a trader than its chapter's importer rows */
    ck_assert_int_eq(load_mutated(t, len, "\n\"29\":\"", "\n\"29\":\"0000000000000001:2020-01-01:1 ", &err),
                     ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "trader counts of chapter 29 add up to"));
    ck_assert_int_eq(load_mutated(t, len, "\"traders\":{", "\"traders\":{\"x\":\"\",", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.traders.x: expected a two-digit HS chapter"));
    ck_assert_int_eq(load_mutated(t, len, "\"rows\":", "\"rows\":\"x\",\"y\":", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.groups[0].rows"));
    ck_assert_int_eq(load_mutated(t, len, "\"level\":\"all\"", "\"level\":\"hs5\"", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.groups[0].level"));
    ck_assert_int_eq(load_mutated(t, len, "{\"date_max\"", "[{\"date_max\"", &err), ER_EPARSE);
    ck_assert_int_eq(load_mutated(t, len, "\"min_group\":30", "\"min_group\":0", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "$.min_group"));
    /* a changed number that keeps the structure valid is caught by the content hash */
    ck_assert_int_eq(load_mutated(t, len, "\"min_group\":30", "\"min_group\":31", &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "content hash"));
    /* truncated file */
    spit(tpath("t.json"), t, len / 2);
    er_baseline *bl = NULL;
    ck_assert_int_eq(er_baseline_load(&bl, tpath("t.json"), &err), ER_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "t.json:"));
    ck_assert_int_eq(er_baseline_load(&bl, tpath("missing.json"), &err), ER_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing.json"));
    spit(tpath("z.json"), "", 0);
    ck_assert_int_eq(er_baseline_load(&bl, tpath("z.json"), &err), ER_EPARSE);
    spit(tpath("n.json"), "null", 4);
    ck_assert_int_eq(er_baseline_load(&bl, tpath("n.json"), &err), ER_EPARSE);
    spit(tpath("o.json"), "{}", 2);
    ck_assert_int_eq(er_baseline_load(&bl, tpath("o.json"), &err), ER_EBASELINE);
    ck_assert_ptr_nonnull(strstr(err.msg, "o.json: $.kind"));
    ck_assert_ptr_null(bl);

    /* random byte mutations never crash and never load a different baseline */
    uint64_t s = 11;
    char *m = malloc(len + 1);
    for (int it = 0; it < 300; it++) {
        memcpy(m, t, len);
        int flips = 1 + (int)(fx_rng(&s) % 4);
        for (int f = 0; f < flips; f++)
            m[fx_rng(&s) % len] = (char)(fx_rng(&s) & 0xff);
        spit(tpath("f.json"), m, len);
        er_baseline *x = NULL;
        er_status st = er_baseline_load(&x, tpath("f.json"), &err);
        if (st == ER_OK) {
            ck_assert_str_eq(er_baseline_id(x), er_baseline_id(a));
            er_baseline_free(x);
        } else {
            ck_assert(strlen(err.msg) > 0);
        }
    }
    free(m);
    free(t);
    er_baseline_free(a);
    fx_history_free(&h);
}
END_TEST

START_TEST(describe_json)
{
    fx_hist h = fx_history(3000, 8);
    er_baseline *a = build(h.d, h.n, 30);
    char *j = er_baseline_describe(a, "2903.45");
    ck_assert_ptr_nonnull(j);
    ck_assert_ptr_nonnull(strstr(j, "\"hs\":\"290345\""));
    ck_assert_ptr_nonnull(strstr(j, "\"level\":\"hs6\",\"group\":\"290345\""));
    ck_assert_ptr_nonnull(strstr(j, "\"level\":\"hs4\",\"group\":\"2903\""));
    ck_assert_ptr_nonnull(strstr(j, "\"level\":\"all\",\"group\":\"*\""));
    ck_assert_ptr_nonnull(strstr(j, "\"unit_value_level\":\"hs6\""));
    free(j);
    j = er_baseline_describe(a, "999999");
    ck_assert_ptr_nonnull(strstr(j, "\"unit_value_level\":\"all\""));
    free(j);
    er_baseline_free(a);
    fx_history_free(&h);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("baseline");
    TCase *t = tcase_create("stats");
    tcase_add_test(t, hist_quantile_single_bin);
    tcase_add_test(t, self_hashed_file_saves_canonical);
    tcase_add_test(t, non_canonical_file_loads_the_same);
    tcase_add_test(t, hist_quantile_two_bins);
    tcase_add_test(t, hist_mad_closed_forms);
    tcase_add_test(t, hist_quantile_matches_gsl_pdf);
    tcase_add_test(t, hist_bin_matches_gsl);
    tcase_add_test(t, moments_and_levels);
    tcase_add_test(t, robust_to_unit_errors);
    suite_add_tcase(s, t);
    TCase *m = tcase_create("merge");
    tcase_set_timeout(m, 120);
    tcase_add_test(m, merge_equals_whole);
    tcase_add_test(m, merge_sums_trader_counts);
    tcase_add_test(m, merge_rejects_different_min_group);
    tcase_add_test(m, batch_equals_single_adds);
    suite_add_tcase(s, m);
    TCase *f = tcase_create("files");
    tcase_add_checked_fixture(f, setup, NULL);
    tcase_set_timeout(f, 120);
    tcase_add_test(f, deterministic_and_round_trip);
    tcase_add_test(f, binary_round_trip);
    tcase_add_test(f, xxh64_reference_vectors);
    tcase_add_test(f, empty_baseline);
    tcase_add_test(f, corrupt_files_fail_clearly);
    tcase_add_test(f, describe_json);
    suite_add_tcase(s, f);
    return s;
}
