/*
 * cmd_ingest.c — `ecorisk ingest`: stream a feed through reader, mapping and
 * validation, write quarantined records to a JSONL file, and print the
 * accounting (rows read = accepted + quarantined, by reason) as text or JSON.
 * Whole-feed problems stop the run with a message and an EX_* exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ecorisk/decl.h"
#include "ecorisk/feed.h"
#include "ecorisk/quarantine.h"
#include "ecorisk/refdata.h"

static const cli_opt ingest_opts[] = {
    {"feed", 'f', CLI_STR, NULL, "SOURCE", "feed to read: a file, - for stdin, or an http(s):// or sftp:// URL (gzip is detected)"},
    {"mapping", 'm', CLI_STR, NULL, "NAME|FILE", "column mapping: canonical-csv, canonical-jsonl, kcs-customs, or a mapping file"},
    {"format", 0, CLI_STR, NULL, "FMT", "csv or jsonl (default: from the mapping, the file name, then the content)"},
    {"quarantine", 'Q', CLI_STR, NULL, "FILE", "write quarantined records to FILE as JSON Lines"},
    {"since", 0, CLI_STR, NULL, "DATE", "quarantine (out_of_range) declarations dated before DATE (YYYY-MM-DD)"},
    {"until", 0, CLI_STR, NULL, "DATE", "quarantine (out_of_range) declarations dated after DATE (YYYY-MM-DD)"},
    {"reference", 0, CLI_STR, NULL, "DIR", "folder with countries.csv and currency-rates.csv (default: shipped reference data)"},
    {"cacert", 0, CLI_STR, NULL, "FILE", "CA bundle for https feeds (default: the system store)"},
    {"max-time", 0, CLI_INT, "0", "SECONDS", "total time limit for fetching a URL (0 = none)"},
    {"json", 0, CLI_FLAG, NULL, NULL, "print the summary as one JSON object"},
};

static void print_text(FILE *out, const er_feed *feed, const er_feed_stats *s, bool ok)
{
    fprintf(out, "feed:         %s (%s, mapping %s)\n", er_feed_name(feed),
            er_format_name(er_feed_format(feed)), er_feed_mapping_name(feed));
    fprintf(out, "rows read:    %llu\n", (unsigned long long)s->rows_read);
    fprintf(out, "accepted:     %llu\n", (unsigned long long)s->accepted);
    fprintf(out, "quarantined:  %llu\n", (unsigned long long)s->quarantined);
    for (int r = 0; r < ER_Q_COUNT; r++)
        if (s->by_reason[r])
            fprintf(out, "  %-14s %llu\n", er_qreason_str((er_qreason)r),
                    (unsigned long long)s->by_reason[r]);
    if (s->blank_lines)
        fprintf(out, "blank lines:  %llu (skipped, not records)\n", (unsigned long long)s->blank_lines);
    if (s->accepted) {
        char a[11], b[11];
        er_date_format(s->min_date, a);
        er_date_format(s->max_date, b);
        fprintf(out, "dates:        %s .. %s\n", a, b);
    }
    if (s->dup_window_resets)
        fprintf(out, "note:         duplicate-id check restarted %llu time(s) (over %u ids)\n",
                (unsigned long long)s->dup_window_resets, (unsigned)ER_FEED_DUP_EXACT);
    fprintf(out, "reconciled:   read %llu = accepted %llu + quarantined %llu%s\n",
            (unsigned long long)s->rows_read, (unsigned long long)s->accepted,
            (unsigned long long)s->quarantined, ok ? "" : "  MISMATCH");
}

static void print_json(FILE *out, const er_feed *feed, const er_feed_stats *s, bool ok)
{
    fputs("{\"feed\":", out);
    er_quarantine_write_string(out, er_feed_name(feed), strlen(er_feed_name(feed)));
    fprintf(out, ",\"format\":\"%s\",\"mapping\":",
            er_format_name(er_feed_format(feed)));
    er_quarantine_write_string(out, er_feed_mapping_name(feed), strlen(er_feed_mapping_name(feed)));
    fprintf(out, ",\"rows_read\":%llu,\"accepted\":%llu,\"quarantined\":%llu,\"by_reason\":{",
            (unsigned long long)s->rows_read, (unsigned long long)s->accepted,
            (unsigned long long)s->quarantined);
    for (int r = 0; r < ER_Q_COUNT; r++)
        fprintf(out, "%s\"%s\":%llu", r ? "," : "", er_qreason_str((er_qreason)r),
                (unsigned long long)s->by_reason[r]);
    fprintf(out, "},\"blank_lines\":%llu,\"bytes_read\":%llu", (unsigned long long)s->blank_lines,
            (unsigned long long)s->bytes_read);
    if (s->accepted) {
        char a[11], b[11];
        er_date_format(s->min_date, a);
        er_date_format(s->max_date, b);
        fprintf(out, ",\"min_date\":\"%s\",\"max_date\":\"%s\"", a, b);
    }
    fprintf(out, ",\"dup_window_resets\":%llu,\"reconciled\":%s}\n",
            (unsigned long long)s->dup_window_resets, ok ? "true" : "false");
}

static int ingest_main(const cli_args *a)
{
    int rc = EX_OK_;
    er_err err = {{0}};
    er_status st;
    cli_reader rd = {0};
    const char *qpath = cli_str(a, "quarantine");
    char *const *pos;

    if (cli_positional(a, &pos) > 0) {
        cli_error("unexpected argument '%s' (the feed is given with --feed)", pos[0]);
        rc = EX_USAGE_;
        goto cleanup;
    }
    const char *source = cli_str(a, "feed");
    if (!source) {
        cli_error("--feed is required (see 'ecorisk ingest --help')");
        rc = EX_USAGE_;
        goto cleanup;
    }
    er_feed_opts o = {0};
    o.source = source;
    if ((rc = cli_feed_opts("ingest", a, &o)) != EX_OK_)
        goto cleanup;
    if (o.since && o.until && o.since > o.until) {
        cli_error("--since is after --until");
        rc = EX_USAGE_;
        goto cleanup;
    }
    if ((rc = cli_reader_load(&rd, a, &o)) != EX_OK_)
        goto cleanup;
    if ((st = er_feed_open(&rd.feed, &o, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_code(st);
        goto cleanup;
    }
    if (qpath && (rc = cli_open_quarantine(qpath, &rd.qf)) != EX_OK_)
        goto cleanup;
    if ((st = er_batch_new(&rd.batch, 8192, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_code(st);
        goto cleanup;
    }
    if ((rc = cli_drain_feed(rd.feed, rd.batch, "ingest", NULL, NULL, rd.qf, qpath)) != EX_OK_)
        goto cleanup;
    if ((rc = cli_close_quarantine(&rd.qf, qpath)) != EX_OK_)
        goto cleanup;
    const er_feed_stats *s = er_feed_stats_get(rd.feed);
    bool ok = s->rows_read == s->accepted + s->quarantined;
    if (cli_flag(a, "json"))
        print_json(stdout, rd.feed, s, ok);
    else
        print_text(stdout, rd.feed, s, ok);
    if (fflush(stdout) != 0) {
        rc = EX_IOERR_;
        goto cleanup;
    }
    if (!ok) {
        cli_error("internal error: rows read != accepted + quarantined");
        rc = EX_SOFTWARE_;
    }
cleanup:
    cli_reader_free(&rd);
    return rc;
}

const cli_cmd cmd_ingest = {
    "ingest",
    "read a feed, validate it and account for every row",
    "--feed SOURCE [--mapping M] [--format csv|jsonl] [--quarantine Q.jsonl] [--since D] [--until D] [--json]",
    "Streams a declaration feed (CSV or JSON Lines, plain or gzip, from a file, stdin or a URL) "
    "through a column mapping and the validation rules of docs/feeds.md. Records that fail "
    "validation are written to the quarantine file with their line and reason; the summary "
    "reconciles rows read = accepted + quarantined. Exit status: 0 success (even when records "
    "were quarantined); 64 bad command line; 65 feed or mapping unusable as a whole (missing "
    "required column, no header, broken gzip, invalid mapping); 66 feed, mapping or reference "
    "data not found; 69 feed URL unavailable; 73 cannot create the quarantine file; 74 I/O error; "
    "78 invalid reference data. See docs/feeds.md.",
    ingest_opts,
    CLI_NOPTS(ingest_opts),
    ingest_main,
    .examples = "ecorisk ingest --feed day.csv --quarantine q.jsonl\n  check a feed: counts by outcome and reason, the rejects in q.jsonl\n"
    "ecorisk ingest --feed export.csv --mapping kcs-customs\n  a feed in the KCS layout\n"};
