/*
 * explain.c — the trace behind one declaration's score (run.h, er_explain):
 * finds the record in the feeds, scores it exactly as the run does, and
 * assembles the declaration, every anomaly feature, every profile's
 * condition-by-condition trace and the resulting alert into one JSON text.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "score/alert.h"
#include "score/run_int.h"
#include "ecorisk/baseline.h"
#include "ecorisk/model.h"
#include "ecorisk/run.h"
#include "ecorisk/risk.h"
#include "ecorisk/score.h"
#include "core/sbuf.h"
#include "score/inputs.h"
#include "registry/registry_run.h"

/* The risk and every term behind it, in log-odds (docs/scoring.md §6): the
 * anomaly features, then per in-scope profile its prior and fired indicators. */
static void risk_json(er_sb *b, const er_profileset *ps, const er_decl_score *sc)
{
    er_sb_puts(b, "{\"risk\":");
    er_sb_json_numg(b, sc->risk, 17);
    er_sb_json_key(b, "hazard");
    er_sb_json_numg(b, sc->hazard, 17);
    er_sb_json_key(b, "anomaly_log_odds");
    er_sb_json_numg(b, sc->anomaly_logit, 17);
    er_sb_json_key(b, "anomaly_terms");
    er_sb_putc(b, '[');
    for (int f = 0; f < ER_FEAT_COUNT; f++) {
        er_sb_printf(b, "%s{\"feature\":\"%s\",\"p\":", f ? "," : "", er_feature_str((er_feature)f));
        er_sb_json_numg(b, sc->an.f[f].p, 6);
        er_sb_json_key(b, "log_odds");
        er_sb_json_numg(b, sc->an.have_baseline ? er_risk_feature_term((er_feature)f, &sc->an.f[f]) : 0, 17);
        er_sb_putc(b, '}');
    }
    er_sb_puts(b, "]");
    er_sb_json_key(b, "profiles");
    er_sb_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < sc->n_results; i++) {
        const er_profile_result *r = &sc->results[i];
        if (!r->in_scope)
            continue;
        const er_profile_info *p = er_profileset_info(ps, r->profile);
        er_sb_puts(b, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        er_sb_json_cstr(b, p->id);
        er_sb_json_key(b, "prior_log_odds");
        er_sb_json_numg(b, er_risk_logit(p->prior), 17);
        er_sb_json_key(b, "indicators");
        er_sb_putc(b, '[');
        bool f1 = true;
        for (size_t k = 0; k < p->n_indicators && k < ER_MAX_INDICATORS; k++) {
            if (!(r->fired & (1ULL << k)))
                continue;
            er_sb_puts(b, f1 ? "{\"id\":" : ",{\"id\":");
            f1 = false;
            er_sb_json_cstr(b, p->indicators[k].id);
            er_sb_json_key(b, "log_odds");
            er_sb_json_numg(b, er_eval_indicator_logodds(ps, r->profile, k, &sc->an), 17);
            er_sb_putc(b, '}');
        }
        er_sb_putc(b, ']');
        double z = r->logit + p->anomaly_scale * sc->anomaly_logit;
        er_sb_json_key(b, "anomaly_scale");
        er_sb_json_numg(b, p->anomaly_scale, 17);
        er_sb_json_key(b, "log_odds");
        er_sb_json_numg(b, z, 17);
        er_sb_json_key(b, "risk");
        er_sb_json_numg(b, 1 / (1 + exp(-z)), 17);
        er_sb_putc(b, '}');
    }
    er_sb_puts(b, "]");
    if (first) {
        er_sb_json_key(b, "base_prior_log_odds");
        er_sb_json_numg(b, er_risk_logit(ER_RISK_BASE_PRIOR), 17);
    }
    er_sb_putc(b, '}');
}

