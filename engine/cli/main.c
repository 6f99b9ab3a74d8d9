/*
 * main.c — the ecorisk dispatcher: a git-style table of subcommands. Finds the
 * command named by argv[1] (or argv[1..2] for two-word commands such as
 * "baseline build"), and hands the rest to cli_dispatch. Also --help,
 * --version and `ecorisk man [COMMAND]` (man pages from the option tables;
 * `ecorisk man --list` names every command, for the build's man page step).
 * Before dispatching, locates the shipped data (see locate_data).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ecorisk/version.h"
#include "ecorisk/data.h"

extern const cli_cmd cmd_ingest, cmd_run, cmd_explain, cmd_baseline_build, cmd_baseline_merge,
    cmd_baseline_convert,
    cmd_baseline_show, cmd_profile_lint, cmd_profile_show, cmd_push, cmd_backtest, cmd_diff,
    cmd_tune, cmd_report, cmd_outcomes_add, cmd_ledger_show, cmd_ledger_reset, cmd_mirror, cmd_learn;

const cli_cmd *const cli_commands[] = {
    &cmd_run, &cmd_ingest, &cmd_explain, &cmd_baseline_build, &cmd_baseline_merge, &cmd_baseline_convert,
    &cmd_baseline_show, &cmd_profile_lint, &cmd_profile_show, &cmd_push, &cmd_backtest,
    &cmd_diff, &cmd_tune, &cmd_learn, &cmd_report, &cmd_outcomes_add, &cmd_ledger_show, &cmd_ledger_reset, &cmd_mirror,
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

static void usage(FILE *out)
{
    fprintf(out, "Usage: ecorisk COMMAND [options]\n\n"
                 "Risk profiling of customs declarations for illicit environmental trade:\n"
                 "wildlife (CITES), ozone-depleting substances and HFCs (Montreal Protocol),\n"
                 "and waste (Basel Convention).\n\nCommands:\n");
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(out, "  %-18s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "  %-18s %s\n", "help [COMMAND]", "this list, or a command's options");
    fprintf(out, "  %-18s %s\n", "man [COMMAND]", "print a man page (roff) to stdout");
    fprintf(out, "  %-18s %s\n", "man --list", "list the commands, one a line");
    fprintf(out, "  %-18s %s\n", "completion SHELL", "bash or zsh completion script (installed by cmake --install)");
    fprintf(out, "\n'ecorisk COMMAND --help' describes a command's options.\n"
                 "Exit codes: 0 ok, 1 findings, 3 run done but too many quarantined, 64 usage,\n"
                 "65 invalid input, 66 no input, 69 unavailable, 70 internal, 71 OS error,\n"
                 "73 cannot create, 74 I/O error, 75 alerts pending, 78 configuration.\n");
}

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* An installed ecorisk uses the data installed next to it, wherever the tree
 * was installed or moved (DESTDIR, --prefix at install time, a container
 * layer): <dir of the executable>/../share/ecorisk becomes the library's
 * fallback home for its data (er_data_set_home; ECORISK_HOME still wins). A
 * binary run from its build tree finds no share/ecorisk beside it and keeps
 * using the source tree. */
static void locate_data(void)
{
    char exe[PATH_MAX], p[PATH_MAX + 32], real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    snprintf(p, sizeof p, "%s/../share/ecorisk", exe);
    if (is_dir(p) && realpath(p, real))
        er_data_set_home(real);
}

/* learn trains with XGBoost's OpenMP threads. libgomp reads OMP_WAIT_POLICY once, when
 * it is loaded, and by default a thread waiting at one of XGBoost's many barriers
 * spins: on a machine whose cores are shared, a spinning thread holds the core the
 * thread it waits for needs, and training ran 4 times slower on 2 threads than on 1
 * (docs/scoring.md 7.6). Unless the caller chose a policy, learn re-executes itself
 * once with OMP_WAIT_POLICY=passive (waiting threads sleep). */
static void omp_passive(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with the spinning default */
}

static const cli_cmd *find(int argc, char **argv, int *used)
{
    char two[128];
    if (argc > 2) {
        snprintf(two, sizeof two, "%s %s", argv[1], argv[2]);
        for (size_t i = 0; i < cli_n_commands; i++)
            if (strcmp(cli_commands[i]->name, two) == 0) {
                *used = 2;
                return cli_commands[i];
            }
    }
    for (size_t i = 0; i < cli_n_commands; i++)
        if (strcmp(cli_commands[i]->name, argv[1]) == 0) {
            *used = 1;
            return cli_commands[i];
        }
    return NULL;
}

