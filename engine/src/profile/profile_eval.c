/*
 * profile_eval.c — evaluating compiled profiles on one declaration: scope,
 * indicators, score, lane, alert and deterministic random selection
 * (er_eval_run), the human evidence of a fired indicator (er_eval_evidence)
 * and the full JSON trace (er_eval_explain). Per-declaration work is shared
 * across profiles: one HS trie walk and one keyword scan per pack and text
 * field, both computed lazily. No JSON is touched here except by explain.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_int.h"

struct er_eval {
    const er_profileset *s;
    er_profile_result   *res;
    uint64_t            *hs_mask;
    bool                 hs_done;
    uint64_t            *kw_mask;   /* n_packs × n_slots × kw_words */
    uint8_t             *kw_done;   /* n_packs × n_slots */
    char                *norm;      /* normalized text of each slot: n_slots × norm_cap */
    size_t               norm_cap;
    size_t              *norm_len;  /* per slot; (size_t)-1 = not yet normalized */
    const er_decl       *d;
    const er_anomalies  *an;
};

/* ---- names ------------------------------------------------------------------- */

const char *er_domain_str(er_domain d)
{
    static const char *const n[] = {"wildlife", "ods", "waste"};
    return (unsigned)d < ER_DOMAIN_COUNT ? n[d] : "unknown";
}

const char *er_lane_str(er_lane l)
{
    static const char *const n[] = {"green", "blue", "yellow", "red"};
    return (unsigned)l < ER_LANE_COUNT ? n[l] : "green";
}

static bool hs_in(const char *hs, const char *const *prefixes)
{
    for (; *prefixes; prefixes++)
        if (strncmp(hs, *prefixes, strlen(*prefixes)) == 0)
            return true;
    return false;
}

const char *er_cen_group(er_domain d, const char *hs)
{
    if (!hs)
        hs = "";
    switch (d) {
    case ER_DOMAIN_WILDLIFE:
        return "fauna and flora";
    case ER_DOMAIN_ODS: {
        /* HFCs (Kigali Amendment): pure HFCs and HFC mixtures */
        static const char *const hfc[] = {"290341", "290342", "290343", "290344", "290345", "290346",
                                          "290347", "290348", "290349", "382761", "382762", "382763",
                                          "382764", "382765", "382768", "382769", NULL};
        return hs_in(hs, hfc) ? "HFC" : "ODS";
    }
    case ER_DOMAIN_WASTE: {
        /* Basel Annex VIII-type streams: e-waste, batteries, clinical/solvent/municipal
         * waste, ash and slag, waste oils, CRT glass */
        static const char *const haz[] = {"8548", "8549", "3825", "2620", "2621", "271091", "271099",
                                          "700100", "8506", "8507", NULL};
        return hs_in(hs, haz) ? "hazardous waste" : "waste";
    }
    default:
        return "other";
    }
}

/* ---- values ------------------------------------------------------------------- */

bool strset_has(const strset *s, const char *v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], v);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

const char *pfield_str_value(const er_decl *d, pfield f, const char *extra, char *buf, size_t cap)
{
    const char *v = NULL;
    switch (f) {
    case PF_ID: v = d->id; break;
    case PF_FLOW: v = er_flow_str((er_flow)d->flow); break;
    case PF_MODE: v = er_mode_str((er_mode)d->mode); break;
    case PF_DECLARANT: v = d->declarant; break;
    case PF_IMPORTER: v = d->importer; break;
    case PF_EXPORTER: v = d->exporter; break;
    case PF_HS: v = d->hs; break;
    case PF_DESCRIPTION: v = d->description; break;
    case PF_OFFICE: v = d->office; break;
    case PF_UNIT: v = d->unit; break;
    case PF_CURRENCY: v = d->currency; break;
    case PF_CONTAINER: v = d->container; break;
    case PF_EXTRA: v = extra ? er_decl_extra(d, extra) : NULL; break;
    case PF_ORIGIN:
    case PF_EXPORT_COUNTRY:
    case PF_DESTINATION: {
        uint16_t cc = f == PF_ORIGIN ? d->origin : f == PF_EXPORT_COUNTRY ? d->export_country : d->destination;
        if (cc && cap >= 3) {
            buf[0] = ER_CC_A(cc);
            buf[1] = ER_CC_B(cc);
            buf[2] = '\0';
            v = buf;
        }
        break;
    }
    case PF_TRANSIT: {
        size_t o = 0;
        for (uint8_t i = 0; i < d->n_transit && o + 4 <= cap; i++) {
            if (i)
                buf[o++] = ';';
            buf[o++] = ER_CC_A(d->transit[i]);
            buf[o++] = ER_CC_B(d->transit[i]);
        }
        if (o && o < cap) {
            buf[o] = '\0';
            v = buf;
        }
        break;
    }
    default: break;
    }
    return v && *v ? v : NULL;
}

