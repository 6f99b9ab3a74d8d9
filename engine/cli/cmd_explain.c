/*
 * cmd_explain.c — `ecorisk explain`: prints the full trace for one
 * declaration (er_explain in run.h) as indented JSON on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ecorisk/run.h"

static const cli_opt explain_opts[] = {
    {"feed", 'f', CLI_LIST, NULL, "FILE", "feed holding the declaration (required; repeatable)"},
    {"id", 'i', CLI_STR, NULL, "ID", "declaration id to explain (required)"},
    {"mapping", 'm', CLI_STR, NULL, "MAPPING", "column mapping name or file"},
    {"format", 0, CLI_STR, "auto", "FMT", "csv, jsonl or auto"},
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "profile pack file or directory (default: the shipped packs)"},
    {"baseline", 'b', CLI_STR, NULL, "FILE", "baseline file"},
    {"config", 'c', CLI_STR, NULL, "FILE", "run config whose risk lanes the alert follows, as in 'run --config'"},
    {"as-of", 0, CLI_STR, NULL, "DATE", "business date stamped as alert 'created'"},
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory"},
};

static int explain_main(const cli_args *a)
{
    const char *const *feeds, *const *profiles;
    size_t n_feeds = cli_list(a, "feed", &feeds);
    size_t n_profiles = cli_profiles(a, &profiles);
    const char *id = cli_str(a, "id");
    er_run_opts o = {0};
    er_err err = {{0}};
    char *json = NULL;

    if (!n_feeds || !id) {
        fprintf(stderr, "ecorisk explain: --feed and --id are required (see 'ecorisk explain --help')\n");
        return EX_USAGE_;
    }
    if (!cli_parse_format("explain", a, &o.format))
        return EX_USAGE_;
    if (cli_given(a, "as-of") && !cli_parse_date("explain", "as-of", cli_str(a, "as-of"), &o.as_of))
        return EX_USAGE_;
    o.feeds = feeds;
    o.n_feeds = n_feeds;
    o.mapping = cli_str(a, "mapping");
    o.profiles = profiles;
    o.n_profiles = n_profiles;
    o.baseline = cli_str(a, "baseline");
    o.config = cli_str(a, "config");
    o.reference = cli_str(a, "reference");
    er_status st = er_explain(&o, id, &json, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    puts(json);
    free(json);
    return EX_OK_;
}

const cli_cmd cmd_explain = {
    "explain",
    "print the full trace for one declaration: every profile, condition and anomaly",
    "--feed FILE --id DECLARATION [--profiles DIR] [--baseline FILE]",
    "Finds the declaration in the feed and scores it exactly as 'run' does, then prints "
    "JSON with the declaration as read, every anomaly feature (observed value, expected "
    "range, p-value and baseline group level), every profile considered with each "
    "condition true or false and the values compared, and the alert 'run' would emit. "
    "A quarantined record is reported with its reason.",
    explain_opts, CLI_NOPTS(explain_opts), explain_main,
};
