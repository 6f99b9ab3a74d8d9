/*
 * forest_shap.c — a declaration's model contributions computed on the
 * compiled trees (docs/scoring.md §7.6), without XGBoost: the SHAP values of
 * XGBoost's exact path-dependent TreeSHAP (prediction type 2) and the path
 * attributions of its type 3, the latter bit for bit.
 *
 * SHAP. A leaf l with value v whose path splits on the distinct features P
 * (d of them) adds, to a feature i of P,
 *     v (o_i - z_i) sum over S in P\{i} of s!(d-s-1)!/d! prod_{j in S} o_j prod_{j not in S, i} z_j
 * where z_j is the product of the cover ratios (child / parent) of j's steps
 * on the path and o_j is 1 when the row goes the path's way at every one of
 * them (a missing value takes the default side), else 0. That is Lundberg's
 * TreeSHAP summed leaf by leaf; since each o_j is 0 or 1 the sum depends on
 * the row only through which of the d slots it follows, so each leaf keeps a
 * table of 2^d x d values computed once when the model loads (the idea of
 * FastTreeSHAP v2, Yang 2022). A row then costs, per tree, one step per node,
 * which carries the set of slots followed down to the leaves, and per leaf one
 * table row of d additions: no d^2 path algebra per leaf and row as in
 * TreeSHAP. The values equal XGBoost's up to float
 * rounding (XGBoost works in float, this in double); test_model checks them
 * against XGBoost on thousands of rows.
 *
 * The tables are built only while they stay below SHAP_MAX_VALUES in all
 * (the benchmark's 72 trees of depth 6 take 250,000); a forest past it
 * leaves its SHAP values to XGBoost.
 */
#include <stdlib.h>
#include <string.h>

#include "model/forest_int.h"

#define SHAP_MAX_VALUES (1u << 22)   /* 32 MB of doubles */
#define SHAP_MAX_SLOTS  16

void shap_free(forest *f)
{
    free(f->tab);
    free(f->slot_feat);
    free(f->node_slot);
    free(f->leaf_first);
    free(f->leaves);
    f->tab = NULL;
    f->slot_feat = f->leaf_first = NULL;
    f->node_slot = NULL;
    f->leaves = NULL;
    f->n_leaves = 0;
}

/* Walk state while the leaves are listed: the path from the root. */
typedef struct walk {
    forest  *f;
    uint32_t node[256], child[256];
    size_t   n_leaves, n_feats, n_values;
    unsigned max_d;
    bool     too_big;
} walk;

static unsigned distinct_feats(const walk *w, size_t len)
{
    unsigned d = 0;
    for (size_t k = 0; k < len; k++) {
        uint32_t fk = w->f->nodes[w->node[k]].feat & ~MISSING_LEFT;
        size_t j = 0;
        while (j < k && (w->f->nodes[w->node[j]].feat & ~MISSING_LEFT) != fk)
            j++;
        d += j == k;
    }
    return d;
}

/* The table of one leaf: z[s] per slot, v the leaf value, into tab[2^d x d]. */
static void leaf_table(const double *z, unsigned d, double v, double *tab, double *e, double *zc)
{
    unsigned full = (1u << d) - 1;
    double w[SHAP_MAX_SLOTS + 1], fact[SHAP_MAX_SLOTS + 1];
    fact[0] = 1;
    for (unsigned k = 1; k <= d; k++)
        fact[k] = fact[k - 1] * k;
    for (unsigned s = 0; s < d; s++)
        w[s] = fact[s] * fact[d - s - 1] / fact[d];
    /* e[O][k]: k-th elementary symmetric sum of the z of the slots in O;
     * zc[O]: product of the z of the slots not in O */
    for (unsigned O = 0; O <= full; O++) {
        double *eo = e + (size_t)O * (d + 1);
        memset(eo, 0, (d + 1) * sizeof *eo);
        if (!O) {
            eo[0] = 1;
        } else {
            unsigned b = (unsigned)__builtin_ctz(O);
            const double *ep = e + (size_t)(O & (O - 1)) * (d + 1);
            eo[0] = 1;
            for (unsigned k = 1; k <= d; k++)
                eo[k] = ep[k] + z[b] * ep[k - 1];
        }
        zc[O] = 1;
        for (unsigned s = 0; s < d; s++)
            if (!(O & (1u << s)))
                zc[O] *= z[s];
    }
    for (unsigned O = 0; O <= full; O++)
        for (unsigned s = 0; s < d; s++) {
            unsigned bit = 1u << s, rest = O & ~bit, m = (unsigned)__builtin_popcount(rest);
            const double *er = e + (size_t)rest * (d + 1);
            double sum = 0;
            for (unsigned q = 0; q <= m; q++)
                sum += w[q] * er[m - q];
            tab[(size_t)O * d + s] = v * ((O & bit ? 1.0 : 0.0) - z[s]) * zc[O | bit] * sum;
        }
}

