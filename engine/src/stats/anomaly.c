/*
 * anomaly.c — the anomaly features of one declaration against a baseline
 * (anomaly.h, docs/scoring.md): unit value low / high (robust z on the group's
 * histogram median and floored MAD scale, contaminated-normal tails),
 * Mahalanobis (chi-square tail of d² through the group's Cholesky factor, with
 * the same contamination floor), route rarity (add-one smoothed tail
 * of the HS4 route distribution), new trader and new importer (declaration
 * counts per importer and chapter, and per importer), and Fisher's combination. Read-only on the baseline: thread-safe.
 * Formulas and their justification: docs/scoring.md.
 */
#include "stats/baseline_impl.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#define P_FLOOR 1e-300   /* keeps -2 ln p finite */
#define UNIT_ERROR_LOG 4.605170185988092   /* ln ER_UNIT_ERROR_RATIO (100) */

static inline double clamp_p(double p)
{
    if (!(p >= P_FLOOR)) return P_FLOOR;   /* also maps NaN to the floor */
    return p > 1.0 ? 1.0 : p;
}

static void key_of(int level, uint32_t code, char out[11])
{
    int nd = er_bl_level_digits(level);
    if (nd == 0) {
        out[0] = '*';
        out[1] = '\0';
        return;
    }
    for (int i = nd - 1; i >= 0; i--) {
        out[i] = (char)('0' + code % 10);
        code /= 10;
    }
    out[nd] = '\0';
}

static void set_level(er_feature_value *f, const group *g)
{
    f->level = g->level;
    key_of(g->level, g->code, f->group);
}

/* 95th percentile of chi-square with k = 2, 3 degrees of freedom (set once). */
static double chi2_95(int k) { return er_bl_chi2_95[k]; }

/* p = max(p_model, min(T(x)/n, UV_EMP_CAP)): never below the share of the
 * group's history at least as extreme as x (T from the histogram), where that
 * share is under UV_EMP_CAP; beyond the data T = 0 and the model alone
 * speaks. Monotone in x (a maximum of two monotone tails). docs/scoring.md 3.1. */
static double empirical_floor(const group *g, double x, bool upper, double p)
{
    if (!(p < UV_EMP_CAP))
        return p;
    /* inside the 5th..95th percentiles T/n ≥ 0.05: the cap, without a scan */
    if (upper ? x <= g->pct[5] : x >= g->pct[1])
        return UV_EMP_CAP;
    double e = er_bl_hist_tail(g->hist, g->bin_first, g->bin_last, x, upper) / (double)g->n;
    if (e > UV_EMP_CAP) e = UV_EMP_CAP;
    return e > p ? e : p;
}

static void unit_value(const er_baseline *bl, const group *const *chain, int nchain, const decl_x *x,
                       er_anomalies *out)
{
    if (!x->has_uv)
        return;
    const group *g = NULL;
    for (int i = 0; i < nchain && !g; i++)
        if (chain[i] && chain[i]->n >= bl->min_group && chain[i]->n > 0)
            g = chain[i];
    if (!g)
        return;
    double z = (x->x[0] - g->median) / g->scale;
    double lo = g->uv_lo, hi = g->uv_hi;
    er_feature_value *fl = &out->f[ER_FEAT_UNIT_VALUE_LOW], *fh = &out->f[ER_FEAT_UNIT_VALUE_HIGH];
    fl->computable = fh->computable = true;
    set_level(fl, g);
    set_level(fh, g);
    fl->observed = fh->observed = x->uv;
    fl->expected_lo = fh->expected_lo = lo;
    fl->expected_hi = fh->expected_hi = hi;
    /* one tail evaluation; the complement is taken on the side where it is
     * close to 1, so no precision is lost in the small tail */
    if (z < 0) {
        double pl = er_bl_uv_p_low(z, g->n);
        fh->p = clamp_p(1.0 - pl);
        fl->p = clamp_p(empirical_floor(g, x->x[0], false, pl));
        fl->unit_error = g->median - x->x[0] > UNIT_ERROR_LOG;
    } else {
        double ph = er_bl_uv_p_low(-z, g->n);
        fl->p = clamp_p(1.0 - ph);
        fh->p = clamp_p(empirical_floor(g, x->x[0], true, ph));
    }
}

