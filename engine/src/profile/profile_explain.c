/*
 * profile_explain.c — why a profile decided as it did: the evidence of a
 * fired indicator in words (er_eval_evidence, carried by alerts) and the full
 * JSON trace of every profile and condition (er_eval_explain). What each
 * condition says comes from its operator's row (profile_op.h); this file
 * walks the condition graph and joins the pieces.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_op.h"

static inline bool wordc(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* First keyword of set `kwset` found in the normalized text: its span. */
bool kw_first(const kwauto *k, const char *norm, size_t len, uint32_t kwset, size_t *start, size_t *plen)
{
    if (!k->delta)
        return false;
    const uint32_t C = k->n_cls;
    const unsigned char *t = (const unsigned char *)norm;
    uint32_t row = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t nx = k->delta[row + k->cls[t[i]]];
        row = nx >> 1;
        uint32_t q = row / C;
        for (uint32_t j = k->out_start[q]; j < k->out_start[q + 1]; j++) {
            const kwpat *p = &k->pats[k->out[j]];
            if (p->kwset != kwset)
                continue;
            size_t st = i + 1 - p->len;
            if (st > 0 && wordc(t[st - 1]))
                continue;
            if (!p->prefix && i + 1 < len && wordc(t[i + 1]))
                continue;
            size_t end = i + 1;
            if (p->prefix)
                while (end < len && wordc(t[end]))
                    end++;
            *start = st;
            *plen = end - st;
            return true;
        }
    }
    return false;
}

void trace_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

/* Scratch evaluation state for one declaration, shared by all the nodes that
 * evidence and explain evaluate (allocated once per call, not per node). */
static er_eval *scratch_new(const er_profileset *s, const er_decl *d, const er_anomalies *an)
{
    er_eval *e = NULL;
    if (er_eval_new(&e, s, NULL) != ER_OK)
        return NULL;
    e->tnorm = malloc(EVAL_TNORM_CAP);
    if (!e->tnorm) {
        er_eval_free(e);
        return NULL;
    }
    eval_reset(e, d, an);
    return e;
}

/* One leaf in words, as true (neg = false) or as false. */
static void leaf_text(er_sb *b, er_eval *e, const cnode *n, bool neg)
{
    char xbuf[64];
    node_op(n)->evidence(b, e, n, neg, field_label(n, xbuf, sizeof xbuf));
}

/* The leaves that make node ni come out as `want`, joined by "; ". */
static void evid(er_eval *e, uint32_t ni, bool want, er_sb *b, bool *first)
{
    const er_profileset *s = e->s;
    const cnode *n = &s->nodes[ni];
    const pop *op = node_op(n);
    if (op->flags & OPF_NEGATES) {
        evid(e, s->kids[n->a], !want, b, first);
        return;
    }
    if (op->flags & OPF_CHILDREN) {
        bool conj = ((op->flags & OPF_CONJ) != 0) == want;   /* all true / any false: every child explains */
        for (uint32_t i = 0; i < n->n; i++) {
            uint32_t k = s->kids[n->a + i];
            if (pev(e, k) != want)
                continue;
            evid(e, k, want, b, first);
            if (!conj)
                break;
        }
        return;
    }
    if (!*first)
        er_sb_puts(b, "; ");
    *first = false;
    leaf_text(b, e, n, !want);
}

/* Copies b into buf (len bytes), truncated; returns the length copied. */
static size_t copy_out(const er_sb *b, char *buf, size_t len)
{
    size_t n = b->len < len - 1 ? b->len : len - 1;
    if (n && b->p)
        memcpy(buf, b->p, n);
    buf[n] = '\0';
    return n;
}

er_status er_eval_evidence_str(const er_profileset *s, size_t profile, size_t indicator, const er_decl *d,
                               const er_anomalies *an, char *buf, size_t len)
{
    if (!buf || !len)
        return ER_OK;
    buf[0] = '\0';
    if (!s || profile >= s->n_prof || indicator >= s->prof[profile].info.n_indicators)
        return ER_OK;
    er_eval *e = scratch_new(s, d, an);
    if (!e)
        return ER_ENOMEM;
    er_sb b = {0};
    bool first = true;
    const pindicator *in = &s->prof[profile].ind[indicator];
    evid(e, in->root, pev(e, in->root), &b, &first);
    er_status st = b.oom ? ER_ENOMEM : ER_OK;
    if (st == ER_OK)
        copy_out(&b, buf, len);
    er_sb_free(&b);
    er_eval_free(e);
    return st;
}

