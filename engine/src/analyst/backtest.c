/*
 * backtest.c — profile packs against labelled history (analyst.h,
 * er_backtest): scores every declaration as the run does, then reports per
 * profile, per domain and overall the alerts, hits, hit rate with a Wilson
 * interval, recall and lift; the overall ranking's precision and recall at
 * fixed inspection rates; the score threshold reaching a target rate; and per
 * profile hit rates by month, so analysts see them move as outcomes arrive.
 * The ranking metrics come from the shared rank_metrics (analyst_scan.c),
 * the same figures diff and tune report.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "analyst/analyst_int.h"
#include "ecorisk/model.h"
#include "ecorisk/score.h"

static const double RATES[] = {0.01, 0.02, 0.05};
/* Rates of the ranking by risk: the 1 % and 10 % included. */
static const double RRATES[] = {0.01, 0.02, 0.05, 0.10};
#define N_RRATES (sizeof RRATES / sizeof RRATES[0])
#define N_RATES (sizeof RATES / sizeof RATES[0])

typedef struct month_acc {
    int32_t  key;            /* year * 12 + month - 1 */
    uint64_t alerts, hits;
} month_acc;

typedef struct acc {
    uint64_t in_scope, pos_in_scope, alerts, random, hits;
} acc;

typedef struct prof_acc {
    acc        a;
    double    *scores;       /* in-scope labelled declarations' scores */
    size_t     n_scores, cap_scores;
    month_acc *months;
    size_t     n_months, cap_months;
} prof_acc;

typedef struct bt {
    const er_profileset *ps;
    const er_baseline   *bl;
    er_eval             *ev;
    size_t               np;
    prof_acc            *prof;
    acc                  dom[ER_DOMAIN_COUNT];
    acc                  all;
    er_rank_item        *rank;
    size_t               n_rank, cap_rank;
    er_model            *model;          /* NULL: packs only */
    float               *rows;           /* model feature rows of the ranked declarations */
    size_t               cap_rows;
    uint8_t             *ypos;           /* their labels, in the same order */
    size_t               cap_ypos;
    er_rank_item        *rrank;      /* by risk (docs/scoring.md §6), same items */
    size_t               cap_rrank;
} bt;

static int32_t month_key(int32_t days)
{
    char s[11];
    er_date_format(days, s);
    return (int32_t)(atoi(s) * 12 + atoi(s + 5) - 1);
}

