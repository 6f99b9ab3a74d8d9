/*
 * forest_int.h — the compiled trees' layout, shared by the tree walk
 * (forest.c) and the contributions computed on the same arrays
 * (forest_shap.c). Private to engine/src/model.
 */
#ifndef ECORISK_FOREST_INT_H
#define ECORISK_FOREST_INT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model_int.h"

/* A node. An internal node goes to left + 1 (XGBoost puts a node's children
 * side by side) when its value is not below cond, or when it is missing and
 * the default is right. A leaf points to itself with cond = +inf and the
 * default left, so walking on from a leaf stays there: every row of a block
 * takes the same number of steps through a tree, with no branch on the data. */
typedef struct fnode {
    uint32_t feat;       /* split feature; high bit: a missing value goes left */
    float    cond;       /* split condition; +inf for a leaf */
    uint32_t left;       /* global index of the left child (a leaf: itself) */
    float    leaf;       /* leaf value (0 for an internal node) */
} fnode;

#define MISSING_LEFT 0x80000000u

/* One leaf's share of the SHAP values (forest_shap.c): the d distinct
 * features split on along its path, and a table of 2^d x d values: for each
 * set of those slots whose splits the row follows (bit s: every step of slot
 * s on the path goes the row's way), slot s's contribution from this leaf. */
typedef struct shap_leaf {
    uint32_t node;       /* the leaf's global node index */
    uint32_t feat;       /* first of the d feature indices in slot_feat */
    uint64_t tab;        /* first of the 2^d x d values in tab */
    uint32_t d;
} shap_leaf;

struct forest {
    fnode    *nodes;
    uint32_t *roots;     /* n_trees + 1: tree t holds nodes [roots[t], roots[t + 1]) */
    uint8_t  *depth;     /* steps from the root to the deepest leaf */
    float    *cover;     /* per node: XGBoost's sum_hessian */
    float    *mean;      /* per node: the cover-weighted mean of its leaves, in float as XGBoost */
    size_t    n_trees, n_nodes, max_tree_nodes;
    float     base_margin;
    /* SHAP tables; n_leaves == 0: not built (too large), XGBoost computes them */
    shap_leaf *leaves;
    uint32_t  *leaf_first;   /* n_trees + 1 */
    uint8_t   *node_slot;    /* per internal node: its feature's slot on the paths through it */
    uint32_t  *slot_feat;
    double    *tab;
    size_t     n_leaves;
};

/* One step of a row through node x: its child, or x itself for a leaf. A
 * missing value follows the node's default side. Computed, not branched. */
static inline uint32_t forest_step(const fnode *x, const float *row)
{
    float v = row[x->feat & ~MISSING_LEFT];
    uint32_t right = !(v < x->cond);
    uint32_t miss_left = (uint32_t)(isnan(v) != 0) & (x->feat >> 31);
    return x->left + (right & ~miss_left);
}

/* Rows forest_shap takes through a tree together: its pat scratch holds
 * FOREST_SHAP_BLOCK x the largest tree's nodes (forest_shap_scratch). */
#define FOREST_SHAP_BLOCK 32

/* Builds the SHAP tables of f (false: out of memory; a forest whose tables
 * would pass the size limit gets none and returns true). */
bool shap_build(forest *f);
void shap_free(forest *f);

#endif
