/*
 * profile_pack.c — one pack file: its header (format, domain) and each
 * profile in it (id, version, validity window, references, thresholds,
 * lanes, scope and indicators), checked field by field with the JSON path
 * of every problem (docs/profiles.md). Conditions go to the compiler
 * (profile_compile.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_op.h"

static const char *const bad_id = "invalid id \"%s\" (expected lower-case letters, digits, '-', '_' or '.', at most 64)";

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || !(islower((unsigned char)id[0]) || isdigit((unsigned char)id[0])))
        return false;
    for (const char *p = id; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* The anomaly predicates of an indicator that can make it fire (reached through
 * all/any, not under a `not`), for the continuous scaling of docs/scoring.md §6. */
static void collect_anomaly(const er_profileset *s, pindicator *in, uint32_t node)
{
    const cnode *n = &s->nodes[node];
    const pop *op = node_op(n);
    if (op->flags & OPF_ANOMALY) {
        if (in->n_an < PIND_MAX_AN) {
            in->an_feat[in->n_an] = n->cmp;
            in->an_lt[in->n_an] = -log(n->x);
            in->n_an++;
        }
    } else if ((op->flags & OPF_CHILDREN) && !(op->flags & OPF_NEGATES)) {
        for (uint32_t k = 0; k < n->n; k++)
            collect_anomaly(s, in, s->kids[n->a + k]);
    }
}

static int32_t get_date(ctx *c, json_object *o, const char *key, const char *path)
{
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    int32_t d;
    const char *str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    if (er_date_parse(str, strlen(str), &d) != ER_OK || strlen(str) != 10) {
        lint_err(c, sub(p, sizeof p, path, key), "expected a date \"YYYY-MM-DD\", got %s",
                 json_object_is_type(v, json_type_string) ? afmt(c->s, "\"%s\"", str) : jtype(v));
        return 0;
    }
    return d;
}

/* Lint warnings ahead of this many days before valid_until or review_by. */
#define EXPIRY_NOTICE_DAYS 90

/* The validity window applies to the declaration date (docs/profiles.md#validity):
 * outside it a profile is out of scope for that declaration, never a reason to stop
 * loading. Lint warns when the window has ended, when it ends within
 * EXPIRY_NOTICE_DAYS of today, and likewise for the review date. */
static void check_validity(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    er_profileset *s = c->s;
    char p[512], d1[11], d2[11];
    in->valid_from = get_date(c, pj, "valid_from", path);
    in->valid_until = get_date(c, pj, "valid_until", path);
    int32_t review = in->review_by = get_date(c, pj, "review_by", path);
    er_date_format(s->today, d2);
    if (in->valid_from && in->valid_until && in->valid_from > in->valid_until) {
        lint_err(c, sub(p, sizeof p, path, "valid_until"), "valid_until is before valid_from (expected an ordered window)");
        return;
    }
    if (in->valid_from && in->valid_from > s->today) {
        er_date_format(in->valid_from, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_from"),
                  "not yet valid: valid_from %s is after today (%s); declarations dated before it are out of scope",
                  d1, d2);
    } else if (in->valid_until && in->valid_until < s->today) {
        er_date_format(in->valid_until, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_until"),
                  "validity ended on %s (today is %s); declarations dated after it are out of scope", d1, d2);
    } else if (in->valid_until && in->valid_until - s->today < EXPIRY_NOTICE_DAYS) {
        er_date_format(in->valid_until, d1);
        lint_warn(c, sub(p, sizeof p, path, "valid_until"),
                  "validity ends on %s, in %d days (today is %s); declarations dated after it will be out of scope",
                  d1, (int)(in->valid_until - s->today), d2);
    }
    if (review && review < s->today) {
        er_date_format(review, d1);
        lint_warn(c, sub(p, sizeof p, path, "review_by"), "review overdue since %s (today is %s)", d1, d2);
    } else if (review && review - s->today < EXPIRY_NOTICE_DAYS) {
        er_date_format(review, d1);
        lint_warn(c, sub(p, sizeof p, path, "review_by"), "review due on %s, in %d days (today is %s)", d1,
                  (int)(review - s->today), d2);
    }
}

/* id: valid and not defined before. */
static void profile_id(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    er_profileset *s = c->s;
    char p[512];
    in->id = get_str(c, pj, "id", path, true);
    if (in->id && !valid_id(in->id)) {
        lint_err(c, sub(p, sizeof p, path, "id"), bad_id, in->id);
        return;
    }
    for (size_t k = 0; in->id && k < s->n_prof; k++)
        if (s->prof[k].info.id && strcmp(s->prof[k].info.id, in->id) == 0) {
            lint_err(c, sub(p, sizeof p, path, "id"), "duplicate profile id \"%s\" (first defined in %s at %s)", in->id,
                     s->prof[k].info.file, s->prof[k].path);
            return;
        }
}