static er_status on_decl(void *ud, const er_decl *d, uint64_t order, int label, er_err *err)
{
    bt *t = ud;
    er_decl_score sc;
    if (label < 0)
        return ER_OK;
    er_score_decl(t->ps, t->bl, t->ev, d, &sc);
    bool pos = label == 1;
    bool dom_scope[ER_DOMAIN_COUNT] = {0}, dom_alert[ER_DOMAIN_COUNT] = {0};
    int32_t mk = month_key(d->date);
    for (size_t i = 0; i < sc.n_results; i++) {
        const er_profile_result *r = &sc.results[i];
        if (!r->in_scope && !r->alert)
            continue;
        prof_acc *p = &t->prof[r->profile];
        er_domain dom = er_profileset_info(t->ps, r->profile)->domain;
        if (r->in_scope) {
            p->a.in_scope++;
            p->a.pos_in_scope += pos;
            dom_scope[dom] = true;
            if (!er_grow((void **)&p->scores, &p->cap_scores, p->n_scores + 1, sizeof *p->scores))
                return er_errf(err, ER_ENOMEM, "out of memory");
            p->scores[p->n_scores++] = r->score;
        }
        if (r->alert) {
            p->a.alerts++;
            p->a.random += r->random;
            p->a.hits += pos;
            dom_alert[dom] = true;
            size_t m = 0;
            while (m < p->n_months && p->months[m].key != mk)
                m++;
            if (m == p->n_months) {
                if (!er_grow((void **)&p->months, &p->cap_months, p->n_months + 1, sizeof *p->months))
                    return er_errf(err, ER_ENOMEM, "out of memory");
                p->months[p->n_months++] = (month_acc){mk, 0, 0};
            }
            p->months[m].alerts++;
            p->months[m].hits += pos;
        }
    }
    for (int k = 0; k < ER_DOMAIN_COUNT; k++) {
        t->dom[k].in_scope += dom_scope[k];
        t->dom[k].pos_in_scope += dom_scope[k] && pos;
        t->dom[k].alerts += dom_alert[k];
        t->dom[k].hits += dom_alert[k] && pos;
    }
    t->all.in_scope += sc.in_scope;
    t->all.pos_in_scope += sc.in_scope && pos;
    if (sc.best >= 0) {
        t->all.alerts++;
        t->all.random += sc.results[sc.best].random;
        t->all.hits += pos;
    }
    double top = 0;
    for (int k = 0; k < ER_DOMAIN_COUNT; k++)
        if (sc.domain_score[k] > top)
            top = sc.domain_score[k];
    if (!er_grow((void **)&t->rank, &t->cap_rank, t->n_rank + 1, sizeof *t->rank))
        return er_errf(err, ER_ENOMEM, "out of memory");
    if (t->model) {
        size_t nf = er_model_n_features(t->model);
        if (!er_grow((void **)&t->rows, &t->cap_rows, (t->n_rank + 1) * nf, sizeof *t->rows))
            return er_errf(err, ER_ENOMEM, "out of memory");
        if (!er_grow((void **)&t->ypos, &t->cap_ypos, t->n_rank + 1, sizeof *t->ypos))
            return er_errf(err, ER_ENOMEM, "out of memory");
        er_model_features(t->model, d, &sc, t->rows + t->n_rank * nf);
        t->ypos[t->n_rank] = pos;
    }
    if (!er_grow((void **)&t->rrank, &t->cap_rrank, t->n_rank + 1, sizeof *t->rrank))
        return er_errf(err, ER_ENOMEM, "out of memory");
    t->rrank[t->n_rank] = (er_rank_item){sc.risk, order, pos};
    t->rank[t->n_rank++] = (er_rank_item){top, order, pos};
    return ER_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

static int cmp_month(const void *a, const void *b)
{
    const month_acc *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Common metric fields of an accumulator. */
static void acc_json(er_sb *b, const acc *a, uint64_t positives, double base, double conf)
{
    double lo, hi;
    er_sb_printf(b, "\"in_scope\":%llu,\"positives_in_scope\":%llu,\"alerts\":%llu,\"random\":%llu,\"hits\":%llu",
                 (unsigned long long)a->in_scope, (unsigned long long)a->pos_in_scope,
                 (unsigned long long)a->alerts, (unsigned long long)a->random, (unsigned long long)a->hits);
    double hr = a->alerts ? (double)a->hits / (double)a->alerts : NAN;
    er_sb_puts(b, ",\"hit_rate\":");
    json_num6(b, hr);
    er_sb_puts(b, ",\"hit_rate_ci\":");
    if (a->alerts) {
        er_wilson(a->hits, a->alerts, conf, &lo, &hi);
        er_sb_putc(b, '[');
        json_num6(b, lo);
        er_sb_putc(b, ',');
        json_num6(b, hi);
        er_sb_putc(b, ']');
    } else {
        er_sb_puts(b, "null");
    }
    er_sb_puts(b, ",\"recall\":");
    json_num6(b, positives ? (double)a->hits / (double)positives : NAN);
    er_sb_puts(b, ",\"recall_in_scope\":");
    json_num6(b, a->pos_in_scope ? (double)a->hits / (double)a->pos_in_scope : NAN);
    er_sb_puts(b, ",\"lift\":");
    json_num6(b, base > 0 ? hr / base : NAN);
}

static void acc_row(er_sb *t, const char *name, const char *dom, const acc *a, uint64_t positives, double base,
                    double conf)
{
    char hr[16], lo_s[16], hi_s[16], rc[16], ci[40], lift[16];
    double h = a->alerts ? (double)a->hits / (double)a->alerts : NAN, lo = NAN, hi = NAN;
    if (a->alerts)
        er_wilson(a->hits, a->alerts, conf, &lo, &hi);
    if (a->alerts)
        snprintf(ci, sizeof ci, "[%s, %s]", fmt_pct(lo_s, sizeof lo_s, lo), fmt_pct(hi_s, sizeof hi_s, hi));
    else
        snprintf(ci, sizeof ci, "-");
    if (base > 0 && a->alerts)
        snprintf(lift, sizeof lift, "%.2f", h / base);
    else
        snprintf(lift, sizeof lift, "-");
    er_sb_printf(t, "%-32.32s %-8s %8llu %7llu %6llu %8s %-17s %7s %6s\n", name, dom,
                 (unsigned long long)a->in_scope, (unsigned long long)a->alerts, (unsigned long long)a->hits,
                 a->alerts ? fmt_pct(hr, sizeof hr, h) : "-", ci,
                 positives ? fmt_pct(rc, sizeof rc, (double)a->hits / (double)positives) : "-", lift);
}

static const double MODEL_RATES[] = {0.01, 0.02, 0.05, 0.10};
#define N_MODEL_RATES (sizeof MODEL_RATES / sizeof MODEL_RATES[0])

/* One backtest: its inputs, the accumulated figures and what the outputs share. */
typedef struct bt_run {
    const er_backtest_opts *o;
    scan_ctx       sc;
    bt             t;
    er_profileset *ps;
    double         conf, base, ap, ap_risk;
    uint64_t       N, P;
    char           d1[11], d2[11];
    size_t         k_target;
    er_rank_at     at[N_RATES], rat[N_RRATES];
    double         thr;              /* NaN: no target or not reachable */
    size_t         sel, sel_hits;    /* selected by score >= thr, and the positives among them */
} bt_run;

/* The model's ranking of the same declarations, as JSON and table rows. */
static er_status model_ranking(bt *t, size_t P, double packs_ap, er_sb *j, er_sb *tb, er_err *err)
{
    er_status st = ER_OK;
    er_model_pred *pr = NULL;
    er_rank_item *mr = malloc((t->n_rank ? t->n_rank : 1) * sizeof *mr);
    double *prob = malloc(4096 * sizeof *prob);
    size_t nf = er_model_n_features(t->model);
    if (!mr || !prob) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = er_model_pred_new(&pr, t->model, err)) != ER_OK)
        goto cleanup;
    for (size_t a = 0; a < t->n_rank; a += 4096) {
        size_t n = t->n_rank - a < 4096 ? t->n_rank - a : 4096;
        if ((st = er_model_predict(pr, t->rows + a * nf, n, prob, err)) != ER_OK)
            goto cleanup;
        for (size_t i = 0; i < n; i++)
            mr[a + i] = (er_rank_item){prob[i], a + i, t->ypos[a + i]};
    }
    er_rank_sort(mr, t->n_rank);
    er_rank_at at[N_MODEL_RATES];
    double ap = rank_metrics(mr, t->n_rank, P, MODEL_RATES, N_MODEL_RATES, at);
    ap = P ? ap : NAN;
    er_sb_puts(j, ",\n  \"model\": {\"id\": ");
    er_sb_json_cstr(j, er_model_id(t->model));
    er_sb_puts(j, ", \"by\": \"model probability, ties in declaration order\", \"average_precision\": ");
    json_num6(j, ap);
    er_sb_puts(j, ", \"packs_risk_average_precision\": ");
    json_num6(j, packs_ap);
    er_sb_puts(j, ", \"at\": [");
    rank_at_json(j, at, N_MODEL_RATES, P, NAN, AT_RECALL, "{", ",{");
    er_sb_puts(j, "]}");
    er_sb_printf(tb, "\nRanking by the model's probability (model %.16s): average precision %.3f "
                     "(the packs' risk ranking: %.3f)\n", er_model_id(t->model), ap, packs_ap);
    er_sb_printf(tb, "%6s %9s %6s %10s %8s\n", "rate", "inspected", "hits", "precision", "recall");
    for (size_t r = 0; r < N_MODEL_RATES; r++) {
        char p1[16], p2[16];
        er_sb_printf(tb, "%5g%% %9zu %6zu %10s %8s\n", 100 * MODEL_RATES[r], at[r].k, at[r].hits,
                     fmt_pct(p1, sizeof p1, at[r].k ? at[r].precision : NAN),
                     fmt_pct(p2, sizeof p2, P ? at[r].recall : NAN));
    }
cleanup:
    er_model_pred_free(pr);
    free(prob);
    free(mr);
    return st;
}