/* No command matched argv[1] (and argv[2]): say what was meant, briefly. A
 * group name alone ("baseline") lists its sub-commands; a typo gets the
 * closest command. Returns EX_USAGE_. */
static int unknown_command(const char *who, int argc, char **argv)
{
    const char *names[64];
    size_t n = 0, n_sub = 0;
    char subs[512] = "", group[64];
    size_t glen = strlen(argv[1]);
    for (size_t i = 0; i < cli_n_commands && n < 64; i++) {
        const char *name = cli_commands[i]->name;
        names[n++] = name;
        if (strncmp(name, argv[1], glen) == 0 && name[glen] == ' ') {
            size_t l = strlen(subs);
            snprintf(subs + l, sizeof subs - l, "%s%s", n_sub++ ? ", " : "", name + glen + 1);
        }
    }
    if (n_sub) {
        if (argc > 2 && argv[2][0] != '-') {
            char sub_names[16][64];
            const char *sp[16];
            size_t k = 0;
            for (size_t i = 0; i < n && k < 16; i++)
                if (strncmp(names[i], argv[1], glen) == 0 && names[i][glen] == ' ') {
                    snprintf(sub_names[k], sizeof sub_names[k], "%s", names[i] + glen + 1);
                    sp[k] = sub_names[k];
                    k++;
                }
            const char *hint = cli_suggest(argv[2], sp, k);
            fprintf(stderr, "%s: unknown command '%s %s'", who, argv[1], argv[2]);
            if (hint)
                fprintf(stderr, " (did you mean '%s %s'?)", argv[1], hint);
            fprintf(stderr, "; '%s' takes one of: %s\n", argv[1], subs);
        } else {
            fprintf(stderr, "%s: '%s' needs a sub-command: %s (e.g. 'ecorisk %s %.*s --help')\n", who,
                    argv[1], subs, argv[1], (int)strcspn(subs, ","), subs);
        }
        return EX_USAGE_;
    }
    snprintf(group, sizeof group, "%s", argv[1]);
    const char *hint = cli_suggest(group, names, n);
    if (!hint && argc > 2) {   /* "baseline biuld" style typos of two-word commands */
        char two[128];
        snprintf(two, sizeof two, "%s %s", argv[1], argv[2]);
        hint = cli_suggest(two, names, n);
    }
    if (hint)
        fprintf(stderr, "%s: unknown command '%s' (did you mean '%s'?); 'ecorisk --help' lists the commands\n",
                who, argv[1], hint);
    else
        fprintf(stderr, "%s: unknown command '%s'; 'ecorisk --help' lists the commands\n", who, argv[1]);
    return EX_USAGE_;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EX_USAGE_;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        (strcmp(argv[1], "help") == 0 && argc == 2)) {
        usage(stdout);
        return EX_OK_;
    }
    if (strcmp(argv[1], "help") == 0) {   /* ecorisk help COMMAND */
        int used = 0;
        const cli_cmd *c = find(argc - 1, argv + 1, &used);
        if (!c)
            return unknown_command("ecorisk help", argc - 1, argv + 1);
        cli_print_help(c, stdout);
        return EX_OK_;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("ecorisk %s\n", ECORISK_VERSION);
        return EX_OK_;
    }
    if (strcmp(argv[1], "completion") == 0) {   /* bash / zsh scripts (build: completions) */
        if (argc == 3 && cli_print_completion(argv[2], stdout))
            return EX_OK_;
        fprintf(stderr, "ecorisk completion: expected bash or zsh\n");
        return EX_USAGE_;
    }
    if (strcmp(argv[1], "man") == 0) {
        if (argc == 2) {
            cli_print_main_man(stdout);
            return EX_OK_;
        }
        if (strcmp(argv[2], "--list") == 0) {   /* command names, one a line (build: man pages) */
            for (size_t i = 0; i < cli_n_commands; i++)
                printf("%s\n", cli_commands[i]->name);
            return EX_OK_;
        }
        int used = 0;
        const cli_cmd *c = find(argc - 1, argv + 1, &used);
        if (!c)
            return unknown_command("ecorisk man", argc - 1, argv + 1);
        cli_print_man(c, stdout);
        return EX_OK_;
    }
    locate_data();
    int used = 0;
    const cli_cmd *cmd = find(argc, argv, &used);
    if (!cmd)
        return unknown_command("ecorisk", argc, argv);
    if (cmd == &cmd_learn)
        omp_passive(argv);
    /* argv for the command: argv[0] = "ecorisk <cmd>", then the rest. */
    return cli_dispatch(cmd, argc - used, argv + used);
}
