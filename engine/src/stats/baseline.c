/*
 * baseline.c — the statistical baseline (docs/scoring.md): the builder that
 * accumulates declarations, the roll-up of HS6 → HS4 → HS2 → all, the exact
 * merge of shard baselines, the derived statistics (histogram median / MAD /
 * percentiles, moments, Cholesky factors with GSL, route tails, trader
 * counts) and `baseline show`'s description. JSON I/O is in baseline_io.c,
 * the per-declaration features in anomaly.c; the shared representation and
 * why every merged quantity is an integer are in baseline_impl.h.
 */
#include "stats/baseline_impl.h"
#include "core/bigmem.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_histogram.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

const double er_bl_pct_levels[N_PCT] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

/* ---- GSL error handler: the library never aborts on a GSL domain error ---- */

double er_bl_hist_range[HIST_BINS + 1];
double er_bl_chi2_95[4];
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
static void gsl_quiet_once(void)
{
    gsl_set_error_handler_off();
    for (int i = 0; i <= HIST_BINS; i++)
        er_bl_hist_range[i] = HIST_LO + (double)i * HIST_W;   /* exact: W = 2^-4 */
    for (int k = 1; k <= 3; k++)
        er_bl_chi2_95[k] = gsl_cdf_chisq_Qinv(0.05, (double)k);
}
void er_bl_gsl_quiet(void) { pthread_once(&gsl_once, gsl_quiet_once); }

/* ---- HS codes ---- */

int er_bl_level_digits(int level)
{
    switch (level) {
    case LV_HS6: return 6;
    case LV_HS4: return 4;
    case LV_HS2: return 2;
    default: return 0;
    }
}

int er_bl_hs_codes(const char *hs, uint32_t *c6, uint32_t *c4, uint32_t *c2)
{
    uint32_t v = 0;
    int nd = 0;
    while (nd < 6 && hs[nd] >= '0' && hs[nd] <= '9') {
        v = v * 10 + (uint32_t)(hs[nd] - '0');
        nd++;
        if (nd == 2) *c2 = v;
        if (nd == 4) *c4 = v;
        if (nd == 6) *c6 = v;
    }
    if (nd >= 6) return LV_HS6;
    if (nd >= 4) return LV_HS4;
    if (nd >= 2) return LV_HS2;
    return LV_ALL;
}

void er_bl_group_key(const group *g, char out[11])
{
    switch (g->level) {
    case LV_HS6: snprintf(out, 11, "%06u", (unsigned)(g->code % 1000000u)); break;
    case LV_HS4: snprintf(out, 11, "%04u", (unsigned)(g->code % 10000u)); break;
    case LV_HS2: snprintf(out, 11, "%02u", (unsigned)(g->code % 100u)); break;
    default: snprintf(out, 11, "*"); break;
    }
}

/* ---- group set ---- */

#define IDX6_BYTES (1000000 * sizeof(uint32_t))

/* The HS6 index (4 MB, mostly zero) is mapped fresh, so only the pages a
 * baseline touches are ever zeroed; calloc would clear all of it each time
 * once glibc's mmap threshold has risen past its size. Not er_big_calloc:
 * its huge-page advice would clear 2 MiB on the first touch of each half. */
er_status er_bl_gs_init(group_set *gs)
{
    memset(gs, 0, sizeof *gs);
    void *p = mmap(NULL, IDX6_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return ER_ENOMEM;
    gs->idx6 = p;
    return ER_OK;
}

static void nov_free(nov_tail *t)
{
    free(t->val);
    free(t->sum_le);
    free(t->k_le);
    free(t->p_tab);
    memset(t, 0, sizeof *t);
}

static void group_free_derived(group *g)
{
    nov_free(&g->nov);
    free(g->rc_val);
    free(g->rc_cum);
    g->rc_val = g->rc_cum = NULL;
    g->n_rc = 0;
}

void er_bl_gs_free(group_set *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].hist);
        group_free_derived(&gs->g[i]);
    }
    free(gs->g);
    if (gs->idx6)
        munmap(gs->idx6, IDX6_BYTES);
    memset(gs, 0, sizeof *gs);
}

static uint32_t *slot_of(group_set *gs, int level, uint32_t code)
{
    switch (level) {
    case LV_HS6: return code < 1000000 ? &gs->idx6[code] : NULL;
    case LV_HS4: return code < 10000 ? &gs->idx4[code] : NULL;
    case LV_HS2: return code < 100 ? &gs->idx2[code] : NULL;
    case LV_ALL: return code == 0 ? &gs->idx_all : NULL;
    default: return NULL;
    }
}

const group *er_bl_gs_find(const group_set *gs, int level, uint32_t code)
{
    uint32_t *s = slot_of((group_set *)gs, level, code);
    return (s && *s) ? &gs->g[*s - 1] : NULL;
}

group *er_bl_gs_get(group_set *gs, int level, uint32_t code, bool create)
{
    uint32_t *s = slot_of(gs, level, code);
    if (!s)
        return NULL;
    if (*s)
        return &gs->g[*s - 1];
    if (!create)
        return NULL;
    if (gs->n == gs->cap) {
        size_t nc = gs->cap ? gs->cap * 2 : 256;
        group *ng = realloc(gs->g, nc * sizeof *ng);
        if (!ng)
            return NULL;
        gs->g = ng;
        gs->cap = nc;
    }
    group *g = &gs->g[gs->n];
    memset(g, 0, sizeof *g);
    g->hist = calloc(HIST_BINS, sizeof *g->hist);
    if (!g->hist)
        return NULL;
    g->level = (uint8_t)level;
    g->code = code;
    gs->n++;
    *s = (uint32_t)gs->n;
    return g;
}

/* ---- hash tables (open addressing, linear probing, power-of-two size) ---- */

/* Tables of a few MB and more are mapped with a huge-page hint (bigmem.h):
 * first-seen lookups are random accesses, and TLB misses dominated them. */

void er_bl_tables_free(er_baseline *bl)
{
    er_big_cfree(bl->routes.e, bl->routes.cap * sizeof *bl->routes.e);
    er_big_cfree(bl->traders.e, bl->traders.cap * sizeof *bl->traders.e);
    er_big_cfree(bl->importers.e, bl->importers.cap * sizeof *bl->importers.e);
    bl->routes.e = NULL;
    bl->traders.e = NULL;
    bl->importers.e = NULL;
    bl->routes.cap = bl->traders.cap = bl->routes.n = bl->traders.n = 0;
    bl->importers.cap = bl->importers.n = 0;
    nov_free(&bl->imp_nov);
}

/* An open-addressing table of *cap entries of esz bytes, each starting with its
 * 64-bit key (0 = empty), rehashed into nc slots (a power of two) by home(entry).
 * Shared by the route and trader tables; runs only when a table grows. */
static er_status rehash(void **tab, size_t *cap, size_t esz, size_t nc, uint64_t (*home)(const void *))
{
    unsigned char *ne = er_big_calloc(nc * esz), *old = *tab;
    if (!ne)
        return ER_ENOMEM;
    for (size_t i = 0; i < *cap; i++) {
        const unsigned char *e = old + i * esz;
        uint64_t key;
        memcpy(&key, e, sizeof key);
        if (!key)
            continue;
        size_t j = home(e) & (nc - 1);
        for (memcpy(&key, ne + j * esz, sizeof key); key; memcpy(&key, ne + j * esz, sizeof key))
            j = (j + 1) & (nc - 1);
        memcpy(ne + j * esz, e, esz);
    }
    er_big_cfree(old, *cap * esz);
    *tab = ne;
    *cap = nc;
    return ER_OK;
}

