/*
 * test_anomaly.c — the anomaly features against closed-form answers: robust
 * z and normal tails for unit value, Mahalanobis d² on a known covariance
 * with its chi-square tail, the add-one smoothed route tail, the new-trader
 * probability, Fisher's combination; fallbacks between group levels and
 * "not computable" (p = 1, never NaN) for missing or zero mass and value.
 */
#include "check_main.h"
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baseline_fixture.h"
#include "stats/baseline_impl.h"

#define BIN_X(i) (HIST_LO + (double)(i) * HIST_W)
#define CENTRE(i) (BIN_X(i) + HIST_W / 2)

static double Phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

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

static void assert_finite(const er_anomalies *a)
{
    for (int i = 0; i < ER_FEAT_COUNT; i++) {
        const er_feature_value *f = &a->f[i];
        ck_assert(isfinite(f->observed) && isfinite(f->expected_lo) && isfinite(f->expected_hi));
        ck_assert(f->p >= 0 && f->p <= 1);
        if (!f->computable) {
            ck_assert_double_eq(f->p, 1.0);
            ck_assert_int_eq(f->level, ER_LEVEL_NONE);
        }
    }
    ck_assert(er_anomaly_fisher_p(a) >= 0 && er_anomaly_fisher_p(a) <= 1);
}

/* 40 rows: 10 at the centre of each of bins 300..303 (mass 10 kg). */
static void uniform_rows(er_decl *d, const char *hs)
{
    for (int i = 0; i < 40; i++)
        d[i] = fx_decl(hs, 19000, exp(CENTRE(300 + i / 10)) * 10.0, 10.0);
}

START_TEST(unit_value_tails)
{
    er_decl d[40];
    uniform_rows(d, "290345");
    er_baseline *bl = build(d, 40, 30);
    /* median = BIN_X(302); |x − m| uniform on [0, 2w] → MAD = w; scale = 1.4826 w */
    double med = BIN_X(302), scale = 1.4826 * HIST_W;
    const double zs[] = {-3, -1.5, 0, 0.7, 4};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double x = med + zs[i] * scale;
        er_decl q = fx_decl("290345", 19100, exp(x) * 2.0, 2.0);
        er_anomalies a;
        er_anomaly_compute(bl, &q, &a);
        assert_finite(&a);
        const er_feature_value *lo = &a.f[ER_FEAT_UNIT_VALUE_LOW], *hi = &a.f[ER_FEAT_UNIT_VALUE_HIGH];
        ck_assert(lo->computable && hi->computable);
        ck_assert_int_eq(lo->level, ER_LEVEL_HS6);
        ck_assert_str_eq(lo->group, "290345");
        /* contaminated normal, ε = 1/41: (40/41)·Φ(z) + (1/41)·atan2(1, −z)/π;
         * every query lies outside the data or has p > 0.05: no empirical floor */
        ck_assert_double_eq_tol(lo->p, 40.0 / 41 * Phi(zs[i]) + atan2(1, -zs[i]) / M_PI / 41, 1e-9);
        ck_assert_double_eq_tol(hi->p, 40.0 / 41 * Phi(-zs[i]) + atan2(1, zs[i]) / M_PI / 41, 1e-9);
        ck_assert_double_eq_tol(lo->observed, exp(x), 1e-9 * exp(x));
        /* 5th percentile: 2 of 40 → 0.2 into bin 300; 95th: 38 → 0.8 into bin 303 */
        ck_assert_double_eq_tol(lo->expected_lo, exp(BIN_X(300) + 0.2 * HIST_W), 1e-9);
        ck_assert_double_eq_tol(lo->expected_hi, exp(BIN_X(303) + 0.8 * HIST_W), 1e-9);
    }
    er_baseline_free(bl);
}
END_TEST

