/*
 * baseline.h — the statistical baseline built from history (docs/scoring.md) and
 * the anomaly features computed against it (anomaly.h), with GSL.
 *
 * Build: a builder accumulates declarations (any number of feeds), then
 * finishes into an immutable er_baseline. Baselines built on shards merge
 * exactly (counts, moments, histograms and route counts add; first-seen takes
 * the minimum), so merge(build(A), build(B)) == build(A ∪ B).
 * Saved as one versioned JSON file (exchange and audit form) or a binary file
 * mapped at load (same content and id); the baseline id is a content hash.
 * A loaded baseline is read-only and may be shared by threads.
 */
#ifndef ECORISK_BASELINE_H
#define ECORISK_BASELINE_H

#include "ecorisk/api.h"
#include <stdio.h>
#include "ecorisk/anomaly.h"
#include "ecorisk/decl.h"
#include "ecorisk/status.h"

ER_BEGIN_DECLS

#define ER_BASELINE_FORMAT 3

typedef struct er_baseline er_baseline;
typedef struct er_baseline_builder er_baseline_builder;

typedef struct er_baseline_opts {
    unsigned min_group;      /* rows a group needs before it is used (default 30) */
} er_baseline_opts;

er_status er_baseline_builder_new(er_baseline_builder **out, const er_baseline_opts *opts, er_err *err);
void      er_baseline_builder_free(er_baseline_builder *b);
er_status er_baseline_builder_add(er_baseline_builder *b, const er_decl *d, er_err *err);
/* Same as calling er_baseline_builder_add on d[0..n), faster (prefetches the
 * big tables a few declarations ahead). Stops at the first error. */
er_status er_baseline_builder_add_batch(er_baseline_builder *b, const er_decl *d, size_t n, er_err *err);
/* Produces a new baseline (caller frees); the builder may be freed after. */
er_status er_baseline_builder_finish(er_baseline_builder *b, er_baseline **out, er_err *err);

/* Either form, told apart by the first bytes (docs/scoring.md, baseline file). */
er_status er_baseline_load(er_baseline **out, const char *path, er_err *err);   /* "-" = stdin */
/* ER_BASELINE_AUTO: binary when path ends in ".bin", JSON otherwise. */
typedef enum er_baseline_format { ER_BASELINE_AUTO = 0, ER_BASELINE_JSON, ER_BASELINE_BIN } er_baseline_format;
er_status er_baseline_save_as(const er_baseline *bl, const char *path, er_baseline_format fmt, er_err *err);
er_status er_baseline_save(const er_baseline *bl, const char *path, er_err *err); /* "-" = stdout; AUTO */
/* "json", "bin" or NULL/"auto" → *fmt; ER_EINVAL otherwise. */
er_status er_baseline_format_parse(const char *s, er_baseline_format *fmt);
/* Merge n ≥ 1 baselines into a new one; the inputs are not modified. */
er_status er_baseline_merge(er_baseline **out, const er_baseline *const *in, size_t n, er_err *err);
void      er_baseline_free(er_baseline *bl);

const char *er_baseline_id(const er_baseline *bl);   /* hex content hash, borrowed */
unsigned long long er_baseline_rows(const er_baseline *bl);

/* Anomaly features of d. bl may be NULL (out->have_baseline = false). Thread-safe. */
void er_anomaly_compute(const er_baseline *bl, const er_decl *d, er_anomalies *out);
/* out[i] = er_anomaly_compute(bl, &d[i]) for i < n, faster on a batch (prefetches
 * the baseline tables a few declarations ahead). Thread-safe. */
void er_anomaly_compute_batch(const er_baseline *bl, const er_decl *d, size_t n, er_anomalies *out);
/* The same for the rows idx[0..n) of d only: out[idx[k]] = er_anomaly_compute(bl, &d[idx[k]]);
 * the other entries of out are left as they are. */
void er_anomaly_compute_some(const er_baseline *bl, const er_decl *d, const uint32_t *idx, size_t n,
                             er_anomalies *out);

/* What the baseline knows about an HS code (any length), as JSON text for
 * `baseline show`. malloc'd; caller frees with free(). NULL on ENOMEM. */
char *er_baseline_describe(const er_baseline *bl, const char *hs);

ER_END_DECLS
#endif
