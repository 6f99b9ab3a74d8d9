/*
 * learn.c — training the learned model (model.h, er_learn; docs/scoring.md
 * "Learned model"): scores every labelled declaration as the run does, keeps
 * its feature row, fills the historical rate columns in date order from the
 * outcomes dated strictly before it (no leakage), validates on the latest
 * period with early stopping, refits on all labels for deployment and writes
 * the model file with the rate tables of every outcome it was given.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst/analyst_int.h"
#include "ecorisk/version.h"
#include "model/model_int.h"

typedef struct lrn {
    const er_learn_opts *o;
    er_model      *m;
    er_profileset *ps;
    const er_baseline *bl;
    er_eval       *ev;
    float         *full;          /* scratch: one full-layout row */
    const long    *rate_col;      /* per kind: model column of its rate (-1: left out) */
    /* rows */
    float         *x;             /* n x nf */
    float         *y;
    uint64_t      *keys;          /* n x n_kinds */
    int32_t       *date;
    size_t         n, cap;
} lrn;

static er_status on_decl(void *ud, const er_decl *d, uint64_t order, int label, er_err *err)
{
    lrn *t = ud;
    er_model *m = t->m;
    (void)order;
    if (label < 0)
        return ER_OK;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 4096;
        float *x = realloc(t->x, nc * m->nf * sizeof *x);
        if (x)
            t->x = x;
        float *y = realloc(t->y, nc * sizeof *y);
        if (y)
            t->y = y;
        uint64_t *k = realloc(t->keys, nc * m->lay.n_kinds * sizeof *k);
        if (k)
            t->keys = k;
        int32_t *dt = realloc(t->date, nc * sizeof *dt);
        if (dt)
            t->date = dt;
        if (!x || !y || !k || !dt)
            return er_errf(err, ER_ENOMEM, "out of memory (%zu labelled declarations)", nc);
        t->cap = nc;
    }
    er_decl_score sc;
    er_score_decl(t->ps, t->bl, t->ev, d, &sc);
    layout_static_row(&m->lay, d, &sc, m->extra_num, m->n_extra_num, t->full);
    float *row = t->x + t->n * m->nf;
    for (size_t j = 0; j < m->nf; j++)
        row[j] = t->full[m->col[j]];
    decl_keys(d, m->extra_cat, m->n_extra_cat, t->keys + t->n * m->lay.n_kinds);
    t->y[t->n] = (float)label;
    t->date[t->n] = d->date;
    t->n++;
    return ER_OK;
}