/* Scale floor: 20 rows at the centre of bin 240 ([−1, −0.9375)), 60 in bin 256
 * ([0, 0.0625)), 20 in bin 272 ([1, 1.0625)). Median = 0 + (30/60)·w =
 * 0.03125; |x − m| < w/2 for the 60 central rows, G(t) = 60·2t/w = 50 at
 * t = MAD = 50w/120 = 0.0260417 → 1.4826·MAD = 0.0386. Q(0.1) = −1 + (10/20)·w
 * = −0.96875, Q(0.9) = 1.03125: spread floor 2/(2·1.2815516) = 0.78030415,
 * which wins. A value at Q(0.1) then has z = −Φ⁻¹(0.9) and Φ(z) = 0.1. */
START_TEST(scale_floor_clustered)
{
    er_decl d[100];
    for (int i = 0; i < 100; i++) {
        int bin = i < 20 ? 240 : i < 80 ? 256 : 272;
        d[i] = fx_decl("130219", 19000, exp(CENTRE(bin)) * 10.0, 10.0);
    }
    er_baseline *bl = build(d, 100, 30);
    const group *g = er_bl_gs_find(&bl->gs, LV_HS6, 130219);
    ck_assert_ptr_nonnull(g);
    ck_assert_double_eq_tol(g->median, 0.03125, 1e-12);
    ck_assert_double_eq_tol(g->mad, 0.0625 * 50 / 120, 1e-12);
    ck_assert_double_eq_tol(g->scale, 0.7803041460723791, 1e-12);
    /* at Q(0.1): (100/101)·0.1 + (1/101)·atan2(1, 1.2815516)/π */
    er_decl q = fx_decl("130219", 19100, exp(-0.96875) * 3.0, 3.0);
    er_anomalies a;
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_UNIT_VALUE_LOW].p, 0.10109818832919376, 1e-9);
    /* a further ×1000 error (−6.9 in log) below all data: z = −10.124, the
     * normal tail is 2e-24 and the Cauchy term (1/101)·atan2(1, 10.124)/π remains */
    q = fx_decl("130219", 19100, exp(-0.96875 - 6.9) * 3.0, 3.0);
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_UNIT_VALUE_LOW].p, 0.000310283856330292, 1e-12);
    /* more than 100x below the median (0.03125 in log): a unit error, p kept */
    ck_assert(a.f[ER_FEAT_UNIT_VALUE_LOW].unit_error);
    ck_assert(!a.f[ER_FEAT_UNIT_VALUE_HIGH].unit_error);
    q = fx_decl("130219", 19100, exp(0.03125 - 4.60) * 3.0, 3.0);   /* 99.5x below: still evidence */
    er_anomaly_compute(bl, &q, &a);
    ck_assert(!a.f[ER_FEAT_UNIT_VALUE_LOW].unit_error);
    q = fx_decl("130219", 19100, exp(0.03125 - 4.61) * 3.0, 3.0);   /* 100.5x below */
    er_anomaly_compute(bl, &q, &a);
    ck_assert(a.f[ER_FEAT_UNIT_VALUE_LOW].unit_error);
    /* the floor has a 10 % breakdown point: 5 gram/kilogram errors (+6.9) do not move it */
    for (int i = 0; i < 5; i++)
        d[i] = fx_decl("130219", 19000, exp(CENTRE(240) + 6.9) * 10.0, 10.0);
    er_baseline_free(bl);
    bl = build(d, 100, 30);
    g = er_bl_gs_find(&bl->gs, LV_HS6, 130219);
    /* 15 rows left in bin 240: Q(0.1) = −1 + (10/15)·w; above bin 272 now 5
     * more rows, so Q(0.9) = 1 + (15/20)·w: the scale moves by 0.26 % only */
    ck_assert_double_eq_tol(g->scale, (1 + 15.0 / 20 * 0.0625 - (-1 + 10.0 / 15 * 0.0625)) / (2 * 1.2815515655446004),
                            1e-12);
    er_baseline_free(bl);
}
END_TEST

/* p floors: 95 rows in bin 256, 5 rows at the centre of bin 320 (4.03125):
 * median = (50/95)·w, scale = w/2 (MAD and spread are smaller), ε = 1/101. */
