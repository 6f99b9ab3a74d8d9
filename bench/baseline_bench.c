/*
 * baseline_bench.c — benchmark helper for the statistics module (driven by
 * bench/baseline.sh):
 *   baseline_bench csv ROWS [SEED]          seeded synthetic history, canonical CSV on stdout
 *   baseline_bench build ROWS [SEED]        in-memory builder throughput (no parsing)
 *   baseline_bench features BASELINE ROWS [SEED]
 *                                           er_anomaly_compute throughput on one core
 * The same generator feeds all three, so the feature benchmark scores
 * declarations shaped like the baseline's history (plus some never-seen
 * importers, routes and codes). Timing uses the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so a busy machine does not distort the rates.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/baseline_impl.h"   /* table sizes for the report */
#include "ecorisk/baseline.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static double normal(void)
{
    double u = unif(), v = unif();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static const char *const CC[] = {"CN", "US", "DE", "IN", "VN", "NG", "CM", "BR", "MY", "TR",
                                 "NL", "BE", "FR", "IT", "JP", "KR", "TH", "ID", "GH", "MG"};
static const char *const CUR[] = {"USD", "EUR", "CNY", "GBP"};
static const double CUR_RATE[] = {1.0, 1.15473, 0.140647, 1.31579};

#define N_HS 3000
#define N_IMP 200000

typedef struct row {
    uint32_t hs;       /* 6 digits */
    int32_t  date;     /* days */
    unsigned imp, exp, orig, dest, cur, pk;
    double   kg, value;
} row;

static uint32_t hs_code(unsigned k)
{
    /* spread codes over chapters 01..97 with a few headings each */
    uint32_t ch = 1 + (k * 7919u) % 97u, hd = (k * 104729u) % 100u, sub = (k * 1299709u) % 100u;
    return ch * 10000u + hd * 100u + sub;
}

static void gen_row(row *r)
{
    /* Zipf-ish product mix: low codes far more frequent */
    unsigned k = (unsigned)(N_HS * pow(unif(), 2.5));
    if (k >= N_HS) k = N_HS - 1;
    r->hs = hs_code(k);
    r->date = 19358 + (int32_t)(rnd() % 730);   /* 2023-01-01 + 2 years */
    r->imp = (unsigned)(N_IMP * pow(unif(), 3.0));
    r->exp = (unsigned)(rnd() % 50000);
    r->orig = (unsigned)((k + (rnd() % 4 ? 0 : rnd() % 20)) % 20);
    r->dest = (unsigned)(rnd() % 5 ? 10 : rnd() % 20);
    r->cur = (unsigned)(rnd() % 4);
    r->kg = exp(5.0 + 1.5 * normal());
    double uv = exp(0.5 + 3.0 * (double)(k % 17) / 17.0 + 0.6 * normal());
    if (rnd() % 200 == 0) uv /= 1000;   /* unit errors / under-valuation */
    r->value = uv * r->kg / CUR_RATE[r->cur];
    r->pk = rnd() % 3 ? (unsigned)(1 + r->kg / 20) : 0;
}

/* CPU time of this thread: on a shared machine wall time mostly measures the
 * neighbours; the rates below are per core of CPU actually used. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void to_decl(const row *r, er_decl *d, char *imp_buf)
{
    memset(d, 0, sizeof *d);
    d->id = "X";
    d->date = r->date;
    snprintf(d->hs, sizeof d->hs, "%06u", (unsigned)r->hs);
    d->hs_len = 6;
    d->origin = ER_CC(CC[r->orig][0], CC[r->orig][1]);
    d->export_country = d->origin;
    d->destination = ER_CC(CC[r->dest][0], CC[r->dest][1]);
    d->net_kg = r->kg;
    d->gross_kg = r->kg * 1.1;
    d->value = r->value;
    d->value_ref = r->value * CUR_RATE[r->cur];
    d->present = ER_P_NET_KG | ER_P_GROSS_KG | ER_P_VALUE | ER_P_VALUE_REF;
    if (r->pk) {
        d->packages = r->pk;
        d->present |= ER_P_PACKAGES;
    }
    snprintf(imp_buf, 16, "IMP%06u", r->imp);
    d->importer = imp_buf;
}

static int cmd_csv(unsigned long long n)
{
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    printf("id,date,flow,declarant,importer,exporter,hs,description,origin,export_country,destination,"
           "transit,mode,office,net_kg,gross_kg,quantity,unit,value,currency,packages,container\n");
    for (unsigned long long i = 0; i < n; i++) {
        row r;
        gen_row(&r);
        char date[11];
        er_date_format(r.date, date);
        printf("D%010llu,%s,IM,DC%03u,IMP%06u,EXP%05u,%06u,goods,%s,%s,%s,,SEA,NLRTM,%.3f,%.3f,,,%.2f,%s,", i,
               date, r.imp % 997, r.imp, r.exp, (unsigned)r.hs, CC[r.orig], CC[r.orig], CC[r.dest], r.kg,
               r.kg * 1.1, r.value, CUR[r.cur]);
        if (r.pk) printf("%u", r.pk);
        printf(",\n");
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_build(unsigned long long n)
{
    er_baseline_builder *b = NULL;
    er_baseline *bl = NULL;
    er_err err = {{0}};
    er_baseline_opts o = {30};
    enum { CH = 8192 };
    row *rows = malloc(CH * sizeof *rows);
    er_decl *d = malloc(CH * sizeof *d);
    char (*imp)[16] = malloc(CH * 16);
    if (!rows || !d || !imp || er_baseline_builder_new(&b, &o, &err) != ER_OK)
        return 1;
    double t_gen = 0, t_add = 0, t0;
    for (unsigned long long done = 0; done < n;) {
        size_t m = n - done < CH ? (size_t)(n - done) : CH;
        t0 = now();
        for (size_t i = 0; i < m; i++) {
            gen_row(&rows[i]);
            to_decl(&rows[i], &d[i], imp[i]);
        }
        t_gen += now() - t0;
        t0 = now();
        if (er_baseline_builder_add_batch(b, d, m, &err) != ER_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t_add += now() - t0;
        done += m;
    }
    t0 = now();
    if (er_baseline_builder_finish(b, &bl, &err) != ER_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_fin = now() - t0;
    printf("builder: %llu rows added in %.3f s = %.2f M rows/s (finish %.3f s; generation %.3f s not counted;"
           " %zu groups, %zu routes, %zu first-seen entries)\n",
           n, t_add, n / t_add / 1e6, t_fin, t_gen, bl->gs.n, bl->n_rs, bl->n_ts);
    er_baseline_free(bl);
    er_baseline_builder_free(b);
    free(rows);
    free(d);
    free(imp);
    return 0;
}

/* Declarations are generated in batches of 8192 and scored right after, as
 * in the pipeline (a batch is parsed, then scored while it is in cache);
 * only the scoring is timed. Even batches go through er_anomaly_compute one
 * declaration at a time, odd batches through er_anomaly_compute_batch. */
static int cmd_features(const char *path, unsigned long long n)
{
    er_baseline *bl = NULL;
    er_err err = {{0}};
    double t0 = now();
    if (er_baseline_load(&bl, path, &err) != ER_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_load = now() - t0;
    enum { CH = 8192 };
    er_decl *d = malloc(CH * sizeof *d);
    char (*imp)[16] = malloc(CH * 16);
    er_anomalies *ab = malloc(CH * sizeof *ab);
    if (!d || !imp || !ab)
        return 1;
    double sum = 0, t[2] = {0, 0};
    unsigned long long computable = 0, cnt[2] = {0, 0};
    for (unsigned long long done = 0, k = 0; done < n; k++) {
        size_t m = n - done < CH ? (size_t)(n - done) : CH;
        for (size_t i = 0; i < m; i++) {
            row r;
            gen_row(&r);
            if ((done + i) % 50 == 0) r.imp += N_IMP;   /* never-seen importer */
            if ((done + i) % 97 == 0) r.hs = 999999;     /* unknown code: fallback to all */
            to_decl(&r, &d[i], imp[i]);
        }
        t0 = now();
        if (k % 2 == 0)
            for (size_t i = 0; i < m; i++)
                er_anomaly_compute(bl, &d[i], &ab[i]);
        else
            er_anomaly_compute_batch(bl, d, m, ab);
        t[k % 2] += now() - t0;
        cnt[k % 2] += m;
        for (size_t i = 0; i < m; i++) {
            sum += er_anomaly_fisher_p(&ab[i]);
            computable += ab[i].n_computable;
        }
        done += m;
    }
    printf("features: %llu declarations, %.2f features computable per declaration, mean Fisher p %.4f "
           "(baseline load %.3f s)\n", n, (double)computable / n, sum / n, t_load);
    printf("features, er_anomaly_compute:       %.2f M/s on one core\n", cnt[0] / t[0] / 1e6);
    if (cnt[1])
        printf("features, er_anomaly_compute_batch: %.2f M/s on one core\n", cnt[1] / t[1] / 1e6);
    free(d);
    free(imp);
    free(ab);
    er_baseline_free(bl);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: baseline_bench csv ROWS [SEED] | build ROWS [SEED] | features BASELINE ROWS [SEED]\n");
        return 2;
    }
    if (strcmp(argv[1], "features") == 0) {
        if (argc < 4) return 2;
        rng_state = argc > 4 ? strtoull(argv[4], NULL, 10) : 2;
        return cmd_features(argv[2], strtoull(argv[3], NULL, 10));
    }
    unsigned long long n = strtoull(argv[2], NULL, 10);
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    if (strcmp(argv[1], "csv") == 0) return cmd_csv(n);
    if (strcmp(argv[1], "build") == 0) return cmd_build(n);
    fprintf(stderr, "unknown mode '%s'\n", argv[1]);
    return 2;
}
