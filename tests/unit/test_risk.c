/*
 * test_risk.c — the risk formula of docs/scoring.md §6, pinned on hand-computed
 * cases against tests/fixtures/profiles/risk/risk.json: the anomaly feature
 * table, weight points → log-odds, a pack's log_odds and prior, the continuous
 * scaling of an anomaly indicator, the noisy-OR across profiles and the base
 * risk of a declaration in no profile's scope.
 */
#include "check_main.h"
#include <math.h>
#include <string.h>

#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "ecorisk/risk.h"
#include "ecorisk/score.h"

#define RISK ECORISK_SOURCE_DIR "/tests/fixtures/profiles/risk/risk.json"
#define TOL 1e-12

static er_refdata *ref;
static er_profileset *set;
static er_eval *ev;

static void setup(void)
{
    er_err err = {{0}};
    ck_assert_msg(er_refdata_load(&ref, NULL, &err) == ER_OK, "%s", err.msg);
    const char *paths[] = {RISK};
    er_profile_opts o = {.ref = ref};
    ck_assert_msg(er_profileset_load(&set, paths, 1, &o, false, &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(er_eval_new(&ev, set, &err), ER_OK);
}

static void teardown(void)
{
    er_eval_free(ev);
    er_profileset_free(set);
    er_refdata_free(ref);
    ev = NULL;
    set = NULL;
    ref = NULL;
}

static er_decl decl(const char *hs, const char *desc, uint16_t origin)
{
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = "D-1";
    d.flow = ER_FLOW_IM;
    strcpy(d.hs, hs);
    d.hs_len = (uint8_t)strlen(hs);
    d.description = desc;
    d.origin = origin;
    return d;
}

/* Only unit_value_low computable, with p = p_low. */
static er_anomalies low(double p_low)
{
    er_anomalies an;
    memset(&an, 0, sizeof an);
    an.have_baseline = true;
    for (int i = 0; i < ER_FEAT_COUNT; i++)
        an.f[i].p = 1;
    an.f[ER_FEAT_UNIT_VALUE_LOW].computable = true;
    an.f[ER_FEAT_UNIT_VALUE_LOW].p = p_low;
    an.n_computable = 1;
    return an;
}

static er_decl_score score(const er_decl *d, const er_anomalies *an)
{
    er_decl_score sc;
    memset(&sc, 0, sizeof sc);
    sc.an = *an;
    er_score_decl_an(set, ev, d, &sc);
    return sc;
}

START_TEST(feature_terms)
{
    er_feature_value v = {.computable = true, .p = 1e-3};
    /* route: 0.30 · (3 − 1.3) = 0.51 */
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_ROUTE_RARITY, &v), 0.51, TOL);
    /* unit value low: 0.35 · (3 − 2) = 0.35 */
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_UNIT_VALUE_LOW, &v), 0.35, TOL);
    /* the same p on a unit error (over 100x below the median): nothing */
    v.unit_error = true;
    ck_assert_double_eq(er_risk_feature_term(ER_FEAT_UNIT_VALUE_LOW, &v), 0);
    v.unit_error = false;
    /* at or below the chance level: nothing */
    v.p = 0.01;
    ck_assert_double_eq(er_risk_feature_term(ER_FEAT_MAHALANOBIS, &v), 0);
    v.p = 0.5;
    ck_assert_double_eq(er_risk_feature_term(ER_FEAT_NEW_TRADER, &v), 0);
    /* new trader p = 0.1: 0.30 · (1 − 0.5) = 0.15 */
    v.p = 0.1;
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_NEW_TRADER, &v), 0.15, TOL);
    /* new importer p = 0.1 (a company with a few dozen declarations in the history):
     * 1.00 · (1 − 0.5) = 0.5; p = 0.2: 1.00 · (0.69897 − 0.5) = 0.19897; capped at
     * 1.00 · 1.5 = 1.5 from p = 10^−2 on */
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_NEW_IMPORTER, &v), 0.5, TOL);
    v.p = 0.2;
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_NEW_IMPORTER, &v), 0.19897000433601880, TOL);
    v.p = 1e-3;
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_NEW_IMPORTER, &v), 1.5, TOL);
    /* capped: p = 1e-300 gives coef · cap, 0.20 · 4 = 0.8 */
    v.p = 1e-300;
    ck_assert_double_eq_tol(er_risk_feature_term(ER_FEAT_MAHALANOBIS, &v), 0.8, TOL);
    /* not computable: nothing, whatever p says */
    v.computable = false;
    ck_assert_double_eq(er_risk_feature_term(ER_FEAT_MAHALANOBIS, &v), 0);
    /* the sum over all features, in order; no baseline: 0 */
    er_anomalies an = low(1e-5);
    an.f[ER_FEAT_ROUTE_RARITY] = (er_feature_value){.computable = true, .p = 1e-3};
    ck_assert_double_eq_tol(er_risk_anomaly_logit(&an), 0.35 * 3 + 0.51, TOL);
    an.have_baseline = false;
    ck_assert_double_eq(er_risk_anomaly_logit(&an), 0);
    /* every feature has a row */
    for (int f = 0; f < ER_FEAT_COUNT; f++)
        ck_assert_ptr_nonnull(er_risk_feature_params((er_feature)f));
}
END_TEST