START_TEST(p_floor_model_and_empirical)
{
    er_decl d[100];
    for (int i = 0; i < 100; i++)
        d[i] = fx_decl("392690", 19000, exp(CENTRE(i < 95 ? 256 : 320)) * 10.0, 10.0);
    er_baseline *bl = build(d, 100, 30);
    const group *g = er_bl_gs_find(&bl->gs, LV_HS6, 392690);
    ck_assert_double_eq_tol(g->scale, HIST_W / 2, 1e-15);
    struct { double x, p; } c[] = {
        /* z = 62.9 in the gap: 5 of 100 rows above → T/n = 0.05 = the cap */
        {2.0, 0.05},
        /* z = 127.9 at the small cluster's centre: T = 5·0.5 → 0.025 (model 2.5e-5) */
        {4.03125, 0.025},
        /* beyond the data: T = 0, model (1/101)·atan2(1, 142.947)/π + normal ≈ 0 */
        {4.5, 2.2046797062074924e-05},
    };
    double prev = 1;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        er_decl q = fx_decl("392690", 19100, exp(c[i].x) * 2.0, 2.0);
        er_anomalies a;
        er_anomaly_compute(bl, &q, &a);
        ck_assert_double_eq_tol(a.f[ER_FEAT_UNIT_VALUE_HIGH].p, c[i].p, 1e-12);
        ck_assert(a.f[ER_FEAT_UNIT_VALUE_HIGH].p < prev);   /* further out ranks higher */
        prev = a.f[ER_FEAT_UNIT_VALUE_HIGH].p;
    }
    /* strictly monotone beyond the data: no ties among far outliers */
    ck_assert(er_bl_uv_p_low(-500, 100) < er_bl_uv_p_low(-400, 100));
    ck_assert_double_eq_tol(er_bl_uv_p_low(-1e6, 100), 1.0 / 101 / M_PI * atan(1e-6), 1e-18);
    er_baseline_free(bl);
}
END_TEST

START_TEST(unit_value_fallback_levels)
{
    er_decl d[40];
    uniform_rows(d, "290345");
    for (int i = 0; i < 10; i++)   /* a sibling HS6 with only 10 rows */
        d[i] = fx_decl("290341", 19000, exp(CENTRE(300)) * 10.0, 10.0);
    er_baseline *bl = build(d, 40, 30);
    er_decl q = fx_decl("290341", 19100, 5.0, 1.0);
    er_anomalies a;
    er_anomaly_compute(bl, &q, &a);
    ck_assert_int_eq(a.f[ER_FEAT_UNIT_VALUE_LOW].level, ER_LEVEL_HS4);
    ck_assert_str_eq(a.f[ER_FEAT_UNIT_VALUE_LOW].group, "2903");
    q = fx_decl("4403491234", 19100, 5.0, 1.0);   /* unknown chapter: all */
    er_anomaly_compute(bl, &q, &a);
    ck_assert_int_eq(a.f[ER_FEAT_UNIT_VALUE_LOW].level, ER_LEVEL_ALL);
    ck_assert_str_eq(a.f[ER_FEAT_UNIT_VALUE_LOW].group, "*");
    er_baseline_free(bl);
    /* fewer than min_group rows anywhere: not computable */
    bl = build(d, 20, 30);
    er_anomaly_compute(bl, &q, &a);
    ck_assert(!a.f[ER_FEAT_UNIT_VALUE_LOW].computable);
    assert_finite(&a);
    er_baseline_free(bl);
}
END_TEST

START_TEST(not_computable)
{
    er_decl d[40];
    uniform_rows(d, "290345");
    er_baseline *bl = build(d, 40, 30);
    er_decl qs[5];
    qs[0] = fx_decl("290345", 19100, 10.0, 0.0);     /* zero mass */
    qs[1] = fx_decl("290345", 19100, -1, 5.0);       /* no value */
    qs[2] = fx_decl("290345", 19100, 0.0, 5.0);      /* zero value */
    qs[3] = fx_decl("290345", 19100, 10.0, -1);      /* no mass */
    qs[4] = fx_decl("290345", 19100, 1e308, 1e-300); /* overflowing unit value */
    for (int i = 0; i < 5; i++) {
        er_anomalies a;
        er_anomaly_compute(bl, &qs[i], &a);
        ck_assert(a.have_baseline);
        ck_assert(!a.f[ER_FEAT_UNIT_VALUE_LOW].computable);
        ck_assert(!a.f[ER_FEAT_MAHALANOBIS].computable);
        ck_assert_uint_eq(a.n_computable, 0);
        ck_assert_double_eq(er_anomaly_fisher_p(&a), 1.0);
        assert_finite(&a);
    }
    er_anomalies a;
    er_anomaly_compute(NULL, &qs[0], &a);
    ck_assert(!a.have_baseline);
    ck_assert_double_eq(er_anomaly_fisher_p(&a), 1.0);
    assert_finite(&a);
    er_baseline_free(bl);
}
END_TEST