/* The domain named by str, or ER_DOMAIN_COUNT. */
static er_domain domain_of(const char *str)
{
    for (int k = 0; k < ER_DOMAIN_COUNT; k++)
        if (strcmp(str, er_domain_str((er_domain)k)) == 0)
            return (er_domain)k;
    return ER_DOMAIN_COUNT;
}

/* version and domain (which, when given, must be the pack's). */
static void profile_version_domain(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    char p[512];
    double ver = 0;
    json_object *v;
    if (json_object_object_get_ex(pj, "version", &v) && !json_object_is_type(v, json_type_int))
        lint_err(c, sub(p, sizeof p, path, "version"), "expected a positive integer, got %s", jtype(v));
    else if (get_num(c, pj, "version", path, true, 1, 1e9, &ver))
        in->version = (int)ver;
    const char *dom = get_str(c, pj, "domain", path, false);
    if (!dom)
        return;
    er_domain d = domain_of(dom);
    if (d == ER_DOMAIN_COUNT)
        lint_err(c, sub(p, sizeof p, path, "domain"), "unknown domain \"%s\" (expected wildlife, ods or waste)", dom);
    else if (d != in->domain)
        lint_err(c, sub(p, sizeof p, path, "domain"), "domain \"%s\" differs from the pack's domain \"%s\"", dom,
                 er_domain_str(in->domain));
}

/* references (required), tags and description. */
static void profile_texts(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    er_profileset *s = c->s;
    char p[512], q[512];
    json_object *v;
    if (!json_object_object_get_ex(pj, "references", &v)) {
        lint_err(c, path, "missing required field \"references\"");
    } else if (!json_object_is_type(v, json_type_array)) {
        lint_err(c, sub(p, sizeof p, path, "references"), "expected an array of strings, got %s", jtype(v));
    } else {
        sub(p, sizeof p, path, "references");
        size_t n = json_object_array_length(v), k = 0;
        const char **r = er_arena_alloc(s->arena, (n ? n : 1) * sizeof *r);
        for (size_t i = 0; r && i < n; i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (!json_object_is_type(e, json_type_string))
                lint_err(c, idx(q, sizeof q, p, "", i), "expected a string, got %s", jtype(e));
            else
                r[k++] = adup(s, json_object_get_string(e));
        }
        in->references = r;
        in->n_references = k;
    }
    if (json_object_object_get_ex(pj, "tags", &v) && !json_object_is_type(v, json_type_array))
        lint_err(c, sub(p, sizeof p, path, "tags"), "expected an array of strings, got %s", jtype(v));
    if (json_object_object_get_ex(pj, "description", &v) && !json_object_is_type(v, json_type_string))
        lint_err(c, sub(p, sizeof p, path, "description"), "expected a string, got %s", jtype(v));
}

/* lanes: {"red", "yellow", "blue"} in order. */
static void profile_lanes(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(pj, "lanes", &v)) {
        lint_err(c, path, "missing required field \"lanes\"");
        return;
    }
    sub(p, sizeof p, path, "lanes");
    if (!json_object_is_type(v, json_type_object)) {
        lint_err(c, p, "expected an object {\"red\": N, \"yellow\": N, \"blue\": N}, got %s", jtype(v));
        return;
    }
    static const char *const lk[] = {"red", "yellow", "blue", NULL};
    check_keys(c, v, p, lk, "red, yellow, blue");
    bool a = get_num(c, v, "red", p, true, 0, 100, &in->lane_red);
    bool b = get_num(c, v, "yellow", p, true, 0, 100, &in->lane_yellow);
    bool d = get_num(c, v, "blue", p, true, 0, 100, &in->lane_blue);
    if (a && b && d && !(in->lane_red >= in->lane_yellow && in->lane_yellow >= in->lane_blue))
        lint_err(c, p, "lane thresholds out of order: red %g, yellow %g, blue %g (expected red >= yellow >= blue)",
                 in->lane_red, in->lane_yellow, in->lane_blue);
}

