/*
 * run.c — the daily run (run.h): reads the day's feeds batch by batch on the
 * calling thread, scores batches on N worker threads, and commits them in
 * feed order, so the output is identical whatever the thread count. The
 * baseline loads on its own thread while the first batches are read; scoring
 * and the output files wait for it.
 *
 * alerts.jsonl is ordered by risk, highest first (docs/alerts.md), and lane
 * capacity and the minimum random-control rate (docs/profiles.md) need the
 * whole day: alerts are first spooled to a temporary file with a compact record
 * each (risk, score, lane, office/flow group), and, when a run config asks for a
 * random top-up, the top-up candidates (in-scope declarations that did not
 * alert) to a second one; after the last batch the plan is made per office and
 * flow and alerts.jsonl is written in one pass in risk order.
 */
#include "core/grow.h"
#include "ecorisk/run.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "score/alert.h"
#include "registry/registry_run.h"
#include "score/run_int.h"
#include "ecorisk/baseline.h"
#include "ecorisk/model.h"
#include "ecorisk/quarantine.h"
#include "ecorisk/refdata.h"
#include "ecorisk/score.h"
#include "core/sbuf.h"
#include "core/durable.h"
#include "core/sha256.h"
#include "ecorisk/version.h"
#include "score/runout.h"

#define MAX_GROUPS 65536          /* distinct office/flow groups tracked; the rest pool in one */
#define MAX_RULES 256
#define LOAD_AHEAD_SLOTS 12       /* batches read while the baseline loads (12 × 8192 rows) */

/* ---- run config: lane capacity and minimum random rate ---- */

typedef struct rule {
    char   office[ER_LIMIT_OFFICE + 1];  /* "*" = any */
    int    flow;                         /* er_flow, -1 = any */
    double cap[ER_LANE_COUNT];           /* fraction of the group's declarations; <0 = no limit */
    double min_random;                   /* fraction of in-scope declarations; 0 = none */
    er_lane random_lane;
} rule;

typedef struct run_config {
    rule          rules[MAX_RULES];
    size_t        n_rules;
    bool          any_capacity, any_random;
    er_risk_lanes lanes;                 /* risk thresholds of the red and yellow lanes */
    bool          order_harm;            /* "capacity_order": "harm" (docs/registries.md#harm) */
} run_config;

static er_status cfg_error(er_err *err, const char *file, const char *path, const char *what)
{
    return er_errf(err, ER_EFORMAT, "%s: %s: %s", file, path, what);
}

static void config_defaults(run_config *cfg)
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

static er_status load_config(run_config *cfg, const char *path, er_err *err)
{
    er_status st = ER_OK;
    json_object *root = json_object_from_file(path);
    config_defaults(cfg);
    if (!root)
        return er_errf(err, access(path, R_OK) == 0 ? ER_EPARSE : ER_ENOTFOUND,
                       "%s: cannot read run config (%s)", path, json_util_get_last_err());
    if (!json_object_is_type(root, json_type_object)) {
        st = cfg_error(err, path, "$", "expected an object with \"rules\"");
        goto cleanup;
    }
    json_object_object_foreach(root, key, val)
    {
        (void)val;
        if (strcmp(key, "risk_lanes") == 0) {
            if ((st = load_risk_lanes(&cfg->lanes, val, path, err)) != ER_OK)
                goto cleanup;
        } else if (strcmp(key, "capacity_order") == 0) {
            const char *s = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";
            if (strcmp(s, "harm") != 0 && strcmp(s, "score") != 0) {
                st = cfg_error(err, path, "$.capacity_order", "expected \"score\" or \"harm\"");
                goto cleanup;
            }
            cfg->order_harm = s[0] == 'h';
        } else if (strcmp(key, "rules") != 0 && strcmp(key, "comment") != 0) {
            char p[128];
            snprintf(p, sizeof p, "$.%s", key);
            st = cfg_error(err, path, p,
                           "unknown key (expected \"rules\", \"risk_lanes\", \"capacity_order\" or \"comment\")");
            goto cleanup;
        }
    }
    json_object *rules;
    if (!json_object_object_get_ex(root, "rules", &rules) || !json_object_is_type(rules, json_type_array)) {
        st = cfg_error(err, path, "$.rules", "expected an array of rules");
        goto cleanup;
    }
    size_t n = json_object_array_length(rules);
    if (n > MAX_RULES) {
        st = cfg_error(err, path, "$.rules", "too many rules (at most 256)");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(rules, i);
        rule *ru = &cfg->rules[i];
        char p[128];
        for (int l = 0; l < ER_LANE_COUNT; l++)
            ru->cap[l] = -1;
        ru->random_lane = ER_LANE_RED;
        strcpy(ru->office, "*");
        ru->flow = -1;
        if (!json_object_is_type(r, json_type_object)) {
            snprintf(p, sizeof p, "$.rules[%zu]", i);
            st = cfg_error(err, path, p, "expected an object");
            goto cleanup;
        }
        json_object_object_foreach(r, k, v)
        {
            snprintf(p, sizeof p, "$.rules[%zu].%s", i, k);
            if (strcmp(k, "office") == 0) {
                const char *s = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string) || strlen(s) == 0 || strlen(s) > ER_LIMIT_OFFICE) {
                    st = cfg_error(err, path, p, "expected an office code (1-32 characters) or \"*\"");
                    goto cleanup;
                }
                strcpy(ru->office, s);
            } else if (strcmp(k, "flow") == 0) {
                const char *s = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string)) s = "";
                if (strcmp(s, "*") == 0) ru->flow = -1;
                else if (strcmp(s, "IM") == 0) ru->flow = ER_FLOW_IM;
                else if (strcmp(s, "EX") == 0) ru->flow = ER_FLOW_EX;
                else if (strcmp(s, "TR") == 0) ru->flow = ER_FLOW_TR;
                else {
                    st = cfg_error(err, path, p, "expected \"IM\", \"EX\", \"TR\" or \"*\"");
                    goto cleanup;
                }
            } else if (strcmp(k, "red") == 0 || strcmp(k, "yellow") == 0 || strcmp(k, "blue") == 0 ||
                       strcmp(k, "min_random_rate") == 0) {
                if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
                    st = cfg_error(err, path, p, "expected a rate between 0 and 1");
                    goto cleanup;
                }
                double x = json_object_get_double(v);
                if (!(x >= 0 && x <= 1)) {
                    st = cfg_error(err, path, p, "expected a rate between 0 and 1");
                    goto cleanup;
                }
                if (k[0] == 'm') {
                    ru->min_random = x;
                    cfg->any_random |= x > 0;
                } else {
                    ru->cap[k[0] == 'r' ? ER_LANE_RED : k[0] == 'y' ? ER_LANE_YELLOW : ER_LANE_BLUE] = x;
                    cfg->any_capacity = true;
                }
            } else if (strcmp(k, "random_lane") == 0) {
                const char *s = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string)) s = "";
                if (strcmp(s, "red") == 0) ru->random_lane = ER_LANE_RED;
                else if (strcmp(s, "yellow") == 0) ru->random_lane = ER_LANE_YELLOW;
                else if (strcmp(s, "blue") == 0) ru->random_lane = ER_LANE_BLUE;
                else {
                    st = cfg_error(err, path, p, "expected \"red\", \"yellow\" or \"blue\"");
                    goto cleanup;
                }
            } else if (strcmp(k, "comment") != 0) {
                st = cfg_error(err, path, p,
                               "unknown key (expected office, flow, red, yellow, blue, min_random_rate, random_lane)");
                goto cleanup;
            }
        }
    }
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
    er_status st = load_config(cfg, path, err);
    if (st == ER_OK)
        *lanes = cfg->lanes;
    free(cfg);
    return st;
}

/* Most specific rule for a group: exact office beats "*", exact flow beats "*". */
static const rule *match_rule(const run_config *cfg, const char *office, int flow)
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

/* ---- office/flow groups ---- */

typedef struct group {
    char    *office;
    int      flow;
    uint64_t n_decl, n_in_scope, n_random;
} group;

typedef struct groups {
    group   *g;
    size_t   n, cap;
    uint32_t *slots;        /* open addressing: index + 1, 0 = empty */
    size_t   n_slots;
} groups;

