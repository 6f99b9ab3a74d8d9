/*
 * cli.h — the CLI framework shared by every subcommand: the option tables
 * (one static table per subcommand, from which parsing, --help and the man
 * page are all generated), the subcommand registry, exit codes, logging and
 * the TTY progress line.
 *
 * A subcommand is a `const cli_cmd` defined in its own cmd_<name>.c and listed
 * in main.c. Its run function gets the parsed arguments and returns an exit
 * code (EX_* below). Values returned by cli_get_* are borrowed from argv or
 * the option table and live for the whole process.
 */
#ifndef ECORISK_CLI_H
#define ECORISK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ecorisk/feed.h"
#include "ecorisk/refdata.h"
#include "ecorisk/run.h"
#include "ecorisk/status.h"

/* Exit codes (sysexits.h values; documented in docs/operations.md). */
enum {
    EX_OK_ = 0,          /* success */
    EX_FINDINGS = 1,     /* success, with findings (lint errors, pending alerts: see each command) */
    EX_QUARANTINE = 3,   /* run: outputs written, but the quarantined share exceeded its maximum */
    EX_USAGE_ = 64,      /* bad command line */
    EX_DATAERR_ = 65,    /* invalid input as a whole: profile pack, mapping, baseline, feed header */
    EX_NOINPUT_ = 66,    /* input file missing or unreadable */
    EX_UNAVAILABLE_ = 69,/* remote endpoint or feed URL unavailable */
    EX_SOFTWARE_ = 70,   /* internal error */
    EX_OSERR_ = 71,      /* out of memory or other OS error */
    EX_CANTCREAT_ = 73,  /* cannot create an output file */
    EX_IOERR_ = 74,      /* I/O error while reading or writing */
    EX_TEMPFAIL_ = 75,   /* alerts left pending: try again later */
    EX_CONFIG_ = 78      /* bad configuration file */
};

typedef enum cli_type { CLI_FLAG, CLI_STR, CLI_INT, CLI_DOUBLE, CLI_LIST } cli_type;

typedef struct cli_opt {
    const char *name;      /* long name without "--" */
    char        short_name;/* 0 if none */
    cli_type    type;
    const char *def;       /* default as text, or NULL */
    const char *metavar;   /* e.g. "FILE" */
    const char *help;      /* one line */
} cli_opt;

typedef struct cli_args cli_args;

typedef struct cli_cmd {
    const char    *name;       /* "ingest", "baseline build", ... */
    const char    *summary;    /* one line for the command list */
    const char    *usage;      /* e.g. "--feed FILE [options]" */
    const char    *description;/* paragraph(s) for --help and the man page */
    const cli_opt *opts;
    size_t         n_opts;
    int          (*run)(const cli_args *a);
    const char    *examples;   /* man page EXAMPLES: "$ command\n  what it does\n" lines; NULL: none */
    const cli_opt *group;      /* a table shared with another command (after opts), or NULL */
    size_t         n_group;
    const char    *group_title;/* its heading in --help and the man page */
} cli_cmd;

/* The delivery options of push, shared by run --push (cmd_push.c): one table,
 * so both commands parse, check and document them alike. */
#define CLI_N_DELIVERY_OPTS 13
extern const cli_opt cli_delivery_opts[CLI_N_DELIVERY_OPTS];

#define CLI_NOPTS(t) (sizeof(t) / sizeof((t)[0]))

/* Accessors: by long name; defaults applied; unknown name is a programming error (abort). */
const char *cli_str(const cli_args *a, const char *name);      /* NULL if unset and no default */
long        cli_int(const cli_args *a, const char *name);
double      cli_double(const cli_args *a, const char *name);
bool        cli_flag(const cli_args *a, const char *name);
bool        cli_given(const cli_args *a, const char *name);    /* set on the command line */
size_t      cli_list(const cli_args *a, const char *name, const char *const **vals);
size_t      cli_positional(const cli_args *a, char *const **vals);
const cli_cmd *cli_command(const cli_args *a);

/* Registry (main.c). */
extern const cli_cmd *const cli_commands[];
extern const size_t cli_n_commands;

/* The candidate closest to word (a typo's edit distance: 1 for words under 4
 * bytes, 2 under 9, else 3), or NULL when none is that close. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);

/* Every option of cmd, its own table then the common ones (--help, --log-level, ...). */
size_t         cli_n_opts(const cli_cmd *cmd);
const cli_opt *cli_opt_at(const cli_cmd *cmd, size_t i);

/* Shell completion scripts ("bash" or "zsh") from the option tables (completion.c);
 * false for another shell. */
bool cli_print_completion(const char *shell, FILE *out);

/* Parse argv for cmd, run it; handles --help. Returns exit code. */
int  cli_dispatch(const cli_cmd *cmd, int argc, char **argv);
void cli_print_help(const cli_cmd *cmd, FILE *out);
void cli_print_man(const cli_cmd *cmd, FILE *out);     /* roff */
void cli_print_main_man(FILE *out);

/* Parse "YYYY-MM-DD" for a date option into days; prints the error. */
bool cli_parse_date(const char *cmd, const char *opt, const char *s, int32_t *days);

/* --format: "csv", "jsonl", or "auto" / unset (ER_FORMAT_AUTO). Anything
 * else prints an error naming cmd and returns false. */
