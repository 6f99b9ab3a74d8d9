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
    bool          *is_rate;       /* per model column: a rate column (filled by sweep_rates) */
    size_t         n_rate;        /* kinds with rate columns */
    /* rows, in feed order, as CSR: the non-missing static columns, then 2 entries per rated kind */
    size_t        *ptr;           /* n + 1 */
    unsigned      *ci;
    float         *cv;
    size_t         nnz, nnz_cap;
    float         *y;
    uint64_t      *keys;          /* n x n_kinds */
    int32_t       *date;
    size_t         n, cap;
} lrn;

static bool grow_rows(lrn *t)
{
    size_t nc = t->cap ? t->cap * 2 : 4096;
    size_t *p = realloc(t->ptr, (nc + 1) * sizeof *p);
    if (p)
        t->ptr = p;
    float *y = realloc(t->y, nc * sizeof *y);
    if (y)
        t->y = y;
    uint64_t *k = realloc(t->keys, nc * t->m->lay.n_kinds * sizeof *k);
    if (k)
        t->keys = k;
    int32_t *dt = realloc(t->date, nc * sizeof *dt);
    if (dt)
        t->date = dt;
    if (!p || !y || !k || !dt)
        return false;
    t->cap = nc;
    return true;
}

static bool grow_entries(lrn *t, size_t need)
{
    if (t->nnz + need <= t->nnz_cap)
        return true;
    size_t nc = t->nnz_cap ? t->nnz_cap * 2 : 65536;
    while (nc < t->nnz + need)
        nc *= 2;
    unsigned *ci = realloc(t->ci, nc * sizeof *ci);
    if (ci)
        t->ci = ci;
    float *cv = realloc(t->cv, nc * sizeof *cv);
    if (cv)
        t->cv = cv;
    if (!ci || !cv)
        return false;
    t->nnz_cap = nc;
    return true;
}

