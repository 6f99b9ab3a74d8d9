/*
 * baseline_fixture.h — shared helpers for the statistics unit tests
 * (test_baseline.c, test_anomaly.c): in-memory declarations and a seeded
 * synthetic history, so the baseline can be tested without a feed reader.
 */
#ifndef ECORISK_TEST_BASELINE_FIXTURE_H
#define ECORISK_TEST_BASELINE_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/baseline.h"

/* One declaration; strings point to static or caller-owned storage. */
static inline er_decl fx_decl(const char *hs, int32_t date, double value_ref, double net_kg)
{
    er_decl d;
    memset(&d, 0, sizeof d);
    d.id = "T";
    d.date = date;
    snprintf(d.hs, sizeof d.hs, "%s", hs);
    d.hs_len = (uint8_t)strlen(d.hs);
    if (value_ref >= 0) {
        d.value = d.value_ref = value_ref;
        d.present |= ER_P_VALUE | ER_P_VALUE_REF;
    }
    if (net_kg >= 0) {
        d.net_kg = net_kg;
        d.present |= ER_P_NET_KG;
    }
    return d;
}

static inline uint64_t fx_rng(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double fx_unif(uint64_t *s) { return (double)(fx_rng(s) >> 11) / 9007199254740992.0; }

static inline double fx_normal(uint64_t *s)
{
    double u = fx_unif(s), v = fx_unif(s);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A synthetic history: n rows over a few HS codes, routes and importers,
 * with some missing masses/values and unit errors. Importer names live in
 * names[] (caller provides n_imp * 16 bytes). */
typedef struct fx_hist {
    er_decl *d;
    size_t   n;
    char    *names;
} fx_hist;

static inline fx_hist fx_history(size_t n, uint64_t seed)
{
    static const char *const hs[] = {"290345", "290341", "290349", "290371", "382711", "050710",
                                     "010690", "391590", "030192", "440349", "8549110000", "12"};
    static const char cc[][3] = {"CN", "IN", "US", "DE", "NG", "CM", "HK", "VN", "MY", "BR"};
    const size_t n_imp = 500;
    fx_hist h;
    h.n = n;
    h.d = calloc(n, sizeof *h.d);
    h.names = calloc(n_imp, 16);
    for (size_t i = 0; i < n_imp; i++)
        snprintf(h.names + 16 * i, 16, "IMP%05zu", i);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        size_t k = fx_rng(&s) % (sizeof hs / sizeof hs[0]);
        double mu = 1.0 + (double)k * 0.7;
        double kg = exp(3 + 2 * fx_normal(&s));
        double uv = exp(mu + 0.5 * fx_normal(&s));
        er_decl d = fx_decl(hs[k], 18000 + (int32_t)(fx_rng(&s) % 1500), uv * kg, kg);
        uint64_t r = fx_rng(&s);
        if (r % 50 == 0) d.present &= ~(uint32_t)ER_P_NET_KG;          /* missing mass */
        if (r % 50 == 1) d.value_ref = 0;                               /* zero value */
        if (r % 50 == 2) d.net_kg *= 1000;                              /* grams as kg */
        if (r % 3 == 0) {
            d.packages = (double)(1 + fx_rng(&s) % 40);
            d.present |= ER_P_PACKAGES;
        }
        size_t o = fx_rng(&s) % 10, t = fx_rng(&s) % 4;
        if (fx_rng(&s) % 20) d.origin = ER_CC(cc[o][0], cc[o][1]);
        if (t) d.destination = ER_CC(cc[t][0], cc[t][1]);
        if (fx_rng(&s) % 10) d.importer = h.names + 16 * (fx_rng(&s) % n_imp);
        d.seq = i;
        h.d[i] = d;
    }
    return h;
}

static inline void fx_history_free(fx_hist *h)
{
    free(h->d);
    free(h->names);
}

#endif