bool cli_parse_format(const char *cmd, const cli_args *a, er_format *out);

/* --profiles as given, or the shipped packs (er_profile_default_dir()) when
 * none is: *vals then points to a static one-element list. Returns the count. */
size_t cli_profiles(const cli_args *a, const char *const **vals);

/* What a feed reader needs besides the feed: --reference (the library default
 * when unset) and --mapping (NULL when unset: by format). On failure prints the
 * error and returns its exit code (EX_NOINPUT_ for a missing file); EX_OK_
 * otherwise. The caller frees *ref and *map (also after a failure). */
int  cli_load_feed_context(const cli_args *a, er_refdata **ref, er_mapping **map);

/* The date option name ("since", "until") into *days: 0 when unset. On a bad
 * date prints "--NAME expects a date YYYY-MM-DD, got '...'" and returns false. */
bool cli_date_opt(const cli_args *a, const char *name, int32_t *days);

/* The reading options of a feed command (ingest, baseline build) into o:
 * --max-time, --cacert, --format, --since, --until, and the warning callback.
 * Returns EX_OK_, or prints the error and returns EX_USAGE_. */
int  cli_feed_opts(const char *cmd, const cli_args *a, er_feed_opts *o);

/* The scoring inputs run and explain share, into o: --feed, --mapping,
 * --profiles (the shipped packs by default), --baseline, --model,
 * --registry, --ledger, --config, --reference (strings borrowed from a). */
void cli_run_inputs(const cli_args *a, er_run_opts *o);

/* What a feed command (ingest, baseline build) holds while it reads: zeroed
 * to start, every member freed by cli_reader_free. */
typedef struct cli_reader {
    er_refdata *ref;     /* --reference */
    er_mapping *map;     /* --mapping, NULL: by format */
    er_feed    *feed;    /* the feed being read */
    er_batch   *batch;
    FILE       *qf;      /* --quarantine, when given */
} cli_reader;

/* cli_load_feed_context into r->ref and r->map, and both into o (o->ref,
 * o->mapping). Returns its exit code. */
int  cli_reader_load(cli_reader *r, const cli_args *a, er_feed_opts *o);
void cli_reader_free(cli_reader *r);

/* Create the --quarantine file (JSON Lines, buffered) at path. Returns EX_OK_,
 * or prints the error and returns EX_CANTCREAT_. The caller fcloses *qf. */
int  cli_open_quarantine(const char *path, FILE **qf);

/* Close *qf (NULL: nothing) and set it to NULL. Returns EX_OK_, or prints
 * "<qpath>: write failed" and returns EX_IOERR_. */
int  cli_close_quarantine(FILE **qf, const char *qpath);

/* Stream a whole feed through batch: each batch goes to each(ctx, batch, err)
 * when each is set (an error there is reported as "<feed>: <message>"), its
 * quarantined records to qf when set (qpath names it in errors), and the
 * progress line is labelled what. Returns EX_OK_ at the end of the feed, or
 * prints the error and returns its exit code. */
typedef er_status (*cli_batch_fn)(void *ctx, const er_batch *batch, er_err *err);
int  cli_drain_feed(er_feed *feed, er_batch *batch, const char *what, cli_batch_fn each, void *ctx,
                    FILE *qf, const char *qpath);

/* A library warning callback (er_feed_opts.warn, er_run_opts.warn): logs at warn level. */
void cli_warn_cb(void *ud, const char *msg);

/* er_status → exit code (EX_*). */
int  cli_exit_code(er_status st);

/* Logging to stderr: levels error / warn / info / debug; text or JSON lines. */
typedef enum cli_level { CLI_ERROR = 0, CLI_WARN, CLI_INFO, CLI_DEBUG } cli_level;
void cli_log_setup(cli_level level, bool json);
void cli_log(cli_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like cli_log, with structured fields: `fields` is a JSON object body
 * ("\"run_id\":\"ab\",\"alerts\":3") added as top-level keys of the JSON
 * line; text logs show the message only (which should carry the values). */
void cli_log_fields(cli_level level, const char *fields, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define cli_error(...) cli_log(CLI_ERROR, __VA_ARGS__)
#define cli_warn(...)  cli_log(CLI_WARN, __VA_ARGS__)
#define cli_info(...)  cli_log(CLI_INFO, __VA_ARGS__)
#define cli_debug(...) cli_log(CLI_DEBUG, __VA_ARGS__)

/* Progress line on stderr, only when stderr is a TTY (no-op otherwise).
 * total_bytes may be 0 (unknown: no ETA). Rate-limited internally. */
typedef struct cli_progress cli_progress;
cli_progress *cli_progress_start(const char *what, unsigned long long total_bytes);
void cli_progress_update(cli_progress *p, unsigned long long rows, unsigned long long bytes,
                         unsigned long long alerts);
void cli_progress_done(cli_progress *p);   /* clears the line; frees p; NULL ok */

/* Deliver the outbox ob to dest (push.h) with the delivery options of a
 * (push's names: --token-file, --cacert, --retries, ...; run --push has the
 * same), print the summary; returns the exit status (cmd_push.c). */
struct er_outbox;
int cli_push_deliver(const cli_args *a, const char *cmd, struct er_outbox *ob, const char *dest);

#endif