/* Load the packs (and the model) and score every labelled declaration. */
static er_status bt_load(bt_run *u, er_err *err)
{
    const er_backtest_opts *o = u->o;
    bt *t = &u->t;
    er_status st;
    if ((st = scan_profiles(&u->sc, o->profiles, o->n_profiles, NULL, &u->ps, err)) != ER_OK)
        return st;
    if ((st = er_eval_new(&t->ev, u->ps, err)) != ER_OK)
        return st;
    if (o->model && ((st = er_model_load(&t->model, o->model, err)) != ER_OK ||
                     (st = er_model_bind(t->model, u->ps, u->sc.bl, err)) != ER_OK))
        return st;
    t->ps = u->ps;
    t->bl = u->sc.bl;
    t->np = er_profileset_count(u->ps);
    t->prof = calloc(t->np ? t->np : 1, sizeof *t->prof);
    if (!t->prof)
        return er_errf(err, ER_ENOMEM, "out of memory");
    return scan_feeds(&u->sc, on_decl, t, true, err);
}

/* The figures the JSON and the table share: base rate, rankings, the target threshold. */
static void bt_figures(bt_run *u)
{
    bt *t = &u->t;
    u->N = u->sc.labelled;
    u->P = u->sc.positives;
    u->base = u->N ? (double)u->P / (double)u->N : NAN;
    er_rank_sort(t->rank, t->n_rank);
    er_rank_sort(t->rrank, t->n_rank);
    if (u->sc.min_date) {
        er_date_format(u->sc.min_date, u->d1);
        er_date_format(u->sc.max_date, u->d2);
    }
    u->ap = rank_metrics(t->rank, t->n_rank, (size_t)u->P, RATES, N_RATES, u->at);
    u->ap_risk = rank_metrics(t->rrank, t->n_rank, (size_t)u->P, RRATES, N_RRATES, u->rat);
    u->ap = u->P ? u->ap : NAN;
    u->ap_risk = u->P ? u->ap_risk : NAN;
    u->k_target = er_rank_k(u->o->target_rate, (size_t)u->N);
    u->thr = NAN;
    /* Target rate: the threshold, and what selecting score >= threshold really gives (ties included). */
    if (u->o->target_rate > 0 && u->k_target && t->rank[u->k_target - 1].score > 0) {
        u->thr = t->rank[u->k_target - 1].score;
        while (u->sel < t->n_rank && t->rank[u->sel].score >= u->thr) {
            u->sel_hits += t->rank[u->sel].positive;
            u->sel++;
        }
    }
}