_Static_assert(offsetof(route_ent, key) == 0 && offsetof(trader_ent, h) == 0,
               "rehash reads each entry's key from its first 8 bytes");

static uint64_t route_home(const void *e) { return er_bl_mix64(((const route_ent *)e)->key); }

static uint64_t trader_home(const void *e)
{
    const trader_ent *t = e;
    return er_bl_trader_slot(t->h, t->ch);
}

static er_status route_grow(route_tab *t, size_t nc)
{
    return rehash((void **)&t->e, &t->cap, sizeof *t->e, nc, route_home);
}

er_status er_bl_route_add(route_tab *t, uint64_t key, uint64_t count)
{
    if ((t->n + 1) * 2 > t->cap && route_grow(t, t->cap ? t->cap * 2 : 1024) != ER_OK)
        return ER_ENOMEM;
    size_t mask = t->cap - 1, j = er_bl_mix64(key) & mask;
    while (t->e[j].key && t->e[j].key != key)
        j = (j + 1) & mask;
    if (!t->e[j].key) {
        t->e[j].key = key;
        t->n++;
    }
    t->e[j].count += count;
    return ER_OK;
}

/* Smallest power-of-two capacity (at least min) that holds n entries at load <= 1/2. */
static size_t cap_for(size_t n, size_t min)
{
    size_t c = min;
    while (c < n * 2 && c < ((size_t)1 << 40))
        c *= 2;
    return c;
}

er_status er_bl_route_reserve(route_tab *t, size_t more)
{
    size_t nc = cap_for(t->n + more, 1024);
    return nc > t->cap ? route_grow(t, nc) : ER_OK;
}

uint64_t er_bl_route_get(const route_tab *t, uint64_t key)
{
    if (!t->cap)
        return 0;
    size_t mask = t->cap - 1, j = er_bl_mix64(key) & mask;
    while (t->e[j].key) {
        if (t->e[j].key == key)
            return t->e[j].count;
        j = (j + 1) & mask;
    }
    return 0;
}

static er_status trader_grow(trader_tab *t, size_t nc)
{
    return rehash((void **)&t->e, &t->cap, sizeof *t->e, nc, trader_home);
}

er_status er_bl_trader_add(trader_tab *t, uint64_t h, uint8_t ch, int32_t date, uint64_t n)
{
    if ((t->n + 1) * 2 > t->cap && trader_grow(t, t->cap ? t->cap * 2 : 4096) != ER_OK)
        return ER_ENOMEM;
    size_t mask = t->cap - 1, j = er_bl_trader_slot(h, ch) & mask;
    while (t->e[j].h && !(t->e[j].h == h && t->e[j].ch == ch))
        j = (j + 1) & mask;
    if (!t->e[j].h) {
        t->e[j].h = h;
        t->e[j].ch = ch;
        t->e[j].date = date;
        t->e[j].n = n;
        t->n++;
        return ER_OK;
    }
    if (date < t->e[j].date)
        t->e[j].date = date;
    if (t->e[j].n > UINT64_MAX - n)
        return ER_ELIMIT;
    t->e[j].n += n;
    return ER_OK;
}

er_status er_bl_trader_reserve(trader_tab *t, size_t more)
{
    size_t nc = cap_for(t->n + more, 4096);
    return nc > t->cap ? trader_grow(t, nc) : ER_OK;
}

er_status er_bl_trader_insert_all(trader_tab *t, const trader_ent *e, size_t n)
{
    enum { AHEAD = 16 };
    if (er_bl_trader_reserve(t, n) != ER_OK)
        return ER_ENOMEM;
    size_t mask = t->cap - 1;
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(&t->e[er_bl_trader_slot(e[i + AHEAD].h, e[i + AHEAD].ch) & mask], 1);
        er_status st = er_bl_trader_add(t, e[i].h, e[i].ch, e[i].date, e[i].n);
        if (st != ER_OK)
            return st;
    }
    return ER_OK;
}

const trader_ent *er_bl_trader_get(const trader_tab *t, uint64_t h, uint8_t ch)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, j = er_bl_trader_slot(h, ch) & mask;
    while (t->e[j].h) {
        if (t->e[j].h == h && t->e[j].ch == ch)
            return &t->e[j];
        j = (j + 1) & mask;
    }
    return NULL;
}

uint64_t er_bl_importer_hash(const char *s)
{
    uint64_t h = er_hash64(s, strlen(s), 0);
    return h ? h : 1;   /* 0 marks an empty slot */
}

/* ---- life cycle ---- */

er_status er_bl_init(er_baseline *bl, unsigned min_group, er_err *err)
{
    memset(bl, 0, sizeof *bl);
    bl->min_group = min_group ? min_group : DEFAULT_MIN_GROUP;
    if (er_bl_gs_init(&bl->gs) != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory allocating a baseline");
    return ER_OK;
}

void er_bl_clear(er_baseline *bl)
{
    er_bl_bin_detach(bl);
    er_bl_gs_free(&bl->gs);
    er_bl_tables_free(bl);
    free(bl->rs);
    free(bl->ts);
    free(bl->text);
    memset(bl, 0, sizeof *bl);
}

void er_baseline_free(er_baseline *bl)
{
    if (!bl)
        return;
    er_bl_clear(bl);
    free(bl);
}

const char *er_baseline_id(const er_baseline *bl) { return bl->id; }
unsigned long long er_baseline_rows(const er_baseline *bl) { return bl->rows; }

/* ---- per-declaration inputs ---- */

static bool mass_unit(const char *u)
{
    static const char *const units[] = {"KGM", "GRM", "TNE", "MGM", "LBR", "ONZ", "DTN", "KTN", "KG"};
    if (!u)
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i]) == 0)
            return true;
    return false;
}

void er_bl_decl_x(const er_decl *d, decl_x *out)
{
    out->has_uv = out->has_kgpp = false;
    if (!(d->present & ER_P_NET_KG) || !(d->net_kg > 0) || !isfinite(d->net_kg))
        return;
    if (!(d->present & ER_P_VALUE_REF) || !(d->value_ref > 0) || !isfinite(d->value_ref))
        return;
    double uv = d->value_ref / d->net_kg;
    double luv = log(uv), lm = log(d->net_kg);
    if (!isfinite(uv) || !(uv > 0) || !isfinite(luv) || !isfinite(lm))
        return;
    out->has_uv = true;
    out->uv = uv;
    out->x[0] = luv;
    out->x[1] = lm;
    double per = 0;
    if ((d->present & ER_P_PACKAGES) && d->packages > 0 && isfinite(d->packages))
        per = d->packages;
    else if ((d->present & ER_P_QUANTITY) && d->quantity > 0 && isfinite(d->quantity) && d->unit &&
             d->unit[0] && !mass_unit(d->unit))
        per = d->quantity;
    if (per > 0) {
        double l3 = log(d->net_kg / per);
        if (isfinite(l3)) {
            out->has_kgpp = true;
            out->x[2] = l3;
        }
    }
}

static inline int64_t quant(double x)
{
    if (x > XCLAMP) x = XCLAMP;
    if (x < -XCLAMP) x = -XCLAMP;
    return (int64_t)llrint(x * QSCALE);
}

/* ---- builder ---- */

