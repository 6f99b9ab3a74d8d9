/*
 * backtest.c — profile packs against labelled history (analyst.h,
 * er_backtest): scores every declaration as the run does, then reports per
 * profile, per domain and overall the alerts, hits, hit rate with a Wilson
 * interval, recall and lift; the overall ranking's precision and recall at
 * fixed inspection rates; the score threshold reaching a target rate; and per
 * profile hit rates by month, so analysts see them move as outcomes arrive.
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
    double ap = P ? er_rank_ap(mr, t->n_rank, P) : NAN;
    er_sb_puts(j, ",\n  \"model\": {\"id\": ");
    er_sb_json_cstr(j, er_model_id(t->model));
    er_sb_puts(j, ", \"by\": \"model probability, ties in declaration order\", \"average_precision\": ");
    json_num6(j, ap);
    er_sb_puts(j, ", \"packs_risk_average_precision\": ");
    json_num6(j, packs_ap);
    er_sb_puts(j, ", \"at\": [");
    er_sb_printf(tb, "\nRanking by the model's probability (model %.16s): average precision %.3f "
                     "(the packs' risk ranking: %.3f)\n", er_model_id(t->model), ap, packs_ap);
    er_sb_printf(tb, "%6s %9s %6s %10s %8s\n", "rate", "inspected", "hits", "precision", "recall");
    for (size_t r = 0; r < N_MODEL_RATES; r++) {
        er_rank_at at;
        char p1[16], p2[16];
        er_rank_at_rate(mr, t->n_rank, P, MODEL_RATES[r], &at);
        er_sb_printf(j, "%s{\"rate\":%g,\"inspected\":%zu,\"hits\":%zu,\"precision\":", r ? "," : "",
                     MODEL_RATES[r], at.k, at.hits);
        json_num6(j, at.k ? at.precision : NAN);
        er_sb_puts(j, ",\"recall\":");
        json_num6(j, P ? at.recall : NAN);
        er_sb_putc(j, '}');
        er_sb_printf(tb, "%5g%% %9zu %6zu %10s %8s\n", 100 * MODEL_RATES[r], at.k, at.hits,
                     fmt_pct(p1, sizeof p1, at.k ? at.precision : NAN), fmt_pct(p2, sizeof p2, P ? at.recall : NAN));
    }
    er_sb_puts(j, "]}");
cleanup:
    er_model_pred_free(pr);
    free(prob);
    free(mr);
    return st;
}

/* The "at" list of a ranking: for each rate the inspected count, hits,
 * precision, recall, lift and the score (or risk, printed to 17 digits) that
 * reaches it; at[] receives the figures for the text table. */
static void rank_json(er_sb *j, const er_rank_item *rank, size_t n, uint64_t P, double base, const double *rates,
                      size_t n_rates, er_rank_at *at, bool by_risk)
{
    for (size_t r = 0; r < n_rates; r++) {
        er_rank_at_rate(rank, n, (size_t)P, rates[r], &at[r]);
        er_sb_puts(j, r ? ",\n    {" : "\n    {");
        er_sb_json_key(j, "rate");
        json_num6(j, rates[r]);
        er_sb_printf(j, ",\"inspected\":%zu,\"hits\":%zu,\"precision\":", at[r].k, at[r].hits);
        json_num6(j, at[r].k ? at[r].precision : NAN);
        er_sb_puts(j, ",\"recall\":");
        json_num6(j, P ? at[r].recall : NAN);
        er_sb_puts(j, ",\"lift\":");
        json_num6(j, at[r].k && base > 0 ? at[r].precision / base : NAN);
        if (by_risk) {
            er_sb_puts(j, ",\"min_risk\":");
            er_sb_json_numg(j, at[r].k ? at[r].min_score : NAN, 17);
        } else {
            er_sb_puts(j, ",\"min_score\":");
            json_num6(j, at[r].k ? at[r].min_score : NAN);
        }
        er_sb_putc(j, '}');
    }
}

