/*
 * run_cands.c — the run's top-up candidates (docs/operations.md, "Lane
 * capacity and random control"). With a minimum random-control rate or an
 * exploration share, every in-scope declaration that does not alert may be
 * picked at the end of the run, but only a few are (1,796 of 360,000 on the
 * benchmark day). Workers therefore keep each candidate as a compact copy of
 * the declaration (cand_pack: its fields and strings, a few hundred bytes)
 * instead of its alert line; after the plan, the picked ones are read back,
 * scored again with the same packs, baseline and model, and formatted
 * (run_cands_format). Scoring is a function of the declaration alone, so the
 * line is the one the worker would have written; the risk and carrying
 * profile found again are checked against the candidate's record.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score/run_impl.h"

size_t cand_carrier(const er_decl_score *sc)
{
    size_t which = 0;
    double top = -1;
    for (size_t k = 0; k < sc->n_results; k++)
        if (sc->results[k].in_scope && sc->results[k].score > top) {
            top = sc->results[k].score;
            which = k;
        }
    return which;
}

#define NO_STR UINT32_MAX

static void put_str(er_sb *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : NO_STR;
    er_sb_put(b, (const char *)&n, sizeof n);
    if (s)
        er_sb_put(b, s, (size_t)n + 1);
}

/* The strings of a declaration, in pack order. */
#define DECL_STRS(d)                                                                                \
    &(d)->id, &(d)->declarant, &(d)->importer, &(d)->exporter, &(d)->description, &(d)->office,    \
        &(d)->unit, &(d)->container, &(d)->permits, &(d)->licences, &(d)->consents

size_t cand_pack(er_sb *b, const er_decl *d)
{
    size_t before = b->len;
    const char *const *strs[] = {DECL_STRS(d)};
    uint8_t has_docs = d->docs != NULL;
    /* the numbers as they are (a batch's declarations are zeroed before they are
     * filled, padding included); the pointers are set again on unpack */
    er_sb_put(b, (const char *)d, sizeof *d);
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
        put_str(b, *strs[k]);
    for (uint32_t k = 0; k < d->n_extra; k++) {
        put_str(b, d->extra[k].name);
        put_str(b, d->extra[k].value);
    }
    er_sb_put(b, (const char *)&has_docs, 1);
    if (has_docs) {   /* field by field: the struct has padding */
        const er_doccheck *x = d->docs;
        er_sb_put(b, (const char *)x->state, sizeof x->state);
        er_sb_put(b, (const char *)&x->odp_t, sizeof x->odp_t);
        er_sb_put(b, (const char *)&x->co2e_t, sizeof x->co2e_t);
        er_sb_put(b, (const char *)&x->cites_appendix, 1);
        er_sb_put(b, x->basel_code, sizeof x->basel_code);
        for (int k = 0; k < ER_DOC_KINDS; k++)
            put_str(b, x->evidence[k]);
        put_str(b, x->substance);
    }
    return b->oom ? 0 : b->len - before;
}

/* Reading a packed declaration: strings point into the buffer. */
typedef struct unpacker {
    const char *p, *end;
    bool        bad;
} unpacker;

static const char *get_str(unpacker *u)
{
    uint32_t n;
    if ((size_t)(u->end - u->p) < sizeof n) {
        u->bad = true;
        return NULL;
    }
    memcpy(&n, u->p, sizeof n);
    u->p += sizeof n;
    if (n == NO_STR)
        return NULL;
    if ((size_t)(u->end - u->p) < (size_t)n + 1 || u->p[n] != '\0') {
        u->bad = true;
        return NULL;
    }
    const char *s = u->p;
    u->p += (size_t)n + 1;
    return s;
}

static bool get_bytes(unpacker *u, void *dst, size_t n)
{
    if ((size_t)(u->end - u->p) < n) {
        u->bad = true;
        return false;
    }
    memcpy(dst, u->p, n);
    u->p += n;
    return true;
}

er_status cand_unpack(const char *buf, size_t len, er_decl *d, er_extra **extra, er_doccheck *docs)
{
    unpacker u = {buf, buf + len, false};
    uint8_t has_docs = 0;
    *extra = NULL;
    if (!get_bytes(&u, d, sizeof *d))
        return ER_EINTERNAL;
    const char **strs[] = {DECL_STRS(d)};
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
        *strs[k] = get_str(&u);
    d->extra = NULL;
    d->docs = NULL;
    if (d->n_extra && !(*extra = calloc(d->n_extra, sizeof **extra)))
        return ER_ENOMEM;
    for (uint32_t k = 0; k < d->n_extra && !u.bad; k++) {
        (*extra)[k].name = get_str(&u);
        (*extra)[k].value = get_str(&u);
    }
    d->extra = *extra;
    if (get_bytes(&u, &has_docs, 1) && has_docs) {
        memset(docs, 0, sizeof *docs);
        get_bytes(&u, docs->state, sizeof docs->state);
        get_bytes(&u, &docs->odp_t, sizeof docs->odp_t);
        get_bytes(&u, &docs->co2e_t, sizeof docs->co2e_t);
        get_bytes(&u, &docs->cites_appendix, 1);
        get_bytes(&u, docs->basel_code, sizeof docs->basel_code);
        for (int k = 0; k < ER_DOC_KINDS; k++)
            docs->evidence[k] = get_str(&u);
        docs->substance = get_str(&u);
        d->docs = docs;
    }
    return !u.bad && u.p == u.end && d->id ? ER_OK : ER_EINTERNAL;
}