er_status er_baseline_builder_new(er_baseline_builder **out, const er_baseline_opts *opts, er_err *err)
{
    er_bl_gsl_quiet();
    er_baseline_builder *b = calloc(1, sizeof *b);
    if (!b)
        return er_errf(err, ER_ENOMEM, "out of memory allocating a baseline builder");
    er_status st = er_bl_init(&b->bl, opts ? opts->min_group : 0, err);
    if (st != ER_OK) {
        free(b);
        return st;
    }
    *out = b;
    return ER_OK;
}

void er_baseline_builder_free(er_baseline_builder *b)
{
    if (!b)
        return;
    er_bl_clear(&b->bl);
    free(b);
}

static void mv_add_row(mv_sums *m, const int64_t *q, int k)
{
    m->n++;
    int t = 0;
    for (int i = 0; i < k; i++) {
        m->s[i] += q[i];
        for (int j = 0; j <= i; j++)
            m->c[t++] += (i128)q[i] * q[j];
    }
}

/* Everything add_one needs from a declaration, computed once (and ahead of
 * time by the batch path, which prefetches the memory it will touch). */
typedef struct pre_row {
    uint64_t imp_hash;       /* 0: no importer */
    int      lv;
    uint32_t c6, c4, c2;
    decl_x   x;
} pre_row;

static void pre_compute(const er_decl *d, pre_row *p)
{
    p->c6 = p->c4 = p->c2 = 0;
    p->lv = er_bl_hs_codes(d->hs, &p->c6, &p->c4, &p->c2);
    p->imp_hash = d->importer && d->importer[0] ? er_bl_importer_hash(d->importer) : 0;
    er_bl_decl_x(d, &p->x);
}