static void groups_free(groups *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].office);
    free(gs->g);
    free(gs->slots);
}

/* Group index for (office, flow); -1 on ENOMEM. Past MAX_GROUPS, one pooled group. */
static long groups_get(groups *gs, const char *office, int flow)
{
    if (!office)
        office = "";
    if (gs->n_slots == 0 || (gs->n + 1) * 2 > gs->n_slots) {
        size_t ns = gs->n_slots ? gs->n_slots * 2 : 256;
        uint32_t *nsl = calloc(ns, sizeof *nsl);
        if (!nsl)
            return -1;
        for (size_t i = 0; i < gs->n; i++) {
            uint64_t h = er_hash64(gs->g[i].office, strlen(gs->g[i].office), (uint64_t)gs->g[i].flow);
            size_t j = h & (ns - 1);
            while (nsl[j])
                j = (j + 1) & (ns - 1);
            nsl[j] = (uint32_t)i + 1;
        }
        free(gs->slots);
        gs->slots = nsl;
        gs->n_slots = ns;
    }
    uint64_t h = er_hash64(office, strlen(office), (uint64_t)flow);
    size_t j = h & (gs->n_slots - 1);
    while (gs->slots[j]) {
        group *g = &gs->g[gs->slots[j] - 1];
        if (g->flow == flow && strcmp(g->office, office) == 0)
            return (long)gs->slots[j] - 1;
        j = (j + 1) & (gs->n_slots - 1);
    }
    if (gs->n >= MAX_GROUPS) {
        office = "(other)";
        flow = 0;
        for (size_t i = 0; i < gs->n; i++)
            if (gs->g[i].flow == 0 && strcmp(gs->g[i].office, office) == 0)
                return (long)i;
    }
    if (gs->n == gs->cap) {
        size_t nc = gs->cap ? gs->cap * 2 : 64;
        group *ng = realloc(gs->g, nc * sizeof *ng);
        if (!ng)
            return -1;
        gs->g = ng;
        gs->cap = nc;
    }
    group *g = &gs->g[gs->n];
    memset(g, 0, sizeof *g);
    g->office = strdup(office);
    if (!g->office)
        return -1;
    g->flow = flow;
    gs->slots[j] = (uint32_t)gs->n + 1;
    return (long)gs->n++;
}

/* ---- per-batch work slots ---- */

typedef struct alert_rec {
    uint64_t ordinal;        /* global declaration ordinal (feed order) */
    uint32_t group;
    uint32_t profile;
    uint8_t  lane, final_lane, domain;
    bool     random, over_capacity, topup;
    double   score;
    double   risk;           /* the rank key (score.h) */
    double   harm;           /* expected harm for "capacity_order": "harm", else 0 */
    uint64_t hash;           /* selection hash (top-up candidates) */
    uint64_t off;            /* byte offset in the spool file */
    uint32_t len;
} alert_rec;

typedef struct slot_alert {
    uint32_t decl;           /* index in the batch */
    uint32_t profile;
    uint8_t  lane, domain;
    bool     random;
    double   score, risk;
    uint32_t len;            /* bytes of the alert line in slot->alerts */
} slot_alert;

typedef struct slot_cand {
    uint32_t decl;
    uint32_t profile;
    uint8_t  domain;
    uint8_t  lane;           /* the carrying profile's lane by score, as spooled */
    double   score, risk;
    uint64_t hash;
    uint32_t len;
} slot_cand;

typedef struct slot {
    er_batch   *batch;
    er_sb       alerts, cands, scores;
    slot_alert *sa;
    size_t      n_sa, cap_sa;
    slot_cand  *sc;
    size_t      n_sc, cap_sc;
    uint8_t    *in_scope;    /* per declaration */
    float      *rows;        /* with a model: feature rows of the batch */
    double     *prob;        /* with a model: its probability per declaration */
    er_anomalies *an;        /* with a model: anomaly features per declaration */
    uint32_t   *cidx;        /* with a model: per declaration, its row in contrib (alerts and candidates) */
    float      *crows;       /* with a model: the feature rows of those, together */
    double     *contrib;     /* with a model: their SHAP contributions (features + 1 each) */
    size_t      cap_crows, cap_contrib;
    uint64_t   *oow;         /* per profile: in scope but for the validity window (only with windows) */
    size_t      feed;        /* index in opts->feeds the batch was read from */
    bool        ready, done, oom;
} slot;

typedef struct run_ctx {
    const er_run_opts   *opts;
    const er_profileset *ps;
    const er_baseline   *bl;
    er_alert_ctx         actx;
    er_risk_lanes        lanes;
    bool                 want_cands;
    er_model            *model;       /* NULL: risk from the packs (docs/scoring.md §7) */
    slot                *slots;
    size_t               n_slots;
    /* work queue */
    pthread_mutex_t      mu;
    pthread_cond_t       work_cv, done_cv;
    size_t              *queue;
    size_t               q_head, q_tail, q_len;
    bool                 stop;
    bool                 go;          /* baseline loaded, run id set: workers may score */
    er_status            worker_st;
} run_ctx;

static void csv_field(er_sb *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        er_sb_puts(b, s);
        return;
    }
    er_sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            er_sb_putc(b, '"');
        er_sb_putc(b, *s);
    }
    er_sb_putc(b, '"');
}

/* With a model: score the batch once for its feature rows, predict them in one
 * call, and keep the anomaly features and which declarations alert or may be
 * topped up (in_scope bit 1: alert, bit 2: candidate) for the formatting pass. */
static bool model_pass(run_ctx *c, er_eval *ev, er_model_pred *pred, slot *s)
{
    er_batch *b = s->batch;
    er_decl_score sc;
    size_t nf = er_model_n_features(c->model);
    er_err err;
    for (size_t i = 0; i < b->n; i += 64)
        er_anomaly_compute_batch(c->bl, &b->decls[i], b->n - i < 64 ? b->n - i : 64, &s->an[i]);
    for (size_t i = 0; i < b->n; i++) {
        sc.an = s->an[i];
        er_score_decl_an(c->ps, ev, &b->decls[i], &sc);
        er_model_features(c->model, &b->decls[i], &sc, s->rows + i * nf);
        for (size_t k = 0; s->oow && k < sc.n_results; k++)
            s->oow[k] += sc.results[k].out_of_window;
        s->in_scope[i] = (uint8_t)((sc.in_scope ? 4 : 0) | (sc.best >= 0 ? 1 : 0) |
                                   (sc.best < 0 && sc.in_scope && c->want_cands ? 2 : 0));
    }
    if (er_model_predict(pred, s->rows, b->n, s->prob, &err) != ER_OK)
        return false;
    /* SHAP values only for what may be written (alerts, top-up candidates), in one call */
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (s->in_scope[i] & 3) {
            if (!er_grow((void **)&s->crows, &s->cap_crows, (n + 1) * nf, sizeof *s->crows))
                return false;
            memcpy(s->crows + n * nf, s->rows + i * nf, nf * sizeof *s->crows);
            s->cidx[i] = (uint32_t)n++;
        }
    return er_grow((void **)&s->contrib, &s->cap_contrib, (n ? n : 1) * (nf + 1), sizeof *s->contrib) &&
           er_model_contrib(pred, s->crows, n, s->contrib, &err) == ER_OK;
}

/* Close the alert object just formatted with the model's view of it: its
 * probability, the profiles' own risk and the top contributions in words
 * (computed by model_pass). */
static void model_alert(run_ctx *c, const slot *s, size_t i, er_sb *out, size_t before, double profile_risk)
{
    size_t nf = er_model_n_features(c->model);
    if (out->len <= before || out->p[out->len - 1] != '}')
        return;
    out->len--;
    er_sb_puts(out, ",\"profile_risk\":");
    er_sb_json_numg(out, profile_risk, 17);
    er_sb_json_key(out, "model");
    er_model_explain_row(c->model, &s->batch->decls[i], s->rows + i * nf, s->prob[i],
                         s->contrib + (size_t)s->cidx[i] * (nf + 1), 5, out);
    er_sb_putc(out, '}');
}

