/*
 * diff.c — what changes between two profile sets on the same declarations
 * (analyst.h, er_diff): both sets score every declaration exactly as the run
 * does; the result counts alerts gained and lost per profile id and for the
 * alert the run would emit, lane transitions, and keeps the first example
 * declarations of each change with their scores, so an analyst sees the
 * effect of a profile edit before deploying it. A side given a learned model
 * (model.h) ranks by the model's probability, as run --model does; the model
 * predicts in batches of DIFF_BATCH declarations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst/analyst_int.h"
#include "core/grow.h"
#include "ecorisk/model.h"
#include "ecorisk/score.h"

#define N_LANE_COL (ER_LANE_COUNT + 1)   /* 0: no alert, 1 + er_lane */
#define DIFF_BATCH 4096

/* One side's learned model: feature rows of the pending declarations, predicted per batch. */
typedef struct side_model {
    er_model      *m;
    er_model_pred *pred;
    float         *rows;    /* DIFF_BATCH x features */
    double        *prob;    /* DIFF_BATCH */
} side_model;

typedef struct example {
    char   *id;
    double  score_a, score_b;   /* NaN: not in scope */
    int     lane_a, lane_b;     /* -1: no alert */
} example;

typedef struct ex_list {
    example *v;
    size_t   n;
} ex_list;

typedef struct uprof {
    const char *id;
    long        ia, ib;          /* index in A / B, -1 absent */
    uint64_t    alerts_a, alerts_b, gained, lost, kept, lane_changed, score_up, score_down;
    uint64_t    lanes_a[ER_LANE_COUNT], lanes_b[ER_LANE_COUNT];
    ex_list     ex_gained, ex_lost;
} uprof;

typedef struct df {
    const er_profileset *a, *b;
    const er_baseline   *bl;
    er_eval             *ea, *eb;
    uprof               *u;
    size_t               nu;
    long                *map_a, *map_b;    /* set index → union index */
    size_t               examples;
    uint64_t             n, alerts_a, alerts_b, gained, lost, changed_profile, changed_lane, unchanged;
    uint64_t             lanes[N_LANE_COL][N_LANE_COL];
    ex_list              ex_gained, ex_lost, ex_changed;
    /* risk of every declaration under A and under B (docs/scoring.md §6), with its label */
    er_rank_item        *rk_a, *rk_b;    /* order: index of the declaration in the scan */
    int8_t              *lab;              /* label per index: 1, 0, or -1 none */
    size_t               n_rk, cap_rk_a, cap_rk_b, cap_lab;
    /* scratch: per union profile result of this declaration */
    const er_profile_result **ra, **rb;
    /* learned models of A and B (m NULL: packs), and the declarations awaiting prediction */
    side_model           sm[2];
    size_t               pend[DIFF_BATCH], n_pend;
} df;

static er_status model_open(side_model *s, const char *path, const er_profileset *ps, const er_baseline *bl,
                            er_err *err)
{
    er_status st;
    if (!path)
        return ER_OK;
    if ((st = er_model_load(&s->m, path, err)) != ER_OK || (st = er_model_bind(s->m, ps, bl, err)) != ER_OK ||
        (st = er_model_pred_new(&s->pred, s->m, err)) != ER_OK)
        return st;
    s->rows = malloc(DIFF_BATCH * er_model_n_features(s->m) * sizeof *s->rows);
    s->prob = malloc(DIFF_BATCH * sizeof *s->prob);
    return s->rows && s->prob ? ER_OK : er_errf(err, ER_ENOMEM, "out of memory");
}

static void model_close(side_model *s)
{
    free(s->prob);
    free(s->rows);
    er_model_pred_free(s->pred);
    er_model_free(s->m);
}

/* The pending declarations' risks become their models' probabilities. */
static er_status model_flush(df *t, er_err *err)
{
    er_rank_item *rk[2] = {t->rk_a, t->rk_b};
    for (int k = 0; k < 2; k++) {
        side_model *s = &t->sm[k];
        er_status st;
        if (!s->m)
            continue;
        if ((st = er_model_predict(s->pred, s->rows, t->n_pend, s->prob, err)) != ER_OK)
            return st;
        for (size_t i = 0; i < t->n_pend; i++)
            rk[k][t->pend[i]].score = s->prob[i];
    }
    t->n_pend = 0;
    return ER_OK;
}

