/*
 * forest.c — the learned model's trees compiled into flat arrays for scoring
 * (docs/scoring.md §7.6): one node array for every tree, children as indices
 * into it, so a declaration's margin is a walk per tree over 16-byte nodes with
 * no XGBoost call. Compiled from the XGBoost JSON the model file stores
 * (learner.gradient_booster.model.trees[]) and exact by construction: the same
 * float comparisons (x < split goes left, a missing value follows the node's
 * default direction) and the same float sum, tree by tree from the base
 * margin, as XGBoost's CPU predictor; tests compare it with XGBoost bit for bit.
 * Only what `learn` trains is compiled (gbtree, binary:logistic, numerical
 * splits, one output); anything else is refused and prediction stays with
 * XGBoost.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/forest_int.h"

#define MAX_NODES    0x40000000u
#define BLOCK        128            /* rows walked together through one tree */

void forest_free(forest *f)
{
    if (!f)
        return;
    shap_free(f);
    free(f->mean);
    free(f->cover);
    free(f->depth);
    free(f->roots);
    free(f->nodes);
    free(f);
}

static json_object *path(json_object *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        if (!json_object_object_get_ex(o, *keys, &o))
            return NULL;
    return o;
}

static bool is_array(json_object *a, size_t n)
{
    return a && json_object_is_type(a, json_type_array) && json_object_array_length(a) == n;
}

/* Longest path from node i (tree-local) to a leaf; 255: deeper than any trained tree. */
static unsigned tree_depth(const fnode *nodes, size_t base, size_t i)
{
    const fnode *x = &nodes[base + i];
    if (x->left == base + i)
        return 0;
    unsigned l = tree_depth(nodes, base, x->left - base), r = tree_depth(nodes, base, x->left + 1 - base);
    unsigned d = 1 + (l > r ? l : r);
    return d > 255 ? 255 : d;
}

/* XGBoost's node mean values (FillNodeMeanValues): a leaf's value, else the
 * children's means weighted by their cover, in float in XGBoost's order. */
static float node_mean(forest *f, size_t i)
{
    const fnode *x = &f->nodes[i];
    float r;
    if (x->left == i) {
        r = x->leaf;
    } else {
        r = node_mean(f, x->left) * f->cover[x->left];
        r += node_mean(f, x->left + 1) * f->cover[x->left + 1];
        r /= f->cover[i];
    }
    f->mean[i] = r;
    return r;
}

/* One tree into f->nodes[f->n_nodes ..): children checked to lie after their
 * parent, inside the tree and side by side (else the booster is not compiled). */
static bool add_tree(forest *f, json_object *t, size_t nf)
{
    static const char *const kn[] = {"tree_param", "num_nodes", NULL};
    json_object *nn = path(t, kn), *lc, *rc, *sc, *si, *dl, *sh, *cats;
    long n = nn ? strtol(json_object_get_string(nn), NULL, 10) : 0;
    if (n <= 0 || f->n_nodes + (size_t)n >= MAX_NODES ||
        !json_object_object_get_ex(t, "left_children", &lc) || !is_array(lc, (size_t)n) ||
        !json_object_object_get_ex(t, "right_children", &rc) || !is_array(rc, (size_t)n) ||
        !json_object_object_get_ex(t, "split_conditions", &sc) || !is_array(sc, (size_t)n) ||
        !json_object_object_get_ex(t, "split_indices", &si) || !is_array(si, (size_t)n) ||
        !json_object_object_get_ex(t, "default_left", &dl) || !is_array(dl, (size_t)n) ||
        !json_object_object_get_ex(t, "sum_hessian", &sh) || !is_array(sh, (size_t)n))
        return false;
    if (json_object_object_get_ex(t, "categories_nodes", &cats) && json_object_array_length(cats) != 0)
        return false;   /* categorical splits: not trained by learn */
    size_t base = f->n_nodes;
    for (long i = 0; i < n; i++) {
        long l = json_object_get_int64(json_object_array_get_idx(lc, (size_t)i));
        long r = json_object_get_int64(json_object_array_get_idx(rc, (size_t)i));
        long k = json_object_get_int64(json_object_array_get_idx(si, (size_t)i));
        float v = (float)json_object_get_double(json_object_array_get_idx(sc, (size_t)i));
        fnode *x = &f->nodes[base + (size_t)i];
        float cov = (float)json_object_get_double(json_object_array_get_idx(sh, (size_t)i));
        if (!(cov > 0.0f) || isinf(cov))
            return false;   /* XGBoost's node means would divide by it */
        f->cover[base + (size_t)i] = cov;
        if (l == -1) {
            *x = (fnode){MISSING_LEFT, INFINITY, (uint32_t)(base + (size_t)i), v};
            continue;
        }
        if (l <= i || r != l + 1 || r >= n || k < 0 || (size_t)k >= nf || isnan(v))
            return false;
        bool missing_left = json_object_get_int(json_object_array_get_idx(dl, (size_t)i)) != 0;
        *x = (fnode){(uint32_t)k | (missing_left ? MISSING_LEFT : 0), v, (uint32_t)(base + (size_t)l), 0.0f};
    }
    f->roots[f->n_trees] = (uint32_t)base;
    f->depth[f->n_trees++] = (uint8_t)tree_depth(f->nodes, base, 0);
    f->n_nodes += (size_t)n;
    f->roots[f->n_trees] = (uint32_t)f->n_nodes;
    if ((size_t)n > f->max_tree_nodes)
        f->max_tree_nodes = (size_t)n;
    node_mean(f, base);
    return true;
}

