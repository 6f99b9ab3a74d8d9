/*
 * cmd_explain.c — `ecorisk explain`: prints the full trace for one
 * declaration (er_explain in run.h) as indented JSON on stdout, or, with
 * --output text (the default on a terminal), a summary of it: the
 * declaration, its risk, the alert with each reason and its evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ecorisk/run.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_opt explain_opts[] = {
    {"feed", 'f', CLI_LIST, NULL, "FILE", "feed holding the declaration (required)"},
    {"id", 'i', CLI_STR, NULL, "ID", "declaration id to explain (required)"},
    {"mapping", 'm', CLI_STR, NULL, "MAPPING", "column mapping name or file"},
    {"format", 0, CLI_STR, "auto", "FMT", "csv, jsonl or auto"},
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "profile pack file or directory (default: the shipped packs)"},
    {"baseline", 'b', CLI_STR, NULL, "FILE", "baseline file"},
    {"model", 0, CLI_STR, NULL, "FILE", "learned model (ecorisk learn): its probability and every feature's contribution"},
    {"config", 'c', CLI_STR, NULL, "FILE", "run config whose risk lanes the alert follows, as in 'run --config'"},
    {"as-of", 0, CLI_STR, NULL, "DATE", "business date stamped as alert 'created'"},
    {"registry", 0, CLI_STR, NULL, "DIR", "document registries, as given to 'ecorisk run'"},
    {"ledger", 0, CLI_STR, NULL, "DIR", "the run's ledger: the balance before the run, read without its lock"},
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory"},
    {"output", 0, CLI_STR, NULL, "FMT", "text (a readable summary) or json (the full trace); default: text on a terminal, else json"},
};

static const char *js(json_object *o, const char *k)
{
    json_object *v;
    return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : "";
}

static double jd(json_object *o, const char *k)
{
    json_object *v;
    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : NAN;
}

static json_object *jo(json_object *o, const char *k)
{
    json_object *v;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The summary an analyst reads: the declaration, its risk, the alert with each
 * reason and its evidence, other profiles in scope, anomalies at p < 0.05. */
static void print_text(json_object *root, FILE *out)
{
    json_object *d = jo(root, "declaration"), *al = jo(root, "alert"), *risk = jo(root, "risk");
    fprintf(out, "%s  %s  HS %s  %s > %s  (line %.0f of %s)\n", js(d, "id"), js(d, "date"), js(d, "hs"),
            js(d, "origin"), js(d, "destination"), jd(d, "line"), js(root, "feed"));
    if (*js(d, "description"))
        fprintf(out, "  \"%s\"\n", js(d, "description"));
    if (risk && isfinite(jd(risk, "risk")))
        fprintf(out, "risk %.3f\n", jd(risk, "risk"));
    json_object *prof = jo(al, "profile");
    if (al) {
        fprintf(out, "alert: %s (%s), score %.0f, lane %s%s\n", js(prof, "id"), js(prof, "title"), jd(al, "score"),
                js(al, "lane"), json_object_get_boolean(jo(al, "random")) ? ", random control" : "");
        json_object *inds = jo(al, "indicators");
        for (size_t i = 0; inds && i < json_object_array_length(inds); i++) {
            json_object *x = json_object_array_get_idx(inds, i);
            fprintf(out, "  +%-3.0f %s\n       %s\n", jd(x, "weight"), js(x, "reason"), js(x, "evidence"));
        }
    } else {
        fprintf(out, "no alert\n");
    }
    json_object *ps = jo(jo(root, "profiles"), "profiles");
    for (size_t i = 0; ps && i < json_object_array_length(ps); i++) {
        json_object *p = json_object_array_get_idx(ps, i);
        if (!json_object_get_boolean(jo(p, "in_scope")) || strcmp(js(p, "id"), js(prof, "id")) == 0)
            continue;
        fprintf(out, "also in scope: %s, score %.0f, lane %s\n", js(p, "id"), jd(p, "score"), js(p, "lane"));
    }
    json_object *fs = jo(jo(root, "anomalies"), "features");
    for (size_t i = 0; fs && i < json_object_array_length(fs); i++) {
        json_object *f = json_object_array_get_idx(fs, i), *rg = jo(f, "expected_range");
        if (!(jd(f, "p") < 0.05))
            continue;
        fprintf(out, "anomaly: %s p %.3g, observed %g, expected %g..%g (%s %s)\n", js(f, "feature"), jd(f, "p"),
                jd(f, "observed"), rg ? json_object_get_double(json_object_array_get_idx(rg, 0)) : NAN,
                rg ? json_object_get_double(json_object_array_get_idx(rg, 1)) : NAN, js(f, "group_level"),
                js(f, "group"));
    }
    fprintf(out, "(--output json: every profile, condition and anomaly)\n");
}

static int explain_main(const cli_args *a)
{
    const char *const *feeds;
    size_t n_feeds = cli_list(a, "feed", &feeds);
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
    cli_run_inputs(a, &o);
    const char *fmt = cli_str(a, "output");
    if (!fmt)
        fmt = isatty(STDOUT_FILENO) ? "text" : "json";
    if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
        fprintf(stderr, "ecorisk explain: --output expects text or json, got '%s'\n", fmt);
        return EX_USAGE_;
    }
    er_status st = er_explain(&o, id, &json, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    json_object *root = strcmp(fmt, "text") == 0 ? json_tokener_parse(json) : NULL;
    if (root)
        print_text(root, stdout);
    else
        puts(json);
    json_object_put(root);
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
    "A quarantined record is reported with its reason. With --model, the learned model's "
    "probability and every feature's SHAP contribution to its log-odds, largest first, "
    "each in words (\"importer: 7 of 9 earlier inspections positive, +1.80\").",
    explain_opts, CLI_NOPTS(explain_opts), explain_main,
    .examples = "ecorisk explain --feed day.csv --baseline baseline.json --id 26NLLMAN0000001796\n  why that declaration scored what it did\n"};
