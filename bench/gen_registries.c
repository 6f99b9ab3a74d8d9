/*
 * gen_registries.c — document registries for a declarations CSV, with planted
 * document fraud, for the detection benchmark (bench/registries.sh,
 * docs/registries.md "Benchmark"). Reads the canonical CSV gen_declarations
 * writes and writes into OUT:
 *   cites-permits.csv   a permit for each CITES-scope declaration (its parties,
 *                       HS, mass, a validity around its date)
 *   ods-licences.csv    a licence per trader, flow and year for bulk ODS/HFC
 *                       (HS 290314, 29034, 290361, 29037, 3827), quota 125% of what the trader declares
 *   basel-consents.csv  a consent per exporter-importer pair for waste, 120%
 *   declarations.csv    the input with permits, licences, consents columns
 *   labels.csv          id,pattern for every planted declaration
 * Planted patterns: permit_reuse (a CITES declaration cites the permit an earlier
 * one used up), quota_overrun (a share of ODS traders get a quota of 60% of
 * what they declare: every declaration past the quota is labelled) and
 * missing_consent (a waste declaration cites no consent). Deterministic: the
 * same input, options and seed give byte-identical output. Two passes over the
 * input (quota totals first), memory per trader and pair only.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_int.h"

static const char *const CITES_HS[] = {"0106", "030192", "030571", "030572", "030781", "030811", "0507", "060290",
                                       "4103", "4113", "4301", "4303", "440349", "440729", "9601", NULL};
/* controlled ODS/HFC in bulk: the licence pack's scope (not HFOs, 290351, nor other 2903) */
static const char *const ODS_HS[] = {"290314", "29034", "290361", "29037", "3827", NULL};
static const char *const WASTE_HS[] = {"3825", "3915", "4004", "4012", "6309", "7204", "7404", "7602", "8548", "8549",
                                       NULL};

static uint64_t rng_state;
static double urand(void)   /* splitmix64 → [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static bool has_prefix(const char *hs, const char *const *v)
{
    for (; *v; v++)
        if (strncmp(hs, *v, strlen(*v)) == 0)
            return true;
    return false;
}

/* Split one CSV line in place (RFC 4180 quotes, no embedded newlines). */
static size_t split(char *s, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        char *w = s;
        f[n++] = s;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    break;
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s++;
                }
            }
        }
        while (*s && *s != ',')
            *w++ = *s++;
        char c = *s;
        *w = '\0';
        if (c != ',')
            break;
        s++;
    }
    return n;
}

typedef struct col { int id, date, flow, importer, exporter, hs, exc, dest, net, transit; } col;

typedef struct acc {
    smap    idx;
    double *total, *cum;
    char  **name;
    char  (*transit)[3 * 8];   /* consents: transit countries seen for the pair, ';'-separated */
    size_t  n, cap;
} acc;

static long acc_get(acc *a, const char *key)
{
    long i = smap_get(&a->idx, key, strlen(key));
    if (i >= 0)
        return i;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->total = realloc(a->total, a->cap * sizeof *a->total);
        a->cum = realloc(a->cum, a->cap * sizeof *a->cum);
        a->name = realloc(a->name, a->cap * sizeof *a->name);
        a->transit = realloc(a->transit, a->cap * sizeof *a->transit);
        if (!a->total || !a->cum || !a->name || !a->transit)
            return -1;
    }
    a->total[a->n] = a->cum[a->n] = 0;
    a->transit[a->n][0] = '\0';
    a->name[a->n] = strdup(key);
    if (!a->name[a->n] || !smap_put(&a->idx, key, strlen(key), (uint32_t)a->n))
        return -1;
    return (long)a->n++;
}

static void acc_free(acc *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->name[i]);
    free(a->name);
    free(a->total);
    free(a->cum);
    free(a->transit);
    smap_free(&a->idx);
}

static FILE *openw(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        fprintf(stderr, "gen_registries: %s: %s\n", p, strerror(errno));
        exit(1);
    }
    return f;
}

