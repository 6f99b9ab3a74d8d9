/*
 * cmd_report.c — `ecorisk report`: one self-contained HTML file for a run
 * directory (er_report in analyst.h), optionally with backtest hit rates and
 * recorded inspection outcomes.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ecorisk/analyst.h"

static const cli_opt report_opts[] = {
    {"run", 'r', CLI_STR, NULL, "DIR", "run output directory holding alerts.jsonl and summary.json (required)"},
    {"out", 'o', CLI_STR, NULL, "FILE", "HTML file to write (required)"},
    {"backtest", 0, CLI_STR, NULL, "FILE", "backtest JSON ('ecorisk backtest --out') for profile hit rates"},
    {"outcomes", 0, CLI_STR, NULL, "DIR", "outcome store ('ecorisk outcomes add') for seizure rates of alerts"},
    {"title", 0, CLI_STR, NULL, "TEXT", "page title (default: the run id)"},
    {"top", 0, CLI_INT, "10", "N", "rows in the top routes, origins and anomalies"},
    {"max-rows", 0, CLI_INT, "2000", "N", "alert table rows, highest risk first (0: all; a 1M-row day is 6 MB at 0)"},
};

static int report_main(const cli_args *a)
{
    er_report_opts o = {0};
    er_err err = {{0}};
    o.run_dir = cli_str(a, "run");
    o.out = cli_str(a, "out");
    if (!o.run_dir || !o.out) {
        fprintf(stderr, "ecorisk report: --run and --out are required (see 'ecorisk report --help')\n");
        return EX_USAGE_;
    }
    long top = cli_int(a, "top");
    if (top < 1 || top > 1000) {
        fprintf(stderr, "ecorisk report: --top expects 1..1000\n");
        return EX_USAGE_;
    }
    o.top = (size_t)top;
    long mr = cli_int(a, "max-rows");
    if (mr < 0) {
        fprintf(stderr, "ecorisk report: --max-rows expects 0 or more\n");
        return EX_USAGE_;
    }
    o.max_rows = (size_t)mr;
    o.backtest = cli_str(a, "backtest");
    o.outcomes = cli_str(a, "outcomes");
    o.title = cli_str(a, "title");
    er_status st = er_report(&o, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return st == ER_EIO ? EX_CANTCREAT_ : cli_exit_code(st);
    }
    cli_info("report written to %s", o.out);
    return EX_OK_;
}

const cli_cmd cmd_report = {
    "report",
    "write a self-contained HTML report of a run (charts, hit rates, sortable alert table)",
    "--run DIR --out report.html [--backtest FILE] [--outcomes DIR]",
    "Reads alerts.jsonl and summary.json from a run directory and writes ONE HTML file with "
    "no external assets: key figures, alerts per domain, profile and lane, the score "
    "distribution, top routes and origins, top anomalies, profile hit rates with 95% Wilson "
    "intervals when a backtest JSON or an outcome store is given, and a table of every alert "
    "(sortable by clicking a column; complete without JavaScript). Prints cleanly.",
    report_opts, CLI_NOPTS(report_opts), report_main,
    .examples = "ecorisk report --run runs/2026-11-24 --out report.html\n  an offline HTML page for one run\n"};