/* The term as docs/scoring.md §6.2 writes it, with the logarithm always taken. */
static double term_reference(er_feature f, double p)
{
    const er_risk_feature_param *k = er_risk_feature_params(f);
    double dec = -log10(p) - k->chance;
    if (!(dec > 0))
        return 0;
    return k->coef * (dec < k->cap ? dec : k->cap);
}

/* Most p skip the logarithm; every term keeps its bits, at the chance level
 * (a few ulps either side of 10^-chance) and anywhere else. */
START_TEST(feature_terms_exact_at_chance)
{
    for (int f = 0; f < ER_FEAT_COUNT; f++) {
        const er_risk_feature_param *k = er_risk_feature_params((er_feature)f);
        double at = pow(10, -k->chance);
        size_t positive = 0;
        er_feature_value v = {.computable = true, .p = at};
        for (int i = 0; i < 64; i++)
            v.p = nextafter(v.p, 0);
        for (int i = 0; i < 128; i++, v.p = nextafter(v.p, 1)) {
            double got = er_risk_feature_term((er_feature)f, &v), want = term_reference((er_feature)f, v.p);
            ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "feature %d p %a: %a, want %a", f, v.p, got, want);
            positive += got > 0;
        }
        ck_assert_uint_gt(positive, 0);   /* the range straddles the chance level */
        ck_assert_uint_lt(positive, 128);
        uint64_t r = 0x2545F4914F6CDD1DULL;
        for (int i = 0; i < 100000; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            v.p = ldexp((double)(r >> 11) * 0x1p-53, -(int)(r % 40));
            if (!(v.p > 0))
                continue;
            double got = er_risk_feature_term((er_feature)f, &v), want = term_reference((er_feature)f, v.p);
            ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "feature %d p %a: %a, want %a", f, v.p, got, want);
        }
    }
}
END_TEST

START_TEST(pack_fields_and_weight_mapping)
{
    const er_profile_info *a = er_profileset_info(set, 0), *b = er_profileset_info(set, 1);
    ck_assert_double_eq(a->prior, 0.02);
    ck_assert_double_eq(b->prior, ER_RISK_DEFAULT_PRIOR);
    /* 30 points: three doublings of the odds, 3 ln 2 */
    ck_assert_double_eq_tol(a->indicators[0].log_odds, 3 * log(2), TOL);
    ck_assert_double_eq(a->indicators[1].log_odds, 1.5);   /* the pack's log_odds wins */
    ck_assert_double_eq_tol(a->indicators[2].log_odds, 2 * log(2), TOL);
    ck_assert_double_eq_tol(b->indicators[0].log_odds, log(2), TOL);
}
END_TEST

/* Hand computation, p_low = 1e-6 (docs/scoring.md §6, the worked example uses the same numbers):
 *   A      = 0.35 · min(4, 6 − 2)                       = 1.4
 *   cheap  = 2 ln 2 · min(2, ln 1e-6 / ln 1e-3 = 2)     = 2.772588722239781
 *   z_a    = ln(0.02/0.98) + 3 ln 2 + 1.5 + cheap + A   = 3.8602099658089903
 *   z_b    = ln(0.01/0.99) + ln 2 + A                   = −2.5019726695746445
 *   H      = softplus(z_a) + softplus(z_b)              = 3.9597949993307524
 *   risk   = 1 − e^−H                                   = 0.980932977356607 */
START_TEST(two_profiles_noisy_or)
{
    er_decl d = decl("050790", "pangolin scales", ER_CC('N', 'G'));
    er_anomalies an = low(1e-6);
    er_decl_score sc = score(&d, &an);
    ck_assert(sc.in_scope);
    ck_assert_double_eq_tol(sc.anomaly_logit, 1.4, TOL);
    ck_assert_double_eq_tol(sc.results[0].logit + sc.anomaly_logit, 3.8602099658089903, TOL);
    ck_assert_double_eq_tol(sc.results[1].logit + sc.anomaly_logit, -2.5019726695746445, TOL);
    ck_assert_double_eq_tol(sc.hazard, 3.9597949993307524, TOL);
    ck_assert_double_eq_tol(sc.risk, 0.980932977356607, TOL);
    ck_assert_double_eq_tol(er_eval_indicator_logodds(set, 0, 2, &an), 2.772588722239781, TOL);
    /* the score is unchanged: 30 + 20 + 20 points */
    ck_assert_double_eq(sc.results[0].score, 70);
}
END_TEST

/* p_low = 1e-4: the anomaly indicator fires and is scaled by ln 1e-4 / ln 1e-3 = 4/3:
 *   A = 0.35 · 2 = 0.7, cheap = 2 ln 2 · 4/3 = 1.8483924814931874,
 *   z_a = 2.2360137250623966, z_b = −3.201972669574644, H = 2.377438481729824,
 *   risk = 0.9072120486054697 */
