/*
 * run_metrics.c — what a run counts and reports: the counts kept at the
 * in-order commit, summary.json (docs/operations.md#summary) and metrics.prom
 * in the Prometheus text format (docs/operations.md#metrics).
 */
#include <stdlib.h>
#include <time.h>

#include "ecorisk/version.h"
#include "score/run_impl.h"

er_status counts_alloc(counts *k, size_t np, er_err *err)
{
    k->by_profile = calloc(np ? np : 1, sizeof *k->by_profile);
    k->by_profile_lane = calloc((np ? np : 1) * ER_LANE_COUNT, sizeof *k->by_profile_lane);
    k->out_of_window = calloc(np ? np : 1, sizeof *k->out_of_window);
    if (!k->by_profile || !k->by_profile_lane || !k->out_of_window)
        return er_errf(err, ER_ENOMEM, "out of memory");
    return ER_OK;
}

void counts_free(counts *k)
{
    free(k->out_of_window);
    free(k->by_profile_lane);
    free(k->by_profile);
}

void counts_add_feed(counts *k, const er_feed_stats *fst)
{
    k->rows_read += fst->rows_read;
    k->accepted += fst->accepted;
    k->quarantined += fst->quarantined;
    k->dup_window_resets += fst->dup_window_resets;
    for (int r = 0; r < ER_Q_COUNT; r++)
        k->by_reason[r] += fst->by_reason[r];
    if (fst->min_date && (!k->min_date || fst->min_date < k->min_date))
        k->min_date = fst->min_date;
    if (fst->max_date > k->max_date)
        k->max_date = fst->max_date;
}

void count_alert(counts *k, const alert_rec *r)
{
    k->alerts++;
    k->random += r->random;
    k->topup += r->topup;
    k->over_capacity += r->over_capacity;
    k->by_lane[r->final_lane]++;
    k->by_domain[r->domain]++;
    k->by_profile[r->profile]++;
    k->by_profile_lane[(size_t)r->profile * ER_LANE_COUNT + r->final_lane]++;
}

