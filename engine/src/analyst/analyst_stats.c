/*
 * analyst_stats.c — the pure statistics behind the analyst tools (analyst.h):
 * Wilson intervals, label parsing, deterministic rankings with precision and
 * recall at an inspection rate, and L2-regularised logistic regression by
 * IRLS (Newton steps solved with GSL's Cholesky). Kept free of feeds and
 * profiles so it can be tested on its own.
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ecorisk/analyst.h"

void er_wilson(uint64_t k, uint64_t n, double conf, double *lo, double *hi)
{
    if (n == 0 || k > n) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (!(conf > 0 && conf < 1))
        conf = 0.95;
    double z = gsl_cdf_ugaussian_Pinv(1 - (1 - conf) / 2);
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double denom = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
    *lo = k == 0 || centre - half < 0 ? 0 : centre - half;
    *hi = k == n || centre + half > 1 ? 1 : centre + half;
}

int er_label_parse(const char *s)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0)
        return -1;
    char buf[16];
    if (n < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (!strcasecmp(buf, "yes") || !strcasecmp(buf, "y") || !strcasecmp(buf, "true"))
            return 1;
        if (!strcasecmp(buf, "no") || !strcasecmp(buf, "n") || !strcasecmp(buf, "false"))
            return 0;
    }
    char tmp[64];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    double v = strtod(tmp, &end);
    if (end == tmp || *end != '\0' || !isfinite(v))
        return -1;
    return v != 0 ? 1 : 0;
}

static int cmp_rank(const void *a, const void *b)
{
    const er_rank_item *x = a, *y = b;
    if (x->score > y->score)
        return -1;
    if (x->score < y->score)
        return 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void er_rank_sort(er_rank_item *items, size_t n)
{
    if (n > 1)
        qsort(items, n, sizeof *items, cmp_rank);
}

size_t er_rank_k(double rate, size_t n)
{
    if (n == 0 || !(rate > 0))
        return 0;
    double k = ceil(rate * (double)n - 1e-9);
    if (k < 1)
        k = 1;
    if (k > (double)n)
        k = (double)n;
    return (size_t)k;
}

void er_rank_at_rate(const er_rank_item *sorted, size_t n, size_t positives, double rate, er_rank_at *out)
{
    memset(out, 0, sizeof *out);
    out->rate = rate;
    out->k = er_rank_k(rate, n);
    for (size_t i = 0; i < out->k; i++)
        out->hits += sorted[i].positive;
    out->precision = out->k ? (double)out->hits / (double)out->k : 0;
    out->recall = positives ? (double)out->hits / (double)positives : 0;
    out->min_score = out->k ? sorted[out->k - 1].score : 0;
}

double er_rank_ap(const er_rank_item *sorted, size_t n, size_t positives)
{
    if (!positives)
        return 0;
    double sum = 0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        if (sorted[i].positive)
            sum += (double)++hits / (double)(i + 1);
    return sum / (double)positives;
}

/* ---- logistic regression ---- */

typedef struct pattern {
    uint64_t mask;
    uint64_t n, pos;
} pattern;

typedef struct sample {
    uint64_t mask;
    uint8_t  y;
} sample;

static int cmp_sample(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    return x->mask < y->mask ? -1 : x->mask > y->mask;
}

double er_logit_eta(const er_logit_model *m, uint64_t x)
{
    double eta = m->beta[0];
    for (size_t j = 0; j < m->n_features; j++)
        if (x & (1ULL << j))
            eta += m->beta[1 + j];
    return eta;
}

/* log(1 + e^eta), stable. */
static double log1pexp(double eta)
{
    return eta > 35 ? eta : eta < -35 ? exp(eta) : log1p(exp(eta));
}

/* The patterns of a fit and its active features (act[0] = intercept). */
typedef struct lfit {
    const pattern *pt;
    size_t         np;
    const size_t  *act;
    size_t         q;
    double         lambda;
} lfit;

/* Linear predictor of pattern i for coefficients b over the active set. */
static double pattern_eta(const lfit *L, size_t i, const double *b)
{
    double eta = b[0];
    for (size_t a = 1; a < L->q; a++)
        if (L->pt[i].mask & (1ULL << L->act[a]))
            eta += b[a];
    return eta;
}