START_TEST(continuous_anomaly_indicator)
{
    er_decl d = decl("050790", "pangolin scales", ER_CC('N', 'G'));
    er_anomalies an = low(1e-4);
    er_decl_score sc = score(&d, &an);
    ck_assert_double_eq_tol(sc.risk, 0.9072120486054697, TOL);
    /* just past the threshold the indicator adds its log-odds, not less */
    an = low(0.000999);
    ck_assert_double_eq_tol(er_eval_indicator_logodds(set, 0, 2, &an), 2 * log(2) * log(0.000999) / log(0.001),
                            TOL);
    /* not fired: 0; no baseline: the unscaled log-odds never applies (does not fire) */
    an = low(0.002);
    sc = score(&d, &an);
    ck_assert_uint_eq(sc.results[0].fired, 3);
    /* how far out is not lost: each decade ranks higher up to the caps (both reached
     * at p = 1e-6 here), beyond them the evidence counts the same */
    double prev = 0;
    for (double p = 1e-2; p >= 1e-6 * 0.99; p /= 10) {
        an = low(p);
        sc = score(&d, &an);
        ck_assert_msg(sc.risk > prev, "p %g: risk %.17g not above %.17g", p, sc.risk, prev);
        prev = sc.risk;
    }
    an = low(1e-9);
    ck_assert_double_eq(score(&d, &an).risk, prev);
}
END_TEST

/* No profile in scope: risk = σ(logit(1e-4) + A). A route p = 1e-3 gives A = 0.51:
 * σ(ln(1e-4/0.9999) + 0.51) = 0.00016651804119592785. */
START_TEST(base_risk_out_of_scope)
{
    er_decl d = decl("999999", "pangolin scales", ER_CC('N', 'G'));
    er_anomalies an = low(1);
    an.f[ER_FEAT_UNIT_VALUE_LOW].computable = false;
    er_decl_score sc = score(&d, &an);
    ck_assert(!sc.in_scope);
    ck_assert_double_eq_tol(sc.risk, ER_RISK_BASE_PRIOR, 1e-18);
    an.f[ER_FEAT_ROUTE_RARITY] = (er_feature_value){.computable = true, .p = 1e-3};
    sc = score(&d, &an);
    ck_assert_double_eq_tol(sc.risk, 0.00016651804119592785, 1e-18);
    /* in scope with nothing fired ranks above out of scope with the same anomalies */
    er_decl in = decl("050790", "", 0);
    er_decl_score si = score(&in, &an);
    ck_assert(si.in_scope && si.risk > sc.risk);
}
END_TEST

/* anomaly_scale 0.5 (risk-c, default prior, nothing fired), p_low = 1e-6 so A = 1.4:
 * z = ln(0.01/0.99) + 0.5 · 1.4 = −3.8951198501345896, risk = σ(z) = 0.019935431102160703 */
START_TEST(anomaly_scale)
{
    ck_assert_double_eq(er_profileset_info(set, 2)->anomaly_scale, 0.5);
    ck_assert_double_eq(er_profileset_info(set, 0)->anomaly_scale, 1);
    er_decl d = decl("010690", "", 0);
    er_anomalies an = low(1e-6);
    er_decl_score sc = score(&d, &an);
    ck_assert(sc.in_scope && sc.results[2].in_scope && !sc.results[0].in_scope && !sc.results[1].in_scope);
    ck_assert_double_eq_tol(sc.risk, 0.019935431102160703, 1e-15);
}
END_TEST

START_TEST(order_and_helpers)
{
    ck_assert_int_lt(er_risk_cmp(2.0, 5, 1.0, 1), 0);
    ck_assert_int_gt(er_risk_cmp(1.0, 1, 2.0, 5), 0);
    ck_assert_int_lt(er_risk_cmp(1.0, 1, 1.0, 2), 0);   /* tie: declaration order */
    ck_assert_int_eq(er_risk_cmp(1.0, 3, 1.0, 3), 0);
    ck_assert_double_eq_tol(er_risk_softplus(0), log(2), TOL);
    ck_assert_double_eq_tol(er_risk_softplus(800), 800, TOL);   /* no overflow */
    ck_assert_double_eq(er_risk_from_hazard(0), 0);
    ck_assert_double_eq_tol(er_risk_from_hazard(log(2)), 0.5, TOL);
    ck_assert_double_eq_tol(er_risk_logit(0.5), 0, TOL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("risk");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, feature_terms);
    tcase_add_test(tc, feature_terms_exact_at_chance);
    tcase_add_test(tc, pack_fields_and_weight_mapping);
    tcase_add_test(tc, two_profiles_noisy_or);
    tcase_add_test(tc, continuous_anomaly_indicator);
    tcase_add_test(tc, base_risk_out_of_scope);
    tcase_add_test(tc, anomaly_scale);
    tcase_add_test(tc, order_and_helpers);
    suite_add_tcase(s, tc);
    return s;
}
