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
        er_sb_json_numg(b, an->fisher_p, 6);
        er_sb_json_key(b, "n_computable");
        er_sb_json_int(b, an->n_computable);
    }
    er_sb_putc(b, '}');
}

er_status er_explain(const er_run_opts *o, const char *decl_id, char **json, er_err *err)
{
    er_status st = ER_OK;
    er_refdata *ref = NULL;
    er_mapping *map = NULL;
    er_profileset *ps = NULL;
    er_baseline *bl = NULL;
    er_feed *feed = NULL;
    er_batch *b = NULL;
    er_eval *ev = NULL;
    er_model *model = NULL;
    er_model_pred *pred = NULL;
    er_sb out = {0};
    char *trace = NULL;
    bool found = false;
    reg_run rr = {0};
    er_risk_lanes lanes = {ER_RISK_LANE_RED_DEFAULT, ER_RISK_LANE_YELLOW_DEFAULT};

    *json = NULL;
    if (o->config && (st = er_run_config_lanes(o->config, &lanes, err)) != ER_OK)
        goto cleanup;
    if ((st = er_refdata_load(&ref, o->reference, err)) != ER_OK)
        goto cleanup;
    if (o->mapping && (st = er_mapping_load(&map, o->mapping, err)) != ER_OK)
        goto cleanup;
    er_profile_opts popts = {.ref = ref, .today = o->as_of};
    if ((st = er_profileset_load(&ps, o->profiles, o->n_profiles, &popts, false, err)) != ER_OK)
        goto cleanup;
    if (o->baseline && (st = er_baseline_load(&bl, o->baseline, err)) != ER_OK)
        goto cleanup;
    if ((st = er_eval_new(&ev, ps, err)) != ER_OK)
        goto cleanup;
    if ((st = reg_run_open(&rr, o, true, err)) != ER_OK)   /* the ledger balance as the run sees it */
        goto cleanup;
    if (o->model && ((st = er_model_load(&model, o->model, err)) != ER_OK ||
                     (st = er_model_bind(model, ps, bl, err)) != ER_OK ||
                     (st = er_model_pred_new(&pred, model, err)) != ER_OK))
        goto cleanup;
    if ((st = er_batch_new(&b, o->batch_size ? o->batch_size : 8192, err)) != ER_OK)
        goto cleanup;

    for (size_t fi = 0; fi < o->n_feeds && !found; fi++) {
        er_feed_opts fo = {.source = o->feeds[fi], .mapping = map, .ref = ref, .format = o->format,
                           .since = o->since, .until = o->until};
        if ((st = er_feed_open(&feed, &fo, err)) != ER_OK)
            goto cleanup;
        for (;;) {
            er_status fs = er_feed_next(feed, b, err);
            if (fs == ER_EOF)
                break;
            if (fs != ER_OK) {
                st = fs;
                goto cleanup;
            }
            if ((st = reg_run_batch(&rr, b, err)) != ER_OK)
                goto cleanup;
            for (size_t i = 0; i < b->n && !found; i++) {
                const er_decl *d = &b->decls[i];
                if (strcmp(d->id, decl_id) != 0)
                    continue;
                found = true;
                er_decl_score sc;
                er_score_decl(ps, bl, ev, d, &sc);
                trace = er_eval_explain(ps, d, &sc.an);
                if (!trace) {
                    st = er_errf(err, ER_ENOMEM, "out of memory");
                    goto cleanup;
                }
                er_alert_ctx actx = {.ps = ps, .run_id = "explain", .baseline_id = bl ? er_baseline_id(bl) : "",
                                     .as_of = o->as_of};
                er_sb_puts(&out, "{\"declaration\":");
                er_alert_decl_json(&out, d);
                er_sb_json_key(&out, "feed");
                er_sb_json_cstr(&out, o->feeds[fi]);
                er_sb_json_key(&out, "baseline_id");
                er_sb_json_cstr(&out, actx.baseline_id);
                er_sb_json_key(&out, "anomalies");
                features_json(&out, &sc.an);
                er_sb_json_key(&out, "risk");
                risk_json(&out, ps, &sc);
                er_sb_json_key(&out, "profiles");
                er_sb_puts(&out, trace);
                er_sb_json_key(&out, "alert");
                if (sc.best >= 0)
                    er_alert_format(&out, &actx, d, &sc, (size_t)sc.best,
                                    er_score_lane(&sc, (size_t)sc.best, &lanes), false, false);
                else
                    er_sb_puts(&out, "null");
                if (model) {
                    er_sb_json_key(&out, "model");
                    if ((st = er_model_explain(model, pred, d, &sc, 0, &out, err)) != ER_OK)
                        goto cleanup;
                }
                er_sb_putc(&out, '}');
            }
            /* A quarantined record with that id: report why it was not scored. */
            for (size_t i = 0; i < b->n_q && !found; i++) {
                const er_qrecord *q = &b->quarantined[i];
                if (!q->excerpt || !strstr(q->excerpt, decl_id))
                    continue;
                found = true;
                er_sb_puts(&out, "{\"quarantined\":{\"file\":");
                er_sb_json_cstr(&out, q->file);
                er_sb_printf(&out, ",\"line\":%llu,\"reason\":", (unsigned long long)q->line);
                er_sb_json_cstr(&out, er_qreason_str(q->reason));
                er_sb_json_key(&out, "detail");
                er_sb_json_cstr(&out, q->detail);
                er_sb_json_key(&out, "excerpt");
                er_sb_json_str(&out, q->excerpt, q->excerpt_len);
                er_sb_puts(&out, "}}");
            }
            if (found)
                break;
        }
        er_feed_free(feed);
        feed = NULL;
    }
    if (!found) {
        st = er_errf(err, ER_ENOTFOUND, "declaration '%s' not found in the feed", decl_id);
        goto cleanup;
    }
    if (out.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    /* Re-serialise through json-c for a readable, indented document. */
    json_object *doc = json_tokener_parse(out.p);
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
    reg_run_close(&rr);
    free(trace);
    er_sb_free(&out);
    er_batch_free(b);
    er_model_pred_free(pred);
    er_model_free(model);
    er_eval_free(ev);
    er_feed_free(feed);
    er_baseline_free(bl);
    er_profileset_free(ps);
    er_mapping_free(map);
    er_refdata_free(ref);
    return st;
}
