/*
 * features.c — the learned model's features (docs/scoring.md, "Learned
 * model"): the layout (names and the input fields each is computed from),
 * one declaration's row (profile indicators, anomaly strengths, novelty
 * counts, derived numbers, numeric extras), its category keys, and the
 * hashed rate tables behind the smoothed historical positive rates. The
 * leakage-free filling of the rate columns in time order lives in analyst/learn.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

static const char *const KIND_NAMES[K_FIXED] = {
    "importer", "declarant", "exporter", "hs6", "hs4", "origin", "export_country", "origin_hs4", "office",
};

/* ---- hashing and the rate table ---- */

uint64_t key_hash(unsigned kind, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)kind * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static size_t slot_of(const rate_table *t, uint64_t key)
{
    size_t i = (size_t)(key ^ (key >> 32)) & (t->cap - 1);
    while (t->s[i].key && t->s[i].key != key)
        i = (i + 1) & (t->cap - 1);
    return i;
}

bool rate_add(rate_table *t, uint64_t key, uint32_t n, uint32_t pos)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1024;
        rate_slot *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return false;
        rate_table nt = {ns, nc, t->used};
        for (size_t i = 0; i < t->cap; i++)
            if (t->s[i].key)
                ns[slot_of(&nt, t->s[i].key)] = t->s[i];
        free(t->s);
        *t = nt;
    }
    size_t i = slot_of(t, key);
    if (!t->s[i].key) {
        t->s[i].key = key;
        t->used++;
    }
    t->s[i].n += n;
    t->s[i].pos += pos;
    return true;
}

const rate_slot *rate_get(const rate_table *t, uint64_t key)
{
    if (!t->cap || !key)
        return NULL;
    size_t i = slot_of(t, key);
    return t->s[i].key ? &t->s[i] : NULL;
}