bool pfield_num_value(const er_decl *d, pfield f, double *v)
{
    uint32_t p = d->present;
    switch (f) {
    case PF_NET_KG: *v = d->net_kg; return p & ER_P_NET_KG;
    case PF_GROSS_KG: *v = d->gross_kg; return p & ER_P_GROSS_KG;
    case PF_QUANTITY: *v = d->quantity; return p & ER_P_QUANTITY;
    case PF_VALUE: *v = d->value; return p & ER_P_VALUE;
    case PF_VALUE_REF: *v = d->value_ref; return p & ER_P_VALUE_REF;
    case PF_PACKAGES: *v = d->packages; return p & ER_P_PACKAGES;
    case PF_UNIT_VALUE:
        if (!(p & ER_P_VALUE_REF) || !(p & ER_P_NET_KG) || !(d->net_kg > 0))
            return false;
        *v = d->value_ref / d->net_kg;
        return true;
    case PF_GROSS_NET_RATIO:
        if (!(p & ER_P_GROSS_KG) || !(p & ER_P_NET_KG) || !(d->net_kg > 0))
            return false;
        *v = d->gross_kg / d->net_kg;
        return true;
    case PF_KG_PER_PACKAGE:
        if (!(p & ER_P_PACKAGES) || !(p & ER_P_NET_KG) || !(d->packages > 0))
            return false;
        *v = d->net_kg / d->packages;
        return true;
    case PF_KG_PER_UNIT:
        if (!(p & ER_P_QUANTITY) || !(p & ER_P_NET_KG) || !(d->quantity > 0))
            return false;
        *v = d->net_kg / d->quantity;
        return true;
    default:
        return false;
    }
}

/* ---- evaluation state ------------------------------------------------------------ */

er_status er_eval_new(er_eval **out, const er_profileset *s, er_err *err)
{
    er_eval *e = calloc(1, sizeof *e);
    if (!e)
        goto nomem;
    e->s = s;
    size_t nk = s->n_packs * s->n_slots;
    e->res = calloc(s->n_prof ? s->n_prof : 1, sizeof *e->res);
    e->hs_mask = calloc(s->hs_words ? s->hs_words : 1, sizeof *e->hs_mask);
    e->kw_mask = calloc((nk ? nk : 1) * s->kw_words, sizeof *e->kw_mask);
    e->kw_done = calloc(nk ? nk : 1, 1);
    e->norm_cap = ER_LIMIT_EXTRA > ER_LIMIT_DESCRIPTION ? ER_LIMIT_EXTRA * 3 : ER_LIMIT_DESCRIPTION * 3;
    e->norm = malloc(e->norm_cap * (s->n_slots ? s->n_slots : 1));
    e->norm_len = malloc((s->n_slots ? s->n_slots : 1) * sizeof *e->norm_len);
    if (!e->res || !e->hs_mask || !e->kw_mask || !e->kw_done || !e->norm || !e->norm_len)
        goto nomem;
    *out = e;
    return ER_OK;
nomem:
    er_eval_free(e);
    return er_errf(err, ER_ENOMEM, "out of memory allocating profile evaluation state");
}

void er_eval_free(er_eval *e)
{
    if (!e)
        return;
    free(e->norm_len);
    free(e->norm);
    free(e->kw_done);
    free(e->kw_mask);
    free(e->hs_mask);
    free(e->res);
    free(e);
}

static void reset(er_eval *e, const er_decl *d, const er_anomalies *an)
{
    e->d = d;
    e->an = an;
    e->hs_done = false;
    memset(e->kw_done, 0, e->s->n_packs * e->s->n_slots);
    for (size_t i = 0; i < e->s->n_slots; i++)
        e->norm_len[i] = (size_t)-1;
}

static const char *slot_text(const er_profileset *s, const er_decl *d, uint32_t slot)
{
    if (slot == 0)
        return d->description;
    const char *name = s->slots[slot];
    pfield f = pfield_parse(name);
    char buf[4];
    return f == PF_COUNT ? er_decl_extra(d, name) : pfield_str_value(d, f, name, buf, 0);
}

