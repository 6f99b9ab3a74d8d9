/*
 * cmd_ledger.c — `ecorisk ledger show` and `ecorisk ledger reset`: read the
 * durable document ledger a run keeps with --ledger (totals per permit,
 * licence-year and consent, with limits when --registry is given), and drop
 * the entries of one year's runs (docs/registries.md "Ledger").
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ecorisk/registry.h"

static const cli_opt show_opts[] = {
    {"ledger", 'l', CLI_STR, NULL, "DIR", "ledger directory (required)"},
    {"registry", 0, CLI_STR, NULL, "DIR", "registries, to print each document's limit and remaining quantity"},
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory (ODS substance table)"},
};

static const cli_opt reset_opts[] = {
    {"ledger", 'l', CLI_STR, NULL, "DIR", "ledger directory (required)"},
    {"year", 'y', CLI_INT, "0", "YEAR", "remove the entries of the runs dated in YEAR (required)"},
};

static int show_main(const cli_args *a)
{
    const char *dir = cli_str(a, "ledger");
    er_registry *reg = NULL;
    er_err err = {{0}};
    char *text = NULL;
    er_status st;
    if (!dir) {
        fprintf(stderr, "ecorisk ledger show: --ledger is required\n");
        return EX_USAGE_;
    }
    if (cli_str(a, "registry") &&
        (st = er_registry_load(&reg, cli_str(a, "registry"), cli_str(a, "reference"), &err)) != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    st = er_ledger_show(dir, reg, &text, &err);
    er_registry_free(reg);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    fputs(text, stdout);
    free(text);
    return fflush(stdout) == 0 ? EX_OK_ : EX_IOERR_;
}

static int reset_main(const cli_args *a)
{
    const char *dir = cli_str(a, "ledger");
    long year = cli_int(a, "year");
    er_err err = {{0}};
    size_t removed = 0;
    if (!dir || year < 1900 || year > 9999) {
        fprintf(stderr, "ecorisk ledger reset: --ledger DIR and --year YEAR (1900..9999) are required\n");
        return EX_USAGE_;
    }
    er_status st = er_ledger_reset_year(dir, (int)year, &removed, &err);
    if (st != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    cli_info("ledger %s: removed %zu run file%s of %ld", dir, removed, removed == 1 ? "" : "s", year);
    return EX_OK_;
}

const cli_cmd cmd_ledger_show = {
    "ledger show",
    "print the document ledger: quantity used per permit, licence-year and consent",
    "--ledger DIR [--registry DIR]",
    "Totals the ledger kept by 'ecorisk run --ledger DIR' over every run: one tab-separated line "
    "per document (kind, number, licence year or 0, quantity used, unit, limit, remaining, "
    "declarations), sorted by kind and number. With --registry the limit and remaining quantity "
    "come from the registries. Reading takes no lock: each run's entries are replaced atomically. "
    "Exit status: 0 success; 64 bad command line; 65 a damaged ledger file.",
    show_opts, CLI_NOPTS(show_opts), show_main,
    .examples = "ecorisk ledger show --ledger /var/lib/ecorisk/ledger --registry /srv/registries\n"
                "  quantity used and left per permit, licence-year and consent\n"};

const cli_cmd cmd_ledger_reset = {
    "ledger reset",
    "remove the ledger entries of one year's runs",
    "--ledger DIR --year YEAR",
    "Removes the run files whose business date (the run's --as-of) falls in YEAR, under the "
    "ledger's lock, and fsyncs the directory: their consumption no longer counts against any "
    "permit, licence or consent. Licence quotas are per year already; use this to close a year "
    "or to replay it from scratch. Exit status: 0 success; 64 bad command line; 75 a run holds "
    "the ledger.",
    reset_opts, CLI_NOPTS(reset_opts), reset_main,
    .examples = "ecorisk ledger reset --ledger /var/lib/ecorisk/ledger --year 2025\n"
                "  drop the consumption recorded by the runs of 2025\n"};