static void usage(void)
{
    fputs("Usage: gen_registries --in DECLARATIONS.csv --out DIR [options]\n\n"
          "Writes CITES permits, ODS/HFC licences and Basel consents matching the declarations of a\n"
          "canonical CSV (as gen_declarations writes it), the declarations again with permits,\n"
          "licences and consents columns citing them, and labels.csv (id,pattern) for the planted\n"
          "document fraud. Deterministic.\n\n"
          "Options:\n"
          "  --seed N             random seed (default 1)\n"
          "  --reuse-rate R       share of CITES declarations citing an already used permit (default 0.05)\n"
          "  --overrun-share R    share of ODS traders whose quota is 60% of their imports (default 0.1)\n"
          "  --missing-rate R     share of waste declarations citing no consent (default 0.05)\n",
          stdout);
}

static int year_of(const char *date)
{
    return atoi(date);
}

static bool header(char *line, col *c)
{
    char *f[64];
    size_t n = split(line, f, 64);
    int *slot[] = {&c->id, &c->date, &c->flow, &c->importer, &c->exporter, &c->hs, &c->exc, &c->dest, &c->net,
                   &c->transit};
    const char *names[] = {"id", "date", "flow", "importer", "exporter", "hs", "export_country", "destination", "net_kg",
                           "transit"};
    for (size_t k = 0; k < 10; k++) {
        *slot[k] = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i], names[k]) == 0)
                *slot[k] = (int)i;
        if (*slot[k] < 0) {
            fprintf(stderr, "gen_registries: the header has no column '%s'\n", names[k]);
            return false;
        }
    }
    return true;
}

static const char *trader_key(char **f, const col *c, char *buf, size_t cap)
{
    bool ex = strcmp(f[c->flow], "EX") == 0;
    snprintf(buf, cap, "%s|%s|%d", ex ? "EX" : "IM", ex ? f[c->exporter] : f[c->importer], year_of(f[c->date]));
    return buf;
}

typedef struct gen {
    const char *in, *out;
    double      reuse, overrun, missing;
    uint64_t    seed;
    col         c;
    acc         lic, pair;       /* ODS trader-flow-year totals; waste exporter-importer totals */
    double     *quota;
    FILE       *fp, *fl, *fc, *fd, *fb;
    char        ring[64][32];    /* recent permits, for reuse */
    size_t      n_ring, n_permits;
    uint64_t    planted[3];
} gen;

static int parse_args(gen *g, int argc, char **argv)
{
    g->reuse = 0.05;
    g->overrun = 0.1;
    g->missing = 0.05;
    g->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        }
        if (!v) {
            fprintf(stderr, "gen_registries: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--in"))
            g->in = v;
        else if (!strcmp(a, "--out"))
            g->out = v;
        else if (!strcmp(a, "--seed"))
            g->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--reuse-rate"))
            g->reuse = atof(v);
        else if (!strcmp(a, "--overrun-share"))
            g->overrun = atof(v);
        else if (!strcmp(a, "--missing-rate"))
            g->missing = atof(v);
        else {
            fprintf(stderr, "gen_registries: unknown option %s (see --help)\n", a);
            return 2;
        }
    }
    if (!g->in || !g->out) {
        usage();
        return 2;
    }
    return -1;
}

static void add_transit(acc *pair, long i, const char *t)
{
    /* every transit country the pair uses goes into its consent */
    for (; *t; t++) {
        if (!isalpha((unsigned char)t[0]) || !isalpha((unsigned char)t[1]))
            continue;
        char cc[3] = {t[0], t[1], 0};
        char *tr = pair->transit[i];
        if (!strstr(tr, cc) && strlen(tr) + 3 < sizeof pair->transit[i])
            snprintf(tr + strlen(tr), sizeof pair->transit[i] - strlen(tr), "%s%s", tr[0] ? ";" : "", cc);
        t++;
    }
}

