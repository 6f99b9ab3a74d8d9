/*
 * test_tune.c — `tune` end to end through the library: a labelled feed is
 * generated with a seeded GSL RNG from known indicator weights (labels drawn
 * from a logistic model over indicators the fixture pack can see), er_tune
 * fits the pack and must recover those weights within their standard errors,
 * write a tuned copy whose weights follow the coefficients and that loads as
 * a valid pack, and refuse to overwrite its input.
 */
#include "check_main.h"
#include <gsl/gsl_rng.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecorisk/analyst.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "tmp_fixture.h"

static const double TRUTH[5] = {-2.0, 1.5, 0.8, 2.2, 0.0};   /* intercept, air, origin NG, "used", decoy office */

static char dir[200], feed[256], pack[256], out[256];

static void generate(void)
{
    tf_mkdtemp(dir, sizeof dir, "tune-");
    snprintf(feed, sizeof feed, "%s/labelled.csv", dir);
    snprintf(pack, sizeof pack, "%s/pack.json", dir);
    snprintf(out, sizeof out, "%s/tuned.json", dir);
    FILE *f = fopen(feed, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id,date,flow,hs,description,origin,destination,mode,office,net_kg,value,currency,seized\n", f);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    const int n = 30000;
    for (int i = 0; i < n; i++) {
        bool air = gsl_rng_uniform(r) < 0.3, ng = gsl_rng_uniform(r) < 0.25, used = gsl_rng_uniform(r) < 0.2;
        bool decoy = gsl_rng_uniform(r) < 0.5;
        double eta = TRUTH[0] + TRUTH[1] * air + TRUTH[2] * ng + TRUTH[3] * used + TRUTH[4] * decoy;
        int y = gsl_rng_uniform(r) < 1 / (1 + exp(-eta));
        int day = 1 + i * 59 / n;   /* 2026-01-01 .. 2026-02-28, in order */
        fprintf(f, "D%05d,2026-%02d-%02d,IM,847130,%s,%s,FR,%s,%s,10,100,USD,%d\n", i, day <= 31 ? 1 : 2,
                day <= 31 ? day : day - 31, used ? "used laptops" : "laptops", ng ? "NG" : "CN",
                air ? "AIR" : "SEA", decoy ? "FRCDG" : "FRLEH", y);
    }
    gsl_rng_free(r);
    fclose(f);
    f = fopen(pack, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format\": \"ecorisk-profiles/1\", \"domain\": \"waste\", \"title\": \"tune fixture\", \"profiles\": [\n"
          " {\"id\": \"t-laptops\", \"version\": 3, \"domain\": \"waste\", \"title\": \"Laptops\", \"owner\": \"tests\",\n"
          "  \"references\": [\"fixture\"], \"scope\": {\"field\": \"hs\", \"prefix\": [\"8471\"]},\n"
          "  \"indicators\": [\n"
          "   {\"id\": \"air\", \"weight\": 25, \"reason\": \"air\", \"when\": {\"field\": \"mode\", \"eq\": \"AIR\"}},\n"
          "   {\"id\": \"origin-ng\", \"weight\": 25, \"reason\": \"NG\", \"when\": {\"field\": \"origin\", \"in\": [\"NG\"]}},\n"
          "   {\"id\": \"used\", \"weight\": 25, \"reason\": \"used\", \"when\": {\"field\": \"description\", \"keywords\": [\"used\"]}},\n"
          "   {\"id\": \"decoy\", \"weight\": 25, \"reason\": \"office\", \"when\": {\"field\": \"office\", \"eq\": \"FRCDG\"}},\n"
          "   {\"id\": \"never\", \"weight\": 10, \"reason\": \"never fires\", \"when\": {\"field\": \"origin\", \"in\": [\"ZW\"]}}\n"
          "  ],\n"
          "  \"alert_threshold\": 40, \"lanes\": {\"red\": 80, \"yellow\": 40, \"blue\": 20}, \"random_rate\": 0}\n"
          "]}\n", f);
    fclose(f);
}

static json_object *path(json_object *o, const char *k)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, k, &v), "missing key %s", k);
    return v;
}

