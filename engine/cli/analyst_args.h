/*
 * analyst_args.h — option handling shared by the analyst subcommands
 * (backtest, diff, tune): the labelled-feed inputs and writing result files.
 */
#ifndef ECORISK_ANALYST_ARGS_H
#define ECORISK_ANALYST_ARGS_H

#include "cli.h"
#include "ecorisk/analyst.h"

/* The option table entries every analyst command has (feed, mapping, format,
 * baseline, reference, since, until), listed by each command's table. */
#define ANALYST_INPUT_OPTS                                                                              \
    {"feed", 'f', CLI_LIST, NULL, "FILE", "history feed (with outcomes for backtest and tune): file, '-' or URL (required)"}, \
    {"mapping", 'm', CLI_STR, NULL, "MAPPING", "column mapping name or file (e.g. kcs-customs)"},          \
    {"format", 0, CLI_STR, "auto", "FMT", "csv, jsonl or auto"},                                           \
    {"baseline", 'b', CLI_STR, NULL, "FILE", "baseline file (anomaly predicates need it)"},                \
    {"since", 0, CLI_STR, NULL, "DATE", "ignore declarations before DATE"},                                \
    {"until", 0, CLI_STR, NULL, "DATE", "ignore declarations after DATE"},                                 \
    {"reference", 0, CLI_STR, NULL, "DIR", "reference data directory (countries, currency rates)"}

/* Fill in from the common options; returns EX_OK_ or EX_USAGE_ (message printed). */
int analyst_input(const char *cmd, const cli_args *a, er_analyst_input *in);

/* Write text to path ("-" = stdout); returns EX_OK_ or EX_CANTCREAT_ (message printed). */
int analyst_write(const char *path, const char *text);

/* The end of every analyst command: st and err from the library call; on
 * success the JSON to path when set, and the table to stdout unless path is
 * "-". Frees json and table; returns the exit code (message printed). */
int analyst_finish(er_status st, const er_err *err, const char *path, char *json, char *table);

#endif
