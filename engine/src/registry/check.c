/*
 * check.c — the sequential registry pass (docs/registries.md "Checks"): for
 * each declaration, in feed order, the documents it cites are looked up,
 * checked (unknown, expired, mismatched parties / countries / taxon / HS /
 * flow, exhausted, exceeded), their quantities consumed in the ledger, and
 * the result — states, evidence text and harm figures — attached to the
 * declaration for the profile predicates (`{"document": ...}`) and alerts.
 * Runs on the reading thread, so the balance each declaration sees depends
 * only on the feed order, never on the scoring threads.
 */
#include "registry_int.h"
#include "ecorisk/arena.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFS 8

/* Declarations that cite nothing and carry no harm figure share this result. */
static const er_doccheck none_cited = {.state = {ER_DS_MISSING, ER_DS_MISSING, ER_DS_MISSING}};

typedef struct tbuf {
    char   b[1024];
    size_t n;
} tbuf;

static void tp(tbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tp(tbuf *t, const char *fmt, ...)
{
    if (t->n >= sizeof t->b - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->b + t->n, sizeof t->b - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n += (size_t)k < sizeof t->b - t->n ? (size_t)k : sizeof t->b - 1 - t->n;
}

/* Split "A; B|C" at ';' and '|' into at most MAX_REFS trimmed tokens (copied into buf). */
static size_t split_refs(const char *s, char *buf, size_t cap, const char **out)
{
    size_t n = 0, w = 0;
    if (!s)
        return 0;
    while (*s && n < MAX_REFS) {
        while (*s == ';' || *s == '|' || isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        out[n] = buf + w;
        while (*s && *s != ';' && *s != '|' && w + 1 < cap)
            buf[w++] = *s++;
        while (w && isspace((unsigned char)buf[w - 1]))
            w--;
        if (w + 1 >= cap)
            break;
        buf[w++] = '\0';
        n++;
    }
    return n;
}

static bool same_party(const char *a, const char *b)
{
    char x[160], y[160];
    return reg_norm(a, x, sizeof x) == reg_norm(b, y, sizeof y) && strcmp(x, y) == 0;
}

static bool hs_ok(const char *doc_hs, const char *decl_hs)
{
    char h[16];
    size_t k = 0;
    for (const char *p = doc_hs; *p && k < sizeof h - 1; p++)
        if (isdigit((unsigned char)*p))
            h[k++] = *p;
    return k == 0 || strncmp(decl_hs, h, k) == 0;
}

static int year_of(int32_t days)
{
    char s[11];
    er_date_format(days, s);
    return atoi(s);
}

static void cc_str(uint16_t cc, char out[3])
{
    out[0] = ER_CC_A(cc);
    out[1] = ER_CC_B(cc);
    out[2] = '\0';
}

static void party_check(tbuf *m, const char *what, const char *doc, const char *decl)
{
    if (doc && decl && !same_party(doc, decl))
        tp(m, "%s%s %s, document names %s", m->n ? ", " : "", what, decl, doc);
}

static void cc_check(tbuf *m, const char *what, uint16_t doc, uint16_t decl)
{
    char a[3], b[3];
    if (doc && decl && doc != decl) {
        cc_str(decl, a);
        cc_str(doc, b);
        tp(m, "%s%s %s, document names %s", m->n ? ", " : "", what, a, b);
    }
}

/* One known document: its limit, the mismatch / validity findings (into m). */
typedef struct docref {
    const char *number;
    double      limit;
    const char *unit;
    bool        by_mass;
    int         year;
    bool        expired;
    char        exp_text[64];
    char        note[320];    /* mismatch and validity findings */
} docref;

static void check_permit(const permit *p, const er_decl *d, docref *r, tbuf *m)
{
    r->limit = p->quantity;
    r->by_mass = p->by_mass;
    r->unit = p->by_mass ? "kg" : p->unit ? p->unit : "units";
    if ((p->from && d->date < p->from) || (p->until && d->date > p->until)) {
        char a[11];
        er_date_format(d->date < p->from ? p->from : p->until, a);
        r->expired = true;
        snprintf(r->exp_text, sizeof r->exp_text, "%s %s", d->date < p->from ? "valid from" : "expired", a);
    }
    bool imp = p->type && strcasecmp(p->type, "import") == 0;
    cc_check(m, imp ? "destination" : "export country", p->country, imp ? d->destination : d->export_country);
    party_check(m, "exporter", p->exporter, d->exporter);
    party_check(m, "importer", p->importer, d->importer);
    if (p->hs && !hs_ok(p->hs, d->hs))
        tp(m, "%shs %s, document names %s", m->n ? ", " : "", d->hs, p->hs);
    const char *tx = er_decl_extra(d, "taxon");
    if (p->taxon && tx) {
        char a[64], b[64];
        /* genus: the first word */
        size_t i = 0, k = 0;
        for (; tx[i] && !isspace((unsigned char)tx[i]) && i < sizeof a - 1; i++)
            a[i] = (char)tolower((unsigned char)tx[i]);
        a[i] = '\0';
        for (; p->taxon[k] && !isspace((unsigned char)p->taxon[k]) && k < sizeof b - 1; k++)
            b[k] = (char)tolower((unsigned char)p->taxon[k]);
        b[k] = '\0';
        if (strcmp(a, b) != 0)
            tp(m, "%staxon %s, document names %s", m->n ? ", " : "", tx, p->taxon);
    }
}

static void check_licence(const er_registry *reg, const licence *l, const er_decl *d, docref *r, tbuf *m)
{
    r->limit = l->quantity_kg;
    r->by_mass = true;
    r->unit = "kg";
    if (l->flow && d->flow && l->flow != d->flow)
        tp(m, "%sflow %s, licence is for %s", m->n ? ", " : "", er_flow_str((er_flow)d->flow),
           er_flow_str((er_flow)l->flow));
    uint8_t fl = l->flow ? l->flow : d->flow;
    party_check(m, fl == ER_FLOW_EX ? "exporter" : "importer", l->trader, fl == ER_FLOW_EX ? d->exporter : d->importer);
    if (l->hs && !hs_ok(l->hs, d->hs))
        tp(m, "%shs %s, licence names %s", m->n ? ", " : "", d->hs, l->hs);
    const char *sd = er_decl_extra(d, "substance");
    if (sd && l->substance && reg_substance(reg, sd) != reg_substance(reg, l->substance))
        tp(m, "%ssubstance %s, licence names %s", m->n ? ", " : "", sd, l->substance);
}

static void check_consent(const consent *k, const er_decl *d, docref *r, tbuf *m)
{
    r->limit = k->quantity_kg;
    r->by_mass = true;
    r->unit = "kg";
    if ((k->from && d->date < k->from) || (k->until && d->date > k->until)) {
        char a[11];
        er_date_format(d->date < k->from ? k->from : k->until, a);
        r->expired = true;
        snprintf(r->exp_text, sizeof r->exp_text, "%s %s", d->date < k->from ? "valid from" : "expired", a);
    }
    party_check(m, "exporter", k->exporter, d->exporter);
    party_check(m, "importer", k->importer, d->importer);
    cc_check(m, "export country", k->export_country, d->export_country);
    cc_check(m, "destination", k->import_country, d->destination);
    for (uint8_t i = 0; i < d->n_transit && i < ER_TRANSIT_MAX; i++) {
        bool ok = false;
        for (uint8_t j = 0; j < k->n_transit; j++)
            ok |= k->transit[j] == d->transit[i];
        if (!ok) {
            char a[3];
            cc_str(d->transit[i], a);
            tp(m, "%stransit %s not consented", m->n ? ", " : "", a);
        }
    }
    if (k->hs && !hs_ok(k->hs, d->hs))
        tp(m, "%shs %s, consent names %s", m->n ? ", " : "", d->hs, k->hs);
}

typedef struct pass {
    er_ledger         *l;
    const er_registry *r;
    const er_decl     *d;
    er_doccheck       *out;
    bool               already;
    const char        *substance;    /* from a cited licence */
    uint8_t            appendix;
    const char        *basel;
} pass;

/* Look up one cited number and check it against the declaration: true when the
 * document is known (r filled, findings in r->note); false when it is unknown or,
 * for a licence, has no quota for the year (state and evidence set here). */
static bool lookup_doc(pass *ps, er_dockind kind, const char *num, int dyear, docref *r, uint8_t *st, tbuf *ev)
{
    const er_decl *d = ps->d;
    tbuf m = {.b = "", .n = 0};
    long ix = -1;
    memset(r, 0, sizeof *r);
    r->number = num;
    if (kind == ER_DOC_PERMIT && (ix = smap_get(&ps->r->by_permit, num, strlen(num))) >= 0) {
        check_permit(&ps->r->permits[ix], d, r, &m);
        if (!ps->appendix)
            ps->appendix = ps->r->permits[ix].appendix;
    } else if (kind == ER_DOC_LICENCE) {
        char key[300];
        snprintf(key, sizeof key, "%s|%d", num, dyear);
        r->year = dyear;
        if ((ix = smap_get(&ps->r->by_licence_year, key, strlen(key))) >= 0) {
            check_licence(ps->r, &ps->r->licences[ix], d, r, &m);
            if (!ps->substance)
                ps->substance = ps->r->licences[ix].substance;
        } else if (smap_get(&ps->r->by_licence, num, strlen(num)) >= 0) {
            *st |= ER_DS_EXPIRED;
            tp(ev, "%slicence %s: no quota for %d", ev->n ? "; " : "", num, dyear);
            return false;
        }
    } else if (kind == ER_DOC_CONSENT && (ix = smap_get(&ps->r->by_consent, num, strlen(num))) >= 0) {
        check_consent(&ps->r->consents[ix], d, r, &m);
        if (!ps->basel)
            ps->basel = ps->r->consents[ix].waste_code;
    }
    if (ix < 0) {
        *st |= ER_DS_UNKNOWN;
        tp(ev, "%s%s %s: not in the registry", ev->n ? "; " : "", er_dockind_str(kind), num);
        return false;
    }
    if (m.n)
        *st |= ER_DS_MISMATCH;
    if (r->expired) {
        *st |= ER_DS_EXPIRED;
        tp(&m, "%s%s", m.n ? ", " : "", r->exp_text);
    }
    snprintf(r->note, sizeof r->note, "%s", m.b);
    return true;
}

/* Check the documents of one kind; returns false on ENOMEM. */
static bool check_kind(pass *ps, er_dockind kind, const char *refs, tbuf *ev)
{
    const er_decl *d = ps->d;
    char buf[ER_LIMIT_DOCREFS + MAX_REFS + 1];
    const char *tok[MAX_REFS];
    size_t n = split_refs(refs, buf, sizeof buf, tok);
    uint8_t *st = &ps->out->state[kind];
    if (!n) {
        *st |= ER_DS_MISSING;
        return true;
    }
    int dyear = year_of(d->date);
    /* quantity to spread over the known documents, in the order cited */
    docref known[MAX_REFS];
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (lookup_doc(ps, kind, tok[i], dyear, &known[nk], st, ev))
            nk++;
    double total = 0;
    bool have_q = false;
    if (nk) {
        bool mass = known[0].by_mass;
        if (mass && (d->present & ER_P_NET_KG)) {
            total = d->net_kg;
            have_q = true;
        } else if (!mass && (d->present & ER_P_QUANTITY)) {
            total = d->quantity;
            have_q = true;
        }
    }
    double left = total;
    for (size_t i = 0; i < nk; i++) {
        docref *r = &known[i];
        double used;
        long bal = ledger_balance(ps->l, kind, r->number, r->year, &used);
        if (bal < 0)
            return false;
        double prior = ps->already ? ledger_prior(ps->l, d->id, kind, r->number, r->year) : -1;
        if (prior > 0)
            used -= prior;
        double take = left;
        if (i + 1 < nk) {
            double room = r->limit - used;
            take = room < 0 ? 0 : room < left ? room : left;
        }
        left -= take;
        tp(ev, "%s%s %s: ", ev->n ? "; " : "", er_dockind_str(kind), r->number);
        if (r->year)
            tp(ev, "%d quota ", r->year);
        tp(ev, "%.6g of %.6g %s already used", used, r->limit, r->unit);
        if (used >= r->limit) {
            *st |= ER_DS_EXHAUSTED;
        }
        if (have_q) {
            tp(ev, "; this declaration adds %.6g %s", take, r->unit);
            if (used + take > r->limit * (1 + 1e-12))
                *st |= ER_DS_EXCEEDED;
        } else {
            tp(ev, "; this declaration declares no %s", r->by_mass ? "net mass" : "quantity");
        }
        if (r->note[0])
            tp(ev, " (%s)", r->note);
        if (!ps->already && !ledger_consume(ps->l, bal, d->id, have_q ? take : 0))
            return false;
    }
    return true;
}

static const char *arena_copy(er_arena *a, const tbuf *t)
{
    return t->n ? er_arena_strndup(a, t->b, t->n) : NULL;
}

/* Harm: substance from a cited licence, the `substance` extra, or an HS 2022 subheading of one substance. */
static void harm(pass *ps)
{
    const er_decl *d = ps->d;
    const char *name = ps->substance ? ps->substance : er_decl_extra(d, "substance");
    long i = name ? reg_substance(ps->r, name) : -1;
    if (i < 0 && strncmp(d->hs, "2903", 4) == 0)
        i = smap_get(&ps->r->sub_by_hs, d->hs, 6);
    if (i < 0)
        return;
    ps->out->substance = ps->r->subs[i].name;
    if (d->present & ER_P_NET_KG) {
        ps->out->odp_t = d->net_kg / 1000.0 * ps->r->subs[i].odp;
        ps->out->co2e_t = d->net_kg / 1000.0 * ps->r->subs[i].gwp;
    }
}

static bool may_have_harm(const er_decl *d)
{
    return strncmp(d->hs, "2903", 4) == 0 || er_decl_extra(d, "substance") != NULL;
}

er_status er_ledger_check_batch(er_ledger *l, const er_registry *r, er_batch *b, er_err *err)
{
    for (size_t i = 0; i < b->n; i++) {
        er_decl *d = &b->decls[i];
        if (!d->permits && !d->licences && !d->consents && !may_have_harm(d)) {
            d->docs = &none_cited;
            continue;
        }
        er_doccheck *out = er_arena_alloc(b->arena, sizeof *out);
        if (!out)
            return er_errf(err, ER_ENOMEM, "out of memory in the registry pass");
        memset(out, 0, sizeof *out);
        pass ps = {.l = l, .r = r, .d = d, .out = out};
        ps.already = ledger_known_decl(l, d->id);
        if (ps.already && (d->permits || d->licences || d->consents))
            ledger_note_already(l);
        const char *refs[ER_DOC_KINDS] = {d->permits, d->licences, d->consents};
        for (int k = 0; k < ER_DOC_KINDS; k++) {
            tbuf ev = {.b = "", .n = 0};
            if (!check_kind(&ps, (er_dockind)k, refs[k], &ev))
                return er_errf(err, ER_ENOMEM, "out of memory in the registry pass");
            if (ev.n && !(out->evidence[k] = arena_copy(b->arena, &ev)))
                return er_errf(err, ER_ENOMEM, "out of memory in the registry pass");
        }
        out->cites_appendix = ps.appendix;
        if (ps.basel)
            snprintf(out->basel_code, sizeof out->basel_code, "%s", ps.basel);
        harm(&ps);
        d->docs = out;
    }
    return ER_OK;
}
