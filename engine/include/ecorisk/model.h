/*
 * model.h — the learned model (docs/scoring.md, "Learned model"): a
 * gradient-boosted tree model (XGBoost) trained on inspection outcomes, over
 * the indicators of every loaded profile, the continuous anomaly features,
 * derived numbers, novelty counts and smoothed historical positive rates of
 * the parties, commodities, countries and offices a declaration names.
 *
 * er_learn trains and writes a model file (one JSON document recording the
 * ecorisk and XGBoost versions, the feature list, the profile set and
 * baseline it was trained with, the periods, the validation metrics, the
 * rate tables and the booster). er_model_load reads it back; a loaded model
 * is read-only and may be shared by threads for feature extraction, but each
 * thread predicts with its own er_model_pred.
 */
#ifndef ECORISK_MODEL_H
#define ECORISK_MODEL_H

#include "ecorisk/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/analyst.h"
#include "ecorisk/baseline.h"
#include "ecorisk/decl.h"
#include "ecorisk/profile.h"
#include "ecorisk/score.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

#define ER_MODEL_FORMAT 1
#define ER_MODEL_MAX_FEATURES 4096

typedef struct er_model er_model;

typedef struct er_learn_opts {
    er_analyst_input   in;            /* labelled feeds, baseline, --label-field / --outcomes */
    const char *const *profiles;      /* packs whose indicators become features */
    size_t             n_profiles;
    const char *const *extra_numeric; /* extras used as numbers (non-numbers: missing) */
    size_t             n_extra_numeric;
    const char *const *extra_category;/* extras used as categories (smoothed positive rate) */
    size_t             n_extra_category;
    const char *const *without;       /* feature names, or input fields (net_kg, value, ...) whose features are left out */
    size_t             n_without;
    int32_t            valid_from;    /* validation = labelled rows dated on/after; 0: the latest 20 % in time order, ties in feed order */
    unsigned           max_rounds;    /* 0: 2000 */
    unsigned           early_stop;    /* rounds without improvement of validation AP; 0: 50 */
    double             eta;           /* 0: 0.2 */
    unsigned           max_depth;     /* 0: 6 */
    unsigned           threads;       /* XGBoost nthread; 0: 2 */
    const char        *out;           /* model file */
} er_learn_opts;

/* Train, validate (time-ordered, early stopping), refit on all labels and
 * write o->out. *json / *table receive the report (malloc'd; free()). */
er_status er_learn(const er_learn_opts *o, char **json, char **table, er_err *err);

er_status er_model_load(er_model **out, const char *path, er_err *err);
void      er_model_free(er_model *m);

/* Bind a loaded model to the profile set and baseline of a run before use:
 * refuses a model trained with other packs or another baseline (ER_EFORMAT
 * naming both ids) and maps its features onto the set's indicators.
 * bl may be NULL (no baseline: the model must have been trained without). */
er_status er_model_bind(er_model *m, const er_profileset *ps, const er_baseline *bl, er_err *err);

size_t      er_model_n_features(const er_model *m);
const char *er_model_feature_name(const er_model *m, size_t j);   /* borrowed, lives with m */
const char *er_model_id(const er_model *m);                       /* content hash (hex), borrowed */
/* The model's validation summary as JSON text (borrowed, lives with m). */
const char *er_model_validation(const er_model *m);

/* Feature row of one scored declaration (sc from er_score_decl with the set
 * the model was trained with): row[0..er_model_n_features) (NaN = missing). */
void er_model_features(const er_model *m, const er_decl *d, const er_decl_score *sc, float *row);

/* Prediction state (one per thread). */
typedef struct er_model_pred er_model_pred;
er_status er_model_pred_new(er_model_pred **out, const er_model *m, er_err *err);
void      er_model_pred_free(er_model_pred *p);
/* Probabilities of n rows (row-major, n x n_features): σ(margin) in double of
 * the trees' margin, from the trees compiled into flat arrays (no XGBoost call)
 * when the booster compiles, else from XGBoost's margins; the same either way. */
er_status er_model_predict(er_model_pred *p, const float *rows, size_t n, double *prob, er_err *err);
/* XGBoost's own margins of n rows (for tests and the fallback). */
er_status er_model_margin_xgb(er_model_pred *p, const float *rows, size_t n, float *margin, er_err *err);
/* Whether p scores with the compiled trees. */
bool      er_model_pred_compiled(const er_model_pred *p);
/* SHAP contributions of n rows (row-major): for row i, contrib[i * (n_features + 1) + j]
 * for feature j and contrib[i * (n_features + 1) + n_features] the bias; they add up to
 * the log-odds of the row. XGBoost's exact path-dependent TreeSHAP values, computed on
 * the compiled trees from per-leaf tables (docs/scoring.md §7.6; equal to XGBoost's up
 * to float rounding), or by XGBoost when the booster did not compile. */
er_status er_model_contrib(er_model_pred *p, const float *rows, size_t n, double *contrib, er_err *err);
/* The same layout with path attributions (XGBoost's approximate contributions:
 * each split's change of the node value goes to its feature along the row's
 * path): they add up to the log-odds too, at the cost of a tree walk, but are
 * not SHAP values (not consistent). Computed on the compiled trees bit for bit
 * as XGBoost. The run gives them to top-up candidates only (docs/scoring.md §7.5). */
er_status er_model_contrib_path(er_model_pred *p, const float *rows, size_t n, double *contrib, er_err *err);
/* XGBoost's own contributions of n rows in the same layout: shap true, exact
 * TreeSHAP (prediction type 2); false, path attributions (type 3). For tests and
 * the fallback. */
er_status er_model_contrib_xgb(er_model_pred *p, const float *rows, size_t n, bool shap, double *contrib,
                               er_err *err);

/* Words an analyst reads for feature j with value v of declaration d, e.g.
 * "importer: 7 of 9 earlier inspections positive". Writes into buf. */
void er_model_describe(const er_model *m, size_t j, const er_decl *d, const float *row, char *buf, size_t len);

/* The model's view of one declaration as a JSON object appended to out (an
 * er_sb of the library, opaque here): model id, probability, log-odds, bias,
 * method ("shap"; er_model_explain_row: "path" when shap is false) and the
 * contributions ordered by absolute size, each with feature, value,
 * contribution and words; top = 0: all non-zero ones. */
typedef struct er_sb er_sb_t;
er_status er_model_explain(const er_model *m, er_model_pred *p, const er_decl *d, const er_decl_score *sc,
                           size_t top, er_sb_t *out, er_err *err);
/* The same object from what the caller already has: d's feature row, its probability and
 * its contributions (n_features + 1, from er_model_contrib). */
void er_model_explain_row(const er_model *m, const er_decl *d, const float *row, double prob, const double *contrib,
                          bool shap, size_t top, er_sb_t *out);

ER_END_DECLS
#endif