/* The head of the JSON: inputs, declaration counts, overall and per domain. */
static void bt_json_head(er_sb *j, const bt_run *u)
{
    const er_backtest_opts *o = u->o;
    er_sb_puts(j, "{\n  \"format\": 1,\n  \"kind\": \"backtest\",\n  \"label\": ");
    json_label_source(j, &o->in);
    er_sb_puts(j, ",\n  \"feeds\": [");
    json_str_list(j, o->in.feeds, o->in.n_feeds);
    er_sb_puts(j, "],\n  \"baseline_id\": ");
    er_sb_json_cstr(j, u->sc.bl ? er_baseline_id(u->sc.bl) : "");
    er_sb_puts(j, ",\n  \"profile_set\": ");
    er_sb_json_cstr(j, er_profileset_hash(u->ps));
    if (u->sc.min_date)
        er_sb_printf(j, ",\n  \"dates\": [\"%s\", \"%s\"]", u->d1, u->d2);
    er_sb_printf(j, ",\n  \"declarations\": {\"read\":%llu,\"accepted\":%llu,\"quarantined\":%llu,"
                    "\"labelled\":%llu,\"unlabelled\":%llu,\"labels_from_outcomes\":%llu,\"positives\":%llu,"
                    "\"base_rate\":",
                 (unsigned long long)u->sc.rows_read, (unsigned long long)u->sc.accepted,
                 (unsigned long long)u->sc.quarantined, (unsigned long long)u->N, (unsigned long long)u->sc.unlabelled,
                 (unsigned long long)u->sc.from_outcomes, (unsigned long long)u->P);
    json_num6(j, u->base);
    er_sb_puts(j, "},\n  \"confidence\": ");
    json_num6(j, u->conf);
    er_sb_puts(j, ",\n  \"overall\": {");
    acc_json(j, &u->t.all, u->P, u->base, u->conf);
    er_sb_puts(j, "},\n  \"domains\": [");
    for (int k = 0; k < ER_DOMAIN_COUNT; k++) {
        er_sb_puts(j, k ? ",\n    {" : "\n    {");
        er_sb_json_key(j, "domain");
        er_sb_json_cstr(j, er_domain_str((er_domain)k));
        er_sb_putc(j, ',');
        acc_json(j, &u->t.dom[k], u->P, u->base, u->conf);
        er_sb_putc(j, '}');
    }
    er_sb_puts(j, "\n  ],\n  \"profiles\": [");
}