/* Feature rows of this declaration for the sides with a model. */
static er_status model_row(df *t, const er_decl *d, const er_decl_score *sa, const er_decl_score *sb,
                           er_err *err)
{
    if (!t->sm[0].m && !t->sm[1].m)
        return ER_OK;
    const er_decl_score *sc[2] = {sa, sb};
    for (int k = 0; k < 2; k++)
        if (t->sm[k].m)
            er_model_features(t->sm[k].m, d, sc[k],
                              t->sm[k].rows + t->n_pend * er_model_n_features(t->sm[k].m));
    t->pend[t->n_pend++] = t->n_rk - 1;
    return t->n_pend == DIFF_BATCH ? model_flush(t, err) : ER_OK;
}

static bool add_example(ex_list *l, size_t max, const char *id, double sa, double sb, int la, int lb)
{
    if (l->n >= max)
        return true;
    if (!l->v && !(l->v = calloc(max, sizeof *l->v)))
        return false;
    example *e = &l->v[l->n];
    if (!(e->id = strdup(id)))
        return false;
    e->score_a = sa;
    e->score_b = sb;
    e->lane_a = la;
    e->lane_b = lb;
    l->n++;
    return true;
}

static void ex_free(ex_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].id);
    free(l->v);
}

static double top_in_scope(const er_decl_score *s)
{
    double top = NAN;
    for (size_t i = 0; i < s->n_results; i++)
        if (s->results[i].in_scope && !(s->results[i].score <= top))
            top = s->results[i].score;
    return top;
}

