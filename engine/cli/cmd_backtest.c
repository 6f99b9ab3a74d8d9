/*
 * cmd_backtest.c — `ecorisk backtest`: profile packs against labelled
 * history (er_backtest in analyst.h): a readable table on stdout and the
 * full metrics as JSON with --out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst_args.h"
#include "ecorisk/profile.h"

static const cli_opt backtest_opts[] = {
    ANALYST_INPUT_OPTS,
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "profile pack file or directory (default: the shipped packs)"},
    {"label-field", 'l', CLI_STR, NULL, "COLUMN", "column holding the label (non-zero / yes / true = positive)"},
    {"outcomes", 0, CLI_STR, NULL, "DIR", "outcome store: recorded inspection results override the label column"},
    {"target-rate", 0, CLI_DOUBLE, "0.05", "RATE", "inspection rate for the threshold report (0..1; 0: none)"},
    {"confidence", 0, CLI_DOUBLE, "0.95", "LEVEL", "confidence level of the Wilson intervals"},
    {"model", 0, CLI_STR, NULL, "FILE", "learned model (ecorisk learn): also rank by its probability"},
    {"out", 'o', CLI_STR, NULL, "FILE", "write the metrics as JSON to FILE ('-': stdout, instead of the table)"},
};

static int backtest_main(const cli_args *a)
{
    er_backtest_opts o = {0};
    er_err err = {{0}};
    char *json = NULL, *table = NULL;
    int rc = analyst_input("backtest", a, &o.in);
    if (rc != EX_OK_)
        return rc;
    o.in.label_field = cli_str(a, "label-field");
    o.in.outcomes = cli_str(a, "outcomes");
    if (!o.in.label_field && !o.in.outcomes) {
        fprintf(stderr, "ecorisk backtest: labels needed: --label-field COLUMN and/or --outcomes DIR\n");
        return EX_USAGE_;
    }
    o.n_profiles = cli_profiles(a, &o.profiles);
    o.target_rate = cli_double(a, "target-rate");
    o.confidence = cli_double(a, "confidence");
    o.model = cli_str(a, "model");
    if (!(o.target_rate >= 0 && o.target_rate <= 1) || !(o.confidence > 0 && o.confidence < 1)) {
        fprintf(stderr, "ecorisk backtest: --target-rate expects 0..1 and --confidence 0..1 (exclusive)\n");
        return EX_USAGE_;
    }
    er_status st = er_backtest(&o, &json, &table, &err);
    return analyst_finish(st, &err, cli_str(a, "out"), json, table);
}

const cli_cmd cmd_backtest = {
    "backtest",
    "hit rates, recall, lift and precision at inspection rates of profiles on labelled history",
    "--feed LABELLED --label-field COLUMN [--mapping M] [--profiles DIR] [--baseline B] [--out FILE]",
    "Scores every declaration of the labelled feeds exactly as 'run' does and reports, per "
    "profile, per domain and for the alerts the run would emit: declarations in scope, "
    "alerts, hits, hit rate with a Wilson interval, recall and lift over the base rate; "
    "precision and recall when inspecting the top 1%, 2% and 5% of all declarations ranked "
    "by their highest domain score (ties in declaration order); and the score threshold "
    "reaching --target-rate. Labels come from --label-field (non-zero, yes or true is "
    "positive; 0, no or false negative; anything else unlabelled and left out) and/or from "
    "the outcome store (--outcomes), whose recorded results win. --model also ranks the same "
    "declarations by a learned model's probability (ecorisk learn) and reports its average "
    "precision and precision and recall at 1%, 2%, 5% and 10% next to the packs'. --out writes the JSON.",
    backtest_opts, CLI_NOPTS(backtest_opts), backtest_main,
    .examples = "ecorisk backtest --feed labelled.csv --label-field seized --baseline baseline.json --out bt.json\n  precision and recall of the packs at 1 % and 5 % inspection\n"};