/* A profile's alerts and hits by month, with Wilson intervals. */
static void months_json(er_sb *j, prof_acc *p, double conf)
{
    er_sb_json_key(j, "by_month");
    er_sb_putc(j, '[');
    if (p->n_months)
        qsort(p->months, p->n_months, sizeof *p->months, cmp_month);
    for (size_t m = 0; m < p->n_months; m++) {
        const month_acc *ma = &p->months[m];
        double lo, hi;
        er_wilson(ma->hits, ma->alerts, conf, &lo, &hi);
        er_sb_printf(j, "%s{\"month\":\"%04d-%02d\",\"alerts\":%llu,\"hits\":%llu,\"hit_rate\":", m ? "," : "",
                     ma->key / 12, ma->key % 12 + 1, (unsigned long long)ma->alerts, (unsigned long long)ma->hits);
        json_num6(j, (double)ma->hits / (double)ma->alerts);
        er_sb_puts(j, ",\"hit_rate_ci\":[");
        json_num6(j, lo);
        er_sb_putc(j, ',');
        json_num6(j, hi);
        er_sb_puts(j, "]}");
    }
    er_sb_puts(j, "]}");
}

/* One profile's figures as JSON: identity, metrics, threshold at the target rate, months. */
static void profile_json(er_sb *j, const bt_run *u, size_t i)
{
    const er_profile_info *pi = er_profileset_info(u->ps, i);
    prof_acc *p = &u->t.prof[i];
    er_sb_puts(j, i ? ",\n    {" : "\n    {");
    er_sb_json_key(j, "id");
    er_sb_json_cstr(j, pi->id);
    er_sb_json_key(j, "version");
    er_sb_json_int(j, pi->version);
    er_sb_json_key(j, "domain");
    er_sb_json_cstr(j, er_domain_str(pi->domain));
    er_sb_json_key(j, "title");
    er_sb_json_cstr(j, pi->title);
    er_sb_json_key(j, "alert_threshold");
    json_num6(j, pi->alert_threshold);
    er_sb_putc(j, ',');
    acc_json(j, &p->a, u->P, u->base, u->conf);
    if (u->o->target_rate > 0) {
        /* Threshold on this profile's score reaching the target rate of all labelled declarations. */
        if (p->n_scores)   /* qsort(NULL, 0, ...) is undefined */
            qsort(p->scores, p->n_scores, sizeof *p->scores, cmp_desc);
        er_sb_json_key(j, "threshold_at_target");
        if (u->k_target && u->k_target <= p->n_scores && p->scores[u->k_target - 1] > 0)
            json_num6(j, p->scores[u->k_target - 1]);
        else
            er_sb_puts(j, "null");
    }
    months_json(j, p, u->conf);
}

/* One ranking as JSON: its order, size, figures at each rate and average precision. */
static void ranking_json(er_sb *j, const bt_run *u, const char *key, const char *by, const er_rank_at *at,
                         size_t n_rates, unsigned min_field, double ap)
{
    er_sb_printf(j, "%s: {\"by\": \"%s, ties in declaration order\", \"n\": %llu, \"positives\": %llu, \"at\": [",
                 key, by, (unsigned long long)u->N, (unsigned long long)u->P);
    rank_at_json(j, at, n_rates, u->P, u->base, AT_RECALL | AT_LIFT | min_field, "\n    {", ",\n    {");
    er_sb_puts(j, "\n  ], \"average_precision\": ");
    json_num6(j, ap);
    er_sb_puts(j, "}");
}