static er_status add_one(er_baseline_builder *b, const er_decl *d, const pre_row *p, er_err *err)
{
    er_baseline *bl = &b->bl;
    int lv = p->lv;
    uint32_t c4 = p->c4, c2 = p->c2;
    uint32_t code = lv == LV_HS6 ? p->c6 : lv == LV_HS4 ? c4 : lv == LV_HS2 ? c2 : 0;
    group *g = er_bl_gs_get(&bl->gs, lv, code, true);
    if (!g)
        return er_errf(err, ER_ENOMEM, "out of memory adding declaration %s to the baseline",
                       d->id ? d->id : "?");
    if (g->rows >= MAX_GROUP_ROWS)
        return er_errf(err, ER_ELIMIT, "baseline group %s holds more than %llu rows", d->hs,
                       (unsigned long long)MAX_GROUP_ROWS);
    if (bl->rows == 0 || d->date < bl->date_min) bl->date_min = d->date;
    if (bl->rows == 0 || d->date > bl->date_max) bl->date_max = d->date;
    bl->rows++;
    g->rows++;

    const decl_x *x = &p->x;
    if (x->has_uv) {
        int64_t q[3] = {quant(x->x[0]), quant(x->x[1]), x->has_kgpp ? quant(x->x[2]) : 0};
        g->n++;
        g->s += q[0];
        g->ss += (i128)q[0] * q[0];
        g->hist[er_bl_hist_bin(x->x[0])] += 1.0;
        mv_add_row(&g->mv2, q, 2);
        if (x->has_kgpp)
            mv_add_row(&g->mv3, q, 3);
    }
    uint16_t o = d->origin ? d->origin : d->export_country;
    if (o) {
        int rl = lv == LV_HS6 ? LV_HS4 : lv;
        uint32_t rc = rl == LV_HS4 ? c4 : rl == LV_HS2 ? c2 : 0;
        if (er_bl_route_add(&bl->routes, er_bl_route_key(rl, rc, o, d->destination), 1) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory counting routes");
        g->route_n++;
    }
    if (p->imp_hash && lv != LV_ALL) {
        if (er_bl_trader_add(&bl->traders, p->imp_hash, (uint8_t)c2, d->date, 1) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory recording traders");
        g->imp_rows++;
    }
    return ER_OK;
}

er_status er_baseline_builder_add(er_baseline_builder *b, const er_decl *d, er_err *err)
{
    pre_row p;
    pre_compute(d, &p);
    return add_one(b, d, &p, err);
}

/* Stage 1 (far ahead): prefetch the HS6 index slot. */
static void prefetch_index(const er_baseline *bl, const er_decl *d)
{
    uint32_t c6 = 0;
    int i = 0;
    for (; i < 6 && d->hs[i] >= '0' && d->hs[i] <= '9'; i++)
        c6 = c6 * 10 + (uint32_t)(d->hs[i] - '0');
    if (i == 6)
        __builtin_prefetch(&bl->gs.idx6[c6]);
}

/* Stage 2 (near): compute the row's inputs and prefetch its group, the
 * histogram bin and the first-seen slot. */
static void prefetch_row(const er_baseline *bl, const er_decl *d, pre_row *p)
{
    pre_compute(d, p);
    if (p->lv == LV_HS6) {
        uint32_t gi = bl->gs.idx6[p->c6];
        if (gi) {
            const group *g = &bl->gs.g[gi - 1];
            __builtin_prefetch(g, 1);
            if (p->x.has_uv)
                __builtin_prefetch(&g->hist[er_bl_hist_bin(p->x.x[0])], 1);
        }
    }
    if (p->imp_hash && bl->traders.cap && p->lv != LV_ALL)
        __builtin_prefetch(&bl->traders.e[er_bl_trader_slot(p->imp_hash, (uint8_t)p->c2) & (bl->traders.cap - 1)], 1);
}

er_status er_baseline_builder_add_batch(er_baseline_builder *b, const er_decl *d, size_t n, er_err *err)
{
    enum { D1 = 16, D2 = 8, RING = 16 };
    pre_row ring[RING];
    for (size_t i = 0; i < n && i < D1; i++)
        prefetch_index(&b->bl, &d[i]);
    for (size_t i = 0; i < n && i < D2; i++)
        prefetch_row(&b->bl, &d[i], &ring[i % RING]);
    for (size_t i = 0; i < n; i++) {
        if (i + D1 < n)
            prefetch_index(&b->bl, &d[i + D1]);
        if (i + D2 < n)
            prefetch_row(&b->bl, &d[i + D2], &ring[(i + D2) % RING]);
        er_status st = add_one(b, &d[i], &ring[i % RING], err);
        if (st != ER_OK)
            return st;
    }
    return ER_OK;
}

static void mv_sum(mv_sums *dst, const mv_sums *src)
{
    dst->n += src->n;
    for (int i = 0; i < 3; i++) dst->s[i] += src->s[i];
    for (int i = 0; i < 6; i++) dst->c[i] += src->c[i];
}

/* Add src's accumulators into dst (same or parent group). */
static void group_sum(group *dst, const group *src)
{
    dst->rows += src->rows;
    dst->n += src->n;
    dst->s += src->s;
    dst->ss += src->ss;
    gsl_histogram hd = {HIST_BINS, er_bl_hist_range, dst->hist};
    gsl_histogram hs = {HIST_BINS, er_bl_hist_range, (double *)src->hist};
    gsl_histogram_add(&hd, &hs);   /* same fixed edges: bins add */
    mv_sum(&dst->mv2, &src->mv2);
    mv_sum(&dst->mv3, &src->mv3);
    dst->route_n += src->route_n;
    dst->imp_rows += src->imp_rows;
}

/* The bin gsl_histogram_increment would pick over er_bl_hist_range (uniform,
 * exactly representable edges), computed directly; values beyond the edges
 * are counted in the edge bins. Tested against GSL in test_baseline.c. */
size_t er_bl_hist_bin(double x)
{
    if (!(x >= HIST_LO))
        return 0;
    if (x >= HIST_HI)
        return HIST_BINS - 1;
    size_t b = (size_t)((x - HIST_LO) * HIST_PER);
    if (b >= HIST_BINS) b = HIST_BINS - 1;
    /* x + 16 may round onto an edge: settle against the edges themselves */
    if (x < er_bl_hist_range[b]) b--;
    else if (x >= er_bl_hist_range[b + 1] && b + 1 < HIST_BINS) b++;
    return b;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Roll the direct accumulators up: every group's totals = own rows + children. */
static er_status rollup(er_baseline *bl, er_err *err)
{
    for (int lv = LV_HS6; lv <= LV_HS2; lv++) {
        size_t n = bl->gs.n;
        for (size_t i = 0; i < n; i++) {
            if (bl->gs.g[i].level != lv)
                continue;
            uint32_t pc = lv == LV_HS6 ? bl->gs.g[i].code / 100 : lv == LV_HS4 ? bl->gs.g[i].code / 100 : 0;
            group *p = er_bl_gs_get(&bl->gs, lv + 1, pc, true);
            if (!p)
                return er_errf(err, ER_ENOMEM, "out of memory rolling up baseline groups");
            group_sum(p, &bl->gs.g[i]);   /* p may have moved the array: index again */
        }
    }
    /* Routes: HS4 → HS2 → all (key order: snapshot, then add). */
    for (int lv = LV_HS4; lv <= LV_HS2; lv++) {
        size_t m = 0;
        route_ent *snap = malloc((bl->routes.n + 1) * sizeof *snap);
        if (!snap)
            return er_errf(err, ER_ENOMEM, "out of memory rolling up routes");
        for (size_t i = 0; i < bl->routes.cap; i++)
            if (bl->routes.e[i].key && (int)(bl->routes.e[i].key >> 52) == lv)
                snap[m++] = bl->routes.e[i];
        for (size_t i = 0; i < m; i++) {
            uint32_t code = (uint32_t)((snap[i].key >> 32) & 0xfffff);
            uint32_t pc = lv == LV_HS4 ? code / 100 : 0;
            uint64_t key = er_bl_route_key(lv + 1, pc, (uint16_t)(snap[i].key >> 16), (uint16_t)snap[i].key);
            if (er_bl_route_add(&bl->routes, key, snap[i].count) != ER_OK) {
                free(snap);
                return er_errf(err, ER_ENOMEM, "out of memory rolling up routes");
            }
        }
        free(snap);
    }
    /* Keep multivariate sums and route totals from HS4 up, importer rows from HS2 up. */
    for (size_t i = 0; i < bl->gs.n; i++) {
        group *g = &bl->gs.g[i];
        if (g->level == LV_HS6) {
            memset(&g->mv2, 0, sizeof g->mv2);
            memset(&g->mv3, 0, sizeof g->mv3);
            g->route_n = 0;
        }
        if (g->level == LV_HS6 || g->level == LV_HS4)
            g->imp_rows = 0;
    }
    return ER_OK;
}

/* A complete baseline's derived statistics and id, then bl handed to *out (freed on error). */
static er_status hand_over(er_baseline *bl, er_baseline **out, er_err *err)
{
    er_status st = er_bl_derive(bl, err);
    if (st == ER_OK)
        st = er_bl_hash(bl, true, err);
    if (st != ER_OK) {
        er_baseline_free(bl);
        return st;
    }
    *out = bl;
    return ER_OK;
}

er_status er_baseline_builder_finish(er_baseline_builder *b, er_baseline **out, er_err *err)
{
    er_baseline *bl = malloc(sizeof *bl);
    if (!bl)
        return er_errf(err, ER_ENOMEM, "out of memory finishing the baseline");
    er_status st = rollup(&b->bl, err);
    if (st != ER_OK)
        goto fail;
    *bl = b->bl;                         /* move: the builder is left empty */
    st = er_bl_init(&b->bl, bl->min_group, err);
    if (st != ER_OK) {
        er_baseline_free(bl);
        return st;
    }
    return hand_over(bl, out, err);
fail:
    free(bl);
    return st;
}

/* ---- merge ---- */

er_status er_bl_add(er_baseline *dst, const er_baseline *src, er_err *err)
{
    for (size_t i = 0; i < src->gs.n; i++) {
        const group *s = &src->gs.g[i];
        group *g = er_bl_gs_get(&dst->gs, s->level, s->code, true);
        if (!g)
            return er_errf(err, ER_ENOMEM, "out of memory merging baselines");
        if (g->rows + s->rows > MAX_GROUP_ROWS)
            return er_errf(err, ER_ELIMIT, "merged baseline group would exceed %llu rows",
                           (unsigned long long)MAX_GROUP_ROWS);
        group_sum(g, s);
    }
    for (size_t i = 0; i < src->routes.cap; i++)
        if (src->routes.e[i].key &&
            er_bl_route_add(&dst->routes, src->routes.e[i].key, src->routes.e[i].count) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory merging routes");
    for (size_t i = 0; i < src->traders.cap; i++) {
        const trader_ent *t = &src->traders.e[i];
        if (t->h && er_bl_trader_add(&dst->traders, t->h, t->ch, t->date, t->n) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory (or a trader count overflow) merging traders");
    }
    if (src->rows) {
        if (dst->rows == 0 || src->date_min < dst->date_min) dst->date_min = src->date_min;
        if (dst->rows == 0 || src->date_max > dst->date_max) dst->date_max = src->date_max;
    }
    dst->rows += src->rows;
    return ER_OK;
}

er_status er_baseline_merge(er_baseline **out, const er_baseline *const *in, size_t n, er_err *err)
{
    er_bl_gsl_quiet();
    if (n == 0)
        return er_errf(err, ER_EINVAL, "baseline merge needs at least one baseline");
    for (size_t i = 1; i < n; i++)
        if (in[i]->min_group != in[0]->min_group)
            return er_errf(err, ER_EINVAL,
                           "cannot merge baselines built with different min_group (%u and %u)",
                           in[0]->min_group, in[i]->min_group);
    er_baseline *bl = malloc(sizeof *bl);
    if (!bl)
        return er_errf(err, ER_ENOMEM, "out of memory merging baselines");
    er_status st = er_bl_init(bl, in[0]->min_group, err);
    if (st != ER_OK) {
        free(bl);
        return st;
    }
    for (size_t i = 0; i < n && st == ER_OK; i++)
        st = er_bl_add(bl, in[i], err);
    if (st != ER_OK) {
        er_baseline_free(bl);
        return st;
    }
    return hand_over(bl, out, err);
}

/* ---- histogram statistics ---- */

/* Quantile q of the histogram, linear interpolation inside a bin (counts
 * uniform within the bin): the t = q·n-th unit of mass. */
double er_bl_hist_quantile(const double *h, uint64_t n, double q)
{
    if (n == 0)
        return 0.0;
    double t = q * (double)n, cum = 0;
    size_t first = 0;
    while (first < HIST_BINS - 1 && h[first] == 0) first++;
    if (t <= 0)
        return HIST_LO + (double)first * HIST_W;
    for (size_t i = 0; i < HIST_BINS; i++) {
        if (h[i] == 0)
            continue;
        if (cum + h[i] >= t)
            return HIST_LO + ((double)i + (t - cum) / h[i]) * HIST_W;
        cum += h[i];
    }
    size_t last = HIST_BINS - 1;
    while (last > 0 && h[last] == 0) last--;
    return HIST_LO + (double)(last + 1) * HIST_W;
}

double er_bl_hist_tail(const double *h, size_t first, size_t last, double x, bool upper)
{
    double u = (x - HIST_LO) * HIST_PER;
    if (!(u > 0)) u = 0;
    if (u > HIST_BINS) u = HIST_BINS;
    size_t i = (size_t)u;
    if (i >= HIST_BINS) i = HIST_BINS - 1;
    double frac = u - (double)i, t = 0;
    if (upper) {
        if (i > last) return 0;
        for (size_t j = last; j > i; j--) t += h[j];
        return t + h[i] * (1.0 - frac);
    }
    if (i < first) return 0;
    for (size_t j = first; j < i; j++) t += h[j];
    return t + h[i] * frac;
}

/* Interpolated CDF (mass ≤ x) with cumulative counts cum[i] = Σ_{j<i} h[j]. */
static double hist_cdf(const double *h, const double *cum, double x)
{
    double u = (x - HIST_LO) * HIST_PER;
    if (u <= 0) return 0;
    if (u >= HIST_BINS) return cum[HIST_BINS];
    size_t i = (size_t)u;
    if (i >= HIST_BINS) i = HIST_BINS - 1;
    return cum[i] + h[i] * (u - (double)i);
}

/* MAD = median of |x − m| for the piecewise-uniform density: G(t) = F(m+t) −
 * F(m−t) is piecewise linear in t with breakpoints where m ± t meets a bin
 * edge; walk the breakpoints outward and solve G(t) = n/2 on the crossing
 * segment. Exact for the histogram's density. */
double er_bl_hist_mad(const double *h, uint64_t n, double m)
{
    if (n == 0)
        return 0.0;
    double cum[HIST_BINS + 1];
    cum[0] = 0;
    for (size_t i = 0; i < HIST_BINS; i++)
        cum[i + 1] = cum[i] + h[i];
    double half = (double)n / 2.0;
    double u = (m - HIST_LO) * HIST_PER;
    long up = (long)floor(u) + 1, dn = (long)ceil(u) - 1;   /* next edges above / below */
    if (up < 0) up = 0;
    if (dn > HIST_BINS) dn = HIST_BINS;
    double t_prev = 0, g_prev = 0;
    for (;;) {
        double tu = up <= HIST_BINS ? HIST_LO + (double)up * HIST_W - m : INFINITY;
        double td = dn >= 0 ? m - (HIST_LO + (double)dn * HIST_W) : INFINITY;
        double t = tu < td ? tu : td;
        if (!isfinite(t))
            return t_prev;
        if (t < t_prev) t = t_prev;
        double gt = hist_cdf(h, cum, m + t) - hist_cdf(h, cum, m - t);
        if (gt >= half) {
            if (gt == g_prev)
                return t_prev;
            return t_prev + (half - g_prev) * (t - t_prev) / (gt - g_prev);
        }
        t_prev = t;
        g_prev = gt;
        if (tu <= td) up++;
        if (td <= tu) dn--;
    }
}

/* ---- derived statistics ---- */

static double i128_to_double(i128 v) { return (double)v; }

/* Covariance entry from exact sums: (n·c_ij − s_i·s_j) / (n(n−1)) / Q². */
static double cov_entry(uint64_t n, i128 c, i128 si, i128 sj)
{
    i128 num = (i128)n * c - si * sj;
    return i128_to_double(num) / ((double)n * (double)(n - 1)) / (QSCALE * QSCALE);
}

static void mv_derive(const mv_sums *m, int k, mv_model *out)
{
    memset(out, 0, sizeof *out);
    if (m->n < (uint64_t)k + 1)
        return;
    for (int i = 0; i < k; i++)
        out->mu[i] = i128_to_double(m->s[i]) / (double)m->n / QSCALE;
    int t = 0;
    double tr = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++, t++) {
            out->cov[t] = cov_entry(m->n, m->c[t], m->s[i], m->s[j]);
            if (i == j) tr += out->cov[t];
        }
    /* Ridge: collinear dimensions (constant kg per package, say) stay invertible,
     * and a variance floor of (w/2)², the same resolution floor as the unit-value
     * scale, keeps a degenerate group (identical rows) usable. */
    double ridge = 1e-6 * (tr / k) + (HIST_W * HIST_W) / 4.0;
    double a[9] = {0};
    gsl_matrix_view A = gsl_matrix_view_array(a, (size_t)k, (size_t)k);
    t = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++, t++) {
            double v = out->cov[t] + (i == j ? ridge : 0.0);
            gsl_matrix_set(&A.matrix, (size_t)i, (size_t)j, v);
            gsl_matrix_set(&A.matrix, (size_t)j, (size_t)i, v);
        }
    if (gsl_linalg_cholesky_decomp1(&A.matrix) != GSL_SUCCESS)
        return;
    t = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++, t++) {
            out->L[t] = gsl_matrix_get(&A.matrix, (size_t)i, (size_t)j);
            if (!isfinite(out->L[t]) || (i == j && !(out->L[t] > 0)))
                return;
        }
    out->ok = true;
}

/* Robust scale of log unit value (docs/scoring.md, 2): the largest of the
 * normal-consistent MAD, the normal-consistent 10-90 % quantile spread (a
 * floor for groups whose values cluster on one price, where the MAD collapses;
 * breakdown point 10 %) and the histogram resolution w/2. */
double er_bl_robust_scale(double mad, double q10, double q90)
{
    double s = UV_MAD_K * mad, spread = (q90 - q10) / (2.0 * UV_Z90);
    if (spread > s) s = spread;
    return s > HIST_W / 2 ? s : HIST_W / 2;
}

static void uv_derive(group *g)
{
    g->median = g->mad = g->scale = g->mean = g->sd = g->uv_lo = g->uv_hi = 0;
    memset(g->pct, 0, sizeof g->pct);
    if (g->n == 0)
        return;
    for (int i = 0; i < N_PCT; i++)
        g->pct[i] = er_bl_hist_quantile(g->hist, g->n, er_bl_pct_levels[i]);
    g->median = g->pct[3];
    size_t f = 0, l = HIST_BINS - 1;
    while (f < l && g->hist[f] == 0) f++;
    while (l > f && g->hist[l] == 0) l--;
    g->bin_first = (uint16_t)f;
    g->bin_last = (uint16_t)l;
    g->uv_lo = exp(g->pct[1]);
    g->uv_hi = exp(g->pct[5]);
    g->mad = er_bl_hist_mad(g->hist, g->n, g->median);
    g->scale = er_bl_robust_scale(g->mad, er_bl_hist_quantile(g->hist, g->n, 0.1),
                                  er_bl_hist_quantile(g->hist, g->n, 0.9));
    g->mean = i128_to_double(g->s) / (double)g->n / QSCALE;
    if (g->n >= 2) {
        double var = i128_to_double((i128)g->n * g->ss - g->s * g->s) /
                     ((double)g->n * (double)(g->n - 1)) / (QSCALE * QSCALE);
        g->sd = var > 0 ? sqrt(var) : 0;
    }
}

static int cmp_route(const void *a, const void *b)
{
    uint64_t x = ((const route_ent *)a)->key, y = ((const route_ent *)b)->key;
    return x < y ? -1 : x > y;
}

static int cmp_trader(const void *a, const void *b)
{
    const trader_ent *x = a, *y = b;
    if (x->ch != y->ch)
        return x->ch < y->ch ? -1 : 1;
    return (x->h > y->h) - (x->h < y->h);
}

/* Below this many entries a comparison sort is cheaper than four radix
 * passes over 65,536 counters. */
#define TRADER_RADIX_MIN 8192

/* Traders in (chapter, hash) order: counting sort by chapter, then an LSD
 * radix sort on the 64-bit hash (4 passes of 16 bits) — the table can hold
 * millions of entries and a comparison sort dominated the finish time. Keys
 * are unique, so both sorts give the same order. */
static er_status sort_traders(er_baseline *bl)
{
    size_t n = bl->traders.n, m = 0;
    if (n < TRADER_RADIX_MIN) {
        for (size_t i = 0; i < bl->traders.cap; i++)
            if (bl->traders.e[i].h)
                bl->ts[m++] = bl->traders.e[i];
        qsort(bl->ts, m, sizeof *bl->ts, cmp_trader);
        bl->n_ts = m;
        return ER_OK;
    }
    trader_ent *tmp = malloc((n + 1) * sizeof *tmp);
    uint32_t *cnt = calloc(65536, sizeof *cnt);
    if (!tmp || !cnt) {
        free(tmp);
        free(cnt);
        return ER_ENOMEM;
    }
    for (size_t i = 0; i < bl->traders.cap; i++)
        if (bl->traders.e[i].h)
            tmp[m++] = bl->traders.e[i];
    trader_ent *src = tmp, *dst = bl->ts;
    for (int pass = 0; pass < 4; pass++) {
        int sh = 16 * pass;
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < m; i++) cnt[(src[i].h >> sh) & 0xffff]++;
        uint32_t sum = 0;
        for (size_t k = 0; k < 65536; k++) {
            uint32_t c = cnt[k];
            cnt[k] = sum;
            sum += c;
        }
        for (size_t i = 0; i < m; i++) dst[cnt[(src[i].h >> sh) & 0xffff]++] = src[i];
        trader_ent *t = src;
        src = dst;
        dst = t;
    }
    /* after 4 passes the sorted data is back in tmp (src); stable bucket by chapter */
    memset(cnt, 0, 101 * sizeof *cnt);
    for (size_t i = 0; i < m; i++) cnt[src[i].ch + 1]++;
    for (size_t k = 1; k <= 100; k++) cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < m; i++) bl->ts[cnt[src[i].ch]++] = src[i];
    bl->n_ts = m;
    free(tmp);
    free(cnt);
    return ER_OK;
}

