/*
 * cmd_outcomes_add.c — `ecorisk outcomes add`: records inspection results
 * from a CSV file into the local outcome store (er_outcomes_add in analyst.h).
 */
#include <stdio.h>

#include "cli.h"
#include "ecorisk/analyst.h"

static const cli_opt outcomes_add_opts[] = {
    {"file", 'f', CLI_STR, NULL, "RESULTS.csv", "inspection results: declaration_id,seized[,date][,notes] (required)"},
    {"store", 's', CLI_STR, "outcomes", "DIR", "outcome store directory (created if missing)"},
};

static int outcomes_add_main(const cli_args *a)
{
    const char *file = cli_str(a, "file"), *store = cli_str(a, "store");
    er_outcomes_added res;
    er_err err = {{0}};
    if (!file) {
        fprintf(stderr, "ecorisk outcomes add: --file is required (see 'ecorisk outcomes add --help')\n");
        return EX_USAGE_;
    }
    er_status st = er_outcomes_add(store, file, &res, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    cli_info("%s: %llu rows: %llu added, %llu updated, %llu unchanged -> %s/outcomes.jsonl", file,
             (unsigned long long)res.rows, (unsigned long long)res.added, (unsigned long long)res.updated,
             (unsigned long long)res.unchanged, store);
    return EX_OK_;
}

const cli_cmd cmd_outcomes_add = {
    "outcomes add",
    "record inspection results (seized yes/no) in the local outcome store",
    "--file RESULTS.csv [--store DIR]",
    "Reads a CSV with a header row and the columns declaration_id (or id), seized "
    "(yes/no, true/false, 1/0), and optionally date (YYYY-MM-DD) and notes, and appends the "
    "new and changed results to DIR/outcomes.jsonl (one JSON object per line, fsynced). "
    "A declaration recorded twice keeps its last result. All or nothing: an invalid row "
    "stops the command with its line number and nothing is written. 'backtest' and "
    "'report' read the store with --outcomes DIR.",
    outcomes_add_opts, CLI_NOPTS(outcomes_add_opts), outcomes_add_main,
    .examples = "ecorisk outcomes add --file results.csv --store outcomes/\n  record inspection results for backtests\n"};
