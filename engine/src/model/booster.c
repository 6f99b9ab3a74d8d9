/*
 * booster.c — the XGBoost wrapper of the learned model (model.h): training
 * with time-ordered validation and early stopping on the validation average
 * precision, and prediction (probabilities, SHAP contributions) from a model
 * held as XGBoost JSON. Every XGBoost call is checked; its message
 * (XGBGetLastError) goes into er_err. Training parameters are fixed except
 * those of bst_params, and chosen for determinism (docs/scoring.md): exact
 * histogram method, no row or column sampling, fixed seed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"
#include "model/xgb_api.h"

#define XGB(call)                                                                                   \
    do {                                                                                            \
        if ((call) != 0) {                                                                          \
            st = er_errf(err, ER_EINTERNAL, "xgboost: %s: %s", #call, XGBGetLastError());          \
            goto cleanup;                                                                           \
        }                                                                                           \
    } while (0)

const char *bst_version(void)
{
    static char v[32];
    if (er_xgb_load(NULL) != ER_OK)
        return "unavailable";
    if (!v[0]) {
        int a, b, c;
        XGBoostVersion(&a, &b, &c);
        snprintf(v, sizeof v, "%d.%d.%d", a, b, c);
    }
    return v;
}

/* DMatrix of rows[0..n) of the CSR matrix d (NULL rows: all of d's rows, without a copy);
 * NaN entries are missing. Labels from d->y. */
static er_status make_dmatrix(const bst_data *d, const size_t *rows, size_t n, DMatrixHandle *out, er_err *err)
{
    er_status st = ER_OK;
    size_t *ptr = NULL, nnz = 0;
    unsigned *ci = NULL;
    float *cv = NULL, *lab = malloc((n ? n : 1) * sizeof *lab);
    *out = NULL;
    if (rows) {
        for (size_t i = 0; i < n; i++)
            nnz += d->ptr[rows[i] + 1] - d->ptr[rows[i]];
        ptr = malloc((n + 1) * sizeof *ptr);
        ci = malloc((nnz ? nnz : 1) * sizeof *ci);
        cv = malloc((nnz ? nnz : 1) * sizeof *cv);
    }
    if (!lab || (rows && (!ptr || !ci || !cv))) {
        st = er_errf(err, ER_ENOMEM, "out of memory (%zu x %zu feature matrix)", n, d->nf);
        goto cleanup;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        lab[i] = d->y[r];
        if (!rows)
            continue;
        ptr[i] = k;
        size_t len = d->ptr[r + 1] - d->ptr[r];
        memcpy(ci + k, d->ci + d->ptr[r], len * sizeof *ci);
        memcpy(cv + k, d->cv + d->ptr[r], len * sizeof *cv);
        k += len;
    }
    if (rows)
        ptr[n] = k;
    XGB(XGDMatrixCreateFromCSREx(rows ? ptr : d->ptr, rows ? ci : d->ci, rows ? cv : d->cv, n + 1,
                                 rows ? nnz : d->ptr[n], d->nf, out));
    XGB(XGDMatrixSetFloatInfo(*out, "label", lab, (bst_ulong)n));
cleanup:
    if (st != ER_OK && *out) {
        XGDMatrixFree(*out);
        *out = NULL;
    }
    free(cv);
    free(ci);
    free(ptr);
    free(lab);
    return st;
}