/* Route tails for group g from its sorted run of route entries. */
static er_status routes_derive(group *g, const route_ent *r, size_t k)
{
    group_free_derived(g);
    g->route_k = (uint32_t)k;
    g->route_c05 = g->route_cmax = 0;
    if (k == 0)
        return ER_OK;
    uint64_t *c = malloc(k * sizeof *c);
    g->rc_val = malloc(k * sizeof *g->rc_val);
    g->rc_cum = malloc(k * sizeof *g->rc_cum);
    if (!c || !g->rc_val || !g->rc_cum) {
        free(c);
        return ER_ENOMEM;
    }
    for (size_t i = 0; i < k; i++)
        c[i] = r[i].count;
    qsort(c, k, sizeof *c, cmp_u64);
    uint64_t cum = 1;   /* the unseen-route category, pseudo-count 1 */
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        cum += c[i] + 1;
        if (m && g->rc_val[m - 1] == c[i])
            g->rc_cum[m - 1] = cum;
        else {
            g->rc_val[m] = c[i];
            g->rc_cum[m] = cum;
            m++;
        }
    }
    g->n_rc = (uint32_t)m;
    g->route_cmax = c[k - 1];
    double denom = (double)g->route_n + (double)k + 1.0;
    g->route_c05 = g->route_cmax;
    for (size_t j = 0; j < m; j++)
        if ((double)g->rc_cum[j] / denom > ROUTE_ALPHA) {
            g->route_c05 = g->rc_val[j];
            break;
        }
    free(c);
    return ER_OK;
}

