/*
 * test_model.c — the learned model (model.h): trained on a fixture whose
 * answer is known (a fifth of the importers are caught four times in five,
 * the others one time in fifty; a weak indicator fires at random), it ranks
 * every declaration of a bad importer above every other; the importer rate
 * reads back the exact counts of the fixture; SHAP contributions add up to
 * the log-odds; a model bound to other packs is refused naming both ids; the
 * model file is byte-identical whether XGBoost trains on 1 or 2 threads.
 */
#include "check_main.h"
#include <gsl/gsl_rng.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/model.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "ecorisk/score.h"
#include "model/model_int.h"
#include "tmp_fixture.h"

#define N_IMP 100
static char dir[200], feed[256], pack[256];
static unsigned imp_n[N_IMP], imp_pos[N_IMP];

static bool bad_importer(int k)
{
    return k % 5 == 0;
}

static void generate(void)
{
    tf_mkdtemp(dir, sizeof dir, "model-");
    snprintf(feed, sizeof feed, "%s/labelled.csv", dir);
    snprintf(pack, sizeof pack, "%s/pack.json", dir);
    FILE *f = fopen(feed, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id,date,flow,hs,origin,destination,mode,office,importer,net_kg,value,currency,seized\n", f);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    memset(imp_n, 0, sizeof imp_n);
    memset(imp_pos, 0, sizeof imp_pos);
    const int n = 4000;
    for (int i = 0; i < n; i++) {
        int k = (int)gsl_rng_uniform_int(r, N_IMP);
        bool air = gsl_rng_uniform(r) < 0.3;
        int y = gsl_rng_uniform(r) < (bad_importer(k) ? 0.8 : 0.02);
        int day = 1 + i * 59 / n;
        imp_n[k]++;
        imp_pos[k] += (unsigned)y;
        fprintf(f, "D%05d,2026-%02d-%02d,IM,847130,CN,FR,%s,FRLEH,IMP%03d,%d,%d,USD,%d\n", i, day <= 31 ? 1 : 2,
                day <= 31 ? day : day - 31, air ? "AIR" : "SEA", k, 10 + (int)gsl_rng_uniform_int(r, 90),
                100 + (int)gsl_rng_uniform_int(r, 900), y);
    }
    gsl_rng_free(r);
    fclose(f);
    f = fopen(pack, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"format\": \"ecorisk-profiles/1\", \"domain\": \"waste\", \"title\": \"model fixture\", \"profiles\": [\n"
          " {\"id\": \"t-laptops\", \"version\": 1, \"domain\": \"waste\", \"title\": \"Laptops\", \"owner\": \"tests\",\n"
          "  \"references\": [\"fixture\"], \"scope\": {\"field\": \"hs\", \"prefix\": [\"8471\"]},\n"
          "  \"indicators\": [\n"
          "   {\"id\": \"air\", \"weight\": 50, \"reason\": \"air\", \"when\": {\"field\": \"mode\", \"eq\": \"AIR\"}}\n"
          "  ],\n"
          "  \"alert_threshold\": 40, \"lanes\": {\"red\": 80, \"yellow\": 40, \"blue\": 20}, \"random_rate\": 0}\n"
          "]}\n", f);
    fclose(f);
}

static void learn(const char *out, unsigned threads)
{
    const char *feeds[1] = {feed}, *packs[1] = {pack};
    er_learn_opts o = {.in = {.feeds = feeds, .n_feeds = 1, .label_field = "seized"},
                       .profiles = packs, .n_profiles = 1, .max_rounds = 60, .early_stop = 10, .max_depth = 4, .eta = 0.3,
                       .threads = threads, .out = out};
    char *json = NULL, *table = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_learn(&o, &json, &table, &err) == ER_OK, "%s", err.msg);
    free(json);
    free(table);
}

typedef struct env {
    er_refdata    *ref;
    er_profileset *ps;
    er_eval       *ev;
    er_model      *m;
    er_model_pred *pr;
} env;

