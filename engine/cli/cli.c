/*
 * cli.c — option parsing (getopt_long over each subcommand's static table),
 * --help and man page generation from the same table, exit-code mapping,
 * logging and the TTY-only progress line. Nothing here knows any subcommand.
 */
#include "cli.h"

#include "ecorisk/decl.h"
#include "ecorisk/version.h"
#include "ecorisk/profile.h"
#include "ecorisk/quarantine.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct cli_value {
    bool         given;
    const char  *str;      /* last value (or default) */
    const char **list;     /* CLI_LIST values */
    size_t       n_list;
} cli_value;

struct cli_args {
    const cli_cmd *cmd;
    cli_value     *v;
    char         **pos;
    int            n_pos;
};

/* Options every subcommand accepts, appended to its table. */
static const cli_opt common_opts[] = {
    {"help", 'h', CLI_FLAG, NULL, NULL, "show this help and exit"},
    {"log-level", 0, CLI_STR, "info", "LEVEL", "error, warn, info or debug"},
    {"log-format", 0, CLI_STR, "text", "FMT", "log lines on stderr as text or json"},
    {"quiet", 'q', CLI_FLAG, NULL, NULL, "only log errors"},
};
#define N_COMMON CLI_NOPTS(common_opts)

/* Option i of cmd: its own table, then its shared group, then the common ones. */
static const cli_opt *opt_at(const cli_cmd *cmd, size_t i)
{
    if (i < cmd->n_opts)
        return &cmd->opts[i];
    i -= cmd->n_opts;
    if (i < cmd->n_group)
        return &cmd->group[i];
    return &common_opts[i - cmd->n_group];
}

size_t cli_n_opts(const cli_cmd *cmd) { return cmd->n_opts + cmd->n_group + N_COMMON; }
const cli_opt *cli_opt_at(const cli_cmd *cmd, size_t i) { return opt_at(cmd, i); }

static size_t opt_index(const cli_args *a, const char *name)
{
    size_t total = cli_n_opts(a->cmd);
    for (size_t i = 0; i < total; i++)
        if (strcmp(opt_at(a->cmd, i)->name, name) == 0)
            return i;
    fprintf(stderr, "ecorisk: internal error: option --%s not declared by '%s'\n", name, a->cmd->name);
    abort();
}

const char *cli_str(const cli_args *a, const char *name)
{
    size_t i = opt_index(a, name);
    return a->v[i].given ? a->v[i].str : opt_at(a->cmd, i)->def;
}

long cli_int(const cli_args *a, const char *name)
{
    const char *s = cli_str(a, name);
    return s ? strtol(s, NULL, 10) : 0;
}

double cli_double(const cli_args *a, const char *name)
{
    const char *s = cli_str(a, name);
    return s ? strtod(s, NULL) : 0.0;
}

bool cli_flag(const cli_args *a, const char *name)
{
    return a->v[opt_index(a, name)].given;
}

bool cli_given(const cli_args *a, const char *name)
{
    return a->v[opt_index(a, name)].given;
}

size_t cli_list(const cli_args *a, const char *name, const char *const **vals)
{
    size_t i = opt_index(a, name);
    static const char *one[1];
    if (a->v[i].n_list == 0 && opt_at(a->cmd, i)->def) {
        one[0] = opt_at(a->cmd, i)->def;
        *vals = one;
        return 1;
    }
    *vals = a->v[i].list;
    return a->v[i].n_list;
}

size_t cli_positional(const cli_args *a, char *const **vals)
{
    *vals = a->pos;
    return (size_t)a->n_pos;
}

const cli_cmd *cli_command(const cli_args *a) { return a->cmd; }

