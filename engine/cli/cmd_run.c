/*
 * cmd_run.c — `ecorisk run`: the nightly job. Parses options, shows progress
 * on a terminal, calls er_run (run.h) and, with --push, spools the alerts into
 * the outbox and delivers them (push.h). Prints a one-line result on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ecorisk/outbox.h"
#include "ecorisk/run.h"

static const cli_opt run_opts[] = {
    {"feed", 'f', CLI_LIST, NULL, "FILE", "declaration feed: file, '-' for stdin, or URL (required)"},
    {"mapping", 'm', CLI_STR, NULL, "MAPPING", "column mapping name or file (default: by format)"},
    {"format", 0, CLI_STR, "auto", "FMT", "csv, jsonl or auto"},
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "profile pack file or directory (default: the shipped packs)"},
    {"baseline", 'b', CLI_STR, NULL, "FILE", "baseline from 'ecorisk baseline build' (anomaly predicates need it)"},
    {"model", 0, CLI_STR, NULL, "FILE", "learned model (ecorisk learn): risk becomes its probability; alerts carry its top contributions"},
    {"out", 'o', CLI_STR, NULL, "DIR", "output directory, or '-' for alerts on stdout (required)"},
    {"registry", 0, CLI_STR, NULL, "DIR", "document registries: cites-permits.csv, ods-licences.csv, basel-consents.csv"},
    {"ledger", 0, CLI_STR, NULL, "DIR", "durable ledger of document consumption (needs --registry and --as-of)"},
    {"config", 'c', CLI_STR, NULL, "FILE", "run config: risk lanes, lane capacity and minimum random rate per office/flow"},
    {"threads", 't', CLI_INT, "0", "N", "threads that parse, validate and score (0: one per CPU)"},
    {"since", 0, CLI_STR, NULL, "DATE", "ignore declarations before DATE (quarantined as out_of_range)"},
    {"until", 0, CLI_STR, NULL, "DATE", "ignore declarations after DATE (quarantined as out_of_range)"},
    {"as-of", 0, CLI_STR, NULL, "DATE", "business date stamped as alert 'created' (default: declaration date)"},
    {"all-scores", 0, CLI_FLAG, NULL, NULL, "also write scores.csv (declaration id, score per domain)"},
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory (countries, currency rates)"},
    {"batch-size", 0, CLI_INT, "8192", "N", "declarations per batch"},
    {"max-quarantine-share", 0, CLI_DOUBLE, "0.05", "X", "quarantined share of the rows read above which the run warns and exits 3 (1: never)"},
    {"metrics", 0, CLI_STR, NULL, "FILE", "also write the metrics to FILE atomically, on failure too (node-exporter textfile collector)"},
    {"push", 0, CLI_STR, NULL, "DEST", "after the run, spool the alerts in the outbox and push them to DEST (URL, dir:PATH, -; as push --endpoint)"},
    {"outbox", 0, CLI_STR, NULL, "DIR", "outbox for --push, shared by every night (default: outbox beside OUT)"},
};


/* The outbox of --push: --outbox, else "outbox" in the directory that holds
 * OUT, so the runs of every night share one outbox and what stayed pending
 * tonight is retried by tomorrow's run (docs/operations.md). */