static double novelty_p_search(const nov_tail *t, uint64_t c);

/* Sort k counts: LSD radix, 11 bits a pass, only as many passes as the largest
 * count needs (counts are small: usually one pass); qsort for short arrays. */
static er_status sort_counts(uint64_t *c, size_t k)
{
    if (k < 1024) {
        qsort(c, k, sizeof *c, cmp_u64);
        return ER_OK;
    }
    uint64_t mx = 0;
    for (size_t i = 0; i < k; i++) mx = c[i] > mx ? c[i] : mx;
    uint64_t *tmp = malloc(k * sizeof *tmp);
    if (!tmp)
        return ER_ENOMEM;
    uint64_t *src = c, *dst = tmp;
    for (unsigned sh = 0; sh < 64 && (mx >> sh); sh += 11) {
        size_t cnt[2048] = {0};
        for (size_t i = 0; i < k; i++) cnt[(src[i] >> sh) & 2047]++;
        for (size_t i = 0, sum = 0; i < 2048; i++) {
            size_t v = cnt[i];
            cnt[i] = sum;
            sum += v;
        }
        for (size_t i = 0; i < k; i++) dst[cnt[(src[i] >> sh) & 2047]++] = src[i];
        uint64_t *sw = src;
        src = dst;
        dst = sw;
    }
    if (src != c)
        memcpy(c, src, k * sizeof *c);
    free(tmp);
    return ER_OK;
}

/* Tail table t from k trader counts c (sorted in place). */
static er_status nov_build(nov_tail *t, uint64_t *c, size_t k)
{
    nov_free(t);
    if (k == 0)
        return ER_OK;   /* no traders: p = 1 (er_bl_novelty_p) */
    if (sort_counts(c, k) != ER_OK)
        return ER_ENOMEM;
    if (!(t->val = malloc(k * sizeof *t->val)) || !(t->sum_le = malloc(k * sizeof *t->sum_le)) ||
        !(t->k_le = malloc(k * sizeof *t->k_le)))
        return ER_ENOMEM;
    uint64_t sum = 0;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        sum += c[i];
        if (!(m && t->val[m - 1] == c[i]))
            t->val[m++] = c[i];
        t->sum_le[m - 1] = sum;
        t->k_le[m - 1] = i + 1;
    }
    t->k = k;
    t->rows = sum;
    t->m = (uint32_t)m;
    t->cmax = c[k - 1];
    t->n_tab = (uint32_t)(t->cmax < NOVELTY_TAB_MAX ? t->cmax + 1 : NOVELTY_TAB_MAX);
    if (!(t->p_tab = malloc(t->n_tab * sizeof *t->p_tab)))
        return ER_ENOMEM;
    for (uint32_t j = 0; j < t->n_tab; j++)
        t->p_tab[j] = novelty_p_search(t, j);
    /* smallest c with p(c) > NOVELTY_ALPHA: on the segment where the last
     * count ≤ c is val[j], S(c) = sum_le[j] + (c + 1)·(k − k_le[j]) */
    double A = NOVELTY_ALPHA * ((double)sum + 1.0) - 1.0;
    t->c05 = t->cmax;
    for (size_t j = 0; j <= m; j++) {
        double a = j ? (double)t->val[j - 1] : 0.0, b = j < m ? (double)t->val[j] - 1.0 : 1e300;
        double B = j ? (double)t->sum_le[j - 1] : 0.0, r = (double)(k - (j ? t->k_le[j - 1] : 0));
        double c0 = r > 0 ? floor((A - B) / r) : (B > A ? a : 1e300);
        if (c0 < a) c0 = a;
        if (c0 <= b) {
            t->c05 = (uint64_t)c0;
            break;
        }
    }
    return ER_OK;
}