/* Edit distance (insertions, deletions, substitutions, adjacent swaps) between
 * two short words; capped at 99 for words longer than 63 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = 0, len = strlen(word);
    size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d <= limit && (!best || d < best_d)) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

/* "unknown option --fed (did you mean --feed?)": the name without dashes and value. */
static void unknown_option(const cli_cmd *cmd, const char *bad)
{
    char word[64];
    const char *w = bad;
    while (*w == '-') w++;
    snprintf(word, sizeof word, "%.*s", (int)strcspn(w, "="), w);
    const char *names[128];
    size_t n = 0, total = cli_n_opts(cmd);
    for (size_t i = 0; i < total && n < 128; i++)
        names[n++] = opt_at(cmd, i)->name;
    const char *hint = bad[0] == '-' && bad[1] == '-' ? cli_suggest(word, names, n) : NULL;
    if (hint)
        fprintf(stderr, "ecorisk %s: unknown option %s (did you mean --%s? see 'ecorisk %s --help')\n",
                cmd->name, bad, hint, cmd->name);
    else
        fprintf(stderr, "ecorisk %s: unknown option %s (see 'ecorisk %s --help')\n", cmd->name, bad, cmd->name);
}

static const char *type_metavar(const cli_opt *o)
{
    if (o->metavar) return o->metavar;
    switch (o->type) {
    case CLI_INT: return "N";
    case CLI_DOUBLE: return "X";
    default: return "VALUE";
    }
}

static bool check_value(const cli_opt *o, const char *val)
{
    char *end = NULL;
    if (o->type == CLI_INT) {
        strtol(val, &end, 10);
        return end != val && *end == '\0';
    }
    if (o->type == CLI_DOUBLE) {
        strtod(val, &end);
        return end != val && *end == '\0';
    }
    return true;
}

void cli_print_help(const cli_cmd *cmd, FILE *out)
{
    fprintf(out, "Usage: ecorisk %s %s\n\n%s\n", cmd->name, cmd->usage ? cmd->usage : "[options]",
            cmd->summary);
    if (cmd->description && *cmd->description)
        fprintf(out, "\n%s\n", cmd->description);
    fprintf(out, "\nOptions:\n");
    size_t total = cli_n_opts(cmd);
    for (size_t i = 0; i < total; i++) {
        const cli_opt *o = opt_at(cmd, i);
        if (cmd->n_group && i == cmd->n_opts)
            fprintf(out, "\n%s:\n", cmd->group_title ? cmd->group_title : "More options");
        else if (cmd->n_group && i == cmd->n_opts + cmd->n_group)
            fprintf(out, "\nCommon options:\n");
        char left[96];
        if (o->type == CLI_FLAG)
            snprintf(left, sizeof left, "%s%c%s--%s", o->short_name ? "-" : "",
                     o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name);
        else
            snprintf(left, sizeof left, "%s%c%s--%s %s", o->short_name ? "-" : "",
                     o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                     type_metavar(o));
        fprintf(out, "  %-30s %s", left, o->help);
        if (o->def && o->type != CLI_FLAG)
            fprintf(out, " (default: %s)", o->def);
        if (o->type == CLI_LIST && !strstr(o->help, "repeat"))
            fprintf(out, " (repeatable)");
        fputc('\n', out);
    }
}

static void man_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '-') fputs("\\-", out);
        else if (*s == '\\') fputs("\\e", out);
        else fputc(*s, out);
    }
}

/* Tagged paragraphs: the tag in the font of `font` (".B " or ".I "), then its text. */
static void man_tagged(FILE *out, const char *font, const char *const (*items)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, ".TP\n%s", font);
        man_escape(out, items[i][0]);
        fputc('\n', out);
        man_escape(out, items[i][1]);
        fputc('\n', out);
    }
}