/* Candidate r: read back, scored again, its line appended to the spool at *end. */
static er_status format_one(run_state *R, er_eval *ev, er_model_pred *pred, float *row, double *contrib,
                            alert_rec *r, er_sb *buf, er_sb *line, uint64_t *end, er_err *err)
{
    run_ctx *c = &R->c;
    FILE *f = R->rc.cspool;
    er_decl d;
    er_extra *extra = NULL;
    er_doccheck docs;
    er_decl_score sc;
    run_model_view mv = {0};
    er_status st = ER_OK;
    er_sb_reset(buf);
    er_sb_reset(line);
    if (!er_sb_reserve(buf, r->len)) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (fseeko(f, (off_t)r->off, SEEK_SET) != 0 || fread(buf->p, 1, r->len, f) != r->len) {
        st = er_errf(err, ER_EIO, "cannot read back a top-up candidate: %s", strerror(errno));
        goto cleanup;
    }
    if ((st = cand_unpack(buf->p, r->len, &d, &extra, &docs)) != ER_OK) {
        er_errf(err, st, "top-up candidate %llu: %s", (unsigned long long)r->ordinal,
                st == ER_ENOMEM ? "out of memory" : "spooled record unreadable");
        goto cleanup;
    }
    er_anomaly_compute_batch(c->bl, &d, 1, &sc.an);
    er_score_decl_an(c->ps, ev, &d, &sc);
    size_t which = cand_carrier(&sc);
    double profile_risk = sc.risk;
    if (c->model) {
        er_model_features(c->model, &d, &sc, row);
        if ((st = er_model_predict(pred, row, 1, &sc.risk, err)) != ER_OK ||
            (st = er_model_contrib_path(pred, row, 1, contrib, err)) != ER_OK)
            goto cleanup;
        mv = (run_model_view){row, sc.risk, contrib};
    }
    /* a candidate's risk is recorded when it was known while scoring (NaN: a
     * model's probability left for now, random controls being picked by hash) */
    if (sc.best >= 0 || !sc.in_scope || sc.results[which].profile != r->profile ||
        (!isnan(r->risk) && sc.risk != r->risk)) {
        st = er_errf(err, ER_EINTERNAL, "top-up candidate %s scored differently at the end of the run", d.id);
        goto cleanup;
    }
    size_t len = run_format_alert(c, line, &d, &sc, which, (er_lane)r->lane, true, profile_risk, &mv);
    if (line->oom) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (fseeko(f, (off_t)*end, SEEK_SET) != 0 || fwrite(line->p, 1, len, f) != len) {
        st = er_errf(err, ER_EIO, "cannot spool a top-up alert: %s", strerror(errno));
        goto cleanup;
    }
    r->risk = sc.risk;
    r->off = *end;
    r->len = (uint32_t)len;
    *end += len;
cleanup:
    free(extra);
    return st;
}

er_status run_cands_format(run_state *R, er_err *err)
{
    run_ctx *c = &R->c;
    run_recs *rc = &R->rc;
    er_eval *ev = NULL;
    er_model_pred *pred = NULL;
    float *row = NULL;
    double *contrib = NULL;
    er_sb buf = {0}, line = {0};   /* the record read back, the line formatted: reused */
    uint64_t end = rc->cspool_off;
    er_status st = ER_OK;
    size_t n_topup = 0;
    for (size_t i = 0; i < rc->n_recs; i++)
        n_topup += rc->recs[i].topup;
    if (!n_topup)
        return ER_OK;
    size_t nf = c->model ? er_model_n_features(c->model) : 0;
    if ((st = er_eval_new(&ev, c->ps, err)) != ER_OK ||
        (c->model && (st = er_model_pred_new(&pred, c->model, err)) != ER_OK))
        goto cleanup;
    if (c->model && (!(row = malloc(nf * sizeof *row)) || !(contrib = malloc((nf + 1) * sizeof *contrib)))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < rc->n_recs && st == ER_OK; i++)
        if (rc->recs[i].topup)
            st = format_one(R, ev, pred, row, contrib, &rc->recs[i], &buf, &line, &end, err);
    rc->cspool_off = end;
cleanup:
    er_sb_free(&line);
    er_sb_free(&buf);
    free(contrib);
    free(row);
    er_model_pred_free(pred);
    er_eval_free(ev);
    return st;
}
