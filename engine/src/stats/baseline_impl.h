/*
 * baseline_impl.h — private representation of a baseline shared by the
 * statistics sources (baseline.c: build, derive, merge, describe;
 * baseline_io.c: JSON save/load; anomaly.c: features). Not installed.
 *
 * Everything that is merged is an integer: counts, histogram bins, and the
 * moments as fixed-point sums (x quantised to 2^-20, sums of x and of x·y in
 * 128-bit integers). Integer addition is associative and commutative, so a
 * merge of shards is bit-identical to one build over all rows, and every
 * derived float (median, MAD, mean, covariance, Cholesky factor, route tails)
 * is computed from those integers by the same code: identical too.
 */
#ifndef ECORISK_BASELINE_IMPL_H
#define ECORISK_BASELINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mix64.h"
#include "ecorisk/baseline.h"

typedef __int128 i128;

/* Fixed global histogram of log(unit value, reference currency per kg):
 * HIST_BINS bins of width 1/16 over [HIST_LO, HIST_HI); values outside are
 * counted in the edge bins (the moments keep the clamped value, see XCLAMP). */
#define HIST_LO    (-16.0)
#define HIST_HI    24.0
#define HIST_PER   16                       /* bins per unit of log */
#define HIST_W     (1.0 / HIST_PER)
#define HIST_BINS  640

/* Fixed-point moments: q = llrint(x * QSCALE), x clamped to ±XCLAMP. */
#define QSCALE     1048576.0                 /* 2^20 */
#define XCLAMP     64.0
/* Rows per group above which the 128-bit cross products could overflow. */
#define MAX_GROUP_ROWS (1ULL << 36)

#define DEFAULT_MIN_GROUP 30u
#define UV_MAD_K   1.4826                  /* MAD → σ for normal data */
#define UV_EMP_CAP 0.05                    /* empirical floor applies below this p */
#define UV_Z90     1.2815515655446004      /* Φ⁻¹(0.9): (Q90 − Q10)/(2·UV_Z90) → σ */
#define NOVELTY_ALPHA 0.05                 /* p defining the novelty expected range */
#define NOVELTY_TAB_MAX 4096               /* counts whose novelty p is tabulated */
#define IMPORTER_CH 0xff                   /* chapter key of importer-level entries */
#define ROUTE_ALPHA 0.05                   /* tail mass defining route expected range */

enum { LV_HS6 = ER_LEVEL_HS6, LV_HS4 = ER_LEVEL_HS4, LV_HS2 = ER_LEVEL_HS2, LV_ALL = ER_LEVEL_ALL };

/* Multivariate sums over rows having all k dimensions: n, Σx_i, Σx_i·x_j (j ≤ i,
 * row-major lower triangle: 00, 10, 11, 20, 21, 22). */
typedef struct mv_sums {
    uint64_t n;
    i128     s[3];
    i128     c[6];
} mv_sums;

/* Derived multivariate model: mean and Cholesky factor L (lower, same packing). */
/* Trader novelty tail (docs/scoring.md 3.4): the trader counts n_t of a
 * group (importer x chapter pairs, or importers) sorted into distinct values
 * with, for each value v, Σ n_t over n_t ≤ v and #{n_t ≤ v}, so that
 * S(c) = Σ_t min(n_t, c + 1) is one binary search away:
 * p(c) = (1 + S(c)) / (rows + 1). */
typedef struct nov_tail {
    uint64_t  k, rows;       /* traders, Σ n_t */
    uint32_t  m;             /* distinct counts */
    uint64_t *val, *sum_le, *k_le;
    uint64_t  c05, cmax;     /* smallest count with p > NOVELTY_ALPHA; largest count */
    double   *p_tab;         /* p(c) for c < n_tab = min(cmax + 1, NOVELTY_TAB_MAX) */
    uint32_t  n_tab;
} nov_tail;

typedef struct mv_model {
    bool   ok;
    double mu[3];
    double L[6];
    double cov[6];
} mv_model;

#define N_PCT 7
extern const double er_bl_pct_levels[N_PCT];   /* 0.01 0.05 0.25 0.5 0.75 0.95 0.99 */

