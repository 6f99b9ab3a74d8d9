/*
 * cmd_baseline.c — `ecorisk baseline build | merge | convert | show`: build the
 * statistical baseline (docs/scoring.md) from any number of history feeds
 * through the same readers, mappings and quarantine as ingest; merge
 * baselines built on shards; convert between the JSON and binary forms; and
 * print what a baseline knows about an HS code. The statistics themselves live in the library (baseline.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "ecorisk/baseline.h"
#include "ecorisk/decl.h"
#include "ecorisk/feed.h"
#include "ecorisk/quarantine.h"
#include "ecorisk/refdata.h"

/* ---- baseline build ---- */

static const cli_opt build_opts[] = {
    {"feed", 'f', CLI_LIST, NULL, "SOURCE", "history feed: a file, - for stdin, or a URL (repeat for several feeds)"},
    {"mapping", 'm', CLI_STR, NULL, "NAME|FILE", "column mapping for every feed: canonical-csv, canonical-jsonl, kcs-customs, or a mapping file"},
    {"format", 0, CLI_STR, NULL, "FMT", "csv or jsonl (default: from the mapping, the file name, then the content)"},
    {"quarantine", 'Q', CLI_STR, NULL, "FILE", "write quarantined records of all feeds to FILE as JSON Lines"},
    {"min-group", 0, CLI_INT, "30", "N", "rows a group (HS6, HS4, HS2) needs before it is used instead of its parent"},
    {"since", 0, CLI_STR, NULL, "DATE", "leave out (quarantine as out_of_range) declarations dated before DATE"},
    {"until", 0, CLI_STR, NULL, "DATE", "leave out (quarantine as out_of_range) declarations dated after DATE"},
    {"reference", 0, CLI_STR, NULL, "DIR", "folder with countries.csv and currency-rates.csv (default: shipped reference data)"},
    {"cacert", 0, CLI_STR, NULL, "FILE", "CA bundle for https feeds (default: the system store)"},
    {"max-time", 0, CLI_INT, "0", "SECONDS", "total time limit for fetching a URL (0 = none)"},
    {"out", 'o', CLI_STR, NULL, "FILE", "baseline file to write (- for stdout)"},
    {"out-format", 0, CLI_STR, "auto", "FMT", "json, bin, or auto: bin when --out ends in .bin, json otherwise"},
};

/* --out (required) and --out-format, or -1 after printing the error. */
static int out_format(const cli_args *a, er_baseline_format *fmt)
{
    if (!cli_str(a, "out")) {
        cli_error("--out is required (a file, or - for stdout)");
        return -1;
    }
    if (er_baseline_format_parse(cli_str(a, "out-format"), fmt) != ER_OK) {
        cli_error("--out-format expects json, bin or auto, got '%s'", cli_str(a, "out-format"));
        return -1;
    }
    return 0;
}

/* Write bl to out in fmt; on failure prints the error and returns its exit code. */
static int save(const er_baseline *bl, const char *out, er_baseline_format fmt)
{
    er_err err = {{0}};
    er_status st = er_baseline_save_as(bl, out, fmt, &err);
    if (st == ER_OK)
        return EX_OK_;
    cli_error("%s", err.msg);
    return st == ER_EIO ? EX_CANTCREAT_ : cli_exit_code(st);
}

static er_status add_batch(void *bld, const er_batch *batch, er_err *err)
{
    return er_baseline_builder_add_batch(bld, batch->decls, batch->n, err);
}