/* Log-likelihood and penalised objective for coefficients b over the active set. */
static double objective(const lfit *L, const double *b, double *loglik)
{
    double ll = 0;
    for (size_t i = 0; i < L->np; i++) {
        double eta = pattern_eta(L, i, b);
        ll += (double)L->pt[i].pos * eta - (double)L->pt[i].n * log1pexp(eta);
    }
    double pen = 0;
    for (size_t a = 1; a < L->q; a++)
        pen += b[a] * b[a];
    *loglik = ll;
    return ll - 0.5 * L->lambda * pen;
}

/* Samples sorted by feature mask and collapsed into patterns; fired counts and positives into m. */
static size_t build_patterns(const uint64_t *x, const uint8_t *y, size_t n, size_t n_features, sample *s,
                             pattern *pt, er_logit_model *m)
{
    size_t np = 0;
    uint64_t fmask = n_features == 64 ? ~0ULL : ((1ULL << n_features) - 1);
    for (size_t i = 0; i < n; i++) {
        s[i].mask = x[i] & fmask;
        s[i].y = y[i] ? 1 : 0;
        m->positives += s[i].y;
        for (size_t j = 0; j < n_features; j++)
            m->fired[j] += (s[i].mask >> j) & 1;
    }
    m->n = n;
    qsort(s, n, sizeof *s, cmp_sample);
    for (size_t i = 0; i < n; i++) {
        if (np == 0 || pt[np - 1].mask != s[i].mask)
            pt[np++] = (pattern){s[i].mask, 0, 0};
        pt[np - 1].n++;
        pt[np - 1].pos += s[i].y;
    }
    return np;
}

/* Gradient g and penalised Hessian H (both triangles) of the log-likelihood at b. */
static void newton_system(const lfit *L, const double *b, gsl_matrix *H, gsl_vector *g)
{
    size_t q = L->q;
    gsl_matrix_set_zero(H);
    gsl_vector_set_zero(g);
    for (size_t i = 0; i < L->np; i++) {
        double eta = pattern_eta(L, i, b);
        double mu = 1 / (1 + exp(-eta));
        double w = (double)L->pt[i].n * mu * (1 - mu);
        double r = (double)L->pt[i].pos - (double)L->pt[i].n * mu;
        for (size_t a = 0; a < q; a++) {
            if (a && !(L->pt[i].mask & (1ULL << L->act[a])))
                continue;
            *gsl_vector_ptr(g, a) += r;
            for (size_t c = 0; c <= a; c++) {
                if (c && !(L->pt[i].mask & (1ULL << L->act[c])))
                    continue;
                *gsl_matrix_ptr(H, a, c) += w;
            }
        }
    }
    for (size_t a = 1; a < q; a++) {
        *gsl_vector_ptr(g, a) -= L->lambda * b[a];
        *gsl_matrix_ptr(H, a, a) += L->lambda;
    }
    for (size_t a = 0; a < q; a++)
        for (size_t c = 0; c < a; c++)
            gsl_matrix_set(H, c, a, gsl_matrix_get(H, a, c));
}

/* Newton step along d, halved while the penalised objective does not improve; b and *obj
 * updated; returns the largest coefficient change. */
static double newton_step(const lfit *L, const gsl_vector *d, double *b, double *obj, double *ll)
{
    double nb[65], step = 1, maxd = 0, nll = 0, nobj = *obj;
    for (int h = 0; h < 40; h++) {
        for (size_t a = 0; a < L->q; a++)
            nb[a] = b[a] + step * gsl_vector_get(d, a);
        nobj = objective(L, nb, &nll);
        if (nobj >= *obj - 1e-12 * fabs(*obj))
            break;
        step /= 2;
    }
    for (size_t a = 0; a < L->q; a++) {
        double dd = fabs(nb[a] - b[a]);
        if (dd > maxd)
            maxd = dd;
        b[a] = nb[a];
    }
    *obj = nobj;
    *ll = nll;
    return maxd;
}