/* Mahalanobis: 36 points with a known correlated covariance, mean 0. */
START_TEST(mahalanobis_known_covariance)
{
    static const double P[6][2] = {{1, 0.5}, {-1, -0.5}, {0.5, -1}, {-0.5, 1}, {2, 1}, {-2, -1}};
    er_decl d[36];
    double A = 0, B = 0, C = 0;
    for (int i = 0; i < 36; i++) {
        const double *p = P[i % 6];
        d[i] = fx_decl("030192", 19000, exp(p[0]) * exp(p[1]), exp(p[1]));
        A += p[0] * p[0];
        B += p[0] * p[1];
        C += p[1] * p[1];
    }
    A /= 35;
    B /= 35;
    C /= 35;
    double ridge = 1e-6 * (A + C) / 2 + HIST_W * HIST_W / 4;
    A += ridge;
    C += ridge;
    er_baseline *bl = build(d, 36, 30);
    const double Q[][2] = {{0, 0}, {1, 1}, {3, -2}, {-0.25, 0.75}};
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        double q1 = Q[i][0], q2 = Q[i][1];
        er_decl q = fx_decl("030192", 19100, exp(q1) * exp(q2), exp(q2));
        er_anomalies a;
        er_anomaly_compute(bl, &q, &a);
        const er_feature_value *f = &a.f[ER_FEAT_MAHALANOBIS];
        ck_assert(f->computable);
        ck_assert_int_eq(f->level, ER_LEVEL_HS4);
        ck_assert_str_eq(f->group, "0301");
        double d2 = (C * q1 * q1 - 2 * B * q1 * q2 + A * q2 * q2) / (A * C - B * B);
        ck_assert_double_eq_tol(f->observed, d2, 1e-9 * (1 + d2));
        /* chi-square with 2 degrees of freedom: Q(x) = exp(−x/2), mixed with
         * weight ε = 1/37 with the half-Cauchy tail (2/π)·atan2(√2, d) */
        ck_assert_double_eq_tol(f->p, 36.0 / 37 * exp(-d2 / 2) + 2.0 / M_PI * atan2(sqrt(2.0), sqrt(d2)) / 37,
                                1e-9);
        ck_assert_double_eq_tol(f->expected_hi, -2 * log(0.05), 1e-9);
    }
    /* with a package count, the 3-dimensional model is used when the group has one */
    for (int i = 0; i < 36; i++) {
        d[i].packages = (double)(1 + i % 5);
        d[i].present |= ER_P_PACKAGES;
    }
    er_baseline_free(bl);
    bl = build(d, 36, 30);
    er_decl q = d[3];
    er_anomalies a;
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_MAHALANOBIS].expected_hi, 7.8147279032511765, 1e-9);
    assert_finite(&a);
    er_baseline_free(bl);
}
END_TEST