/* One alert line (or top-up candidate) of declaration i appended to buf: the alert JSON, the
 * model's contributions when a model is loaded, the newline. Returns its length. */
static size_t spool_alert(run_ctx *c, const slot *s, size_t i, er_sb *buf, const er_decl_score *sc, size_t which,
                          er_lane lane, bool candidate, double profile_risk)
{
    size_t before = buf->len;
    er_alert_format(buf, &c->actx, &s->batch->decls[i], sc, which, lane, false, candidate);
    if (c->model)
        model_alert(c, s, i, buf, before, profile_risk);
    er_sb_putc(buf, '\n');
    return buf->len - before;
}

static void process_slot(run_ctx *c, er_eval *ev, er_model_pred *pred, slot *s)
{
    er_batch *b = s->batch;
    er_decl_score sc;
    er_sb_reset(&s->alerts);
    er_sb_reset(&s->cands);
    er_sb_reset(&s->scores);
    s->n_sa = s->n_sc = 0;
    s->oom = false;
    if (c->model && !model_pass(c, ev, pred, s)) {
        s->oom = true;
        return;
    }
    enum { AN_CHUNK = 64 };
    er_anomalies an[AN_CHUNK];   /* features of a chunk of the batch, computed together */
    for (size_t i = 0; i < b->n; i++) {
        const er_decl *d = &b->decls[i];
        double profile_risk = 0;
        if (c->model) {
            /* only alerts and top-up candidates need the profiles again (and every row for scores.csv) */
            if (!(s->in_scope[i] & 3) && !c->opts->all_scores) {
                s->in_scope[i] = (s->in_scope[i] & 4) != 0;
                continue;
            }
            sc.an = s->an[i];
            er_score_decl_an(c->ps, ev, d, &sc);
            profile_risk = sc.risk;
            sc.risk = s->prob[i];
        } else {
            if (i % AN_CHUNK == 0)
                er_anomaly_compute_batch(c->bl, d, b->n - i < AN_CHUNK ? b->n - i : AN_CHUNK, an);
            sc.an = an[i % AN_CHUNK];
            er_score_decl_an(c->ps, ev, d, &sc);
        }
        s->in_scope[i] = sc.in_scope;
        for (size_t k = 0; s->oow && !c->model && k < sc.n_results; k++)   /* with a model: model_pass */
            s->oow[k] += sc.results[k].out_of_window;
        if (c->opts->all_scores) {
            csv_field(&s->scores, d->id);
            for (int dom = 0; dom < ER_DOMAIN_COUNT; dom++) {
                er_sb_putc(&s->scores, ',');
                er_sb_json_numg(&s->scores, sc.domain_score[dom], 6);
            }
            er_sb_putc(&s->scores, ',');
            er_sb_json_numg(&s->scores, sc.risk, 17);
            er_sb_putc(&s->scores, '\n');
        }
        if (sc.best >= 0) {
            const er_profile_result *r = &sc.results[sc.best];
            er_lane lane = er_score_lane(&sc, (size_t)sc.best, &c->lanes);
            size_t len = spool_alert(c, s, i, &s->alerts, &sc, (size_t)sc.best, lane, false, profile_risk);
            if (!er_grow((void **)&s->sa, &s->cap_sa, s->n_sa + 1, sizeof *s->sa)) {
                s->oom = true;
                return;
            }
            slot_alert *a = &s->sa[s->n_sa++];
            a->decl = (uint32_t)i;
            a->profile = r->profile;
            a->lane = (uint8_t)lane;
            a->domain = (uint8_t)er_profileset_info(c->ps, r->profile)->domain;
            a->random = r->random;
            a->score = r->score;
            a->risk = sc.risk;
            a->len = (uint32_t)len;
        } else if (sc.in_scope && c->want_cands) {
            /* Candidate for the random top-up: carried by its best in-scope profile. */
            size_t which = 0;
            double top = -1;
            for (size_t k = 0; k < sc.n_results; k++)
                if (sc.results[k].in_scope && sc.results[k].score > top) {
                    top = sc.results[k].score;
                    which = k;
                }
            const er_profile_result *r = &sc.results[which];
            size_t len = spool_alert(c, s, i, &s->cands, &sc, which, (er_lane)r->lane, true, profile_risk);
            if (!er_grow((void **)&s->sc, &s->cap_sc, s->n_sc + 1, sizeof *s->sc)) {
                s->oom = true;
                return;
            }
            slot_cand *cd = &s->sc[s->n_sc++];
            cd->decl = (uint32_t)i;
            cd->profile = r->profile;
            cd->domain = (uint8_t)er_profileset_info(c->ps, r->profile)->domain;
            cd->lane = r->lane;
            cd->score = r->score;
            cd->risk = sc.risk;
            cd->hash = er_hash64(d->id, strlen(d->id), 0x72616e646f6dULL);
            cd->len = (uint32_t)len;
        }
    }
    if (s->alerts.oom || s->cands.oom || s->scores.oom)
        s->oom = true;
}

static void *worker(void *arg)
{
    run_ctx *c = arg;
    er_eval *ev = NULL;
    er_err err;
#ifdef __linux__
    prctl(PR_SET_NAME, "ecorisk-score", 0, 0, 0);   /* top -H, perf: who does what */
#endif
    er_model_pred *pred = NULL;
    er_status st = er_eval_new(&ev, c->ps, &err);
    if (st == ER_OK && c->model)
        st = er_model_pred_new(&pred, c->model, &err);
    pthread_mutex_lock(&c->mu);
    if (st != ER_OK)
        c->worker_st = st;
    for (;;) {
        while ((c->q_len == 0 || !c->go) && !c->stop)
            pthread_cond_wait(&c->work_cv, &c->mu);
        if (c->stop && (c->q_len == 0 || !c->go))
            break;
        size_t idx = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % c->n_slots;
        c->q_len--;
        pthread_mutex_unlock(&c->mu);
        if (ev && (pred || !c->model))
            process_slot(c, ev, pred, &c->slots[idx]);
        else
            c->slots[idx].oom = true;
        pthread_mutex_lock(&c->mu);
        c->slots[idx].done = true;
        pthread_cond_broadcast(&c->done_cv);
    }
    pthread_mutex_unlock(&c->mu);
    er_model_pred_free(pred);
    er_eval_free(ev);
    return NULL;
}

/* ---- planning: random top-up, then lane capacity ---- */

