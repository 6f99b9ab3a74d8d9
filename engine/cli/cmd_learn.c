/*
 * cmd_learn.c — `ecorisk learn`: train the learned model on inspection
 * outcomes (er_learn in model.h; docs/scoring.md "Learned model") and write
 * the model file; prints the validation summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst_args.h"
#include "ecorisk/model.h"

static const cli_opt learn_opts[] = {
    ANALYST_INPUT_OPTS,
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "profile packs whose indicators become features (default: the shipped packs)"},
    {"label-field", 'l', CLI_STR, NULL, "COLUMN", "column holding the label (non-zero / yes / true = positive)"},
    {"outcomes", 0, CLI_STR, NULL, "DIR", "outcome store: recorded inspection results override the label column"},
    {"extra-feature", 0, CLI_LIST, NULL, "NAME", "extra column used as a number (repeatable)"},
    {"extra-category", 0, CLI_LIST, NULL, "NAME", "extra column used as a category, by its historical positive rate (repeatable)"},
    {"without", 0, CLI_LIST, NULL, "NAME", "leave out a feature, a feature group (importer, ...) or every feature of an input field (net_kg, value, quantity, gross_kg, packages)"},
    {"valid-from", 0, CLI_STR, NULL, "DATE", "validation period starts at DATE (default: the latest 20% of labelled declarations)"},
    {"rounds", 0, CLI_INT, "2000", "N", "most boosting rounds"},
    {"early-stop", 0, CLI_INT, "50", "N", "stop after N rounds without a better validation average precision"},
    {"eta", 0, CLI_DOUBLE, "0.2", "X", "learning rate"},
    {"max-depth", 0, CLI_INT, "6", "N", "tree depth"},
    {"threads", 0, CLI_INT, "2", "N", "XGBoost threads (the model bytes do not depend on it)"},
    {"report", 0, CLI_STR, NULL, "FILE", "write the validation summary as JSON to FILE"},
    {"out", 'o', CLI_STR, NULL, "FILE", "model file to write (required)"},
};

static int learn_main(const cli_args *a)
{
    er_learn_opts o = {0};
    er_err err = {{0}};
    char *json = NULL, *table = NULL;
    int rc = analyst_input("learn", a, &o.in);
    if (rc != EX_OK_)
        return rc;
    o.in.label_field = cli_str(a, "label-field");
    o.in.outcomes = cli_str(a, "outcomes");
    o.out = cli_str(a, "out");
    if (!o.in.label_field && !o.in.outcomes) {
        fprintf(stderr, "ecorisk learn: labels needed: --label-field COLUMN and/or --outcomes DIR\n");
        return EX_USAGE_;
    }
    if (!o.out) {
        fprintf(stderr, "ecorisk learn: --out FILE is required\n");
        return EX_USAGE_;
    }
    if (cli_given(a, "valid-from") && !cli_parse_date("learn", "valid-from", cli_str(a, "valid-from"), &o.valid_from))
        return EX_USAGE_;
    o.n_profiles = cli_profiles(a, &o.profiles);
    o.n_extra_numeric = cli_list(a, "extra-feature", &o.extra_numeric);
    o.n_extra_category = cli_list(a, "extra-category", &o.extra_category);
    o.n_without = cli_list(a, "without", &o.without);
    long rounds = cli_int(a, "rounds"), es = cli_int(a, "early-stop"), depth = cli_int(a, "max-depth"),
         th = cli_int(a, "threads");
    o.eta = cli_double(a, "eta");
    if (rounds < 1 || es < 1 || depth < 1 || depth > 30 || th < 1 || th > 256 || !(o.eta > 0 && o.eta <= 1)) {
        fprintf(stderr, "ecorisk learn: --rounds, --early-stop >= 1, --max-depth 1..30, --threads 1..256, "
                        "--eta in (0, 1]\n");
        return EX_USAGE_;
    }
    o.max_rounds = (unsigned)rounds;
    o.early_stop = (unsigned)es;
    o.max_depth = (unsigned)depth;
    o.threads = (unsigned)th;
    er_status st = er_learn(&o, &json, &table, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    const char *rep = cli_str(a, "report");
    rc = EX_OK_;
    if (rep)
        rc = analyst_write(rep, json);
    if (rc == EX_OK_)
        rc = analyst_write("-", table);
    free(json);
    free(table);
    return rc;
}

const cli_cmd cmd_learn = {
    "learn",
    "train a gradient-boosted model on inspection outcomes (model file for run/backtest --model)",
    "--feed LABELLED --label-field COLUMN --baseline B [--profiles DIR] --out model.json",
    "Scores every labelled declaration as 'run' does and learns, with XGBoost, the probability "
    "that an inspection finds it positive from: every indicator of every loaded profile, every "
    "anomaly feature as a strength, derived numbers (log unit value and its distance to the "
    "group, gross/net, kg per package and per unit), novelty counts, and smoothed historical "
    "positive rates with their counts for the importer, declarant, exporter, HS6, HS4, origin, "
    "export country, origin x HS4, office and each --extra-category, computed for each "
    "declaration only from outcomes dated before it. Unlabelled declarations are left out, "
    "never taken as negatives. The latest period (--valid-from) validates with early stopping; "
    "the deployed model is refit on all labels. The model file records the versions, the "
    "features, the profile set and baseline ids, the periods and the validation metrics; "
    "run, backtest and diff refuse it with other packs or another baseline.",
    learn_opts, CLI_NOPTS(learn_opts), learn_main,
    .examples = "ecorisk learn --feed history.csv --outcomes outcomes/ --baseline baseline.json --out model.json\n"
                "  a model from the recorded inspections, for run --model\n"};
