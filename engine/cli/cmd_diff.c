/*
 * cmd_diff.c — `ecorisk diff`: alerts gained and lost between two profile
 * sets on the same declarations (er_diff in analyst.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst_args.h"
#include "ecorisk/profile.h"

static const cli_opt diff_opts[] = {
    ANALYST_INPUT_OPTS,
    {"profiles", 'p', CLI_LIST, NULL, "PATH", "current profile pack file or directory (default: the shipped packs)"},
    {"against", 'a', CLI_LIST, NULL, "PATH", "candidate profile pack file or directory (required)"},
    {"examples", 0, CLI_INT, "5", "N", "example declarations per change"},
    {"label-field", 'l', CLI_STR, NULL, "COLUMN", "column holding the label: adds precision and average precision by risk"},
    {"outcomes", 0, CLI_STR, NULL, "DIR", "outcome store: recorded inspection results as labels (override the column)"},
    {"out", 'o', CLI_STR, NULL, "FILE", "write the diff as JSON to FILE ('-': stdout, instead of the table)"},
};

static int diff_main(const cli_args *a)
{
    er_diff_opts o = {0};
    er_err err = {{0}};
    char *json = NULL, *table = NULL;
    int rc = analyst_input("diff", a, &o.in);
    o.in.label_field = cli_str(a, "label-field");
    o.in.outcomes = cli_str(a, "outcomes");
    if (rc != EX_OK_)
        return rc;
    o.n_a = cli_profiles(a, &o.profiles_a);
    o.n_b = cli_list(a, "against", &o.profiles_b);
    if (!o.n_b) {
        fprintf(stderr, "ecorisk diff: --against is required (see 'ecorisk diff --help')\n");
        return EX_USAGE_;
    }
    long ex = cli_int(a, "examples");
    if (ex < 1 || ex > 1000) {
        fprintf(stderr, "ecorisk diff: --examples expects 1..1000\n");
        return EX_USAGE_;
    }
    o.examples = (size_t)ex;
    er_status st = er_diff(&o, &json, &table, &err);
    return analyst_finish(st, &err, cli_str(a, "out"), json, table);
}

const cli_cmd cmd_diff = {
    "diff",
    "alerts gained and lost between two profile sets on the same declarations",
    "--feed F --profiles CURRENT --against CANDIDATE [--baseline B] [--out FILE]",
    "Scores every declaration with both profile sets exactly as 'run' does and reports what "
    "changes: for the alert the run would emit, alerts gained, lost, moved to another "
    "profile or lane, with lane transitions; per profile id (matched across the sets; added "
    "and removed profiles shown), alerts in each set, gained, lost, kept and lane changes; "
    "and the first example declarations of each change with their scores in A and B.",
    diff_opts, CLI_NOPTS(diff_opts), diff_main,
    .examples = "ecorisk diff --feed history.csv --profiles profiles --against candidate/\n  who a pack change would alert that it did not before, and who not any more\n"};