static er_status set_params(BoosterHandle b, const bst_params *p, er_err *err)
{
    er_status st = ER_OK;
    char v[32];
    XGB(XGBoosterSetParam(b, "objective", "binary:logistic"));
    XGB(XGBoosterSetParam(b, "eval_metric", "aucpr"));
    XGB(XGBoosterSetParam(b, "tree_method", "hist"));
    XGB(XGBoosterSetParam(b, "seed", "0"));
    snprintf(v, sizeof v, "%u", BST_MAX_BIN);
    XGB(XGBoosterSetParam(b, "max_bin", v));
    XGB(XGBoosterSetParam(b, "min_child_weight", "1"));
    XGB(XGBoosterSetParam(b, "verbosity", "0"));
    /* every column of the quantised matrix stored densely: no per-entry row index (8 bytes each)
     * for the columns XGBoost would otherwise keep sparse; peak memory of learn on 1M rows
     * 1,004 -> 878 MB (docs/scoring.md 7.6); the trees do not change */
    XGB(XGBoosterSetParam(b, "sparse_threshold", "0"));
    snprintf(v, sizeof v, "%u", p->max_depth);
    XGB(XGBoosterSetParam(b, "max_depth", v));
    snprintf(v, sizeof v, "%.17g", p->eta);
    XGB(XGBoosterSetParam(b, "eta", v));
    snprintf(v, sizeof v, "%u", p->threads);
    XGB(XGBoosterSetParam(b, "nthread", v));
cleanup:
    return st;
}

/* "[12]\tvalid-aucpr:0.8123" -> 0.8123 */
static double parse_eval(const char *s)
{
    const char *c = strrchr(s, ':');
    return c ? strtod(c + 1, NULL) : NAN;
}

er_status bst_open(bst_set *s, const bst_data *d, const size_t *valid, size_t nv, er_err *err)
{
    er_status st;
    memset(s, 0, sizeof *s);
    s->n = d->n;
    if ((st = er_xgb_load(err)) != ER_OK)
        return st;
    /* the validation copy first: its temporary CSR is gone before XGBoost copies every row */
    if ((st = make_dmatrix(d, valid, nv, &s->valid, err)) != ER_OK ||
        (st = make_dmatrix(d, NULL, d->n, &s->all, err)) != ER_OK)
        bst_close(s);
    return st;
}

void bst_close(bst_set *s)
{
    if (s->valid)
        XGDMatrixFree(s->valid);
    if (s->all)
        XGDMatrixFree(s->all);
    memset(s, 0, sizeof *s);
}

/* Rounds with early stopping on the validation rows; valid_pred gets their probabilities at the best round. */
static er_status fit_valid(BoosterHandle b, const bst_set *s, const bst_params *p, bst_fit *fit, double *valid_pred,
                           size_t nv, er_err *err)
{
    er_status st = ER_OK;
    fit->best_ap = -1;
    for (unsigned it = 0; it < p->max_rounds; it++) {
        XGB(XGBoosterUpdateOneIter(b, (int)it, s->all));
        fit->rounds = it + 1;
        const char *names[] = {"valid"};
        const char *res = NULL;
        DMatrixHandle v = s->valid;
        XGB(XGBoosterEvalOneIter(b, (int)it, &v, names, 1, &res));
        double ap = parse_eval(res);
        if (ap > fit->best_ap) {
            fit->best_ap = ap;
            fit->best_round = it;
        } else if (it - fit->best_round >= p->early_stop) {
            break;
        }
    }
    char cfg[160];
    bst_ulong const *shape;
    bst_ulong dim;
    float const *res;
    snprintf(cfg, sizeof cfg, "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":%u,"
                              "\"strict_shape\":false}", fit->best_round + 1);
    XGB(XGBoosterPredictFromDMatrix(b, s->valid, cfg, &shape, &dim, &res));
    for (size_t i = 0; i < nv; i++)
        valid_pred[i] = res[i];
cleanup:
    return st;
}

