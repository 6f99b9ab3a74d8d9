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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "model/model_int.h"

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
    if (!v[0]) {
        int a, b, c;
        XGBoostVersion(&a, &b, &c);
        snprintf(v, sizeof v, "%d.%d.%d", a, b, c);
    }
    return v;
}

/* DMatrix of the rows idx[0..n) of x (n x nf), labels from y (may be NULL). */
static er_status make_dmatrix(const float *x, const float *y, size_t nf, const size_t *idx, size_t n,
                              DMatrixHandle *out, er_err *err)
{
    er_status st = ER_OK;
    bool contiguous = true;
    for (size_t i = 1; i < n && contiguous; i++)
        contiguous = idx[i] == idx[0] + i;
    float *m = contiguous ? NULL : malloc((n ? n : 1) * nf * sizeof *m);
    float *lab = y ? malloc((n ? n : 1) * sizeof *lab) : NULL;
    *out = NULL;
    if ((!contiguous && !m) || (y && !lab)) {
        st = er_errf(err, ER_ENOMEM, "out of memory (%zu x %zu feature matrix)", n, nf);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (m)
            memcpy(m + i * nf, x + idx[i] * nf, nf * sizeof *m);
        if (lab)
            lab[i] = y[idx[i]];
    }
    /* contiguous rows (learn.c puts them in time order first) go to XGBoost without a copy */
    XGB(XGDMatrixCreateFromMat(m ? m : x + (n ? idx[0] : 0) * nf, (bst_ulong)n, (bst_ulong)nf, NAN, out));
    if (lab)
        XGB(XGDMatrixSetFloatInfo(*out, "label", lab, (bst_ulong)n));
cleanup:
    if (st != ER_OK && *out) {
        XGDMatrixFree(*out);
        *out = NULL;
    }
    free(lab);
    free(m);
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
    XGB(XGBoosterSetParam(b, "max_bin", "256"));
    XGB(XGBoosterSetParam(b, "min_child_weight", "1"));
    XGB(XGBoosterSetParam(b, "verbosity", "0"));
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

er_status bst_train(const float *x, const float *y, size_t nf, const size_t *train, size_t nt,
                    const size_t *valid, size_t nv, const bst_params *p, bst_fit *fit, char **model,
                    size_t *model_len, double *valid_pred, er_err *err)
{
    er_status st = ER_OK;
    DMatrixHandle dm[2] = {NULL, NULL};
    BoosterHandle b = NULL;
    *model = NULL;
    memset(fit, 0, sizeof *fit);
    if ((st = make_dmatrix(x, y, nf, train, nt, &dm[0], err)) != ER_OK)
        goto cleanup;
    if (nv && (st = make_dmatrix(x, y, nf, valid, nv, &dm[1], err)) != ER_OK)
        goto cleanup;
    XGB(XGBoosterCreate(dm, nv ? 2 : 1, &b));
    if ((st = set_params(b, p, err)) != ER_OK)
        goto cleanup;
    fit->best_ap = -1;
    for (unsigned it = 0; it < p->max_rounds; it++) {
        XGB(XGBoosterUpdateOneIter(b, (int)it, dm[0]));
        fit->rounds = it + 1;
        if (!nv)
            continue;
        const char *names[] = {"valid"};
        const char *res = NULL;
        XGB(XGBoosterEvalOneIter(b, (int)it, &dm[1], names, 1, &res));
        double ap = parse_eval(res);
        if (ap > fit->best_ap) {
            fit->best_ap = ap;
            fit->best_round = it;
        } else if (it - fit->best_round >= p->early_stop) {
            break;
        }
    }
    if (nv && valid_pred) {
        char cfg[160];
        bst_ulong const *shape;
        bst_ulong dim;
        float const *res;
        snprintf(cfg, sizeof cfg, "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":%u,"
                                  "\"strict_shape\":false}", fit->best_round + 1);
        XGB(XGBoosterPredictFromDMatrix(b, dm[1], cfg, &shape, &dim, &res));
        for (size_t i = 0; i < nv; i++)
            valid_pred[i] = res[i];
    }
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
    if (dm[1])
        XGDMatrixFree(dm[1]);
    if (dm[0])
        XGDMatrixFree(dm[0]);
    return st;
}

/* ---- prediction ---- */

struct er_model_pred {
    const er_model *m;
    BoosterHandle   b;
};

er_status er_model_pred_new(er_model_pred **out, const er_model *m, er_err *err)
{
    er_status st = ER_OK;
    er_model_pred *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return er_errf(err, ER_ENOMEM, "out of memory");
    p->m = m;
    XGB(XGBoosterCreate(NULL, 0, &p->b));
    XGB(XGBoosterLoadModelFromBuffer(p->b, m->booster, (bst_ulong)m->booster_len));
    XGB(XGBoosterSetParam(p->b, "nthread", "1"));
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
    free(p);
}

static er_status predict(er_model_pred *p, const float *rows, size_t n, int type, double *out, size_t per_row,
                         er_err *err)
{
    er_status st = ER_OK;
    DMatrixHandle dm = NULL;
    bst_ulong const *shape;
    bst_ulong dim;
    float const *res;
    char cfg[128];
    if (!n)
        return ER_OK;
    XGB(XGDMatrixCreateFromMat(rows, (bst_ulong)n, (bst_ulong)p->m->nf, NAN, &dm));
    snprintf(cfg, sizeof cfg, "{\"type\":%d,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
                              "\"strict_shape\":false}", type);
    XGB(XGBoosterPredictFromDMatrix(p->b, dm, cfg, &shape, &dim, &res));
    for (size_t i = 0; i < n * per_row; i++)
        out[i] = res[i];
cleanup:
    if (dm)
        XGDMatrixFree(dm);
    return st;
}

er_status er_model_predict(er_model_pred *p, const float *rows, size_t n, double *prob, er_err *err)
{
    return predict(p, rows, n, 0, prob, 1, err);
}

er_status er_model_contrib(er_model_pred *p, const float *row, double *contrib, er_err *err)
{
    return predict(p, row, 1, 2, contrib, p->m->nf + 1, err);
}
