/*
 * profile_describe.c — the readable form of one compiled profile, with every
 * list it uses resolved to its entries (`ecorisk profile show`). Output is a
 * pure function of the profile set, so it is stable across runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_int.h"

typedef struct dbuf {
    char  *b;
    size_t len, cap;
    bool   nomem;
} dbuf;

static void dp(dbuf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dp(dbuf *d, const char *fmt, ...)
{
    if (d->nomem)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(d->b + d->len, d->cap - d->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            d->nomem = true;
            return;
        }
        if ((size_t)n < d->cap - d->len) {
            d->len += (size_t)n;
            return;
        }
        size_t nc = d->cap * 2 + (size_t)n;
        char *nb = realloc(d->b, nc);
        if (!nb) {
            d->nomem = true;
            return;
        }
        d->b = nb;
        d->cap = nc;
    }
}

static void indent(dbuf *d, int level)
{
    for (int i = 0; i < level; i++)
        dp(d, "  ");
}

static void list_cc(dbuf *d, const ccset *cs)
{
    bool first = true;
    size_t n = 0;
    for (int i = 0; i < 676; i++)
        if ((cs->w[i >> 6] >> (i & 63)) & 1u) {
            dp(d, "%s%c%c", first ? "" : " ", 'A' + i / 26, 'A' + i % 26);
            first = false;
            n++;
        }
    if (first)
        dp(d, "(empty)");
}

static void cond(dbuf *d, const er_profileset *s, uint32_t ni, int level)
{
    const cnode *n = &s->nodes[ni];
    const char *fname = pfield_name((pfield)n->field);
    char xb[80];
    if (n->field == PF_EXTRA && n->extra) {
        snprintf(xb, sizeof xb, "extra.%s", n->extra);
        fname = xb;
    }
    indent(d, level);
    switch ((cop)n->op) {
    case C_ALL:
    case C_ANY:
        dp(d, "%s of:\n", n->op == C_ALL ? "all" : "any");
        for (uint32_t i = 0; i < n->n; i++)
            cond(d, s, s->kids[n->a + i], level + 1);
        return;
    case C_NOT:
        dp(d, "not:\n");
        cond(d, s, s->kids[n->a], level + 1);
        return;
    case C_STR_IN:
    case C_ENUM_IN: {
        const strset *ss = &s->strsets[n->op == C_ENUM_IN ? n->n : n->a];
        dp(d, "%s in %s:", fname, n->label);
        for (size_t i = 0; i < ss->n; i++)
            dp(d, " %s", ss->v[i]);
        break;
    }
    case C_HS_PREFIX:
        dp(d, "hs starts with %s:", n->label);
        for (size_t i = 0; i < s->hs_n_entries[n->a]; i++)
            dp(d, " %s", s->hs_entries[n->a][i]);
        break;
    case C_CC_IN:
        dp(d, "%s %s %s: ", fname, n->field == PF_TRANSIT ? "overlaps" : "in", n->label);
        list_cc(d, &s->ccsets[n->a]);
        break;
    case C_ROUTE: {
        const routeset *r = &s->routes[n->a];
        static const char *const via[] = {"origin", "export_country", "origin or export_country"};
        dp(d, "route (%s -> destination)", via[n->cmp < 3 ? n->cmp : 0]);
        if (r->from_set >= 0) {
            dp(d, " from ");
            list_cc(d, &s->ccsets[r->from_set]);
        }
        if (r->to_set >= 0) {
            dp(d, "%s to ", r->from_set >= 0 ? ";" : "");
            list_cc(d, &s->ccsets[r->to_set]);
        }
        if (r->n_pairs) {
            dp(d, "%s pairs", r->from_set >= 0 || r->to_set >= 0 ? "; or" : "");
            for (size_t i = 0; i < r->n_pairs; i++) {
                uint16_t a = (uint16_t)(r->pairs[i] >> 16), b = (uint16_t)(r->pairs[i] & 0xffff);
                dp(d, " %c%c>%c%c", ER_CC_A(a), ER_CC_B(a), ER_CC_A(b), ER_CC_B(b));
            }
        }
        break;
    }
    case C_NUM: {
        static const char *const sym[] = {">", ">=", "<", "<=", "=", "!=", "between"};
        if (n->cmp == 6)
            dp(d, "%s between %.6g and %.6g", fname, n->x, n->y);
        else
            dp(d, "%s %s %.6g", fname, sym[n->cmp < 6 ? n->cmp : 0], n->x);
        break;
    }
    case C_KEYWORDS:
        dp(d, "%s contains a keyword of %s:", fname, n->label);
        for (size_t i = 0; i < s->kw_n_entries[n->a]; i++)
            dp(d, " \"%s\"", s->kw_entries[n->a][i]);
        break;
    case C_ANOMALY:
        dp(d, "anomaly %s with p < %.6g (no data without a baseline)", er_feature_str((er_feature)n->cmp), n->x);
        break;
    case C_EXISTS:
        dp(d, "%s present", fname);
        break;
    case C_TRUE:
        dp(d, "always");
        break;
    case C_DOCUMENT:
        dp(d, "%s document %s (with --registry)", er_dockind_str((er_dockind)n->cmp), n->label);
        break;
    }
    dp(d, "\n");
}

char *er_profile_describe(const er_profileset *s, size_t pi)
{
    if (!s || pi >= s->n_prof)
        return NULL;
    dbuf d = {malloc(4096), 0, 4096, false};
    if (!d.b)
        return NULL;
    const pprofile *p = &s->prof[pi];
    const er_profile_info *in = &p->info;
    dp(&d, "%s (version %d) — %s\n", in->id, in->version, in->title);
    dp(&d, "domain:    %s\n", er_domain_str(in->domain));
    dp(&d, "owner:     %s\n", in->owner);
    dp(&d, "file:      %s (%s)\n", in->file, p->path);
    char f[11] = "open", u[11] = "open";
    if (in->valid_from)
        er_date_format(in->valid_from, f);
    if (in->valid_until)
        er_date_format(in->valid_until, u);
    dp(&d, "valid:     %s .. %s (declaration dates)\n", f, u);
    if (in->review_by) {
        char r[11];
        er_date_format(in->review_by, r);
        dp(&d, "review by: %s\n", r);
    }
    for (size_t i = 0; i < in->n_references; i++)
        dp(&d, "%s %s\n", i ? "          " : "reference:", in->references[i]);
    dp(&d, "alert:     score >= %.6g\n", in->alert_threshold);
    dp(&d, "lanes:     red >= %.6g, yellow >= %.6g, blue >= %.6g, otherwise green\n", in->lane_red, in->lane_yellow,
       in->lane_blue);
    dp(&d, "random:    %.6g%% of in-scope declarations\n", in->random_rate * 100);
    dp(&d, "scope:\n");
    cond(&d, s, p->scope, 1);
    dp(&d, "indicators (score = sum of fired weights, at most 100):\n");
    for (size_t k = 0; k < in->n_indicators; k++) {
        dp(&d, "  [%g] %s%s — %s\n", in->indicators[k].weight, in->indicators[k].id,
           in->indicators[k].is_anomaly ? " (anomaly)" : "", in->indicators[k].reason);
        cond(&d, s, p->ind[k].root, 2);
    }
    /* lists used, with provenance */
    bool any = false;
    for (size_t i = 0; i < s->n_lists; i++) {
        const listdef *l = &s->lists[i];
        if (!l->ok)
            continue;
        /* mention only lists whose name appears in this profile's labels */
        bool used = false;
        for (size_t n = 0; n < s->n_nodes && !used; n++) {
            const cnode *c = &s->nodes[n];
            if (c->label && c->pack == p->pack && strstr(c->label, l->name) && strncmp(c->path, p->path, strlen(p->path)) == 0 &&
                c->path[strlen(p->path)] == '.')
                used = true;
        }
        if (!used)
            continue;
        if (!any)
            dp(&d, "lists:\n");
        any = true;
        dp(&d, "  %s: %zu entries, %s (source: %s; date: %s)\n", l->name, l->n, l->file,
           l->source ? l->source : "?", l->date ? l->date : "?");
    }
    if (d.nomem) {
        free(d.b);
        return NULL;
    }
    return d.b;
}