static const uint64_t *kw_get(er_eval *e, uint32_t pack, uint32_t slot)
{
    const er_profileset *s = e->s;
    size_t k = (size_t)pack * s->n_slots + slot;
    uint64_t *m = e->kw_mask + k * s->kw_words;
    if (!e->kw_done[k]) {
        /* first keyword test on this text: normalize it once and run every
         * pack's automaton over it in one interleaved pass */
        char *norm = e->norm + (size_t)slot * e->norm_cap;
        const char *t = slot_text(s, e->d, slot);
        size_t len = t ? kw_normalize(t, (size_t)-1, norm, e->norm_cap) : 0;   /* stops at NUL */
        const kwauto *ks[64];
        uint64_t *ms[64];
        size_t nk = 0;
        for (size_t p = 0; p < s->n_packs; p++) {
            size_t kk = p * s->n_slots + slot;
            uint64_t *mp = e->kw_mask + kk * s->kw_words;
            memset(mp, 0, s->kw_words * sizeof *mp);
            e->kw_done[kk] = 1;
            if (len && s->kw[p].n_pats && s->kw[p].delta) {
                ks[nk] = &s->kw[p];
                ms[nk] = mp;
                if (++nk == 64) {
                    kw_scan_multi(ks, nk, norm, len, ms);
                    nk = 0;
                }
            }
        }
        if (nk)
            kw_scan_multi(ks, nk, norm, len, ms);
    }
    return m;
}

static bool num_cmp(uint8_t cmp, double v, double x, double y)
{
    switch (cmp) {
    case NC_GT: return v > x;
    case NC_GE: return v >= x;
    case NC_LT: return v < x;
    case NC_LE: return v <= x;
    case NC_EQ: return v == x;
    case NC_NE: return v != x;
    case NC_BETWEEN: return v >= x && v <= y;
    default: return false;
    }
}

