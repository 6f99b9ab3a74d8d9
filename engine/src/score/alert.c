/*
 * alert.c — the alert JSON of docs/alerts.md: deterministic id, profile,
 * score, lane, indicators with reasons and evidence, anomalies with p-values
 * and group levels, other profiles that fired, and the declaration's
 * reference data in CEN seizure-report terms. Field order is fixed so the
 * same inputs always give the same bytes.
 */
#include "score/alert.h"
#include "registry/registry_run.h"

#include <stdio.h>
#include <string.h>

void er_alert_id(const er_alert_ctx *c, const char *decl_id, const er_profile_info *p, char out[33])
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", p->version);
    const char *parts[4] = {decl_id, p->id, ver, c->baseline_id ? c->baseline_id : ""};
    uint64_t h1 = 0x65636f7269736b31ULL, h2 = 0x65636f7269736b32ULL;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(parts[i]) + 1;   /* include NUL as a separator */
        h1 = er_hash64(parts[i], n, h1);
        h2 = er_hash64(parts[i], n, h2 ^ 0x9e3779b97f4a7c15ULL);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

static void country(er_sb *b, const char *key, uint16_t cc)
{
    if (!cc)
        return;
    char s[2] = {ER_CC_A(cc), ER_CC_B(cc)};
    er_sb_json_key(b, key);
    er_sb_json_str(b, s, 2);
}

static void str_field(er_sb *b, const char *key, const char *v)
{
    if (!v || !*v)
        return;
    er_sb_json_key(b, key);
    er_sb_json_cstr(b, v);
}

static void num_field(er_sb *b, const char *key, uint32_t present, uint32_t bit, double v)
{
    if (!(present & bit))
        return;
    er_sb_json_key(b, key);
    er_sb_json_num(b, v);
}

void er_alert_decl_json(er_sb *b, const er_decl *d)
{
    char date[11];
    er_date_format(d->date, date);
    er_sb_putc(b, '{');
    str_field(b, "id", d->id);
    er_sb_json_key(b, "line");
    er_sb_json_int(b, (long long)d->line);
    str_field(b, "date", date);
    str_field(b, "office", d->office);
    str_field(b, "flow", er_flow_str((er_flow)d->flow));
    str_field(b, "hs", d->hs);
    str_field(b, "description", d->description);
    num_field(b, "quantity", d->present, ER_P_QUANTITY, d->quantity);
    str_field(b, "unit", d->unit);
    num_field(b, "net_kg", d->present, ER_P_NET_KG, d->net_kg);
    num_field(b, "gross_kg", d->present, ER_P_GROSS_KG, d->gross_kg);
    num_field(b, "value", d->present, ER_P_VALUE, d->value);
    if (d->present & ER_P_VALUE)
        str_field(b, "currency", d->currency);
    if (d->present & ER_P_VALUE_REF) {
        er_sb_json_key(b, "value_ref");
        er_sb_json_numg(b, d->value_ref, 12);
    }
    country(b, "origin", d->origin);
    country(b, "export_country", d->export_country);
    if (d->n_transit) {
        er_sb_json_key(b, "transit");
        er_sb_putc(b, '[');
        for (unsigned i = 0; i < d->n_transit; i++) {
            char s[2] = {ER_CC_A(d->transit[i]), ER_CC_B(d->transit[i])};
            if (i)
                er_sb_putc(b, ',');
            er_sb_json_str(b, s, 2);
        }
        er_sb_putc(b, ']');
    }
    country(b, "destination", d->destination);
    str_field(b, "mode", er_mode_str((er_mode)d->mode));
    str_field(b, "importer", d->importer);
    str_field(b, "exporter", d->exporter);
    str_field(b, "declarant", d->declarant);
    str_field(b, "container", d->container);
    num_field(b, "packages", d->present, ER_P_PACKAGES, d->packages);
    str_field(b, "permits", d->permits);     /* cited documents (docs/registries.md) */
    str_field(b, "licences", d->licences);
    str_field(b, "consents", d->consents);
    er_sb_putc(b, '}');
}

void er_alert_feature_fields(er_sb *b, const er_feature_value *v)
{
    er_sb_json_key(b, "observed");
    er_sb_json_numg(b, v->observed, 6);
    er_sb_json_key(b, "expected_range");
    er_sb_putc(b, '[');
    er_sb_json_numg(b, v->expected_lo, 6);
    er_sb_putc(b, ',');
    er_sb_json_numg(b, v->expected_hi, 6);
    er_sb_putc(b, ']');
    er_sb_json_key(b, "p");
    er_sb_json_numg(b, v->p, 6);
    er_sb_json_key(b, "group_level");
    er_sb_json_cstr(b, er_level_str((er_level)v->level));
    er_sb_json_key(b, "group");
    er_sb_json_cstr(b, v->group);
    if (v->unit_error) {   /* only when set: docs/scoring.md 3.1 */
        er_sb_json_key(b, "unit_error");
        er_sb_puts(b, "true");
    }
}

