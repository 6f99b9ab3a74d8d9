/*
 * run_config.c — the run config file (`run --config`, docs/operations.md):
 * risk lanes, per office/flow lane capacity and minimum random-control rate.
 * A bad file fails the run before any output, naming the file, the JSON path
 * and what was expected.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "score/run_impl.h"
#include "score/run_int.h"

static er_status cfg_error(er_err *err, const char *file, const char *path, const char *what)
{
    return er_errf(err, ER_EFORMAT, "%s: %s: %s", file, path, what);
}

void run_config_defaults(run_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->lanes.red = ER_RISK_LANE_RED_DEFAULT;
    cfg->lanes.yellow = ER_RISK_LANE_YELLOW_DEFAULT;
}

/* "risk_lanes": {"red": r, "yellow": y} with 0 < y <= r <= 1 (either may be left out). */
static er_status load_risk_lanes(er_risk_lanes *l, json_object *v, const char *path, er_err *err)
{
    if (!json_object_is_type(v, json_type_object))
        return cfg_error(err, path, "$.risk_lanes", "expected an object with \"red\" and \"yellow\" risks");
    json_object_object_foreach(v, k, x)
    {
        char p[128];
        snprintf(p, sizeof p, "$.risk_lanes.%s", k);
        bool red = strcmp(k, "red") == 0;
        if (!red && strcmp(k, "yellow") != 0)
            return cfg_error(err, path, p, "unknown key (expected red, yellow)");
        double r = json_object_get_double(x);
        if ((!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)) || !(r > 0 && r <= 1))
            return cfg_error(err, path, p, "expected a risk above 0 and at most 1");
        *(red ? &l->red : &l->yellow) = r;
    }
    if (l->yellow > l->red)
        return cfg_error(err, path, "$.risk_lanes", "the yellow risk must not exceed the red risk");
    return ER_OK;
}

/* The keys beside "rules": risk_lanes, capacity_order, comment. */
static er_status load_top_keys(run_config *cfg, json_object *root, const char *path, er_err *err)
{
    er_status st;
    json_object_object_foreach(root, key, val)
    {
        if (strcmp(key, "risk_lanes") == 0) {
            if ((st = load_risk_lanes(&cfg->lanes, val, path, err)) != ER_OK)
                return st;
        } else if (strcmp(key, "capacity_order") == 0) {
            const char *s = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";
            if (strcmp(s, "harm") != 0 && strcmp(s, "score") != 0)
                return cfg_error(err, path, "$.capacity_order", "expected \"score\" or \"harm\"");
            cfg->order_harm = s[0] == 'h';
        } else if (strcmp(key, "rules") != 0 && strcmp(key, "comment") != 0) {
            char p[128];
            snprintf(p, sizeof p, "$.%s", key);
            return cfg_error(err, path, p,
                             "unknown key (expected \"rules\", \"risk_lanes\", \"capacity_order\" or \"comment\")");
        }
    }
    return ER_OK;
}

/* A string value looked up in a table of names; -2 when it is none of them. */
typedef struct name_val {
    const char *name;
    int         val;
} name_val;

static const name_val flow_names[] = {{"*", -1}, {"IM", ER_FLOW_IM}, {"EX", ER_FLOW_EX}, {"TR", ER_FLOW_TR}};
static const name_val lane_names[] = {{"red", ER_LANE_RED}, {"yellow", ER_LANE_YELLOW}, {"blue", ER_LANE_BLUE}};

static int lookup_name(json_object *v, const name_val *t, size_t n)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, t[i].name) == 0)
            return t[i].val;
    return -2;
}

/* "red", "yellow", "blue" (capacity) and "min_random_rate": a rate in [0, 1]. */
static bool load_rate(run_config *cfg, rule *ru, const char *k, json_object *v)
{
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return false;
    double x = json_object_get_double(v);
    if (!(x >= 0 && x <= 1))
        return false;
    if (k[0] == 'm') {
        ru->min_random = x;
        cfg->any_random |= x > 0;
    } else {
        ru->cap[k[0] == 'r' ? ER_LANE_RED : k[0] == 'y' ? ER_LANE_YELLOW : ER_LANE_BLUE] = x;
        cfg->any_capacity = true;
    }
    return true;
}