static const int32_t *g_date;
static int cmp_by_date(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (g_date[x] != g_date[y])
        return g_date[x] < g_date[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Rate columns in date order from strictly earlier outcomes; fills m->rates with all of them. */
static er_status sweep_rates(lrn *t, const size_t *idx, er_err *err)
{
    er_model *m = t->m;
    size_t nk = m->lay.n_kinds;
    uint64_t N = 0, P = 0;
    for (size_t a = 0; a < t->n;) {
        size_t b = a;
        while (b < t->n && t->date[idx[b]] == t->date[idx[a]])
            b++;
        double prior = ((double)P + 1) / ((double)N + 2);
        for (size_t i = a; i < b; i++) {
            size_t r = idx[i];
            float *row = t->x + r * m->nf;
            for (size_t k = 0; k < nk; k++) {
                if (t->rate_col[k] < 0)
                    continue;
                const rate_slot *s = rate_get(&m->rates, t->keys[r * nk + k]);
                uint32_t n = s ? s->n : 0, pos = s ? s->pos : 0;
                row[t->rate_col[k]] = (float)(((double)pos + m->smoothing * prior) / ((double)n + m->smoothing));
                row[t->rate_col[k] + 1] = (float)n;
                if (!t->keys[r * nk + k])
                    row[t->rate_col[k]] = row[t->rate_col[k] + 1] = NAN;
            }
        }
        for (size_t i = a; i < b; i++) {
            size_t r = idx[i];
            uint32_t pos = t->y[r] > 0.5f;
            for (size_t k = 0; k < nk; k++)
                if (t->keys[r * nk + k] && !rate_add(&m->rates, t->keys[r * nk + k], 1, pos))
                    return er_errf(err, ER_ENOMEM, "out of memory (rate tables)");
            N++;
            P += pos;
        }
        a = b;
    }
    m->prior = ((double)P + 1) / ((double)N + 2);
    return ER_OK;
}

/* Columns kept: all but those named by --without (a feature name or an input field). */
static er_status choose_columns(er_model *m, const er_learn_opts *o, er_err *err)
{
    static const struct { const char *name; uint32_t bit; } FIELDS[] = {
        {"net_kg", U_NET}, {"value", U_VALUE}, {"quantity", U_QTY}, {"gross_kg", U_GROSS}, {"packages", U_PACK},
    };
    uint32_t mask = 0;
    bool *drop = calloc(m->lay.n, sizeof *drop);
    if (!drop || !(m->col = calloc(m->lay.n, sizeof *m->col))) {
        free(drop);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    for (size_t w = 0; w < o->n_without; w++) {
        bool found = false;
        for (size_t f = 0; f < sizeof FIELDS / sizeof FIELDS[0]; f++)
            if (strcmp(o->without[w], FIELDS[f].name) == 0) {
                mask |= FIELDS[f].bit;
                found = true;
            }
        for (size_t j = 0; j < m->lay.n; j++)
            if (strcmp(o->without[w], m->lay.names[j]) == 0 ||
                (strncmp(o->without[w], m->lay.names[j], strlen(o->without[w])) == 0 &&
                 m->lay.names[j][strlen(o->without[w])] == '.')) {
                drop[j] = true;
                found = true;
            }
        if (!found) {
            free(drop);
            return er_errf(err, ER_EINVAL, "--without %s: neither a feature nor an input field (net_kg, value, "
                           "quantity, gross_kg, packages)", o->without[w]);
        }
    }
    m->nf = 0;
    for (size_t j = 0; j < m->lay.n; j++)
        if (!drop[j] && !(m->lay.uses[j] & mask))
            m->col[m->nf++] = j;
    free(drop);
    return ER_OK;
}

typedef struct vm {
    double ap, p_at[4], r_at[4];
} vm;
static const double AT[4] = {0.01, 0.02, 0.05, 0.10};

/* Put the rows in the order idx gives (row i becomes old row idx[i]), in place by
 * following the permutation's cycles; idx becomes the identity. Training then hands
 * XGBoost contiguous ranges of t->x without copying them. */
static er_status permute_rows(lrn *t, size_t *idx, er_err *err)
{
    size_t nf = t->m->nf, nk = t->m->lay.n_kinds;
    float *tx = malloc((nf ? nf : 1) * sizeof *tx);
    uint64_t *tk = malloc((nk ? nk : 1) * sizeof *tk);
    if (!tx || !tk) {
        free(tx);
        free(tk);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t->n; i++) {
        if (idx[i] == i || idx[i] == SIZE_MAX)
            continue;
        /* cycle starting at i: i <- idx[i] <- idx[idx[i]] ... */
        memcpy(tx, t->x + i * nf, nf * sizeof *tx);
        memcpy(tk, t->keys + i * nk, nk * sizeof *tk);
        float ty = t->y[i];
        int32_t td = t->date[i];
        size_t j = i;
        while (idx[j] != i) {
            size_t k = idx[j];
            memcpy(t->x + j * nf, t->x + k * nf, nf * sizeof *tx);
            memcpy(t->keys + j * nk, t->keys + k * nk, nk * sizeof *tk);
            t->y[j] = t->y[k];
            t->date[j] = t->date[k];
            idx[j] = SIZE_MAX;
            j = k;
        }
        memcpy(t->x + j * nf, tx, nf * sizeof *tx);
        memcpy(t->keys + j * nk, tk, nk * sizeof *tk);
        t->y[j] = ty;
        t->date[j] = td;
        idx[j] = SIZE_MAX;
    }
    for (size_t i = 0; i < t->n; i++)
        idx[i] = i;
    free(tx);
    free(tk);
    return ER_OK;
}

static er_status valid_metrics(const double *pred, const float *y, const size_t *idx, size_t nv, vm *out,
                               er_err *err)
{
    er_rank_item *it = malloc((nv ? nv : 1) * sizeof *it);
    if (!it)
        return er_errf(err, ER_ENOMEM, "out of memory");
    size_t P = 0;
    for (size_t i = 0; i < nv; i++) {
        it[i] = (er_rank_item){pred[i], i, y[idx[i]] > 0.5f};
        P += it[i].positive;
    }
    er_rank_sort(it, nv);
    double ap = 0;
    size_t hits = 0;
    for (size_t i = 0; i < nv; i++)
        if (it[i].positive)
            ap += (double)++hits / (double)(i + 1);
    out->ap = P ? ap / (double)P : NAN;
    for (int k = 0; k < 4; k++) {
        er_rank_at a;
        er_rank_at_rate(it, nv, P, AT[k], &a);
        out->p_at[k] = a.precision;
        out->r_at[k] = a.recall;
    }
    free(it);
    return ER_OK;
}

static char *dup_s(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static er_status copy_list(char ***dst, size_t *n, const char *const *src, size_t k, er_err *err)
{
    *dst = calloc(k ? k : 1, sizeof **dst);
    if (!*dst)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (*n = 0; *n < k; (*n)++)
        if (!((*dst)[*n] = dup_s(src[*n])))
            return er_errf(err, ER_ENOMEM, "out of memory");
    return ER_OK;
}

static er_status model_identity(er_model *m, const er_profileset *ps, const er_baseline *bl, er_err *err)
{
    size_t np = er_profileset_count(ps);
    m->profile_set = dup_s(er_profileset_hash(ps));
    m->baseline_id = dup_s(bl ? er_baseline_id(bl) : "");
    m->ecorisk_version = dup_s(ECORISK_VERSION);
    m->xgb_version = dup_s(bst_version());
    m->profile_ids = calloc(np ? np : 1, sizeof *m->profile_ids);
    if (!m->profile_set || !m->baseline_id || !m->ecorisk_version || !m->xgb_version || !m->profile_ids)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (m->n_profiles = 0; m->n_profiles < np; m->n_profiles++)
        if (!(m->profile_ids[m->n_profiles] = dup_s(er_profileset_info(ps, m->n_profiles)->id)))
            return er_errf(err, ER_ENOMEM, "out of memory");
    m->smoothing = MODEL_SMOOTHING;
    return ER_OK;
}

static void period_json(er_sb *b, const char *key, const int32_t *date, const size_t *idx, size_t n,
                        const float *y)
{
    char d1[11] = "", d2[11] = "";
    size_t P = 0;
    for (size_t i = 0; i < n; i++)
        P += y[idx[i]] > 0.5f;
    if (n) {
        er_date_format(date[idx[0]], d1);
        er_date_format(date[idx[n - 1]], d2);
    }
    er_sb_json_key(b, key);
    er_sb_printf(b, "{\"from\":\"%s\",\"until\":\"%s\",\"declarations\":%zu,\"positives\":%zu}", d1, d2, n, P);
}

/* The validation summary kept in the model file and printed by --report. */
static void validation_json(er_sb *vj, const lrn *t, const size_t *idx, size_t nt, const bst_fit *fit,
                            const bst_fit *all, const vm *met)
{
    size_t nv = t->n - nt;
    er_sb_putc(vj, '{');
    period_json(vj, "training", t->date, idx, nt, t->y);
    period_json(vj, "validation", t->date, idx + nt, nv, t->y);
    er_sb_printf(vj, ",\"rounds\":%u,\"best_round\":%u,\"validation_aucpr_xgboost\":", fit->rounds,
                 fit->best_round + 1);
    json_num6(vj, fit->best_ap);
    er_sb_puts(vj, ",\"average_precision\":");
    json_num6(vj, met->ap);
    er_sb_puts(vj, ",\"at\":[");
    for (int k = 0; k < 4; k++) {
        er_sb_printf(vj, "%s{\"rate\":%g,\"precision\":", k ? "," : "", AT[k]);
        json_num6(vj, met->p_at[k]);
        er_sb_puts(vj, ",\"recall\":");
        json_num6(vj, met->r_at[k]);
        er_sb_putc(vj, '}');
    }
    er_sb_printf(vj, "],\"deployed\":{\"declarations\":%zu,\"rounds\":%u}}", t->n, all->rounds);
}

/* The readable report. */
static void summary_table(er_sb *tb, const lrn *t, const size_t *idx, size_t nt, const bst_fit *fit,
                          const bst_fit *all, const vm *met, uint64_t unlabelled, const char *out, const char *id)
{
    size_t nv = t->n - nt;
    er_sb_printf(tb, "Learned from %zu labelled declarations (%llu unlabelled left out), %zu features.\n", t->n,
                 (unsigned long long)unlabelled, t->m->nf);
    char d1[11], d2[11], d3[11], d4[11];
    er_date_format(t->date[idx[0]], d1);
    er_date_format(t->date[idx[nt - 1]], d2);
    er_date_format(t->date[idx[nt]], d3);
    er_date_format(t->date[idx[t->n - 1]], d4);
    er_sb_printf(tb, "Training %s to %s (%zu), validation %s to %s (%zu): best round %u of %u.\n", d1, d2, nt, d3,
                 d4, nv, fit->best_round + 1, fit->rounds);
    er_sb_printf(tb, "Validation: average precision %.3f; precision / recall at 1%% %.3f / %.3f, 2%% %.3f / "
                      "%.3f, 5%% %.3f / %.3f, 10%% %.3f / %.3f.\n",
                 met->ap, met->p_at[0], met->r_at[0], met->p_at[1], met->r_at[1], met->p_at[2], met->r_at[2], met->p_at[3],
                 met->r_at[3]);
    er_sb_printf(tb, "Deployed model: refit on all %zu labels, %u rounds; written to %s (id %.16s).\n", t->n,
                 all->rounds, out, id ? id : "");
}

er_status er_learn(const er_learn_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    scan_ctx sc = {0};
    lrn t = {.o = o};
    er_model *m = calloc(1, sizeof *m);
    size_t *idx = NULL;
    double *vpred = NULL;
    char *valid_model = NULL;
    er_sb tr = {0}, vj = {0}, tb = {0};

    *json = *table = NULL;
    if (!m)
        return er_errf(err, ER_ENOMEM, "out of memory");
    if (!o->in.label_field && !o->in.outcomes) {
        st = er_errf(err, ER_EINVAL, "learn needs labels: a label field or an outcome store");
        goto cleanup;
    }
    if ((st = scan_open(&sc, &o->in, err)) != ER_OK ||
        (st = scan_profiles(&sc, o->profiles, o->n_profiles, NULL, &t.ps, err)) != ER_OK ||
        (st = er_eval_new(&t.ev, t.ps, err)) != ER_OK || (st = model_identity(m, t.ps, sc.bl, err)) != ER_OK ||
        (st = copy_list(&m->extra_num, &m->n_extra_num, o->extra_numeric, o->n_extra_numeric, err)) != ER_OK ||
        (st = copy_list(&m->extra_cat, &m->n_extra_cat, o->extra_category, o->n_extra_category, err)) != ER_OK ||
        (st = layout_build(&m->lay, t.ps, m->extra_num, m->n_extra_num, m->extra_cat, m->n_extra_cat, err)) !=
            ER_OK ||
        (st = choose_columns(m, o, err)) != ER_OK)
        goto cleanup;
    t.m = m;
    t.bl = sc.bl;
    t.full = malloc(m->lay.n * sizeof *t.full);
    if (!t.full) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = model_rate_cols(m, err)) != ER_OK)
        goto cleanup;
    t.rate_col = m->rate_col;
    if ((st = scan_feeds(&sc, on_decl, &t, true, err)) != ER_OK)
        goto cleanup;
    if (t.n < 2) {
        st = er_errf(err, ER_EINVAL, "learn needs labelled declarations: %zu found", t.n);
        goto cleanup;
    }
    if (!(idx = malloc(t.n * sizeof *idx)) || !(vpred = malloc(t.n * sizeof *vpred))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < t.n; i++)
        idx[i] = i;
    g_date = t.date;
    qsort(idx, t.n, sizeof *idx, cmp_by_date);
    if ((st = permute_rows(&t, idx, err)) != ER_OK || (st = sweep_rates(&t, idx, err)) != ER_OK)
        goto cleanup;

    /* time-ordered split */
    /* --valid-from: by date; default: the latest 20 % in time order (ties in feed order, so a
     * single labelled day splits too) */
    int32_t vfrom = o->valid_from;
    size_t nt = 0;
    if (vfrom)
        while (nt < t.n && t.date[idx[nt]] < vfrom)
            nt++;
    else
        nt = (size_t)(0.8 * (double)t.n);
    size_t nv = t.n - nt;
    if (!nt || !nv) {
        char d[11];
        er_date_format(vfrom, d);
        st = er_errf(err, ER_EINVAL, "validation split at %s leaves %zu training and %zu validation declarations",
                     d, nt, nv);
        goto cleanup;
    }
    bst_params bp = {o->max_rounds ? o->max_rounds : 2000, o->early_stop ? o->early_stop : 50,
                     o->max_depth ? o->max_depth : 8, o->threads ? o->threads : 2, o->eta > 0 ? o->eta : 0.05};
    bst_fit fit, fit_all;
    size_t vlen;
    if ((st = bst_train(t.x, t.y, m->nf, idx, nt, idx + nt, nv, &bp, &fit, &valid_model, &vlen, vpred, err)) !=
        ER_OK)
        goto cleanup;
    vm met = {0};
    if ((st = valid_metrics(vpred, t.y, idx + nt, nv, &met, err)) != ER_OK)
        goto cleanup;
    bst_params all = bp;
    all.max_rounds = fit.best_round + 1;
    if ((st = bst_train(t.x, t.y, m->nf, idx, t.n, NULL, 0, &all, &fit_all, &m->booster, &m->booster_len, NULL,
                        err)) != ER_OK)
        goto cleanup;

    /* validation summary (kept in the model) and training description */
    validation_json(&vj, &t, idx, nt, &fit, &fit_all, &met);
    if (vj.oom || !(m->validation = dup_s(vj.p))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    er_sb_printf(&tr, "{\"eta\":%.17g,\"max_depth\":%u,\"max_rounds\":%u,\"early_stop\":%u,"
                      "\"smoothing\":%g}", bp.eta, bp.max_depth, bp.max_rounds, bp.early_stop,
                 m->smoothing);
    if ((st = modelfile_write(m, o->out, tr.p ? tr.p : "{}", err)) != ER_OK)
        goto cleanup;

    summary_table(&tb, &t, idx, nt, &fit, &fit_all, &met, sc.unlabelled, o->out, m->id);
    *json = dup_s(vj.p);
    *table = tb.oom ? NULL : tb.p;
    if (!*json || !*table) {
        free(*json);
        *json = NULL;
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    tb.p = NULL;
cleanup:
    er_sb_free(&tb);
    er_sb_free(&vj);
    er_sb_free(&tr);
    free(valid_model);
    free(vpred);
    free(idx);
    free(t.x);
    free(t.y);
    free(t.keys);
    free(t.date);
    free(t.full);
    er_eval_free(t.ev);
    er_profileset_free(t.ps);
    scan_close(&sc);
    er_model_free(m);
    return st;
}