er_status bst_train(bst_set *s, const float *train_w, size_t nv, const bst_params *p, bst_fit *fit,
                    bst_fit *fit_all, char **model, size_t *model_len, double *valid_pred, er_err *err)
{
    er_status st = ER_OK;
    BoosterHandle b = NULL;
    float *ones = malloc((s->n ? s->n : 1) * sizeof *ones);
    *model = NULL;
    memset(fit, 0, sizeof *fit);
    memset(fit_all, 0, sizeof *fit_all);
    if (!ones) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* validation fit: the validation rows weigh 0, so their gradients and hessians are 0 */
    XGB(XGDMatrixSetFloatInfo(s->all, "weight", train_w, (bst_ulong)s->n));
    XGB(XGBoosterCreate(&s->all, 1, &b));
    if ((st = set_params(b, p, err)) != ER_OK || (st = fit_valid(b, s, p, fit, valid_pred, nv, err)) != ER_OK)
        goto cleanup;
    XGBoosterFree(b);
    b = NULL;
    /* deployed model: every label, the best number of rounds */
    for (size_t i = 0; i < s->n; i++)
        ones[i] = 1.0f;
    XGB(XGDMatrixSetFloatInfo(s->all, "weight", ones, (bst_ulong)s->n));
    XGB(XGBoosterCreate(&s->all, 1, &b));
    if ((st = set_params(b, p, err)) != ER_OK)
        goto cleanup;
    for (unsigned it = 0; it <= fit->best_round; it++)
        XGB(XGBoosterUpdateOneIter(b, (int)it, s->all));
    fit_all->rounds = fit->best_round + 1;
    bst_ulong len;
    const char *buf;
    XGB(XGBoosterSaveModelToBuffer(b, "{\"format\":\"json\"}", &len, &buf));
    if (!(*model = malloc((size_t)len + 1))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(*model, buf, (size_t)len);
    (*model)[len] = '\0';
    *model_len = (size_t)len;
cleanup:
    if (b)
        XGBoosterFree(b);
    free(ones);
    return st;
}

/* ---- prediction ---- */

struct er_model_pred {
    const er_model *m;
    forest         *f;     /* margins and contributions (forest.c, forest_shap.c) */
    uint32_t       *hot;   /* forest_shap's scratch */
    float          *acc;   /* forest_paths' scratch */
    BoosterHandle   b;     /* what the forest does not compute; loaded on first use */
};

/* The probability of a margin, in double: the same from the forest and from
 * XGBoost's margins, and its log-odds is the margin (docs/scoring.md §7.5). */
static double sigmoid(float margin) { return 1.0 / (1.0 + exp(-(double)margin)); }

/* p's XGBoost booster, loaded from the model's JSON the first time it is needed. */
static er_status booster(er_model_pred *p, er_err *err)
{
    er_status st = ER_OK;
    BoosterHandle b = NULL;
    if (p->b)
        return ER_OK;
    if ((st = er_xgb_load(err)) != ER_OK)
        return st;
    XGB(XGBoosterCreate(NULL, 0, &b));
    XGB(XGBoosterLoadModelFromBuffer(b, p->m->booster, (bst_ulong)p->m->booster_len));
    XGB(XGBoosterSetParam(b, "nthread", "1"));
    p->b = b;
    b = NULL;
cleanup:
    if (b)
        XGBoosterFree(b);
    return st;
}

er_status er_model_pred_new(er_model_pred **out, const er_model *m, er_err *err)
{
    er_status st = ER_OK;
    er_model_pred *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return er_errf(err, ER_ENOMEM, "out of memory");
    p->m = m;
    /* out of memory is an error, not XGBoost instead: its SHAP values differ in
     * the last digits, and a run's output must not depend on memory */
    bool nomem;
    p->f = forest_compile(m->booster, m->booster_len, m->nf, &nomem);
    if (nomem || (p->f && (!(p->hot = malloc(forest_shap_scratch(p->f) * sizeof *p->hot)) ||
                           !(p->acc = malloc((m->nf + 1) * sizeof *p->acc))))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* XGBoost's own booster only when the trees did not compile (else on first use) */
    if (!p->f && (st = booster(p, err)) != ER_OK)
        goto cleanup;
    *out = p;
    p = NULL;
cleanup:
    er_model_pred_free(p);
    return st;
}

void er_model_pred_free(er_model_pred *p)
{
    if (!p)
        return;
    if (p->b)
        XGBoosterFree(p->b);
    free(p->acc);
    free(p->hot);
    forest_free(p->f);
    free(p);
}

/* Margins by XGBoost's in-place prediction on the dense rows (no DMatrix copy). */
er_status er_model_margin_xgb(er_model_pred *p, const float *rows, size_t n, float *margin, er_err *err)
{
    er_status st = ER_OK;
    bst_ulong const *shape;
    bst_ulong dim;
    float const *res;
    char arr[160];
    if (!n)
        return ER_OK;
    if ((st = booster(p, err)) != ER_OK)
        return st;
    snprintf(arr, sizeof arr, "{\"data\":[%llu,true],\"shape\":[%zu,%zu],\"typestr\":\"<f4\",\"version\":3}",
             (unsigned long long)(uintptr_t)rows, n, p->m->nf);
    XGB(XGBoosterPredictFromDense(p->b, arr, "{\"type\":1,\"training\":false,\"iteration_begin\":0,"
                                             "\"iteration_end\":0,\"strict_shape\":false,\"cache_id\":0,"
                                             "\"missing\":NaN}", NULL, &shape, &dim, &res));
    memcpy(margin, res, n * sizeof *margin);
cleanup:
    return st;
}

bool er_model_pred_compiled(const er_model_pred *p) { return p->f != NULL; }

/* Probabilities from the compiled forest, or from XGBoost's margins when the
 * booster did not compile; equal either way (tested bit for bit). */
er_status er_model_predict(er_model_pred *p, const float *rows, size_t n, double *prob, er_err *err)
{
    size_t nf = p->m->nf;
    float buf[256];
    for (size_t i = 0; i < n; i += 256) {
        size_t k = n - i < 256 ? n - i : 256;
        er_status st = ER_OK;
        if (p->f)
            forest_margins(p->f, rows + i * nf, k, nf, buf);
        else
            st = er_model_margin_xgb(p, rows + i * nf, k, buf, err);
        if (st != ER_OK)
            return st;
        for (size_t j = 0; j < k; j++)
            prob[i + j] = sigmoid(buf[j]);
    }
    return ER_OK;
}

/* Contributions of n rows from XGBoost: prediction type 2 (exact TreeSHAP) or 3
 * (path attributions, "approx_contribs"). */
er_status er_model_contrib_xgb(er_model_pred *p, const float *rows, size_t n, bool shap, double *contrib,
                               er_err *err)
{
    er_status st = ER_OK;
    DMatrixHandle dm = NULL;
    bst_ulong const *shape;
    bst_ulong dim;
    float const *res;
    char conf[128];
    if (!n)
        return ER_OK;
    if ((st = booster(p, err)) != ER_OK)
        return st;
    XGB(XGDMatrixCreateFromMat(rows, (bst_ulong)n, (bst_ulong)p->m->nf, NAN, &dm));
    snprintf(conf, sizeof conf, "{\"type\":%d,\"training\":false,\"iteration_begin\":0,"
                                "\"iteration_end\":0,\"strict_shape\":false}", shap ? 2 : 3);
    XGB(XGBoosterPredictFromDMatrix(p->b, dm, conf, &shape, &dim, &res));
    for (size_t i = 0; i < n * (p->m->nf + 1); i++)
        contrib[i] = res[i];
cleanup:
    if (dm)
        XGDMatrixFree(dm);
    return st;
}

er_status er_model_contrib(er_model_pred *p, const float *rows, size_t n, double *contrib, er_err *err)
{
    if (p->f && forest_has_shap(p->f)) {
        forest_shap(p->f, rows, n, p->m->nf, contrib, p->hot);
        return ER_OK;
    }
    return er_model_contrib_xgb(p, rows, n, true, contrib, err);
}

er_status er_model_contrib_path(er_model_pred *p, const float *rows, size_t n, double *contrib, er_err *err)
{
    if (p->f) {
        forest_paths(p->f, rows, n, p->m->nf, contrib, p->acc);
        return ER_OK;
    }
    return er_model_contrib_xgb(p, rows, n, false, contrib, err);
}
