/*
 * contrib.c — a declaration's model contributions in words (model.h,
 * er_model_explain; docs/alerts.md): the probability, and each feature's
 * SHAP value from XGBoost with the value it had, ordered by absolute size,
 * each with a sentence an analyst reads ("importer: 7 of 9 earlier
 * inspections positive, +1.8"). Used by explain and by the run's alerts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

typedef struct cterm {
    size_t j;
    double c;
} cterm;

static int cmp_abs(const void *a, const void *b)
{
    const cterm *x = a, *y = b;
    double ax = fabs(x->c), ay = fabs(y->c);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

void er_model_explain_row(const er_model *m, const er_decl *d, const float *row, double prob, const double *c,
                          bool shap, size_t top, er_sb_t *out)
{
    er_sb *b = (er_sb *)out;
    size_t nf = m->nf, n = 0;
    cterm t[ER_MODEL_MAX_FEATURES];
    for (size_t j = 0; j < nf; j++)
        if (c[j] != 0)
            t[n++] = (cterm){j, c[j]};
    qsort(t, n, sizeof *t, cmp_abs);
    if (top && n > top)
        n = top;
    er_sb_puts(b, "{\"id\":");
    er_sb_json_cstr(b, m->id);
    er_sb_puts(b, ",\"probability\":");
    er_sb_json_numg(b, prob, 6);
    er_sb_puts(b, ",\"log_odds\":");
    er_sb_json_numg(b, log(prob / (1 - prob)), 6);
    er_sb_puts(b, ",\"bias\":");
    er_sb_json_numg(b, c[nf], 6);
    er_sb_puts(b, shap ? ",\"method\":\"shap\"" : ",\"method\":\"path\"");
    er_sb_puts(b, ",\"contributions\":[");
    for (size_t i = 0; i < n; i++) {
        char words[256], line[300];
        er_model_describe(m, t[i].j, d, row, words, sizeof words);
        snprintf(line, sizeof line, "%s, %+.2f", words, t[i].c);
        er_sb_puts(b, i ? ",{\"feature\":" : "{\"feature\":");
        er_sb_json_cstr(b, er_model_feature_name(m, t[i].j));
        er_sb_puts(b, ",\"value\":");
        if (isnan(row[t[i].j]))
            er_sb_puts(b, "null");
        else
            er_sb_json_numg(b, row[t[i].j], 6);
        er_sb_puts(b, ",\"contribution\":");
        er_sb_json_numg(b, t[i].c, 6);
        er_sb_puts(b, ",\"words\":");
        er_sb_json_cstr(b, line);
        er_sb_putc(b, '}');
    }
    er_sb_puts(b, "]}");
}

er_status er_model_explain(const er_model *m, er_model_pred *p, const er_decl *d, const er_decl_score *sc,
                           size_t top, er_sb_t *out, er_err *err)
{
    size_t nf = m->nf;
    float *row = malloc(nf * sizeof *row);
    double *c = malloc((nf + 1) * sizeof *c), prob;
    er_status st = ER_OK;
    if (!row || !c) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    er_model_features(m, d, sc, row);
    if ((st = er_model_predict(p, row, 1, &prob, err)) != ER_OK || (st = er_model_contrib(p, row, 1, c, err)) != ER_OK)
        goto cleanup;
    er_model_explain_row(m, d, row, prob, c, true, top, out);
cleanup:
    free(c);
    free(row);
    return st;
}
