/*
 * profile_build.h — private interface of the profile compiler: the loader
 * context, lint messages (file, JSON path, what was expected), JSON helpers,
 * reference lists, operands, the set builders and node allocation. Shared by
 * the files that turn packs into the compiled form of profile_int.h:
 * profile_files.c, profile_lint.c, profile_lists.c, profile_operands.c,
 * profile_sets.c, profile_compile.c, profile_pack.c, profile_load.c and the
 * compile functions of the operators (op_*.c).
 */
#ifndef ECORISK_PROFILE_BUILD_H
#define ECORISK_PROFILE_BUILD_H

#include <json-c/json.h>

#include "core/grow.h"
#include "profile/profile_int.h"

#define GROW(arr, n, cap, need) er_grow((void **)&(arr), &(cap), (need), sizeof *(arr))
/* GROW in the compiler: on ENOMEM sets c->nomem and is false. */
#define CGROW(c, arr, n, cap, need) (GROW(arr, n, cap, need) || ((c)->nomem = true, false))

/* ---- loader context --------------------------------------------------------- */
typedef struct ctx {
    er_profileset *s;
    const char    *file;          /* current pack file (arena) */
    uint8_t        pack;
    bool           nomem;
    bool           unloadable;
    bool           list_broken;   /* last list_get found the file but could not use it */
} ctx;

/* ---- strings, messages and JSON paths (profile_lint.c) ---------------------- */
const char *adup(er_profileset *s, const char *str);
const char *afmt(er_profileset *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lint_err(ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lint_warn(ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lint_file(er_profileset *s, er_lint_severity sev, const char *file, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* path + "." + key, truncated to cap. */
const char *sub(char *buf, size_t cap, const char *path, const char *key);
/* path + "." + key + "[i]" (key may be empty: path + "[i]"). */
const char *idx(char *buf, size_t cap, const char *path, const char *key, size_t i);
/* Reports every key of o not in the NULL-terminated allowed. */
void check_keys(ctx *c, json_object *o, const char *path, const char *const *allowed, const char *expected);
const char *jtype(json_object *j);   /* "a string", "an array", ... */
bool        is_num(json_object *j);
/* o[key], or NULL when absent (reported when required). */
json_object *get_key(ctx *c, json_object *o, const char *key, const char *path, bool required);
/* o[key] as a non-empty string (arena), or NULL with a message. */
const char *get_str(ctx *c, json_object *o, const char *key, const char *path, bool required);
/* o[key] as a number in [lo, hi]; false (with a message) when absent, not a number or out of range. */
bool get_num(ctx *c, json_object *o, const char *key, const char *path, bool required, double lo, double hi,
             double *out);

/* ---- files (profile_files.c) ------------------------------------------------- */
er_status    read_file(const char *path, char **buf, size_t *len);
void         hash_in(er_profileset *s, const char *data, size_t len);
/* Parse JSON text; on error records a lint message with line:column and returns NULL. */
json_object *parse_json(er_profileset *s, const char *file, const char *text, size_t len);
/* Expand paths (files or directories of *.json) into a sorted list the caller frees. */
er_status    expand(er_profileset *s, const char *const *paths, size_t n_paths, char ***out, size_t *n_out,
                    er_err *err);
char        *dir_of(const char *path);

/* ---- reference lists (profile_lists.c) --------------------------------------- */
/* The list NAME, loaded on first use; NULL when unknown or unusable (c->list_broken: reported). */
listdef    *list_get(ctx *c, const char *name);
const char *entry_path(char *buf, size_t cap, const listdef *l, size_t i);

/* ---- operands (profile_operands.c) ------------------------------------------- */
typedef struct entry {
    const char *v;
    const char *file;   /* file the entry is in */
    const char *path;   /* JSON path or "line N" */
} entry;

typedef struct entries {
    entry      *e;
    size_t      n, cap;
    const char *label;
} entries;

void entries_free(entries *es);
/* Collect from an inline string or non-empty array of strings. */
bool collect_inline(ctx *c, json_object *arr, const char *path, entries *es);
/* Collect from a list name or an array of list names; *single = the list when there is one. */
bool collect_lists(ctx *c, json_object *names, const char *path, entries *es, listdef **single);
/* "[a,b,c]" of the collected values (quoted "a" when quote and there is one). */
const char *inline_label(ctx *c, const entries *es, bool quote);

/* ---- set builders (profile_sets.c); each returns the set index or -1 ---------- */
typedef enum setkind { SET_CC = 0, SET_HS, SET_KW } setkind;
/* n (at least 1) string pointers in the arena; NULL (c->nomem) on ENOMEM. */
const char **arena_strv(ctx *c, size_t n);
int  build_hs_set(ctx *c, const entries *es);
int  build_cc_set(ctx *c, const entries *es);
int  build_str_set(ctx *c, const entries *es, pfield f);
int  build_kw_set(ctx *c, const entries *es);
/* The set of kind k for es, reusing the one already built from `single` (a whole list). */
int  cached_set(ctx *c, const entries *es, listdef *single, setkind k);
bool parse_route(er_profileset *s, const char *v, uint32_t *pair);
/* A country operand: a list name (or names) or inline codes; *label as evidence shows it. */
int  country_operand(ctx *c, json_object *v, const char *path, const char **label);

/* ---- nodes (profile_compile.c) ------------------------------------------------ */
struct pop;
int32_t  node_new(ctx *c, const struct pop *op, const char *path);
/* Node `parent` gets the children kids[0..n) (false on ENOMEM). */
bool     node_kids(ctx *c, int32_t parent, const int32_t *kids, size_t n);
/* Compile one condition object; -1 after reporting. */
int32_t  compile(ctx *c, json_object *j, const char *path, int depth, bool *anomaly);
uint32_t text_slot(ctx *c, pfield f, const char *extra);

/* ---- packs (profile_pack.c) ---------------------------------------------------- */
void load_pack(ctx *c, json_object *root);

#endif
