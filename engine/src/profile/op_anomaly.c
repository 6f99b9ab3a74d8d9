/*
 * op_anomaly.c — {"anomaly": FEATURE, "p_below": P}: the anomaly feature's
 * p-value against the baseline is below P (default 0.05); false without a
 * baseline or when the feature cannot be computed (docs/scoring.md §6).
 */
#include <string.h>

#include "profile/profile_op.h"

static const char *const features =
    "unit_value_low, unit_value_high, mahalanobis, route_rarity or new_trader";

int32_t compile_anomaly(ctx *c, const popnd *a)
{
    char p[512];
    static const char *const keys[] = {"anomaly", "p_below", NULL};
    check_keys(c, a->cond, a->path, keys, "anomaly, p_below");
    *a->anomaly = true;
    json_object *an = a->v, *pb = NULL;
    if (!json_object_is_type(an, json_type_string)) {
        lint_err(c, a->vpath, "expected a feature name (%s), got %s", features, jtype(an));
        return -1;
    }
    er_feature f = er_feature_parse(json_object_get_string(an));
    if (f == ER_FEAT_COUNT) {
        lint_err(c, a->vpath, "unknown anomaly \"%s\" (expected %s)", json_object_get_string(an), features);
        return -1;
    }
    double pv = 0.05;
    if (json_object_object_get_ex(a->cond, "p_below", &pb)) {
        if (!is_num(pb) || !(json_object_get_double(pb) > 0) || json_object_get_double(pb) > 1) {
            lint_err(c, sub(p, sizeof p, a->path, "p_below"), "expected a probability in (0, 1], got %s",
                     is_num(pb) ? json_object_to_json_string_ext(pb, JSON_C_TO_STRING_PLAIN) : jtype(pb));
            return -1;
        }
        pv = json_object_get_double(pb);
    }
    int32_t id = node_new(c, op_form("anomaly"), a->path);
    if (id >= 0) {
        c->s->nodes[id].cmp = (uint8_t)f;
        c->s->nodes[id].x = pv;
    }
    return id;
}

bool eval_anomaly(er_eval *e, const cnode *n)
{
    const er_anomalies *an = e->an;
    if (!an || !an->have_baseline || n->cmp >= ER_FEAT_COUNT || !an->f[n->cmp].computable
        || an->f[n->cmp].unit_error)
        return false;
    return an->f[n->cmp].p < n->x;
}

void evidence_anomaly(er_sb *b, er_eval *e, const cnode *n, bool neg, const char *fname)
{
    (void)fname;
    (void)neg;   /* the comparison printed is the one that holds */
    const er_anomalies *an = e->an;
    const char *fn = er_feature_str((er_feature)n->cmp);
    if (!an || !an->have_baseline) {
        er_sb_printf(b, "%s: no data (no baseline)", fn);
    } else if (!an->f[n->cmp].computable) {
        er_sb_printf(b, "%s: no data (not computable)", fn);
    } else {
        const er_feature_value *f = &an->f[n->cmp];
        er_sb_printg(b, "%s p=%.3g %s %.3g (observed %.6g, expected %.6g..%.6g, %s %s%s)", fn, f->p, f->p < n->x ? "<" : ">=",
                     n->x, f->observed, f->expected_lo, f->expected_hi, er_level_str((er_level)f->level), f->group,
                     f->unit_error ? "; over 100x below the median: a unit error, not counted" : "");
    }
}

/* The feature, its threshold and what the baseline says; no "evidence". */
bool trace_anomaly(json_object *o, er_eval *e, const cnode *n)
{
    const er_anomalies *an = e->an;
    const er_feature_value *f = an && an->have_baseline ? &an->f[n->cmp] : NULL;
    trace_str(o, "feature", er_feature_str((er_feature)n->cmp));
    json_object_object_add(o, "p_below", json_object_new_double(n->x));
    if (!f || !f->computable) {
        json_object_object_add(o, "no_data", json_object_new_boolean(true));
        return false;
    }
    json_object_object_add(o, "p", json_object_new_double(f->p));
    json_object_object_add(o, "observed", json_object_new_double(f->observed));
    json_object *rg = json_object_new_array();
    json_object_array_add(rg, json_object_new_double(f->expected_lo));
    json_object_array_add(rg, json_object_new_double(f->expected_hi));
    json_object_object_add(o, "expected_range", rg);
    trace_str(o, "group_level", er_level_str((er_level)f->level));
    trace_str(o, "group", f->group);
    return false;
}

OP_DESCRIBE(anomaly)
{
    (void)s, (void)fname;
    er_sb_printf(b, "anomaly %s with p < %.6g (no data without a baseline)", er_feature_str((er_feature)n->cmp), n->x);
}