typedef struct group {
    /* hot for er_anomaly_compute: first two cache lines */
    uint8_t  level;          /* LV_* */
    uint32_t code;           /* numeric HS prefix (0 for ALL) */
    uint64_t n;              /* with a computable log unit value */
    double   median, scale;  /* derived: robust centre and scale of log unit value */
    double   uv_lo, uv_hi;   /* derived: exp of the 5th and 95th percentiles */
    uint64_t route_n;        /* rows with a known origin (route) */
    uint32_t route_k;        /* derived: distinct routes */
    uint32_t n_rc;           /* derived: distinct route counts */
    uint64_t *rc_val;        /* derived: sorted distinct route counts */
    uint64_t *rc_cum;        /* derived: 1 + Σ (c_i + 1) over routes with c_i ≤ rc_val[j] */
    uint64_t route_c05;      /* derived: smallest count whose tail exceeds ROUTE_ALPHA */
    uint64_t route_cmax;
    uint64_t imp_rows;       /* rows with an importer (HS2 and ALL) */
    uint64_t traders;        /* derived: distinct (importer, chapter) first-seen entries */
    double   p_new;          /* derived: (traders + 1) / (imp_rows + 1) */
    nov_tail nov;            /* derived: pair counts (HS2 and ALL) */
    mv_model m2, m3;         /* derived */
    /* accumulators */
    uint64_t rows;           /* declarations in the group */
    i128     s, ss;          /* Σq, Σq² of log unit value */
    double  *hist;           /* HIST_BINS counts (gsl_histogram bins) */
    mv_sums  mv2, mv3;       /* (luv, lmass) and (luv, lmass, lkgpp); HS4 and up */
    /* derived, cold */
    double   mad, mean, sd;
    double   pct[N_PCT];
    uint16_t bin_first, bin_last;   /* derived: first and last non-empty bins */
    size_t   r_off, r_len;   /* this group's run in er_baseline.rs */
} group;

/* Route counts: key = level<<52 | code<<32 | origin<<16 | destination. */
typedef struct route_ent {
    uint64_t key;
    uint64_t count;
} route_ent;

/* First-seen table: (importer hash, chapter) → first date and number of
 * declarations. h == 0 = empty. The importer-level table uses the same entry
 * with ch = IMPORTER_CH. */
typedef struct trader_ent {
    uint64_t h;
    uint64_t n;
    int32_t  date;
    uint8_t  ch;
} trader_ent;

typedef struct route_tab {
    route_ent *e;
    size_t     cap, n;       /* cap power of two */
} route_tab;

typedef struct trader_tab {
    trader_ent *e;
    size_t      cap, n;
} trader_tab;

/* Groups plus direct-index lookup by level and code (index + 1, 0 = none). */
typedef struct group_set {
    group    *g;
    size_t    n, cap;
    uint32_t *idx6;          /* 1,000,000 */
    uint32_t  idx4[10000];
    uint32_t  idx2[100];
    uint32_t  idx_all;
} group_set;

struct er_baseline {
    unsigned   min_group;
    uint64_t   rows;
    int32_t    date_min, date_max;   /* 0 when no rows */
    group_set  gs;
    route_tab  routes;
    trader_tab traders;
    trader_tab importers;    /* derived: per importer, min first-seen and Σ counts */
    nov_tail   imp_nov;      /* derived: importer counts over ALL */
    /* derived: sorted copies (serialisation order; per-group route runs, each
     * contiguous and sorted, found through group.r_off / r_len) */
    route_ent  *rs;
    size_t      n_rs;
    trader_ent *ts;
    size_t      n_ts;
    bool        rs_ready, ts_ready;   /* rs / ts already filled in order by the loader */
    char       *text;        /* canonical text with a zero id, kept for save (or NULL) */
    void       *map;         /* binary file the arrays and tables point into (or NULL) */
    size_t      map_len;
    bool        map_heap;    /* map is a malloc'd copy (read from a pipe), not a mapping */
    size_t      text_len, text_id_off;
    char       id[33];
};

struct er_baseline_builder {
    er_baseline bl;          /* direct accumulators; rolled up at finish */
};

/* group_set */
er_status er_bl_gs_init(group_set *gs);
void      er_bl_gs_free(group_set *gs);
group    *er_bl_gs_get(group_set *gs, int level, uint32_t code, bool create);
const group *er_bl_gs_find(const group_set *gs, int level, uint32_t code);
void      er_bl_group_key(const group *g, char out[11]);
int       er_bl_level_digits(int level);

/* hash tables */
er_status er_bl_route_add(route_tab *t, uint64_t key, uint64_t count);
uint64_t  er_bl_route_get(const route_tab *t, uint64_t key);
/* First-seen = min(date), count += n; ER_ELIMIT if the count would overflow. */
er_status er_bl_trader_add(trader_tab *t, uint64_t h, uint8_t ch, int32_t date, uint64_t n);
const trader_ent *er_bl_trader_get(const trader_tab *t, uint64_t h, uint8_t ch);
/* Room for `more` further entries without rehashing (a loader that knows its count). */
er_status er_bl_route_reserve(route_tab *t, size_t more);
er_status er_bl_trader_reserve(trader_tab *t, size_t more);
/* Insert n entries of distinct keys (a loader's sorted list), prefetching ahead. */
er_status er_bl_trader_insert_all(trader_tab *t, const trader_ent *e, size_t n);
uint64_t  er_bl_importer_hash(const char *s);
void      er_bl_tables_free(er_baseline *bl);   /* route and first-seen tables */

/* Table slot hashes (shared by the tables and the prefetching batch paths). */
static inline uint64_t er_bl_mix64(uint64_t x) { return er_mix64(x); }
static inline uint64_t er_bl_route_slot(uint64_t key) { return er_bl_mix64(key); }
static inline uint64_t er_bl_trader_slot(uint64_t h, uint8_t ch)
{
    return er_bl_mix64(h ^ ((uint64_t)ch * 0x9e3779b97f4a7c15ULL));
}