/* Lower tail of the robust z under a contaminated normal: with weight
 * ε = 1/(n + 1) a value comes from a standard Cauchy instead of the normal,
 * so p_low(z) = (1 − ε)·Φ(z) + ε·atan2(1, −z)/π. The Cauchy part bounds p below
 * by about ε/(π|z|), tied to the group's size, while staying strictly monotone
 * in z (no ties among far outliers); the upper tail is p_low(−z).
 * docs/scoring.md 3.1. */
double er_bl_uv_p_low(double z, uint64_t n)
{
    double eps = 1.0 / ((double)n + 1.0);
    return (1.0 - eps) * gsl_cdf_ugaussian_P(z) + eps * atan2(1.0, -z) / M_PI;
}

/* Mahalanobis tail with the same contamination: (1 − ε)·Q_χ²(d², k) +
 * ε·(2/π)·atan2(√k, d), the second term a half-Cauchy tail on d = √d² with
 * scale √k (1 at d = 0). docs/scoring.md 3.2. */
double er_bl_maha_p(double d2, int k, uint64_t n)
{
    double eps = 1.0 / ((double)n + 1.0);
    double d = d2 > 0 ? sqrt(d2) : 0.0;
    return (1.0 - eps) * er_bl_chisq_Q(d2, k) + eps * (2.0 / M_PI) * atan2(sqrt((double)k), d);
}

/* Upper tail of chi-square with k degrees of freedom, in closed form for the
 * Mahalanobis dimensions and Fisher's combination (even k):
 *   Q(x, 2m) = e^{−x/2} · sum_{i<m} (x/2)^i / i!   (positive terms: no cancellation)
 *   Q(x, 3)  = 2·Q_N(√x) + √(2x/π)·e^{−x/2}
 * gsl_cdf_chisq_Q iterates (about 0.5 µs for half-integer shapes, 25 times the
 * closed form); they agree to 1e-12 relative (tested). Other k through GSL. */
double er_bl_chisq_Q(double x, int k)
{
    if (!(x > 0))
        return 1.0;
    if (k % 2 == 0 && k > 0 && k <= 64) {
        double h = 0.5 * x, term = 1, sum = 1;
        for (int i = 1; i < k / 2; i++) {
            term *= h / i;
            sum += term;
        }
        /* past e^{-700} the factor would go subnormal before the product is taken */
        return h < 700 ? exp(-h) * sum : exp(log(sum) - h);
    }
    if (k == 3)
        return 2.0 * gsl_cdf_ugaussian_Q(sqrt(x)) + sqrt(2.0 * x / M_PI) * exp(-0.5 * x);
    return gsl_cdf_chisq_Q(x, (double)k);
}

/* d² = |L⁻¹(x − μ)|² by forward substitution on the Cholesky factor. */
static double maha_d2(const mv_model *m, const double *x, int k)
{
    double y[3];
    int t = 0;
    double d2 = 0;
    for (int i = 0; i < k; i++) {
        double s = x[i] - m->mu[i];
        for (int j = 0; j < i; j++)
            s -= m->L[t + j] * y[j];
        y[i] = s / m->L[t + i];
        t += i + 1;
        d2 += y[i] * y[i];
    }
    return d2;
}

static void mahalanobis(const er_baseline *bl, const group *const *chain, int nchain, const decl_x *x,
                        er_anomalies *out)
{
    if (!x->has_uv)
        return;
    for (int i = 0; i < nchain; i++) {
        const group *g = chain[i];
        if (!g || g->level == LV_HS6)
            continue;
        const mv_model *m = NULL;
        int k = 0;
        if (x->has_kgpp && g->m3.ok && g->mv3.n >= bl->min_group) {
            m = &g->m3;
            k = 3;
        } else if (g->m2.ok && g->mv2.n >= bl->min_group) {
            m = &g->m2;
            k = 2;
        }
        if (!m)
            continue;
        double d2 = maha_d2(m, x->x, k);
        if (!isfinite(d2))
            return;
        er_feature_value *f = &out->f[ER_FEAT_MAHALANOBIS];
        f->computable = true;
        set_level(f, g);
        f->observed = d2;
        f->expected_lo = 0;
        f->expected_hi = chi2_95(k);
        f->p = clamp_p(er_bl_maha_p(d2, k, k == 3 ? g->mv3.n : g->mv2.n));
        return;
    }
}