size_t er_eval_evidence(const er_profileset *s, size_t profile, size_t indicator, const er_decl *d,
                        const er_anomalies *an, char *buf, size_t len)
{
    er_eval_evidence_str(s, profile, indicator, d, an, buf, len);
    return buf && len ? strlen(buf) : 0;
}

/* ---- explain ---------------------------------------------------------------------- */

static json_object *trace(er_eval *e, uint32_t ni)
{
    const er_profileset *s = e->s;
    const cnode *n = &s->nodes[ni];
    const pop *op = node_op(n);
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    trace_str(o, "path", n->path);
    trace_str(o, "op", op->name);
    bool r = pev(e, ni);
    json_object_object_add(o, "result", json_object_new_boolean(r));
    if (op->flags & OPF_CHILDREN) {
        json_object *kids = json_object_new_array();
        for (uint32_t i = 0; i < n->n; i++)
            json_object_array_add(kids, trace(e, s->kids[n->a + i]));
        json_object_object_add(o, "children", kids);
        return o;
    }
    if (op->trace(o, e, n)) {
        char eb[512];
        er_sb b = {0};
        leaf_text(&b, e, n, !r);
        copy_out(&b, eb, sizeof eb);
        er_sb_free(&b);
        trace_str(o, "evidence", eb);
    }
    return o;
}

char *er_eval_explain(const er_profileset *s, const er_decl *d, const er_anomalies *an)
{
    char *out = NULL;
    er_eval *e = NULL, *sc = NULL;
    json_object *root = json_object_new_object();
    if (!root || er_eval_new(&e, s, NULL) != ER_OK || !(sc = scratch_new(s, d, an)))
        goto cleanup;
    const er_profile_result *res;
    size_t nres = er_eval_run(e, d, an, &res);
    json_object_object_add(root, "declaration", json_object_new_string(d->id ? d->id : ""));
    json_object_object_add(root, "profileset", json_object_new_string(er_profileset_hash(s)));
    json_object_object_add(root, "baseline", json_object_new_boolean(an && an->have_baseline));
    json_object *arr = json_object_new_array();
    json_object_object_add(root, "profiles", arr);
    for (size_t i = 0; i < nres; i++) {
        const pprofile *p = &s->prof[i];
        const er_profile_result *r = &res[i];
        json_object *po = json_object_new_object();
        json_object_array_add(arr, po);
        json_object_object_add(po, "id", json_object_new_string(p->info.id));
        json_object_object_add(po, "version", json_object_new_int(p->info.version));
        json_object_object_add(po, "domain", json_object_new_string(er_domain_str(p->info.domain)));
        json_object_object_add(po, "in_window", json_object_new_boolean(eval_in_window(&p->info, d)));
        json_object_object_add(po, "in_scope", json_object_new_boolean(r->in_scope));
        json_object_object_add(po, "scope", trace(sc, p->scope));
        json_object *inds = json_object_new_array();
        json_object_object_add(po, "indicators", inds);
        for (size_t k = 0; k < p->info.n_indicators; k++) {
            json_object *io = json_object_new_object();
            json_object_array_add(inds, io);
            json_object_object_add(io, "id", json_object_new_string(p->info.indicators[k].id));
            json_object_object_add(io, "weight", json_object_new_double(p->info.indicators[k].weight));
            json_object_object_add(io, "fired", json_object_new_boolean((r->fired >> k) & 1u));
            json_object_object_add(io, "when", trace(sc, p->ind[k].root));
        }
        json_object_object_add(po, "score", json_object_new_double(r->score));
        json_object_object_add(po, "lane", json_object_new_string(er_lane_str((er_lane)r->lane)));
        json_object_object_add(po, "alert", json_object_new_boolean(r->alert));
        json_object_object_add(po, "random", json_object_new_boolean(r->random));
    }
    const char *txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (txt)
        out = strdup(txt);
cleanup:
    er_eval_free(sc);
    er_eval_free(e);
    json_object_put(root);
    return out;
}