static inline uint64_t er_bl_route_key(int level, uint32_t code, uint16_t o, uint16_t d)
{
    return ((uint64_t)level << 52) | ((uint64_t)code << 32) | ((uint64_t)o << 16) | d;
}

/* baseline life cycle */
er_status er_bl_init(er_baseline *bl, unsigned min_group, er_err *err);
void      er_bl_clear(er_baseline *bl);
/* Compute every derived field (after build roll-up, merge or load); the id
 * comes from er_bl_hash, or on load from the verified file text. */
er_status er_bl_derive(er_baseline *bl, er_err *err);
/* Add src's content into dst (groups, routes, traders, rows, dates). */
er_status er_bl_add(er_baseline *dst, const er_baseline *src, er_err *err);

/* Histogram statistics (exposed for tests): counts h[HIST_BINS] with total n. */
size_t er_bl_hist_bin(double x);   /* bin of log unit value x (clamped to the edges) */
double er_bl_hist_quantile(const double *h, uint64_t n, double q);
double er_bl_hist_mad(const double *h, uint64_t n, double median);
/* Histogram mass at least as extreme as x (below x, or above when upper),
 * counts spread evenly inside their bin; x beyond the edges is clamped.
 * first..last: the non-empty bins (nothing outside is read). */
double er_bl_hist_tail(const double *h, size_t first, size_t last, double x, bool upper);
/* Robust scale s = max(UV_MAD_K·mad, (q90 − q10)/(2·UV_Z90), HIST_W/2). */
double er_bl_robust_scale(double mad, double q10, double q90);
/* Tail p-values with the contamination floor (anomaly.c, docs/scoring.md 3):
 * lower tail of the robust z in a group of n rows, and the Mahalanobis tail of
 * d² with k dimensions over n rows. */
double er_bl_uv_p_low(double z, uint64_t n);
double er_bl_maha_p(double d2, int k, uint64_t n);
/* Novelty p of a trader with c declarations in the history behind tail t. */
double er_bl_novelty_p(const nov_tail *t, uint64_t c);

/* Serialisation (baseline_io.c): canonical JSON text; malloc'd, *len set. */
char *er_bl_serialize(const er_baseline *bl, size_t *len, const char *id);
/* Content hash of bl's canonical text (32 hex) into bl->id; keep_text: keep
 * that text (with a zero id) for a following save. */
er_status er_bl_hash(er_baseline *bl, bool keep_text, er_err *err);
/* Content hash of a baseline text (whose id field holds 32 zeros) as 32 hex digits. */
void er_bl_text_id(const char *txt, size_t len, char id[33]);

/* Write len bytes of txt to path (or stdout for "-") through a temporary
 * file renamed into place, with the 32 characters at id_off replaced by id
 * (id_off >= len: written as is). */
er_status er_bl_write_file(const char *path, const char *txt, size_t len, size_t id_off, const char *id,
                           er_err *err);

/* Binary form (baseline_bin.c). */
extern const char er_bl_bin_magic[8];
uint64_t  er_bl_xxh64(const void *data, size_t len);
er_status er_bl_save_bin(const er_baseline *bl, const char *path, er_err *err);
er_status er_bl_load_bin_path(er_baseline **out, const char *path, er_err *err);
/* Loads from a malloc'd buffer, which it takes over (freed on failure too). */
er_status er_bl_load_bin_mem(er_baseline **out, const char *file, char *buf, size_t len, er_err *err);
/* Drops every pointer into bl->map and releases it (er_bl_clear calls it). */
void      er_bl_bin_detach(er_baseline *bl);

/* Per-declaration inputs (anomaly.c and the builder agree on them). */
typedef struct decl_x {
    bool   has_uv, has_kgpp;
    double uv;               /* value_ref / net_kg */
    double x[3];             /* log uv, log net_kg, log kg per package/unit */
} decl_x;
void er_bl_decl_x(const er_decl *d, decl_x *out);

/* Parse the leading HS digits: sets codes for levels 6/4/2; returns the finest
 * level available (LV_HS6 .. LV_ALL). */
int er_bl_hs_codes(const char *hs, uint32_t *c6, uint32_t *c4, uint32_t *c2);

/* Turn GSL's abort-on-error handler off and set up the shared histogram
 * ranges (idempotent, thread-safe). */
void er_bl_gsl_quiet(void);
/* Chi-square upper tail Q(x, k) (anomaly.c). */
double er_bl_chisq_Q(double x, int k);
/* The HIST_BINS + 1 fixed bin edges shared by every group's gsl_histogram. */
extern double er_bl_hist_range[HIST_BINS + 1];
/* gsl_cdf_chisq_Qinv(0.05, k) for k = 0..3 (Mahalanobis expected range). */
extern double er_bl_chi2_95[4];

#endif