static void features_json(er_sb *b, const er_anomalies *an)
{
    er_sb_puts(b, "{\"have_baseline\":");
    er_sb_puts(b, an->have_baseline ? "true" : "false");
    er_sb_json_key(b, "features");
    er_sb_putc(b, '[');
    for (int f = 0; f < ER_FEAT_COUNT && an->have_baseline; f++) {
        const er_feature_value *v = &an->f[f];
        if (f)
            er_sb_putc(b, ',');
        er_sb_putc(b, '{');
        er_sb_json_key(b, "feature");
        er_sb_json_cstr(b, er_feature_str((er_feature)f));
        er_sb_json_key(b, "computable");
        er_sb_puts(b, v->computable ? "true" : "false");
        if (v->computable)
            er_alert_feature_fields(b, v);
        er_sb_putc(b, '}');
    }
    er_sb_putc(b, ']');
    if (an->have_baseline) {
        er_sb_json_key(b, "fisher_p");
        er_sb_json_numg(b, er_anomaly_fisher_p(an), 6);
        er_sb_json_key(b, "n_computable");
        er_sb_json_int(b, an->n_computable);
    }
    er_sb_putc(b, '}');
}

/* What explain holds while it searches the feeds for the declaration. */
typedef struct xctx {
    const er_run_opts *o;
    const char        *decl_id;
    er_inputs          in;
    er_eval           *ev;
    er_model          *model;
    er_model_pred     *pred;
    reg_run            rr;
    er_risk_lanes      lanes;
    er_sb              out;     /* the trace, compact JSON */
    bool               found;
} xctx;

/* Everything the run would load, in the run's order, plus the ledger
 * balance as the run sees it (read-only). */
static er_status xopen(xctx *x, er_err *err)
{
    const er_run_opts *o = x->o;
    er_inputs_spec spec = {.reference = o->reference, .mapping = o->mapping, .profiles = o->profiles,
                           .n_profiles = o->n_profiles, .today = o->as_of, .baseline = o->baseline};
    er_status st;
    if (o->config && (st = er_run_config_lanes(o->config, &x->lanes, err)) != ER_OK)
        return st;
    if ((st = er_inputs_load(&x->in, &spec, err)) != ER_OK || (st = er_eval_new(&x->ev, x->in.ps, err)) != ER_OK ||
        (st = reg_run_open(&x->rr, o, true, err)) != ER_OK)
        return st;
    if (o->model && ((st = er_model_load(&x->model, o->model, err)) != ER_OK ||
                     (st = er_model_bind(x->model, x->in.ps, x->in.bl, err)) != ER_OK ||
                     (st = er_model_pred_new(&x->pred, x->model, err)) != ER_OK))
        return st;
    return ER_OK;
}

static void xclose(xctx *x)
{
    reg_run_close(&x->rr);
    er_sb_free(&x->out);
    er_model_pred_free(x->pred);
    er_model_free(x->model);
    er_eval_free(x->ev);
    er_inputs_free(&x->in);
}

/* The trace of declaration d, read from feed: the declaration, its anomaly
 * features, its risk, every profile's conditions, the alert and the model. */
static er_status explain_decl(xctx *x, const er_decl *d, const char *feed, er_err *err)
{
    const er_profileset *ps = x->in.ps;
    er_sb *out = &x->out;
    er_decl_score sc;
    er_score_decl(ps, x->in.bl, x->ev, d, &sc);
    char *trace = er_eval_explain(ps, d, &sc.an);
    if (!trace)
        return er_errf(err, ER_ENOMEM, "out of memory");
    er_alert_ctx actx = {.ps = ps, .run_id = "explain", .baseline_id = x->in.bl ? er_baseline_id(x->in.bl) : "",
                         .as_of = x->o->as_of};
    er_sb_puts(out, "{\"declaration\":");
    er_alert_decl_json(out, d);
    er_sb_json_key(out, "feed");
    er_sb_json_cstr(out, feed);
    er_sb_json_key(out, "baseline_id");
    er_sb_json_cstr(out, actx.baseline_id);
    er_sb_json_key(out, "anomalies");
    features_json(out, &sc.an);
    er_sb_json_key(out, "risk");
    risk_json(out, ps, &sc);
    er_sb_json_key(out, "profiles");
    er_sb_puts(out, trace);
    free(trace);
    er_sb_json_key(out, "alert");
    if (sc.best >= 0)
        er_alert_format(out, &actx, d, &sc, (size_t)sc.best, er_score_lane(&sc, (size_t)sc.best, &x->lanes),
                        false, false);
    else
        er_sb_puts(out, "null");
    if (x->model) {
        er_status st;
        er_sb_json_key(out, "model");
        if ((st = er_model_explain(x->model, x->pred, d, &sc, 0, out, err)) != ER_OK)
            return st;
    }
    er_sb_putc(out, '}');
    return ER_OK;
}