static double novelty_p_search(const nov_tail *t, uint64_t c)
{
    uint32_t lo = 0, hi = t->m;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->val[mid] <= c) lo = mid + 1; else hi = mid;
    }
    double s = lo ? (double)t->sum_le[lo - 1] : 0.0;
    s += ((double)c + 1.0) * (double)(t->k - (lo ? t->k_le[lo - 1] : 0));
    double p = (1.0 + s) / ((double)t->rows + 1.0);
    return p < 1.0 ? p : 1.0;
}

double er_bl_novelty_p(const nov_tail *t, uint64_t c)
{
    if (c >= t->cmax)
        return 1.0;   /* also the empty tail */
    return c < t->n_tab ? t->p_tab[c] : novelty_p_search(t, c);
}

/* Novelty tails: per chapter and over all (importer x chapter counts), and
 * the importer-level table (min first-seen, Σ counts over chapters) with its
 * tail. The counts must add up to the groups' importer rows. */
static er_status novelty_derive(er_baseline *bl, group *all, er_err *err)
{
    er_status st = ER_ENOMEM;
    uint64_t *c = malloc((bl->n_ts + 1) * sizeof *c), *ca = malloc((bl->n_ts + 1) * sizeof *ca);
    if (!c || !ca)
        goto cleanup;
    for (size_t i = 0; i < bl->n_ts;) {
        size_t j = i;
        uint64_t sum = 0;
        for (; j < bl->n_ts && bl->ts[j].ch == bl->ts[i].ch; j++) {
            c[j - i] = ca[j] = bl->ts[j].n;
            sum += bl->ts[j].n;
        }
        group *g = er_bl_gs_get(&bl->gs, LV_HS2, bl->ts[i].ch, false);
        if (sum != g->imp_rows) {
            st = er_errf(err, ER_EBASELINE, "trader counts of chapter %02u add up to %llu, not its %llu importer rows",
                         (unsigned)bl->ts[i].ch, (unsigned long long)sum, (unsigned long long)g->imp_rows);
            goto cleanup;
        }
        if (nov_build(&g->nov, c, j - i) != ER_OK)
            goto cleanup;
        i = j;
    }
    if (all && nov_build(&all->nov, ca, bl->n_ts) != ER_OK)
        goto cleanup;
    if (all && all->nov.rows != all->imp_rows) {
        st = er_errf(err, ER_EBASELINE, "trader counts add up to %llu, not the %llu importer rows",
                     (unsigned long long)all->nov.rows, (unsigned long long)all->imp_rows);
        goto cleanup;
    }
    er_big_cfree(bl->importers.e, bl->importers.cap * sizeof *bl->importers.e);
    memset(&bl->importers, 0, sizeof bl->importers);
    free(ca);
    ca = NULL;
    /* reserved once: growing by doubling would hold two tables at its peak */
    if (er_bl_trader_reserve(&bl->importers, bl->n_ts) != ER_OK)
        goto cleanup;
    for (size_t i = 0; i < bl->n_ts; i++)
        if ((st = er_bl_trader_add(&bl->importers, bl->ts[i].h, IMPORTER_CH, bl->ts[i].date, bl->ts[i].n)) != ER_OK) {
            st = er_errf(err, st, "out of memory (or a count overflow) deriving importer novelty");
            goto cleanup;
        }
    size_t k = 0;
    for (size_t i = 0; i < bl->importers.cap; i++)
        if (bl->importers.e[i].h)
            c[k++] = bl->importers.e[i].n;
    st = ER_ENOMEM;
    if (nov_build(&bl->imp_nov, c, k) != ER_OK)
        goto cleanup;
    st = ER_OK;
cleanup:
    if (st == ER_ENOMEM)
        er_errf(err, ER_ENOMEM, "out of memory deriving trader novelty");
    free(ca);
    free(c);
    return st;
}