static void outbox_dir(const cli_args *a, const char *out, char *buf, size_t n)
{
    if (cli_given(a, "outbox")) {
        snprintf(buf, n, "%s", cli_str(a, "outbox"));
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", out);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/')
        tmp[--len] = '\0';
    char *slash = strrchr(tmp, '/');
    if (!slash)
        snprintf(buf, n, "outbox");
    else if (slash == tmp)
        snprintf(buf, n, "/outbox");
    else {
        *slash = '\0';
        snprintf(buf, n, "%s/outbox", tmp);
    }
}

/* --push, step 1 (before the run's outputs are published): spool the staged
 * alerts.jsonl into the outbox (er_outbox_enqueue_file). A run killed after
 * this and before publishing has its alerts pending; the re-run spools the
 * same batches (named by content) again, harmlessly. */
static er_status spool_staged(void *ud, const char *staged, er_err *err)
{
    const cli_args *a = ud;
    char alerts[4400], outbox[4096];
    er_outbox *ob = NULL;
    size_t n = 0;
    long batch = cli_given(a, "batch") ? strtol(cli_str(a, "batch"), NULL, 10) : 500;
    if (batch < 1 || batch > 1000000)
        return er_errf(err, ER_EINVAL, "--batch expects 1..1000000, got %ld; the run's outputs were not "
                       "published", batch);
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", staged);
    outbox_dir(a, cli_str(a, "out"), outbox, sizeof outbox);
    er_status st = er_outbox_open(&ob, outbox, err);
    if (st == ER_OK)
        st = er_outbox_enqueue_file(ob, alerts, (size_t)batch, &n, NULL, err);
    er_outbox_free(ob);
    if (st != ER_OK)
        return er_err_prefix(err, st == ER_ENOMEM ? ER_ENOMEM : ER_EIO,
                             "%s: spooling the alerts failed; the run's outputs were not published", outbox);
    if (n)
        cli_info("%s: %zu alerts spooled into %s/pending in batches of at most %ld", alerts, n, outbox, batch);
    return ER_OK;
}

/* --push, step 2 (after publishing): deliver the outbox as `ecorisk push` does. */
static int push_alerts(const cli_args *a, const char *out)
{
    char outbox[4096];
    er_outbox *ob = NULL;
    er_err err;
    outbox_dir(a, out, outbox, sizeof outbox);
    er_status st = er_outbox_open(&ob, outbox, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return st == ER_EIO ? EX_CANTCREAT_ : cli_exit_code(st);
    }
    int rc = cli_push_deliver(a, "run", ob, cli_str(a, "push"));
    er_outbox_free(ob);
    return rc;
}

static void progress_cb(void *ud, uint64_t rows, uint64_t bytes, uint64_t alerts)
{
    cli_progress_update(ud, rows, bytes, alerts);
}

static int run_main(const cli_args *a)
{
    const char *const *feeds;
    size_t n_feeds = cli_list(a, "feed", &feeds);
    const char *out = cli_str(a, "out");
    er_run_opts o = {0};
    er_run_result res;
    er_err err = {{0}};

    if (n_feeds == 0 || !out) {
        fprintf(stderr, "ecorisk run: --feed and --out are required (see 'ecorisk run --help')\n");
        return EX_USAGE_;
    }
    if (cli_given(a, "push") && strcmp(out, "-") == 0) {
        fprintf(stderr, "ecorisk run: --push needs an output directory (--out DIR), not stdout\n");
        return EX_USAGE_;
    }
    if (!cli_parse_format("run", a, &o.format))
        return EX_USAGE_;
    if (cli_given(a, "since") && !cli_parse_date("run", "since", cli_str(a, "since"), &o.since))
        return EX_USAGE_;
    if (cli_given(a, "until") && !cli_parse_date("run", "until", cli_str(a, "until"), &o.until))
        return EX_USAGE_;
    if (cli_given(a, "as-of") && !cli_parse_date("run", "as-of", cli_str(a, "as-of"), &o.as_of))
        return EX_USAGE_;
    long threads = cli_int(a, "threads");
    if (threads < 0 || threads > 256) {
        fprintf(stderr, "ecorisk run: --threads expects 0..256\n");
        return EX_USAGE_;
    }
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 1;
    }
    long bs = cli_int(a, "batch-size");
    if (bs < 1 || bs > 1 << 20) {
        fprintf(stderr, "ecorisk run: --batch-size expects 1..1048576\n");
        return EX_USAGE_;
    }
    cli_run_inputs(a, &o);
    o.out_dir = out;
    o.threads = (unsigned)threads;
    o.all_scores = cli_flag(a, "all-scores");
    o.batch_size = (size_t)bs;
    double mq = cli_double(a, "max-quarantine-share");
    if (!(mq > 0 && mq <= 1)) {
        fprintf(stderr, "ecorisk run: --max-quarantine-share expects a share in (0, 1]\n");
        return EX_USAGE_;
    }
    o.max_quarantine_share = mq;
    o.metrics_file = cli_str(a, "metrics");
    o.warn = cli_warn_cb;
    cli_progress *prog = cli_progress_start("run", 0);
    o.progress = prog ? progress_cb : NULL;
    o.progress_ud = prog;
    if (cli_given(a, "push")) {
        o.before_publish = spool_staged;
        o.publish_ud = (void *)a;
    }

    er_status st = er_run(&o, &res, &err);
    cli_progress_done(prog);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    /* the same counts go into the JSON log fields and the text line */
    const unsigned long long read = res.rows_read, acc = res.accepted, quar = res.quarantined, n = res.alerts,
                             red = res.alerts_by_lane[ER_LANE_RED], yellow = res.alerts_by_lane[ER_LANE_YELLOW],
                             blue = res.alerts_by_lane[ER_LANE_BLUE], green = res.alerts_by_lane[ER_LANE_GREEN],
                             wl = res.alerts_by_domain[ER_DOMAIN_WILDLIFE], ods = res.alerts_by_domain[ER_DOMAIN_ODS],
                             waste = res.alerts_by_domain[ER_DOMAIN_WASTE];
    char fields[1024];
    snprintf(fields, sizeof fields,
             "\"run_id\":\"%s\",\"rows_read\":%llu,\"accepted\":%llu,\"quarantined\":%llu,"
             "\"quarantine_share\":%.6g,\"alerts\":%llu,\"red\":%llu,\"yellow\":%llu,\"blue\":%llu,"
             "\"green\":%llu,\"wildlife\":%llu,\"ods\":%llu,\"waste\":%llu,\"seconds\":%.3f",
             res.run_id, read, acc, quar, res.quarantine_share, n, red, yellow, blue, green, wl, ods, waste,
             res.seconds);
    cli_log_fields(CLI_INFO, fields, "run %s: %llu read, %llu accepted, %llu quarantined; %llu alerts "
             "(red %llu, yellow %llu, blue %llu, green %llu; wildlife %llu, ods %llu, waste %llu) in %.2fs%s%s",
             res.run_id, read, acc, quar, n, red, yellow, blue, green, wl, ods, waste, res.seconds,
             strcmp(out, "-") ? " -> " : "", strcmp(out, "-") ? out : "");
    if (res.dup_window_resets)
        cli_warn("run %s: the duplicate-id check restarted %llu time(s) (past %u ids per feed): "
                 "an id repeated across a restart is not caught (docs/feeds.md, Duplicates)",
                 res.run_id, (unsigned long long)res.dup_window_resets, (unsigned)ER_FEED_DUP_EXACT);
    if (res.quarantine_exceeded)
        cli_warn("run %s: %.1f%% of the rows read were quarantined, above the maximum %.1f%% "
                 "(--max-quarantine-share); see quarantine.jsonl; exit status 3",
                 res.run_id, res.quarantine_share * 100, mq * 100);
    if (cli_given(a, "push")) {
        int rc = push_alerts(a, out);
        if (rc != EX_OK_)
            return rc;
    }
    return res.quarantine_exceeded ? EX_QUARANTINE : EX_OK_;
}

