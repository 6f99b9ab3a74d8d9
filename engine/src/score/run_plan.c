/*
 * run_plan.c — the day's plan once every batch is in (docs/profiles.md,
 * "Lane capacity and random controls"): declarations counted per office and
 * flow group, top-up candidates picked until each group reaches its minimum
 * random-control rate, then its exploration slots filled with the candidates
 * whose risk is least sure (nearest 0.5), then each lane kept within its
 * capacity, highest risk first, the rest demoted one lane. Deterministic:
 * every choice is ordered by a total key (group, hash or risk, feed ordinal).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "score/run_impl.h"

void groups_free(groups *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        free(gs->g[i].office);
    free(gs->g);
    free(gs->slots);
}

/* Double the open-addressing table and re-insert every group. */
static bool groups_rehash(groups *gs)
{
    size_t ns = gs->n_slots ? gs->n_slots * 2 : 256;
    uint32_t *nsl = calloc(ns, sizeof *nsl);
    if (!nsl)
        return false;
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
    return true;
}

/* A new group in table slot j. */
static long groups_add(groups *gs, size_t j, const char *office, int flow)
{
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

long groups_get(groups *gs, const char *office, int flow)
{
    if (!office)
        office = "";
    if ((gs->n_slots == 0 || (gs->n + 1) * 2 > gs->n_slots) && !groups_rehash(gs))
        return -1;
    uint64_t h = er_hash64(office, strlen(office), (uint64_t)flow);
    size_t j = h & (gs->n_slots - 1);
    while (gs->slots[j]) {
        group *g = &gs->g[gs->slots[j] - 1];
        if (g->flow == flow && strcmp(g->office, office) == 0)
            return (long)gs->slots[j] - 1;
        j = (j + 1) & (gs->n_slots - 1);
    }
    if (gs->n >= ER_RUN_MAX_GROUPS) {
        office = "(other)";
        flow = 0;
        for (size_t i = 0; i < gs->n; i++)
            if (gs->g[i].flow == 0 && strcmp(gs->g[i].office, office) == 0)
                return (long)i;
    }
    return groups_add(gs, j, office, flow);
}

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
    if (x->explore != y->explore) return x->explore ? -1 : 1;   /* then exploration slots */
    if (x->harm != y->harm) return x->harm > y->harm ? -1 : 1;   /* 0 unless ordered by harm */
    return er_risk_cmp(x->risk, x->ordinal, y->risk, y->ordinal);
}

/* Exploration order within a group: the least sure first (risk nearest 0.5). */
static int cmp_explore(const void *a, const void *b)
{
    const alert_rec *x = *(alert_rec *const *)a, *y = *(alert_rec *const *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    double ux = fabs(x->risk - 0.5), uy = fabs(y->risk - 0.5);
    if (ux != uy) return ux < uy ? -1 : 1;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static int cmp_risk(const void *a, const void *b)
{
    const alert_rec *x = a, *y = b;
    return er_risk_cmp(x->risk, x->ordinal, y->risk, y->ordinal);
}

/* Fill each group's reserved slots from the candidates, in order: the random
 * top-up (explore false: hash order, until n_random >= ceil(min_random_rate x
 * in-scope)), then exploration (explore true: least sure first, risk nearest
 * 0.5, ceil(explore_rate x in-scope) slots among those not taken as controls;
 * docs/operations.md, "Lane capacity and random control"). */
static void plan_fill(const run_config *cfg, groups *gs, alert_rec **ptrs, size_t n_cands, bool explore)
{
    qsort(ptrs, n_cands, sizeof *ptrs, explore ? cmp_explore : cmp_cand);
    size_t i = 0;
    while (i < n_cands) {
        uint32_t gi = ptrs[i]->group;
        group *g = &gs->g[gi];
        const rule *r = run_config_match(cfg, g->office, g->flow);
        double rate = !r ? 0 : explore ? r->explore : r->min_random;
        uint64_t need = (uint64_t)ceil(rate * (double)g->n_in_scope - 1e-9);
        uint64_t *have = explore ? &g->n_explore : &g->n_random;
        for (; i < n_cands && ptrs[i]->group == gi; i++) {
            if (*have >= need || ptrs[i]->topup)
                continue;
            ptrs[i]->topup = true;
            ptrs[i]->random = !explore;
            ptrs[i]->explore = explore;
            ptrs[i]->final_lane = (uint8_t)(!r ? ER_LANE_RED : explore ? r->explore_lane : r->random_lane);
            ++*have;
        }
    }
}

/* One lane's alerts sorted by group: keep the lane within capacity, demote the rest. */
static void plan_lane(const run_config *cfg, const groups *gs, int lane, alert_rec **v, size_t m)
{
    size_t i = 0;
    while (i < m) {
        uint32_t gi = v[i]->group;
        const group *g = &gs->g[gi];
        const rule *r = run_config_match(cfg, g->office, g->flow);
        double rate = r ? r->cap[lane] : -1;
        uint64_t cap = rate < 0 ? UINT64_MAX : (uint64_t)floor(rate * (double)g->n_decl + 1e-9);
        uint64_t used = 0;
        for (; i < m && v[i]->group == gi; i++) {
            if (v[i]->random || v[i]->explore || used < cap) {   /* reserved slots keep their lane */
                used++;
                continue;
            }
            v[i]->over_capacity = true;
            v[i]->final_lane = (uint8_t)(lane - 1);
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
        plan_lane(cfg, gs, lane, v, m);
    }
    free(v);
    return ER_OK;
}

er_status run_plan_fill(const run_config *cfg, groups *gs, run_recs *rc, er_err *err)
{
    er_status st = ER_OK;
    alert_rec **cand_ptrs = NULL;
    if (!rc->n_cands)
        return ER_OK;
    cand_ptrs = malloc(rc->n_cands * sizeof *cand_ptrs);
    if (!cand_ptrs)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < rc->n_cands; i++)
        cand_ptrs[i] = &rc->cands[i];
    plan_fill(cfg, gs, cand_ptrs, rc->n_cands, false);
    if (cfg->any_explore)
        plan_fill(cfg, gs, cand_ptrs, rc->n_cands, true);
    for (size_t i = 0; i < rc->n_cands; i++) {
        if (!rc->cands[i].topup)
            continue;
        if (!er_grow((void **)&rc->recs, &rc->cap_recs, rc->n_recs + 1, sizeof *rc->recs)) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            break;
        }
        rc->recs[rc->n_recs++] = rc->cands[i];
    }
    free(cand_ptrs);
    return st;
}

er_status run_plan_capacity(const run_config *cfg, groups *gs, run_recs *rc, er_err *err)
{
    if (plan_capacity(cfg, gs, rc->recs, rc->n_recs) != ER_OK)
        return er_errf(err, ER_ENOMEM, "out of memory planning lane capacity");
    return ER_OK;
}

void run_plan_sort(run_recs *rc)
{
    if (rc->n_recs)   /* qsort(NULL, 0) is undefined: a day without alerts */
        qsort(rc->recs, rc->n_recs, sizeof *rc->recs, cmp_risk);
}