er_status er_bl_derive(er_baseline *bl, er_err *err)
{
    er_bl_gsl_quiet();
    /* Sorted route and trader arrays (serialisation order, per-group runs);
     * a loader that read them in that order already filled them. */
    bool keep_rs = bl->rs_ready && bl->rs && bl->n_rs == bl->routes.n;
    bool keep_ts = bl->ts_ready && bl->ts && bl->n_ts == bl->traders.n;
    bl->rs_ready = bl->ts_ready = false;
    if (!keep_rs) {
        free(bl->rs);
        bl->n_rs = 0;
        if (!(bl->rs = er_big_alloc((bl->routes.n + 1) * sizeof *bl->rs)))
            return er_errf(err, ER_ENOMEM, "out of memory deriving baseline statistics");
        for (size_t i = 0; i < bl->routes.cap; i++)
            if (bl->routes.e[i].key)
                bl->rs[bl->n_rs++] = bl->routes.e[i];
        qsort(bl->rs, bl->n_rs, sizeof *bl->rs, cmp_route);
    }
    if (!keep_ts) {
        free(bl->ts);
        bl->n_ts = 0;
        if (!(bl->ts = er_big_alloc((bl->traders.n + 1) * sizeof *bl->ts)) || sort_traders(bl) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory deriving baseline statistics");
    }

    for (size_t i = 0; i < bl->gs.n; i++) {
        group *g = &bl->gs.g[i];
        uv_derive(g);
        memset(&g->m2, 0, sizeof g->m2);
        memset(&g->m3, 0, sizeof g->m3);
        if (g->level != LV_HS6) {
            mv_derive(&g->mv2, 2, &g->m2);
            mv_derive(&g->mv3, 3, &g->m3);
        }
        g->r_off = g->r_len = 0;
        g->traders = 0;
        group_free_derived(g);
        g->route_k = 0;
    }
    for (size_t i = 0; i < bl->n_rs;) {
        size_t j = i;
        uint64_t gk = bl->rs[i].key >> 32;
        uint64_t sum = 0;
        while (j < bl->n_rs && (bl->rs[j].key >> 32) == gk) {
            sum += bl->rs[j].count;
            j++;
        }
        group *g = er_bl_gs_get(&bl->gs, (int)(gk >> 20), (uint32_t)(gk & 0xfffff), false);
        if (!g || g->level == LV_HS6 || g->route_n != sum)
            return er_errf(err, ER_EBASELINE, "route counts do not match their group's route total");
        g->r_off = i;
        g->r_len = j - i;
        if (routes_derive(g, bl->rs + i, j - i) != ER_OK)
            return er_errf(err, ER_ENOMEM, "out of memory deriving route statistics");
        i = j;
    }
    for (size_t i = 0; i < bl->gs.n; i++)
        if (bl->gs.g[i].route_n && !bl->gs.g[i].r_len)
            return er_errf(err, ER_EBASELINE, "a group has a route total but no routes");
    group *all = er_bl_gs_get(&bl->gs, LV_ALL, 0, false);
    for (size_t i = 0; i < bl->n_ts; i++) {
        group *g = er_bl_gs_get(&bl->gs, LV_HS2, bl->ts[i].ch, false);
        if (!g || !all)
            return er_errf(err, ER_EBASELINE, "first-seen entry for chapter %02u has no group",
                           (unsigned)bl->ts[i].ch);
        g->traders++;
        all->traders++;
    }
    for (size_t i = 0; i < bl->gs.n; i++) {
        group *g = &bl->gs.g[i];
        if (g->traders > g->imp_rows)
            return er_errf(err, ER_EBASELINE, "group has more first-seen traders than importer rows");
        g->p_new = ((double)g->traders + 1.0) / ((double)g->imp_rows + 1.0);
    }
    return novelty_derive(bl, all, err);
}

/* ---- describe (baseline show) ---- */

typedef struct dbuf {
    char  *p;
    size_t n, cap;
    bool   oom;
} dbuf;

static void dprintf_(dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dprintf_(dbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    if (!b->p) {
        b->p = malloc(4096);
        if (!b->p) {
            b->oom = true;
            return;
        }
        b->cap = 4096;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = (b->cap + (size_t)k + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static void cc_str(uint16_t cc, char out[3])
{
    if (!cc) {
        out[0] = '\0';
        return;
    }
    out[0] = ER_CC_A(cc);
    out[1] = ER_CC_B(cc);
    out[2] = '\0';
}

static int cmp_route_count_desc(const void *a, const void *b)
{
    const route_ent *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static void describe_group(dbuf *b, const er_baseline *bl, const group *g)
{
    char key[11];
    er_bl_group_key(g, key);
    dprintf_(b, "{\"level\":\"%s\",\"group\":\"%s\",\"rows\":%llu,\"n\":%llu,\"usable\":%s",
             er_level_str((er_level)g->level), key, (unsigned long long)g->rows,
             (unsigned long long)g->n, g->n >= bl->min_group ? "true" : "false");
    if (g->n) {
        dprintf_(b, ",\"log_unit_value\":{\"median\":%.17g,\"mad\":%.17g,\"scale\":%.17g,"
                    "\"mean\":%.17g,\"sd\":%.17g,\"percentiles\":{",
                 g->median, g->mad, g->scale, g->mean, g->sd);
        for (int i = 0; i < N_PCT; i++)
            dprintf_(b, "%s\"p%02d\":%.17g", i ? "," : "", (int)lrint(er_bl_pct_levels[i] * 100), g->pct[i]);
        dprintf_(b, "}},\"unit_value\":{\"median\":%.6g,\"p05\":%.6g,\"p95\":%.6g,"
                    "\"low_below_p01\":%.6g,\"high_above_p01\":%.6g}",
                 exp(g->median), exp(g->pct[1]), exp(g->pct[5]),
                 exp(g->median - 2.3263478740408408 * g->scale),
                 exp(g->median + 2.3263478740408408 * g->scale));
    }
    if (g->level != LV_HS6) {
        const mv_model *ms[2] = {&g->m2, &g->m3};
        const mv_sums *ss[2] = {&g->mv2, &g->mv3};
        for (int k = 0; k < 2; k++) {
            int dim = k + 2;
            dprintf_(b, ",\"mv%d\":{\"n\":%llu,\"ok\":%s", dim, (unsigned long long)ss[k]->n,
                     ms[k]->ok ? "true" : "false");
            if (ms[k]->ok) {
                dprintf_(b, ",\"mean\":[");
                for (int i = 0; i < dim; i++)
                    dprintf_(b, "%s%.17g", i ? "," : "", ms[k]->mu[i]);
                dprintf_(b, "],\"cov\":[");
                for (int i = 0; i < dim * (dim + 1) / 2; i++)
                    dprintf_(b, "%s%.17g", i ? "," : "", ms[k]->cov[i]);
                dprintf_(b, "]");
            }
            dprintf_(b, "}");
        }
        dprintf_(b, ",\"routes\":{\"n\":%llu,\"distinct\":%u,\"unseen_p\":%.17g,\"top\":[",
                 (unsigned long long)g->route_n, g->route_k,
                 1.0 / ((double)g->route_n + (double)g->route_k + 1.0));
        size_t k = g->r_len;
        route_ent *top = k ? malloc(k * sizeof *top) : NULL;
        if (top) {
            memcpy(top, bl->rs + g->r_off, k * sizeof *top);
            qsort(top, k, sizeof *top, cmp_route_count_desc);
            for (size_t i = 0; i < k && i < 10; i++) {
                char o[3], d[3];
                cc_str((uint16_t)(top[i].key >> 16), o);
                cc_str((uint16_t)top[i].key, d);
                dprintf_(b, "%s{\"origin\":\"%s\",\"destination\":\"%s\",\"count\":%llu}", i ? "," : "",
                         o, d, (unsigned long long)top[i].count);
            }
            free(top);
        } else if (k) {
            b->oom = true;
        }
        dprintf_(b, "]}");
    }
    if (g->level == LV_HS2 || g->level == LV_ALL)
        dprintf_(b, ",\"traders\":{\"importer_rows\":%llu,\"distinct\":%llu,\"new_p\":%.17g,"
                 "\"ordinary_from\":%llu,\"max\":%llu}",
                 (unsigned long long)g->imp_rows, (unsigned long long)g->traders,
                 ((double)g->traders + 1.0) / ((double)g->imp_rows + 1.0), (unsigned long long)g->nov.c05,
                 (unsigned long long)g->nov.cmax);
    if (g->level == LV_ALL)
        dprintf_(b, ",\"importers\":{\"distinct\":%llu,\"new_p\":%.17g,\"ordinary_from\":%llu,\"max\":%llu}",
                 (unsigned long long)bl->imp_nov.k, bl->imp_nov.m ? er_bl_novelty_p(&bl->imp_nov, 0) : 1.0,
                 (unsigned long long)bl->imp_nov.c05, (unsigned long long)bl->imp_nov.cmax);
    dprintf_(b, "}");
}

char *er_baseline_describe(const er_baseline *bl, const char *hs)
{
    dbuf b = {0};
    char d0[11], d1[11];
    er_date_format(bl->date_min, d0);
    er_date_format(bl->date_max, d1);
    uint32_t c6 = 0, c4 = 0, c2 = 0;
    char q[ER_HS_MAX + 1];   /* digits only: "2903.45" and "2903 45" are 290345 */
    size_t nq = 0;
    for (const char *p = hs ? hs : ""; *p && nq < ER_HS_MAX; p++)
        if (*p >= '0' && *p <= '9')
            q[nq++] = *p;
    q[nq] = '\0';
    int lv = er_bl_hs_codes(q, &c6, &c4, &c2);
    dprintf_(&b, "{\"baseline\":{\"id\":\"%s\",\"format\":%d,\"rows\":%llu,\"date_min\":\"%s\","
                 "\"date_max\":\"%s\",\"min_group\":%u},\"hs\":\"",
             bl->id, ER_BASELINE_FORMAT, (unsigned long long)bl->rows, bl->rows ? d0 : "",
             bl->rows ? d1 : "", bl->min_group);
    dprintf_(&b, "%s\",\"groups\":[", q);
    int first = 1;
    const int levels[4] = {LV_HS6, LV_HS4, LV_HS2, LV_ALL};
    const uint32_t codes[4] = {c6, c4, c2, 0};
    const char *uv_level = "none";
    for (int i = 0; i < 4; i++) {
        if (levels[i] < lv)
            continue;
        const group *g = er_bl_gs_find(&bl->gs, levels[i], codes[i]);
        if (!g)
            continue;
        if (!strcmp(uv_level, "none") && g->n >= bl->min_group)
            uv_level = er_level_str((er_level)g->level);
        if (!first)
            dprintf_(&b, ",");
        first = 0;
        describe_group(&b, bl, g);
    }
    dprintf_(&b, "],\"unit_value_level\":\"%s\"}", uv_level);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