/* The ENVIRONMENT and FILES sections every page shares (docs/operations.md). */
static void man_env_files(FILE *out)
{
    fprintf(out, ".SH ENVIRONMENT\n");
    static const char *const env[][2] = {
        {"ECORISK_PROFILES", "folder of the profile packs used when --profiles is not given"},
        {"ECORISK_MAPPINGS", "folder searched for mapping names (--mapping NAME)"},
        {"ECORISK_REFERENCE", "folder of the reference data (countries, currency rates)"},
        {"ECORISK_HOME", "a folder holding profiles/, mappings/ and reference/ (after the three above)"},
        {"ECORISK_TOKEN", "bearer token for push and run --push when --token-file is not given"},
    };
    man_tagged(out, ".B ", env, sizeof env / sizeof env[0]);
    fprintf(out, ".SH FILES\n");
    static const char *const files[][2] = {
        {"<prefix>/share/ecorisk/profiles", "the shipped profile packs and their lists"},
        {"<prefix>/share/ecorisk/mappings", "the shipped feed mappings (canonical-csv, kcs-customs, ...)"},
        {"<prefix>/share/ecorisk/reference", "countries.csv and currency-rates.csv"},
        {"OUT/alerts.jsonl, OUT/quarantine.jsonl, OUT/summary.json, OUT/metrics.prom",
         "what run writes into its output folder"},
        {"<prefix>/share/bash-completion/completions/ecorisk", "bash completion (zsh: share/zsh/site-functions/_ecorisk)"},
    };
    man_tagged(out, ".I ", files, sizeof files / sizeof files[0]);
}

/* EXAMPLES from cmd->examples: "command\n  explanation\n" pairs. */
static void man_examples(FILE *out, const char *ex)
{
    fprintf(out, ".SH EXAMPLES\n");
    while (ex && *ex) {
        size_t n = strcspn(ex, "\n");
        bool expl = ex[0] == ' ';
        fprintf(out, "%s", expl ? "" : ".TP\n.B ");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(expl && n >= 2 ? n - 2 : n), expl ? ex + 2 : ex);
        man_escape(out, line);
        fputc('\n', out);
        ex += n + (ex[n] == '\n');
    }
}

void cli_print_man(const cli_cmd *cmd, FILE *out)
{
    char title[64];
    snprintf(title, sizeof title, "ecorisk-%s", cmd->name);
    for (char *p = title; *p; p++)
        if (*p == ' ') *p = '-';
    fprintf(out, ".TH %s 1 \"\" \"ecorisk %s\" \"ecorisk manual\"\n", title, ECORISK_VERSION);
    fprintf(out, ".SH NAME\n");
    man_escape(out, title);
    fprintf(out, " \\- ");
    man_escape(out, cmd->summary);
    fprintf(out, "\n.SH SYNOPSIS\n.B ecorisk %s\n", cmd->name);
    man_escape(out, cmd->usage ? cmd->usage : "[options]");
    fprintf(out, "\n.SH DESCRIPTION\n");
    man_escape(out, cmd->description && *cmd->description ? cmd->description : cmd->summary);
    fprintf(out, "\n.SH OPTIONS\n");
    size_t total = cli_n_opts(cmd);
    for (size_t i = 0; i < total; i++) {
        const cli_opt *o = opt_at(cmd, i);
        if (cmd->n_group && i == cmd->n_opts) {
            fprintf(out, ".SS ");
            man_escape(out, cmd->group_title ? cmd->group_title : "More options");
            fputc('\n', out);
        } else if (cmd->n_group && i == cmd->n_opts + cmd->n_group)
            fprintf(out, ".SS Common options\n");
        fprintf(out, ".TP\n.B ");
        if (o->short_name) fprintf(out, "\\-%c, ", o->short_name);
        fprintf(out, "\\-\\-");
        man_escape(out, o->name);
        if (o->type != CLI_FLAG) {
            fprintf(out, " \\fI");
            man_escape(out, type_metavar(o));
            fprintf(out, "\\fR");
        }
        fputc('\n', out);
        man_escape(out, o->help);
        if (o->def && o->type != CLI_FLAG) {
            fprintf(out, " (default: ");
            man_escape(out, o->def);
            fputc(')', out);
        }
        fputc('\n', out);
    }
    fprintf(out, ".SH EXIT STATUS\n0 success; 1 success with findings; 64 usage; 65 invalid input; "
                 "66 input missing; 69 endpoint, feed URL or library (libcurl, XGBoost) unavailable; 70 internal error; 71 OS error; "
                 "73 cannot create output; 74 I/O error; 75 alerts left pending; 78 bad configuration.\n");
    if (cmd->examples)
        man_examples(out, cmd->examples);
    man_env_files(out);
    fprintf(out, ".SH SEE ALSO\n.BR ecorisk (1)\n");
}