/* Lists the leaves under node i at depth len (count only when fill is false). */
static bool list_leaves(walk *w, uint32_t i, size_t len, bool fill, double *e, double *zc)
{
    forest *f = w->f;
    const fnode *x = &f->nodes[i];
    if (x->left != i) {
        if (len >= 255)
            return false;
        for (uint32_t c = x->left; c <= x->left + 1; c++) {
            w->node[len] = i;
            w->child[len] = c;
            if (!list_leaves(w, c, len + 1, fill, e, zc))
                return false;
        }
        return true;
    }
    unsigned d = distinct_feats(w, len);
    if (d > SHAP_MAX_SLOTS || w->n_values + ((size_t)d << d) > SHAP_MAX_VALUES) {
        w->too_big = true;
        return true;
    }
    if (fill) {
        shap_leaf *lf = &f->leaves[w->n_leaves];
        double z[SHAP_MAX_SLOTS] = {0};
        unsigned slots = 0;
        *lf = (shap_leaf){i, (uint32_t)w->n_feats, w->n_values, d};
        for (size_t k = 0; k < len; k++) {
            uint32_t fk = f->nodes[w->node[k]].feat & ~MISSING_LEFT;
            /* the cover ratio in float, as XGBoost's zero fractions */
            float ratio = f->cover[w->child[k]] / f->cover[w->node[k]];
            unsigned s = 0;
            while (s < slots && f->slot_feat[w->n_feats + s] != fk)
                s++;
            if (s == slots) {
                f->slot_feat[w->n_feats + slots++] = fk;
                z[s] = 1.0f;
            }
            z[s] = (float)(z[s] * ratio);
            /* slots number the features in order of first use from the root, so a
             * node's slot is the same on every path through it */
            f->node_slot[w->node[k]] = (uint8_t)s;
        }
        leaf_table(z, d, x->leaf, f->tab + w->n_values, e, zc);
    }
    if (d > w->max_d)
        w->max_d = d;
    w->n_leaves++;
    w->n_feats += d;
    w->n_values += (size_t)d << d;
    return true;
}

bool shap_build(forest *f)
{
    walk w = {.f = f};
    double *e = NULL, *zc = NULL;
    bool ok = false;
    for (size_t t = 0; t < f->n_trees && !w.too_big; t++)
        if (!list_leaves(&w, f->roots[t], 0, false, NULL, NULL))
            w.too_big = true;
    if (w.too_big)
        return true;   /* XGBoost computes this forest's SHAP values */
    size_t n_leaves = w.n_leaves, n_feats = w.n_feats, n_values = w.n_values;
    unsigned max_d = w.max_d;
    if (!(f->leaves = malloc((n_leaves ? n_leaves : 1) * sizeof *f->leaves)) ||
        !(f->leaf_first = malloc((f->n_trees + 1) * sizeof *f->leaf_first)) ||
        !(f->node_slot = calloc(f->n_nodes, 1)) ||
        !(f->slot_feat = malloc((n_feats ? n_feats : 1) * sizeof *f->slot_feat)) ||
        !(f->tab = malloc((n_values ? n_values : 1) * sizeof *f->tab)) ||
        !(e = malloc(((size_t)(max_d + 1) << max_d) * sizeof *e)) ||
        !(zc = malloc(((size_t)1 << max_d) * sizeof *zc)))
        goto cleanup;
    w = (walk){.f = f};
    for (size_t t = 0; t < f->n_trees; t++) {
        f->leaf_first[t] = (uint32_t)w.n_leaves;
        list_leaves(&w, f->roots[t], 0, true, e, zc);
    }
    f->leaf_first[f->n_trees] = (uint32_t)w.n_leaves;
    f->n_leaves = n_leaves;
    ok = true;
cleanup:
    free(zc);
    free(e);
    if (!ok)
        shap_free(f);
    return ok;
}