static er_status on_decl(void *ud, const er_decl *d, uint64_t order, int label, er_err *err)
{
    lrn *t = ud;
    er_model *m = t->m;
    (void)order;
    if (label < 0)
        return ER_OK;
    if ((t->n == t->cap && !grow_rows(t)) || !grow_entries(t, m->nf))
        return er_errf(err, ER_ENOMEM, "out of memory (%zu labelled declarations)", t->n + 1);
    er_decl_score sc;
    er_score_decl(t->ps, t->bl, t->ev, d, &sc);
    layout_static_row(&m->lay, d, &sc, m->extra_num, m->n_extra_num, t->full);
    if (!t->n)
        t->ptr[0] = 0;
    for (size_t j = 0; j < m->nf; j++) {
        float v = t->full[m->col[j]];
        if (t->is_rate[j] || isnan(v))
            continue;
        t->ci[t->nnz] = (unsigned)j;
        t->cv[t->nnz++] = v;
    }
    /* rate columns come last in column order (docs/scoring.md 7.1); sweep_rates fills them */
    for (size_t k = 0; k < m->lay.n_kinds; k++)
        if (t->rate_col[k] >= 0) {
            t->ci[t->nnz] = (unsigned)t->rate_col[k];
            t->cv[t->nnz++] = NAN;
            t->ci[t->nnz] = (unsigned)t->rate_col[k] + 1;
            t->cv[t->nnz++] = NAN;
        }
    decl_keys(d, m->extra_cat, m->n_extra_cat, t->keys + t->n * m->lay.n_kinds);
    t->y[t->n] = (float)label;
    t->date[t->n] = d->date;
    t->ptr[++t->n] = t->nnz;
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

/* Rate columns in date order from strictly earlier outcomes; fills m->rates with all of them.
 * Row r's rate entries are its last 2 * n_rate, in kind order. */
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
            float *v = t->cv + t->ptr[r + 1] - 2 * t->n_rate;
            for (size_t k = 0; k < nk; k++) {
                if (t->rate_col[k] < 0)
                    continue;
                const rate_slot *s = rate_get(&m->rates, t->keys[r * nk + k]);
                uint32_t n = s ? s->n : 0, pos = s ? s->pos : 0;
                v[0] = (float)(((double)pos + m->smoothing * prior) / ((double)n + m->smoothing));
                v[1] = (float)n;
                if (!t->keys[r * nk + k])
                    v[0] = v[1] = NAN;
                v += 2;
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

/* Packs, baseline, layout and columns of the model; t's scratch. */
static er_status learn_setup(lrn *t, scan_ctx *sc, er_model *m, const er_learn_opts *o, er_err *err)
{
    er_status st;
    if (!o->in.label_field && !o->in.outcomes)
        return er_errf(err, ER_EINVAL, "learn needs labels: a label field or an outcome store");
    if ((st = scan_open(sc, &o->in, err)) != ER_OK ||
        (st = scan_profiles(sc, o->profiles, o->n_profiles, NULL, &t->ps, err)) != ER_OK ||
        (st = er_eval_new(&t->ev, t->ps, err)) != ER_OK || (st = model_identity(m, t->ps, sc->bl, err)) != ER_OK ||
        (st = copy_list(&m->extra_num, &m->n_extra_num, o->extra_numeric, o->n_extra_numeric, err)) != ER_OK ||
        (st = copy_list(&m->extra_cat, &m->n_extra_cat, o->extra_category, o->n_extra_category, err)) != ER_OK ||
        (st = layout_build(&m->lay, t->ps, m->extra_num, m->n_extra_num, m->extra_cat, m->n_extra_cat, err)) !=
            ER_OK ||
        (st = choose_columns(m, o, err)) != ER_OK || (st = model_rate_cols(m, err)) != ER_OK)
        return st;
    t->m = m;
    t->bl = sc->bl;
    t->rate_col = m->rate_col;
    t->full = malloc(m->lay.n * sizeof *t->full);
    t->is_rate = calloc(m->nf ? m->nf : 1, sizeof *t->is_rate);
    if (!t->full || !t->is_rate)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t k = 0; k < m->lay.n_kinds; k++)
        if (m->rate_col[k] >= 0) {
            t->is_rate[m->rate_col[k]] = t->is_rate[m->rate_col[k] + 1] = true;
            t->n_rate++;
        }
    return ER_OK;
}

/* Time order (ties in feed order) into idx, the rate columns, and the split: --valid-from by date;
 * default the latest 20 % in time order (so a single labelled day splits too). */
static er_status learn_order(lrn *t, size_t *idx, size_t *nt_out, er_err *err)
{
    er_status st;
    for (size_t i = 0; i < t->n; i++)
        idx[i] = i;
    g_date = t->date;
    qsort(idx, t->n, sizeof *idx, cmp_by_date);
    if ((st = sweep_rates(t, idx, err)) != ER_OK)
        return st;
    /* the keys have served; the entries shrink to their size before XGBoost copies them */
    free(t->keys);
    t->keys = NULL;
    unsigned *ci = realloc(t->ci, (t->nnz ? t->nnz : 1) * sizeof *ci);
    if (ci)
        t->ci = ci;
    float *cv = realloc(t->cv, (t->nnz ? t->nnz : 1) * sizeof *cv);
    if (cv)
        t->cv = cv;
    int32_t vfrom = t->o->valid_from;
    size_t nt = 0;
    if (vfrom)
        while (nt < t->n && t->date[idx[nt]] < vfrom)
            nt++;
    else
        nt = (size_t)(0.8 * (double)t->n);
    if (!nt || nt == t->n) {
        char d[11];
        er_date_format(vfrom, d);
        return er_errf(err, ER_EINVAL, "validation split at %s leaves %zu training and %zu validation declarations",
                       d, nt, t->n - nt);
    }
    *nt_out = nt;
    return ER_OK;
}

/* Hands the rows to XGBoost (and frees ours: XGBoost keeps its own copy), trains, measures the validation. */
static er_status learn_fit(lrn *t, const size_t *idx, size_t nt, bst_fit *fit, bst_fit *fit_all, vm *met,
                           er_err *err)
{
    const er_learn_opts *o = t->o;
    er_model *m = t->m;
    size_t nv = t->n - nt;
    bst_set set = {0};
    double *vpred = malloc(nv * sizeof *vpred);
    float *w = malloc(t->n * sizeof *w);
    er_status st = ER_OK;
    if (!vpred || !w) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < t->n; i++)
        w[idx[i]] = i < nt ? 1.0f : 0.0f;
    bst_data d = {t->ptr, t->ci, t->cv, t->y, t->n, m->nf};
    if ((st = bst_open(&set, &d, idx + nt, nv, err)) != ER_OK)
        goto cleanup;
    free(t->ci);
    free(t->cv);
    t->ci = NULL;
    t->cv = NULL;
    bst_params bp = {o->max_rounds ? o->max_rounds : 2000, o->early_stop ? o->early_stop : 50,
                     o->max_depth ? o->max_depth : 6, o->threads ? o->threads : 2, o->eta > 0 ? o->eta : 0.2};
    if ((st = bst_train(&set, w, nv, &bp, fit, fit_all, &m->booster, &m->booster_len, vpred, err)) != ER_OK ||
        (st = valid_metrics(vpred, t->y, idx + nt, nv, met, err)) != ER_OK)
        goto cleanup;
cleanup:
    bst_close(&set);
    free(w);
    free(vpred);
    return st;
}