const cli_cmd cmd_run = {
    "run",
    "score a day of declarations and write alerts, quarantine, summary and metrics",
    "--feed FILE [--feed FILE...] --out DIR [--profiles DIR] [--baseline FILE] [options]",
    "Reads the feeds in order as one day, validates every record (rejected records go to "
    "quarantine.jsonl with file, line and reason), scores each declaration against the "
    "profile packs and the baseline on several threads, and writes alerts.jsonl (in feed "
    "order), quarantine.jsonl, summary.json and metrics.prom into DIR; scores.csv with "
    "--all-scores. The same inputs always give the same alerts, whatever the thread count. "
    "The outputs are one transaction: written in a private directory beside DIR and "
    "published in one atomic step, so DIR always holds one whole run; a second run on the "
    "same DIR exits 75. With --push URL the alerts are spooled durably in the outbox (the "
    "directory 'outbox' beside DIR by default, shared by every night) before the outputs are "
    "published, then delivered as 'ecorisk push' does; exit code 75 means some are still pending.",
    run_opts, CLI_NOPTS(run_opts), run_main,
    .group = cli_delivery_opts,
    .n_group = CLI_NOPTS(cli_delivery_opts),
    .group_title = "Delivery options of --push (as ecorisk push)",
    .examples = "ecorisk run --feed day.csv.gz --baseline baseline.json --out runs/2026-11-24 --as-of 2026-11-24\n  the nightly job: alerts, quarantine, summary and metrics in runs/2026-11-24\n"
    "ecorisk run --feed day.csv --mapping eu-export.json --out runs/today --metrics /var/lib/prometheus/node-exporter/ecorisk.prom\n  a feed in another layout; metrics for the textfile collector, also on failure\n"
    "ecorisk run --feed - --out - < day.csv\n  alerts on stdout\n"};