/* Pass 1: ODS totals per trader-flow-year, waste totals per exporter-importer pair. */
static bool pass1(gen *g, FILE *fi)
{
    char *line = NULL, *f[64], key[512];
    size_t cap = 0;
    bool ok = getline(&line, &cap, fi) > 0 && (line[strcspn(line, "\r\n")] = '\0', header(line, &g->c));
    const col *c = &g->c;
    while (ok && getline(&line, &cap, fi) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = split(line, f, 64);
        if ((int)n <= c->net || !f[c->net][0])
            continue;
        double kg = atof(f[c->net]);
        if (has_prefix(f[c->hs], ODS_HS) && strcmp(f[c->flow], "TR") != 0) {   /* licences: imports, exports */
            long i = acc_get(&g->lic, trader_key(f, c, key, sizeof key));
            ok = i >= 0;
            if (ok)
                g->lic.total[i] += kg;
        } else if (has_prefix(f[c->hs], WASTE_HS)) {
            snprintf(key, sizeof key, "%s|%s", f[c->exporter], f[c->importer]);
            long i = acc_get(&g->pair, key);
            ok = i >= 0;
            if (ok) {
                g->pair.total[i] += kg;
                add_transit(&g->pair, i, f[c->transit]);
            }
        }
    }
    free(line);
    return ok;
}

/* Licences (a share of traders, chosen by a hash of the name, overrun) and consents. */
static bool write_registries(gen *g)
{
    g->fp = openw(g->out, "cites-permits.csv");
    g->fl = openw(g->out, "ods-licences.csv");
    g->fc = openw(g->out, "basel-consents.csv");
    g->fd = openw(g->out, "declarations.csv");
    g->fb = openw(g->out, "labels.csv");
    fputs("# generated by bench/gen_registries (synthetic)\n", g->fp);
    fputs("number,type,issuing_country,exporter,importer,appendix,hs,quantity,unit,valid_from,valid_until\n", g->fp);
    fputs("# generated by bench/gen_registries (synthetic)\nnumber,year,trader,flow,quantity_kg\n", g->fl);
    fputs("# generated by bench/gen_registries (synthetic)\n", g->fc);
    fputs("number,exporter,importer,transit,waste_code,quantity_kg,valid_from,valid_until\n", g->fc);
    fputs("id,pattern\n", g->fb);
    acc *lic = &g->lic, *pair = &g->pair;
    if (!(g->quota = calloc(lic->n ? lic->n : 1, sizeof *g->quota)))
        return false;
    for (size_t i = 0; i < lic->n; i++) {
        rng_state = er_hash64(lic->name[i], strlen(lic->name[i]), g->seed);
        bool over = urand() < g->overrun;
        g->quota[i] = round(lic->total[i] * (over ? 0.6 : 1.25) + 1);
        char *p1 = strchr(lic->name[i], '|'), *p2 = strrchr(lic->name[i], '|');
        fprintf(g->fl, "BL-%zu,%s,\"%.*s\",%.2s,%.0f\n", i, p2 + 1, (int)(p2 - p1 - 1), p1 + 1, lic->name[i],
                g->quota[i]);
    }
    for (size_t i = 0; i < pair->n; i++) {
        char *p = strchr(pair->name[i], '|');
        fprintf(g->fc, "BC-%zu,\"%.*s\",\"%s\",%s,A1180,%.0f,2000-01-01,2100-12-31\n", i, (int)(p - pair->name[i]),
                pair->name[i], p + 1, pair->transit[i], round(pair->total[i] * 1.2 + 1));
    }
    return true;
}