static er_status on_decl(void *ud, const er_decl *d, uint64_t order, int label, er_err *err)
{
    df *t = ud;
    er_decl_score sa, sb;
    er_score_decl(t->a, t->bl, t->ea, d, &sa);
    er_score_decl(t->b, t->bl, t->eb, d, &sb);
    (void)order;
    if (!er_grow((void **)&t->rk_a, &t->cap_rk_a, t->n_rk + 1, sizeof *t->rk_a) ||
        !er_grow((void **)&t->rk_b, &t->cap_rk_b, t->n_rk + 1, sizeof *t->rk_b) ||
        !er_grow((void **)&t->lab, &t->cap_lab, t->n_rk + 1, sizeof *t->lab))
        return er_errf(err, ER_ENOMEM, "out of memory");
    t->lab[t->n_rk] = (int8_t)(label < 0 ? -1 : label);
    t->rk_a[t->n_rk] = (er_rank_item){sa.risk, t->n_rk, label == 1};
    t->rk_b[t->n_rk] = (er_rank_item){sb.risk, t->n_rk, label == 1};
    t->n_rk++;
    t->n++;
    er_status st = model_row(t, d, &sa, &sb, err);
    if (st != ER_OK)
        return st;
    memset(t->ra, 0, t->nu * sizeof *t->ra);
    memset(t->rb, 0, t->nu * sizeof *t->rb);
    for (size_t i = 0; i < sa.n_results; i++)
        t->ra[t->map_a[sa.results[i].profile]] = &sa.results[i];
    for (size_t i = 0; i < sb.n_results; i++)
        t->rb[t->map_b[sb.results[i].profile]] = &sb.results[i];
    for (size_t k = 0; k < t->nu; k++) {
        uprof *u = &t->u[k];
        const er_profile_result *x = t->ra[k], *y = t->rb[k];
        bool al_a = x && x->alert, al_b = y && y->alert;
        double s_a = x && x->in_scope ? x->score : NAN, s_b = y && y->in_scope ? y->score : NAN;
        if (x && y && x->in_scope && y->in_scope) {
            u->score_up += y->score > x->score;
            u->score_down += y->score < x->score;
        }
        if (al_a) {
            u->alerts_a++;
            u->lanes_a[x->lane]++;
        }
        if (al_b) {
            u->alerts_b++;
            u->lanes_b[y->lane]++;
        }
        if (al_a && al_b) {
            u->kept++;
            u->lane_changed += x->lane != y->lane;
        } else if (al_b) {
            u->gained++;
            if (!add_example(&u->ex_gained, t->examples, d->id, s_a, s_b, -1, y->lane))
                return er_errf(err, ER_ENOMEM, "out of memory");
        } else if (al_a) {
            u->lost++;
            if (!add_example(&u->ex_lost, t->examples, d->id, s_a, s_b, x->lane, -1))
                return er_errf(err, ER_ENOMEM, "out of memory");
        }
    }
    /* The alert the run emits. */
    const er_profile_result *ba = sa.best >= 0 ? &sa.results[sa.best] : NULL;
    const er_profile_result *bb = sb.best >= 0 ? &sb.results[sb.best] : NULL;
    int la = ba ? ba->lane : -1, lb = bb ? bb->lane : -1;
    t->lanes[la + 1][lb + 1]++;
    t->alerts_a += ba != NULL;
    t->alerts_b += bb != NULL;
    bool ok = true;
    if (ba && bb) {
        const char *pa = er_profileset_info(t->a, ba->profile)->id, *pb = er_profileset_info(t->b, bb->profile)->id;
        if (strcmp(pa, pb) != 0) {
            t->changed_profile++;
            ok = add_example(&t->ex_changed, t->examples, d->id, ba->score, bb->score, la, lb);
        } else if (la != lb) {
            t->changed_lane++;
            ok = add_example(&t->ex_changed, t->examples, d->id, ba->score, bb->score, la, lb);
        } else {
            t->unchanged++;
        }
    } else if (bb) {
        /* the side without an alert shows its highest in-scope score (NaN: in no profile's scope) */
        t->gained++;
        ok = add_example(&t->ex_gained, t->examples, d->id, top_in_scope(&sa), bb->score, -1, lb);
    } else if (ba) {
        t->lost++;
        ok = add_example(&t->ex_lost, t->examples, d->id, ba->score, top_in_scope(&sb), la, -1);
    }
    return ok ? ER_OK : er_errf(err, ER_ENOMEM, "out of memory");
}

static const char *lane_name(int l) { return l < 0 ? "none" : er_lane_str((er_lane)l); }

static void ex_json(er_sb *j, const ex_list *l)
{
    er_sb_putc(j, '[');
    for (size_t i = 0; i < l->n; i++) {
        const example *e = &l->v[i];
        er_sb_puts(j, i ? ",{" : "{");
        er_sb_json_key(j, "id");
        er_sb_json_cstr(j, e->id);
        er_sb_puts(j, ",\"score_a\":");
        json_num6(j, e->score_a);
        er_sb_puts(j, ",\"score_b\":");
        json_num6(j, e->score_b);
        er_sb_printf(j, ",\"lane_a\":\"%s\",\"lane_b\":\"%s\"}", lane_name(e->lane_a), lane_name(e->lane_b));
    }
    er_sb_putc(j, ']');
}

static void ex_text(er_sb *t, const char *what, const ex_list *l)
{
    if (!l->n)
        return;
    er_sb_printf(t, "    %s:", what);
    for (size_t i = 0; i < l->n; i++) {
        const example *e = &l->v[i];
        er_sb_printf(t, " %s (", e->id);
        if (isfinite(e->score_a))
            er_sb_printf(t, "%g", e->score_a);
        else
            er_sb_puts(t, "-");
        er_sb_puts(t, " -> ");
        if (isfinite(e->score_b))
            er_sb_printf(t, "%g", e->score_b);
        else
            er_sb_puts(t, "-");
        er_sb_putc(t, ')');
        if (i + 1 < l->n)
            er_sb_putc(t, ',');
    }
    er_sb_putc(t, '\n');
}

static const double RRATES[] = {0.01, 0.05, 0.10};
#define N_RRATES (sizeof RRATES / sizeof RRATES[0])

