/*
 * baseline_bin.c — the binary baseline file (docs/scoring.md, "Binary
 * baseline file"): the same content as the JSON file plus every derived
 * structure the scorer reads (histograms, sorted route and first-seen arrays,
 * the route, first-seen and importer lookup tables, route and novelty tails),
 * little-endian, 8-byte aligned, with an XXH64 checksum. A loaded file is
 * mapped read-only and used in place: nothing is parsed, rebuilt or copied
 * except the small per-group records. The JSON file stays the exchange and
 * audit form; both load through er_baseline_load (by magic bytes) and give
 * the same baseline id and the same scores.
 *
 * Every count, offset, capacity and order is checked at load, so a hostile
 * file (even one with a valid checksum) is rejected and can never make a
 * lookup read outside the mapping or probe forever. On a large file the
 * checksum is computed on a thread of its own while those checks run (each
 * reads the whole file once); a mismatch is reported before anything else.
 */
#include "stats/baseline_impl.h"
#include "core/bigmem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(sizeof(route_ent) == 16 && offsetof(route_ent, count) == 8, "route_ent layout");
static_assert(sizeof(trader_ent) == 24 && offsetof(trader_ent, n) == 8 && offsetof(trader_ent, date) == 16 &&
                  offsetof(trader_ent, ch) == 20, "trader_ent layout");

#define BIN_LAYOUT   1u
#define HDR_WORDS    32u
#define NOV_WORDS    7u
#define GROUP_WORDS  115u
#define DATE_LO      (-719468)    /* 0000-03-01 */
#define DATE_HI      2932896      /* 9999-12-31 */

const char er_bl_bin_magic[8] = {'E', 'R', 'B', 'L', 'B', 'I', 'N', '\n'};

/* ---- XXH64 (seed 0) ---- */

#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}
static inline uint64_t xround(uint64_t acc, uint64_t in) { return rotl(acc + in * P2, 31) * P1; }
static inline uint64_t xmerge(uint64_t acc, uint64_t v) { return (acc ^ xround(0, v)) * P1 + P4; }

