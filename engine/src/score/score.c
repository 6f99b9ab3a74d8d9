/*
 * score.c — scoring one declaration (see score.h): anomaly features, every
 * profile's result, and the choice of the profile that carries the alert.
 */
#include "ecorisk/score.h"

#include <pthread.h>
#include <string.h>

#include "ecorisk/risk.h"

/* The hazard and risk of a declaration in no profile's scope without
 * anomaly log-odds (most of a day), computed once by the same formula. */
static double quiet_hazard, quiet_risk;
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void quiet_init(void)
{
    quiet_hazard = er_risk_softplus(er_risk_logit(ER_RISK_BASE_PRIOR) + 0.0);
    quiet_risk = er_risk_from_hazard(quiet_hazard);
}

int er_risk_cmp(double ha, unsigned long long oa, double hb, unsigned long long ob)
{
    if (ha != hb)
        return ha > hb ? -1 : 1;
    return oa < ob ? -1 : oa > ob;
}

void er_score_decl(const er_profileset *ps, const er_baseline *bl, er_eval *ev,
                   const er_decl *d, er_decl_score *out)
{
    er_anomaly_compute(bl, d, &out->an);
    er_score_decl_an(ps, ev, d, out);
}

void er_score_decl_an(const er_profileset *ps, er_eval *ev, const er_decl *d, er_decl_score *out)
{
    out->n_results = er_eval_run(ev, d, &out->an, &out->results);
    out->best = -1;
    out->n_alerting = 0;
    out->in_scope = false;
    memset(out->domain_score, 0, sizeof out->domain_score);
    double a = er_risk_anomaly_logit(&out->an), h = 0;
    out->anomaly_logit = a;
    for (size_t i = 0; i < out->n_results; i++) {
        const er_profile_result *r = &out->results[i];
        if (!r->in_scope)
            continue;
        out->in_scope = true;
        const er_profile_info *info = er_profileset_info(ps, r->profile);
        h += er_risk_softplus(r->logit + info->anomaly_scale * a);
        if (r->score > out->domain_score[info->domain])
            out->domain_score[info->domain] = r->score;
        if (!r->alert)
            continue;
        out->n_alerting++;
        if (out->best < 0) {
            out->best = (long)i;
            continue;
        }
        const er_profile_result *b = &out->results[out->best];
        if (r->score > b->score || (r->score == b->score && b->random && !r->random))
            out->best = (long)i;
    }
    if (!out->in_scope && a == 0) {
        pthread_once(&quiet_once, quiet_init);
        out->hazard = quiet_hazard;
        out->risk = quiet_risk;
        return;
    }
    if (!out->in_scope)
        h = er_risk_softplus(er_risk_logit(ER_RISK_BASE_PRIOR) + a);
    out->hazard = h;
    out->risk = er_risk_from_hazard(h);
}

er_lane er_score_lane(const er_decl_score *sc, size_t which, const er_risk_lanes *t)
{
    const er_profile_result *r = &sc->results[which];
    double red = t ? t->red : ER_RISK_LANE_RED_DEFAULT, yellow = t ? t->yellow : ER_RISK_LANE_YELLOW_DEFAULT;
    if (r->random)
        return (er_lane)r->lane;
    return sc->risk >= red ? ER_LANE_RED : sc->risk >= yellow ? ER_LANE_YELLOW : ER_LANE_BLUE;
}