/* The rankings by risk of A and B (both sorted): how many of the top k are the same
 * declarations, and with labels, precision at each rate and average precision of each. */
static er_status risk_json(er_sb *j, er_sb *tb, const df *t, bool labelled)
{
    size_t n = t->n_rk;
    uint8_t *mark = calloc(n ? n : 1, 1);
    er_rank_item *la = malloc((n ? n : 1) * sizeof *la), *lb = malloc((n ? n : 1) * sizeof *lb);
    if (!mark || !la || !lb) {
        free(mark);
        free(la);
        free(lb);
        return ER_ENOMEM;
    }
    er_sb_printf(j, ",\n  \"risk_ranking\": {\"n\": %zu, \"top_overlap\": [", n);
    er_sb_puts(tb, "\nRanking by risk");
    for (int k = 0; k < 2 && (t->sm[0].m || t->sm[1].m); k++)
        er_sb_printf(tb, "%s%s: %s%.16s", k ? "; " : " (", k ? "B" : "A", t->sm[k].m ? "model " : "packs' risk",
                     t->sm[k].m ? er_model_id(t->sm[k].m) : "");
    er_sb_puts(tb, t->sm[0].m || t->sm[1].m ? "), top of A and B in common:" : ", top of A and B in common:");
    for (size_t r = 0; r < N_RRATES; r++) {
        size_t k = er_rank_k(RRATES[r], n), both = 0;
        memset(mark, 0, n ? n : 1);
        for (size_t i = 0; i < k; i++)
            mark[t->rk_a[i].order] = 1;
        for (size_t i = 0; i < k; i++)
            both += mark[t->rk_b[i].order];
        er_sb_printf(j, "%s{\"rate\":%g,\"k\":%zu,\"in_both\":%zu}", r ? "," : "", RRATES[r], k, both);
        er_sb_printf(tb, " top %g%%: %zu of %zu;", 100 * RRATES[r], both, k);
    }
    er_sb_puts(j, "]");
    er_sb_putc(tb, '\n');
    if (labelled) {
        size_t m = 0, pos = 0;
        for (size_t i = 0; i < n; i++)
            if (t->lab[t->rk_a[i].order] >= 0) {
                la[m++] = t->rk_a[i];
                pos += t->rk_a[i].positive;
            }
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (t->lab[t->rk_b[i].order] >= 0)
                lb[m++] = t->rk_b[i];
        er_sb_printf(j, ", \"labelled\": %zu, \"positives\": %zu", m, pos);
        const er_rank_item *side[2] = {la, lb};
        for (int s = 0; s < 2; s++) {
            er_sb_printf(j, ", \"%s\": {\"at\": [", s ? "b" : "a");
            er_sb_printf(tb, "  %s (%zu labelled, %zu positive):", s ? "B" : "A", m, pos);
            for (size_t r = 0; r < N_RRATES; r++) {
                er_rank_at at;
                er_rank_at_rate(side[s], m, pos, RRATES[r], &at);
                er_sb_printf(j, "%s{\"rate\":%g,\"inspected\":%zu,\"hits\":%zu,\"precision\":", r ? "," : "",
                             RRATES[r], at.k, at.hits);
                json_num6(j, at.k ? at.precision : NAN);
                er_sb_putc(j, '}');
                er_sb_printf(tb, " precision@%g%% %.4f;", 100 * RRATES[r], at.k ? at.precision : 0.0);
            }
            double ap = er_rank_ap(side[s], m, pos);
            er_sb_puts(j, "], \"average_precision\": ");
            json_num6(j, pos ? ap : NAN);
            er_sb_putc(j, '}');
            er_sb_printf(tb, " average precision %.4f\n", ap);
        }
    }
    er_sb_putc(j, '}');
    free(mark);
    free(la);
    free(lb);
    return ER_OK;
}

static long union_add(df *t, const char *id)
{
    for (size_t i = 0; i < t->nu; i++)
        if (strcmp(t->u[i].id, id) == 0)
            return (long)i;
    uprof *u = &t->u[t->nu];
    memset(u, 0, sizeof *u);
    u->id = id;
    u->ia = u->ib = -1;
    return (long)t->nu++;
}