void write_summary(er_sb *b, const er_run_opts *o, const er_profileset *ps, const char *run_id,
                          const char *baseline_id, const counts *k, const double secs[3], const run_meta *m,
                          const er_sb *manifest)
{
    char d1[11], d2[11];
    er_sb_puts(b, "{\n  \"run_id\": ");
    er_sb_json_cstr(b, run_id);
    er_sb_puts(b, ",\n  \"ecorisk_version\": ");
    er_sb_json_cstr(b, ECORISK_VERSION);
    if (o->as_of) {
        er_date_format(o->as_of, d1);
        er_sb_printf(b, ",\n  \"as_of\": \"%s\"", d1);
    } else {
        er_sb_puts(b, ",\n  \"as_of\": null");
    }
    er_sb_puts(b, ",\n  \"mapping\": {\"name\": ");
    er_sb_json_cstr(b, m->mapping);
    er_sb_puts(b, ", \"sha256\": ");
    if (*m->mapping_sha256)
        er_sb_json_cstr(b, m->mapping_sha256);
    else
        er_sb_puts(b, "null");
    er_sb_puts(b, "},\n  \"config\": ");
    if (o->config) {
        er_sb_puts(b, "{\"file\": ");
        er_sb_json_cstr(b, o->config);
        er_sb_puts(b, ", \"sha256\": ");
        er_sb_json_cstr(b, m->config_sha256);
        er_sb_puts(b, "}");
    } else {
        er_sb_puts(b, "null");
    }
    er_sb_puts(b, ",\n  \"feeds\": [");
    for (size_t i = 0; i < o->n_feeds; i++) {
        if (i)
            er_sb_puts(b, ", ");
        er_sb_json_cstr(b, o->feeds[i]);
    }
    er_sb_puts(b, "],\n  \"baseline_id\": ");
    er_sb_json_cstr(b, baseline_id);
    er_sb_puts(b, ",\n  \"profile_set\": ");
    er_sb_json_cstr(b, er_profileset_hash(ps));
    er_sb_puts(b, ",\n  \"profiles\": {");
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        const er_profile_info *p = er_profileset_info(ps, i);
        er_sb_puts(b, i ? ", " : "");
        er_sb_json_cstr(b, p->id);
        er_sb_printf(b, ": %d", p->version);
    }
    er_sb_puts(b, "},\n");
    if (k->min_date) {
        er_date_format(k->min_date, d1);
        er_date_format(k->max_date, d2);
        er_sb_printf(b, "  \"dates\": [\"%s\", \"%s\"],\n", d1, d2);
    }
    er_sb_printf(b, "  \"rows\": {\"read\": %llu, \"accepted\": %llu, \"quarantined\": %llu, \"reconciled\": %s},\n",
                 (unsigned long long)k->rows_read, (unsigned long long)k->accepted,
                 (unsigned long long)k->quarantined,
                 k->rows_read == k->accepted + k->quarantined ? "true" : "false");
    er_sb_printf(b, "  \"dup_window_resets\": %llu,\n", (unsigned long long)k->dup_window_resets);
    er_sb_puts(b, "  \"quarantined_by_reason\": {");
    bool first = true;
    for (int r = 0; r < ER_Q_COUNT; r++) {
        if (!k->by_reason[r])
            continue;
        er_sb_printf(b, "%s\"%s\": %llu", first ? "" : ", ", er_qreason_str((er_qreason)r),
                     (unsigned long long)k->by_reason[r]);
        first = false;
    }
    er_sb_printf(b, "},\n  \"quarantine\": {\"share\": %.6g, \"max_share\": %.6g, \"exceeded\": %s},\n",
                 m->q_share, m->q_max, m->q_exceeded ? "true" : "false");
    er_sb_printf(b, "  \"in_scope\": %llu,\n", (unsigned long long)k->in_scope);
    er_sb_puts(b, "  \"out_of_window\": {");
    first = true;
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        if (!k->out_of_window[i])
            continue;
        er_sb_puts(b, first ? "" : ", ");
        first = false;
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, ": %llu", (unsigned long long)k->out_of_window[i]);
    }
    er_sb_puts(b, "},\n");
    er_sb_printf(b, "  \"alerts\": {\"total\": %llu, \"random\": %llu, \"random_topup\": %llu, \"over_capacity\": %llu,\n",
                 (unsigned long long)k->alerts, (unsigned long long)k->random,
                 (unsigned long long)k->topup, (unsigned long long)k->over_capacity);
    er_sb_puts(b, "    \"by_lane\": {");
    for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
        er_sb_printf(b, "%s\"%s\": %llu", l == ER_LANE_RED ? "" : ", ", er_lane_str((er_lane)l),
                     (unsigned long long)k->by_lane[l]);
    er_sb_puts(b, "},\n    \"by_domain\": {");
    for (int d = 0; d < ER_DOMAIN_COUNT; d++)
        er_sb_printf(b, "%s\"%s\": %llu", d ? ", " : "", er_domain_str((er_domain)d),
                     (unsigned long long)k->by_domain[d]);
    er_sb_puts(b, "},\n    \"by_profile\": {");
    first = true;
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        if (!k->by_profile[i])
            continue;
        er_sb_puts(b, first ? "\n      " : ",\n      ");
        first = false;
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, ": {\"total\": %llu", (unsigned long long)k->by_profile[i]);
        for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
            er_sb_printf(b, ", \"%s\": %llu", er_lane_str((er_lane)l),
                         (unsigned long long)k->by_profile_lane[i * ER_LANE_COUNT + (size_t)l]);
        er_sb_putc(b, '}');
    }
    er_sb_puts(b, first ? "}\n  },\n" : "\n    }\n  },\n");
    er_sb_printf(b, "  \"timings\": {\"load_s\": %.3f, \"score_s\": %.3f, \"total_s\": %.3f},\n  ",
                 secs[0], secs[1], secs[2]);
    er_sb_put(b, manifest->p ? manifest->p : "", manifest->len);
    er_sb_puts(b, "\n}\n");
}