static int cmp_cand(const void *a, const void *b)
{
    const alert_rec *x = *(alert_rec *const *)a, *y = *(alert_rec *const *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static int cmp_capacity(const void *a, const void *b)
{
    const alert_rec *x = *(alert_rec *const *)a, *y = *(alert_rec *const *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    if (x->random != y->random) return x->random ? -1 : 1;      /* control samples first */
    if (x->harm != y->harm) return x->harm > y->harm ? -1 : 1;   /* 0 unless ordered by harm */
    return er_risk_cmp(x->risk, x->ordinal, y->risk, y->ordinal);
}

/* alerts.jsonl order: risk descending, ties in declaration order. */
static int cmp_risk(const void *a, const void *b)
{
    const alert_rec *x = a, *y = b;
    return er_risk_cmp(x->risk, x->ordinal, y->risk, y->ordinal);
}

/* Select top-up candidates per group until n_random ≥ ceil(rate × in-scope). */
static void plan_topup(const run_config *cfg, groups *gs, alert_rec *cands, size_t n_cands,
                       alert_rec **picked_ptrs)
{
    if (!n_cands)
        return;
    for (size_t i = 0; i < n_cands; i++)
        picked_ptrs[i] = &cands[i];
    qsort(picked_ptrs, n_cands, sizeof *picked_ptrs, cmp_cand);
    size_t i = 0;
    while (i < n_cands) {
        uint32_t gi = picked_ptrs[i]->group;
        group *g = &gs->g[gi];
        const rule *r = match_rule(cfg, g->office, g->flow);
        double rate = r ? r->min_random : 0;
        uint64_t need = (uint64_t)ceil(rate * (double)g->n_in_scope - 1e-9);
        for (; i < n_cands && picked_ptrs[i]->group == gi; i++) {
            if (g->n_random >= need)
                continue;
            picked_ptrs[i]->topup = true;
            picked_ptrs[i]->random = true;
            picked_ptrs[i]->final_lane = (uint8_t)(r ? r->random_lane : ER_LANE_RED);
            g->n_random++;
        }
    }
}

/* Keep the lane for the highest risks within capacity; demote the rest one lane. */
static er_status plan_capacity(const run_config *cfg, groups *gs, alert_rec *recs, size_t n)
{
    if (!n)
        return ER_OK;
    alert_rec **v = malloc(n * sizeof *v);
    if (!v)
        return ER_ENOMEM;
    for (int lane = ER_LANE_RED; lane >= ER_LANE_BLUE; lane--) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (recs[i].final_lane == lane)
                v[m++] = &recs[i];
        qsort(v, m, sizeof *v, cmp_capacity);
        size_t i = 0;
        while (i < m) {
            uint32_t gi = v[i]->group;
            const group *g = &gs->g[gi];
            const rule *r = match_rule(cfg, g->office, g->flow);
            double rate = r ? r->cap[lane] : -1;
            uint64_t cap = rate < 0 ? UINT64_MAX : (uint64_t)floor(rate * (double)g->n_decl + 1e-9);
            uint64_t used = 0;
            for (; i < m && v[i]->group == gi; i++) {
                if (v[i]->random || used < cap) {   /* control samples always keep their lane */
                    used++;
                    continue;
                }
                v[i]->over_capacity = true;
                v[i]->final_lane = (uint8_t)(lane - 1);
            }
        }
    }
    free(v);
    return ER_OK;
}

/* Copy one spooled alert line into out, rewriting lane / over_capacity if planned. */
static er_status emit_alert(FILE *spool, const alert_rec *r, er_sb *line, FILE *out, er_err *err)
{
    er_sb_reset(line);
    if (!er_sb_reserve(line, r->len))
        return er_errf(err, ER_ENOMEM, "out of memory");
    if (fseeko(spool, (off_t)r->off, SEEK_SET) != 0 || fread(line->p, 1, r->len, spool) != r->len)
        return er_errf(err, ER_EIO, "cannot read back spooled alert: %s", strerror(errno));
    line->len = r->len;
    line->p[line->len] = '\0';
    if (r->final_lane != r->lane || r->over_capacity) {
        char from[64], to[96];
        snprintf(from, sizeof from, "\"lane\":\"%s\"", er_lane_str((er_lane)r->lane));
        if (r->final_lane != r->lane)
            snprintf(to, sizeof to, "\"lane\":\"%s\",\"lane_by_score\":\"%s\"",
                     er_lane_str((er_lane)r->final_lane), er_lane_str((er_lane)r->lane));
        else
            snprintf(to, sizeof to, "%s", from);
        char *p = strstr(line->p, from);
        char *q = strstr(line->p, "\"over_capacity\":false");
        if (!p || !q || q < p)
            return er_errf(err, ER_EINTERNAL, "spooled alert has no lane field");
        fwrite(line->p, 1, (size_t)(p - line->p), out);
        fputs(to, out);
        p += strlen(from);
        /* skip an existing lane_by_score (never present in spooled lines) */
        fwrite(p, 1, (size_t)(q - p), out);
        fputs(r->over_capacity ? "\"over_capacity\":true" : "\"over_capacity\":false", out);
        q += strlen("\"over_capacity\":false");
        fwrite(q, 1, line->len - (size_t)(q - line->p), out);
    } else {
        fwrite(line->p, 1, line->len, out);
    }
    return ER_OK;
}

/* ---- summary and metrics ---- */

typedef struct counts {
    uint64_t rows_read, accepted, quarantined, by_reason[ER_Q_COUNT];
    uint64_t dup_window_resets;             /* duplicate-id table restarts, all feeds */
    uint64_t alerts, random, topup, over_capacity, in_scope;
    uint64_t by_lane[ER_LANE_COUNT], by_domain[ER_DOMAIN_COUNT];
    uint64_t *by_profile;                   /* [n_profiles] */
    uint64_t *by_profile_lane;              /* [n_profiles * ER_LANE_COUNT] */
    uint64_t *out_of_window;                /* [n_profiles]: in scope but for the validity window */
    int32_t  min_date, max_date;
} counts;

static void count_alert(counts *k, const alert_rec *r, size_t n_lanes)
{
    (void)n_lanes;
    k->alerts++;
    k->random += r->random;
    k->topup += r->topup;
    k->over_capacity += r->over_capacity;
    k->by_lane[r->final_lane]++;
    k->by_domain[r->domain]++;
    k->by_profile[r->profile]++;
    k->by_profile_lane[(size_t)r->profile * ER_LANE_COUNT + r->final_lane]++;
}

/* What a run records about how it was made, besides the counts (docs/operations.md#summary). */
typedef struct run_meta {
    const char *mapping, *mapping_sha256;   /* mapping name; "" sha for the built-in ones */
    char        config_sha256[65];          /* "" without --config */
    double      q_share, q_max;             /* quarantined share; its threshold */
    bool        q_exceeded;
} run_meta;

static void write_summary(er_sb *b, const er_run_opts *o, const er_profileset *ps, const char *run_id,
                          const char *baseline_id, const counts *k, double secs[3], const run_meta *m,
                          const er_sb *manifest)
{
    char d1[11], d2[11];
    er_sb_puts(b, "{\n  \"run_id\": ");
    er_sb_json_cstr(b, run_id);
    er_sb_puts(b, ",\n  \"ecorisk_version\": ");
    er_sb_json_cstr(b, ECORISK_VERSION);
    if (o->as_of) {
        er_date_format(o->as_of, d1);
        er_sb_printf(b, ",\n  \"as_of\": \"%s\"", d1);
    } else {
        er_sb_puts(b, ",\n  \"as_of\": null");
    }
    er_sb_puts(b, ",\n  \"mapping\": {\"name\": ");
    er_sb_json_cstr(b, m->mapping);
    er_sb_puts(b, ", \"sha256\": ");
    if (*m->mapping_sha256)
        er_sb_json_cstr(b, m->mapping_sha256);
    else
        er_sb_puts(b, "null");
    er_sb_puts(b, "},\n  \"config\": ");
    if (o->config) {
        er_sb_puts(b, "{\"file\": ");
        er_sb_json_cstr(b, o->config);
        er_sb_puts(b, ", \"sha256\": ");
        er_sb_json_cstr(b, m->config_sha256);
        er_sb_puts(b, "}");
    } else {
        er_sb_puts(b, "null");
    }
    er_sb_puts(b, ",\n  \"feeds\": [");
    for (size_t i = 0; i < o->n_feeds; i++) {
        if (i)
            er_sb_puts(b, ", ");
        er_sb_json_cstr(b, o->feeds[i]);
    }
    er_sb_puts(b, "],\n  \"baseline_id\": ");
    er_sb_json_cstr(b, baseline_id);
    er_sb_puts(b, ",\n  \"profile_set\": ");
    er_sb_json_cstr(b, er_profileset_hash(ps));
    er_sb_puts(b, ",\n  \"profiles\": {");
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        const er_profile_info *p = er_profileset_info(ps, i);
        er_sb_puts(b, i ? ", " : "");
        er_sb_json_cstr(b, p->id);
        er_sb_printf(b, ": %d", p->version);
    }
    er_sb_puts(b, "},\n");
    if (k->min_date) {
        er_date_format(k->min_date, d1);
        er_date_format(k->max_date, d2);
        er_sb_printf(b, "  \"dates\": [\"%s\", \"%s\"],\n", d1, d2);
    }
    er_sb_printf(b, "  \"rows\": {\"read\": %llu, \"accepted\": %llu, \"quarantined\": %llu, \"reconciled\": %s},\n",
                 (unsigned long long)k->rows_read, (unsigned long long)k->accepted,
                 (unsigned long long)k->quarantined,
                 k->rows_read == k->accepted + k->quarantined ? "true" : "false");
    er_sb_printf(b, "  \"dup_window_resets\": %llu,\n", (unsigned long long)k->dup_window_resets);
    er_sb_puts(b, "  \"quarantined_by_reason\": {");
    bool first = true;
    for (int r = 0; r < ER_Q_COUNT; r++) {
        if (!k->by_reason[r])
            continue;
        er_sb_printf(b, "%s\"%s\": %llu", first ? "" : ", ", er_qreason_str((er_qreason)r),
                     (unsigned long long)k->by_reason[r]);
        first = false;
    }
    er_sb_printf(b, "},\n  \"quarantine\": {\"share\": %.6g, \"max_share\": %.6g, \"exceeded\": %s},\n",
                 m->q_share, m->q_max, m->q_exceeded ? "true" : "false");
    er_sb_printf(b, "  \"in_scope\": %llu,\n", (unsigned long long)k->in_scope);
    er_sb_puts(b, "  \"out_of_window\": {");
    first = true;
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        if (!k->out_of_window[i])
            continue;
        er_sb_puts(b, first ? "" : ", ");
        first = false;
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, ": %llu", (unsigned long long)k->out_of_window[i]);
    }
    er_sb_puts(b, "},\n");
    er_sb_printf(b, "  \"alerts\": {\"total\": %llu, \"random\": %llu, \"random_topup\": %llu, \"over_capacity\": %llu,\n",
                 (unsigned long long)k->alerts, (unsigned long long)k->random,
                 (unsigned long long)k->topup, (unsigned long long)k->over_capacity);
    er_sb_puts(b, "    \"by_lane\": {");
    for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
        er_sb_printf(b, "%s\"%s\": %llu", l == ER_LANE_RED ? "" : ", ", er_lane_str((er_lane)l),
                     (unsigned long long)k->by_lane[l]);
    er_sb_puts(b, "},\n    \"by_domain\": {");
    for (int d = 0; d < ER_DOMAIN_COUNT; d++)
        er_sb_printf(b, "%s\"%s\": %llu", d ? ", " : "", er_domain_str((er_domain)d),
                     (unsigned long long)k->by_domain[d]);
    er_sb_puts(b, "},\n    \"by_profile\": {");
    first = true;
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        if (!k->by_profile[i])
            continue;
        er_sb_puts(b, first ? "\n      " : ",\n      ");
        first = false;
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, ": {\"total\": %llu", (unsigned long long)k->by_profile[i]);
        for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
            er_sb_printf(b, ", \"%s\": %llu", er_lane_str((er_lane)l),
                         (unsigned long long)k->by_profile_lane[i * ER_LANE_COUNT + (size_t)l]);
        er_sb_putc(b, '}');
    }
    er_sb_puts(b, first ? "}\n  },\n" : "\n    }\n  },\n");
    er_sb_printf(b, "  \"timings\": {\"load_s\": %.3f, \"score_s\": %.3f, \"total_s\": %.3f},\n  ",
                 secs[0], secs[1], secs[2]);
    er_sb_put(b, manifest->p ? manifest->p : "", manifest->len);
    er_sb_puts(b, "\n}\n");
}