static size_t count_nodes(json_object *trees)
{
    static const char *const kn[] = {"tree_param", "num_nodes", NULL};
    size_t total = 0;
    for (size_t t = 0; t < json_object_array_length(trees); t++) {
        json_object *nn = path(json_object_array_get_idx(trees, t), kn);
        long n = nn ? strtol(json_object_get_string(nn), NULL, 10) : 0;
        if (n <= 0 || n >= (long)MAX_NODES)
            return 0;
        total += (size_t)n;
    }
    return total;
}

/* XGBoost's ProbToMargin for binary:logistic, in float as it computes it. */
static bool base_margin(json_object *root, float *out)
{
    static const char *const kb[] = {"learner", "learner_model_param", "base_score", NULL};
    static const char *const ko[] = {"learner", "objective", "name", NULL};
    static const char *const kc[] = {"learner", "learner_model_param", "num_class", NULL};
    json_object *b = path(root, kb), *o = path(root, ko), *c = path(root, kc);
    if (!b || !o || strcmp(json_object_get_string(o), "binary:logistic") != 0 ||
        (c && strtol(json_object_get_string(c), NULL, 10) > 1))
        return false;
    float bs = strtof(json_object_get_string(b), NULL);
    if (!(bs > 0.0f && bs < 1.0f))
        return false;
    *out = -logf(1.0f / bs - 1.0f);
    return true;
}

forest *forest_compile(const char *booster, size_t len, size_t nf, bool *nomem)
{
    static const char *const kg[] = {"learner", "gradient_booster", "name", NULL};
    static const char *const kt[] = {"learner", "gradient_booster", "model", "trees", NULL};
    static const char *const kp[] = {"learner", "gradient_booster", "model", "gbtree_model_param",
                                     "num_parallel_tree", NULL};
    forest *f = NULL, *ok = NULL;
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *root = tok ? json_tokener_parse_ex(tok, booster, (int)len) : NULL, *g, *trees, *np;
    *nomem = false;
    if (!tok) {
        *nomem = true;
        goto cleanup;
    }
    if (!root || !(g = path(root, kg)) || strcmp(json_object_get_string(g), "gbtree") != 0 ||
        !(trees = path(root, kt)) || !json_object_is_type(trees, json_type_array) ||
        ((np = path(root, kp)) && strtol(json_object_get_string(np), NULL, 10) != 1))
        goto cleanup;
    size_t nt = json_object_array_length(trees), nn = count_nodes(trees);
    if (!nt || !nn)
        goto cleanup;
    if (!(f = calloc(1, sizeof *f)) || !(f->nodes = malloc(nn * sizeof *f->nodes)) ||
        !(f->roots = malloc((nt + 1) * sizeof *f->roots)) || !(f->depth = malloc(nt)) ||
        !(f->cover = malloc(nn * sizeof *f->cover)) || !(f->mean = malloc(nn * sizeof *f->mean))) {
        *nomem = true;
        goto cleanup;
    }
    if (!base_margin(root, &f->base_margin))
        goto cleanup;
    for (size_t t = 0; t < nt; t++)
        if (!add_tree(f, json_object_array_get_idx(trees, t), nf))
            goto cleanup;
    if (!shap_build(f)) {
        *nomem = true;
        goto cleanup;
    }
    ok = f;
    f = NULL;
cleanup:
    forest_free(f);
    json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    return ok;
}

void forest_margins(const forest *f, const float *rows, size_t n, size_t nf, float *margin)
{
    const fnode *nodes = f->nodes;
    uint32_t at[BLOCK];
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t k = n - b < BLOCK ? n - b : BLOCK;
        const float *blk = rows + b * nf;
        for (size_t r = 0; r < k; r++)
            margin[b + r] = f->base_margin;
        for (size_t t = 0; t < f->n_trees; t++) {
            for (size_t r = 0; r < k; r++)
                at[r] = f->roots[t];
            for (unsigned d = 0; d < f->depth[t]; d++)
                for (size_t r = 0; r < k; r++)
                    at[r] = forest_step(&nodes[at[r]], blk + r * nf);
            for (size_t r = 0; r < k; r++)   /* tree by tree, in float, as XGBoost adds */
                margin[b + r] += nodes[at[r]].leaf;
        }
    }
}