START_TEST(mahalanobis_degenerate_group)
{
    /* every row identical: covariance 0, the ridge keeps it usable and finite */
    er_decl d[40];
    for (int i = 0; i < 40; i++) d[i] = fx_decl("440349", 19000, 100.0, 10.0);
    er_baseline *bl = build(d, 40, 30);
    er_anomalies a;
    er_anomaly_compute(bl, &d[0], &a);
    ck_assert(a.f[ER_FEAT_MAHALANOBIS].computable);
    /* d² is fixed-point noise: the half-Cauchy term is 1 − O(ε·d) */
    ck_assert_double_eq_tol(a.f[ER_FEAT_MAHALANOBIS].p, 1.0, 1e-6);
    er_decl q = fx_decl("440349", 19000, 1000.0, 10.0);
    er_anomaly_compute(bl, &q, &a);
    /* covariance 0 + ridge (w/2)²: d² = (ln 10)²/(w/2)² = 5429.0; the normal
     * tail is e^−2714, so p is the contamination term (1/41)·(2/π)·atan2(√2, d) */
    double d2 = log(10.0) * log(10.0) / (HIST_W * HIST_W / 4);
    ck_assert_double_eq_tol(a.f[ER_FEAT_MAHALANOBIS].observed, d2, 1e-6 * d2);
    ck_assert_double_eq_tol(a.f[ER_FEAT_MAHALANOBIS].p, 0.00029798354108648647, 1e-9);
    assert_finite(&a);
    er_baseline_free(bl);
}
END_TEST

START_TEST(route_rarity_smoothed)
{
    /* HS4 0507: CN→US ×25, DE→US ×10, FR→US ×1: N = 36, K = 3, denominator 40 */
    er_decl d[36];
    for (int i = 0; i < 36; i++) {
        d[i] = fx_decl("050710", 19000, 10, 1);
        const char *o = i < 25 ? "CN" : i < 35 ? "DE" : "FR";
        d[i].origin = ER_CC(o[0], o[1]);
        d[i].destination = ER_CC('U', 'S');
    }
    er_baseline *bl = build(d, 36, 30);
    struct { const char *o; double c, p; } cases[] = {
        {"NG", 0, 1.0 / 40},                      /* unseen: the pseudo-count alone */
        {"FR", 1, (1.0 + 2) / 40},                /* unseen + FR */
        {"DE", 10, (1.0 + 2 + 11) / 40},
        {"CN", 25, 1.0},
    };
    for (size_t i = 0; i < 4; i++) {
        er_decl q = fx_decl("050790", 19100, 10, 1);
        q.origin = ER_CC(cases[i].o[0], cases[i].o[1]);
        q.destination = ER_CC('U', 'S');
        er_anomalies a;
        er_anomaly_compute(bl, &q, &a);
        const er_feature_value *f = &a.f[ER_FEAT_ROUTE_RARITY];
        ck_assert(f->computable);
        ck_assert_str_eq(f->group, "0507");
        ck_assert_double_eq(f->observed, cases[i].c);
        ck_assert_double_eq_tol(f->p, cases[i].p, 1e-12);
        ck_assert_double_eq(f->expected_lo, 1);    /* tail(1) = 3/40 > 0.05 already */
        ck_assert_double_eq(f->expected_hi, 25);
    }
    /* export country stands in for a missing origin; no origin at all: not computable */
    er_decl q = fx_decl("050790", 19100, 10, 1);
    q.export_country = ER_CC('C', 'N');
    q.destination = ER_CC('U', 'S');
    er_anomalies a;
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_ROUTE_RARITY].p, 1.0, 1e-12);
    q.export_country = 0;
    er_anomaly_compute(bl, &q, &a);
    ck_assert(!a.f[ER_FEAT_ROUTE_RARITY].computable);
    er_baseline_free(bl);
}
END_TEST

/* Novelty from counts: chapter 29 holds A ×20, B ×10, C ×5, D ×1 (N = 36
 * importer rows, 4 traders); chapter 44 holds A ×4. p(c) = (1 + Σ_t min(n_t,
 * c + 1)) / (N + 1). */
