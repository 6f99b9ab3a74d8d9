/*
 * profile_ops.c — the profile operator table (profile_op.h): one row per
 * operator of the condition language, in the order lint messages list them.
 * To add an operator, add its row here and its functions in an op_*.c file
 * (docs/architecture.md#a-new-profile-operator).
 */
#include <stdio.h>
#include <string.h>

#include "profile/profile_op.h"

#define LEAF(ev, evid, tr, desc) .eval = ev, .evidence = evid, .trace = tr, .describe = desc
#define NUM(k) \
    {k, k, FK_NUMBER, 0, compile_num, LEAF(eval_num, evidence_num, trace_num, describe_num)}

const pop profile_ops[] = {
    {"all", "all", 0, OPF_CHILDREN | OPF_CONJ, compile_group, .eval = eval_all, .describe = describe_group},
    {"any", "any", 0, OPF_CHILDREN, compile_group, .eval = eval_any, .describe = describe_group},
    {"not", "not", 0, OPF_CHILDREN | OPF_NEGATES, compile_not, .eval = eval_not, .describe = describe_group},
    /* field tests: {"field": F, KEY: operand} */
    {"prefix", "prefix, prefix_list", FK_HS, OPF_HS_GATE, compile_prefix,
     LEAF(eval_prefix, evidence_prefix, trace_prefix, describe_prefix)},
    {"in", "eq, in, in_list", FK_TEXT | FK_HS, 0, compile_str_in,
     LEAF(eval_str_in, evidence_str_in, trace_value, describe_str_in)},
    {"in", "eq, in, in_list", FK_ENUM, 0, compile_enum_in,
     LEAF(eval_enum_in, evidence_enum_in, trace_value, describe_enum_in)},
    {"country_in", "eq, in, in_list", FK_COUNTRY, 0, compile_cc_in,
     LEAF(eval_cc_in, evidence_cc_in, trace_value, describe_cc_in)},
    {"keywords", "keywords, keyword_list", FK_TEXT | FK_ENUM, OPF_KW_GATE, compile_keywords,
     LEAF(eval_keywords, evidence_keywords, trace_value, describe_keywords)},
    NUM("gt"), NUM("ge"), NUM("lt"), NUM("le"), NUM("eq"), NUM("ne"), NUM("between"),
    {"exists", "exists", FK_ANY, 0, compile_exists,
     LEAF(eval_exists, evidence_exists, trace_exists, describe_exists)},
    /* forms of their own */
    {"route", "route", 0, 0, compile_route, LEAF(eval_route, evidence_route, trace_route, describe_route)},
    {"anomaly", "anomaly", 0, OPF_OWN_KEYS | OPF_ANOMALY, compile_anomaly,
     LEAF(eval_anomaly, evidence_anomaly, trace_anomaly, describe_anomaly)},
    {"document", "document", 0, OPF_OWN_KEYS, compile_document,
     LEAF(eval_document, evidence_document, trace_document, describe_document)},
};
const size_t profile_n_ops = sizeof profile_ops / sizeof *profile_ops;

/* Whether key is one of the ", "-separated names in keys (whole names only;
 * "" and partial names such as "q" of "eq" are not). */
static bool key_in(const char *keys, const char *key)
{
    size_t kl = strlen(key);
    while (kl && *keys) {
        const char *e = strchr(keys, ',');
        size_t n = e ? (size_t)(e - keys) : strlen(keys);
        if (n == kl && memcmp(keys, key, kl) == 0)
            return true;
        if (!e)
            break;
        keys = e + 1;
        while (*keys == ' ')
            keys++;
    }
    return false;
}

const pop *op_form(const char *key)
{
    for (size_t i = 0; i < profile_n_ops; i++)
        if (!profile_ops[i].kinds && strcmp(profile_ops[i].keys, key) == 0)
            return &profile_ops[i];
    return NULL;
}

const pop *op_field(const char *key, pfield f)
{
    unsigned k = pfield_kind(f);
    for (size_t i = 0; i < profile_n_ops; i++)
        if ((profile_ops[i].kinds & k) && key_in(profile_ops[i].keys, key))
            return &profile_ops[i];
    return NULL;
}

const char *op_field_keys(pfield f, char *buf, size_t cap)
{
    unsigned k = pfield_kind(f);
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < profile_n_ops && o < cap; i++)
        if (profile_ops[i].kinds & k)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", profile_ops[i].keys);
    return buf;
}

const char *op_cond_keys(char *msg, size_t cap)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < profile_n_ops && n < 64; i++) {
        const char *name = profile_ops[i].kinds ? "field" : profile_ops[i].keys;
        if (!n || strcmp(names[n - 1], name) != 0)
            names[n++] = name;
    }
    size_t o = 0;
    msg[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(msg + o, cap - o, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
    return msg;
}