void rate_free(rate_table *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

/* ---- category keys ---- */

static uint64_t str_key(unsigned kind, const char *s)
{
    return s && *s ? key_hash(kind, s, strlen(s)) : 0;
}

static uint64_t cc_key(unsigned kind, uint16_t cc)
{
    char s[2] = {ER_CC_A(cc), ER_CC_B(cc)};
    return cc ? key_hash(kind, s, 2) : 0;
}

size_t decl_keys(const er_decl *d, char *const *extra_cat, size_t n_extra_cat, uint64_t *keys)
{
    keys[K_IMPORTER] = str_key(K_IMPORTER, d->importer);
    keys[K_DECLARANT] = str_key(K_DECLARANT, d->declarant);
    keys[K_EXPORTER] = str_key(K_EXPORTER, d->exporter);
    keys[K_HS6] = key_hash(K_HS6, d->hs, d->hs_len < 6 ? d->hs_len : 6);
    keys[K_HS4] = key_hash(K_HS4, d->hs, d->hs_len < 4 ? d->hs_len : 4);
    keys[K_ORIGIN] = cc_key(K_ORIGIN, d->origin);
    keys[K_EXPORT_COUNTRY] = cc_key(K_EXPORT_COUNTRY, d->export_country);
    if (d->origin) {
        char s[6] = {ER_CC_A(d->origin), ER_CC_B(d->origin), d->hs[0], d->hs[1], d->hs[2], d->hs[3]};
        keys[K_ORIGIN_HS4] = key_hash(K_ORIGIN_HS4, s, 6);
    } else {
        keys[K_ORIGIN_HS4] = 0;
    }
    keys[K_OFFICE] = str_key(K_OFFICE, d->office);
    for (size_t i = 0; i < n_extra_cat; i++)
        keys[K_FIXED + i] = str_key((unsigned)(K_FIXED + i), er_decl_extra(d, extra_cat[i]));
    return K_FIXED + n_extra_cat;
}

/* ---- layout ---- */

typedef struct fixed_feat {
    const char *name;
    uint32_t    uses;
} fixed_feat;

/* After the indicators, in this order (layout_static_row fills them so). */
static const fixed_feat FIXED[] = {
    {"anomaly.unit_value_low", U_NET | U_VALUE},  {"anomaly.unit_value_high", U_NET | U_VALUE},
    {"anomaly.mahalanobis", U_NET | U_VALUE | U_QTY}, {"anomaly.route_rarity", 0},
    {"anomaly.new_trader", 0},                    {"anomaly.new_importer", 0},
    {"novelty.route_count", 0},                   {"novelty.trader_chapter_count", 0},
    {"novelty.importer_count", 0},                {"log_unit_value", U_NET | U_VALUE},
    {"unit_value_vs_group", U_NET | U_VALUE},     {"gross_per_net", U_GROSS | U_NET},
    {"kg_per_package", U_NET | U_PACK},           {"kg_per_unit", U_NET | U_QTY},
    {"log_net_kg", U_NET},                        {"log_value", U_VALUE},
    {"log_quantity", U_QTY},                      {"log_packages", U_PACK},
    {"mode", 0},                                  {"hs2", 0},
    {"hs4", 0},
};
#define N_FIXED (sizeof FIXED / sizeof FIXED[0])

static char *dupf(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

er_status layout_build(layout *l, const er_profileset *ps, char *const *extra_num, size_t n_num,
                       char *const *extra_cat, size_t n_cat, er_err *err)
{
    memset(l, 0, sizeof *l);
    if (n_cat > MODEL_MAX_KINDS - K_FIXED)
        return er_errf(err, ER_ELIMIT, "at most %d category extras", MODEL_MAX_KINDS - K_FIXED);
    size_t n_ind = 0, np = er_profileset_count(ps);
    for (size_t i = 0; i < np; i++)
        n_ind += er_profileset_info(ps, i)->n_indicators;
    l->n_ind = n_ind;
    l->n_prof = np;
    l->ind_off = calloc(np ? np : 1, sizeof *l->ind_off);
    l->n_kinds = K_FIXED + n_cat;
    l->n = n_ind + N_FIXED + n_num + 2 * l->n_kinds;
    if (l->n > ER_MODEL_MAX_FEATURES)
        return er_errf(err, ER_ELIMIT, "%zu features: at most %d", l->n, ER_MODEL_MAX_FEATURES);
    l->names = calloc(l->n, sizeof *l->names);
    l->uses = calloc(l->n, sizeof *l->uses);
    l->kind_names = calloc(l->n_kinds, sizeof *l->kind_names);
    if (!l->names || !l->uses || !l->kind_names || !l->ind_off)
        goto oom;
    size_t j = 0;
    for (size_t i = 0; i < np; i++) {
        const er_profile_info *pi = er_profileset_info(ps, i);
        l->ind_off[i] = j;
        for (size_t k = 0; k < pi->n_indicators; k++) {
            char *a = dupf(pi->id, "/");
            l->names[j] = a ? dupf(a, pi->indicators[k].id) : NULL;
            free(a);
            if (!l->names[j++])
                goto oom;
        }
    }
    for (size_t k = 0; k < N_FIXED; k++) {
        l->uses[j] = FIXED[k].uses;
        if (!(l->names[j++] = dupf(FIXED[k].name, "")))
            goto oom;
    }
    l->first_extra_num = j;
    for (size_t k = 0; k < n_num; k++)
        if (!(l->names[j++] = dupf("extra.", extra_num[k])))
            goto oom;
    l->first_rate = j;
    for (size_t k = 0; k < l->n_kinds; k++) {
        l->kind_names[k] = k < K_FIXED ? dupf(KIND_NAMES[k], "") : dupf("extra.", extra_cat[k - K_FIXED]);
        if (!l->kind_names[k] || !(l->names[j++] = dupf(l->kind_names[k], ".rate")) ||
            !(l->names[j++] = dupf(l->kind_names[k], ".n")))
            goto oom;
    }
    return ER_OK;
oom:
    layout_free(l);
    return er_errf(err, ER_ENOMEM, "out of memory");
}

void layout_free(layout *l)
{
    for (size_t i = 0; l->names && i < l->n; i++)
        free(l->names[i]);
    for (size_t i = 0; l->kind_names && i < l->n_kinds; i++)
        free(l->kind_names[i]);
    free(l->names);
    free(l->uses);
    free(l->kind_names);
    free(l->ind_off);
    memset(l, 0, sizeof *l);
}

static float flog(double x)
{
    return x > 0 ? (float)log(x) : NAN;
}

static float ratio(const er_decl *d, uint32_t pa, double a, uint32_t pb, double b)
{
    return (d->present & pa) && (d->present & pb) && b > 0 ? (float)(a / b) : NAN;
}

static float strength(const er_feature_value *f)
{
    return f->computable ? (float)-log10(f->p > 1e-300 ? f->p : 1e-300) : NAN;
}

void layout_static_row(const layout *l, const er_decl *d, const er_decl_score *sc, char *const *extra_num,
                       size_t n_num, float *full)
{
    size_t j;
    /* indicators: 1 fired, missing otherwise (keeps the matrix sparse) */
    for (size_t i = 0; i < l->n_ind; i++)
        full[i] = NAN;
    for (size_t r = 0; r < sc->n_results; r++) {
        const er_profile_result *pr = &sc->results[r];
        if (pr->profile >= l->n_prof)
            continue;
        for (uint64_t f = pr->fired; f; f &= f - 1)
            full[l->ind_off[pr->profile] + (size_t)__builtin_ctzll(f)] = 1.0f;
    }
    j = l->n_ind;
    const er_anomalies *an = &sc->an;
    for (int f = 0; f < ER_FEAT_COUNT; f++)
        full[j++] = an->have_baseline ? strength(&an->f[f]) : NAN;
    const er_feature_value *rr = &an->f[ER_FEAT_ROUTE_RARITY], *nt = &an->f[ER_FEAT_NEW_TRADER],
                           *ni = &an->f[ER_FEAT_NEW_IMPORTER], *uv = &an->f[ER_FEAT_UNIT_VALUE_LOW];
    full[j++] = an->have_baseline && rr->computable ? (float)rr->observed : NAN;
    full[j++] = an->have_baseline && nt->computable ? (float)nt->observed : NAN;
    full[j++] = an->have_baseline && ni->computable ? (float)ni->observed : NAN;
    bool have_uv = (d->present & ER_P_VALUE_REF) && (d->present & ER_P_NET_KG) && d->net_kg > 0 && d->value_ref > 0;
    full[j++] = have_uv ? (float)log(d->value_ref / d->net_kg) : NAN;
    full[j++] = have_uv && an->have_baseline && uv->computable && uv->expected_lo > 0 && uv->expected_hi > 0
                    ? (float)(log(d->value_ref / d->net_kg) - 0.5 * (log(uv->expected_lo) + log(uv->expected_hi)))
                    : NAN;
    full[j++] = ratio(d, ER_P_GROSS_KG, d->gross_kg, ER_P_NET_KG, d->net_kg);
    full[j++] = ratio(d, ER_P_NET_KG, d->net_kg, ER_P_PACKAGES, d->packages);
    full[j++] = ratio(d, ER_P_NET_KG, d->net_kg, ER_P_QUANTITY, d->quantity);
    full[j++] = d->present & ER_P_NET_KG ? flog(d->net_kg) : NAN;
    full[j++] = d->present & ER_P_VALUE_REF ? flog(d->value_ref) : NAN;
    full[j++] = d->present & ER_P_QUANTITY ? flog(d->quantity) : NAN;
    full[j++] = d->present & ER_P_PACKAGES ? flog(d->packages) : NAN;
    full[j++] = d->mode ? (float)d->mode : NAN;
    full[j++] = (float)((d->hs[0] - '0') * 10 + (d->hs[1] - '0'));
    full[j++] = (float)((d->hs[0] - '0') * 1000 + (d->hs[1] - '0') * 100 + (d->hs[2] - '0') * 10 + (d->hs[3] - '0'));
    for (size_t k = 0; k < n_num; k++) {
        const char *v = er_decl_extra(d, extra_num[k]);
        char *end;
        double x = v && *v ? strtod(v, &end) : NAN;
        full[j++] = v && *v && *end == '\0' && isfinite(x) ? (float)x : NAN;
    }
    for (; j < l->n; j++)
        full[j] = NAN;
}

void layout_rate_cols(const layout *l, size_t kind, uint32_t n, uint32_t pos, double prior, double m, float *full)
{
    size_t j = l->first_rate + 2 * kind;
    full[j] = (float)(((double)pos + m * prior) / ((double)n + m));
    full[j + 1] = (float)n;
}