START_TEST(new_trader_probability)
{
    er_decl d[40];
    static const char *const imp[] = {"A", "B", "C", "D"};
    static const int cnt[] = {20, 10, 5, 1};
    int k = 0;
    for (int t = 0; t < 4; t++)
        for (int j = 0; j < cnt[t]; j++, k++) {
            d[k] = fx_decl("290345", 19000 + 100 * t + j, 10, 1);   /* D first seen on 19300 */
            d[k].importer = imp[t];
        }
    for (; k < 40; k++) {
        d[k] = fx_decl("440349", 19100 + k, 10, 1);
        d[k].importer = "A";
    }
    er_baseline *bl = build(d, 40, 30);
    struct { const char *imp; const char *hs; int32_t date; double c, p, ci, pi; const char *grp; } cases[] = {
        /* unknown importer: (1 + 4)/37 in chapter 29; importers A 24, B 10, C 5, D 1
         * over N = 40: (1 + 4)/41 */
        {"NEWCO", "291469", 19500, 0, 5.0 / 37, 0, 5.0 / 41, "29"},
        /* D, one declaration: (1 + 2 + 2 + 2 + 1)/37; importer level (1 + 2 + 2 + 2 + 1)/41 */
        {"D", "291469", 19500, 1, 8.0 / 37, 1, 8.0 / 41, "29"},
        /* C ×5: (1 + 6 + 6 + 5 + 1)/37; importer (1 + 6 + 6 + 5 + 1)/41 */
        {"C", "291469", 19500, 5, 19.0 / 37, 5, 19.0 / 41, "29"},
        /* B ×10: (1 + 11 + 10 + 5 + 1)/37; importer (1 + 11 + 10 + 5 + 1)/41 */
        {"B", "291469", 19500, 10, 28.0 / 37, 10, 28.0 / 41, "29"},
        /* A ×20 in the chapter (the most): p = 1; 24 overall: 1 */
        {"A", "291469", 19500, 20, 1.0, 24, 1.0, "29"},
        /* D before its first declaration was new at both levels */
        {"D", "291469", 19200, 0, 5.0 / 37, 0, 5.0 / 41, "29"},
        /* chapter 44 has 4 importer rows (< 30): all pairs {20, 10, 5, 1, 4}, N = 40.
         * A ×4 there: (1 + 5 + 5 + 5 + 1 + 4)/41 */
        {"A", "440349", 19500, 4, 21.0 / 41, 24, 1.0, "*"},
        /* B never declared in chapter 44: (1 + 5)/41 */
        {"B", "440349", 19500, 0, 6.0 / 41, 10, 28.0 / 41, "*"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        er_decl q = fx_decl(cases[i].hs, cases[i].date, 10, 1);
        q.importer = cases[i].imp;
        er_anomalies a;
        er_anomaly_compute(bl, &q, &a);
        const er_feature_value *f = &a.f[ER_FEAT_NEW_TRADER], *g = &a.f[ER_FEAT_NEW_IMPORTER];
        ck_assert(f->computable && g->computable);
        ck_assert_str_eq(f->group, cases[i].grp);
        ck_assert_double_eq(f->observed, cases[i].c);
        ck_assert_double_eq_tol(f->p, cases[i].p, 1e-12);
        ck_assert_int_eq(g->level, ER_LEVEL_ALL);
        ck_assert_str_eq(g->group, "*");
        ck_assert_double_eq(g->observed, cases[i].ci);
        ck_assert_double_eq_tol(g->p, cases[i].pi, 1e-12);
        /* p(0) = 5/37 > 0.05 already: expected range [0, largest count] */
        ck_assert_double_eq(g->expected_lo, 0);
        ck_assert_double_eq(g->expected_hi, 24);
        ck_assert_double_eq(f->expected_hi, 20);
    }
    /* the stable name profiles use */
    ck_assert_str_eq(er_feature_str(ER_FEAT_NEW_IMPORTER), "new_importer");
    ck_assert_int_eq(er_feature_parse("new_importer"), ER_FEAT_NEW_IMPORTER);
    /* no importer: neither feature is computable */
    er_decl q = fx_decl("290345", 19500, 10, 1);
    er_anomalies a;
    er_anomaly_compute(bl, &q, &a);
    ck_assert(!a.f[ER_FEAT_NEW_TRADER].computable && !a.f[ER_FEAT_NEW_IMPORTER].computable);
    er_baseline_free(bl);
    /* the expected range starts at the smallest count with p > 0.05: 100 importers
     * with one declaration and one with 900 (N = 1000): p(0) = 102/1001 > 0.05 → 0 */
    er_decl *many = calloc(1000, sizeof *many);
    char (*names)[8] = calloc(1000, sizeof *names);
    for (int i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "I%d", i < 900 ? 0 : i - 899);
        many[i] = fx_decl("290345", 19000, 10, 1);
        many[i].importer = names[i];
    }
    bl = build(many, 1000, 30);
    q.importer = "I0";
    er_anomaly_compute(bl, &q, &a);
    /* I0 ×900 and 100 importers ×1: p(c) = (1 + min(900, c + 1) + 100)/1001 */
    ck_assert_double_eq(a.f[ER_FEAT_NEW_IMPORTER].observed, 900);
    ck_assert_double_eq_tol(a.f[ER_FEAT_NEW_IMPORTER].p, 1.0, 1e-12);
    q.importer = "NEW";
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_NEW_IMPORTER].p, 102.0 / 1001, 1e-12);
    ck_assert_double_eq(a.f[ER_FEAT_NEW_IMPORTER].expected_lo, 0);
    er_baseline_free(bl);
    /* 1000 rows by one importer and 10 by another (N = 1010): p(0) = 3/1011 < 0.05;
     * p(c) = (1 + min(1000, c + 1) + min(10, c + 1))/1011 > 0.05 ⇔ S(c) > 49.55:
     * S(38) = 39 + 10 = 49, S(39) = 50 → the range starts at 39 */
    for (int i = 0; i < 1000; i++) many[i].importer = i < 10 ? "SMALL" : "BIG";
    er_decl *more = calloc(1010, sizeof *more);
    memcpy(more, many, 1000 * sizeof *more);
    for (int i = 1000; i < 1010; i++) {
        more[i] = many[0];
        more[i].importer = "BIG";
    }
    bl = build(more, 1010, 30);
    er_anomaly_compute(bl, &q, &a);
    ck_assert_double_eq_tol(a.f[ER_FEAT_NEW_IMPORTER].p, 3.0 / 1011, 1e-12);
    ck_assert_double_eq(a.f[ER_FEAT_NEW_IMPORTER].expected_lo, 39);
    ck_assert_double_eq(a.f[ER_FEAT_NEW_IMPORTER].expected_hi, 1000);
    er_baseline_free(bl);
    free(more);
    free(names);
    free(many);
}
END_TEST