static void env_open(env *e, const char *model_path, const char *packs_path)
{
    er_err err = {{0}};
    memset(e, 0, sizeof *e);
    ck_assert_msg(er_refdata_load(&e->ref, NULL, &err) == ER_OK, "%s", err.msg);
    const char *packs[1] = {packs_path};
    er_profile_opts po = {.ref = e->ref};
    ck_assert_msg(er_profileset_load(&e->ps, packs, 1, &po, false, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_eval_new(&e->ev, e->ps, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_model_load(&e->m, model_path, &err) == ER_OK, "%s", err.msg);
}

static void env_close(env *e)
{
    er_model_pred_free(e->pr);
    er_model_free(e->m);
    er_eval_free(e->ev);
    er_profileset_free(e->ps);
    er_refdata_free(e->ref);
}

static void make_decl(er_decl *d, char *imp, int k, bool air)
{
    memset(d, 0, sizeof *d);
    snprintf(imp, 16, "IMP%03d", k);
    d->id = "NEW";
    er_date_parse("2026-03-10", 10, &d->date);
    d->flow = ER_FLOW_IM;
    d->mode = air ? ER_MODE_AIR : ER_MODE_SEA;
    strcpy(d->hs, "847130");
    d->hs_len = 6;
    d->origin = ER_CC('C', 'N');
    d->destination = ER_CC('F', 'R');
    d->office = "FRLEH";
    d->importer = imp;
    d->net_kg = 50;
    d->value = d->value_ref = 500;
    d->present = ER_P_NET_KG | ER_P_VALUE | ER_P_VALUE_REF;
    strcpy(d->currency, "USD");
}

/* The fixture generated, a model learned on it (2 threads), loaded, bound to
 * the fixture's pack and ready to predict. */
static void trained(env *e)
{
    generate();
    char path[300];
    snprintf(path, sizeof path, "%s/model.json", dir);
    learn(path, 2);
    er_err err = {{0}};
    env_open(e, path, pack);
    ck_assert_msg(er_model_bind(e->m, e->ps, NULL, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_model_pred_new(&e->pr, e->m, &err) == ER_OK, "%s", err.msg);
}

/* Feature row of the fixture declaration of importer k (by air or by sea) into row. */
static void fixture_row(const env *e, er_decl *d, char *imp, int k, int air, float *row)
{
    er_decl_score sc;
    make_decl(d, imp, k, air);
    er_score_decl(e->ps, NULL, e->ev, d, &sc);
    er_model_features(e->m, d, &sc, row);
}

START_TEST(model_ranks_the_known_answer)
{
    env e;
    er_err err = {{0}};
    trained(&e);
    size_t nf = er_model_n_features(e.m);
    float *rows = calloc(2 * N_IMP * nf, sizeof *rows);
    double prob[2 * N_IMP];
    char imp[2 * N_IMP][16];
    ck_assert_ptr_nonnull(rows);
    for (int k = 0; k < N_IMP; k++)
        for (int air = 0; air < 2; air++) {
            er_decl d;
            fixture_row(&e, &d, imp[2 * k + air], k, air, rows + (size_t)(2 * k + air) * nf);
            if (air == 0) {
                /* the importer's rate reads back the fixture's exact counts */
                size_t j = 0;
                while (j < nf && strcmp(er_model_feature_name(e.m, j), "importer.n") != 0)
                    j++;
                ck_assert_uint_lt(j, nf);
                ck_assert_uint_eq((unsigned)rows[(size_t)(2 * k) * nf + j], imp_n[k]);
                char words[200], want[200];
                er_model_describe(e.m, j, &d, rows + (size_t)(2 * k) * nf, words, sizeof words);
                snprintf(want, sizeof want, "importer: %u of %u earlier inspections positive", imp_pos[k], imp_n[k]);
                ck_assert_str_eq(words, want);
            }
        }
    ck_assert_msg(er_model_predict(e.pr, rows, 2 * N_IMP, prob, &err) == ER_OK, "%s", err.msg);
    double min_bad = 1, max_good = 0;
    for (int i = 0; i < 2 * N_IMP; i++) {
        if (bad_importer(i / 2))
            min_bad = fmin(min_bad, prob[i]);
        else
            max_good = fmax(max_good, prob[i]);
    }
    ck_assert_msg(min_bad > max_good, "bad importers' lowest %g, good importers' highest %g", min_bad, max_good);
    ck_assert_msg(min_bad > 0.5 && max_good < 0.3, "bad %g good %g", min_bad, max_good);

    /* SHAP contributions (and the bias, last) add up to the log-odds of the prediction */
    double *contrib = calloc(nf + 1, sizeof *contrib);
    for (int i = 0; i < 2 * N_IMP; i += 17) {
        ck_assert_msg(er_model_contrib(e.pr, rows + (size_t)i * nf, 1, contrib, &err) == ER_OK, "%s", err.msg);
        double sum = 0;
        for (size_t j = 0; j <= nf; j++)
            sum += contrib[j];
        double logit = log(prob[i] / (1 - prob[i]));
        ck_assert_msg(fabs(sum - logit) < 1e-3, "row %d: contributions %g, log-odds %g", i, sum, logit);
        /* path attributions (top-up candidates) add up to it as well */
        ck_assert_msg(er_model_contrib_path(e.pr, rows + (size_t)i * nf, 1, contrib, &err) == ER_OK, "%s", err.msg);
        sum = 0;
        for (size_t j = 0; j <= nf; j++)
            sum += contrib[j];
        ck_assert_msg(fabs(sum - logit) < 1e-3, "row %d: path attributions %g, log-odds %g", i, sum, logit);
    }
    free(contrib);
    free(rows);
    env_close(&e);
}
END_TEST

START_TEST(model_with_other_packs_is_refused)
{
    generate();
    char path[300], msg[ER_ERR_MSG_MAX];
    snprintf(path, sizeof path, "%s/model.json", dir);
    learn(path, 2);
    char shipped[1024];
    snprintf(shipped, sizeof shipped, "%s/profiles", ECORISK_SOURCE_DIR);
    env e, mine;
    er_err err = {{0}};
    env_open(&e, path, shipped);
    env_open(&mine, path, pack);
    ck_assert_int_eq(er_model_bind(e.m, e.ps, NULL, &err), ER_EFORMAT);
    snprintf(msg, sizeof msg, "%s", err.msg);
    ck_assert_msg(strstr(msg, er_profileset_hash(e.ps)) && strstr(msg, er_profileset_hash(mine.ps)),
                  "message names both profile sets: %s", msg);
    env_close(&mine);
    env_close(&e);
}
END_TEST

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    char *s = malloc(*n + 1);
    ck_assert_uint_eq(fread(s, 1, *n, f), *n);
    fclose(f);
    return s;
}

START_TEST(model_bytes_do_not_depend_on_threads)
{
    generate();
    char p1[300], p2[300];
    snprintf(p1, sizeof p1, "%s/m1.json", dir);
    snprintf(p2, sizeof p2, "%s/m2.json", dir);
    learn(p1, 1);
    learn(p2, 2);
    size_t n1, n2;
    char *a = slurp(p1, &n1), *b = slurp(p2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_msg(memcmp(a, b, n1) == 0, "model files differ between 1 and 2 threads");
    free(a);
    free(b);
}
END_TEST

/* The compiled trees (forest.c) give XGBoost's margins bit for bit: on the
 * fixture's rows, on rows mixing their values with missing ones, and on values
 * one float step either side of theirs (where a split condition lies, the two
 * must go the same way). The run's probabilities are σ of that margin. */
START_TEST(compiled_trees_equal_xgboost)
{
    env e;
    er_err err = {{0}};
    trained(&e);
    ck_assert(er_model_pred_compiled(e.pr));
    size_t nf = er_model_n_features(e.m), base = 2 * N_IMP, n = 40 * base;
    float *rows = calloc(n * nf, sizeof *rows), *mx = calloc(n, sizeof *mx), *mf = calloc(n, sizeof *mf);
    double *prob = calloc(n, sizeof *prob);
    char imp[2 * N_IMP][16];
    ck_assert(rows && mx && mf && prob);
    for (int k = 0; k < N_IMP; k++)
        for (int air = 0; air < 2; air++) {
            er_decl d;
            fixture_row(&e, &d, imp[2 * k + air], k, air, rows + (size_t)(2 * k + air) * nf);
        }
    /* the trees' split conditions: rows below take them exactly and one float step either side */
    json_object *bj = json_tokener_parse(e.m->booster), *trees = bj;
    const char *keys[] = {"learner", "gradient_booster", "model", "trees"};
    for (size_t k = 0; k < 4; k++)
        ck_assert(json_object_object_get_ex(trees, keys[k], &trees));
    size_t n_split = 0, cap = 4096;
    float *split_v = calloc(cap, sizeof *split_v);
    size_t *split_f = calloc(cap, sizeof *split_f);
    for (size_t t = 0; t < json_object_array_length(trees); t++) {
        json_object *tr = json_object_array_get_idx(trees, t), *lc, *sc, *si;
        ck_assert(json_object_object_get_ex(tr, "left_children", &lc) &&
                  json_object_object_get_ex(tr, "split_conditions", &sc) &&
                  json_object_object_get_ex(tr, "split_indices", &si));
        for (size_t i = 0; i < json_object_array_length(lc) && n_split < cap; i++)
            if (json_object_get_int(json_object_array_get_idx(lc, i)) != -1) {
                split_v[n_split] = (float)json_object_get_double(json_object_array_get_idx(sc, i));
                split_f[n_split++] = (size_t)json_object_get_int(json_object_array_get_idx(si, i));
            }
    }
    json_object_put(bj);
    ck_assert_uint_gt(n_split, 10);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    for (size_t i = base; i < n; i++) {
        for (size_t j = 0; j < nf; j++) {
            float v = rows[gsl_rng_uniform_int(r, base) * nf + j];
            double u = gsl_rng_uniform(r);
            rows[i * nf + j] = u < 0.2 ? NAN : u < 0.4 ? nextafterf(v, -INFINITY) : u < 0.6 ? nextafterf(v, INFINITY) : v;
        }
        for (int k = 0; k < 8; k++) {   /* eight features of the row on a split condition or beside it */
            size_t s = gsl_rng_uniform_int(r, n_split);
            double u = gsl_rng_uniform(r);
            rows[i * nf + split_f[s]] = u < 0.5 ? split_v[s] : nextafterf(split_v[s], u < 0.75 ? -INFINITY : INFINITY);
        }
    }
    gsl_rng_free(r);
    free(split_f);
    free(split_v);
    bool nomem;
    forest *f = forest_compile(e.m->booster, e.m->booster_len, nf, &nomem);
    ck_assert_ptr_nonnull(f);
    forest_margins(f, rows, n, nf, mf);
    ck_assert_msg(er_model_margin_xgb(e.pr, rows, n, mx, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_model_predict(e.pr, rows, n, prob, &err) == ER_OK, "%s", err.msg);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        differ += memcmp(&mf[i], &mx[i], sizeof mf[i]) != 0;
        ck_assert_double_eq(prob[i], 1.0 / (1.0 + exp(-(double)mx[i])));
    }
    ck_assert_msg(differ == 0, "%zu of %zu margins differ from XGBoost's", differ, n);
    forest_free(f);

    /* contributions on the compiled trees (forest_shap.c) on the same rows: path
     * attributions bit for bit, SHAP values up to float rounding (XGBoost adds in
     * float), the bias bit for bit; both add up to the margin */
    double *cf = calloc(n * (nf + 1), sizeof *cf), *cx = calloc(n * (nf + 1), sizeof *cx);
    ck_assert(cf && cx);
    ck_assert_msg(er_model_contrib_path(e.pr, rows, n, cf, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_model_contrib_xgb(e.pr, rows, n, false, cx, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(memcmp(cf, cx, n * (nf + 1) * sizeof *cf) == 0, "path attributions differ from XGBoost's");
    ck_assert_msg(er_model_contrib(e.pr, rows, n, cf, &err) == ER_OK, "%s", err.msg);
    ck_assert_msg(er_model_contrib_xgb(e.pr, rows, n, true, cx, &err) == ER_OK, "%s", err.msg);
    double worst = 0;
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t j = 0; j <= nf; j++) {
            double a = cf[i * (nf + 1) + j], b = cx[i * (nf + 1) + j];
            worst = fmax(worst, fabs(a - b) / fmax(1.0, fabs(b)));
            nonzero += j < nf && a != 0;
            sum += a;
        }
        ck_assert_double_eq(cf[i * (nf + 1) + nf], cx[i * (nf + 1) + nf]);
        ck_assert_msg(fabs(sum - mx[i]) < 1e-4, "row %zu: SHAP values add up to %.9g, margin %.9g", i, sum, mx[i]);
    }
    ck_assert_msg(worst < 1e-5, "SHAP values differ from XGBoost's by up to %g", worst);
    ck_assert_uint_gt(nonzero, n);
    free(cx);
    free(cf);
    /* what learn never trains is not compiled: prediction stays with XGBoost */
    char *other = strdup(e.m->booster);
    char *at = strstr(other, "\"num_parallel_tree\":\"1\"");
    ck_assert_ptr_nonnull(at);
    at[strlen("\"num_parallel_tree\":\"")] = '2';
    ck_assert_ptr_null(forest_compile(other, strlen(other), nf, &nomem));
    ck_assert(!nomem);
    free(other);
    ck_assert_ptr_null(forest_compile("{\"learner\": 1}", 15, nf, &nomem));
    forest_free(NULL);
    free(prob);
    free(mf);
    free(mx);
    free(rows);
    env_close(&e);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, model_ranks_the_known_answer);
    tcase_add_test(tc, model_with_other_packs_is_refused);
    tcase_add_test(tc, model_bytes_do_not_depend_on_threads);
    tcase_add_test(tc, compiled_trees_equal_xgboost);
    suite_add_tcase(s, tc);
    return s;
}