static void route(const er_baseline *bl, const group *const *chain, int nchain, const er_decl *d,
                  er_anomalies *out)
{
    uint16_t o = d->origin ? d->origin : d->export_country;
    if (!o)
        return;
    for (int i = 0; i < nchain; i++) {
        const group *g = chain[i];
        if (!g || g->level == LV_HS6 || g->route_n < bl->min_group)
            continue;
        uint64_t c = er_bl_route_get(&bl->routes, er_bl_route_key(g->level, g->code, o, d->destination));
        double denom = (double)g->route_n + (double)g->route_k + 1.0;
        uint64_t tail = 1;   /* the unseen category */
        if (c) {
            /* last distinct count ≤ c (c is present, so rc_val holds it) */
            uint32_t lo = 0, hi = g->n_rc;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if (g->rc_val[mid] <= c) lo = mid + 1; else hi = mid;
            }
            tail = lo ? g->rc_cum[lo - 1] : 1;
        }
        er_feature_value *f = &out->f[ER_FEAT_ROUTE_RARITY];
        f->computable = true;
        set_level(f, g);
        f->observed = (double)c;
        f->expected_lo = (double)g->route_c05;
        f->expected_hi = (double)g->route_cmax;
        f->p = clamp_p((double)tail / denom);
        return;
    }
}

/* The novelty p of recent (tail, count) pairs past the tail's table, within
 * one run of rows (compute_rows): the traders behind them are the busiest,
 * so they recur, and each would cost a binary search. Direct-mapped. */
#define NOV_MEMO 64
typedef struct nov_memo {
    const nov_tail *t[NOV_MEMO];
    uint64_t        c[NOV_MEMO];
    double          p[NOV_MEMO];
} nov_memo;

static double novelty_p(nov_memo *m, const nov_tail *tail, uint64_t c)
{
    if (!m || c < tail->n_tab || c >= tail->cmax)
        return er_bl_novelty_p(tail, c);   /* a table look-up, or 1 */
    size_t i = (size_t)(((uintptr_t)tail ^ c) * 0x9E3779B97F4A7C15ULL >> 58) % NOV_MEMO;
    if (m->t[i] != tail || m->c[i] != c) {
        m->t[i] = tail;
        m->c[i] = c;
        m->p[i] = er_bl_novelty_p(tail, c);
    }
    return m->p[i];
}

/* Trader novelty from counts (docs/scoring.md 3.4): c = the declarations the
 * history holds for this trader (0 if none, or if its first one is later than
 * this declaration), p = (1 + Σ_t min(n_t, c + 1)) / (N + 1) over the traders
 * t of the group's tail. */
static void novelty(er_feature_value *f, const group *g, const nov_tail *tail, const trader_ent *t,
                    const er_decl *d, nov_memo *m)
{
    uint64_t c = t && t->date <= d->date ? t->n : 0;
    f->computable = true;
    set_level(f, g);
    f->observed = (double)c;
    f->expected_lo = (double)tail->c05;
    f->expected_hi = (double)tail->cmax;
    f->p = clamp_p(novelty_p(m, tail, c));
}

static void new_trader(const er_baseline *bl, const group *c2, const group *all, const er_decl *d,
                       uint32_t chapter, uint64_t imp_hash, er_anomalies *out, nov_memo *m)
{
    if (!imp_hash || !c2)
        return;
    const group *g = c2->imp_rows >= bl->min_group ? c2 : (all && all->imp_rows >= bl->min_group ? all : NULL);
    if (!g)
        return;
    novelty(&out->f[ER_FEAT_NEW_TRADER], g, &g->nov, er_bl_trader_get(&bl->traders, imp_hash, (uint8_t)chapter), d,
            m);
}

