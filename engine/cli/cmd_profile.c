/*
 * cmd_profile.c — `ecorisk profile lint` (check packs and lists, print every
 * message as `file: path: message`) and `ecorisk profile show` (one profile in
 * readable form with its resolved lists). Loading and checking live in the
 * library (profile.h); this file parses options and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ecorisk/decl.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"

static int load_common(const cli_args *a, const char *const *paths, size_t n, bool keep, er_refdata **ref,
                       er_profileset **set, er_status *st_out)
{
    er_err err = {{0}};
    er_status st;
    int32_t today = 0;
    const char *t = cli_str(a, "today");
    if (t && er_date_parse(t, strlen(t), &today) != ER_OK) {
        cli_error("--today expects a date YYYY-MM-DD, got '%s'", t);
        return EX_USAGE_;
    }
    if ((st = er_refdata_load(ref, cli_str(a, "reference"), &err)) != ER_OK) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    er_profile_opts o = {.ref = *ref, .lists_dir = cli_str(a, "lists"), .today = today};
    st = er_profileset_load(set, paths, n, &o, keep, &err);
    *st_out = st;
    if (st != ER_OK && !*set) {
        cli_error("%s", err.msg);
        return cli_exit_code(st);
    }
    return EX_OK_;
}

/* ---- profile lint ---------------------------------------------------------- */

static const cli_opt lint_opts[] = {
    {"lists", 0, CLI_STR, NULL, "DIR", "folder of reference lists (default: lists/ next to the first pack)"},
    {"reference", 0, CLI_STR, NULL, "DIR", "folder with countries.csv and currency-rates.csv (default: shipped reference data)"},
    {"today", 0, CLI_STR, NULL, "DATE", "check validity windows against DATE (YYYY-MM-DD) instead of today"},
    {"strict", 0, CLI_FLAG, NULL, NULL, "treat warnings as errors"},
};

static int lint_main(const cli_args *a)
{
    char *const *pos;
    size_t n = cli_positional(a, &pos);
    const char *def[1] = {er_profile_default_dir()};
    const char *const *paths = n ? (const char *const *)pos : def;
    if (!n)
        n = 1;
    er_refdata *ref = NULL;
    er_profileset *set = NULL;
    er_status st = ER_OK;
    int rc = load_common(a, paths, n, true, &ref, &set, &st);
    if (rc != EX_OK_)
        goto cleanup;
    const er_lint_msg *m;
    size_t nm = er_profileset_lint(set, &m), errors = 0, warnings = 0;
    for (size_t i = 0; i < nm; i++) {
        bool warn = m[i].severity == ER_LINT_WARNING;
        if (warn)
            warnings++;
        else
            errors++;
        printf("%s: %s%s%s%s\n", m[i].file, m[i].path, *m[i].path ? ": " : "", warn ? "warning: " : "",
               m[i].message);
    }
    fflush(stdout);
    cli_info("%zu profile%s checked: %zu error%s, %zu warning%s", er_profileset_count(set),
             er_profileset_count(set) == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
             warnings == 1 ? "" : "s");
    if (st == ER_EPROFILE || (st == ER_OK && cli_flag(a, "strict") && warnings))
        rc = EX_FINDINGS;
    else if (st != ER_OK)
        rc = cli_exit_code(st);   /* unreadable or not JSON: 65 / 66 / 74 */
cleanup:
    er_profileset_free(set);
    er_refdata_free(ref);
    return rc;
}

const cli_cmd cmd_profile_lint = {
    "profile lint",
    "check profile packs and reference lists",
    "[options] [FILE|DIR]...",
    "Loads each pack (a .json file, or every *.json in a folder; default: the shipped profiles) "
    "with the reference lists it uses, and prints every problem as 'file: path: message' on stdout, "
    "where path is the JSON path (e.g. profiles[3].indicators[1].when) or the list line. Errors: "
    "unknown field, operator or list, invalid HS code or country, weight or threshold out of range, "
    "duplicate id, validity ended, unreachable alert threshold. Warnings: overlapping entries, "
    "profiles or indicators. Exit status: 0 no errors, 1 errors found, 65 a file is not valid JSON, "
    "66 a file is missing.",
    lint_opts,
    CLI_NOPTS(lint_opts),
    lint_main,
    .examples = "ecorisk profile lint --today 2027-11-25\n  check the shipped packs as of a date (review and validity notices)\n"
    "ecorisk profile lint --strict my-packs/\n  warnings count as errors (CI)\n"};

/* ---- profile show ------------------------------------------------------------ */

static const cli_opt show_opts[] = {
    {"profiles", 'p', CLI_LIST, NULL, "FILE|DIR", "profile packs (default: the shipped profiles)"},
    {"lists", 0, CLI_STR, NULL, "DIR", "folder of reference lists (default: lists/ next to the first pack)"},
    {"reference", 0, CLI_STR, NULL, "DIR", "folder with countries.csv and currency-rates.csv (default: shipped reference data)"},
    {"today", 0, CLI_STR, NULL, "DATE", "check validity windows against DATE (YYYY-MM-DD) instead of today"},
};

static int show_main(const cli_args *a)
{
    char *const *pos;
    size_t npos = cli_positional(a, &pos);
    if (npos != 1) {
        cli_error("expected one profile id (see 'ecorisk profile show --help')");
        return EX_USAGE_;
    }
    const char *const *paths;
    size_t n = cli_list(a, "profiles", &paths);
    const char *def[1] = {er_profile_default_dir()};
    if (!n) {
        paths = def;
        n = 1;
    }
    er_refdata *ref = NULL;
    er_profileset *set = NULL;
    er_status st = ER_OK;
    char *txt = NULL;
    int rc = load_common(a, paths, n, false, &ref, &set, &st);
    if (rc != EX_OK_)
        goto cleanup;
    size_t i = er_profileset_find(set, pos[0]);
    if (i == (size_t)-1) {
        cli_error("no profile with id '%s' in %zu loaded profiles", pos[0], er_profileset_count(set));
        rc = EX_NOINPUT_;
        goto cleanup;
    }
    txt = er_profile_describe(set, i);
    if (!txt) {
        cli_error("out of memory");
        rc = EX_OSERR_;
        goto cleanup;
    }
    fputs(txt, stdout);
cleanup:
    free(txt);
    er_profileset_free(set);
    er_refdata_free(ref);
    return rc;
}

const cli_cmd cmd_profile_show = {
    "profile show",
    "print one profile in readable form with its resolved lists",
    "[options] ID",
    "Loads the packs (which must lint without errors) and prints the profile with id ID: "
    "owner, validity, references, thresholds and lanes, the scope and every indicator with its "
    "weight, reason and condition, each list resolved to its entries, and the provenance of each list.",
    show_opts,
    CLI_NOPTS(show_opts),
    show_main,
    .examples = "ecorisk profile show wl-pangolin-scales\n  a profile in plain words\n"};