/* Validation summary (kept in the model), the model file, the report. */
static er_status learn_write(lrn *t, const size_t *idx, size_t nt, const bst_fit *fit, const bst_fit *fit_all,
                             const vm *met, uint64_t unlabelled, char **json, char **table, er_err *err)
{
    const er_learn_opts *o = t->o;
    er_model *m = t->m;
    er_sb tr = {0}, vj = {0}, tb = {0};
    er_status st = ER_OK;
    validation_json(&vj, t, idx, nt, fit, fit_all, met);
    if (vj.oom || !(m->validation = dup_s(vj.p))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    er_sb_printf(&tr, "{\"eta\":%.17g,\"max_depth\":%u,\"max_bin\":%u,\"max_rounds\":%u,\"early_stop\":%u,"
                      "\"smoothing\":%g}", o->eta > 0 ? o->eta : 0.2, o->max_depth ? o->max_depth : 6,
                 BST_MAX_BIN, o->max_rounds ? o->max_rounds : 2000, o->early_stop ? o->early_stop : 50,
                 m->smoothing);
    if ((st = modelfile_write(m, o->out, tr.p ? tr.p : "{}", err)) != ER_OK)
        goto cleanup;
    summary_table(&tb, t, idx, nt, fit, fit_all, met, unlabelled, o->out, m->id);
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
    return st;
}

er_status er_learn(const er_learn_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    scan_ctx sc = {0};
    lrn t = {.o = o};
    er_model *m = calloc(1, sizeof *m);
    size_t *idx = NULL, nt = 0;
    bst_fit fit, fit_all;
    vm met = {0};

    *json = *table = NULL;
    if (!m)
        return er_errf(err, ER_ENOMEM, "out of memory");
    if ((st = learn_setup(&t, &sc, m, o, err)) != ER_OK || (st = scan_feeds(&sc, on_decl, &t, true, err)) != ER_OK)
        goto cleanup;
    if (t.n < 2) {
        st = er_errf(err, ER_EINVAL, "learn needs labelled declarations: %zu found", t.n);
        goto cleanup;
    }
    if (!(idx = malloc(t.n * sizeof *idx))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = learn_order(&t, idx, &nt, err)) != ER_OK ||
        (st = learn_fit(&t, idx, nt, &fit, &fit_all, &met, err)) != ER_OK ||
        (st = learn_write(&t, idx, nt, &fit, &fit_all, &met, sc.unlabelled, json, table, err)) != ER_OK)
        goto cleanup;
cleanup:
    free(idx);
    free(t.ptr);
    free(t.ci);
    free(t.cv);
    free(t.y);
    free(t.keys);
    free(t.date);
    free(t.full);
    free(t.is_rate);
    er_eval_free(t.ev);
    er_profileset_free(t.ps);
    scan_close(&sc);
    er_model_free(m);
    return st;
}