/* The two rankings and the target threshold as JSON. */
static void rankings_json(er_sb *j, const bt_run *u)
{
    const bt *t = &u->t;
    ranking_json(j, u, "  \"ranking\"", "highest domain score", u->at, N_RATES, AT_MIN_SCORE, u->ap);
    /* The same declarations ranked by risk: the order the run's alerts.jsonl follows. */
    ranking_json(j, u, ",\n  \"risk_ranking\"", "risk", u->rat, N_RRATES, AT_MIN_RISK, u->ap_risk);
    if (u->o->target_rate <= 0)
        return;
    er_sb_puts(j, ",\n  \"target\": {\"rate\": ");
    json_num6(j, u->o->target_rate);
    er_sb_printf(j, ", \"k\": %zu, \"threshold\": ", u->k_target);
    if (isfinite(u->thr)) {
        json_num6(j, u->thr);
        er_sb_printf(j, ", \"selected\": %zu, \"actual_rate\": ", u->sel);
        json_num6(j, (double)u->sel / (double)u->N);
        er_sb_puts(j, ", \"precision\": ");
        json_num6(j, (double)u->sel_hits / (double)u->sel);
        er_sb_puts(j, ", \"recall\": ");
        json_num6(j, u->P ? (double)u->sel_hits / (double)u->P : NAN);
        er_sb_puts(j, ", \"reachable\": true}");
    } else {
        size_t scored = 0;
        while (scored < t->n_rank && t->rank[scored].score > 0)
            scored++;
        er_sb_printf(j, "null, \"reachable\": false, \"scored_above_zero\": %zu}", scored);
    }
}

/* A ranking's rows in the table; min_fmt prints its lowest score or risk. */
static void rank_rows(er_sb *tb, const er_rank_at *at, const double *rates, size_t n_rates, uint64_t P,
                      double base, const char *min_name, bool risk)
{
    er_sb_printf(tb, "%6s %9s %6s %10s %8s %6s %10s\n", "rate", "inspected", "hits", "precision", "recall", "lift",
                 min_name);
    for (size_t r = 0; r < n_rates; r++) {
        char pr[16], rc[16];
        er_sb_printf(tb, "%5g%% %9zu %6zu %10s %8s %6.2f ", 100 * rates[r], at[r].k, at[r].hits,
                     fmt_pct(pr, sizeof pr, at[r].k ? at[r].precision : NAN),
                     fmt_pct(rc, sizeof rc, P ? at[r].recall : NAN),
                     at[r].k && base > 0 ? at[r].precision / base : 0.0);
        er_sb_printf(tb, risk ? "%10.4g\n" : "%10g\n", at[r].min_score);
    }
}