static void new_importer(const er_baseline *bl, const group *all, const er_decl *d, uint64_t imp_hash,
                         er_anomalies *out, nov_memo *m)
{
    if (!imp_hash || !all || all->imp_rows < bl->min_group)
        return;
    novelty(&out->f[ER_FEAT_NEW_IMPORTER], all, &bl->imp_nov, er_bl_trader_get(&bl->importers, imp_hash, IMPORTER_CH),
            d, m);
}

/* What a row looks up, worked out once (compute_rows: when its look-ups are
 * prefetched): its HS level and codes, its importer's hash (0: none). */
typedef struct row_keys {
    uint64_t imp_hash;
    uint32_t c6, c4, c2;
    int      lv;
} row_keys;

static inline uint64_t importer_hash(const er_decl *d)
{
    return d->importer && d->importer[0] ? er_bl_importer_hash(d->importer) : 0;
}

static void row_keys_of(const er_decl *d, row_keys *k)
{
    k->c6 = k->c4 = k->c2 = 0;
    k->lv = er_bl_hs_codes(d->hs, &k->c6, &k->c4, &k->c2);
    k->imp_hash = importer_hash(d);
}

static void compute_one(const er_baseline *bl, const er_decl *d, const row_keys *k, er_anomalies *out,
                        nov_memo *m)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ER_FEAT_COUNT; i++)
        out->f[i].p = 1.0;
    if (!bl)
        return;
    out->have_baseline = true;
    decl_x x;
    er_bl_decl_x(d, &x);
    uint32_t c6 = k->c6, c4 = k->c4, c2 = k->c2;
    uint64_t imp_hash = k->imp_hash;
    int lv = k->lv;
    const group *chain[4];
    int n = 0;
    if (lv <= LV_HS6) chain[n++] = er_bl_gs_find(&bl->gs, LV_HS6, c6);
    if (lv <= LV_HS4) chain[n++] = er_bl_gs_find(&bl->gs, LV_HS4, c4);
    const group *g2 = lv <= LV_HS2 ? er_bl_gs_find(&bl->gs, LV_HS2, c2) : NULL;
    if (lv <= LV_HS2) chain[n++] = g2;
    const group *all = er_bl_gs_find(&bl->gs, LV_ALL, 0);
    chain[n++] = all;

    unit_value(bl, chain, n, &x, out);
    mahalanobis(bl, chain, n, &x, out);
    route(bl, chain, n, d, out);
    if (lv <= LV_HS2)
        new_trader(bl, g2, all, d, c2, imp_hash, out, m);
    new_importer(bl, all, d, imp_hash, out, m);

    for (int f = 0; f < ER_FEAT_COUNT; f++)
        out->n_computable += out->f[f].computable;
}

double er_anomaly_fisher_p(const er_anomalies *an)
{
    /* Fisher: unit value enters once, two-sided; the others one-sided. */
    double X = 0;
    int k = 0;
    if (!an->have_baseline)
        return 1.0;
    if (an->f[ER_FEAT_UNIT_VALUE_LOW].computable) {
        double pl = an->f[ER_FEAT_UNIT_VALUE_LOW].p, ph = an->f[ER_FEAT_UNIT_VALUE_HIGH].p;
        double p2 = 2.0 * (pl < ph ? pl : ph);
        X += -2.0 * log(clamp_p(p2));
        k++;
    }
    for (int f = ER_FEAT_MAHALANOBIS; f < ER_FEAT_COUNT; f++)
        if (an->f[f].computable) {
            X += -2.0 * log(an->f[f].p);
            k++;
        }
    return k ? clamp_p(er_bl_chisq_Q(X, 2 * k)) : 1.0;
}

void er_anomaly_compute(const er_baseline *bl, const er_decl *d, er_anomalies *out)
{
    row_keys k = {0};
    if (bl)
        row_keys_of(d, &k);
    compute_one(bl, d, &k, out, NULL);
}