/* One key of a rule; what was expected, or NULL when it is good. */
static const char *load_rule_key(run_config *cfg, rule *ru, const char *k, json_object *v)
{
    if (strcmp(k, "office") == 0) {
        const char *s = json_object_get_string(v);
        if (!json_object_is_type(v, json_type_string) || strlen(s) == 0 || strlen(s) > ER_LIMIT_OFFICE)
            return "expected an office code (1-32 characters) or \"*\"";
        strcpy(ru->office, s);
    } else if (strcmp(k, "flow") == 0) {
        int f = lookup_name(v, flow_names, sizeof flow_names / sizeof *flow_names);
        if (f == -2)
            return "expected \"IM\", \"EX\", \"TR\" or \"*\"";
        ru->flow = f;
    } else if (strcmp(k, "red") == 0 || strcmp(k, "yellow") == 0 || strcmp(k, "blue") == 0 ||
               strcmp(k, "min_random_rate") == 0) {
        if (!load_rate(cfg, ru, k, v))
            return "expected a rate between 0 and 1";
    } else if (strcmp(k, "random_lane") == 0) {
        int l = lookup_name(v, lane_names, sizeof lane_names / sizeof *lane_names);
        if (l == -2)
            return "expected \"red\", \"yellow\" or \"blue\"";
        ru->random_lane = (er_lane)l;
    } else if (strcmp(k, "comment") != 0) {
        return "unknown key (expected office, flow, red, yellow, blue, min_random_rate, random_lane)";
    }
    return NULL;
}

static er_status load_rule(run_config *cfg, size_t i, json_object *r, const char *path, er_err *err)
{
    rule *ru = &cfg->rules[i];
    char p[128];
    for (int l = 0; l < ER_LANE_COUNT; l++)
        ru->cap[l] = -1;
    ru->random_lane = ER_LANE_RED;
    strcpy(ru->office, "*");
    ru->flow = -1;
    if (!json_object_is_type(r, json_type_object)) {
        snprintf(p, sizeof p, "$.rules[%zu]", i);
        return cfg_error(err, path, p, "expected an object");
    }
    json_object_object_foreach(r, k, v)
    {
        const char *what = load_rule_key(cfg, ru, k, v);
        if (what) {
            snprintf(p, sizeof p, "$.rules[%zu].%s", i, k);
            return cfg_error(err, path, p, what);
        }
    }
    return ER_OK;
}

er_status run_config_load(run_config *cfg, const char *path, er_err *err)
{
    er_status st = ER_OK;
    json_object *root = json_object_from_file(path);
    run_config_defaults(cfg);
    if (!root)
        return er_errf(err, access(path, R_OK) == 0 ? ER_EPARSE : ER_ENOTFOUND,
                       "%s: cannot read run config (%s)", path, json_util_get_last_err());
    if (!json_object_is_type(root, json_type_object)) {
        st = cfg_error(err, path, "$", "expected an object with \"rules\"");
        goto cleanup;
    }
    if ((st = load_top_keys(cfg, root, path, err)) != ER_OK)
        goto cleanup;
    json_object *rules;
    if (!json_object_object_get_ex(root, "rules", &rules) || !json_object_is_type(rules, json_type_array)) {
        st = cfg_error(err, path, "$.rules", "expected an array of rules");
        goto cleanup;
    }
    size_t n = json_object_array_length(rules);
    if (n > ER_RUN_MAX_RULES) {
        st = cfg_error(err, path, "$.rules", "too many rules (at most 256)");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if ((st = load_rule(cfg, i, json_object_array_get_idx(rules, i), path, err)) != ER_OK)
            goto cleanup;
    cfg->n_rules = n;
cleanup:
    json_object_put(root);
    return st;
}

er_status er_run_config_lanes(const char *path, er_risk_lanes *lanes, er_err *err)
{
    run_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return er_errf(err, ER_ENOMEM, "out of memory");
    er_status st = run_config_load(cfg, path, err);
    if (st == ER_OK)
        *lanes = cfg->lanes;
    free(cfg);
    return st;
}

const rule *run_config_match(const run_config *cfg, const char *office, int flow)
{
    const rule *best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const rule *r = &cfg->rules[i];
        bool om = strcmp(r->office, "*") == 0 || strcmp(r->office, office) == 0;
        bool fm = r->flow < 0 || r->flow == flow;
        if (!om || !fm)
            continue;
        int rank = (strcmp(r->office, "*") != 0) * 2 + (r->flow >= 0);
        if (rank > best_rank) {
            best = r;
            best_rank = rank;
        }
    }
    return best;
}