static void anomalies_json(er_sb *b, const er_anomalies *an)
{
    er_sb_json_key(b, "anomalies");
    er_sb_putc(b, '[');
    if (an->have_baseline) {
        for (int f = 0; f < ER_FEAT_COUNT; f++) {
            const er_feature_value *v = &an->f[f];
            if (!v->computable)
                continue;
            if (b->len && b->p[b->len - 1] != '[')
                er_sb_putc(b, ',');
            er_sb_putc(b, '{');
            er_sb_json_key(b, "feature");
            er_sb_json_cstr(b, er_feature_str((er_feature)f));
            er_alert_feature_fields(b, v);
            er_sb_putc(b, '}');
        }
    }
    er_sb_putc(b, ']');
    if (an->have_baseline && an->n_computable) {
        er_sb_json_key(b, "anomaly_strength_p");
        er_sb_json_numg(b, er_anomaly_fisher_p(an), 6);
    }
}

void er_alert_format(er_sb *b, const er_alert_ctx *c, const er_decl *d, const er_decl_score *s,
                     size_t which, er_lane lane, bool over_capacity, bool topup)
{
    const er_profile_result *r = &s->results[which];
    const er_profile_info *p = er_profileset_info(c->ps, r->profile);
    char id[33], created[32], date[11];
    er_alert_id(c, d->id, p, id);
    er_date_format(c->as_of ? c->as_of : d->date, date);
    snprintf(created, sizeof created, "%sT00:00:00Z", date);

    er_sb_putc(b, '{');
    er_sb_json_key(b, "alert_id");
    er_sb_json_cstr(b, id);
    er_sb_json_key(b, "run_id");
    er_sb_json_cstr(b, c->run_id);
    er_sb_json_key(b, "created");
    er_sb_json_cstr(b, created);
    er_sb_json_key(b, "domain");
    er_sb_json_cstr(b, er_domain_str(p->domain));
    er_sb_json_key(b, "cen_group");
    er_sb_json_cstr(b, er_cen_group(p->domain, d->hs));
    er_sb_json_key(b, "profile");
    er_sb_putc(b, '{');
    er_sb_json_key(b, "id");
    er_sb_json_cstr(b, p->id);
    er_sb_json_key(b, "version");
    er_sb_json_int(b, p->version);
    er_sb_json_key(b, "title");
    er_sb_json_cstr(b, p->title);
    er_sb_putc(b, '}');
    er_sb_json_key(b, "score");
    er_sb_json_numg(b, r->score, 6);
    er_sb_json_key(b, "risk");
    er_sb_json_numg(b, s->risk, 17);
    er_sb_json_key(b, "lane");
    er_sb_json_cstr(b, er_lane_str(lane));
    if (lane != (er_lane)r->lane) {
        er_sb_json_key(b, "lane_by_score");
        er_sb_json_cstr(b, er_lane_str((er_lane)r->lane));
    }
    er_sb_json_key(b, "random");
    er_sb_puts(b, r->random || topup ? "true" : "false");
    er_sb_json_key(b, "slot");   /* what selected it: the risk, a random control, exploration (run plan) */
    er_sb_json_cstr(b, r->random || topup ? "control" : "risk");
    if (topup) {
        er_sb_json_key(b, "selection");
        er_sb_json_cstr(b, "random_topup");
    }
    er_sb_json_key(b, "over_capacity");
    er_sb_puts(b, over_capacity ? "true" : "false");

    er_sb_json_key(b, "indicators");
    er_sb_putc(b, '[');
    for (size_t i = 0; i < p->n_indicators && i < ER_MAX_INDICATORS; i++) {
        if (!(r->fired & (1ULL << i)))
            continue;
        char ev[512];
        if (er_eval_evidence_str(c->ps, r->profile, i, d, &s->an, ev, sizeof ev) != ER_OK)
            b->oom = true;   /* the alert is not written without its evidence */
        if (b->len && b->p[b->len - 1] != '[')
            er_sb_putc(b, ',');
        er_sb_putc(b, '{');
        er_sb_json_key(b, "id");
        er_sb_json_cstr(b, p->indicators[i].id);
        er_sb_json_key(b, "weight");
        er_sb_json_numg(b, p->indicators[i].weight, 6);
        er_sb_json_key(b, "reason");
        er_sb_json_cstr(b, p->indicators[i].reason);
        er_sb_json_key(b, "evidence");
        er_sb_json_cstr(b, ev);
        er_sb_putc(b, '}');
    }
    er_sb_putc(b, ']');

    anomalies_json(b, &s->an);

    er_sb_json_key(b, "also_fired");
    er_sb_putc(b, '[');
    for (size_t i = 0; i < s->n_results; i++) {
        const er_profile_result *o = &s->results[i];
        if (!o->alert || i == which)
            continue;
        const er_profile_info *op = er_profileset_info(c->ps, o->profile);
        if (b->len && b->p[b->len - 1] != '[')
            er_sb_putc(b, ',');
        er_sb_putc(b, '{');
        er_sb_json_key(b, "id");
        er_sb_json_cstr(b, op->id);
        er_sb_json_key(b, "version");
        er_sb_json_int(b, op->version);
        er_sb_json_key(b, "domain");
        er_sb_json_cstr(b, er_domain_str(op->domain));
        er_sb_json_key(b, "score");
        er_sb_json_numg(b, o->score, 6);
        er_sb_json_key(b, "lane");
        er_sb_json_cstr(b, er_lane_str((er_lane)o->lane));
        er_sb_json_key(b, "random");
        er_sb_puts(b, o->random ? "true" : "false");
        er_sb_putc(b, '}');
    }
    er_sb_putc(b, ']');

    er_alert_registry_json(b, d);   /* harm and documents, with registries */
    er_sb_json_key(b, "declaration");
    er_alert_decl_json(b, d);
    er_sb_putc(b, '}');
}