void cli_print_main_man(FILE *out)
{
    fprintf(out, ".TH ECORISK 1 \"\" \"ecorisk %s\" \"ecorisk manual\"\n", ECORISK_VERSION);
    fprintf(out, ".SH NAME\necorisk \\- risk profiling of customs declarations for illicit "
                 "environmental trade (wildlife, ODS, waste)\n");
    fprintf(out, ".SH SYNOPSIS\n.B ecorisk\n\\fICOMMAND\\fR [\\fIoptions\\fR]\n.SH COMMANDS\n");
    for (size_t i = 0; i < cli_n_commands; i++) {
        fprintf(out, ".TP\n.B ");
        man_escape(out, cli_commands[i]->name);
        fputc('\n', out);
        man_escape(out, cli_commands[i]->summary);
        fputc('\n', out);
    }
    fprintf(out, ".SH EXIT STATUS\n0 success; 1 success with findings; 64 usage; 65 invalid input; "
                 "66 input missing; 69 endpoint, feed URL or library (libcurl, XGBoost) unavailable; 70 internal error; 71 OS error; "
                 "73 cannot create output; 74 I/O error; 75 alerts left pending; 78 bad configuration.\n");
    man_examples(out, "ecorisk run --feed day.csv --baseline baseline.json --out runs/today\n"
                      "  score a day of declarations\n"
                      "ecorisk help run\n  the options of one command\n"
                      "ecorisk baseline\n  lists the sub-commands of a group\n");
    man_env_files(out);
    fprintf(out, ".SH SEE ALSO\nOne page per command: ");
    for (size_t i = 0; i < cli_n_commands; i++) {
        char title[64];
        snprintf(title, sizeof title, "ecorisk-%s", cli_commands[i]->name);
        for (char *p = title; *p; p++)
            if (*p == ' ') *p = '-';
        fprintf(out, "%s%s(1)", i ? ", " : "", title);
    }
    fputc('\n', out);
}