bool forest_has_shap(const forest *f) { return f->n_leaves > 0; }

size_t forest_shap_scratch(const forest *f) { return FOREST_SHAP_BLOCK * f->max_tree_nodes; }

/* Rows go through the trees in blocks: one tree's tables (tens of KB) serve
 * every row of the block while they are in cache, instead of each row
 * walking all of them (megabytes) and missing the cache at every leaf. And
 * leaf by leaf, the rows of the block take turns: the leaves of a tree add to
 * the same few features (every path passes the root), and additions to one
 * row's sums wait on each other, to different rows' do not. */
void forest_shap(const forest *f, const float *rows, size_t n, size_t nf, double *contrib, uint32_t *pat)
{
    float bias[FOREST_SHAP_BLOCK];
    size_t stride = f->max_tree_nodes;
    for (size_t b = 0; b < n; b += FOREST_SHAP_BLOCK) {
        size_t k = n - b < FOREST_SHAP_BLOCK ? n - b : FOREST_SHAP_BLOCK;
        double *cb = contrib + b * (nf + 1);
        memset(cb, 0, k * (nf + 1) * sizeof *contrib);
        memset(bias, 0, sizeof bias);
        for (size_t t = 0; t < f->n_trees; t++) {
            uint32_t root = f->roots[t], end = f->roots[t + 1];
            /* pat[r][node]: the slots whose steps so far go row r's way (nodes
             * come after their parent, so one pass in order) */
            for (size_t r = 0; r < k; r++) {
                const float *row = rows + (b + r) * nf;
                uint32_t *pr = pat + r * stride;   /* indexed by node - root */
                pr[0] = ~0u;
                for (uint32_t i = root; i < end; i++) {
                    const fnode *x = &f->nodes[i];
                    if (x->left == i)
                        continue;
                    uint32_t p = pr[i - root], bit = 1u << f->node_slot[i];
                    uint32_t went_left = forest_step(x, row) == x->left;
                    pr[x->left - root] = p & ~(bit * !went_left);
                    pr[x->left + 1 - root] = p & ~(bit * went_left);
                }
                bias[r] += f->mean[root];
            }
            for (uint32_t l = f->leaf_first[t]; l < f->leaf_first[t + 1]; l++) {
                const shap_leaf *lf = &f->leaves[l];
                const double *tl = f->tab + lf->tab;
                const uint32_t *feat = f->slot_feat + lf->feat;
                uint32_t mask = (1u << lf->d) - 1, at = lf->node - root;
                for (size_t r = 0; r < k; r++) {
                    const double *tv = tl + (size_t)(pat[r * stride + at] & mask) * lf->d;
                    double *c = cb + r * (nf + 1);
                    for (unsigned s = 0; s < lf->d; s++)
                        c[feat[s]] += tv[s];
                }
            }
        }
        for (size_t r = 0; r < k; r++)
            cb[r * (nf + 1) + nf] = (double)(bias[r] + f->base_margin);
    }
}

/* XGBoost's CalculateContributionsApprox: along the row's path each split's
 * change of the node mean goes to its feature; per tree in float, then added
 * to the row's float sums, the bias last with the base margin, as XGBoost. */
void forest_paths(const forest *f, const float *rows, size_t n, size_t nf, double *contrib, float *acc)
{
    for (size_t r = 0; r < n; r++) {
        const float *row = rows + r * nf;
        memset(acc, 0, (nf + 1) * sizeof *acc);
        for (size_t t = 0; t < f->n_trees; t++) {
            uint32_t feats[256];
            float tree[256];
            size_t m = 0;
            uint32_t i = f->roots[t];
            float node_value = f->mean[i];
            while (f->nodes[i].left != i) {
                uint32_t fk = f->nodes[i].feat & ~MISSING_LEFT;
                i = forest_step(&f->nodes[i], row);
                size_t j = 0;
                while (j < m && feats[j] != fk)
                    j++;
                if (j == m) {
                    feats[m] = fk;
                    tree[m++] = 0.0f;
                }
                tree[j] += f->mean[i] - node_value;
                node_value = f->mean[i];
            }
            for (size_t j = 0; j < m; j++)
                acc[feats[j]] += tree[j];
            acc[nf] += f->mean[f->roots[t]];
        }
        acc[nf] += f->base_margin;
        for (size_t j = 0; j <= nf; j++)
            contrib[r * (nf + 1) + j] = acc[j];
    }
}
