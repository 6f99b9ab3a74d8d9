/*
 * analyst_int.h — private plumbing shared by backtest, diff and tune: loading
 * the reference data, mapping, baseline and outcome store once, streaming the
 * labelled feeds declaration by declaration with their label, the labelled
 * ranking metrics (precision and recall at a rate, average precision) and
 * their JSON, and small text helpers for the outputs. Not part of the public API.
 */
#ifndef ECORISK_ANALYST_INT_H
#define ECORISK_ANALYST_INT_H

#include "ecorisk/analyst.h"
#include "ecorisk/baseline.h"
#include "ecorisk/feed.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"
#include "core/sbuf.h"

typedef struct scan_ctx {
    const er_analyst_input *in;
    er_refdata  *ref;
    er_mapping  *map;
    er_baseline *bl;
    er_outcomes *oc;
    /* counts after scan_feeds */
    uint64_t rows_read, accepted, quarantined;
    uint64_t labelled, unlabelled, positives, from_outcomes, label_present;
    int32_t  min_date, max_date;
} scan_ctx;

/* Per declaration: order is its 0-based position over all feeds (accepted
 * records only); label 1 / 0 / -1 (unlabelled). Return non-OK to stop. */
typedef er_status (*scan_fn)(void *ud, const er_decl *d, uint64_t order, int label, er_err *err);

er_status scan_open(scan_ctx *c, const er_analyst_input *in, er_err *err);
void      scan_close(scan_ctx *c);
er_status scan_profiles(scan_ctx *c, const char *const *paths, size_t n, const char *lists_dir,
                        er_profileset **out, er_err *err);
/* Stream every feed; labels need in->label_field or in->outcomes. require_label:
 * fail when a label field is given but no declaration carries it. */
er_status scan_feeds(scan_ctx *c, scan_fn fn, void *ud, bool require_label, er_err *err);

/* "12.3%" style percentage into buf (n/a for NaN). */
const char *fmt_pct(char *buf, size_t len, double x);
/* JSON number with 6 significant digits, or null when not finite. */
void json_num6(er_sb *b, double x);
/* Labelled ranking metrics, shared by backtest, diff and tune: precision and
 * recall at each of rates (at[0 .. n_rates - 1]) of a sorted ranking of n
 * items with pos positives; returns its average precision (0 without positives). */
double rank_metrics(const er_rank_item *sorted, size_t n, size_t pos, const double *rates, size_t n_rates,
                    er_rank_at *at);

/* Fields of rank_at_json beyond rate, inspected, hits and precision. */
enum {
    AT_RECALL     = 1,    /* recall, null without positives */
    AT_RECALL0    = 2,    /* recall, 0 without positives */
    AT_LIFT       = 4,    /* precision / base rate */
    AT_MIN_SCORE  = 8,    /* lowest score inspected (6 digits) */
    AT_MIN_RISK   = 16,   /* lowest risk inspected (17 digits) */
};
/* The "at" entries of a ranking as JSON objects, each opened by first (the
 * first) or next (the others): {"rate", "inspected", "hits", "precision", ...}. */
void rank_at_json(er_sb *j, const er_rank_at *at, size_t n_rates, size_t pos, double base, unsigned fields,
                  const char *first, const char *next);

/* Hand the JSON and the table over to the caller (*json, *table), or ER_ENOMEM
 * when either ran out of memory (both then stay with j and tb, to be freed). */
er_status take_outputs(er_sb *j, er_sb *tb, char **json, char **table, er_err *err);
/* JSON strings v[0 .. n - 1], comma-separated (the caller writes the brackets). */
void json_str_list(er_sb *b, const char *const *v, size_t n);
/* Label description for outputs: "column Fraud", "outcome store DIR", both. */
void json_label_source(er_sb *b, const er_analyst_input *in);

#endif