static bool route_match(const er_profileset *s, const cnode *n, uint16_t from, uint16_t to)
{
    if (!from || !to)
        return false;
    const routeset *r = &s->routes[n->a];
    if (r->from_set >= 0 || r->to_set >= 0) {
        if ((r->from_set < 0 || ccset_has(&s->ccsets[r->from_set], from)) &&
            (r->to_set < 0 || ccset_has(&s->ccsets[r->to_set], to)))
            return true;
    }
    if (r->n_pairs) {
        uint32_t key = (uint32_t)from << 16 | to;
        size_t lo = 0, hi = r->n_pairs;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (r->pairs[mid] == key)
                return true;
            if (r->pairs[mid] < key)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return false;
}

static bool ev(er_eval *e, uint32_t ni)
{
    const er_profileset *s = e->s;
    const cnode *n = &s->nodes[ni];
    const er_decl *d = e->d;
    switch ((cop)n->op) {
    case C_ALL:
        for (uint32_t i = 0; i < n->n; i++)
            if (!ev(e, s->kids[n->a + i]))
                return false;
        return true;
    case C_ANY:
        for (uint32_t i = 0; i < n->n; i++)
            if (ev(e, s->kids[n->a + i]))
                return true;
        return false;
    case C_NOT:
        return !ev(e, s->kids[n->a]);
    case C_STR_IN: {
        char buf[4];
        const char *v = pfield_str_value(d, (pfield)n->field, n->extra, buf, sizeof buf);
        return v && strset_has(&s->strsets[n->a], v);
    }
    case C_HS_PREFIX:
        if (!e->hs_done) {
            hs_lookup(s, d->hs, e->hs_mask);
            e->hs_done = true;
        }
        return (e->hs_mask[n->a / 64] >> (n->a % 64)) & 1u;
    case C_CC_IN: {
        const ccset *cs = &s->ccsets[n->a];
        switch ((pfield)n->field) {
        case PF_ORIGIN: return ccset_has(cs, d->origin);
        case PF_EXPORT_COUNTRY: return ccset_has(cs, d->export_country);
        case PF_DESTINATION: return ccset_has(cs, d->destination);
        case PF_TRANSIT:
            for (uint8_t i = 0; i < d->n_transit && i < ER_TRANSIT_MAX; i++)
                if (ccset_has(cs, d->transit[i]))
                    return true;
            return false;
        default: return false;
        }
    }
    case C_ROUTE:
        if (n->cmp != RF_EXPORT && route_match(s, n, d->origin, d->destination))
            return true;
        if (n->cmp != RF_ORIGIN && route_match(s, n, d->export_country, d->destination))
            return true;
        return false;
    case C_NUM: {
        double v;
        return pfield_num_value(d, (pfield)n->field, &v) && num_cmp(n->cmp, v, n->x, n->y);
    }
    case C_KEYWORDS: {
        const uint64_t *m = kw_get(e, n->pack, n->slot);
        return (m[n->a / 64] >> (n->a % 64)) & 1u;
    }
    case C_ANOMALY: {
        const er_anomalies *an = e->an;
        if (!an || !an->have_baseline || n->cmp >= ER_FEAT_COUNT || !an->f[n->cmp].computable)
            return false;
        return an->f[n->cmp].p < n->x;
    }
    case C_EXISTS: {
        if (PF_IS_NUMBER(n->field)) {
            double v;
            return pfield_num_value(d, (pfield)n->field, &v);
        }
        char buf[3 * ER_TRANSIT_MAX + 1];
        return pfield_str_value(d, (pfield)n->field, n->extra, buf, sizeof buf) != NULL;
    }
    case C_TRUE:
        return true;
    case C_ENUM_IN:
        return (n->a >> (n->field == PF_FLOW ? d->flow : d->mode)) & 1u;
    case C_DOCUMENT:
        return d->docs && (d->docs->state[n->cmp] & n->a);
    }
    return false;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static bool random_pick(const pprofile *p, const er_decl *d)
{
    if (!(p->info.random_rate > 0) || !d->id)
        return false;
    uint64_t h = mix64(er_hash64(d->id, strlen(d->id), p->seed));
    double u = (double)(h >> 11) * 0x1p-53;
    return u < p->info.random_rate;
}

static uint8_t lane_of(const er_profile_info *in, double score)
{
    if (score >= in->lane_red)
        return ER_LANE_RED;
    if (score >= in->lane_yellow)
        return ER_LANE_YELLOW;
    if (score >= in->lane_blue)
        return ER_LANE_BLUE;
    return ER_LANE_GREEN;
}

static bool in_window(const er_profile_info *in, const er_decl *d)
{
    return (!in->valid_from || d->date >= in->valid_from) && (!in->valid_until || d->date <= in->valid_until);
}

/* Continuous scaling of a fired anomaly indicator (docs/scoring.md §6): the largest
 * ln p / ln t over its anomaly predicates that hold, between 1 and 2. */
static double anomaly_scale(const pindicator *in, const er_anomalies *an)
{
    double best = 1;
    if (!an || !an->have_baseline)
        return best;
    for (uint8_t k = 0; k < in->n_an; k++) {
        const er_feature_value *f = &an->f[in->an_feat[k]];
        double lt = in->an_lt[k];
        if (!f->computable || !(lt > 0) || !(f->p > 0))
            continue;
        double r = -log(f->p) / lt;
        if (r > best)
            best = r;
    }
    return best > 2 ? 2 : best;
}

static double ind_logodds(const pindicator *in, const er_anomalies *an)
{
    return in->n_an ? in->info.log_odds * anomaly_scale(in, an) : in->info.log_odds;
}

double er_eval_indicator_logodds(const er_profileset *s, size_t profile, size_t indicator, const er_anomalies *an)
{
    if (profile >= s->n_prof || indicator >= s->prof[profile].info.n_indicators)
        return 0;
    return ind_logodds(&s->prof[profile].ind[indicator], an);
}

/* Profile i on the current declaration; r holds the out-of-scope template. */
static void eval_profile(er_eval *e, size_t i, er_profile_result *r)
{
    const pprofile *p = &e->s->prof[i];
    const er_decl *d = e->d;
    if (!in_window(&p->info, d)) {
        r->out_of_window = ev(e, p->scope);   /* counted by run (summary.json) */
        return;
    }
    if (!ev(e, p->scope))
        return;
    r->in_scope = true;
    double score = 0, logit = p->logit_prior;
    for (size_t k = 0; k < p->info.n_indicators; k++)
        if (ev(e, p->ind[k].root)) {
            r->fired |= (uint64_t)1 << k;
            score += p->info.indicators[k].weight;
            logit += ind_logodds(&p->ind[k], e->an);
        }
    r->logit = logit;
    r->score = score > 100 ? 100 : score;
    r->lane = lane_of(&p->info, r->score);
    r->random = random_pick(p, d);
    if (r->random && r->lane < ER_LANE_YELLOW)
        r->lane = ER_LANE_YELLOW;
    r->alert = r->score >= p->info.alert_threshold || r->random;
}

size_t er_eval_run(er_eval *e, const er_decl *d, const er_anomalies *an, const er_profile_result **results)
{
    reset(e, d, an);
    const er_profileset *s = e->s;
    memcpy(e->res, s->res_template, s->n_prof * sizeof *e->res);
    /* only candidates are visited: ungated profiles, and the profiles gated
     * by an HS set the declared code belongs to (one trie walk) */
    hs_lookup(s, d->hs, e->hs_mask);
    e->hs_done = true;
    for (size_t k = 0; k < s->n_ungated; k++)
        eval_profile(e, s->ungated[k], &e->res[s->ungated[k]]);
    for (uint32_t w = 0; w < s->hs_words; w++)
        for (uint64_t bits = e->hs_mask[w]; bits; bits &= bits - 1) {
            size_t set = (size_t)w * 64 + (size_t)__builtin_ctzll(bits);
            for (uint32_t j = s->gate_start[set]; j < s->gate_start[set + 1]; j++)
                eval_profile(e, s->gate_idx[j], &e->res[s->gate_idx[j]]);
        }
    *results = e->res;
    return s->n_prof;
}

/* ---- evidence ------------------------------------------------------------------- */

typedef struct sbuf {
    char  *b;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *sb, const char *fmt, ...)
{
    if (!sb->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;
    int n = vsnprintf(sb->b + sb->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb->len += (size_t)n;
    if (sb->len >= sb->cap)
        sb->len = sb->cap - 1;
}

static inline bool wordc(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* First keyword of set `kwset` found in the normalized text: its span. */
static bool kw_first(const kwauto *k, const char *norm, size_t len, uint32_t kwset, size_t *start, size_t *plen)
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

static const char *const cmp_sym[] = {">", ">=", "<", "<=", "=", "!=", "in"};
static const char *const cmp_neg[] = {"<=", "<", ">=", ">", "!=", "=", "not in"};

/* One leaf, described as true (neg = false) or as false (neg = true). */
static void leaf_text(const er_profileset *s, const cnode *n, const er_decl *d, const er_anomalies *an, bool neg,
                      char *norm, size_t norm_cap, sbuf *sb)
{
    const char *fname = n->field == PF_EXTRA && n->extra ? n->extra : pfield_name((pfield)n->field);
    char xbuf[64];
    if (n->field == PF_EXTRA && n->extra) {
        snprintf(xbuf, sizeof xbuf, "extra.%s", n->extra);
        fname = xbuf;
    }
    char vb[3 * ER_TRANSIT_MAX + 1];
    switch ((cop)n->op) {
    case C_STR_IN: {
        const char *v = pfield_str_value(d, (pfield)n->field, n->extra, vb, sizeof vb);
        if (!v)
            sb_printf(sb, "%s absent", fname);
        else
            sb_printf(sb, "%s \"%s\" %sin %s", fname, v, neg ? "not " : "", n->label);
        break;
    }
    case C_ENUM_IN: {
        const char *v = n->field == PF_FLOW ? er_flow_str((er_flow)d->flow) : er_mode_str((er_mode)d->mode);
        if (!*v)
            sb_printf(sb, "%s absent", fname);
        else
            sb_printf(sb, "%s \"%s\" %sin %s", fname, v, neg ? "not " : "", n->label);
        break;
    }
    case C_HS_PREFIX:
        sb_printf(sb, "hs %s %sin %s", d->hs, neg ? "not " : "", n->label);
        break;
    case C_CC_IN: {
        if (n->field == PF_TRANSIT) {
            const ccset *cs = &s->ccsets[n->a];
            uint16_t hit = 0;
            for (uint8_t i = 0; i < d->n_transit && i < ER_TRANSIT_MAX && !hit; i++)
                if (ccset_has(cs, d->transit[i]))
                    hit = d->transit[i];
            if (!d->n_transit)
                sb_printf(sb, "transit absent");
            else if (hit && !neg)
                sb_printf(sb, "transit %c%c in %s", ER_CC_A(hit), ER_CC_B(hit), n->label);
            else
                sb_printf(sb, "transit %s %sin %s", pfield_str_value(d, PF_TRANSIT, NULL, vb, sizeof vb),
                          neg ? "not " : "", n->label);
            break;
        }
        const char *v = pfield_str_value(d, (pfield)n->field, NULL, vb, sizeof vb);
        if (!v)
            sb_printf(sb, "%s absent", fname);
        else
            sb_printf(sb, "%s %s %sin %s", fname, v, neg ? "not " : "", n->label);
        break;
    }
    case C_ROUTE: {
        uint16_t from = n->cmp == RF_EXPORT ? d->export_country : d->origin;
        if (n->cmp == RF_EITHER && !route_match(s, n, d->origin, d->destination))
            from = d->export_country;
        if (!from || !d->destination)
            sb_printf(sb, "route incomplete");
        else
            sb_printf(sb, "route %c%c>%c%c %smatches %s", ER_CC_A(from), ER_CC_B(from), ER_CC_A(d->destination),
                      ER_CC_B(d->destination), neg ? "not " : "", n->label);
        break;
    }
    case C_NUM: {
        double v;
        if (!pfield_num_value(d, (pfield)n->field, &v))
            sb_printf(sb, "%s not available", fname);
        else if (n->cmp == NC_BETWEEN)
            sb_printf(sb, "%s %.6g %s [%.6g, %.6g]", fname, v, neg ? cmp_neg[n->cmp] : cmp_sym[n->cmp], n->x, n->y);
        else
            sb_printf(sb, "%s %.6g %s %.6g", fname, v, neg ? cmp_neg[n->cmp] : cmp_sym[n->cmp], n->x);
        break;
    }
    case C_KEYWORDS: {
        const char *t = slot_text(s, d, n->slot);
        size_t st = 0, pl = 0;
        size_t len = t ? kw_normalize(t, strlen(t), norm, norm_cap) : 0;
        if (!neg && t && kw_first(&s->kw[n->pack], norm, len, n->a, &st, &pl))
            sb_printf(sb, "%s contains \"%.*s\" (%s)", fname, (int)pl, norm + st, n->label);
        else
            sb_printf(sb, "%s has no keyword of %s", fname, n->label);
        break;
    }
    case C_ANOMALY: {
        const char *fn = er_feature_str((er_feature)n->cmp);
        if (!an || !an->have_baseline)
            sb_printf(sb, "%s: no data (no baseline)", fn);
        else if (!an->f[n->cmp].computable)
            sb_printf(sb, "%s: no data (not computable)", fn);
        else {
            const er_feature_value *f = &an->f[n->cmp];
            sb_printf(sb, "%s p=%.3g %s %.3g (observed %.6g, expected %.6g..%.6g, %s %s)", fn, f->p,
                      neg ? ">=" : "<", n->x, f->observed, f->expected_lo, f->expected_hi,
                      er_level_str((er_level)f->level), f->group);
        }
        break;
    }
    case C_EXISTS:
        sb_printf(sb, "%s %s", fname, neg ? "absent" : "present");
        break;
    case C_DOCUMENT: {
        const char *kind = er_dockind_str((er_dockind)n->cmp);
        if (!d->docs)
            sb_printf(sb, "%s: no data (no registries)", kind);
        else if (d->docs->state[n->cmp] & ER_DS_MISSING)
            sb_printf(sb, "no %s cited", kind);
        else if (d->docs->evidence[n->cmp])
            sb_printf(sb, "%s", d->docs->evidence[n->cmp]);
        else
            sb_printf(sb, "%s %s%s", kind, neg ? "not " : "", n->label);
        break;
    }
    default:
        break;
    }
}

/* Scratch evaluation state for one declaration, shared by all the nodes that
 * evidence and explain evaluate (allocated once per call, not per node). */
static er_eval *scratch_new(const er_profileset *s, const er_decl *d, const er_anomalies *an)
{
    er_eval *e = NULL;
    if (er_eval_new(&e, s, NULL) != ER_OK)
        return NULL;
    reset(e, d, an);
    return e;
}

static bool ev1(er_eval *e, uint32_t ni)
{
    return ev(e, ni);
}

static void evid(er_eval *e, uint32_t ni, bool want, char *norm, size_t norm_cap, sbuf *sb, bool *first)
{
    const er_profileset *s = e->s;
    const er_decl *d = e->d;
    const er_anomalies *an = e->an;
    const cnode *n = &s->nodes[ni];
    if (n->op == C_ALL || n->op == C_ANY) {
        bool conj = (n->op == C_ALL) == want;   /* all true / any false: every child explains */
        for (uint32_t i = 0; i < n->n; i++) {
            uint32_t k = s->kids[n->a + i];
            if (ev1(e, k) != want)
                continue;
            evid(e, k, want, norm, norm_cap, sb, first);
            if (!conj)
                break;
        }
        return;
    }
    if (n->op == C_NOT) {
        evid(e, s->kids[n->a], !want, norm, norm_cap, sb, first);
        return;
    }
    if (n->op == C_TRUE)
        return;
    if (!*first)
        sb_printf(sb, "; ");
    *first = false;
    leaf_text(s, n, d, an, !want, norm, norm_cap, sb);
}

size_t er_eval_evidence(const er_profileset *s, size_t profile, size_t indicator, const er_decl *d,
                        const er_anomalies *an, char *buf, size_t len)
{
    if (!buf || !len)
        return 0;
    buf[0] = '\0';
    if (!s || profile >= s->n_prof || indicator >= s->prof[profile].info.n_indicators)
        return 0;
    char *norm = malloc(ER_LIMIT_EXTRA * 3);
    er_eval *e = scratch_new(s, d, an);
    if (!norm || !e) {
        free(norm);
        er_eval_free(e);
        return 0;
    }
    sbuf sb = {buf, 0, len};
    bool first = true;
    const pindicator *in = &s->prof[profile].ind[indicator];
    bool r = ev1(e, in->root);
    evid(e, in->root, r, norm, ER_LIMIT_EXTRA * 3, &sb, &first);
    er_eval_free(e);
    free(norm);
    buf[sb.len] = '\0';
    return sb.len;
}

/* ---- explain ---------------------------------------------------------------------- */

static const char *op_name(const cnode *n)
{
    switch ((cop)n->op) {
    case C_ALL: return "all";
    case C_ANY: return "any";
    case C_NOT: return "not";
    case C_STR_IN:
    case C_ENUM_IN: return "in";
    case C_HS_PREFIX: return "prefix";
    case C_CC_IN: return "country_in";
    case C_ROUTE: return "route";
    case C_NUM: {
        static const char *const c[] = {"gt", "ge", "lt", "le", "eq", "ne", "between"};
        return n->cmp < 7 ? c[n->cmp] : "?";
    }
    case C_KEYWORDS: return "keywords";
    case C_ANOMALY: return "anomaly";
    case C_EXISTS: return "exists";
    case C_TRUE: return "true";
    case C_DOCUMENT: return "document";
    }
    return "?";
}

static json_object *trace(er_eval *e, uint32_t ni, char *norm, size_t norm_cap)
{
    const er_profileset *s = e->s;
    const er_decl *d = e->d;
    const er_anomalies *an = e->an;
    const cnode *n = &s->nodes[ni];
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "path", json_object_new_string(n->path));
    json_object_object_add(o, "op", json_object_new_string(op_name(n)));
    bool r = ev1(e, ni);
    json_object_object_add(o, "result", json_object_new_boolean(r));
    if (n->op == C_ALL || n->op == C_ANY || n->op == C_NOT) {
        json_object *kids = json_object_new_array();
        for (uint32_t i = 0; i < n->n; i++)
            json_object_array_add(kids, trace(e, s->kids[n->a + i], norm, norm_cap));
        json_object_object_add(o, "children", kids);
        return o;
    }
    if (n->op == C_ANOMALY) {
        const er_feature_value *f = an && an->have_baseline ? &an->f[n->cmp] : NULL;
        json_object_object_add(o, "feature", json_object_new_string(er_feature_str((er_feature)n->cmp)));
        json_object_object_add(o, "p_below", json_object_new_double(n->x));
        if (!f || !f->computable) {
            json_object_object_add(o, "no_data", json_object_new_boolean(true));
        } else {
            json_object_object_add(o, "p", json_object_new_double(f->p));
            json_object_object_add(o, "observed", json_object_new_double(f->observed));
            json_object *rg = json_object_new_array();
            json_object_array_add(rg, json_object_new_double(f->expected_lo));
            json_object_array_add(rg, json_object_new_double(f->expected_hi));
            json_object_object_add(o, "expected_range", rg);
            json_object_object_add(o, "group_level", json_object_new_string(er_level_str((er_level)f->level)));
            json_object_object_add(o, "group", json_object_new_string(f->group));
        }
    } else {
        char fb[80];
        if (n->field == PF_EXTRA && n->extra)
            snprintf(fb, sizeof fb, "extra.%s", n->extra);
        else
            snprintf(fb, sizeof fb, "%s", n->op == C_ROUTE      ? "route"
                                      : n->op == C_DOCUMENT ? er_dockind_str((er_dockind)n->cmp)
                                                            : pfield_name((pfield)n->field));
        json_object_object_add(o, "field", json_object_new_string(fb));
        if (n->op == C_NUM || (n->op == C_EXISTS && PF_IS_NUMBER(n->field))) {
            double v;
            if (pfield_num_value(d, (pfield)n->field, &v))
                json_object_object_add(o, "value", json_object_new_double(v));
            else
                json_object_object_add(o, "no_data", json_object_new_boolean(true));
            if (n->op == C_NUM) {
                json_object_object_add(o, "operand", json_object_new_double(n->x));
                if (n->cmp == NC_BETWEEN)
                    json_object_object_add(o, "operand_high", json_object_new_double(n->y));
            }
        } else if (n->op == C_ROUTE) {
            char rb[16] = "";
            if (d->origin && d->destination)
                snprintf(rb, sizeof rb, "%c%c>%c%c", ER_CC_A(d->origin), ER_CC_B(d->origin),
                         ER_CC_A(d->destination), ER_CC_B(d->destination));
            json_object_object_add(o, "value", json_object_new_string(rb));
            if (d->export_country && d->destination) {
                snprintf(rb, sizeof rb, "%c%c>%c%c", ER_CC_A(d->export_country), ER_CC_B(d->export_country),
                         ER_CC_A(d->destination), ER_CC_B(d->destination));
                json_object_object_add(o, "value_export", json_object_new_string(rb));
            }
            json_object_object_add(o, "operand", json_object_new_string(n->label ? n->label : ""));
        } else if (n->op == C_DOCUMENT) {
            char vb[96] = "";
            for (unsigned b = 0; d->docs && b < ER_DS_COUNT; b++)
                if (d->docs->state[n->cmp] & (1u << b))
                    snprintf(vb + strlen(vb), sizeof vb - strlen(vb), "%s%s", vb[0] ? "|" : "", er_docstate_str(b));
            if (d->docs)
                json_object_object_add(o, "value", json_object_new_string(vb));
            else
                json_object_object_add(o, "no_data", json_object_new_boolean(true));
            json_object_object_add(o, "operand", json_object_new_string(n->label));
        } else {
            char vb[3 * ER_TRANSIT_MAX + 1];
            const char *v = pfield_str_value(d, (pfield)n->field, n->extra, vb, sizeof vb);
            if (n->op == C_HS_PREFIX)
                v = d->hs;
            json_object_object_add(o, "value", v ? json_object_new_string(v) : NULL);
            if (n->label)
                json_object_object_add(o, "operand", json_object_new_string(n->label));
        }
        char eb[512];
        sbuf sb = {eb, 0, sizeof eb};
        leaf_text(s, n, d, an, !r, norm, norm_cap, &sb);
        eb[sb.len] = '\0';
        json_object_object_add(o, "evidence", json_object_new_string(eb));
    }
    return o;
}

char *er_eval_explain(const er_profileset *s, const er_decl *d, const er_anomalies *an)
{
    char *out = NULL, *norm = NULL;
    er_eval *e = NULL, *sc = NULL;
    json_object *root = json_object_new_object();
    if (!root || er_eval_new(&e, s, NULL) != ER_OK || !(sc = scratch_new(s, d, an)))
        goto cleanup;
    norm = malloc(ER_LIMIT_EXTRA * 3);
    if (!norm)
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
        json_object_object_add(po, "in_window", json_object_new_boolean(in_window(&p->info, d)));
        json_object_object_add(po, "in_scope", json_object_new_boolean(r->in_scope));
        json_object_object_add(po, "scope", trace(sc, p->scope, norm, ER_LIMIT_EXTRA * 3));
        json_object *inds = json_object_new_array();
        json_object_object_add(po, "indicators", inds);
        for (size_t k = 0; k < p->info.n_indicators; k++) {
            json_object *io = json_object_new_object();
            json_object_array_add(inds, io);
            json_object_object_add(io, "id", json_object_new_string(p->info.indicators[k].id));
            json_object_object_add(io, "weight", json_object_new_double(p->info.indicators[k].weight));
            json_object_object_add(io, "fired", json_object_new_boolean((r->fired >> k) & 1u));
            json_object_object_add(io, "when", trace(sc, p->ind[k].root, norm, ER_LIMIT_EXTRA * 3));
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
    free(norm);
    er_eval_free(sc);
    er_eval_free(e);
    json_object_put(root);
    return out;
}