/* A quarantined record with the id: why it was not scored. */
static void explain_quarantined(er_sb *out, const er_qrecord *q)
{
    er_sb_puts(out, "{\"quarantined\":{\"file\":");
    er_sb_json_cstr(out, q->file);
    er_sb_printf(out, ",\"line\":%llu,\"reason\":", (unsigned long long)q->line);
    er_sb_json_cstr(out, er_qreason_str(q->reason));
    er_sb_json_key(out, "detail");
    er_sb_json_cstr(out, q->detail);
    er_sb_json_key(out, "excerpt");
    er_sb_json_str(out, q->excerpt, q->excerpt_len);
    er_sb_puts(out, "}}");
}

/* One batch of feed fi: the declaration, else a quarantined record naming the id. */
static er_status search_batch(xctx *x, const er_batch *b, size_t fi, er_err *err)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->decls[i].id, x->decl_id) == 0) {
            x->found = true;
            return explain_decl(x, &b->decls[i], x->o->feeds[fi], err);
        }
    for (size_t i = 0; i < b->n_q; i++) {
        const er_qrecord *q = &b->quarantined[i];
        if (q->excerpt && strstr(q->excerpt, x->decl_id)) {
            x->found = true;
            explain_quarantined(&x->out, q);
            break;
        }
    }
    return ER_OK;
}

/* Read the feeds in order, through the registry pass as the run does, until
 * the declaration turns up. */
static er_status search(xctx *x, er_err *err)
{
    const er_run_opts *o = x->o;
    er_batch *b = NULL;
    er_feed *feed = NULL;
    er_status st = er_batch_new(&b, o->batch_size ? o->batch_size : 8192, err);
    for (size_t fi = 0; st == ER_OK && fi < o->n_feeds && !x->found; fi++) {
        er_feed_opts fo = {.source = o->feeds[fi], .mapping = x->in.map, .ref = x->in.ref, .format = o->format,
                           .since = o->since, .until = o->until};
        if ((st = er_feed_open(&feed, &fo, err)) != ER_OK)
            break;
        while (!x->found && (st = er_feed_next(feed, b, err)) == ER_OK)
            if ((st = reg_run_batch(&x->rr, b, err)) != ER_OK || (st = search_batch(x, b, fi, err)) != ER_OK)
                break;
        if (st == ER_EOF)
            st = ER_OK;
        er_feed_free(feed);
        feed = NULL;
    }
    er_batch_free(b);
    return st;
}

er_status er_explain(const er_run_opts *o, const char *decl_id, char **json, er_err *err)
{
    xctx x = {.o = o, .decl_id = decl_id, .lanes = {ER_RISK_LANE_RED_DEFAULT, ER_RISK_LANE_YELLOW_DEFAULT}};
    er_status st;
    *json = NULL;
    if ((st = xopen(&x, err)) != ER_OK || (st = search(&x, err)) != ER_OK)
        goto cleanup;
    if (!x.found) {
        st = er_errf(err, ER_ENOTFOUND, "declaration '%s' not found in the feed", decl_id);
        goto cleanup;
    }
    if (x.out.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* Re-serialise through json-c for a readable, indented document. */
    json_object *doc = json_tokener_parse(x.out.p);
    if (!doc) {
        st = er_errf(err, ER_EINTERNAL, "explain produced invalid JSON");
        goto cleanup;
    }
    const char *pretty = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    *json = strdup(pretty);
    json_object_put(doc);
    if (!*json)
        st = er_errf(err, ER_ENOMEM, "out of memory");
cleanup:
    xclose(&x);
    return st;
}