START_TEST(fisher_combination)
{
    fx_hist h = fx_history(20000, 21);
    er_baseline *bl = build(h.d, h.n, 30);
    int seen_k[6] = {0};
    for (size_t i = 0; i < 2000; i++) {
        er_anomalies a;
        er_decl q = h.d[i];
        if (i % 7 == 0) q.value_ref /= 50;   /* under-valued */
        er_anomaly_compute(bl, &q, &a);
        assert_finite(&a);
        double X = 0;
        int k = 0;
        if (a.f[ER_FEAT_UNIT_VALUE_LOW].computable) {
            double pl = a.f[ER_FEAT_UNIT_VALUE_LOW].p, ph = a.f[ER_FEAT_UNIT_VALUE_HIGH].p;
            X -= 2 * log(fmin(1.0, 2 * fmin(pl, ph)));
            k++;
        }
        for (int f = ER_FEAT_MAHALANOBIS; f < ER_FEAT_COUNT; f++)
            if (a.f[f].computable) {
                X -= 2 * log(a.f[f].p);
                k++;
            }
        /* closed form for even degrees of freedom: e^{−X/2} Σ_{i<k} (X/2)^i / i! */
        double term = 1, sum = 0;
        for (int j = 0; j < k; j++) {
            sum += term;
            term *= (X / 2) / (j + 1);
        }
        double expect = k ? exp(-X / 2) * sum : 1.0;
        ck_assert_double_eq_tol(er_anomaly_fisher_p(&a), expect, 1e-9);
        seen_k[k]++;
    }
    ck_assert(seen_k[5] > 100);   /* all five terms exercised */
    ck_assert(seen_k[4] > 10);
    er_baseline_free(bl);
    fx_history_free(&h);
}
END_TEST

/* The chi-square tails used for Mahalanobis (k = 2, 3) and Fisher's
 * combination (even k up to 20) equal GSL's. */