/* alert_threshold, lanes, random_rate, anomaly_scale, prior; true when the alert threshold is usable. */
static bool profile_thresholds(ctx *c, json_object *pj, const char *path, er_profile_info *in)
{
    char p[512];
    json_object *v;
    bool have_alert = false;
    in->alert_threshold = 0;
    if (!json_object_object_get_ex(pj, "alert_threshold", &v)) {
        lint_err(c, path, "missing required field \"alert_threshold\"");
    } else if (!is_num(v)) {
        lint_err(c, sub(p, sizeof p, path, "alert_threshold"), "expected a number, got %s", jtype(v));
    } else if (!(json_object_get_double(v) > 0 && json_object_get_double(v) <= 100)) {
        lint_err(c, sub(p, sizeof p, path, "alert_threshold"),
                 "alert_threshold %g out of range (expected more than 0, at most 100)", json_object_get_double(v));
    } else {
        in->alert_threshold = json_object_get_double(v);
        have_alert = true;
    }
    profile_lanes(c, pj, path, in);
    if (json_object_object_get_ex(pj, "random_rate", &v))
        get_num(c, pj, "random_rate", path, false, 0, 1, &in->random_rate);
    in->anomaly_scale = 1;
    if (json_object_object_get_ex(pj, "anomaly_scale", &v))
        get_num(c, pj, "anomaly_scale", path, false, 0, 10, &in->anomaly_scale);
    in->prior = ER_RISK_DEFAULT_PRIOR;
    if (json_object_object_get_ex(pj, "prior", &v) && get_num(c, pj, "prior", path, false, 1e-9, 0.999, &in->prior) &&
        !(in->prior > 0))
        lint_err(c, sub(p, sizeof p, path, "prior"), "prior %g out of range (expected more than 0)", in->prior);
    return have_alert;
}

/* weight (0..100) and the log-odds it implies (or log_odds as given); adds the weight to *wsum. */
static void indicator_weight(ctx *c, json_object *ij, const char *ip, pindicator *in, double *wsum)
{
    char q[512];
    json_object *wj;
    if (!json_object_object_get_ex(ij, "weight", &wj)) {
        lint_err(c, ip, "missing required field \"weight\"");
    } else if (!is_num(wj)) {
        lint_err(c, sub(q, sizeof q, ip, "weight"), "expected a number, got %s", jtype(wj));
    } else {
        double w = json_object_get_double(wj);
        if (!(w >= 0 && w <= 100)) {
            lint_err(c, sub(q, sizeof q, ip, "weight"), "weight %g out of range (expected 0 to 100)", w);
        } else {
            in->info.weight = w;
            in->info.log_odds = w * 0.69314718055994530942 / ER_RISK_POINTS_PER_DOUBLING;
            *wsum += w;
        }
    }
    if (json_object_object_get_ex(ij, "log_odds", &wj))
        get_num(c, ij, "log_odds", ip, false, -20, 20, &in->info.log_odds);
}

/* "when" of indicator i of arr; warns when it repeats an earlier indicator's. */
static bool indicator_when(ctx *c, json_object *arr, size_t i, json_object *ij, const char *ip, pindicator *ind)
{
    char q[512];
    json_object *wh;
    if (!json_object_object_get_ex(ij, "when", &wh)) {
        lint_err(c, ip, "missing required field \"when\"");
        return false;
    }
    bool an = false;
    int32_t r = compile(c, wh, sub(q, sizeof q, ip, "when"), 0, &an);
    ind[i].root = r < 0 ? 0 : (uint32_t)r;
    ind[i].info.is_anomaly = an;
    if (an && r >= 0)
        collect_anomaly(c->s, &ind[i], (uint32_t)r);
    /* identical conditions inside one profile count twice */
    for (size_t k = 0; k < i; k++) {
        json_object *kj = json_object_array_get_idx(arr, k), *kw;
        if (json_object_is_type(kj, json_type_object) && json_object_object_get_ex(kj, "when", &kw) &&
            json_object_equal(kw, wh))
            lint_warn(c, q, "condition identical to %s.when (the two indicators overlap and count twice)", ind[k].path);
    }
    return an;
}