int cli_dispatch(const cli_cmd *cmd, int argc, char **argv)
{
    size_t total = cli_n_opts(cmd);
    struct option *lopts = calloc(total + 1, sizeof *lopts);
    cli_value *vals = calloc(total, sizeof *vals);
    char shorts[128] = ":";   /* leading ':': a missing value returns ':' */
    size_t ns = 1;
    int rc = EX_SOFTWARE_;
    cli_args a = {0};

    if (!lopts || !vals) {
        fprintf(stderr, "ecorisk: out of memory\n");
        rc = EX_OSERR_;
        goto cleanup;
    }
    for (size_t i = 0; i < total; i++) {
        const cli_opt *o = opt_at(cmd, i);
        lopts[i].name = o->name;
        lopts[i].has_arg = o->type == CLI_FLAG ? no_argument : required_argument;
        lopts[i].flag = NULL;
        lopts[i].val = 1000 + (int)i;
        if (o->short_name && ns + 3 < sizeof shorts) {
            shorts[ns++] = o->short_name;
            if (o->type != CLI_FLAG) shorts[ns++] = ':';
            shorts[ns] = '\0';
        }
    }
    a.cmd = cmd;
    a.v = vals;
    optind = 1;
    opterr = 0;
    for (;;) {
        int li = -1;
        int c = getopt_long(argc, argv, shorts, lopts, &li);
        if (c == -1) break;
        size_t idx = total;
        if (c >= 1000) {
            idx = (size_t)(c - 1000);
        } else if (c != '?' && c != ':') {
            for (size_t i = 0; i < total; i++)
                if (opt_at(cmd, i)->short_name == c) idx = i;
        }
        if (c == ':') {
            const cli_opt *m = NULL;
            if (optopt >= 1000 && (size_t)(optopt - 1000) < total)
                m = opt_at(cmd, (size_t)(optopt - 1000));
            else
                for (size_t i = 0; i < total; i++)
                    if (opt_at(cmd, i)->short_name == optopt) m = opt_at(cmd, i);
            if (m)
                fprintf(stderr, "ecorisk %s: option --%s needs a value (%s)\n", cmd->name, m->name, type_metavar(m));
            else
                fprintf(stderr, "ecorisk %s: option %s needs a value\n", cmd->name, argv[optind - 1]);
            rc = EX_USAGE_;
            goto cleanup;
        }
        if (idx >= total) {
            unknown_option(cmd, argv[optind - 1]);
            rc = EX_USAGE_;
            goto cleanup;
        }
        const cli_opt *o = opt_at(cmd, idx);
        if (o->type != CLI_FLAG && !check_value(o, optarg)) {
            fprintf(stderr, "ecorisk %s: --%s expects %s, got '%s'\n", cmd->name, o->name,
                    o->type == CLI_INT ? "an integer" : "a number", optarg);
            rc = EX_USAGE_;
            goto cleanup;
        }
        vals[idx].given = true;
        vals[idx].str = optarg;
        if (o->type == CLI_LIST) {
            const char **nl = realloc(vals[idx].list, (vals[idx].n_list + 1) * sizeof *nl);
            if (!nl) {
                fprintf(stderr, "ecorisk: out of memory\n");
                rc = EX_OSERR_;
                goto cleanup;
            }
            nl[vals[idx].n_list++] = optarg;
            vals[idx].list = nl;
        }
    }
    a.pos = argv + optind;
    a.n_pos = argc - optind;

    if (cli_flag(&a, "help")) {
        cli_print_help(cmd, stdout);
        rc = EX_OK_;
        goto cleanup;
    }
    {
        const char *lv = cli_str(&a, "log-level");
        cli_level level = CLI_INFO;
        if (strcmp(lv, "error") == 0) level = CLI_ERROR;
        else if (strcmp(lv, "warn") == 0) level = CLI_WARN;
        else if (strcmp(lv, "info") == 0) level = CLI_INFO;
        else if (strcmp(lv, "debug") == 0) level = CLI_DEBUG;
        else {
            fprintf(stderr, "ecorisk %s: --log-level expects error, warn, info or debug\n", cmd->name);
            rc = EX_USAGE_;
            goto cleanup;
        }
        const char *lf = cli_str(&a, "log-format");
        if (strcmp(lf, "text") != 0 && strcmp(lf, "json") != 0) {
            fprintf(stderr, "ecorisk %s: --log-format expects text or json\n", cmd->name);
            rc = EX_USAGE_;
            goto cleanup;
        }
        if (cli_flag(&a, "quiet")) level = CLI_ERROR;
        cli_log_setup(level, strcmp(lf, "json") == 0);
    }
    rc = cmd->run(&a);

cleanup:
    if (vals)
        for (size_t i = 0; i < total; i++)
            free(vals[i].list);
    free(vals);
    free(lopts);
    return rc;
}

bool cli_parse_date(const char *cmd, const char *opt, const char *s, int32_t *days)
{
    if (er_date_parse(s, strlen(s), days) != ER_OK || strlen(s) != 10) {
        fprintf(stderr, "ecorisk %s: --%s expects a date YYYY-MM-DD, got '%s'\n", cmd, opt, s);
        return false;
    }
    return true;
}

bool cli_parse_format(const char *cmd, const cli_args *a, er_format *out)
{
    const char *fmt = cli_str(a, "format");
    *out = ER_FORMAT_AUTO;
    if (!fmt)
        return true;
    if (!er_format_from_name(fmt, out)) {
        char names[128];
        er_format_list(names, sizeof names);
        fprintf(stderr, "ecorisk %s: --format expects %s or auto, got '%s'\n", cmd, names, fmt);
        return false;
    }
    return true;
}

size_t cli_profiles(const cli_args *a, const char *const **vals)
{
    static const char *shipped[1];
    size_t n = cli_list(a, "profiles", vals);
    if (n)
        return n;
    shipped[0] = er_profile_default_dir();
    *vals = shipped;
    return 1;
}