er_status er_backtest(const er_backtest_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    scan_ctx sc = {0};
    bt t = {0};
    er_profileset *ps = NULL;
    er_sb j = {0}, tb = {0};
    double conf = o->confidence > 0 && o->confidence < 1 ? o->confidence : 0.95;

    *json = *table = NULL;
    if (!o->in.label_field && !o->in.outcomes)
        return er_errf(err, ER_EINVAL, "backtest needs labels: a label field or an outcome store");
    if (o->target_rate < 0 || o->target_rate > 1)
        return er_errf(err, ER_EINVAL, "target rate %g is not between 0 and 1", o->target_rate);
    if ((st = scan_open(&sc, &o->in, err)) != ER_OK)
        return st;
    if ((st = scan_profiles(&sc, o->profiles, o->n_profiles, NULL, &ps, err)) != ER_OK)
        goto cleanup;
    if ((st = er_eval_new(&t.ev, ps, err)) != ER_OK)
        goto cleanup;
    if (o->model && ((st = er_model_load(&t.model, o->model, err)) != ER_OK ||
                     (st = er_model_bind(t.model, ps, sc.bl, err)) != ER_OK))
        goto cleanup;
    t.ps = ps;
    t.bl = sc.bl;
    t.np = er_profileset_count(ps);
    t.prof = calloc(t.np ? t.np : 1, sizeof *t.prof);
    if (!t.prof) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = scan_feeds(&sc, on_decl, &t, true, err)) != ER_OK)
        goto cleanup;

    uint64_t N = sc.labelled, P = sc.positives;
    double base = N ? (double)P / (double)N : NAN;
    er_rank_sort(t.rank, t.n_rank);
    er_rank_sort(t.rrank, t.n_rank);

    /* ---- JSON ---- */
    char d1[11] = "", d2[11] = "";
    if (sc.min_date) {
        er_date_format(sc.min_date, d1);
        er_date_format(sc.max_date, d2);
    }
    er_sb_puts(&j, "{\n  \"format\": 1,\n  \"kind\": \"backtest\",\n  \"label\": ");
    json_label_source(&j, &o->in);
    er_sb_puts(&j, ",\n  \"feeds\": [");
    for (size_t i = 0; i < o->in.n_feeds; i++) {
        if (i)
            er_sb_putc(&j, ',');
        er_sb_json_cstr(&j, o->in.feeds[i]);
    }
    er_sb_puts(&j, "],\n  \"baseline_id\": ");
    er_sb_json_cstr(&j, sc.bl ? er_baseline_id(sc.bl) : "");
    er_sb_puts(&j, ",\n  \"profile_set\": ");
    er_sb_json_cstr(&j, er_profileset_hash(ps));
    if (sc.min_date)
        er_sb_printf(&j, ",\n  \"dates\": [\"%s\", \"%s\"]", d1, d2);
    er_sb_printf(&j, ",\n  \"declarations\": {\"read\":%llu,\"accepted\":%llu,\"quarantined\":%llu,"
                     "\"labelled\":%llu,\"unlabelled\":%llu,\"labels_from_outcomes\":%llu,\"positives\":%llu,"
                     "\"base_rate\":",
                 (unsigned long long)sc.rows_read, (unsigned long long)sc.accepted,
                 (unsigned long long)sc.quarantined, (unsigned long long)N, (unsigned long long)sc.unlabelled,
                 (unsigned long long)sc.from_outcomes, (unsigned long long)P);
    json_num6(&j, base);
    er_sb_puts(&j, "},\n  \"confidence\": ");
    json_num6(&j, conf);
    er_sb_puts(&j, ",\n  \"overall\": {");
    acc_json(&j, &t.all, P, base, conf);
    er_sb_puts(&j, "},\n  \"domains\": [");
    for (int k = 0; k < ER_DOMAIN_COUNT; k++) {
        er_sb_puts(&j, k ? ",\n    {" : "\n    {");
        er_sb_json_key(&j, "domain");
        er_sb_json_cstr(&j, er_domain_str((er_domain)k));
        er_sb_putc(&j, ',');
        acc_json(&j, &t.dom[k], P, base, conf);
        er_sb_putc(&j, '}');
    }
    er_sb_puts(&j, "\n  ],\n  \"profiles\": [");
    size_t k_target = er_rank_k(o->target_rate, (size_t)N);
    for (size_t i = 0; i < t.np; i++) {
        const er_profile_info *pi = er_profileset_info(ps, i);
        prof_acc *p = &t.prof[i];
        er_sb_puts(&j, i ? ",\n    {" : "\n    {");
        er_sb_json_key(&j, "id");
        er_sb_json_cstr(&j, pi->id);
        er_sb_json_key(&j, "version");
        er_sb_json_int(&j, pi->version);
        er_sb_json_key(&j, "domain");
        er_sb_json_cstr(&j, er_domain_str(pi->domain));
        er_sb_json_key(&j, "title");
        er_sb_json_cstr(&j, pi->title);
        er_sb_json_key(&j, "alert_threshold");
        json_num6(&j, pi->alert_threshold);
        er_sb_putc(&j, ',');
        acc_json(&j, &p->a, P, base, conf);
        if (o->target_rate > 0) {
            /* Threshold on this profile's score reaching the target rate of all labelled declarations. */
            if (p->n_scores)   /* qsort(NULL, 0, ...) is undefined */
                qsort(p->scores, p->n_scores, sizeof *p->scores, cmp_desc);
            er_sb_json_key(&j, "threshold_at_target");
            if (k_target && k_target <= p->n_scores && p->scores[k_target - 1] > 0)
                json_num6(&j, p->scores[k_target - 1]);
            else
                er_sb_puts(&j, "null");
        }
        er_sb_json_key(&j, "by_month");
        er_sb_putc(&j, '[');
        if (p->n_months)
            qsort(p->months, p->n_months, sizeof *p->months, cmp_month);
        for (size_t m = 0; m < p->n_months; m++) {
            const month_acc *ma = &p->months[m];
            double lo, hi;
            er_wilson(ma->hits, ma->alerts, conf, &lo, &hi);
            er_sb_printf(&j, "%s{\"month\":\"%04d-%02d\",\"alerts\":%llu,\"hits\":%llu,\"hit_rate\":", m ? "," : "",
                         ma->key / 12, ma->key % 12 + 1, (unsigned long long)ma->alerts,
                         (unsigned long long)ma->hits);
            json_num6(&j, (double)ma->hits / (double)ma->alerts);
            er_sb_puts(&j, ",\"hit_rate_ci\":[");
            json_num6(&j, lo);
            er_sb_putc(&j, ',');
            json_num6(&j, hi);
            er_sb_puts(&j, "]}");
        }
        er_sb_puts(&j, "]}");
    }
    er_sb_puts(&j, t.np ? "\n  ],\n" : "],\n");
    er_sb_printf(&j, "  \"ranking\": {\"by\": \"highest domain score, ties in declaration order\", \"n\": %llu, "
                     "\"positives\": %llu, \"at\": [",
                 (unsigned long long)N, (unsigned long long)P);
    er_rank_at at[N_RATES];
    rank_json(&j, t.rank, t.n_rank, P, base, RATES, N_RATES, at, false);
    er_sb_puts(&j, "\n  ], \"average_precision\": ");
    json_num6(&j, P ? er_rank_ap(t.rank, t.n_rank, (size_t)P) : NAN);
    er_sb_puts(&j, "}");
    /* The same declarations ranked by risk: the order the run's alerts.jsonl follows. */
    er_sb_printf(&j, ",\n  \"risk_ranking\": {\"by\": \"risk, ties in declaration order\", \"n\": %llu, "
                     "\"positives\": %llu, \"at\": [",
                 (unsigned long long)N, (unsigned long long)P);
    er_rank_at rat[N_RRATES];
    rank_json(&j, t.rrank, t.n_rank, P, base, RRATES, N_RRATES, rat, true);
    double ap_risk = P ? er_rank_ap(t.rrank, t.n_rank, (size_t)P) : NAN;
    er_sb_puts(&j, "\n  ], \"average_precision\": ");
    json_num6(&j, ap_risk);
    er_sb_puts(&j, "}");
    /* Target rate: the threshold, and what selecting score >= threshold really gives (ties included). */
    double thr = NAN;
    size_t sel = 0, sel_hits = 0;
    if (o->target_rate > 0) {
        er_sb_puts(&j, ",\n  \"target\": {\"rate\": ");
        json_num6(&j, o->target_rate);
        er_sb_printf(&j, ", \"k\": %zu, \"threshold\": ", k_target);
        if (k_target && t.rank[k_target - 1].score > 0) {
            thr = t.rank[k_target - 1].score;
            while (sel < t.n_rank && t.rank[sel].score >= thr) {
                sel_hits += t.rank[sel].positive;
                sel++;
            }
            json_num6(&j, thr);
            er_sb_printf(&j, ", \"selected\": %zu, \"actual_rate\": ", sel);
            json_num6(&j, (double)sel / (double)N);
            er_sb_puts(&j, ", \"precision\": ");
            json_num6(&j, (double)sel_hits / (double)sel);
            er_sb_puts(&j, ", \"recall\": ");
            json_num6(&j, P ? (double)sel_hits / (double)P : NAN);
            er_sb_puts(&j, ", \"reachable\": true}");
        } else {
            size_t scored = 0;
            while (scored < t.n_rank && t.rank[scored].score > 0)
                scored++;
            er_sb_printf(&j, "null, \"reachable\": false, \"scored_above_zero\": %zu}", scored);
        }
    }
    er_sb tm = {0};
    if (t.model) {
        st = model_ranking(&t, (size_t)P, ap_risk, &j, &tm, err);
        if (st != ER_OK) {
            er_sb_free(&tm);
            goto cleanup;
        }
    }
    er_sb_puts(&j, "\n}\n");

    /* ---- readable table ---- */
    char b1[16], b2[16], b3[16], b4[16];
    er_sb_printf(&tb, "Backtest over %llu labelled declarations", (unsigned long long)N);
    if (sc.min_date)
        er_sb_printf(&tb, " (%s to %s)", d1, d2);
    er_sb_printf(&tb, ": %llu positive, base rate %s; %llu unlabelled, %llu quarantined.\n",
                 (unsigned long long)P, fmt_pct(b1, sizeof b1, base), (unsigned long long)sc.unlabelled,
                 (unsigned long long)sc.quarantined);
    er_sb_printf(&tb, "Labels: %s%s%s%s. Hit-rate intervals: Wilson %g%%.\n\n",
                 o->in.label_field ? "column " : "", o->in.label_field ? o->in.label_field : "",
                 o->in.outcomes ? (o->in.label_field ? ", overridden by outcome store " : "outcome store ") : "",
                 o->in.outcomes ? o->in.outcomes : "", 100 * conf);
    er_sb_printf(&tb, "%-32s %-8s %8s %7s %6s %8s %-17s %7s %6s\n", "profile", "domain", "in scope", "alerts",
                 "hits", "hit rate", "95% interval", "recall", "lift");
    for (size_t i = 0; i < t.np; i++) {
        const er_profile_info *pi = er_profileset_info(ps, i);
        acc_row(&tb, pi->id, er_domain_str(pi->domain), &t.prof[i].a, P, base, conf);
    }
    er_sb_putc(&tb, '\n');
    for (int k = 0; k < ER_DOMAIN_COUNT; k++)
        acc_row(&tb, "(any profile)", er_domain_str((er_domain)k), &t.dom[k], P, base, conf);
    acc_row(&tb, "(all: the alert the run emits)", "", &t.all, P, base, conf);
    er_sb_printf(&tb, "\nRanking by highest domain score (ties in declaration order), base rate %s:\n",
                 fmt_pct(b1, sizeof b1, base));
    er_sb_printf(&tb, "%6s %9s %6s %10s %8s %6s %10s\n", "rate", "inspected", "hits", "precision", "recall", "lift",
                 "min score");
    for (size_t r = 0; r < N_RATES; r++) {
        char pr[16], rc[16];
        er_sb_printf(&tb, "%5g%% %9zu %6zu %10s %8s %6.2f %10g\n", 100 * RATES[r], at[r].k, at[r].hits,
                     fmt_pct(pr, sizeof pr, at[r].k ? at[r].precision : NAN),
                     fmt_pct(rc, sizeof rc, P ? at[r].recall : NAN),
                     at[r].k && base > 0 ? at[r].precision / base : 0.0, at[r].min_score);
    }
    er_sb_printf(&tb, "Average precision %.4f.\n", P ? er_rank_ap(t.rank, t.n_rank, (size_t)P) : 0.0);
    er_sb_puts(&tb, "\nRanking by risk (ties in declaration order):\n");
    er_sb_printf(&tb, "%6s %9s %6s %10s %8s %6s %10s\n", "rate", "inspected", "hits", "precision", "recall", "lift",
                 "min risk");
    for (size_t r = 0; r < N_RRATES; r++) {
        char pr[16], rc[16];
        er_sb_printf(&tb, "%5g%% %9zu %6zu %10s %8s %6.2f %10.4g\n", 100 * RRATES[r], rat[r].k, rat[r].hits,
                     fmt_pct(pr, sizeof pr, rat[r].k ? rat[r].precision : NAN),
                     fmt_pct(rc, sizeof rc, P ? rat[r].recall : NAN),
                     rat[r].k && base > 0 ? rat[r].precision / base : 0.0, rat[r].min_score);
    }
    er_sb_printf(&tb, "Average precision %.4f.\n", P ? ap_risk : 0.0);
    if (o->target_rate > 0) {
        if (isfinite(thr))
            er_sb_printf(&tb, "\nTarget inspection rate %s: score >= %g selects %zu declarations (%s), "
                              "precision %s, recall %s.\n",
                         fmt_pct(b1, sizeof b1, o->target_rate), thr, sel,
                         fmt_pct(b2, sizeof b2, (double)sel / (double)N),
                         fmt_pct(b3, sizeof b3, (double)sel_hits / (double)sel),
                         fmt_pct(b4, sizeof b4, P ? (double)sel_hits / (double)P : NAN));
        else
            er_sb_printf(&tb, "\nTarget inspection rate %s: not reachable, fewer declarations score above 0.\n",
                         fmt_pct(b1, sizeof b1, o->target_rate));
    }
    if (tm.p)
        er_sb_puts(&tb, tm.p);
    er_sb_free(&tm);
    if (j.oom || tb.oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    *json = j.p;
    *table = tb.p;
    j.p = tb.p = NULL;
cleanup:
    er_sb_free(&tb);
    er_sb_free(&j);
    if (t.prof)
        for (size_t i = 0; i < t.np; i++) {
            free(t.prof[i].scores);
            free(t.prof[i].months);
        }
    free(t.prof);
    free(t.rank);
    free(t.rows);
    free(t.ypos);
    er_model_free(t.model);
    free(t.rrank);
    er_eval_free(t.ev);
    er_profileset_free(ps);
    scan_close(&sc);
    return st;
}