/* Stage 1 (far ahead): HS index slots, first-seen slot, HS4 route slot. */
static void prefetch_far(const er_baseline *bl, const er_decl *d, row_keys *k)
{
    row_keys_of(d, k);
    uint32_t c6 = k->c6, c4 = k->c4, c2 = k->c2;
    int lv = k->lv;
    uint64_t h = k->imp_hash;
    if (lv == LV_HS6)
        __builtin_prefetch(&bl->gs.idx6[c6]);
    if (h && lv <= LV_HS2 && bl->traders.cap)
        __builtin_prefetch(&bl->traders.e[er_bl_trader_slot(h, (uint8_t)c2) & (bl->traders.cap - 1)]);
    if (h && bl->importers.cap)
        __builtin_prefetch(&bl->importers.e[er_bl_trader_slot(h, IMPORTER_CH) & (bl->importers.cap - 1)]);
    uint16_t o = d->origin ? d->origin : d->export_country;
    if (o && lv <= LV_HS4 && bl->routes.cap)
        __builtin_prefetch(&bl->routes.e[er_bl_route_slot(er_bl_route_key(LV_HS4, c4, o, d->destination)) &
                                         (bl->routes.cap - 1)]);
}

/* Stage 2 (near): the HS6 and HS4 groups' hot lines. */
static void prefetch_near(const er_baseline *bl, const row_keys *k)
{
    uint32_t c6 = k->c6, c4 = k->c4;
    int lv = k->lv;
    if (lv == LV_HS6 && bl->gs.idx6[c6]) {
        const char *g = (const char *)&bl->gs.g[bl->gs.idx6[c6] - 1];
        __builtin_prefetch(g);
        __builtin_prefetch(g + 64);
    }
    if (lv <= LV_HS4 && bl->gs.idx4[c4]) {
        const char *g = (const char *)&bl->gs.g[bl->gs.idx4[c4] - 1];
        __builtin_prefetch(g);
        __builtin_prefetch(g + 64);
        __builtin_prefetch(g + 128);
        __builtin_prefetch(g + 192);
    }
}

/* Rows at(0..n) of d (at(k) = idx ? idx[k] : k), baseline look-ups prefetched
 * D1 and D2 rows ahead. */
static void compute_rows(const er_baseline *bl, const er_decl *d, const uint32_t *idx, size_t n, er_anomalies *out)
{
#define AT(k) (idx ? (size_t)idx[k] : (size_t)(k))
    if (!bl) {
        row_keys none = {0};
        for (size_t i = 0; i < n; i++)
            compute_one(NULL, &d[AT(i)], &none, &out[AT(i)], NULL);
        return;
    }
    enum { D1 = 16, D2 = 6, RING = 32 };
    row_keys ring[RING];   /* rows i .. i + D1, keyed as they are prefetched far */
    nov_memo memo;
    memset(memo.t, 0, sizeof memo.t);   /* empty: no tail is NULL */
    for (size_t i = 0; i < n && i < D1; i++)
        prefetch_far(bl, &d[AT(i)], &ring[i % RING]);
    for (size_t i = 0; i < n && i < D2; i++)
        prefetch_near(bl, &ring[i % RING]);
    for (size_t i = 0; i < n; i++) {
        if (i + D1 < n)
            prefetch_far(bl, &d[AT(i + D1)], &ring[(i + D1) % RING]);
        if (i + D2 < n)
            prefetch_near(bl, &ring[(i + D2) % RING]);
        compute_one(bl, &d[AT(i)], &ring[i % RING], &out[AT(i)], &memo);
    }
#undef AT
}

void er_anomaly_compute_batch(const er_baseline *bl, const er_decl *d, size_t n, er_anomalies *out)
{
    compute_rows(bl, d, NULL, n, out);
}

void er_anomaly_compute_some(const er_baseline *bl, const er_decl *d, const uint32_t *idx, size_t n,
                             er_anomalies *out)
{
    compute_rows(bl, d, idx, n, out);
}