bool cli_date_opt(const cli_args *a, const char *name, int32_t *days)
{
    const char *s = cli_str(a, name);
    *days = 0;
    if (s && er_date_parse(s, strlen(s), days) != ER_OK) {
        cli_error("--%s expects a date YYYY-MM-DD, got '%s'", name, s);
        return false;
    }
    return true;
}

int cli_feed_opts(const char *cmd, const cli_args *a, er_feed_opts *o)
{
    o->max_time_s = cli_int(a, "max-time");
    o->cacert = cli_str(a, "cacert");
    o->warn = cli_warn_cb;
    if (!cli_parse_format(cmd, a, &o->format))
        return EX_USAGE_;
    if (!cli_date_opt(a, "since", &o->since) || !cli_date_opt(a, "until", &o->until))
        return EX_USAGE_;
    return EX_OK_;
}

void cli_run_inputs(const cli_args *a, er_run_opts *o)
{
    o->n_feeds = cli_list(a, "feed", &o->feeds);
    o->mapping = cli_str(a, "mapping");
    o->n_profiles = cli_profiles(a, &o->profiles);
    o->baseline = cli_str(a, "baseline");
    o->model = cli_str(a, "model");
    o->registry = cli_str(a, "registry");
    o->ledger = cli_str(a, "ledger");
    o->config = cli_str(a, "config");
    o->reference = cli_str(a, "reference");
}

int cli_close_quarantine(FILE **qf, const char *qpath)
{
    if (!*qf)
        return EX_OK_;
    int cr = fclose(*qf);
    *qf = NULL;
    if (cr != 0) {
        cli_error("%s: write failed: %s", qpath, strerror(errno));
        return EX_IOERR_;
    }
    return EX_OK_;
}

int cli_open_quarantine(const char *path, FILE **qf)
{
    *qf = fopen(path, "w");
    if (!*qf) {
        cli_error("%s: cannot create: %s", path, strerror(errno));
        return EX_CANTCREAT_;
    }
    setvbuf(*qf, NULL, _IOFBF, 1u << 16);
    return EX_OK_;
}

int cli_drain_feed(er_feed *feed, er_batch *batch, const char *what, cli_batch_fn each, void *ctx,
                   FILE *qf, const char *qpath)
{
    er_err err = {{0}};
    er_status st;
    int rc = EX_OK_;
    cli_progress *prog = cli_progress_start(what, er_feed_size(feed));
    while ((st = er_feed_next(feed, batch, &err)) == ER_OK) {
        if (each && (st = each(ctx, batch, &err)) != ER_OK) {
            cli_error("%s: %s", er_feed_name(feed), err.msg);
            rc = cli_exit_code(st);
            goto cleanup;
        }
        if (qf && (st = er_quarantine_write_batch(qf, batch, &err)) != ER_OK) {
            cli_error("%s: %s", qpath, err.msg);
            rc = EX_IOERR_;
            goto cleanup;
        }
        const er_feed_stats *s = er_feed_stats_get(feed);
        cli_progress_update(prog, s->rows_read, er_feed_raw_bytes(feed), 0);
    }
    if (st != ER_EOF) {
        cli_error("%s", err.msg);
        rc = cli_exit_code(st);
    }
cleanup:
    cli_progress_done(prog);
    return rc;
}

int cli_load_feed_context(const cli_args *a, er_refdata **ref, er_mapping **map)
{
    er_err err = {{0}};
    er_status st;
    *ref = NULL;
    *map = NULL;
    if ((st = er_refdata_load(ref, cli_str(a, "reference"), &err)) != ER_OK) {
        cli_error("%s", err.msg);
        return st == ER_ENOTFOUND ? EX_NOINPUT_ : EX_CONFIG_;
    }
    const char *m = cli_str(a, "mapping");
    if (m && (st = er_mapping_load(map, m, &err)) != ER_OK) {
        cli_error("%s", err.msg);
        return st == ER_ENOTFOUND ? EX_NOINPUT_ : cli_exit_code(st);
    }
    return EX_OK_;
}