/* The side's packs, profile set and model. */
static void side_json(er_sb *j, const char *key, const char *const *profiles, size_t n, const er_profileset *ps,
                      const side_model *sm)
{
    er_sb_printf(j, "  \"%s\": {\"profiles\": [", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            er_sb_putc(j, ',');
        er_sb_json_cstr(j, profiles[i]);
    }
    er_sb_puts(j, "], \"profile_set\": ");
    er_sb_json_cstr(j, er_profileset_hash(ps));
    er_sb_puts(j, ", \"model\": ");
    if (sm->m)
        er_sb_json_cstr(j, er_model_id(sm->m));
    else
        er_sb_puts(j, "null");
    er_sb_puts(j, "}");
}

static void profiles_json(er_sb *j, const df *t)
{
    er_sb_puts(j, "  \"profiles\": [");
    for (size_t k = 0; k < t->nu; k++) {
        const uprof *u = &t->u[k];
        er_sb_puts(j, k ? ",\n    {" : "\n    {");
        er_sb_json_key(j, "id");
        er_sb_json_cstr(j, u->id);
        er_sb_puts(j, ",\"version_a\":");
        if (u->ia >= 0)
            er_sb_json_int(j, er_profileset_info(t->a, (size_t)u->ia)->version);
        else
            er_sb_puts(j, "null");
        er_sb_puts(j, ",\"version_b\":");
        if (u->ib >= 0)
            er_sb_json_int(j, er_profileset_info(t->b, (size_t)u->ib)->version);
        else
            er_sb_puts(j, "null");
        er_sb_printf(j, ",\"status\":\"%s\"", u->ia < 0 ? "added" : u->ib < 0 ? "removed" : "both");
        er_sb_printf(j, ",\"alerts_a\":%llu,\"alerts_b\":%llu,\"gained\":%llu,\"lost\":%llu,\"kept\":%llu,"
                         "\"lane_changed\":%llu,\"score_up\":%llu,\"score_down\":%llu",
                     (unsigned long long)u->alerts_a, (unsigned long long)u->alerts_b,
                     (unsigned long long)u->gained, (unsigned long long)u->lost, (unsigned long long)u->kept,
                     (unsigned long long)u->lane_changed, (unsigned long long)u->score_up,
                     (unsigned long long)u->score_down);
        er_sb_puts(j, ",\"lanes_a\":{");
        for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
            er_sb_printf(j, "%s\"%s\":%llu", l == ER_LANE_RED ? "" : ",", er_lane_str((er_lane)l),
                         (unsigned long long)u->lanes_a[l]);
        er_sb_puts(j, "},\"lanes_b\":{");
        for (int l = ER_LANE_RED; l >= ER_LANE_GREEN; l--)
            er_sb_printf(j, "%s\"%s\":%llu", l == ER_LANE_RED ? "" : ",", er_lane_str((er_lane)l),
                         (unsigned long long)u->lanes_b[l]);
        er_sb_puts(j, "},\"gained_examples\":");
        ex_json(j, &u->ex_gained);
        er_sb_puts(j, ",\"lost_examples\":");
        ex_json(j, &u->ex_lost);
        er_sb_putc(j, '}');
    }
    er_sb_puts(j, t->nu ? "\n  ]" : "]");
}