/* Standard errors: sqrt of the diagonal of the inverse penalised Hessian at b (H: scratch). */
static void standard_errors(const lfit *L, const double *b, gsl_matrix *H, er_logit_model *m)
{
    size_t q = L->q;
    gsl_matrix_set_zero(H);
    for (size_t i = 0; i < L->np; i++) {
        double eta = pattern_eta(L, i, b);
        double mu = 1 / (1 + exp(-eta));
        double w = (double)L->pt[i].n * mu * (1 - mu);
        for (size_t a = 0; a < q; a++)
            for (size_t c = 0; c < q; c++)
                if ((!a || (L->pt[i].mask & (1ULL << L->act[a]))) && (!c || (L->pt[i].mask & (1ULL << L->act[c]))))
                    *gsl_matrix_ptr(H, a, c) += w;
    }
    for (size_t a = 1; a < q; a++)
        *gsl_matrix_ptr(H, a, a) += L->lambda;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int rc = gsl_linalg_cholesky_decomp1(H);
    if (rc == 0)
        rc = gsl_linalg_cholesky_invert(H);
    gsl_set_error_handler(old);
    for (size_t a = 0; a < q && rc == 0; a++) {
        size_t j = a ? 1 + L->act[a] : 0;
        m->se[j] = sqrt(gsl_matrix_get(H, a, a));
    }
}

er_status er_logit_fit(const uint64_t *x, const uint8_t *y, size_t n, size_t n_features,
                       const er_logit_opts *opts, er_logit_model *m, er_err *err)
{
    er_status st = ER_OK;
    sample *s = NULL;
    pattern *pt = NULL;
    gsl_matrix *H = NULL;
    gsl_vector *g = NULL, *d = NULL;
    double lambda = opts && opts->lambda >= 0 ? opts->lambda : 1.0;
    unsigned max_iter = opts && opts->max_iter ? opts->max_iter : 100;
    double tol = opts && opts->tol > 0 ? opts->tol : 1e-10;
    size_t act[65], q = 1;
    double b[65] = {0};

    memset(m, 0, sizeof *m);
    if (n_features > 64)
        return er_errf(err, ER_EINVAL, "logistic regression: %zu features (at most 64)", n_features);
    m->n_features = n_features;
    for (size_t j = 0; j <= n_features; j++)
        m->se[j] = NAN;
    if (n == 0)
        return er_errf(err, ER_EINVAL, "logistic regression: no samples");

    s = malloc(n * sizeof *s);
    pt = malloc(n * sizeof *pt);
    if (!s || !pt) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t np = build_patterns(x, y, n, n_features, s, pt, m);
    /* Active features: present at least once. An absent feature has no data: beta 0, se unknown. */
    act[0] = 0;
    for (size_t j = 0; j < n_features; j++)
        if (m->fired[j])
            act[q++] = j;
    if (lambda == 0 && (m->positives == 0 || m->positives == n)) {
        st = er_errf(err, ER_EINVAL, "logistic regression: all %zu samples have the same label; "
                     "the fit needs a positive penalty (lambda)", n);
        goto cleanup;
    }
    lfit L = {pt, np, act, q, lambda};
    /* Start from the base rate, shrunk away from 0 and 1. */
    double r0 = ((double)m->positives + 0.5) / ((double)n + 1);
    b[0] = log(r0 / (1 - r0));
    H = gsl_matrix_alloc(q, q);
    g = gsl_vector_alloc(q);
    d = gsl_vector_alloc(q);
    if (!H || !g || !d) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    double ll, obj = objective(&L, b, &ll);
    for (m->iterations = 0; m->iterations < max_iter; m->iterations++) {
        newton_system(&L, b, H, g);
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        int rc = gsl_linalg_cholesky_decomp1(H);
        if (rc == 0)
            rc = gsl_linalg_cholesky_solve(H, g, d);
        gsl_set_error_handler(old);
        if (rc != 0) {
            st = er_errf(err, ER_EINVAL, "logistic regression: singular system (features collinear "
                         "with the intercept or each other); use a positive lambda");
            goto cleanup;
        }
        if (newton_step(&L, d, b, &obj, &ll) < tol) {
            m->converged = true;
            m->iterations++;
            break;
        }
    }
    standard_errors(&L, b, H, m);
    m->beta[0] = b[0];
    for (size_t a = 1; a < q; a++)
        m->beta[1 + act[a]] = b[a];
    m->loglik = ll;
cleanup:
    gsl_vector_free(d);
    gsl_vector_free(g);
    gsl_matrix_free(H);
    free(pt);
    free(s);
    return st;
}