/* Indicator i of arr; true when it uses an anomaly predicate. */
static bool load_indicator(ctx *c, json_object *arr, size_t i, const char *p, pindicator *ind, double *wsum)
{
    er_profileset *s = c->s;
    char ip[512], q[512];
    idx(ip, sizeof ip, p, "", i);
    json_object *ij = json_object_array_get_idx(arr, i);
    pindicator *in = &ind[i];
    in->path = adup(s, ip);
    if (!json_object_is_type(ij, json_type_object)) {
        lint_err(c, ip, "expected an indicator object, got %s", jtype(ij));
        return false;
    }
    static const char *const ik[] = {"id", "weight", "log_odds", "reason", "when", NULL};
    check_keys(c, ij, ip, ik, "id, weight, log_odds, reason, when");
    in->info.id = get_str(c, ij, "id", ip, true);
    if (in->info.id && !valid_id(in->info.id))
        lint_err(c, sub(q, sizeof q, ip, "id"), bad_id, in->info.id);
    for (size_t k = 0; k < i && in->info.id; k++)
        if (ind[k].info.id && strcmp(ind[k].info.id, in->info.id) == 0)
            lint_err(c, sub(q, sizeof q, ip, "id"), "duplicate indicator id \"%s\" (first defined at %s)", in->info.id,
                     ind[k].path);
    in->info.reason = get_str(c, ij, "reason", ip, true);
    indicator_weight(c, ij, ip, in, wsum);
    return indicator_when(c, arr, i, ij, ip, ind);
}

/* indicators: 1..ER_MAX_INDICATORS of them; false on ENOMEM. */
static bool load_indicators(ctx *c, json_object *pj, const char *path, pprofile *pr, double *wsum, bool *anomaly)
{
    er_profileset *s = c->s;
    char p[512];
    json_object *v;
    if (!json_object_object_get_ex(pj, "indicators", &v)) {
        lint_err(c, path, "missing required field \"indicators\"");
        return true;
    }
    sub(p, sizeof p, path, "indicators");
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    if (!json_object_is_type(v, json_type_array) || n == 0) {
        lint_err(c, p, "expected a non-empty array of indicators, got %s", jtype(v));
        return true;
    }
    if (n > ER_MAX_INDICATORS) {
        lint_err(c, p, "%zu indicators (expected at most %d)", n, ER_MAX_INDICATORS);
        return true;
    }
    pindicator *ind = er_arena_alloc(s->arena, n * sizeof *ind);
    er_indicator_info *infos = er_arena_alloc(s->arena, n * sizeof *infos);
    if (!ind || !infos) {
        c->nomem = true;
        return false;
    }
    memset(ind, 0, n * sizeof *ind);
    for (size_t i = 0; i < n; i++) {
        if (load_indicator(c, v, i, p, ind, wsum))
            *anomaly = true;
        infos[i] = ind[i].info;
    }
    pr->ind = ind;
    pr->info.indicators = infos;
    pr->info.n_indicators = n;
    return true;
}

/* The HS set a scope requires (it is, or is an `all` holding, an HS prefix test), or -1. */
static int32_t hs_gate(const er_profileset *s, uint32_t scope)
{
    const cnode *sc = &s->nodes[scope];
    if (node_op(sc)->flags & OPF_HS_GATE)
        return (int32_t)sc->a;
    if ((node_op(sc)->flags & (OPF_CHILDREN | OPF_CONJ | OPF_NEGATES)) == (OPF_CHILDREN | OPF_CONJ))
        for (uint32_t k = 0; k < sc->n; k++) {
            const cnode *kid = &s->nodes[s->kids[sc->a + k]];
            if (node_op(kid)->flags & OPF_HS_GATE)
                return (int32_t)kid->a;
        }
    return -1;
}

/* A new profile record at s->prof[s->n_prof] (not yet counted); NULL on ENOMEM. */
static pprofile *profile_new(ctx *c, const char *path, er_domain pack_domain)
{
    er_profileset *s = c->s;
    if (!GROW(s->prof, s->n_prof, s->cap_prof, s->n_prof + 1)) {
        c->nomem = true;
        return NULL;
    }
    pprofile *pr = &s->prof[s->n_prof];
    memset(pr, 0, sizeof *pr);
    pr->path = adup(s, path);
    pr->pack = c->pack;
    pr->info.file = c->file;
    pr->info.domain = pack_domain;
    return pr;
}