static int build_main(const cli_args *a)
{
    int rc = EX_OK_;
    er_err err = {{0}};
    er_status st;
    cli_reader rd = {0};
    er_baseline_builder *bld = NULL;
    er_baseline *bl = NULL;
    const char *const *feeds = NULL;
    char *const *pos;
    size_t n_feeds = cli_list(a, "feed", &feeds);
    const char *out = cli_str(a, "out");
    const char *qpath = cli_str(a, "quarantine");
    unsigned long long rows_read = 0, accepted = 0, quarantined = 0;

    if (cli_positional(a, &pos) > 0) {
        cli_error("unexpected argument '%s' (feeds are given with --feed)", pos[0]);
        return EX_USAGE_;
    }
    if (n_feeds == 0) {
        cli_error("at least one --feed is required (see 'ecorisk baseline build --help')");
        return EX_USAGE_;
    }
    er_baseline_format ofmt;
    if (out_format(a, &ofmt))
        return EX_USAGE_;
    long mg = cli_int(a, "min-group");
    if (mg < 1 || mg > 1000000000L) {
        cli_error("--min-group expects an integer from 1 to 1000000000, got %ld", mg);
        return EX_USAGE_;
    }
    size_t n_stdin = 0;
    for (size_t i = 0; i < n_feeds; i++)
        n_stdin += strcmp(feeds[i], "-") == 0;
    if (n_stdin > 1) {
        cli_error("--feed - (stdin) can be given only once");
        return EX_USAGE_;
    }
    er_feed_opts o = {0};
    if (cli_feed_opts("baseline build", a, &o) != EX_OK_)
        return EX_USAGE_;
    if ((rc = cli_reader_load(&rd, a, &o)) != EX_OK_)
        goto cleanup;
    er_baseline_opts bo = {(unsigned)mg};
    if ((st = er_baseline_builder_new(&bld, &bo, &err)) != ER_OK ||
        (st = er_batch_new(&rd.batch, 8192, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_code(st);
        goto cleanup;
    }
    if (qpath && (rc = cli_open_quarantine(qpath, &rd.qf)) != EX_OK_)
        goto cleanup;
    for (size_t fi = 0; fi < n_feeds; fi++) {
        o.source = feeds[fi];
        if ((st = er_feed_open(&rd.feed, &o, &err)) != ER_OK) {
            cli_error("%s", err.msg);
            rc = cli_exit_code(st);
            goto cleanup;
        }
        if ((rc = cli_drain_feed(rd.feed, rd.batch, "baseline", add_batch, bld, rd.qf, qpath)) != EX_OK_)
            goto cleanup;
        const er_feed_stats *s = er_feed_stats_get(rd.feed);
        cli_info("%s: %llu rows read, %llu accepted, %llu quarantined", er_feed_name(rd.feed),
                 (unsigned long long)s->rows_read, (unsigned long long)s->accepted,
                 (unsigned long long)s->quarantined);
        rows_read += s->rows_read;
        accepted += s->accepted;
        quarantined += s->quarantined;
        er_feed_free(rd.feed);
        rd.feed = NULL;
    }
    if ((rc = cli_close_quarantine(&rd.qf, qpath)) != EX_OK_)
        goto cleanup;
    if ((st = er_baseline_builder_finish(bld, &bl, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = cli_exit_code(st);
        goto cleanup;
    }
    if ((rc = save(bl, out, ofmt)) != EX_OK_)
        goto cleanup;
    cli_info("baseline %s: %llu declarations from %zu feed%s (%llu read, %llu quarantined) -> %s",
             er_baseline_id(bl), er_baseline_rows(bl), n_feeds, n_feeds == 1 ? "" : "s", rows_read,
             quarantined, strcmp(out, "-") == 0 ? "<stdout>" : out);
    (void)accepted;
cleanup:
    er_baseline_free(bl);
    er_baseline_builder_free(bld);
    cli_reader_free(&rd);
    return rc;
}

const cli_cmd cmd_baseline_build = {
    "baseline build",
    "build the statistical baseline from history feeds",
    "--feed HISTORY [--feed ...] [--mapping M] [--quarantine Q.jsonl] [--min-group N] --out baseline.json",
    "Reads every history feed through the same readers, mappings and validation as ingest "
    "(quarantined records go to --quarantine) and builds the baseline of docs/scoring.md: per "
    "HS6 (falling back to HS4, HS2 and all when a group has fewer than --min-group rows) the "
    "histogram of log unit value in the reference currency per kg with its median, MAD and "
    "percentiles; per HS4 the mean and covariance of log unit value, log net mass and log kg "
    "per package or unit; route counts; the first-seen date of each importer per HS chapter "
    "(importers are stored as hashes, never by name). The file is canonical JSON: the same "
    "history always gives the same bytes, and its id is a hash of the content. Baselines "
    "built on shards of the history merge exactly ('ecorisk baseline merge'). Exit status: 0 "
    "success; 64 bad command line; 65 a feed or mapping unusable as a whole; 66 input not "
    "found; 69 feed URL unavailable; 73 cannot write the output; 74 I/O error.",
    build_opts, CLI_NOPTS(build_opts), build_main,
    .examples = "ecorisk baseline build --feed history/2026-01.csv.gz --feed history/2026-02.csv.gz --out baseline.json\n  statistics from two months of history\n"};

/* ---- baseline merge ---- */

static const cli_opt merge_opts[] = {
    {"out", 'o', CLI_STR, NULL, "FILE", "merged baseline to write (- for stdout)"},
    {"out-format", 0, CLI_STR, "auto", "FMT", "json, bin, or auto: bin when --out ends in .bin, json otherwise"},
};

static int merge_main(const cli_args *a)
{
    char *const *pos;
    size_t n = cli_positional(a, &pos);
    const char *out = cli_str(a, "out");
    er_err err = {{0}};
    er_status st;
    int rc = EX_OK_;
    er_baseline **in = NULL, *m = NULL;
    if (n == 0) {
        cli_error("give the baselines to merge as arguments (see 'ecorisk baseline merge --help')");
        return EX_USAGE_;
    }
    er_baseline_format ofmt;
    if (out_format(a, &ofmt))
        return EX_USAGE_;
    in = calloc(n, sizeof *in);
    if (!in) {
        cli_error("out of memory");
        return EX_OSERR_;
    }
    for (size_t i = 0; i < n; i++)
        if ((st = er_baseline_load(&in[i], pos[i], &err)) != ER_OK) {
            cli_error("%s", err.msg);
            rc = cli_exit_code(st);
            goto cleanup;
        }
    if ((st = er_baseline_merge(&m, (const er_baseline *const *)in, n, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        rc = st == ER_EINVAL ? EX_DATAERR_ : cli_exit_code(st);
        goto cleanup;
    }
    if ((rc = save(m, out, ofmt)) != EX_OK_)
        goto cleanup;
    cli_info("baseline %s: %llu declarations merged from %zu baselines -> %s", er_baseline_id(m),
             er_baseline_rows(m), n, strcmp(out, "-") == 0 ? "<stdout>" : out);
cleanup:
    er_baseline_free(m);
    for (size_t i = 0; i < n; i++)
        er_baseline_free(in[i]);
    free(in);
    return rc;
}

const cli_cmd cmd_baseline_merge = {
    "baseline merge",
    "merge baselines built on shards of the history",
    "A.json B.json [...] --out C.json",
    "Adds the counts, moments, histograms and route counts of the given baselines and keeps the "
    "earliest first-seen date of each importer: the result is byte-identical to one build over "
    "all their rows, whatever the order of the arguments. All inputs must have the same "
    "--min-group. Exit status: 0 success; 64 bad command line; 65 an input is not a valid "
    "baseline or the inputs cannot be merged; 66 input not found; 73 cannot write the output.",
    merge_opts, CLI_NOPTS(merge_opts), merge_main,
    .examples = "ecorisk baseline merge shard-1.json shard-2.json --out baseline.json\n  combine baselines built on parts of the history\n"};

/* ---- baseline convert ---- */

static const cli_opt convert_opts[] = {
    {"out", 'o', CLI_STR, NULL, "FILE", "baseline to write (- for stdout)"},
    {"out-format", 0, CLI_STR, "auto", "FMT", "json, bin, or auto: bin when --out ends in .bin, json otherwise"},
};

static int convert_main(const cli_args *a)
{
    char *const *pos;
    const char *out = cli_str(a, "out");
    er_err err = {{0}};
    er_baseline *bl = NULL;
    er_baseline_format ofmt;
    if (cli_positional(a, &pos) != 1 || !out) {
        cli_error("give one baseline to convert and --out (see 'ecorisk baseline convert --help')");
        return EX_USAGE_;
    }
    if (out_format(a, &ofmt))
        return EX_USAGE_;
    er_status st = er_baseline_load(&bl, pos[0], &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    int rc = save(bl, out, ofmt);
    if (rc == EX_OK_) {
        cli_info("baseline %s: %llu declarations -> %s", er_baseline_id(bl), er_baseline_rows(bl),
                 strcmp(out, "-") == 0 ? "<stdout>" : out);
    }
    er_baseline_free(bl);
    return rc;
}

const cli_cmd cmd_baseline_convert = {
    "baseline convert",
    "convert a baseline between its JSON and binary forms",
    "IN --out OUT [--out-format json|bin]",
    "Reads a baseline in either form (told apart by its first bytes) and writes it in the form "
    "--out-format names, or that the name of --out implies (.bin: binary). The JSON form is the "
    "exchange and audit format; the binary form (docs/scoring.md) is mapped at load and used in "
    "place, for the nightly run. Both carry the same id and give the same scores; converting "
    "there and back gives the original bytes. Exit status: 0 success; 64 bad command line; 65 "
    "invalid baseline; 66 input not found; 73 cannot write the output.",
    convert_opts, CLI_NOPTS(convert_opts), convert_main,
    .examples = "ecorisk baseline convert baseline.json --out baseline.bin\n  the binary form for the nightly run\n"
                "ecorisk baseline convert baseline.bin --out baseline.json\n  back to the JSON form, byte for byte\n"};

/* ---- baseline show ---- */

static const cli_opt show_opts[] = {
    {"baseline", 'b', CLI_STR, NULL, "FILE", "baseline file (- for stdin)"},
    {"hs", 0, CLI_STR, NULL, "CODE", "HS code of any length (dots and spaces are ignored)"},
    {"json", 0, CLI_FLAG, NULL, NULL, "print one JSON object instead of text"},
};

static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static double jd(json_object *o, const char *k) { return json_object_get_double(jget(o, k)); }
static long long ji(json_object *o, const char *k) { return (long long)json_object_get_int64(jget(o, k)); }
static const char *js(json_object *o, const char *k)
{
    json_object *v = jget(o, k);
    return v ? json_object_get_string(v) : "";
}

static void print_group(FILE *out, json_object *g)
{
    fprintf(out, "\n%s %s: %lld declarations, %lld with a unit value%s\n", js(g, "level"), js(g, "group"),
            ji(g, "rows"), ji(g, "n"),
            json_object_get_boolean(jget(g, "usable")) ? "" : " (too few: the parent group is used)");
    json_object *uv = jget(g, "unit_value"), *luv = jget(g, "log_unit_value");
    if (uv && luv) {
        fprintf(out, "  unit value per kg (reference currency): median %.6g, 5%%-95%% %.6g .. %.6g\n",
                jd(uv, "median"), jd(uv, "p05"), jd(uv, "p95"));
        fprintf(out, "  flagged at p < 0.01 below %.6g or above %.6g\n", jd(uv, "low_below_p01"),
                jd(uv, "high_above_p01"));
        json_object *p = jget(luv, "percentiles");
        fprintf(out, "  log unit value: median %.4f, MAD %.4f, scale %.4f, mean %.4f, sd %.4f\n",
                jd(luv, "median"), jd(luv, "mad"), jd(luv, "scale"), jd(luv, "mean"), jd(luv, "sd"));
        fprintf(out, "  log unit value percentiles: p01 %.4f  p05 %.4f  p25 %.4f  p50 %.4f  p75 %.4f  p95 %.4f  p99 %.4f\n",
                jd(p, "p01"), jd(p, "p05"), jd(p, "p25"), jd(p, "p50"), jd(p, "p75"), jd(p, "p95"),
                jd(p, "p99"));
    }
    static const char *const mvn[2] = {"mv2", "mv3"};
    static const char *const mvd[2] = {"(log unit value, log net kg)", "(log unit value, log net kg, log kg per package/unit)"};
    for (int k = 0; k < 2; k++) {
        json_object *mv = jget(g, mvn[k]);
        if (!mv)
            continue;
        fprintf(out, "  Mahalanobis %s: %lld rows, %s", mvd[k], ji(mv, "n"),
                json_object_get_boolean(jget(mv, "ok")) ? "mean [" : "no model");
        json_object *mean = jget(mv, "mean");
        if (mean) {
            for (size_t i = 0; i < json_object_array_length(mean); i++)
                fprintf(out, "%s%.4f", i ? ", " : "", json_object_get_double(json_object_array_get_idx(mean, i)));
            fprintf(out, "]");
        }
        fprintf(out, "\n");
    }
    json_object *r = jget(g, "routes");
    if (r) {
        fprintf(out, "  routes: %lld declarations with an origin, %lld distinct; an unseen route has p = %.3g\n",
                ji(r, "n"), ji(r, "distinct"), jd(r, "unseen_p"));
        json_object *top = jget(r, "top");
        for (size_t i = 0; top && i < json_object_array_length(top); i++) {
            json_object *t = json_object_array_get_idx(top, i);
            const char *d = js(t, "destination");
            fprintf(out, "    %s -> %-2s %10lld\n", js(t, "origin"), *d ? d : "?", ji(t, "count"));
        }
    }
    json_object *t = jget(g, "traders");
    if (t)
        fprintf(out, "  traders: %lld declarations with an importer, %lld distinct importer-chapter pairs; "
                "new_trader: an importer new here has p = %.3g, ordinary from %lld declarations (most: %lld)\n",
                ji(t, "importer_rows"), ji(t, "distinct"), jd(t, "new_p"), ji(t, "ordinary_from"), ji(t, "max"));
    json_object *im = jget(g, "importers");
    if (im)
        fprintf(out, "  importers: %lld distinct; new_importer: an unknown importer has p = %.3g, ordinary from "
                "%lld declarations (most: %lld)\n",
                ji(im, "distinct"), jd(im, "new_p"), ji(im, "ordinary_from"), ji(im, "max"));
}

static int show_main(const cli_args *a)
{
    const char *path = cli_str(a, "baseline"), *hs = cli_str(a, "hs");
    char *const *pos;
    er_err err = {{0}};
    er_baseline *bl = NULL;
    char *txt = NULL;
    json_object *doc = NULL;
    int rc = EX_OK_;
    if (cli_positional(a, &pos) > 0) {
        cli_error("unexpected argument '%s'", pos[0]);
        return EX_USAGE_;
    }
    if (!path || !hs) {
        cli_error("--baseline and --hs are required (see 'ecorisk baseline show --help')");
        return EX_USAGE_;
    }
    size_t nd = 0;
    for (const char *p = hs; *p; p++) {
        if (*p >= '0' && *p <= '9')
            nd++;
        else if (*p != '.' && *p != ' ') {
            cli_error("--hs expects digits (dots and spaces allowed), got '%s'", hs);
            return EX_USAGE_;
        }
    }
    if (nd < 2 || nd > ER_HS_MAX) {
        cli_error("--hs expects 2 to %d digits, got '%s'", ER_HS_MAX, hs);
        return EX_USAGE_;
    }
    er_status st = er_baseline_load(&bl, path, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    txt = er_baseline_describe(bl, hs);
    if (!txt) {
        cli_error("out of memory");
        rc = EX_OSERR_;
        goto cleanup;
    }
    if (cli_flag(a, "json")) {
        printf("%s\n", txt);
    } else {
        doc = json_tokener_parse(txt);
        if (!doc) {
            cli_error("internal error: baseline description is not JSON");
            rc = EX_SOFTWARE_;
            goto cleanup;
        }
        json_object *b = jget(doc, "baseline");
        printf("baseline %s (format %lld): %lld declarations, %s .. %s, min group %lld\n", js(b, "id"),
               ji(b, "format"), ji(b, "rows"), js(b, "date_min"), js(b, "date_max"), ji(b, "min_group"));
        json_object *groups = jget(doc, "groups");
        printf("HS %s: unit value judged against level %s\n", js(doc, "hs"), js(doc, "unit_value_level"));
        size_t ng = groups ? json_object_array_length(groups) : 0;
        if (ng == 0)
            printf("\nthe baseline has no declarations for this code or any parent\n");
        for (size_t i = 0; i < ng; i++)
            print_group(stdout, json_object_array_get_idx(groups, i));
    }
    if (fflush(stdout) != 0)
        rc = EX_IOERR_;
cleanup:
    json_object_put(doc);
    free(txt);
    er_baseline_free(bl);
    return rc;
}

const cli_cmd cmd_baseline_show = {
    "baseline show",
    "print what a baseline knows about an HS code",
    "--baseline FILE --hs CODE [--json]",
    "Prints, for the HS6 code and each parent group (HS4, HS2, all) the baseline holds: the "
    "number of declarations, the unit value per kg in the reference currency (median, 5th-95th "
    "percentile, the values beyond which a unit value alert fires at p < 0.01), log unit value "
    "median, MAD and percentiles, the Mahalanobis model, the most frequent routes and the "
    "new-trader rate, and which level a declaration with this code is judged against. Use it "
    "to check why a value looked odd. Exit status: 0 success; 64 bad command line; 65 invalid "
    "baseline; 66 baseline not found.",
    show_opts, CLI_NOPTS(show_opts), show_main,
    .examples = "ecorisk baseline show --baseline baseline.json --hs 050790\n  what the baseline knows about HS 0507.90\n"};