/* Prometheus text format, gauges of the last run, one label set per family
 * (docs/operations.md#metrics); promtool check metrics passes on it. */
static void metric_head(er_sb *b, const char *name, const char *help)
{
    er_sb_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The families a failed run can fill in too: success, when, how long. */
static void write_run_status(er_sb *b, bool success, double total_s)
{
    metric_head(b, "ecorisk_run_success", "1 if the last run completed and wrote its outputs, 0 if it failed.");
    er_sb_printf(b, "ecorisk_run_success %d\n", success ? 1 : 0);
    metric_head(b, "ecorisk_last_run_timestamp_seconds", "Unix time at which the last run ended.");
    er_sb_printf(b, "ecorisk_last_run_timestamp_seconds %lld\n", (long long)time(NULL));
    metric_head(b, "ecorisk_run_duration_seconds", "Wall time of the last run.");
    er_sb_printf(b, "ecorisk_run_duration_seconds %.3f\n", total_s);
}

static void write_metrics(er_sb *b, const er_profileset *ps, const counts *k, double total_s, const run_meta *m)
{
    metric_head(b, "ecorisk_rows", "Feed records by outcome in the last run.");
    er_sb_printf(b, "ecorisk_rows{outcome=\"read\"} %llu\n", (unsigned long long)k->rows_read);
    er_sb_printf(b, "ecorisk_rows{outcome=\"accepted\"} %llu\n", (unsigned long long)k->accepted);
    er_sb_printf(b, "ecorisk_rows{outcome=\"quarantined\"} %llu\n", (unsigned long long)k->quarantined);
    metric_head(b, "ecorisk_dup_window_resets", "Restarts of the duplicate-id table in the last run "
                "(an id repeated across a restart is not caught).");
    er_sb_printf(b, "ecorisk_dup_window_resets %llu\n", (unsigned long long)k->dup_window_resets);
    metric_head(b, "ecorisk_quarantined", "Quarantined records by reason in the last run.");
    for (int r = 0; r < ER_Q_COUNT; r++)
        er_sb_printf(b, "ecorisk_quarantined{reason=\"%s\"} %llu\n", er_qreason_str((er_qreason)r),
                     (unsigned long long)k->by_reason[r]);
    metric_head(b, "ecorisk_quarantine_share", "Quarantined share of the rows read in the last run.");
    er_sb_printf(b, "ecorisk_quarantine_share %.6g\n", m->q_share);
    metric_head(b, "ecorisk_quarantine_share_exceeded", "1 if the quarantined share was above the run's maximum.");
    er_sb_printf(b, "ecorisk_quarantine_share_exceeded %d\n", m->q_exceeded ? 1 : 0);
    metric_head(b, "ecorisk_alerts", "Alerts by domain in the last run (sum() is the total).");
    for (int d = 0; d < ER_DOMAIN_COUNT; d++)
        er_sb_printf(b, "ecorisk_alerts{domain=\"%s\"} %llu\n", er_domain_str((er_domain)d),
                     (unsigned long long)k->by_domain[d]);
    metric_head(b, "ecorisk_alerts_by_lane", "Alerts by final lane in the last run (sum() is the total).");
    for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
        er_sb_printf(b, "ecorisk_alerts_by_lane{lane=\"%s\"} %llu\n", er_lane_str((er_lane)l),
                     (unsigned long long)k->by_lane[l]);
    metric_head(b, "ecorisk_profile_alerts", "Alerts carried by each profile in the last run.");
    for (size_t i = 0; i < er_profileset_count(ps); i++) {
        er_sb_puts(b, "ecorisk_profile_alerts{profile=");
        er_sb_json_cstr(b, er_profileset_info(ps, i)->id);
        er_sb_printf(b, "} %llu\n", (unsigned long long)k->by_profile[i]);
    }
    metric_head(b, "ecorisk_alerts_over_capacity", "Alerts demoted for lane capacity in the last run.");
    er_sb_printf(b, "ecorisk_alerts_over_capacity %llu\n", (unsigned long long)k->over_capacity);
    write_run_status(b, true, total_s);
}

/* Text to path through path.tmp + rename: a collector reads the old file or the new one. */
static er_status write_atomic(const char *path, const er_sb *b, er_err *err)
{
    /* core/durable.h: an exclusive tmp (never a planted symlink), fsync, rename, fsync the directory */
    char dir[4096], tmp[300];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *step = "";
    if (!*base || strlen(base) > 200 || (slash && (size_t)(slash - path) >= sizeof dir))
        return er_errf(err, ER_EINVAL, "%s: not a file path", path);
    snprintf(dir, sizeof dir, "%.*s", slash ? (slash == path ? 1 : (int)(slash - path)) : 1, slash ? path : ".");
    snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", base, (long)getpid());
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return er_errf(err, ER_ECREATE, "%s: cannot open directory: %s", dir, strerror(errno));
    unlinkat(dfd, tmp, 0);   /* a stale one of an earlier process with this pid (a link is removed, not followed) */
    int rc = er_durable_replace(dfd, tmp, dfd, base, b->p ? b->p : "", b->len, 0644, NULL, &step);
    int e = errno;
    close(dfd);
    if (rc != 0)
        return er_errf(err, strcmp(step, "create") == 0 ? ER_ECREATE : ER_EIO, "%s: %s failed: %s", path, step,
                       strerror(e));
    return ER_OK;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static er_status write_file(er_runout *ro, const char *name, const er_sb *b, er_err *err)
{
    FILE *f = NULL;
    er_status st = er_runout_open(ro, name, &f, err);
    if (st != ER_OK)
        return st;
    fwrite(b->p ? b->p : "", 1, b->len, f);
    return er_runout_close(ro, &f, err);
}

/* ---- the run ---- */

/* The baseline loads on its own thread while the packs load and the first
 * batches are read (a large baseline takes a few hundred milliseconds). */
typedef struct bl_loader {
    const char  *path;
    er_baseline *bl;
    er_status    st;
    er_err       err;
    pthread_t    th;
    bool         running;
} bl_loader;

static void *load_baseline(void *arg)
{
    bl_loader *l = arg;
    l->st = er_baseline_load(&l->bl, l->path, &l->err);
    return NULL;
}

static er_status loader_join(bl_loader *l, er_baseline **out, er_err *err)
{
    if (l->running) {
        pthread_join(l->th, NULL);
        l->running = false;
    }
    if (l->st != ER_OK) {
        *err = l->err;
        return l->st;
    }
    *out = l->bl;
    l->bl = NULL;
    return ER_OK;
}

er_status er_run(const er_run_opts *o, er_run_result *res, er_err *err)
{
    er_status st = ER_OK;
    double t0 = now_s(), t_loaded = 0;
    er_refdata *ref = NULL;
    er_mapping *map = NULL;
    er_profileset *ps = NULL;
    er_baseline *bl = NULL;
    er_feed *feed = NULL;
    run_config cfg = {0};
    run_ctx c = {0};
    groups gs = {0};
    counts k = {0};
    pthread_t *th = NULL;
    size_t n_threads = 0;
    bool mu_init = false;
    er_runout ro;
    FILE *f_alerts = NULL, *f_quar = NULL, *f_scores = NULL;
    FILE *spool = NULL, *cspool = NULL, *alerts_out = NULL;
    alert_rec *recs = NULL, *cands = NULL, **cand_ptrs = NULL;
    size_t n_recs = 0, cap_recs = 0, n_cands = 0, cap_cands = 0;
    uint64_t spool_off = 0, cspool_off = 0, ordinal = 0;
    er_sb line = {0}, text = {0};
    reg_run rr = {0};   /* registries and ledger (docs/registries.md) */
    const bool to_stdout = strcmp(o->out_dir, "-") == 0;
    bool planned = false;
    bl_loader loader = {.path = o->baseline};
    run_meta meta = {.mapping = "", .mapping_sha256 = ""};
    bool metrics_done = false;
    const double t_start = now_s();   /* for the failure metrics (t0 below is set after the loads) */

    memset(res, 0, sizeof *res);
    er_runout_init(&ro);
    k.min_date = 0;

    /* Load everything first: a bad pack, mapping or baseline stops the run before any
     * output (the baseline on its own thread, joined before the first file is opened). */
    if (o->baseline) {
        loader.running = pthread_create(&loader.th, NULL, load_baseline, &loader) == 0;
        if (!loader.running)
            load_baseline(&loader);
    }
    if ((st = er_refdata_load(&ref, o->reference, err)) != ER_OK)
        goto cleanup;
    if (o->mapping && (st = er_mapping_load(&map, o->mapping, err)) != ER_OK)
        goto cleanup;
    er_profile_opts popts = {.ref = ref, .today = o->as_of};
    if ((st = er_profileset_load(&ps, o->profiles, o->n_profiles, &popts, false, err)) != ER_OK)
        goto cleanup;
    config_defaults(&cfg);
    if (o->config && ((st = load_config(&cfg, o->config, err)) != ER_OK ||
                      (st = er_sha256_file(o->config, meta.config_sha256, err)) != ER_OK))
        goto cleanup;
    meta.mapping = map ? er_mapping_name(map) : o->format == ER_FORMAT_JSONL ? "canonical-jsonl" : "canonical-csv";
    meta.mapping_sha256 = map ? er_mapping_sha256(map) : "";
    planned = cfg.any_capacity || cfg.any_random;
    if ((st = reg_run_open(&rr, o, false, err)) != ER_OK)
        goto cleanup;
    if (o->model && (st = er_model_load(&c.model, o->model, err)) != ER_OK)
        goto cleanup;
    c.lanes = cfg.lanes;

    c.opts = o;
    c.ps = ps;
    c.actx.ps = ps;
    c.actx.as_of = o->as_of;
    c.want_cands = cfg.any_random;

    size_t np = er_profileset_count(ps);
    k.by_profile = calloc(np ? np : 1, sizeof *k.by_profile);
    k.by_profile_lane = calloc((np ? np : 1) * ER_LANE_COUNT, sizeof *k.by_profile_lane);
    k.out_of_window = calloc(np ? np : 1, sizeof *k.out_of_window);
    bool windows = false;   /* any validity window: count what it keeps out */
    for (size_t i = 0; i < np; i++)
        windows |= er_profileset_info(ps, i)->valid_from || er_profileset_info(ps, i)->valid_until;
    if (!k.by_profile || !k.by_profile_lane || !k.out_of_window) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }

    /* Threads and slots. */
    n_threads = o->threads ? o->threads : 1;
    /* Two batches per worker in flight plus the one being read; with a baseline,
     * enough more that reading goes on while it loads (each slot costs memory
     * only once filled). */
    c.n_slots = n_threads * 2 + 1;
    if (loader.running && c.n_slots < LOAD_AHEAD_SLOTS)
        c.n_slots = LOAD_AHEAD_SLOTS;
    c.slots = calloc(c.n_slots, sizeof *c.slots);
    c.queue = calloc(c.n_slots, sizeof *c.queue);
    th = calloc(n_threads, sizeof *th);
    if (!c.slots || !c.queue || !th) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t bsz = o->batch_size ? o->batch_size : 8192;
    for (size_t i = 0; i < c.n_slots; i++) {
        if ((st = er_batch_new(&c.slots[i].batch, bsz, err)) != ER_OK)
            goto cleanup;
        c.slots[i].in_scope = malloc(bsz);
        if (c.model) {
            c.slots[i].rows = malloc(bsz * er_model_n_features(c.model) * sizeof *c.slots[i].rows);
            c.slots[i].prob = malloc(bsz * sizeof *c.slots[i].prob);
            c.slots[i].an = malloc(bsz * sizeof *c.slots[i].an);
            c.slots[i].cidx = malloc(bsz * sizeof *c.slots[i].cidx);
        }
        if (windows)
            c.slots[i].oow = calloc(np ? np : 1, sizeof *c.slots[i].oow);
        if (!c.slots[i].in_scope || (windows && !c.slots[i].oow) ||
            (c.model && (!c.slots[i].rows || !c.slots[i].prob || !c.slots[i].an || !c.slots[i].cidx))) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.work_cv, NULL);
    pthread_cond_init(&c.done_cv, NULL);
    mu_init = true;
    for (size_t i = 0; i < n_threads; i++) {
        if (pthread_create(&th[i], NULL, worker, &c) != 0) {
            n_threads = i;
            st = er_errf(err, ER_EINTERNAL, "cannot start worker thread");
            goto cleanup;
        }
    }

    uint64_t next_fill = 0, next_commit = 0, bytes_before = 0;
    size_t feed_i = 0;
    bool eof = false;
    while (!eof || next_commit < next_fill || !c.go) {
        if (!eof && next_fill - next_commit < c.n_slots) {
            slot *s = &c.slots[next_fill % c.n_slots];
            er_status fs = ER_EOF;
            while (feed_i < o->n_feeds) {
                if (!feed) {
                    er_feed_opts fo = {.source = o->feeds[feed_i], .mapping = map, .ref = ref,
                                       .format = o->format, .since = o->since, .until = o->until,
                                       .warn = o->warn, .warn_ud = o->warn_ud};
                    if ((st = er_feed_open(&feed, &fo, err)) != ER_OK)
                        goto drain;
                }
                fs = er_feed_next(feed, s->batch, err);
                s->feed = feed_i;
                if (fs == ER_OK) {
                    /* documents and ledger: sequential, in feed order, before scoring */
                    if ((st = reg_run_batch(&rr, s->batch, err)) != ER_OK)
                        goto drain;
                    break;
                }
                if (fs != ER_EOF) {
                    st = fs;
                    goto drain;
                }
                const er_feed_stats *fst = er_feed_stats_get(feed);
                k.rows_read += fst->rows_read;
                k.accepted += fst->accepted;
                k.quarantined += fst->quarantined;
                k.dup_window_resets += fst->dup_window_resets;
                for (int r = 0; r < ER_Q_COUNT; r++)
                    k.by_reason[r] += fst->by_reason[r];
                if (fst->min_date && (!k.min_date || fst->min_date < k.min_date))
                    k.min_date = fst->min_date;
                if (fst->max_date > k.max_date)
                    k.max_date = fst->max_date;
                bytes_before += fst->bytes_read;
                er_feed_free(feed);
                feed = NULL;
                feed_i++;
            }
            if (fs == ER_EOF) {
                eof = true;
                continue;
            }
            pthread_mutex_lock(&c.mu);
            s->done = false;
            c.queue[c.q_tail] = next_fill % c.n_slots;
            c.q_tail = (c.q_tail + 1) % c.n_slots;
            c.q_len++;
            pthread_cond_signal(&c.work_cv);
            pthread_mutex_unlock(&c.mu);
            next_fill++;
            continue;
        }
        if (!c.go) {
            /* Scoring starts: the baseline is in, the run id is known, outputs open. */
            if ((st = loader_join(&loader, &bl, err)) != ER_OK)
                goto drain;
            if (c.model && (st = er_model_bind(c.model, ps, bl, err)) != ER_OK)
                goto drain;
            /* run id: what the run was asked to do, so a re-run has the same id. */
            {
                uint64_t h = er_hash64("ecorisk-run", 11, 0);
                const char *bid = bl ? er_baseline_id(bl) : "";
                h = er_hash64(er_profileset_hash(ps), strlen(er_profileset_hash(ps)) + 1, h);
                h = er_hash64(bid, strlen(bid) + 1, h);
                if (c.model)
                    h = er_hash64(er_model_id(c.model), strlen(er_model_id(c.model)) + 1, h);
                for (size_t i = 0; i < o->n_feeds; i++)
                    h = er_hash64(o->feeds[i], strlen(o->feeds[i]) + 1, h);
                int32_t dates[3] = {o->since, o->until, o->as_of};
                h = er_hash64(dates, sizeof dates, h);
                snprintf(res->run_id, sizeof res->run_id, "%016llx", (unsigned long long)h);
            }
            c.bl = bl;
            c.actx.run_id = res->run_id;
            c.actx.baseline_id = bl ? er_baseline_id(bl) : "";
            /* Outputs. */
            if (!to_stdout) {
                if ((st = er_runout_begin(&ro, o->out_dir, err)) != ER_OK ||
                    (st = er_runout_open(&ro, "alerts.jsonl", &f_alerts, err)) != ER_OK ||
                    (st = er_runout_open(&ro, "quarantine.jsonl", &f_quar, err)) != ER_OK)
                    goto drain;
                if (o->all_scores && (st = er_runout_open(&ro, "scores.csv", &f_scores, err)) != ER_OK)
                    goto drain;
                alerts_out = f_alerts;
                if (f_scores)
                    fputs("declaration_id,wildlife,ods,waste,risk\n", f_scores);
            } else {
                alerts_out = stdout;
            }
            {
                spool = tmpfile();
                cspool = planned ? tmpfile() : NULL;
                if (!spool || (planned && !cspool)) {
                    st = er_errf(err, ER_EIO, "cannot create a temporary spool file: %s", strerror(errno));
                    goto drain;
                }
            }
            t_loaded = now_s();
            pthread_mutex_lock(&c.mu);
            c.go = true;
            pthread_cond_broadcast(&c.work_cv);
            pthread_mutex_unlock(&c.mu);
            if (next_commit == next_fill)
                continue;
        }
        /* Commit the oldest batch, in order. */
        slot *s = &c.slots[next_commit % c.n_slots];
        pthread_mutex_lock(&c.mu);
        while (!s->done)
            pthread_cond_wait(&c.done_cv, &c.mu);
        pthread_mutex_unlock(&c.mu);
        if (s->oom || c.worker_st != ER_OK) {
            st = er_errf(err, ER_ENOMEM, "out of memory while scoring");
            goto drain;
        }
        er_batch *b = s->batch;
        /* quarantine records, in feed order within the batch */
        /* The feed that produced these records may be closed by now: name it from opts. */
        for (size_t i = 0; i < b->n_q; i++)
            b->quarantined[i].file = o->feeds[s->feed];
        if (f_quar && (st = er_quarantine_write_batch(f_quar, b, err)) != ER_OK)
            goto drain;
        if (f_scores && s->scores.len)
            fwrite(s->scores.p, 1, s->scores.len, f_scores);
        uint64_t base = ordinal;
        for (size_t p = 0; s->oow && p < np; p++) {
            k.out_of_window[p] += s->oow[p];
            s->oow[p] = 0;
        }
        for (size_t i = 0; i < b->n; i++) {
            k.in_scope += s->in_scope[i];
            if (!planned)
                continue;
            long gi = groups_get(&gs, b->decls[i].office, b->decls[i].flow);
            if (gi < 0) {
                st = er_errf(err, ER_ENOMEM, "out of memory");
                goto drain;
            }
            gs.g[gi].n_decl++;
            gs.g[gi].n_in_scope += s->in_scope[i];
        }
        ordinal += b->n;
        size_t off = 0;
        for (size_t i = 0; i < s->n_sa; i++) {
            const slot_alert *a = &s->sa[i];
            alert_rec r = {.ordinal = base + a->decl, .profile = a->profile, .lane = a->lane,
                           .final_lane = a->lane, .domain = a->domain, .random = a->random,
                           .score = a->score, .risk = a->risk, .off = spool_off + off, .len = a->len};
            reg_run_alert(&rr, &b->decls[a->decl], (er_domain)a->domain);
            if (!er_grow((void **)&recs, &cap_recs, n_recs + 1, sizeof *recs)) {
                st = er_errf(err, ER_ENOMEM, "out of memory");
                goto drain;
            }
            if (planned) {
                const er_decl *d = &b->decls[a->decl];
                long gi = groups_get(&gs, d->office, d->flow);
                if (gi < 0) {
                    st = er_errf(err, ER_ENOMEM, "out of memory");
                    goto drain;
                }
                r.group = (uint32_t)gi;
                if (cfg.order_harm)
                    r.harm = reg_run_expected_harm(&b->decls[a->decl], a->score);
                gs.g[gi].n_random += a->random;
            }
            recs[n_recs++] = r;
            off += a->len;
        }
        if (s->alerts.len) {
            fwrite(s->alerts.p, 1, s->alerts.len, spool);
            spool_off += s->alerts.len;
        }
        off = 0;
        for (size_t i = 0; i < s->n_sc; i++) {
            const slot_cand *cd = &s->sc[i];
            const er_decl *d = &b->decls[cd->decl];
            long gi = groups_get(&gs, d->office, d->flow);
            if (gi < 0 || !er_grow((void **)&cands, &cap_cands, n_cands + 1, sizeof *cands)) {
                st = er_errf(err, ER_ENOMEM, "out of memory");
                goto drain;
            }
            alert_rec r = {.ordinal = base + cd->decl, .group = (uint32_t)gi, .profile = cd->profile,
                           .lane = cd->lane, .final_lane = cd->lane, .domain = cd->domain,
                           .score = cd->score, .risk = cd->risk, .hash = cd->hash, .off = cspool_off,
                           .len = cd->len};
            fwrite(s->cands.p + off, 1, cd->len, cspool);
            cspool_off += cd->len;
            off += cd->len;
            cands[n_cands++] = r;
        }
        next_commit++;
        if (o->progress) {
            uint64_t bytes = bytes_before + (feed ? er_feed_stats_get(feed)->bytes_read : 0);
            o->progress(o->progress_ud, ordinal, bytes, n_recs);
        }
    }

drain:
    pthread_mutex_lock(&c.mu);
    c.stop = true;
    pthread_cond_broadcast(&c.work_cv);
    pthread_mutex_unlock(&c.mu);
    for (size_t i = 0; i < n_threads; i++)
        pthread_join(th[i], NULL);
    n_threads = 0;
    if (st != ER_OK)
        goto cleanup;
    if (k.rows_read != k.accepted + k.quarantined) {
        st = er_errf(err, ER_EINTERNAL, "accounting does not reconcile: read %llu != accepted %llu + quarantined %llu",
                     (unsigned long long)k.rows_read, (unsigned long long)k.accepted,
                     (unsigned long long)k.quarantined);
        goto cleanup;
    }

    if (planned) {
        /* Random top-up, then capacity, then one ordered pass over alerts + picked candidates. */
        if (n_cands) {
            cand_ptrs = malloc(n_cands * sizeof *cand_ptrs);
            if (!cand_ptrs) {
                st = er_errf(err, ER_ENOMEM, "out of memory");
                goto cleanup;
            }
            plan_topup(&cfg, &gs, cands, n_cands, cand_ptrs);
            for (size_t i = 0; i < n_cands; i++) {
                if (!cands[i].topup)
                    continue;
                if (!er_grow((void **)&recs, &cap_recs, n_recs + 1, sizeof *recs)) {
                    st = er_errf(err, ER_ENOMEM, "out of memory");
                    goto cleanup;
                }
                recs[n_recs++] = cands[i];
            }
        }
        if ((st = plan_capacity(&cfg, &gs, recs, n_recs)) != ER_OK) {
            er_errf(err, st, "out of memory planning lane capacity");
            goto cleanup;
        }
    }
    /* One pass in risk order over alerts (+ picked top-up candidates). */
    if (n_recs)   /* qsort(NULL, 0) is undefined: a day without alerts */
        qsort(recs, n_recs, sizeof *recs, cmp_risk);
    for (size_t i = 0; i < n_recs; i++) {
        if ((st = emit_alert(recs[i].topup ? cspool : spool, &recs[i], &line, alerts_out, err)) != ER_OK)
            goto cleanup;
        count_alert(&k, &recs[i], 0);
    }
    if (alerts_out && ferror(alerts_out)) {
        st = er_errf(err, ER_EIO, "%s: write failed", to_stdout ? "stdout" : "alerts.jsonl");
        goto cleanup;
    }

    res->rows_read = k.rows_read;
    res->accepted = k.accepted;
    res->quarantined = k.quarantined;
    res->dup_window_resets = k.dup_window_resets;
    res->alerts = k.alerts;
    res->random = k.random;
    res->over_capacity = k.over_capacity;
    res->dup_window_resets = k.dup_window_resets;
    memcpy(res->alerts_by_lane, k.by_lane, sizeof k.by_lane);
    memcpy(res->alerts_by_domain, k.by_domain, sizeof k.by_domain);
    res->seconds = now_s() - t0;
    meta.q_max = o->max_quarantine_share > 0 ? o->max_quarantine_share : ER_RUN_MAX_QUARANTINE_SHARE;
    meta.q_share = k.rows_read ? (double)k.quarantined / (double)k.rows_read : 0;
    meta.q_exceeded = meta.q_share > meta.q_max;
    res->quarantine_share = meta.q_share;
    res->quarantine_exceeded = meta.q_exceeded;

    if (!to_stdout) {
        double secs[3] = {t_loaded - t0, now_s() - t_loaded, now_s() - t0};
        /* Every file complete and fsynced in the staging directory, summary.json
         * (with the manifest) last; then spooling (--push), then one atomic publish. */
        if ((st = er_runout_close(&ro, &f_quar, err)) != ER_OK ||
            (st = er_runout_close(&ro, &f_scores, err)) != ER_OK ||
            (st = er_runout_close(&ro, &f_alerts, err)) != ER_OK)
            goto cleanup;
        if ((st = reg_run_commit(&rr, err)) != ER_OK)
            goto cleanup;
        write_metrics(&text, ps, &k, secs[2], &meta);
        reg_run_metrics(&rr, &text);
        if (text.oom) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
        if ((st = write_file(&ro, "metrics.prom", &text, err)) != ER_OK)
            goto cleanup;
        er_sb_reset(&text);
        er_sb_reset(&line);
        if ((st = er_runout_manifest(&ro, &line, err)) != ER_OK)
            goto cleanup;
        write_summary(&text, o, ps, res->run_id, bl ? er_baseline_id(bl) : "", &k, secs, &meta, &line);
        reg_run_summary(&rr, &text);
        if (text.oom || line.oom) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
        if ((st = write_file(&ro, "summary.json", &text, err)) != ER_OK)
            goto cleanup;
        if (o->before_publish) {
            char staged[4400];
            snprintf(staged, sizeof staged, "%s/%s", ro.parent, ro.stage);
            if ((st = o->before_publish(o->publish_ud, staged, err)) != ER_OK)
                goto cleanup;
        }
        if ((st = er_runout_publish(&ro, err)) != ER_OK)
            goto cleanup;
        metrics_done = o->metrics_file == NULL;
        er_sb_reset(&text);
        write_metrics(&text, ps, &k, secs[2], &meta);
        reg_run_metrics(&rr, &text);
        if (o->metrics_file && (st = write_atomic(o->metrics_file, &text, err)) != ER_OK)
            goto cleanup;
        metrics_done = true;
    } else if (fflush(stdout) != 0) {
        st = er_errf(err, ER_EIO, "stdout: write failed: %s", strerror(errno));
    } else if ((st = reg_run_commit(&rr, err)) != ER_OK) {
        goto cleanup;
    }

cleanup:
    if (o->metrics_file && !metrics_done) {   /* a failed run says so to the monitoring */
        er_err ignored;
        er_sb_reset(&text);
        write_run_status(&text, false, now_s() - t_start);
        if (!text.oom)
            write_atomic(o->metrics_file, &text, &ignored);
    }
    if (loader.running)
        pthread_join(loader.th, NULL);
    er_baseline_free(loader.bl);
    if (n_threads) {
        pthread_mutex_lock(&c.mu);
        c.stop = true;
        pthread_cond_broadcast(&c.work_cv);
        pthread_mutex_unlock(&c.mu);
        for (size_t i = 0; i < n_threads; i++)
            pthread_join(th[i], NULL);
    }
    er_model_free(c.model);
    if (mu_init) {
        pthread_cond_destroy(&c.done_cv);
        pthread_cond_destroy(&c.work_cv);
        pthread_mutex_destroy(&c.mu);
    }
    if (f_scores)
        fclose(f_scores);
    if (f_quar)
        fclose(f_quar);
    if (f_alerts)
        fclose(f_alerts);
    er_runout_end(&ro);
    if (cspool)
        fclose(cspool);
    if (spool)
        fclose(spool);
    er_sb_free(&text);
    er_sb_free(&line);
    free(cand_ptrs);
    free(cands);
    free(recs);
    if (c.slots) {
        for (size_t i = 0; i < c.n_slots; i++) {
            er_batch_free(c.slots[i].batch);
            er_sb_free(&c.slots[i].alerts);
            er_sb_free(&c.slots[i].cands);
            er_sb_free(&c.slots[i].scores);
            free(c.slots[i].sa);
            free(c.slots[i].sc);
            free(c.slots[i].in_scope);
            free(c.slots[i].rows);
            free(c.slots[i].prob);
            free(c.slots[i].an);
            free(c.slots[i].cidx);
            free(c.slots[i].crows);
            free(c.slots[i].contrib);
            free(c.slots[i].oow);
        }
    }
    free(c.slots);
    free(c.queue);
    free(th);
    free(k.out_of_window);
    free(k.by_profile_lane);
    free(k.by_profile);
    groups_free(&gs);
    er_feed_free(feed);
    er_baseline_free(bl);
    er_profileset_free(ps);
    er_mapping_free(map);
    er_refdata_free(ref);
    reg_run_close(&rr);
    return st;
}