static void load_profile(ctx *c, json_object *pj, size_t pi, er_domain pack_domain)
{
    er_profileset *s = c->s;
    char path[64], p[512];
    snprintf(path, sizeof path, "profiles[%zu]", pi);
    if (!json_object_is_type(pj, json_type_object)) {
        lint_err(c, path, "expected a profile object, got %s", jtype(pj));
        return;
    }
    static const char *const keys[] = {"id", "version", "domain", "title", "owner", "description",
                                       "valid_from", "valid_until", "review_by", "references", "scope", "indicators",
                                       "alert_threshold", "lanes", "random_rate", "prior", "anomaly_scale", "tags", NULL};
    check_keys(c, pj, path, keys,
               "id, version, domain, title, owner, description, valid_from, valid_until, review_by, references, scope, indicators, alert_threshold, lanes, random_rate, prior, anomaly_scale, tags");
    size_t errors_before = s->n_errors;
    pprofile *pr = profile_new(c, path, pack_domain);
    if (!pr)
        return;
    er_profile_info *in = &pr->info;
    profile_id(c, pj, path, in);
    in->title = get_str(c, pj, "title", path, true);
    in->owner = get_str(c, pj, "owner", path, true);
    profile_version_domain(c, pj, path, in);
    profile_texts(c, pj, path, in);
    check_validity(c, pj, path, in);
    bool have_alert = profile_thresholds(c, pj, path, in);
    bool anomaly = false;
    json_object *v;
    if (json_object_object_get_ex(pj, "scope", &v)) {
        int32_t r = compile(c, v, sub(p, sizeof p, path, "scope"), 0, &anomaly);
        pr->scope = r < 0 ? 0 : (uint32_t)r;
        pr->scope_anomaly = anomaly;
    } else {
        lint_err(c, path, "missing required field \"scope\"");
    }
    double wsum = 0;
    if (!load_indicators(c, pj, path, pr, &wsum, &anomaly))
        return;
    pr->has_anomaly = anomaly;
    if (have_alert && wsum < in->alert_threshold && s->n_errors == errors_before)
        lint_err(c, sub(p, sizeof p, path, "alert_threshold"),
                 "unreachable threshold: alert_threshold %g exceeds the sum of indicator weights %g (expected at most the sum)",
                 in->alert_threshold, wsum);
    if (s->n_errors != errors_before || c->nomem)
        return;   /* incomplete: not kept */
    pr->seed = er_hash64(in->id, strlen(in->id), 0x65636f7269736b00ULL);
    pr->logit_prior = log(in->prior / (1 - in->prior));
    pr->hs_gate = hs_gate(s, pr->scope);   /* fast reject */
    s->n_prof++;
}

void load_pack(ctx *c, json_object *root)
{
    if (!json_object_is_type(root, json_type_object)) {
        lint_err(c, "", "expected a pack object with \"domain\" and \"profiles\", got %s", jtype(root));
        return;
    }
    static const char *const keys[] = {"format", "domain", "title", "description", "profiles", NULL};
    check_keys(c, root, "", keys, "format, domain, title, description, profiles");
    json_object *v;
    if (json_object_object_get_ex(root, "format", &v) &&
        (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "ecorisk-profiles/1") != 0))
        lint_err(c, "format", "unsupported format (expected \"ecorisk-profiles/1\")");
    er_domain dom = ER_DOMAIN_COUNT;
    const char *ds = get_str(c, root, "domain", "", true);
    if (ds) {
        for (int k = 0; k < ER_DOMAIN_COUNT; k++)
            if (strcmp(ds, er_domain_str((er_domain)k)) == 0)
                dom = (er_domain)k;
        if (dom == ER_DOMAIN_COUNT)
            lint_err(c, "domain", "unknown domain \"%s\" (expected wildlife, ods or waste)", ds);
    }
    if (!json_object_object_get_ex(root, "profiles", &v) || !json_object_is_type(v, json_type_array)) {
        lint_err(c, v ? "profiles" : "", v ? "expected an array of profiles, got %s" : "missing required field \"profiles\"%s",
                 v ? jtype(v) : "");
        return;
    }
    if (dom == ER_DOMAIN_COUNT)
        return;
    size_t n = json_object_array_length(v), first = c->s->n_prof;
    for (size_t i = 0; i < n; i++) {
        size_t before = c->s->n_prof;
        load_profile(c, json_object_array_get_idx(v, i), i, dom);
        if (c->s->n_prof == before + 1) {
            /* overlap warning: identical scope to an earlier profile of this pack */
            json_object *si = json_object_object_get(json_object_array_get_idx(v, i), "scope");
            for (size_t k = first; k < before; k++) {
                const char *kp = c->s->prof[k].path;   /* "profiles[N]" */
                size_t ki = (size_t)strtoul(kp + 9, NULL, 10);
                json_object *sk = json_object_object_get(json_object_array_get_idx(v, ki), "scope");
                if (si && sk && json_object_equal(si, sk)) {
                    char p[64];
                    snprintf(p, sizeof p, "profiles[%zu].scope", i);
                    lint_warn(c, p, "scope identical to profile \"%s\" (%s): the profiles overlap",
                              c->s->prof[k].info.id, kp);
                }
            }
        }
    }
}

