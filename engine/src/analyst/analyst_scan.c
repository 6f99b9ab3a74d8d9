/*
 * analyst_scan.c — streaming labelled history for the analyst tools
 * (analyst_int.h): loads reference data, mapping, baseline and outcome store
 * once, then reads every feed batch by batch and hands each accepted
 * declaration to a callback with its label (column value, overridden by a
 * recorded inspection outcome). Quarantined records are counted, never lost.
 * Also the labelled ranking metrics and their JSON, one copy for backtest,
 * diff and tune.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyst/analyst_int.h"

er_status scan_open(scan_ctx *c, const er_analyst_input *in, er_err *err)
{
    er_status st;
    memset(c, 0, sizeof *c);
    c->in = in;
    if ((st = er_refdata_load(&c->ref, in->reference, err)) != ER_OK)
        goto fail;
    if (in->mapping && (st = er_mapping_load(&c->map, in->mapping, err)) != ER_OK)
        goto fail;
    if (in->baseline && (st = er_baseline_load(&c->bl, in->baseline, err)) != ER_OK)
        goto fail;
    if (in->outcomes && (st = er_outcomes_load(&c->oc, in->outcomes, err)) != ER_OK)
        goto fail;
    return ER_OK;
fail:
    scan_close(c);
    return st;
}

void scan_close(scan_ctx *c)
{
    er_outcomes_free(c->oc);
    er_baseline_free(c->bl);
    er_mapping_free(c->map);
    er_refdata_free(c->ref);
    c->oc = NULL;
    c->bl = NULL;
    c->map = NULL;
    c->ref = NULL;
}

er_status scan_profiles(scan_ctx *c, const char *const *paths, size_t n, const char *lists_dir,
                        er_profileset **out, er_err *err)
{
    er_profile_opts po = {.ref = c->ref, .lists_dir = lists_dir};
    return er_profileset_load(out, paths, n, &po, false, err);
}

er_status scan_feeds(scan_ctx *c, scan_fn fn, void *ud, bool require_label, er_err *err)
{
    er_status st = ER_OK;
    er_batch *b = NULL;
    er_feed *feed = NULL;
    uint64_t order = 0;
    const er_analyst_input *in = c->in;

    if ((st = er_batch_new(&b, 4096, err)) != ER_OK)
        return st;
    for (size_t fi = 0; fi < in->n_feeds; fi++) {
        er_feed_opts fo = {.source = in->feeds[fi], .mapping = c->map, .ref = c->ref, .format = in->format,
                           .since = in->since, .until = in->until, .label_field = in->label_field};
        if ((st = er_feed_open(&feed, &fo, err)) != ER_OK)
            goto cleanup;
        for (;;) {
            er_status fs = er_feed_next(feed, b, err);
            if (fs == ER_EOF)
                break;
            if (fs != ER_OK) {
                st = fs;
                goto cleanup;
            }
            for (size_t i = 0; i < b->n; i++) {
                const er_decl *d = &b->decls[i];
                int label = -1;
                if (in->label_field) {
                    const char *v = er_decl_extra(d, in->label_field);
                    if (v)
                        c->label_present++;
                    label = er_label_parse(v);
                }
                if (c->oc) {
                    const er_outcome *o = er_outcomes_get(c->oc, d->id);
                    if (o) {
                        label = o->seized ? 1 : 0;
                        c->from_outcomes++;
                    }
                }
                if (label < 0)
                    c->unlabelled++;
                else {
                    c->labelled++;
                    c->positives += (uint64_t)label;
                }
                if (!c->min_date || d->date < c->min_date)
                    c->min_date = d->date;
                if (d->date > c->max_date)
                    c->max_date = d->date;
                if ((st = fn(ud, d, order++, label, err)) != ER_OK)
                    goto cleanup;
            }
        }
        const er_feed_stats *fs = er_feed_stats_get(feed);
        c->rows_read += fs->rows_read;
        c->accepted += fs->accepted;
        c->quarantined += fs->quarantined;
        er_feed_free(feed);
        feed = NULL;
    }
    if (require_label && in->label_field && c->accepted > 0 && c->label_present == 0 && !c->from_outcomes) {
        st = er_errf(err, ER_EFORMAT, "label field '%s': no declaration of the feed carries it "
                     "(check the column name and --mapping)", in->label_field);
        goto cleanup;
    }
cleanup:
    er_feed_free(feed);
    er_batch_free(b);
    return st;
}

const char *fmt_pct(char *buf, size_t len, double x)
{
    if (!isfinite(x))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "%.1f%%", 100 * x);
    return buf;
}

void json_num6(er_sb *b, double x)
{
    if (!isfinite(x))
        er_sb_puts(b, "null");
    else
        er_sb_json_numg(b, x, 6);
}

double rank_metrics(const er_rank_item *sorted, size_t n, size_t pos, const double *rates, size_t n_rates,
                    er_rank_at *at)
{
    for (size_t r = 0; r < n_rates; r++)
        er_rank_at_rate(sorted, n, pos, rates[r], &at[r]);
    return er_rank_ap(sorted, n, pos);
}

void rank_at_json(er_sb *j, const er_rank_at *at, size_t n_rates, size_t pos, double base, unsigned fields,
                  const char *first, const char *next)
{
    for (size_t r = 0; r < n_rates; r++) {
        er_sb_puts(j, r ? next : first);
        er_sb_json_key(j, "rate");
        json_num6(j, at[r].rate);
        er_sb_printf(j, ",\"inspected\":%zu,\"hits\":%zu,\"precision\":", at[r].k, at[r].hits);
        json_num6(j, at[r].k ? at[r].precision : NAN);
        if (fields & (AT_RECALL | AT_RECALL0)) {
            er_sb_puts(j, ",\"recall\":");
            json_num6(j, pos || (fields & AT_RECALL0) ? at[r].recall : NAN);
        }
        if (fields & AT_LIFT) {
            er_sb_puts(j, ",\"lift\":");
            json_num6(j, at[r].k && base > 0 ? at[r].precision / base : NAN);
        }
        if (fields & AT_MIN_RISK) {
            er_sb_puts(j, ",\"min_risk\":");
            er_sb_json_numg(j, at[r].k ? at[r].min_score : NAN, 17);
        } else if (fields & AT_MIN_SCORE) {
            er_sb_puts(j, ",\"min_score\":");
            json_num6(j, at[r].k ? at[r].min_score : NAN);
        }
        er_sb_putc(j, '}');
    }
}

er_status take_outputs(er_sb *j, er_sb *tb, char **json, char **table, er_err *err)
{
    if (j->oom || tb->oom)
        return er_errf(err, ER_ENOMEM, "out of memory");
    *json = j->p;
    *table = tb->p;
    j->p = tb->p = NULL;
    return ER_OK;
}

void json_str_list(er_sb *b, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            er_sb_putc(b, ',');
        er_sb_json_cstr(b, v[i]);
    }
}

void json_label_source(er_sb *b, const er_analyst_input *in)
{
    er_sb_putc(b, '{');
    er_sb_json_key(b, "field");
    if (in->label_field)
        er_sb_json_cstr(b, in->label_field);
    else
        er_sb_puts(b, "null");
    er_sb_json_key(b, "outcomes");
    if (in->outcomes)
        er_sb_json_cstr(b, in->outcomes);
    else
        er_sb_puts(b, "null");
    er_sb_putc(b, '}');
}
