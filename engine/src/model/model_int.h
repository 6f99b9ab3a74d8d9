/*
 * model_int.h — private plumbing of the learned model (model.h): the feature
 * layout, the historical rate tables keyed by hashed categories, the XGBoost
 * wrapper and the model file. Not part of the public API.
 */
#ifndef ECORISK_MODEL_INT_H
#define ECORISK_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/model.h"
#include "core/sbuf.h"

/* Categories with a historical positive rate (docs/scoring.md). Extras given
 * as categories follow these fixed kinds. */
enum {
    K_IMPORTER = 0, K_DECLARANT, K_EXPORTER, K_HS6, K_HS4, K_ORIGIN, K_EXPORT_COUNTRY, K_ORIGIN_HS4,
    K_OFFICE, K_FIXED
};
#define MODEL_MAX_KINDS (K_FIXED + 32)

/* Input fields a feature is computed from, for --without. */
enum { U_NET = 1u << 0, U_VALUE = 1u << 1, U_QTY = 1u << 2, U_GROSS = 1u << 3, U_PACK = 1u << 4 };

/* Open-addressing table: 64-bit category hash (kind mixed in) -> counts. */
typedef struct rate_slot {
    uint64_t key;      /* 0 = empty */
    uint32_t n, pos;
} rate_slot;

typedef struct rate_table {
    rate_slot *s;
    size_t     cap, used;   /* cap: power of two */
} rate_table;

bool       rate_add(rate_table *t, uint64_t key, uint32_t n, uint32_t pos);
const rate_slot *rate_get(const rate_table *t, uint64_t key);
void       rate_free(rate_table *t);

/* The full layout: every feature ecorisk can compute for a profile set and
 * the extras; a model keeps a subset (without). */
typedef struct layout {
    size_t    n_ind;           /* profile indicators first */
    size_t    n_prof;
    size_t   *ind_off;         /* first indicator column of each profile */
    size_t    n;               /* all features */
    char    **names;
    uint32_t *uses;            /* U_* bits */
    size_t    first_rate;      /* index of the first rate feature (2 per kind: rate, n) */
    size_t    first_extra_num;
    size_t    n_kinds;
    char    **kind_names;      /* "importer", ..., "extra.<name>" */
} layout;

struct er_model {
    /* identity */
    char       *profile_set, *baseline_id, *ecorisk_version, *xgb_version, *id;
    char      **profile_ids;
    size_t      n_profiles;
    char      **extra_num, **extra_cat;
    size_t      n_extra_num, n_extra_cat;
    /* features */
    layout      lay;
    size_t      nf;            /* model features */
    size_t     *col;           /* model feature j = full layout column col[j] */
    long       *rate_col;      /* per kind: model column of its rate (-1: left out) */
    char      **feat_names;    /* loaded model: its feature names (nf) */
    bool        bound;
    /* rates */
    rate_table  rates;
    double      prior, smoothing;
    /* booster */
    char       *booster;       /* XGBoost JSON model */
    size_t      booster_len;
    char       *validation;    /* JSON text */
};

#define MODEL_SMOOTHING 10.0

uint64_t  key_hash(unsigned kind, const char *s, size_t n);
/* The category keys of d (0 when the field is absent), in kind order. */
size_t    decl_keys(const er_decl *d, char *const *extra_cat, size_t n_extra_cat, uint64_t *keys);

er_status layout_build(layout *l, const er_profileset *ps, char *const *extra_num, size_t n_num,
                       char *const *extra_cat, size_t n_cat, er_err *err);
void      layout_free(layout *l);
/* Everything but the rate columns, into full[0..l->n). */
void      layout_static_row(const layout *l, const er_decl *d, const er_decl_score *sc, char *const *extra_num,
                            size_t n_num, float *full);
/* Rate columns from counts (n, pos) with prior and smoothing. */
void      layout_rate_cols(const layout *l, size_t kind, uint32_t n, uint32_t pos, double prior, double m,
                           float *full);

/* XGBoost wrapper (booster.c). */
#define BST_MAX_BIN 256
typedef struct bst_params {
    unsigned max_rounds, early_stop, max_depth, threads;
    double   eta;
} bst_params;
typedef struct bst_fit {
    unsigned rounds, best_round;
    double   best_ap;
} bst_fit;
/* Labelled rows as CSR: row i has columns ci[ptr[i]..ptr[i+1]) (ascending) with values cv
 * (NaN = missing), label y[i]. */
typedef struct bst_data {
    const size_t   *ptr;
    const unsigned *ci;
    const float    *cv;
    const float    *y;
    size_t          n, nf;
} bst_data;
/* XGBoost's copies: every row, and the validation rows. */
typedef struct bst_set {
    void  *all, *valid;    /* DMatrixHandle */
    size_t n;
} bst_set;
/* Copies d into XGBoost (d may be freed afterwards); valid[0..nv) are the validation rows in time order. */
er_status bst_open(bst_set *s, const bst_data *d, const size_t *valid, size_t nv, er_err *err);
void      bst_close(bst_set *s);
/* Validation fit on every row with weight train_w (0 for the validation rows), early stopping on the
 * validation rows' aucpr (valid_pred: their probabilities at the best round); then the deployed fit on
 * every row with weight 1 for the best number of rounds, whose JSON bytes *model receives (malloc'd). */
er_status bst_train(bst_set *s, const float *train_w, size_t nv, const bst_params *p, bst_fit *fit,
                    bst_fit *fit_all, char **model, size_t *model_len, double *valid_pred, er_err *err);
const char *bst_version(void);   /* "1.7.4" (static) */

/* The trees compiled for scoring (forest.c). forest_compile returns NULL for a
 * booster it does not compile exactly (then prediction stays with XGBoost);
 * forest_margins writes XGBoost's margin (log-odds) of each of n rows of nf
 * floats (row-major) into margin[0..n). */
typedef struct forest forest;
forest *forest_compile(const char *booster, size_t len, size_t nf, bool *nomem);   /* NULL, *nomem: out of memory */
void    forest_margins(const forest *f, const float *rows, size_t n, size_t nf, float *margin);
void    forest_free(forest *f);
/* Contributions on the compiled trees (forest_shap.c), in er_model_contrib's
 * layout: forest_shap gives the SHAP values (when forest_has_shap; hot:
 * forest_shap_scratch(f) words), forest_paths the path attributions bit for
 * bit as XGBoost (acc: nf + 1 floats of scratch). */
size_t  forest_shap_scratch(const forest *f);
bool    forest_has_shap(const forest *f);
void    forest_shap(const forest *f, const float *rows, size_t n, size_t nf, double *contrib, uint32_t *hot);
void    forest_paths(const forest *f, const float *rows, size_t n, size_t nf, double *contrib, float *acc);

/* Model file (modelfile.c). */
er_status modelfile_write(er_model *m, const char *path, const char *training_json, er_err *err);
/* Per kind: the model column of its rate feature, or -1 (from m->col). */
er_status model_rate_cols(er_model *m, er_err *err);

#endif