/* The readable table: per profile, per domain, overall, the rankings and the target. */
static void bt_table(er_sb *tb, const bt_run *u)
{
    const er_backtest_opts *o = u->o;
    uint64_t P = u->P;
    double base = u->base, conf = u->conf;
    char b1[16], b2[16], b3[16], b4[16];
    er_sb_printf(tb, "Backtest over %llu labelled declarations", (unsigned long long)u->N);
    if (u->sc.min_date)
        er_sb_printf(tb, " (%s to %s)", u->d1, u->d2);
    er_sb_printf(tb, ": %llu positive, base rate %s; %llu unlabelled, %llu quarantined.\n",
                 (unsigned long long)P, fmt_pct(b1, sizeof b1, base), (unsigned long long)u->sc.unlabelled,
                 (unsigned long long)u->sc.quarantined);
    er_sb_printf(tb, "Labels: %s%s%s%s. Hit-rate intervals: Wilson %g%%.\n\n",
                 o->in.label_field ? "column " : "", o->in.label_field ? o->in.label_field : "",
                 o->in.outcomes ? (o->in.label_field ? ", overridden by outcome store " : "outcome store ") : "",
                 o->in.outcomes ? o->in.outcomes : "", 100 * conf);
    er_sb_printf(tb, "%-32s %-8s %8s %7s %6s %8s %-17s %7s %6s\n", "profile", "domain", "in scope", "alerts",
                 "hits", "hit rate", "95% interval", "recall", "lift");
    for (size_t i = 0; i < u->t.np; i++) {
        const er_profile_info *pi = er_profileset_info(u->ps, i);
        acc_row(tb, pi->id, er_domain_str(pi->domain), &u->t.prof[i].a, P, base, conf);
    }
    er_sb_putc(tb, '\n');
    for (int k = 0; k < ER_DOMAIN_COUNT; k++)
        acc_row(tb, "(any profile)", er_domain_str((er_domain)k), &u->t.dom[k], P, base, conf);
    acc_row(tb, "(all: the alert the run emits)", "", &u->t.all, P, base, conf);
    er_sb_printf(tb, "\nRanking by highest domain score (ties in declaration order), base rate %s:\n",
                 fmt_pct(b1, sizeof b1, base));
    rank_rows(tb, u->at, RATES, N_RATES, P, base, "min score", false);
    er_sb_printf(tb, "Average precision %.4f.\n", P ? u->ap : 0.0);
    er_sb_puts(tb, "\nRanking by risk (ties in declaration order):\n");
    rank_rows(tb, u->rat, RRATES, N_RRATES, P, base, "min risk", true);
    er_sb_printf(tb, "Average precision %.4f.\n", P ? u->ap_risk : 0.0);
    if (o->target_rate <= 0)
        return;
    if (isfinite(u->thr))
        er_sb_printf(tb, "\nTarget inspection rate %s: score >= %g selects %zu declarations (%s), "
                         "precision %s, recall %s.\n",
                     fmt_pct(b1, sizeof b1, o->target_rate), u->thr, u->sel,
                     fmt_pct(b2, sizeof b2, (double)u->sel / (double)u->N),
                     fmt_pct(b3, sizeof b3, (double)u->sel_hits / (double)u->sel),
                     fmt_pct(b4, sizeof b4, P ? (double)u->sel_hits / (double)P : NAN));
    else
        er_sb_printf(tb, "\nTarget inspection rate %s: not reachable, fewer declarations score above 0.\n",
                     fmt_pct(b1, sizeof b1, o->target_rate));
}

er_status er_backtest(const er_backtest_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    bt_run u = {.o = o};
    er_sb j = {0}, tb = {0}, tm = {0};
    u.conf = o->confidence > 0 && o->confidence < 1 ? o->confidence : 0.95;

    *json = *table = NULL;
    if (!o->in.label_field && !o->in.outcomes)
        return er_errf(err, ER_EINVAL, "backtest needs labels: a label field or an outcome store");
    if (o->target_rate < 0 || o->target_rate > 1)
        return er_errf(err, ER_EINVAL, "target rate %g is not between 0 and 1", o->target_rate);
    if ((st = scan_open(&u.sc, &o->in, err)) != ER_OK)
        return st;
    if ((st = bt_load(&u, err)) != ER_OK)
        goto cleanup;
    bt_figures(&u);
    bt_json_head(&j, &u);
    for (size_t i = 0; i < u.t.np; i++)
        profile_json(&j, &u, i);
    er_sb_puts(&j, u.t.np ? "\n  ],\n" : "],\n");
    rankings_json(&j, &u);
    if (u.t.model && (st = model_ranking(&u.t, (size_t)u.P, u.ap_risk, &j, &tm, err)) != ER_OK)
        goto cleanup;
    er_sb_puts(&j, "\n}\n");
    bt_table(&tb, &u);
    if (tm.p)
        er_sb_puts(&tb, tm.p);
    st = take_outputs(&j, &tb, json, table, err);
cleanup:
    er_sb_free(&tm);
    er_sb_free(&tb);
    er_sb_free(&j);
    if (u.t.prof)
        for (size_t i = 0; i < u.t.np; i++) {
            free(u.t.prof[i].scores);
            free(u.t.prof[i].months);
        }
    free(u.t.prof);
    free(u.t.rank);
    free(u.t.rows);
    free(u.t.ypos);
    er_model_free(u.t.model);
    free(u.t.rrank);
    er_eval_free(u.t.ev);
    er_profileset_free(u.ps);
    scan_close(&u.sc);
    return st;
}
