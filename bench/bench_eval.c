/*
 * bench_eval.c — throughput of profile evaluation: loads the shipped packs
 * (wildlife, ODS, waste), builds N synthetic declarations in memory (default
 * 1,000,000; a mix of in-scope and ordinary trade, with descriptions,
 * routes, transit, masses, values and anomaly results) and times one pass of
 * er_eval_run over all of them on one core. Prints declarations per second.
 *   bench_eval [-n N] [-p PROFILES_DIR] [-d DUMP_FILE] [-P PASSES (default 3)]
 * DUMP_FILE receives one description per line, for an awk reference scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecorisk/anomaly.h"
#include "ecorisk/decl.h"
#include "ecorisk/profile.h"
#include "ecorisk/refdata.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t pick(size_t n) { return (size_t)(next() % n); }
static double unif(void) { return (double)(next() >> 11) * 0x1p-53; }

static const char *const hs_common[] = {
    "847130", "870323", "610910", "940360", "300490", "850440", "392690", "620342", "640399", "851712",
    "842139", "730890", "271019", "100630", "090111", "220421", "950300", "401110", "761010", "482010",
    "3004900000", "8517130000", "87032319", "39269097", "84713000", "94036010", "610462", "690890",
    "721049", "848180", "870899", "732690", "330499", "210690", "160414", "030617", "080450", "520942",
};
static const char *const hs_scope[] = {
    "050790", "050710", "010620", "010690", "030192", "030111", "030572", "030812", "030571", "440349",
    "440799", "960190", "290371", "290345", "290377", "382764", "382412", "841510", "841821", "290359",
    "391510", "390110", "390210", "401220", "401110", "854911", "720429", "740400", "847130", "852872",
    "630900", "470790",
};
static const char *const descs[] = {
    "cotton t-shirts, knitted", "laptop computers, new, boxed", "spare parts for motor vehicles",
    "frozen shrimp, peeled", "plastic household articles", "steel structures for buildings",
    "pharmaceutical preparations in doses", "mobile phones and accessories", "wooden furniture for offices",
    "men's trousers of synthetic fibres", "rice, semi-milled", "roasted coffee beans",
    "red wine in bottles of 75 cl", "toys and games", "aluminium window frames", "paper notebooks",
    "ceramic tiles, glazed", "hot-rolled steel sheet", "valves for pipes", "bumpers and parts",
    "cosmetics: lipsticks and creams", "food preparations n.e.s.", "canned tuna in oil", "avocados, fresh",
    "dried pangolin scales for medicine", "animal horns and hooves", "carved bone ornaments",
    "Ivory carvings (antique)", "live reptiles: ball pythons", "ornamental fish, live",
    "live glass eels in water (Anguilla)", "dried fish maw", "dried sea cucumber (bêche-de-mer)",
    "shark fins, dried", "rosewood logs (Dalbergia)", "kosso sawn timber", "tropical wood, rough",
    "refrigerant gas R-22 in disposable cylinders", "HFC-134a refrigerant, 13.6 kg cylinders",
    "R-410A blend, refillable cylinders", "refrigerant gas", "air conditioners, used, R-22 charged",
    "used refrigerators for spare parts", "HFO-1234yf", "ISO tank, empty cylinders",
    "mixed plastic scrap in bales", "polyethylene granules, regrind", "LDPE film, virgin, natural",
    "used tyres, part worn, baled", "new passenger car tyres", "waste lead-acid batteries",
    "ferrous scrap incl. CRT monitors", "copper scrap", "used computers, untested, for parts",
    "second hand clothing in bales", "recovered paper, mixed", "LED television sets, new",
};
static const char *const countries[] = {
    "CN", "US", "DE", "FR", "NL", "BE", "IT", "ES", "GB", "JP", "KR", "VN", "TH", "MY", "ID", "IN",
    "NG", "CM", "GH", "TG", "CD", "KE", "TZ", "MZ", "MG", "ZA", "AE", "QA", "TR", "SG", "HK", "BR",
    "MX", "EC", "PA", "PL", "CZ", "PK", "BD", "LA",
};

static uint16_t cc(const char *s) { return ER_CC(s[0], s[1]); }

int main(int argc, char **argv)
{
    size_t n = 1000000;
    const char *dir = NULL, *dump = NULL;
    int passes = 3;
    int opt;
    while ((opt = getopt(argc, argv, "n:p:d:P:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 'p')
            dir = optarg;
        else if (opt == 'd')
            dump = optarg;
        else if (opt == 'P')
            passes = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_eval [-n N] [-p PROFILES_DIR] [-d DUMP_FILE] [-P PASSES]\n");
            return 64;
        }
    }
    er_err err = {{0}};
    er_refdata *ref = NULL;
    er_profileset *set = NULL;
    er_eval *ev = NULL;
    if (er_refdata_load(&ref, NULL, &err) != ER_OK) {
        fprintf(stderr, "bench_eval: %s\n", err.msg);
        return 1;
    }
    const char *paths[] = {dir ? dir : er_profile_default_dir()};
    er_profile_opts o = {.ref = ref};
    if (er_profileset_load(&set, paths, 1, &o, false, &err) != ER_OK || er_eval_new(&ev, set, &err) != ER_OK) {
        fprintf(stderr, "bench_eval: %s\n", err.msg);
        return 1;
    }
    /* synthetic declarations */
    er_decl *d = calloc(n, sizeof *d);
    char *ids = malloc(n * 24);
    static char importers[1024][16];
    static er_anomalies an[256];
    if (!d || !ids) {
        fprintf(stderr, "bench_eval: out of memory\n");
        return 1;
    }
    for (int i = 0; i < 1024; i++)
        snprintf(importers[i], sizeof importers[i], i < 4 ? "IMP-ODS-%04d" : "IMP-%06d", i);
    for (int i = 0; i < 256; i++) {
        an[i].have_baseline = i % 8 != 0;
        for (int f = 0; f < ER_FEAT_COUNT; f++) {
            an[i].f[f].computable = (next() & 3) != 0;
            an[i].f[f].p = an[i].f[f].computable ? unif() * unif() : 1;
            an[i].f[f].level = ER_LEVEL_HS6;
        }
    }
    int32_t day0;
    er_date_parse("2026-01-01", 10, &day0);
    for (size_t i = 0; i < n; i++) {
        er_decl *x = &d[i];
        char *id = ids + i * 24;
        snprintf(id, 24, "D%013zu", i);
        x->id = id;
        x->date = day0 + (int32_t)pick(300);
        unsigned f = (unsigned)pick(100);
        x->flow = f < 80 ? ER_FLOW_IM : f < 95 ? ER_FLOW_EX : ER_FLOW_TR;
        x->mode = (uint8_t)(1 + pick(6));
        const char *hs = pick(100) < 25 ? hs_scope[pick(sizeof hs_scope / sizeof *hs_scope)]
                                         : hs_common[pick(sizeof hs_common / sizeof *hs_common)];
        x->hs_len = (uint8_t)strlen(hs);
        memcpy(x->hs, hs, x->hs_len + 1u);
        memcpy(x->currency, "USD", 4);
        x->description = descs[pick(sizeof descs / sizeof *descs)];
        size_t nc = sizeof countries / sizeof *countries;
        x->origin = cc(countries[pick(nc)]);
        x->export_country = pick(4) ? x->origin : cc(countries[pick(nc)]);
        x->destination = cc(countries[pick(nc)]);
        if (pick(10) < 3) {
            x->n_transit = (uint8_t)(1 + pick(2));
            for (int t = 0; t < x->n_transit; t++)
                x->transit[t] = cc(countries[pick(nc)]);
        }
        x->importer = importers[pick(1024)];
        x->exporter = "EXP-1";
        x->net_kg = 1 + unif() * unif() * 20000;
        x->gross_kg = x->net_kg * (1 + unif() * (pick(10) ? 0.3 : 5));
        x->quantity = 1 + (double)pick(500);
        x->packages = 1 + (double)pick(200);
        x->value = x->net_kg * (0.1 + unif() * unif() * 200);
        x->value_ref = x->value;
        x->present = ER_P_NET_KG | ER_P_GROSS_KG | ER_P_QUANTITY | ER_P_PACKAGES | ER_P_VALUE | ER_P_VALUE_REF;
        x->seq = i;
        x->line = i + 2;
    }
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f) {
            perror(dump);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\n", d[i].description);
        fclose(f);
    }
    /* warm-up, then one timed pass */
    const er_profile_result *r;
    size_t np = 0;
    for (size_t i = 0; i < n && i < 10000; i++)
        np = er_eval_run(ev, &d[i], &an[i & 255], &r);
    /* three timed passes over all declarations; the best is the figure least
     * disturbed by other processes on a shared machine */
    uint64_t in_scope = 0, alerts = 0, fired = 0;
    double best_wall = 1e30, best_cpu = 1e30, sum_cpu = 0;
    for (int pass = 0; pass < passes; pass++) {
        struct timespec t0, t1, c0, c1;
        in_scope = alerts = fired = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        for (size_t i = 0; i < n; i++) {
            np = er_eval_run(ev, &d[i], &an[i & 255], &r);
            for (size_t k = 0; k < np; k++) {
                in_scope += r[k].in_scope;
                alerts += r[k].alert;
                fired += r[k].fired != 0;
            }
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double w = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        double c = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
        best_wall = w < best_wall ? w : best_wall;
        best_cpu = c < best_cpu ? c : best_cpu;
        sum_cpu += c;
    }
    printf("profiles: %zu (%s)\n", np, paths[0]);
    printf("declarations: %zu; profile results in scope: %llu; alerts: %llu; results with indicators fired: %llu\n", n,
           (unsigned long long)in_scope, (unsigned long long)alerts, (unsigned long long)fired);
    printf("eval (wall, best of %d): %.3f s, %.0f declarations/s\n", passes, best_wall, (double)n / best_wall);
    printf("eval (cpu, one core, best of %d): %.3f s, %.0f declarations/s (%.1f ns per declaration, %.1f ns per profile)\n",
           passes, best_cpu, (double)n / best_cpu, best_cpu * 1e9 / (double)n, best_cpu * 1e9 / (double)n / (double)(np ? np : 1));
    printf("eval (cpu, mean of %d): %.0f declarations/s\n", passes, (double)n * passes / (sum_cpu > 0 ? sum_cpu : 1));
    er_eval_free(ev);
    er_profileset_free(set);
    er_refdata_free(ref);
    free(ids);
    free(d);
    return 0;
}