static void diff_json(er_sb *j, const df *t, const er_diff_opts *o, const char *const *pb, size_t n_b,
                      const scan_ctx *sc)
{
    er_sb_puts(j, "{\n  \"format\": 1,\n  \"kind\": \"diff\",\n");
    side_json(j, "a", o->profiles_a, o->n_a, t->a, &t->sm[0]);
    er_sb_puts(j, ",\n");
    side_json(j, "b", pb, n_b, t->b, &t->sm[1]);
    er_sb_puts(j, ",\n  \"baseline_id\": ");
    er_sb_json_cstr(j, sc->bl ? er_baseline_id(sc->bl) : "");
    er_sb_printf(j, ",\n  \"declarations\": {\"read\":%llu,\"accepted\":%llu,\"quarantined\":%llu},\n",
                 (unsigned long long)sc->rows_read, (unsigned long long)sc->accepted,
                 (unsigned long long)sc->quarantined);
    er_sb_printf(j, "  \"alerts\": {\"a\":%llu,\"b\":%llu,\"gained\":%llu,\"lost\":%llu,\"profile_changed\":%llu,"
                     "\"lane_changed\":%llu,\"unchanged\":%llu,\n    \"gained_examples\":",
                 (unsigned long long)t->alerts_a, (unsigned long long)t->alerts_b, (unsigned long long)t->gained,
                 (unsigned long long)t->lost, (unsigned long long)t->changed_profile,
                 (unsigned long long)t->changed_lane, (unsigned long long)t->unchanged);
    ex_json(j, &t->ex_gained);
    er_sb_puts(j, ",\n    \"lost_examples\":");
    ex_json(j, &t->ex_lost);
    er_sb_puts(j, ",\n    \"changed_examples\":");
    ex_json(j, &t->ex_changed);
    er_sb_puts(j, ",\n    \"lanes\": {");
    bool first = true;
    for (int x = 0; x < N_LANE_COL; x++)
        for (int y = 0; y < N_LANE_COL; y++) {
            if (!t->lanes[x][y] || (x == 0 && y == 0))
                continue;
            er_sb_printf(j, "%s\"%s->%s\":%llu", first ? "" : ",", lane_name(x - 1), lane_name(y - 1),
                         (unsigned long long)t->lanes[x][y]);
            first = false;
        }
    er_sb_puts(j, "}},\n");
    profiles_json(j, t);
}

static void diff_table(er_sb *tb, const df *t)
{
    er_sb_printf(tb, "Diff over %llu declarations: alerts %llu -> %llu (%+lld): %llu gained, %llu lost, "
                      "%llu moved to another profile, %llu changed lane, %llu unchanged.\n",
                 (unsigned long long)t->n, (unsigned long long)t->alerts_a, (unsigned long long)t->alerts_b,
                 (long long)t->alerts_b - (long long)t->alerts_a, (unsigned long long)t->gained,
                 (unsigned long long)t->lost, (unsigned long long)t->changed_profile,
                 (unsigned long long)t->changed_lane, (unsigned long long)t->unchanged);
    ex_text(tb, "gained", &t->ex_gained);
    ex_text(tb, "lost", &t->ex_lost);
    ex_text(tb, "changed", &t->ex_changed);
    er_sb_puts(tb, "\nLane of the emitted alert (A -> B, changes only):\n");
    for (int x = 0; x < N_LANE_COL; x++)
        for (int y = 0; y < N_LANE_COL; y++)
            if (x != y && t->lanes[x][y])
                er_sb_printf(tb, "  %-6s -> %-6s %8llu\n", lane_name(x - 1), lane_name(y - 1),
                             (unsigned long long)t->lanes[x][y]);
    er_sb_printf(tb, "\n%-32s %-9s %8s %8s %7s %7s %7s %8s\n", "profile", "versions", "alerts A", "alerts B",
                 "gained", "lost", "kept", "lane chg");
    for (size_t k = 0; k < t->nu; k++) {
        const uprof *u = &t->u[k];
        char ver[32];
        if (u->ia < 0)
            snprintf(ver, sizeof ver, "new v%d", er_profileset_info(t->b, (size_t)u->ib)->version);
        else if (u->ib < 0)
            snprintf(ver, sizeof ver, "v%d gone", er_profileset_info(t->a, (size_t)u->ia)->version);
        else
            snprintf(ver, sizeof ver, "v%d->v%d", er_profileset_info(t->a, (size_t)u->ia)->version,
                     er_profileset_info(t->b, (size_t)u->ib)->version);
        er_sb_printf(tb, "%-32.32s %-9s %8llu %8llu %7llu %7llu %7llu %8llu\n", u->id, ver,
                     (unsigned long long)u->alerts_a, (unsigned long long)u->alerts_b, (unsigned long long)u->gained,
                     (unsigned long long)u->lost, (unsigned long long)u->kept, (unsigned long long)u->lane_changed);
        ex_text(tb, "gained", &u->ex_gained);
        ex_text(tb, "lost", &u->ex_lost);
    }
}