/* Prometheus text format, gauges of the last run, one label set per family
 * (docs/operations.md#metrics); promtool check metrics passes on it. */
static void metric_head(er_sb *b, const char *name, const char *help)
{
    er_sb_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The families a failed run can fill in too: success, when, how long. */
void write_run_status(er_sb *b, bool success, double total_s)
{
    metric_head(b, "ecorisk_run_success", "1 if the last run completed and wrote its outputs, 0 if it failed.");
    er_sb_printf(b, "ecorisk_run_success %d\n", success ? 1 : 0);
    metric_head(b, "ecorisk_last_run_timestamp_seconds", "Unix time at which the last run ended.");
    er_sb_printf(b, "ecorisk_last_run_timestamp_seconds %lld\n", (long long)time(NULL));
    metric_head(b, "ecorisk_run_duration_seconds", "Wall time of the last run.");
    er_sb_printf(b, "ecorisk_run_duration_seconds %.3f\n", total_s);
}

void write_metrics(er_sb *b, const er_profileset *ps, const counts *k, double total_s, const run_meta *m)
{
    metric_head(b, "ecorisk_rows", "Feed records by outcome in the last run.");
    er_sb_printf(b, "ecorisk_rows{outcome=\"read\"} %llu\n", (unsigned long long)k->rows_read);
    er_sb_printf(b, "ecorisk_rows{outcome=\"accepted\"} %llu\n", (unsigned long long)k->accepted);
    er_sb_printf(b, "ecorisk_rows{outcome=\"quarantined\"} %llu\n", (unsigned long long)k->quarantined);
    metric_head(b, "ecorisk_dup_window_resets", "Restarts of the duplicate-id table in the last run "
                "(an id repeated across a restart is not caught).");
    er_sb_printf(b, "ecorisk_dup_window_resets %llu\n", (unsigned long long)k->dup_window_resets);
    metric_head(b, "ecorisk_quarantined", "Quarantined records by reason in the last run.");
    for (int r = 0; r < ER_Q_COUNT; r++)
        er_sb_printf(b, "ecorisk_quarantined{reason=\"%s\"} %llu\n", er_qreason_str((er_qreason)r),
                     (unsigned long long)k->by_reason[r]);
    metric_head(b, "ecorisk_quarantine_share", "Quarantined share of the rows read in the last run.");
    er_sb_printf(b, "ecorisk_quarantine_share %.6g\n", m->q_share);
    metric_head(b, "ecorisk_quarantine_share_exceeded", "1 if the quarantined share was above the run's maximum.");
    er_sb_printf(b, "ecorisk_quarantine_share_exceeded %d\n", m->q_exceeded ? 1 : 0);
    metric_head(b, "ecorisk_alerts", "Alerts by domain in the last run (sum() is the total).");
    for (int d = 0; d < ER_DOMAIN_COUNT; d++)
        er_sb_printf(b, "ecorisk_alerts{domain=\"%s\"} %llu\n", er_domain_str((er_domain)d),
                     (unsigned long long)k->by_domain[d]);
    metric_head(b, "ecorisk_alerts_by_lane", "Alerts by final lane in the last run (sum() is the total).");
    for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
        er_sb_printf(b, "ecorisk_alerts_by_lane{lane=\"%s\"} %llu\n", er_lane_str((er_lane)l),
                     (unsigned long long)k->by_lane[l]);
    metric_head(b, "ecorisk_profile_alerts", "Alerts carried by each profile in the last run.");
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        er_sb_puts(b, "ecorisk_profile_alerts{profile=");
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, "} %llu\n", (unsigned long long)k->by_profile[i]);
    }
    metric_head(b, "ecorisk_alerts_over_capacity", "Alerts demoted for lane capacity in the last run.");
    er_sb_printf(b, "ecorisk_alerts_over_capacity %llu\n", (unsigned long long)k->over_capacity);
    write_run_status(b, true, total_s);
}