START_TEST(chisq_tails_match_gsl)
{
    for (int k = 1; k <= 20; k++)
        for (double x = 0.001; x < 1600; x *= 1.37) {
            double a = er_bl_chisq_Q(x, k), b = gsl_cdf_chisq_Q(x, (double)k);
            ck_assert_msg(fabs(a - b) <= 1e-12 * b + 1e-300, "k=%d x=%g: %.17g vs %.17g", k, x, a, b);
        }
    ck_assert_double_eq(er_bl_chisq_Q(0, 3), 1.0);
    ck_assert_double_eq_tol(er_bl_chisq_Q(7.8147279032511765, 3), 0.05, 1e-12);
}
END_TEST

START_TEST(batch_equals_single)
{
    fx_hist h = fx_history(20000, 31);
    er_baseline *bl = build(h.d, h.n, 30);
    er_anomalies *b = calloc(h.n, sizeof *b);
    er_anomaly_compute_batch(bl, h.d, h.n, b);
    for (size_t i = 0; i < h.n; i++) {
        er_anomalies a;
        er_anomaly_compute(bl, &h.d[i], &a);
        ck_assert(memcmp(&a, &b[i], sizeof a) == 0);
    }
    er_anomaly_compute_batch(NULL, h.d, 10, b);
    ck_assert(!b[3].have_baseline);
    free(b);
    er_baseline_free(bl);
    fx_history_free(&h);
}
END_TEST

/* Busy importers, whose counts lie past the novelty table (4096) and below
 * the busiest one's: a run of rows memoises their p (compute_rows) and must
 * give what one declaration at a time gives. */
START_TEST(batch_equals_single_busy_traders)
{
    /* 30 importers of 4100 to 4680 declarations each (past the table, and
     * more pairs than the memo has slots), one of 12000 (the largest) */
    enum { BUSY = 30, BIG = 12000 };
    static char names[BUSY][16];
    size_t n = BIG;
    for (int k = 0; k < BUSY; k++)
        n += 4100 + 20 * (size_t)k;
    fx_hist h = fx_history(n + 20000, 7);
    size_t i = 0;
    for (int k = 0; k < BUSY; k++) {
        snprintf(names[k], sizeof names[k], "BUSY-%02d", k);
        for (size_t j = 0; j < 4100 + 20 * (size_t)k; j++)
            h.d[i++].importer = names[k];
    }
    for (size_t j = 0; j < BIG; j++)
        h.d[i++].importer = "BUSIEST";
    er_baseline *bl = build(h.d, h.n, 30);
    er_anomalies *b = calloc(h.n, sizeof *b);
    er_anomaly_compute_batch(bl, h.d, h.n, b);
    size_t past_table = 0;
    for (size_t r = 0; r < h.n; r++) {
        er_anomalies a;
        er_anomaly_compute(bl, &h.d[r], &a);
        ck_assert(memcmp(&a, &b[r], sizeof a) == 0);
        const er_feature_value *f = &a.f[ER_FEAT_NEW_IMPORTER];
        past_table += f->computable && f->observed >= 4096 && f->observed < f->expected_hi;
    }
    ck_assert_uint_gt(past_table, 100000);
    free(b);
    er_baseline_free(bl);
    fx_history_free(&h);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("anomaly");
    TCase *t = tcase_create("features");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, unit_value_tails);
    tcase_add_test(t, unit_value_fallback_levels);
    tcase_add_test(t, scale_floor_clustered);
    tcase_add_test(t, p_floor_model_and_empirical);
    tcase_add_test(t, not_computable);
    tcase_add_test(t, mahalanobis_known_covariance);
    tcase_add_test(t, mahalanobis_degenerate_group);
    tcase_add_test(t, route_rarity_smoothed);
    tcase_add_test(t, new_trader_probability);
    tcase_add_test(t, fisher_combination);
    tcase_add_test(t, batch_equals_single);
    tcase_add_test(t, batch_equals_single_busy_traders);
    tcase_add_test(t, chisq_tails_match_gsl);
    suite_add_tcase(s, t);
    return s;
}