er_status er_diff(const er_diff_opts *o, char **json, char **table, er_err *err)
{
    er_status st = ER_OK;
    scan_ctx sc = {0};
    df t = {0};
    er_profileset *pa = NULL, *pb = NULL;
    er_sb j = {0}, tb = {0};
    er_analyst_input in = o->in;
    /* no --against: B loads A's packs (a model against the packs, or two models) */
    const char *const *prof_b = o->n_b ? o->profiles_b : o->profiles_a;
    size_t n_b = o->n_b ? o->n_b : o->n_a;

    *json = *table = NULL;
    t.examples = o->examples ? o->examples : 5;
    if ((st = scan_open(&sc, &in, err)) != ER_OK)
        return st;
    if ((st = scan_profiles(&sc, o->profiles_a, o->n_a, NULL, &pa, err)) != ER_OK ||
        (st = scan_profiles(&sc, prof_b, n_b, NULL, &pb, err)) != ER_OK)
        goto cleanup;
    if ((st = er_eval_new(&t.ea, pa, err)) != ER_OK || (st = er_eval_new(&t.eb, pb, err)) != ER_OK ||
        (st = model_open(&t.sm[0], o->model_a, pa, sc.bl, err)) != ER_OK ||
        (st = model_open(&t.sm[1], o->model_b, pb, sc.bl, err)) != ER_OK)
        goto cleanup;
    size_t na = er_profileset_count(pa), nb = er_profileset_count(pb);
    t.a = pa;
    t.b = pb;
    t.bl = sc.bl;
    t.u = calloc(na + nb + 1, sizeof *t.u);
    t.map_a = calloc(na + 1, sizeof *t.map_a);
    t.map_b = calloc(nb + 1, sizeof *t.map_b);
    t.ra = calloc(na + nb + 1, sizeof *t.ra);
    t.rb = calloc(na + nb + 1, sizeof *t.rb);
    if (!t.u || !t.map_a || !t.map_b || !t.ra || !t.rb) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < na; i++) {
        t.map_a[i] = union_add(&t, er_profileset_info(pa, i)->id);
        t.u[t.map_a[i]].ia = (long)i;
    }
    for (size_t i = 0; i < nb; i++) {
        t.map_b[i] = union_add(&t, er_profileset_info(pb, i)->id);
        t.u[t.map_b[i]].ib = (long)i;
    }
    if ((st = scan_feeds(&sc, on_decl, &t, false, err)) != ER_OK || (st = model_flush(&t, err)) != ER_OK)
        goto cleanup;
    diff_json(&j, &t, o, prof_b, n_b, &sc);
    if (t.n_rk) {
        er_rank_sort(t.rk_a, t.n_rk);
        er_rank_sort(t.rk_b, t.n_rk);
    }
    if ((st = risk_json(&j, &tb, &t, o->in.label_field || o->in.outcomes)) != ER_OK) {
        er_errf(err, st, "out of memory");
        goto cleanup;
    }
    er_sb_puts(&j, "\n}\n");
    diff_table(&tb, &t);
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
    if (t.u)
        for (size_t k = 0; k < t.nu; k++) {
            ex_free(&t.u[k].ex_gained);
            ex_free(&t.u[k].ex_lost);
        }
    ex_free(&t.ex_gained);
    ex_free(&t.ex_lost);
    ex_free(&t.ex_changed);
    free(t.lab);
    free(t.rk_b);
    free(t.rk_a);
    free(t.rb);
    free(t.ra);
    free(t.map_b);
    free(t.map_a);
    free(t.u);
    model_close(&t.sm[1]);
    model_close(&t.sm[0]);
    er_eval_free(t.eb);
    er_eval_free(t.ea);
    er_profileset_free(pb);
    er_profileset_free(pa);
    scan_close(&sc);
    return st;
}
