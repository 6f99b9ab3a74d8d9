/*
 * analyst_args.c — option handling shared by the analyst subcommands (see
 * analyst_args.h).
 */
#include "analyst_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int analyst_input(const char *cmd, const cli_args *a, er_analyst_input *in)
{
    memset(in, 0, sizeof *in);
    in->n_feeds = cli_list(a, "feed", &in->feeds);
    if (!in->n_feeds) {
        fprintf(stderr, "ecorisk %s: --feed is required (see 'ecorisk %s --help')\n", cmd, cmd);
        return EX_USAGE_;
    }
    if (!cli_parse_format(cmd, a, &in->format))
        return EX_USAGE_;
    if (cli_given(a, "since") && !cli_parse_date(cmd, "since", cli_str(a, "since"), &in->since))
        return EX_USAGE_;
    if (cli_given(a, "until") && !cli_parse_date(cmd, "until", cli_str(a, "until"), &in->until))
        return EX_USAGE_;
    in->mapping = cli_str(a, "mapping");
    in->baseline = cli_str(a, "baseline");
    in->reference = cli_str(a, "reference");   /* NULL: the library's default location */
    return EX_OK_;
}

int analyst_finish(er_status st, const er_err *err, const char *path, char *json, char *table)
{
    int rc = EX_OK_;
    if (st != ER_OK) {
        cli_error("%s", err->msg);
        rc = cli_exit_code(st);
    } else {
        if (path)
            rc = analyst_write(path, json);
        if (rc == EX_OK_ && (!path || strcmp(path, "-") != 0))
            rc = analyst_write("-", table);
    }
    free(json);
    free(table);
    return rc;
}

int analyst_write(const char *path, const char *text)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return fflush(stdout) == 0 ? EX_OK_ : EX_IOERR_;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("%s: cannot create: %s", path, strerror(errno));
        return EX_CANTCREAT_;
    }
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        cli_error("%s: write failed: %s", path, strerror(errno));
        return EX_IOERR_;
    }
    return EX_OK_;
}