uint64_t er_bl_xxh64(const void *data, size_t len)
{
    const unsigned char *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = (uint64_t)0 - P1;
        const unsigned char *lim = end - 32;
        do {
            v1 = xround(v1, rd64(p));
            v2 = xround(v2, rd64(p + 8));
            v3 = xround(v3, rd64(p + 16));
            v4 = xround(v4, rd64(p + 24));
            p += 32;
        } while (p <= lim);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = xmerge(h, v1);
        h = xmerge(h, v2);
        h = xmerge(h, v3);
        h = xmerge(h, v4);
    } else {
        h = P5;
    }
    h += (uint64_t)len;
    for (; p + 8 <= end; p += 8)
        h = rotl(h ^ xround(0, rd64(p)), 27) * P1 + P4;
    if (p + 4 <= end) {
        uint32_t k;
        memcpy(&k, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        k = __builtin_bswap32(k);
#endif
        h = rotl(h ^ ((uint64_t)k * P1), 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++)
        h = rotl(h ^ (*p * P5), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* ---- word cursor: one routine writes and reads a group record ---- */

typedef struct cur {
    uint64_t *w;
    size_t    i;
    bool      wr;
} cur;

static void cu(cur *c, uint64_t *v)
{
    if (c->wr) c->w[c->i] = *v; else *v = c->w[c->i];
    c->i++;
}
#define CU(c, x) do { uint64_t t_ = (uint64_t)(x); cu(c, &t_); (x) = (__typeof__(x))t_; } while (0)
static void cd(cur *c, double *x)
{
    uint64_t t;
    memcpy(&t, x, 8);
    cu(c, &t);
    memcpy(x, &t, 8);
}
static void ci(cur *c, i128 *x)
{
    unsigned __int128 u = (unsigned __int128)*x;
    uint64_t lo = (uint64_t)u, hi = (uint64_t)(u >> 64);
    cu(c, &lo);
    cu(c, &hi);
    *x = (i128)(((unsigned __int128)hi << 64) | lo);
}

static void mv_io(cur *c, mv_sums *m)
{
    CU(c, m->n);
    for (int i = 0; i < 3; i++) ci(c, &m->s[i]);
    for (int i = 0; i < 6; i++) ci(c, &m->c[i]);
}

static void model_io(cur *c, mv_model *m)
{
    CU(c, m->ok);
    for (int i = 0; i < 3; i++) cd(c, &m->mu[i]);
    for (int i = 0; i < 6; i++) cd(c, &m->L[i]);
    for (int i = 0; i < 6; i++) cd(c, &m->cov[i]);
}

/* Scalars of a novelty tail; the pool offset of its arrays (val, sum_le,
 * k_le: m words each, then p_tab: n_tab doubles) goes through *off. */
static void nov_io(cur *c, nov_tail *t, uint64_t *off)
{
    CU(c, t->k);
    CU(c, t->rows);
    CU(c, t->m);
    CU(c, t->c05);
    CU(c, t->cmax);
    CU(c, t->n_tab);
    cu(c, off);
}

static void group_io(cur *c, group *g, uint64_t *nov_off, uint64_t *rc_off)
{
    CU(c, g->level);
    CU(c, g->code);
    CU(c, g->n);
    CU(c, g->rows);
    CU(c, g->route_n);
    CU(c, g->imp_rows);
    CU(c, g->traders);
    CU(c, g->route_k);
    CU(c, g->n_rc);
    CU(c, g->route_c05);
    CU(c, g->route_cmax);
    cd(c, &g->median);
    cd(c, &g->scale);
    cd(c, &g->uv_lo);
    cd(c, &g->uv_hi);
    cd(c, &g->p_new);
    cd(c, &g->mad);
    cd(c, &g->mean);
    cd(c, &g->sd);
    for (int i = 0; i < N_PCT; i++) cd(c, &g->pct[i]);
    CU(c, g->bin_first);
    CU(c, g->bin_last);
    CU(c, g->r_off);
    CU(c, g->r_len);
    ci(c, &g->s);
    ci(c, &g->ss);
    mv_io(c, &g->mv2);
    mv_io(c, &g->mv3);
    model_io(c, &g->m2);
    model_io(c, &g->m3);
    nov_io(c, &g->nov, nov_off);
    cu(c, rc_off);
}

/* ---- saving ---- */

typedef struct pool {
    uint64_t *w;
    size_t    n, cap;
} pool;

static bool pool_put(pool *p, const void *src, size_t words, uint64_t *off)
{
    if (p->n + words > p->cap) {
        size_t nc = p->cap ? p->cap : 4096;
        while (nc < p->n + words) nc *= 2;
        uint64_t *nw = realloc(p->w, nc * 8);
        if (!nw) return false;
        p->w = nw;
        p->cap = nc;
    }
    *off = p->n;
    if (words) memcpy(p->w + p->n, src, words * 8);
    p->n += words;
    return true;
}

static bool pool_nov(pool *p, const nov_tail *t, uint64_t *off)
{
    uint64_t o2;
    return pool_put(p, t->val, t->m, off) && pool_put(p, t->sum_le, t->m, &o2) &&
           pool_put(p, t->k_le, t->m, &o2) && pool_put(p, t->p_tab, t->n_tab, &o2);
}

static void put_traders(unsigned char *dst, const trader_tab *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        const trader_ent *e = &t->e[i];
        unsigned char *d = dst + 24 * i;
        memcpy(d, &e->h, 8);
        memcpy(d + 8, &e->n, 8);
        memcpy(d + 16, &e->date, 4);
        d[20] = e->ch;
    }
}

/* The lookup tables of bl rebuilt in canonical order (sorted arrays, one
 * insertion each, minimal capacity): the file depends on the content only. */
static er_status canonical_tables(const er_baseline *bl, const route_ent *rs, route_tab *r, trader_tab *t,
                                  trader_tab *im)
{
    if (er_bl_route_reserve(r, bl->n_rs) || er_bl_trader_reserve(t, bl->n_ts) ||
        er_bl_trader_reserve(im, bl->importers.n))
        return ER_ENOMEM;
    for (size_t i = 0; i < bl->n_rs; i++)
        if (er_bl_route_add(r, rs[i].key, rs[i].count)) return ER_ENOMEM;
    if (er_bl_trader_insert_all(t, bl->ts, bl->n_ts)) return ER_ENOMEM;
    for (size_t i = 0; i < bl->n_ts; i++)
        if (er_bl_trader_add(im, bl->ts[i].h, IMPORTER_CH, bl->ts[i].date, bl->ts[i].n)) return ER_ENOMEM;
    return ER_OK;
}

/* The groups in canonical order (ALL, HS2, HS4, HS6, each by code). */
static size_t *group_perm(const group_set *gs)
{
    size_t *o = malloc((gs->n + 1) * sizeof *o), k = 0;
    if (!o) return NULL;
    static const int lv[4] = {LV_ALL, LV_HS2, LV_HS4, LV_HS6};
    static const uint32_t lim[4] = {1, 100, 10000, 1000000};
    for (int l = 0; l < 4; l++)
        for (uint32_t c = 0; c < lim[l] && k < gs->n; c++) {
            const group *g = er_bl_gs_find(gs, lv[l], c);
            if (g) o[k++] = (size_t)(g - gs->g);
        }
    return o;
}

er_status er_bl_save_bin(const er_baseline *bl, const char *path, er_err *err)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return er_errf(err, ER_EINVAL, "%s: binary baselines are written on little-endian hosts only", path);
#endif
    er_status st = ER_ENOMEM;
    route_tab r = {0};
    trader_tab t = {0}, im = {0};
    pool pl = {0};
    unsigned char *buf = NULL;
    size_t *perm = NULL, *r_off = NULL;
    route_ent *rs = NULL;
    uint64_t *nov_off = NULL, *rc_off = NULL, imp_off = 0;
    size_t ng = bl->gs.n;
    if (!(perm = group_perm(&bl->gs)) || !(nov_off = calloc(ng + 1, 8)) || !(rc_off = calloc(ng + 1, 8)) ||
        !(rs = malloc((bl->n_rs + 1) * sizeof *rs)) || !(r_off = calloc(ng + 1, sizeof *r_off)))
        goto cleanup;
    /* route runs in group order (the JSON file's order, whatever order derive
     * left them in), and the lookup table filled in that order */
    size_t at = 0;
    for (size_t i = 0; i < ng; i++) {
        const group *g = &bl->gs.g[perm[i]];
        r_off[i] = at;
        for (size_t j = 0; j < g->r_len && at < bl->n_rs; j++)
            rs[at++] = bl->rs[g->r_off + j];
    }
    if (canonical_tables(bl, rs, &r, &t, &im))
        goto cleanup;
    for (size_t i = 0; i < ng; i++) {
        const group *g = &bl->gs.g[perm[i]];
        uint64_t o2;
        if (!pool_nov(&pl, &g->nov, &nov_off[i]) || !pool_put(&pl, g->rc_val, g->n_rc, &rc_off[i]) ||
            !pool_put(&pl, g->rc_cum, g->n_rc, &o2))
            goto cleanup;
    }
    if (!pool_nov(&pl, &bl->imp_nov, &imp_off))
        goto cleanup;
    size_t o_groups = HDR_WORDS * 8, o_hist = o_groups + ng * GROUP_WORDS * 8,
           o_rs = o_hist + ng * HIST_BINS * 8, o_ts = o_rs + bl->n_rs * 16, o_rt = o_ts + bl->n_ts * 24,
           o_tt = o_rt + r.cap * 16, o_it = o_tt + t.cap * 24, o_pool = o_it + im.cap * 24,
           size = o_pool + pl.n * 8;
    if (!(buf = calloc(1, size)))
        goto cleanup;
    uint64_t *h = (uint64_t *)buf;
    memcpy(h, er_bl_bin_magic, 8);
    h[1] = BIN_LAYOUT | (uint64_t)ER_BASELINE_FORMAT << 32;
    h[3] = size;
    h[4] = bl->min_group;
    h[5] = bl->rows;
    h[6] = (uint64_t)(int64_t)bl->date_min;
    h[7] = (uint64_t)(int64_t)bl->date_max;
    memcpy(h + 8, bl->id, 32);
    h[12] = ng;
    h[13] = bl->n_rs;
    h[14] = bl->n_ts;
    h[15] = r.cap;
    h[16] = t.cap;
    h[17] = im.cap;
    h[18] = pl.n;
    nov_tail inov = bl->imp_nov;
    cur hc = {h, 19, true};
    nov_io(&hc, &inov, &imp_off);
    for (size_t i = 0; i < at; i++) {
        memcpy(buf + o_rs + 16 * i, &rs[i].key, 8);
        memcpy(buf + o_rs + 16 * i + 8, &rs[i].count, 8);
    }
    for (size_t i = 0; i < ng; i++) {
        group g = bl->gs.g[perm[i]];
        g.r_off = r_off[i];
        cur c = {(uint64_t *)(buf + o_groups) + i * GROUP_WORDS, 0, true};
        group_io(&c, &g, &nov_off[i], &rc_off[i]);
        memcpy(buf + o_hist + i * HIST_BINS * 8, g.hist, HIST_BINS * 8);
    }
    trader_tab ts = {bl->ts, bl->n_ts, bl->n_ts};
    put_traders(buf + o_ts, &ts);
    for (size_t i = 0; i < r.cap; i++) {
        memcpy(buf + o_rt + 16 * i, &r.e[i].key, 8);
        memcpy(buf + o_rt + 16 * i + 8, &r.e[i].count, 8);
    }
    put_traders(buf + o_tt, &t);
    put_traders(buf + o_it, &im);
    if (pl.n) memcpy(buf + o_pool, pl.w, pl.n * 8);
    h[2] = er_bl_xxh64(buf + 24, size - 24);
    st = er_bl_write_file(path, (const char *)buf, size, size, NULL, err);
cleanup:
    if (st == ER_ENOMEM)
        er_errf(err, ER_ENOMEM, "out of memory writing the binary baseline");
    free(buf);
    free(r_off);
    free(rs);
    free(rc_off);
    free(nov_off);
    free(perm);
    free(pl.w);
    er_big_cfree(im.e, im.cap * sizeof *im.e);
    er_big_cfree(t.e, t.cap * sizeof *t.e);
    er_big_cfree(r.e, r.cap * sizeof *r.e);
    return st;
}

/* ---- loading ---- */

typedef struct bl_ld {
    const char          *file;
    er_err              *err;
    const unsigned char *base;
    size_t               size;
    const uint64_t      *pool;
    uint64_t             pool_words;
} bl_ld;

static er_status bad(bl_ld *L, const char *what)
{
    return er_errf(L->err, ER_EBASELINE, "%s: binary baseline: %s (file corrupt or not written by ecorisk)", L->file,
                   what);
}

/* off + words within the pool (no overflow). */
static bool in_pool(const bl_ld *L, uint64_t off, uint64_t words)
{
    return off <= L->pool_words && words <= L->pool_words - off;
}

static er_status nov_map(bl_ld *L, nov_tail *t, uint64_t off)
{
    uint64_t m = t->m;
    if (t->n_tab > NOVELTY_TAB_MAX || m > L->pool_words / 3 || !in_pool(L, off, 3 * m + t->n_tab))
        return bad(L, "novelty tail out of bounds");
    /* every read is below m or n_tab: an empty array is never dereferenced */
    t->val = (uint64_t *)(L->pool + off);
    t->sum_le = t->val + m;
    t->k_le = t->val + 2 * m;
    t->p_tab = (double *)(t->val + 3 * m);
    return ER_OK;
}

static bool group_key_ok(int level, uint32_t code)
{
    switch (level) {
    case LV_HS6: return code < 1000000;
    case LV_HS4: return code < 10000;
    case LV_HS2: return code < 100;
    case LV_ALL: return code == 0;
    default: return false;
    }
}

static bool i128_within(i128 v, i128 lim) { return v <= lim && v >= -lim; }

/* The ranges the JSON loader enforces on counts and fixed-point sums, so that
 * merging and deriving never overflow (see baseline_impl.h). */
static bool mv_ok(const mv_sums *m, uint64_t n_max, int k)
{
    if (m->n > n_max)
        return false;
    for (int i = 0; i < k; i++)
        if (!i128_within(m->s[i], (i128)m->n << 26)) return false;
    for (int i = 0; i < k * (k + 1) / 2; i++)
        if (!i128_within(m->c[i], (i128)m->n << 52)) return false;
    for (int i = k; i < 3; i++)
        if (m->s[i]) return false;
    for (int i = k * (k + 1) / 2; i < 6; i++)
        if (m->c[i]) return false;
    return true;
}

static bool sums_ok(const group *g)
{
    return g->rows <= MAX_GROUP_ROWS && g->n <= g->rows && g->route_n <= g->rows && g->imp_rows <= g->rows &&
           i128_within(g->s, (i128)g->n << 26) && i128_within(g->ss, (i128)g->n << 52) &&
           mv_ok(&g->mv2, g->n, 2) && mv_ok(&g->mv3, g->n, 3);
}

/* Whole counts adding up to n, as in the JSON file. */
static bool hist_ok(const double *h, uint64_t n)
{
    uint64_t tot = 0;
    for (size_t i = 0; i < HIST_BINS; i++) {
        double v = h[i];
        if (!(v >= 0 && v <= (double)n) || v != (double)(uint64_t)v)
            return false;
        tot += (uint64_t)v;
    }
    return tot == n;
}

static er_status load_groups(bl_ld *L, er_baseline *bl, uint64_t ng, uint64_t n_rs, size_t o_groups, size_t o_hist)
{
    for (uint64_t i = 0; i < ng; i++) {
        group g;
        memset(&g, 0, sizeof g);
        uint64_t nov_off = 0, rc_off = 0;
        cur c = {(uint64_t *)(L->base + o_groups) + i * GROUP_WORDS, 0, false};
        uint64_t lv, code;
        memcpy(&lv, c.w, 8);
        memcpy(&code, c.w + 1, 8);
        group_io(&c, &g, &nov_off, &rc_off);
        if (lv > 255 || code > UINT32_MAX || !group_key_ok((int)lv, (uint32_t)code))
            return bad(L, "group with an invalid level or code");
        if (er_bl_gs_find(&bl->gs, (int)lv, (uint32_t)code))
            return bad(L, "duplicate group");
        group *dst = er_bl_gs_get(&bl->gs, (int)lv, (uint32_t)code, true);
        if (!dst)
            return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
        free(dst->hist);
        g.hist = (double *)(L->base + o_hist + i * HIST_BINS * 8);
        *dst = g;
        if (!sums_ok(&g) || !hist_ok(g.hist, g.n))
            return bad(L, "group counts, sums or histogram out of range");
        if (g.bin_first > g.bin_last || g.bin_last >= HIST_BINS || g.r_off > n_rs || g.r_len > n_rs - g.r_off)
            return bad(L, "group histogram or route run out of bounds");
        if (g.n_rc > L->pool_words / 2 || !in_pool(L, rc_off, 2 * (uint64_t)g.n_rc))
            return bad(L, "route tail out of bounds");
        dst->rc_val = g.n_rc ? (uint64_t *)(L->pool + rc_off) : NULL;
        dst->rc_cum = g.n_rc ? dst->rc_val + g.n_rc : NULL;
        er_status st = nov_map(L, &dst->nov, nov_off);
        if (st) return st;
    }
    return ER_OK;
}

static bool date_ok(int64_t d) { return d >= DATE_LO && d <= DATE_HI; }

/* Sorted arrays: strictly increasing keys, valid fields. */
static er_status check_arrays(bl_ld *L, const er_baseline *bl)
{
    for (size_t i = 0; i < bl->n_rs; i++)
        if (!bl->rs[i].key || !bl->rs[i].count ||
            (i && (bl->rs[i - 1].key >> 32) == (bl->rs[i].key >> 32) && bl->rs[i - 1].key >= bl->rs[i].key))
            return bad(L, "route entries not sorted or empty");
    for (size_t i = 0; i < bl->n_ts; i++) {
        const trader_ent *t = &bl->ts[i], *p = i ? t - 1 : NULL;
        if (!t->h || !t->n || t->ch >= 100 || !date_ok(t->date) ||
            (p && (p->ch > t->ch || (p->ch == t->ch && p->h >= t->h))))
            return bad(L, "first-seen entries not sorted or invalid");
    }
    return ER_OK;
}

/* A lookup table: capacity a power of two, at least one empty slot (so a
 * probe ends), entries counted; dates valid (printed by describe). */
static er_status check_tab(bl_ld *L, size_t cap, size_t esz, const unsigned char *e, size_t *n_out)
{
    if (cap & (cap - 1))
        return bad(L, "lookup table size not a power of two");
    size_t n = 0;
    for (size_t i = 0; i < cap; i++) {
        uint64_t k;
        memcpy(&k, e + i * esz, 8);
        if (!k) continue;
        n++;
        if (esz == 24) {
            int32_t d;
            memcpy(&d, e + i * esz + 16, 4);
            if (!date_ok(d)) return bad(L, "lookup table entry with an invalid date");
        }
    }
    if (cap && n >= cap)
        return bad(L, "lookup table without an empty slot");
    *n_out = n;
    return ER_OK;
}

/* Section offsets from the counts in the header; false on overflow or when
 * they do not add up to the file size. */
static bool layout(const uint64_t *h, size_t size, size_t o[9])
{
    const uint64_t per[8] = {GROUP_WORDS * 8, HIST_BINS * 8, 16, 24, 16, 24, 24, 8};
    const uint64_t cnt[8] = {h[12], h[12], h[13], h[14], h[15], h[16], h[17], h[18]};
    uint64_t at = HDR_WORDS * 8;
    for (int i = 0; i < 8; i++) {
        o[i] = (size_t)at;
        if (cnt[i] > (size - at) / per[i])
            return false;
        at += cnt[i] * per[i];
    }
    o[8] = (size_t)at;
    return at == size;
}

/* Everything behind the header's first words, checked. */
static er_status load_sections(bl_ld *L, er_baseline *bl)
{
    const uint64_t *h = (const uint64_t *)L->base;
    size_t o[9];
    if (!layout(h, L->size, o))
        return bad(L, "section sizes do not add up to the file size");
    if (h[4] == 0 || h[4] > UINT32_MAX || h[5] > INT64_MAX || h[15] > SIZE_MAX / 2)
        return bad(L, "header field out of range");
    int64_t dmin = (int64_t)h[6], dmax = (int64_t)h[7];
    if (!date_ok(dmin) || !date_ok(dmax) || (h[5] && dmin > dmax))
        return bad(L, "invalid date range");
    char id[33];
    memcpy(id, h + 8, 32);
    id[32] = '\0';
    if (strspn(id, "0123456789abcdef") != 32)
        return bad(L, "invalid id");
    bl->min_group = (unsigned)h[4];
    bl->rows = h[5];
    bl->date_min = (int32_t)dmin;
    bl->date_max = (int32_t)dmax;
    memcpy(bl->id, id, 33);
    L->pool = (const uint64_t *)(L->base + o[7]);
    L->pool_words = h[18];
    bl->n_rs = h[13];
    bl->n_ts = h[14];
    bl->rs = (route_ent *)(L->base + o[2]);
    bl->ts = (trader_ent *)(L->base + o[3]);
    bl->routes.e = (route_ent *)(L->base + o[4]);
    bl->routes.cap = h[15];
    bl->traders.e = (trader_ent *)(L->base + o[5]);
    bl->traders.cap = h[16];
    bl->importers.e = (trader_ent *)(L->base + o[6]);
    bl->importers.cap = h[17];
    er_status st;
    uint64_t imp_off = 0;
    cur hc = {(uint64_t *)h, 19, false};
    nov_io(&hc, &bl->imp_nov, &imp_off);
    if ((st = nov_map(L, &bl->imp_nov, imp_off)) || (st = load_groups(L, bl, h[12], h[13], o[0], o[1])) ||
        (st = check_arrays(L, bl)) ||
        (st = check_tab(L, bl->routes.cap, 16, L->base + o[4], &bl->routes.n)) ||
        (st = check_tab(L, bl->traders.cap, 24, L->base + o[5], &bl->traders.n)) ||
        (st = check_tab(L, bl->importers.cap, 24, L->base + o[6], &bl->importers.n)))
        return st;
    if (bl->routes.n != bl->n_rs || bl->traders.n != bl->n_ts || bl->importers.n > bl->n_ts)
        return bad(L, "lookup tables do not match the sorted entries");
    if (!bl->routes.cap) bl->routes.e = NULL;
    if (!bl->traders.cap) bl->traders.e = NULL;
    if (!bl->importers.cap) bl->importers.e = NULL;
    const group *all = er_bl_gs_find(&bl->gs, LV_ALL, 0);
    if ((all ? all->rows : 0) != bl->rows)
        return bad(L, "group \"all\" does not hold the baseline's rows");
    return ER_OK;
}

/* The checksum of the bytes after the first 24 (xxh64). */
typedef struct sum_job {
    const unsigned char *p;
    size_t               n;
    uint64_t             sum;
} sum_job;

static void *sum_run(void *arg)
{
    sum_job *j = arg;
    j->sum = er_bl_xxh64(j->p, j->n);
    return NULL;
}

#define SUM_THREAD_BYTES ((size_t)4 << 20)   /* from this size, the checksum gets a thread */

static er_status load_body(bl_ld *L, er_baseline *bl)
{
    const uint64_t *h = (const uint64_t *)L->base;
    if (L->size < HDR_WORDS * 8)
        return bad(L, "truncated header");
    if ((uint32_t)h[1] != BIN_LAYOUT || (h[1] >> 32) != ER_BASELINE_FORMAT)
        return er_errf(L->err, ER_EVERSION, "%s: binary baseline layout %u of format %u, this ecorisk reads layout %u "
                       "of format %d: convert it from its JSON form or rebuild it", L->file, (unsigned)(uint32_t)h[1],
                       (unsigned)(h[1] >> 32), BIN_LAYOUT, ER_BASELINE_FORMAT);
    if (h[3] != L->size)
        return bad(L, "file size differs from the header (truncated?)");
    sum_job j = {L->base + 24, L->size - 24, 0};
    pthread_t th;
    bool threaded = L->size >= SUM_THREAD_BYTES && pthread_create(&th, NULL, sum_run, &j) == 0;
    if (!threaded)
        sum_run(&j);
    er_status st = load_sections(L, bl);
    if (threaded)
        pthread_join(th, NULL);
    if (j.sum != h[2])
        return bad(L, "checksum mismatch");
    return st;
}

void er_bl_bin_detach(er_baseline *bl)
{
    if (!bl->map)
        return;
    for (size_t i = 0; i < bl->gs.n; i++) {
        group *g = &bl->gs.g[i];
        g->hist = NULL;
        g->rc_val = g->rc_cum = NULL;
        memset(&g->nov, 0, sizeof g->nov);
    }
    memset(&bl->imp_nov, 0, sizeof bl->imp_nov);
    memset(&bl->routes, 0, sizeof bl->routes);
    memset(&bl->traders, 0, sizeof bl->traders);
    memset(&bl->importers, 0, sizeof bl->importers);
    bl->rs = NULL;
    bl->ts = NULL;
    if (bl->map_heap)
        free(bl->map);
    else
        munmap(bl->map, bl->map_len);
    bl->map = NULL;
}

/* Takes ownership of base (heap: free()d, else munmap()ed) in every case. */
static er_status load_mem(er_baseline **out, const char *file, void *base, size_t size, bool heap, er_err *err)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (heap) free(base); else munmap(base, size);
    return er_errf(err, ER_EVERSION, "%s: binary baselines are read on little-endian hosts only: use the JSON form",
                   file);
#endif
    er_baseline *bl = malloc(sizeof *bl);
    er_status st;
    if (!bl || (st = er_bl_init(bl, DEFAULT_MIN_GROUP, err)) != ER_OK) {
        free(bl);
        if (heap) free(base); else munmap(base, size);
        return er_errf(err, ER_ENOMEM, "%s: out of memory", file);
    }
    bl->map = base;
    bl->map_len = size;
    bl->map_heap = heap;
    bl_ld L = {file, err, base, size, NULL, 0};
    if ((st = load_body(&L, bl)) != ER_OK) {
        er_baseline_free(bl);
        return st;
    }
    *out = bl;
    return ER_OK;
}

er_status er_bl_load_bin_mem(er_baseline **out, const char *file, char *buf, size_t len, er_err *err)
{
    /* buf (from malloc) is 8-byte aligned */
    return load_mem(out, file, buf, len, true, err);
}

er_status er_bl_load_bin_path(er_baseline **out, const char *path, er_err *err)
{
    er_bl_gsl_quiet();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0) {
        close(fd);
        return er_errf(err, ER_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    /* populated up front: one pass of faults instead of one per page while checksumming */
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return er_errf(err, ER_EIO, "%s: cannot map: %s", path, strerror(errno));
    return load_mem(out, path, p, size, false, err);
}