START_TEST(tune_recovers_known_weights)
{
    generate();
    const char *feeds[1] = {feed};
    er_tune_opts o = {.in = {.feeds = feeds, .n_feeds = 1, .label_field = "seized"},
                      .pack = pack, .out = out, .lambda = 0.01};
    char *json = NULL, *table = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_tune(&o, &json, &table, &err) == ER_OK, "%s", err.msg);
    json_object *root = json_tokener_parse(json);
    ck_assert_ptr_nonnull(root);
    json_object *split = path(root, "split");
    ck_assert_str_eq(json_object_get_string(path(split, "date")), "2026-02-17");
    json_object *prof = json_object_array_get_idx(path(root, "profiles"), 0);
    ck_assert(json_object_get_boolean(path(prof, "fitted")));
    ck_assert_int_eq(json_object_get_int(path(prof, "tuned_version")), 4);
    double b0 = json_object_get_double(path(path(prof, "intercept"), "beta"));
    double s0 = json_object_get_double(path(path(prof, "intercept"), "se"));
    ck_assert_msg(fabs(b0 - TRUTH[0]) < 4 * s0, "intercept %g (se %g)", b0, s0);
    json_object *inds = path(prof, "indicators");
    double beta[5], tuned[5], bsum = 0;
    for (int k = 0; k < 4; k++) {
        json_object *ind = json_object_array_get_idx(inds, (size_t)k);
        beta[k] = json_object_get_double(path(ind, "beta"));
        double se = json_object_get_double(path(ind, "se"));
        tuned[k] = json_object_get_double(path(ind, "tuned_weight"));
        ck_assert_msg(fabs(beta[k] - TRUTH[1 + k]) < 4 * se && fabs(beta[k] - TRUTH[1 + k]) < 0.15,
                      "indicator %d: beta %g (se %g), truth %g", k, beta[k], se, TRUTH[1 + k]);
        bsum += beta[k] > 0 ? beta[k] : 0;
    }
    /* Tuned weights: the profile's 100 points over the four indicators that fired, in proportion to the
     * positive coefficients (one decimal); "never" did not fire and keeps its 10. */
    for (int k = 0; k < 4; k++) {
        double want = beta[k] > 0 ? round(1000 * beta[k] / bsum) / 10 : 0;
        ck_assert_msg(fabs(tuned[k] - want) < 1e-9, "tuned weight %d: %g, want %g", k, tuned[k], want);
        ck_assert(fabs(tuned[k] - 100 * (TRUTH[1 + k]) / 4.5) < 4);
    }
    json_object *never = json_object_array_get_idx(inds, 4);
    ck_assert(json_object_is_type(path(never, "beta"), json_type_null));
    ck_assert_double_eq(json_object_get_double(path(never, "tuned_weight")), 10);

    /* The tuned copy loads as a pack, with the new weights and version. */
    er_refdata *ref = NULL;
    er_profileset *ps = NULL;
    ck_assert_int_eq(er_refdata_load(&ref, NULL, &err), ER_OK);
    er_profile_opts po = {.ref = ref, .lists_dir = dir};
    const char *paths[1] = {out};
    ck_assert_msg(er_profileset_load(&ps, paths, 1, &po, false, &err) == ER_OK, "%s", err.msg);
    const er_profile_info *info = er_profileset_info(ps, 0);
    ck_assert_int_eq(info->version, 4);
    for (int k = 0; k < 4; k++) {
        ck_assert_double_eq_tol(info->indicators[k].weight, tuned[k], 1e-9);
        /* the fitted coefficient is the indicator's log-odds (6 significant digits) */
        ck_assert_msg(fabs(info->indicators[k].log_odds - beta[k]) <= 1e-5 * fabs(beta[k]) + 1e-12,
                      "log_odds %d: %g, beta %g", k, info->indicators[k].log_odds, beta[k]);
    }
    /* "never" did not fire in training: no log_odds written, its 10 points give ln 2 */
    ck_assert_double_eq_tol(info->indicators[4].log_odds, log(2), 1e-12);
    /* prior: the fitted probability with nothing fired, σ(β₀) */
    ck_assert_double_eq_tol(info->prior, 1 / (1 + exp(-b0)), 1e-6);
    ck_assert_double_eq(info->anomaly_scale, 0);
    ck_assert_uint_eq(info->n_references, 2);
    er_profileset_free(ps);
    er_refdata_free(ref);

    /* Over the test period the tuned pack ranks at least as well as the equal-weight original. */
    json_object *test = path(root, "test");
    double p_orig = json_object_get_double(path(json_object_array_get_idx(path(test, "original"), 1), "precision"));
    double p_tuned = json_object_get_double(path(json_object_array_get_idx(path(test, "tuned"), 1), "precision"));
    double base = json_object_get_double(path(test, "base_rate"));
    ck_assert_msg(p_tuned >= p_orig && p_tuned > 2 * base, "precision@5%%: tuned %g, original %g, base %g", p_tuned,
                  p_orig, base);
    /* The answer is known (the decoy has no effect, "used" the largest): tuning never lowers the
     * top-1 % precision, nor the average precision, of the ranking by risk. */
    for (size_t r = 0; r < 3; r++) {
        double p0 = json_object_get_double(path(json_object_array_get_idx(path(test, "original"), r), "precision"));
        double pt = json_object_get_double(path(json_object_array_get_idx(path(test, "tuned"), r), "precision"));
        ck_assert_msg(pt >= p0, "rate %zu: tuned precision %g below the original %g", r, pt, p0);
    }
    ck_assert_double_eq(json_object_get_double(path(json_object_array_get_idx(path(test, "tuned"), 0), "rate")), 0.01);
    json_object *ap = path(test, "average_precision");
    ck_assert_msg(json_object_get_double(path(ap, "tuned")) >= json_object_get_double(path(ap, "original")),
                  "average precision: tuned %g, original %g", json_object_get_double(path(ap, "tuned")),
                  json_object_get_double(path(ap, "original")));
    ck_assert(!json_object_get_boolean(path(test, "in_sample")));
    json_object_put(root);
    free(json);
    free(table);

    /* For deployment: every label in the fit, the figures in-sample. */
    o.all_labels = true;
    ck_assert_msg(er_tune(&o, &json, &table, &err) == ER_OK, "%s", err.msg);
    root = json_tokener_parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(json_object_get_int(path(path(path(root, "split"), "train"), "n")), 30000);
    ck_assert_int_eq(json_object_get_int(path(path(root, "test"), "n")), 30000);
    ck_assert(json_object_get_boolean(path(path(root, "test"), "in_sample")));
    prof = json_object_array_get_idx(path(root, "profiles"), 0);
    ck_assert_int_eq(json_object_get_int(path(prof, "n")), 30000);
    json_object_put(root);
    free(json);
    free(table);
    o.all_labels = false;

    /* Never overwrite an input. */
    o.out = pack;
    ck_assert_int_eq(er_tune(&o, &json, &table, &err), ER_EINVAL);
    ck_assert(strstr(err.msg, "refusing to overwrite the input pack") != NULL);
    o.out = feed;
    ck_assert_int_eq(er_tune(&o, &json, &table, &err), ER_EINVAL);
    ck_assert(strstr(err.msg, "refusing to overwrite an input feed") != NULL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("tune");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tune_recovers_known_weights);
    suite_add_tcase(s, tc);
    return s;
}