/* One declaration of pass 2: the documents it cites (pno, lno, cno) and its label, if planted. */
static const char *cite(gen *g, char **f, char *pno, char *lno, char *cno)
{
    const col *c = &g->c;
    char key[512];
    double kg = atof(f[c->net]);
    if (has_prefix(f[c->hs], CITES_HS)) {
        if (g->n_ring && urand() < g->reuse) {
            size_t live = g->n_ring < 64 ? g->n_ring : 64;
            snprintf(pno, 32, "%s", g->ring[(size_t)(urand() * (double)live)]);
            g->planted[0]++;
            return "permit_reuse";
        }
        bool ex = strcmp(f[c->flow], "EX") == 0;
        int y = year_of(f[c->date]);
        snprintf(pno, 32, "BP-%zu", g->n_permits++);
        fprintf(g->fp, "%s,%s,%s,\"%s\",\"%s\",II,%s,%.3f,kg,%d-01-01,%d-12-31\n", pno, ex ? "export" : "import",
                ex ? f[c->exc] : f[c->dest], f[c->exporter], f[c->importer], f[c->hs], kg, y, y + 1);
        snprintf(g->ring[g->n_ring++ % 64], sizeof g->ring[0], "%s", pno);
    } else if (has_prefix(f[c->hs], ODS_HS) && strcmp(f[c->flow], "TR") != 0) {
        long i = acc_get(&g->lic, trader_key(f, c, key, sizeof key));
        snprintf(lno, 32, "BL-%ld", i);
        g->lic.cum[i] += kg;
        if (g->lic.cum[i] > g->quota[i]) {
            g->planted[1]++;
            return "quota_overrun";
        }
    } else if (has_prefix(f[c->hs], WASTE_HS)) {
        if (urand() < g->missing) {
            g->planted[2]++;
            return "missing_consent";
        }
        snprintf(key, sizeof key, "%s|%s", f[c->exporter], f[c->importer]);
        snprintf(cno, 32, "BC-%ld", acc_get(&g->pair, key));
    }
    return NULL;
}

/* Pass 2: the declarations again, with the documents they cite, and the labels. */
static void pass2(gen *g, FILE *fi)
{
    char *line = NULL, *copy = NULL, *f[64];
    size_t cap = 0, ccap = 0;
    ssize_t len;
    rewind(fi);
    rng_state = g->seed;
    if (getline(&line, &cap, fi) <= 0)
        return;
    line[strcspn(line, "\r\n")] = '\0';
    fprintf(g->fd, "%s,permits,licences,consents\n", line);
    while ((len = getline(&line, &cap, fi)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if ((size_t)len + 1 > ccap) {
            ccap = (size_t)len + 1;
            if (!(copy = realloc(copy, ccap)))
                abort();
        }
        strcpy(copy, line);
        size_t n = split(copy, f, 64);
        char pno[32] = "", lno[32] = "", cno[32] = "";
        const char *label = (int)n > g->c.net && f[g->c.net][0] ? cite(g, f, pno, lno, cno) : NULL;
        fprintf(g->fd, "%s,%s,%s,%s\n", line, pno, lno, cno);
        if (label)
            fprintf(g->fb, "%s,%s\n", f[g->c.id], label);
    }
    free(line);
    free(copy);
}

int main(int argc, char **argv)
{
    gen g = {0};
    int rc = parse_args(&g, argc, argv);
    if (rc >= 0)
        return rc;
    FILE *fi = fopen(g.in, "r");
    if (!fi) {
        fprintf(stderr, "gen_registries: %s: %s\n", g.in, strerror(errno));
        return 1;
    }
    if (!pass1(&g, fi) || !write_registries(&g)) {
        fprintf(stderr, "gen_registries: %s: unreadable header or out of memory\n", g.in);
        fclose(fi);
        acc_free(&g.pair);
        acc_free(&g.lic);
        return 1;
    }
    pass2(&g, fi);
    fprintf(stderr, "gen_registries: %zu permits, %zu licences, %zu consents; planted %llu permit_reuse, "
            "%llu quota_overrun, %llu missing_consent\n", g.n_permits, g.lic.n, g.pair.n,
            (unsigned long long)g.planted[0], (unsigned long long)g.planted[1], (unsigned long long)g.planted[2]);
    int bad = ferror(g.fp) || ferror(g.fl) || ferror(g.fc) || ferror(g.fd) || ferror(g.fb) || ferror(fi);
    bad |= fclose(g.fp) | fclose(g.fl) | fclose(g.fc) | fclose(g.fd) | fclose(g.fb);
    fclose(fi);
    free(g.quota);
    acc_free(&g.pair);
    acc_free(&g.lic);
    return bad ? 1 : 0;
}
