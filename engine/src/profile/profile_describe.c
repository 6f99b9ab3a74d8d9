/*
 * profile_describe.c — the readable form of one compiled profile, with every
 * list it uses resolved to its entries (`ecorisk profile show`). Output is a
 * pure function of the profile set, so it is stable across runs. Each
 * condition's line comes from its operator's row (profile_op.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_op.h"

static void indent(er_sb *b, int level)
{
    for (int i = 0; i < level; i++)
        er_sb_puts(b, "  ");
}

void describe_cc(er_sb *b, const ccset *cs)
{
    bool first = true;
    for (int i = 0; i < 676; i++)
        if ((cs->w[i >> 6] >> (i & 63)) & 1u) {
            er_sb_printf(b, "%s%c%c", first ? "" : " ", 'A' + i / 26, 'A' + i % 26);
            first = false;
        }
    if (first)
        er_sb_puts(b, "(empty)");
}

/* Node ni and its children, one line each, indented by level. */
static void cond(er_sb *b, const er_profileset *s, uint32_t ni, int level)
{
    const cnode *n = &s->nodes[ni];
    const pop *op = node_op(n);
    char xb[80];
    indent(b, level);
    op->describe(b, s, n, field_label(n, xb, sizeof xb));
    er_sb_putc(b, '\n');
    if (op->flags & OPF_CHILDREN)
        for (uint32_t i = 0; i < n->n; i++)
            cond(b, s, s->kids[n->a + i], level + 1);
}

char *er_profile_describe(const er_profileset *s, size_t pi)
{
    if (!s || pi >= s->n_prof)
        return NULL;
    er_sb d = {0};
    if (!er_sb_reserve(&d, 4096))
        return NULL;
    const pprofile *p = &s->prof[pi];
    const er_profile_info *in = &p->info;
    er_sb_printf(&d, "%s (version %d) — %s\n", in->id, in->version, in->title);
    er_sb_printf(&d, "domain:    %s\n", er_domain_str(in->domain));
    er_sb_printf(&d, "owner:     %s\n", in->owner);
    er_sb_printf(&d, "file:      %s (%s)\n", in->file, p->path);
    char f[11] = "open", u[11] = "open";
    if (in->valid_from)
        er_date_format(in->valid_from, f);
    if (in->valid_until)
        er_date_format(in->valid_until, u);
    er_sb_printf(&d, "valid:     %s .. %s (declaration dates)\n", f, u);
    if (in->review_by) {
        char r[11];
        er_date_format(in->review_by, r);
        er_sb_printf(&d, "review by: %s\n", r);
    }
    for (size_t i = 0; i < in->n_references; i++)
        er_sb_printf(&d, "%s %s\n", i ? "          " : "reference:", in->references[i]);
    er_sb_printf(&d, "alert:     score >= %.6g\n", in->alert_threshold);
    er_sb_printf(&d, "lanes:     red >= %.6g, yellow >= %.6g, blue >= %.6g, otherwise green\n", in->lane_red, in->lane_yellow,
       in->lane_blue);
    er_sb_printf(&d, "random:    %.6g%% of in-scope declarations\n", in->random_rate * 100);
    er_sb_printf(&d, "scope:\n");
    cond(&d, s, p->scope, 1);
    er_sb_printf(&d, "indicators (score = sum of fired weights, at most 100):\n");
    for (size_t k = 0; k < in->n_indicators; k++) {
        er_sb_printf(&d, "  [%g] %s%s — %s\n", in->indicators[k].weight, in->indicators[k].id,
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
            er_sb_printf(&d, "lists:\n");
        any = true;
        er_sb_printf(&d, "  %s: %zu entries, %s (source: %s; date: %s)\n", l->name, l->n, l->file,
           l->source ? l->source : "?", l->date ? l->date : "?");
    }
    if (d.oom) {
        er_sb_free(&d);
        return NULL;
    }
    return d.p;
}
