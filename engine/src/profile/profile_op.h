/*
 * profile_op.h — the profile operator table, the one extension point of the
 * condition language (docs/architecture.md#a-new-profile-operator). Each row
 * is one operator: its name, the JSON that selects it, the field kinds it
 * accepts, and its functions: compile (JSON → node, every problem reported
 * with the JSON path and what was expected), eval (the node on one
 * declaration), evidence (why it holds or not, in words), trace (its explain
 * fields) and describe (its line in `profile show`). A compiled node holds the
 * index of its row (cnode.op); the compiler, the evaluator, explain and
 * describe dispatch through the row and never name an operator.
 */
#ifndef ECORISK_PROFILE_OP_H
#define ECORISK_PROFILE_OP_H

#include <json-c/json.h>

#include "core/sbuf.h"
#include "profile/profile_build.h"
#include "profile/profile_int.h"

/* What a compile function is given. */
typedef struct popnd {
    json_object *cond;     /* the whole condition object */
    json_object *v;        /* the operand: the value of the form's key or of the field operator */
    const char  *key;      /* that key as written ("route", "in_list", "gt") */
    const char  *path;     /* JSON path of the condition (the node's path) */
    const char  *vpath;    /* JSON path of the operand: path.key */
    pfield       field;    /* field tests: the field (PF_COUNT for forms) */
    const char  *extra;    /* field tests on extra.<column>: the column (arena) */
    int          depth;    /* nesting depth of the condition */
    bool        *anomaly;  /* set when the condition uses an anomaly predicate */
} popnd;

/* Row flags. */
enum {
    OPF_CHILDREN = 1u << 0,   /* node has children kids[a .. a+n): explain and describe recurse */
    OPF_CONJ     = 1u << 1,   /* with children: true when all are (else: when any is) */
    OPF_NEGATES  = 1u << 2,   /* with one child: true when it is false */
    OPF_OWN_KEYS = 1u << 3,   /* a form whose object has more keys than its own; compile checks them */
    OPF_ANOMALY  = 1u << 4,   /* anomaly predicate: feature in cmp, p threshold in x (scoring.md §6) */
    OPF_HS_GATE  = 1u << 5,   /* HS prefix test of HS set a: a scope holding it gates the profile */
    OPF_KW_GATE  = 1u << 6,   /* keyword test of keyword set a on text slot: it can gate too */
};

typedef struct pop {
    const char *name;      /* as explain's "op" names it */
    const char *keys;      /* forms: the condition key; field tests: the operator keys (", "-separated) */
    unsigned    kinds;     /* field tests: the field kinds accepted (FK_* mask); 0 for a form */
    unsigned    flags;     /* OPF_* */
    int32_t   (*compile)(ctx *c, const popnd *a);
    bool      (*eval)(er_eval *e, const cnode *n);
    /* Leaves: the evidence text, as true (neg = false) or as false; fname is the field as written. */
    void      (*evidence)(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname);
    /* Leaves: the explain fields after path, op and result; true when "evidence" follows. */
    bool      (*trace)(json_object *o, er_eval *e, const cnode *n);
    /* The line of `profile show` (children follow for OPF_CHILDREN), without its newline. */
    void      (*describe)(er_sb *b, const er_profileset *s, const cnode *n, const char *fname);
} pop;

extern const pop    profile_ops[];
extern const size_t profile_n_ops;

static inline const pop *node_op(const cnode *n) { return &profile_ops[n->op]; }
/* The row of a form by its condition key, or of a field test by operator key and field kind; NULL if none. */
const pop  *op_form(const char *key);
const pop  *op_field(const char *key, pfield f);
/* The operator keys a field accepts ("eq, in, in_list, exists"), from the table. */
const char *op_field_keys(pfield f, char *buf, size_t cap);
/* "all, any, not, field, route, anomaly or document", from the table. */
const char *op_cond_keys(char *buf, size_t cap);

/* ---- shared by the operator functions --------------------------------------- */
bool        pev(er_eval *e, uint32_t ni);                       /* evaluate node ni (profile_eval.c) */
const char *field_label(const cnode *n, char *buf, size_t cap); /* "origin", "extra.permit_no" */
const char *slot_text(const er_profileset *s, const er_decl *d, uint32_t slot);
const uint64_t *kw_get(er_eval *e, uint32_t slot);
bool        kw_first(const kwauto *k, const char *norm, size_t len, uint32_t kwset, size_t *start, size_t *plen);
bool        route_match(const er_profileset *s, const cnode *n, uint16_t from, uint16_t to);
void        describe_cc(er_sb *b, const ccset *cs);
/* Explain helpers: "field" of a leaf, and its value and operand as strings. */
void        trace_str(json_object *o, const char *key, const char *v);
/* A leaf node of op for field f with operand set / label; -1 on ENOMEM. */
int32_t     leaf_new(ctx *c, const pop *op, const popnd *a, uint32_t set, const char *label);
/* The operand of a set test (inline values, or list names for the *_list keys); false after reporting. */
bool        set_operand(ctx *c, const popnd *a, entries *es, listdef **single, const char **label);

/* ---- the operator functions (op_*.c), named in the table of profile_ops.c ---- */
#define OP_COMPILE(x)  int32_t compile_##x(ctx *c, const popnd *a)
#define OP_EVAL(x)     bool eval_##x(er_eval *e, const cnode *n)
#define OP_EVIDENCE(x) void evidence_##x(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
#define OP_TRACE(x)    bool trace_##x(json_object *o, er_eval *e, const cnode *n)
#define OP_DESCRIBE(x) void describe_##x(er_sb *b, const er_profileset *s, const cnode *n, const char *fname)
#define OP_LEAF(x)  OP_COMPILE(x); OP_EVAL(x); OP_EVIDENCE(x); OP_DESCRIBE(x)

OP_COMPILE(group); OP_COMPILE(not); OP_EVAL(all); OP_EVAL(any); OP_EVAL(not); OP_DESCRIBE(group);
OP_LEAF(str_in); OP_LEAF(enum_in); OP_LEAF(cc_in); OP_LEAF(prefix); OP_TRACE(value); OP_TRACE(prefix);
OP_LEAF(keywords);
OP_LEAF(num); OP_TRACE(num);
OP_LEAF(exists); OP_TRACE(exists);
OP_LEAF(route); OP_TRACE(route);
OP_LEAF(anomaly); OP_TRACE(anomaly);
OP_LEAF(document); OP_TRACE(document);

#endif