int cli_reader_load(cli_reader *r, const cli_args *a, er_feed_opts *o)
{
    int rc = cli_load_feed_context(a, &r->ref, &r->map);
    o->ref = r->ref;
    o->mapping = r->map;
    return rc;
}

void cli_reader_free(cli_reader *r)
{
    if (r->qf)
        fclose(r->qf);
    er_batch_free(r->batch);
    er_feed_free(r->feed);
    er_mapping_free(r->map);
    er_refdata_free(r->ref);
    memset(r, 0, sizeof *r);
}

int cli_exit_code(er_status st)
{
    switch (st) {
    case ER_OK: case ER_EOF: return EX_OK_;
    case ER_ENOMEM: return EX_OSERR_;
    case ER_EINVAL: return EX_USAGE_;
    case ER_EIO: return EX_IOERR_;
    case ER_ENOTFOUND: return EX_NOINPUT_;
    case ER_EPARSE: case ER_EFORMAT: case ER_EPROFILE: case ER_EBASELINE: case ER_EVERSION:
    case ER_ELIMIT:
        return EX_DATAERR_;
    case ER_ENET: case ER_EHTTP: case ER_ELIBRARY: return EX_UNAVAILABLE_;
    case ER_EPENDING: case ER_EBUSY: return EX_TEMPFAIL_;
    case ER_ECREATE: return EX_CANTCREAT_;
    default: return EX_SOFTWARE_;
    }
}

/* ---- logging ---- */

static cli_level log_level = CLI_INFO;
static bool log_json = false;

void cli_log_setup(cli_level level, bool json)
{
    log_level = level;
    log_json = json;
}

static void json_escape(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", out);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
}

static void log_line(cli_level level, const char *fields, const char *msg)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (log_json) {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, names[level]);
        json_escape(stderr, msg);
        fprintf(stderr, "\"%s%s}\n", fields && *fields ? "," : "", fields ? fields : "");
    } else {
        fprintf(stderr, "ecorisk: %s: %s\n", names[level], msg);
    }
}

static void vlog(cli_level level, const char *fields, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_line(level, fields, msg);
}

void cli_log(cli_level level, const char *fmt, ...)
{
    if (level > log_level) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, fmt, ap);
    va_end(ap);
}

void cli_warn_cb(void *ud, const char *msg)
{
    (void)ud;
    cli_log(CLI_WARN, "%s", msg);
}

void cli_log_fields(cli_level level, const char *fields, const char *fmt, ...)
{
    if (level > log_level) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fields, fmt, ap);
    va_end(ap);
}

/* ---- progress ---- */

struct cli_progress {
    const char *what;
    unsigned long long total;
    struct timespec start, last;
    bool shown;
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

cli_progress *cli_progress_start(const char *what, unsigned long long total_bytes)
{
    if (!isatty(STDERR_FILENO)) return NULL;
    cli_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->what = what;
    p->total = total_bytes;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last = p->start;
    return p;
}

void cli_progress_update(cli_progress *p, unsigned long long rows, unsigned long long bytes,
                         unsigned long long alerts)
{
    if (!p) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (since(&p->last, &now) < 0.2) return;
    p->last = now;
    double el = since(&p->start, &now);
    double rate = el > 0 ? (double)rows / el : 0;
    char eta[32] = "";
    if (p->total && bytes && bytes < p->total && el > 0) {
        double rem = el * (double)(p->total - bytes) / (double)bytes;
        snprintf(eta, sizeof eta, ", ETA %.0fs", rem);
    }
    fprintf(stderr, "\r\033[K%s: %llu rows, %.0f rows/s, %llu alerts%s", p->what, rows, rate, alerts, eta);
    p->shown = true;
}

void cli_progress_done(cli_progress *p)
{
    if (!p) return;
    if (p->shown) fputs("\r\033[K", stderr);
    free(p);
}
