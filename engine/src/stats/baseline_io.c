/*
 * baseline_io.c — the baseline JSON file (the binary form: baseline_bin.c), written
 * canonically (sorted keys, groups in level/code order, integers exact,
 * 128-bit sums as decimal strings, derived floats as %.17g) so the same
 * content always gives the same bytes, and a loader that checks the format
 * version and every field, failing with the file and JSON path instead of
 * crashing on corrupt input. The loader is table-driven: DOC_FIELDS lists the
 * top-level fields and GROUP_FIELDS a group's (JSON key, type, destination,
 * bound, which levels carry it, the check that follows), read in table order.
 * The baseline id is a hash of the canonical text.
 */
#include "stats/baseline_impl.h"
#include "core/bigmem.h"
#include "core/sbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

/* ---- output: the JSON text in a core string buffer (core/sbuf.h) ---- */

static void ob_u64(er_sb *b, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    er_sb_put(b, tmp + i, (size_t)(23 - i));
}

static void ob_i128(er_sb *b, i128 v)
{
    char tmp[48];
    int i = 47;
    tmp[i] = '\0';
    bool neg = v < 0;
    /* Work on the negative side so INT128_MIN needs no special case. */
    i128 x = neg ? v : -v;
    do {
        tmp[--i] = (char)('0' - (int)(x % 10));
        x /= 10;
    } while (x);
    if (neg)
        tmp[--i] = '-';
    er_sb_put(b, "\"", 1);
    er_sb_put(b, tmp + i, (size_t)(47 - i));
    er_sb_put(b, "\"", 1);
}

static void ob_dbl(er_sb *b, double v)
{
    char tmp[40];
    if (!isfinite(v))
        v = 0;   /* never NaN/inf in a file */
    int k = snprintf(tmp, sizeof tmp, "%.17g", v);
    er_sb_put(b, tmp, (size_t)k);
}

static void ob_date(er_sb *b, int32_t days)
{
    char d[11];
    er_date_format(days, d);
    er_sb_put(b, "\"", 1);
    er_sb_puts(b, d);
    er_sb_put(b, "\"", 1);
}

static const char *level_name(int lv)
{
    return er_level_str((er_level)lv);
}

static void ob_mv(er_sb *b, const char *name, const mv_sums *m, int k)
{
    er_sb_puts(b, ",\"");
    er_sb_puts(b, name);
    er_sb_puts(b, "\":{\"c\":[");
    for (int i = 0; i < k * (k + 1) / 2; i++) {
        if (i) er_sb_put(b, ",", 1);
        ob_i128(b, m->c[i]);
    }
    er_sb_puts(b, "],\"n\":");
    ob_u64(b, m->n);
    er_sb_puts(b, ",\"s\":[");
    for (int i = 0; i < k; i++) {
        if (i) er_sb_put(b, ",", 1);
        ob_i128(b, m->s[i]);
    }
    er_sb_puts(b, "]}");
}

static void ob_group(er_sb *b, const er_baseline *bl, const group *g)
{
    char key[11];
    er_bl_group_key(g, key);
    er_sb_puts(b, "{\"code\":\"");
    er_sb_puts(b, key);
    /* compact: "bin:count bin:count ..." (bins increasing) */
    er_sb_puts(b, "\",\"hist\":\"");
    bool first = true;
    for (size_t i = 0; i < HIST_BINS; i++) {
        if (g->hist[i] == 0)
            continue;
        if (!first) er_sb_put(b, " ", 1);
        first = false;
        ob_u64(b, i);
        er_sb_put(b, ":", 1);
        ob_u64(b, (uint64_t)g->hist[i]);
    }
    er_sb_put(b, "\"", 1);
    if (g->level == LV_HS2 || g->level == LV_ALL) {
        er_sb_puts(b, ",\"imp_rows\":");
        ob_u64(b, g->imp_rows);
    }
    er_sb_puts(b, ",\"level\":\"");
    er_sb_puts(b, level_name(g->level));
    er_sb_put(b, "\"", 1);
    if (g->level != LV_HS6) {
        ob_mv(b, "mv2", &g->mv2, 2);
        ob_mv(b, "mv3", &g->mv3, 3);
    }
    er_sb_puts(b, ",\"n\":");
    ob_u64(b, g->n);
    if (g->level != LV_HS6) {
        er_sb_puts(b, ",\"route_n\":");
        ob_u64(b, g->route_n);
        /* compact: "CN>US:25 DE>US:10 FR>:1" (origin > destination, sorted) */
        er_sb_puts(b, ",\"routes\":\"");
        for (size_t i = 0; i < g->r_len; i++) {
            const route_ent *r = &bl->rs[g->r_off + i];
            uint16_t o = (uint16_t)(r->key >> 16), d = (uint16_t)r->key;
            char e[8];
            int k = 0;
            if (i) e[k++] = ' ';
            e[k++] = ER_CC_A(o);
            e[k++] = ER_CC_B(o);
            e[k++] = '>';
            if (d) {
                e[k++] = ER_CC_A(d);
                e[k++] = ER_CC_B(d);
            }
            e[k++] = ':';
            er_sb_put(b, e, (size_t)k);
            ob_u64(b, r->count);
        }
        er_sb_put(b, "\"", 1);
    }
    er_sb_puts(b, ",\"rows\":");
    ob_u64(b, g->rows);
    er_sb_puts(b, ",\"s\":");
    ob_i128(b, g->s);
    er_sb_puts(b, ",\"ss\":");
    ob_i128(b, g->ss);
    /* Informational: recomputed from the sums and the histogram on load. */
    er_sb_puts(b, ",\"summary\":{\"mad\":");
    ob_dbl(b, g->mad);
    er_sb_puts(b, ",\"mean\":");
    ob_dbl(b, g->mean);
    er_sb_puts(b, ",\"median\":");
    ob_dbl(b, g->median);
    static const char *const pn[N_PCT] = {"p01", "p05", "p25", NULL, "p75", "p95", "p99"};
    for (int i = 0; i < N_PCT; i++) {
        if (!pn[i])
            continue;
        er_sb_puts(b, ",\"");
        er_sb_puts(b, pn[i]);
        er_sb_puts(b, "\":");
        ob_dbl(b, g->pct[i]);
    }
    er_sb_puts(b, ",\"scale\":");
    ob_dbl(b, g->scale);
    er_sb_puts(b, ",\"sd\":");
    ob_dbl(b, g->sd);
    er_sb_puts(b, "}}");
}

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The groups in canonical order (ALL, then HS2, HS4 and HS6, each by code) as
 * keys rank<<52 | code<<32 | index; NULL when out of memory. Groups loaded
 * from a file are usually in that order already, so the sort is skipped. */
static uint64_t *group_order(const group_set *gs)
{
    uint64_t *k = malloc((gs->n ? gs->n : 1) * sizeof *k);
    if (!k)
        return NULL;
    bool sorted = true;
    for (size_t i = 0; i < gs->n; i++) {
        const group *g = &gs->g[i];
        k[i] = (uint64_t)(LV_ALL - g->level) << 52 | (uint64_t)g->code << 32 | i;
        if (i && k[i] < k[i - 1])
            sorted = false;
    }
    if (!sorted)
        qsort(k, gs->n, sizeof *k, cmp_key);
    return k;
}

char *er_bl_serialize(const er_baseline *bl, size_t *len, const char *id)
{
    er_sb b = {0};
    uint64_t *order = group_order(&bl->gs);
    if (!order)
        return NULL;
    /* size estimate (one allocation for typical content): group ~2 KiB, route
     * ~16 bytes, first-seen entry 40 bytes */
    er_sb_reserve(&b, (1 << 16) + bl->gs.n * 2048 + bl->n_rs * 16 + bl->n_ts * 40);
    er_sb_puts(&b, "{\"date_max\":");
    if (bl->rows) ob_date(&b, bl->date_max); else er_sb_puts(&b, "null");
    er_sb_puts(&b, ",\"date_min\":");
    if (bl->rows) ob_date(&b, bl->date_min); else er_sb_puts(&b, "null");
    er_sb_puts(&b, ",\"format\":");
    ob_u64(&b, ER_BASELINE_FORMAT);
    er_sb_puts(&b, ",\"groups\":[");
    for (size_t i = 0; i < bl->gs.n; i++) {
        er_sb_puts(&b, i ? ",\n" : "\n");
        ob_group(&b, bl, &bl->gs.g[(uint32_t)order[i]]);
    }
    free(order);
    er_sb_puts(&b, "\n],\"hist\":{\"bins\":");
    ob_u64(&b, HIST_BINS);
    er_sb_puts(&b, ",\"lo\":");
    ob_dbl(&b, HIST_LO);
    er_sb_puts(&b, ",\"width\":");
    ob_dbl(&b, HIST_W);
    er_sb_puts(&b, "},\"id\":\"");
    er_sb_puts(&b, id);
    er_sb_puts(&b, "\",\"kind\":\"ecorisk-baseline\",\"min_group\":");
    ob_u64(&b, bl->min_group);
    er_sb_puts(&b, ",\"qscale\":");
    ob_u64(&b, (uint64_t)QSCALE);
    er_sb_puts(&b, ",\"rows\":");
    ob_u64(&b, bl->rows);
    /* compact, per chapter: "hash:YYYY-MM-DD:count ..." (hashes increasing) */
    er_sb_puts(&b, ",\"traders\":{");
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < bl->n_ts; i++) {
        const trader_ent *t = &bl->ts[i];
        char e[72];
        int k = 0;
        if (i == 0 || bl->ts[i - 1].ch != t->ch) {
            if (i) {
                e[k++] = '"';
                e[k++] = ',';
            }
            e[k++] = '\n';
            e[k++] = '"';
            e[k++] = (char)('0' + t->ch / 10);
            e[k++] = (char)('0' + t->ch % 10);
            e[k++] = '"';
            e[k++] = ':';
            e[k++] = '"';
        } else {
            e[k++] = ' ';
        }
        for (int sh = 60; sh >= 0; sh -= 4)
            e[k++] = hx[(t->h >> sh) & 15];
        e[k++] = ':';
        char d[11];
        er_date_format(t->date, d);
        memcpy(e + k, d, 10);
        k += 10;
        char dg[20];
        int nd = 0;
        for (uint64_t v = t->n; nd == 0 || v; v /= 10)
            dg[nd++] = (char)('0' + v % 10);
        e[k++] = ':';
        while (nd)
            e[k++] = dg[--nd];
        er_sb_put(&b, e, (size_t)k);
    }
    er_sb_puts(&b, bl->n_ts ? "\"\n}}\n" : "}}\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* 128-bit content hash (MurmurHash3 x64-style, two lanes over 16-byte blocks,
 * little-endian reads so the id is the same on every platform). */
static void content_hash(const char *p, size_t n, uint64_t *o1, uint64_t *o2)
{
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0x9368e53c2f6af274ULL, h2 = 0x586dcd208f7cd3fdULL;
    size_t nb = n / 16;
    for (size_t i = 0; i < nb; i++) {
        uint64_t k1, k2;
        memcpy(&k1, p + 16 * i, 8);
        memcpy(&k2, p + 16 * i + 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        k1 = __builtin_bswap64(k1);
        k2 = __builtin_bswap64(k2);
#endif
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    uint64_t k1 = 0, k2 = 0;
    const unsigned char *t = (const unsigned char *)p + 16 * nb;
    size_t r = n & 15;
    for (size_t i = 0; i < r; i++) {
        if (i < 8) k1 |= (uint64_t)t[i] << (8 * i);
        else k2 |= (uint64_t)t[i] << (8 * (i - 8));
    }
    k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
    h1 ^= (uint64_t)n;
    h2 ^= (uint64_t)n;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    *o1 = h1;
    *o2 = h2;
}

#define ZERO_ID_LIT "00000000000000000000000000000000"
static const char ZERO_ID[] = ZERO_ID_LIT;

void er_bl_text_id(const char *txt, size_t len, char id[33])
{
    uint64_t h1, h2;
    content_hash(txt, len, &h1, &h2);
    snprintf(id, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

/* The canonical text with a zero id, its content hash (the canonical id) and
 * the offset of the id in it; NULL when out of memory. */
static char *canonical_text(const er_baseline *bl, size_t *len, size_t *id_off, char id[33])
{
    char *txt = er_bl_serialize(bl, len, ZERO_ID);
    if (!txt)
        return NULL;
    er_bl_text_id(txt, *len, id);
    /* the id is the only "id" key of the document, at top level */
    const char *idp = strstr(txt, "},\"id\":\"" ZERO_ID_LIT "\"");
    *id_off = idp ? (size_t)(idp - txt) + 8 : *len;
    return txt;
}

er_status er_bl_hash(er_baseline *bl, bool keep_text, er_err *err)
{
    size_t len = 0, id_off = 0;
    free(bl->text);
    bl->text = NULL;
    char *txt = canonical_text(bl, &len, &id_off, bl->id);
    if (!txt)
        return er_errf(err, ER_ENOMEM, "out of memory serialising the baseline");
    if (keep_text && id_off < len) {
        bl->text = txt;
        bl->text_len = len;
        bl->text_id_off = id_off;
        return ER_OK;
    }
    free(txt);
    return ER_OK;
}

/* txt with the 32 characters at id_off replaced by id (id_off == len: none). */
static bool write_parts(FILE *f, const char *txt, size_t len, size_t id_off, const char *id)
{
    if (id_off >= len)
        return fwrite(txt, 1, len, f) == len;
    return fwrite(txt, 1, id_off, f) == id_off && fwrite(id, 1, 32, f) == 32 &&
           fwrite(txt + id_off + 32, 1, len - id_off - 32, f) == len - id_off - 32;
}

er_status er_baseline_format_parse(const char *s, er_baseline_format *fmt)
{
    if (!s || strcmp(s, "auto") == 0) *fmt = ER_BASELINE_AUTO;
    else if (strcmp(s, "json") == 0) *fmt = ER_BASELINE_JSON;
    else if (strcmp(s, "bin") == 0) *fmt = ER_BASELINE_BIN;
    else return ER_EINVAL;
    return ER_OK;
}

er_status er_baseline_save(const er_baseline *bl, const char *path, er_err *err)
{
    return er_baseline_save_as(bl, path, ER_BASELINE_AUTO, err);
}

er_status er_baseline_save_as(const er_baseline *bl, const char *path, er_baseline_format fmt, er_err *err)
{
    size_t pl = strlen(path);
    if (fmt == ER_BASELINE_BIN || (fmt == ER_BASELINE_AUTO && pl > 4 && strcmp(path + pl - 4, ".bin") == 0))
        return er_bl_save_bin(bl, path, err);
    /* The canonical text kept from the build or merge is written around its
     * zero id (three parts, no copy); otherwise serialise now, with the id
     * hashed from that text: a loaded file that was not canonical but carried
     * the hash of its own text (see er_baseline_load) is written in canonical
     * form under its canonical id, so what is saved always loads. */
    size_t len = 0, id_off = 0;
    char *own = NULL;
    char canon_id[33];
    const char *txt = bl->text, *id = bl->id;
    if (txt) {
        len = bl->text_len;
        id_off = bl->text_id_off;
    } else {
        own = canonical_text(bl, &len, &id_off, canon_id);
        if (!own)
            return er_errf(err, ER_ENOMEM, "out of memory serialising the baseline");
        txt = own;
        id = canon_id;
    }
    er_status st = er_bl_write_file(path, txt, len, id_off, id, err);
    free(own);
    return st;
}

er_status er_bl_write_file(const char *path, const char *txt, size_t len, size_t id_off, const char *id,
                           er_err *err)
{
    char *tmp = NULL;
    FILE *f = NULL;
    er_status st = ER_OK;
    if (strcmp(path, "-") == 0) {
        if (!write_parts(stdout, txt, len, id_off, id) || fflush(stdout) != 0)
            st = er_errf(err, ER_EIO, "<stdout>: cannot write the baseline: %s", strerror(errno));
        goto cleanup;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* A device or FIFO (/dev/null, a pipe): write in place, never rename over it. */
        f = fopen(path, "wb");
        if (!f) {
            st = er_errf(err, ER_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
            goto cleanup;
        }
        bool wr = write_parts(f, txt, len, id_off, id);
        if (fclose(f) != 0 || !wr)
            st = er_errf(err, ER_EIO, "%s: cannot write: %s", path, strerror(errno));
        f = NULL;
        goto cleanup;
    }
    size_t pl = strlen(path) + 32;
    tmp = malloc(pl);
    if (!tmp) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    snprintf(tmp, pl, "%s.tmp.%ld", path, (long)getpid());
    f = fopen(tmp, "wb");
    if (!f) {
        st = er_errf(err, ER_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (!write_parts(f, txt, len, id_off, id) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        st = er_errf(err, ER_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = er_errf(err, ER_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        goto cleanup;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        st = er_errf(err, ER_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
        goto cleanup;
    }
cleanup:
    if (f) fclose(f);
    if (st != ER_OK && tmp) unlink(tmp);
    free(tmp);
    return st;
}

/* ---- loading ---- */

typedef struct ld {
    const char *file;
    er_err     *err;
    char        path[256];
    size_t      rs_cap;   /* room in bl->rs for routes in file order */
} ld;

static er_status bad(ld *L, er_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static er_status bad(ld *L, er_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return er_errf(L->err, st, "%s: %s: %s", L->file, L->path, msg);
}

static void setpath(ld *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setpath(ld *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->path, sizeof L->path, fmt, ap);
    va_end(ap);
}

static er_status read_all(const char *path, char **out, size_t *len, er_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path,
                       strerror(errno));
    size_t cap = 1 << 16, n = 0;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size < ((uint64_t)1 << 40))
        cap = (size_t)sb.st_size + 2;   /* one read, and the EOF check, without growing */
    char *buf = er_big_alloc(cap);
    er_status st = ER_OK;
    if (!buf) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                st = er_errf(err, ER_ENOMEM, "%s: out of memory", path);
                goto cleanup;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) {
            if (ferror(f))
                st = er_errf(err, ER_EIO, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    buf[n] = '\0';
cleanup:
    if (f != stdin) fclose(f);
    if (st != ER_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *len = n;
    return ER_OK;
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* Unsigned integer ≤ max at o (path already set by caller). */
static er_status get_u64(ld *L, json_object *o, uint64_t max, uint64_t *out)
{
    if (!o || !json_object_is_type(o, json_type_int))
        return bad(L, ER_EBASELINE, "expected a non-negative integer");
    errno = 0;
    int64_t v = json_object_get_int64(o);
    uint64_t u;
    if (v < 0)
        return bad(L, ER_EBASELINE, "expected a non-negative integer, got %lld", (long long)v);
    if (v == INT64_MAX) {
        u = json_object_get_uint64(o);
    } else {
        u = (uint64_t)v;
    }
    if (u > max)
        return bad(L, ER_EBASELINE, "integer %llu exceeds the limit %llu", (unsigned long long)u,
                   (unsigned long long)max);
    *out = u;
    return ER_OK;
}

/* Decimal digits at *p (no sign, no leading '+'), value ≤ max; advances *p. */
static bool scan_u64(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return true;
}

static er_status key_u64(ld *L, json_object *obj, const char *base, const char *k, uint64_t max,
                         uint64_t *out)
{
    setpath(L, "%s.%s", base, k);
    json_object *v = get(obj, k);
    if (!v)
        return bad(L, ER_EBASELINE, "missing");
    return get_u64(L, v, max, out);
}

/* Signed 128-bit decimal string with |v| ≤ lim. */
static er_status get_i128(ld *L, json_object *o, i128 lim, i128 *out)
{
    if (!o || !json_object_is_type(o, json_type_string))
        return bad(L, ER_EBASELINE, "expected a decimal integer string");
    const char *s = json_object_get_string(o);
    bool neg = *s == '-';
    if (neg) s++;
    if (!*s || strlen(s) > 38)
        return bad(L, ER_EBASELINE, "expected a decimal integer string of at most 38 digits");
    i128 v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return bad(L, ER_EBASELINE, "expected a decimal integer string");
        v = v * 10 + (*s - '0');   /* ≤ 38 digits: no overflow */
        if (v > lim)
            return bad(L, ER_EBASELINE, "integer out of range for this group");
    }
    *out = neg ? -v : v;
    return ER_OK;
}

static er_status key_i128(ld *L, json_object *obj, const char *base, const char *k, i128 lim, i128 *out)
{
    setpath(L, "%s.%s", base, k);
    json_object *v = get(obj, k);
    if (!v)
        return bad(L, ER_EBASELINE, "missing");
    return get_i128(L, v, lim, out);
}

/* base.key: an array of exactly len decimal integer strings, each |v| ≤ lim. */
static er_status key_i128_array(ld *L, json_object *obj, const char *base, const char *key, int len, i128 lim,
                                i128 *out)
{
    json_object *a = get(obj, key);
    setpath(L, "%s.%s", base, key);
    if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) != (size_t)len)
        return bad(L, ER_EBASELINE, "expected an array of %d integer strings", len);
    for (int i = 0; i < len; i++) {
        setpath(L, "%s.%s[%d]", base, key, i);
        er_status st = get_i128(L, json_object_array_get_idx(a, (size_t)i), lim, &out[i]);
        if (st)
            return st;
    }
    return ER_OK;
}

static er_status load_mv(ld *L, json_object *g, const char *base, const char *name, int k, uint64_t n_max,
                         mv_sums *m)
{
    char b2[160];
    snprintf(b2, sizeof b2, "%s.%s", base, name);
    setpath(L, "%s", b2);
    json_object *o = get(g, name);
    if (!o || !json_object_is_type(o, json_type_object))
        return bad(L, ER_EBASELINE, "expected an object {c, n, s}");
    er_status st = key_u64(L, o, b2, "n", n_max, &m->n);
    if (st) return st;
    if ((st = key_i128_array(L, o, b2, "s", k, (i128)m->n << 26, m->s)))
        return st;
    return key_i128_array(L, o, b2, "c", k * (k + 1) / 2, (i128)m->n << 52, m->c);
}

/* Entries in a space-separated list ("a b c" = 3; "" = 0). */
static size_t count_entries(const char *p, size_t n)
{
    if (!n)
        return 0;
    size_t k = 1;
    for (const char *e = p + n; (p = memchr(p, ' ', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* ---- one group: its key (level, code), then its fields from a table ---- */

/* $.groups[i].hist: "bin:count ..." with increasing bins, counts summing to n. */
static er_status parse_hist(ld *L, er_baseline *bl, group *g, const char *p0)
{
    (void)bl;
    const char *p = p0;
    uint64_t tot = 0;
    long prev = -1;
    while (*p) {
        uint64_t bin, cnt;
        if ((p != p0 && *p++ != ' ') || !scan_u64(&p, HIST_BINS - 1, &bin) || *p++ != ':' ||
            !scan_u64(&p, g->n, &cnt) || (long)bin <= prev || cnt == 0)
            return bad(L, ER_EBASELINE, "at character %ld: expected \"bin:count\" with increasing bins < %d and counts ≥ 1",
                       (long)(p - p0), HIST_BINS);
        prev = (long)bin;
        g->hist[bin] = (double)cnt;
        tot += cnt;
        if (tot > g->n)
            break;
    }
    if (tot != g->n)
        return bad(L, ER_EBASELINE, "histogram counts sum to %llu, expected n = %llu",
                   (unsigned long long)tot, (unsigned long long)g->n);
    return ER_OK;
}

/* One "XX>YY:count" entry at *p (after its separator); false when malformed. */
static bool scan_route(const char **pp, uint64_t max, uint16_t *oc, uint16_t *dc, uint64_t *cnt)
{
    const char *p = *pp;
    bool ok = p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z' && p[2] == '>';
    if (ok) {
        *oc = ER_CC(p[0], p[1]);
        p += 3;
        if (p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z') {
            *dc = ER_CC(p[0], p[1]);
            p += 2;
        }
        ok = *p++ == ':' && scan_u64(&p, max, cnt) && *cnt > 0;
    }
    *pp = p;
    return ok;
}

/* $.groups[i].routes: "XX>YY:count ...", sorted, into the route table and bl->rs. */
static er_status parse_routes(ld *L, er_baseline *bl, group *g, const char *p0)
{
    const char *p = p0;
    uint64_t prev = 0;
    while (*p) {
        uint16_t oc = 0, dc = 0;
        uint64_t cnt = 0;
        bool ok = p == p0 || *p++ == ' ';
        ok = ok && scan_route(&p, g->route_n, &oc, &dc, &cnt);
        uint64_t key = er_bl_route_key(g->level, g->code, oc, dc);
        if (!ok || key <= prev)
            return bad(L, ER_EBASELINE, "at character %ld: expected \"XX>YY:count\" (alpha-2 origin, alpha-2 or empty "
                       "destination, count ≥ 1, sorted, no duplicates)", (long)(p - p0));
        prev = key;
        if (er_bl_route_add(&bl->routes, key, cnt) != ER_OK)
            return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
        if (bl->n_rs < L->rs_cap)
            bl->rs[bl->n_rs++] = (route_ent){key, cnt};
    }
    return ER_OK;
}

typedef enum { GF_U64, GF_I128, GF_MV, GF_TEXT } gf_type;
typedef enum { LIM_GROUP_ROWS, LIM_ROWS, LIM_N } gf_lim;

#define LVS_EVERY ((1u << LV_HS6) | (1u << LV_HS4) | (1u << LV_HS2) | (1u << LV_ALL))
#define LVS_HS4UP ((1u << LV_HS4) | (1u << LV_HS2) | (1u << LV_ALL))
#define LVS_HS2UP ((1u << LV_HS2) | (1u << LV_ALL))

/* One field of a group object, in the order the loader checks them. */
typedef struct gfield {
    const char *key;
    gf_type     type;
    size_t      off;       /* destination in group (GF_TEXT: none) */
    gf_lim      lim;       /* upper bound: MAX_GROUP_ROWS, the group's rows or its n */
    int         arg;       /* GF_I128: |v| ≤ n << arg; GF_MV: dimensions */
    unsigned    levels;    /* bit mask of the levels that carry the field (all required) */
    bool        nonneg;    /* GF_I128: a sum of squares */
    er_status (*parse)(ld *L, er_baseline *bl, group *g, const char *text);   /* GF_TEXT */
    const char *expect;    /* GF_TEXT: message when missing or not a string */
} gfield;

static const gfield GROUP_FIELDS[] = {
    {"rows", GF_U64, offsetof(group, rows), LIM_GROUP_ROWS, 0, LVS_EVERY, false, NULL, NULL},
    {"n", GF_U64, offsetof(group, n), LIM_ROWS, 0, LVS_EVERY, false, NULL, NULL},
    {"s", GF_I128, offsetof(group, s), LIM_N, 26, LVS_EVERY, false, NULL, NULL},
    {"ss", GF_I128, offsetof(group, ss), LIM_N, 52, LVS_EVERY, true, NULL, NULL},
    {"hist", GF_TEXT, 0, LIM_N, 0, LVS_EVERY, false, parse_hist, "expected a string \"bin:count ...\""},
    {"mv2", GF_MV, offsetof(group, mv2), LIM_N, 2, LVS_HS4UP, false, NULL, NULL},
    {"mv3", GF_MV, offsetof(group, mv3), LIM_N, 3, LVS_HS4UP, false, NULL, NULL},
    {"route_n", GF_U64, offsetof(group, route_n), LIM_ROWS, 0, LVS_HS4UP, false, NULL, NULL},
    {"routes", GF_TEXT, 0, LIM_N, 0, LVS_HS4UP, false, parse_routes, "expected a string \"XX>YY:count ...\""},
    {"imp_rows", GF_U64, offsetof(group, imp_rows), LIM_ROWS, 0, LVS_HS2UP, false, NULL, NULL},
};

/* One table row of group g at base ("$.groups[i]"). */
static er_status load_gfield(ld *L, er_baseline *bl, json_object *go, const char *base, group *g, const gfield *f)
{
    uint64_t lim = f->lim == LIM_GROUP_ROWS ? MAX_GROUP_ROWS : f->lim == LIM_ROWS ? g->rows : g->n;
    void *dst = (char *)g + f->off;
    er_status st;
    switch (f->type) {
    case GF_U64:
        return key_u64(L, go, base, f->key, lim, dst);
    case GF_I128:
        if ((st = key_i128(L, go, base, f->key, (i128)lim << f->arg, dst)))
            return st;
        if (f->nonneg && *(i128 *)dst < 0) {
            setpath(L, "%s.%s", base, f->key);
            return bad(L, ER_EBASELINE, "a sum of squares cannot be negative");
        }
        return ER_OK;
    case GF_MV:
        return load_mv(L, go, base, f->key, f->arg, lim, dst);
    case GF_TEXT: {
        setpath(L, "%s.%s", base, f->key);
        json_object *v = get(go, f->key);
        if (!v || !json_object_is_type(v, json_type_string))
            return bad(L, ER_EBASELINE, "%s", f->expect);
        return f->parse(L, bl, g, json_object_get_string(v));
    }
    }
    return ER_OK;
}

/* $.groups[i].level and .code: the group's level and numeric HS prefix. */
static er_status group_key(ld *L, json_object *go, const char *base, int *level, uint32_t *code,
                           const char **ls, const char **cs)
{
    json_object *lv = get(go, "level"), *jc = get(go, "code");
    setpath(L, "%s.level", base);
    if (!lv || !json_object_is_type(lv, json_type_string))
        return bad(L, ER_EBASELINE, "expected \"hs6\", \"hs4\", \"hs2\" or \"all\"");
    *ls = json_object_get_string(lv);
    *level = !strcmp(*ls, "hs6") ? LV_HS6 : !strcmp(*ls, "hs4") ? LV_HS4 : !strcmp(*ls, "hs2") ? LV_HS2
           : !strcmp(*ls, "all") ? LV_ALL : 0;
    if (!*level)
        return bad(L, ER_EBASELINE, "expected \"hs6\", \"hs4\", \"hs2\" or \"all\", got \"%.20s\"", *ls);
    setpath(L, "%s.code", base);
    if (!jc || !json_object_is_type(jc, json_type_string))
        return bad(L, ER_EBASELINE, "expected a string");
    *cs = json_object_get_string(jc);
    int nd = er_bl_level_digits(*level);
    *code = 0;
    if (*level == LV_ALL)
        return strcmp(*cs, "*") != 0 ? bad(L, ER_EBASELINE, "expected \"*\" for level all") : ER_OK;
    if ((int)strlen(*cs) != nd)
        return bad(L, ER_EBASELINE, "expected %d digits for level %s", nd, *ls);
    for (int i = 0; i < nd; i++) {
        if ((*cs)[i] < '0' || (*cs)[i] > '9')
            return bad(L, ER_EBASELINE, "expected %d digits for level %s", nd, *ls);
        *code = *code * 10 + (uint32_t)((*cs)[i] - '0');
    }
    return ER_OK;
}

/* $.groups[gi]: a new group with every field its level carries. */
static er_status load_group(ld *L, er_baseline *bl, json_object *go, size_t gi)
{
    char base[64];
    snprintf(base, sizeof base, "$.groups[%zu]", gi);
    setpath(L, "%s", base);
    if (!json_object_is_type(go, json_type_object))
        return bad(L, ER_EBASELINE, "expected a group object");
    int level = 0;
    uint32_t cv = 0;
    const char *ls = "", *cs = "";
    er_status st = group_key(L, go, base, &level, &cv, &ls, &cs);
    if (st)
        return st;
    if (er_bl_gs_find(&bl->gs, level, cv))
        return bad(L, ER_EBASELINE, "duplicate group %s %s", ls, cs);
    group *g = er_bl_gs_get(&bl->gs, level, cv, true);
    if (!g)
        return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
    for (size_t i = 0; i < sizeof GROUP_FIELDS / sizeof GROUP_FIELDS[0]; i++)
        if ((GROUP_FIELDS[i].levels & (1u << level)) &&
            (st = load_gfield(L, bl, go, base, g, &GROUP_FIELDS[i])))
            return st;
    return ER_OK;
}

/* ---- the document: top-level fields from a table ---- */

/* What the top-level fields hold while the document loads. */
typedef struct doc_vals {
    const char  *kind, *id;
    uint64_t     format, qscale, min_group, rows;
    int32_t      date_min, date_max;
    json_object *hist, *groups, *traders;
    char        *stored_id;   /* out: the id the file claims (33 bytes) */
} doc_vals;

typedef enum { DF_U64, DF_STR, DF_OBJ, DF_ARR, DF_DATE } df_type;

/* One top-level field: JSON key, type, destination in doc_vals, bound,
 * whether it is required, the message when it is missing or mistyped, and
 * the check (or load) that follows, in the order the loader checks them. */
typedef struct dfield {
    const char *key;
    df_type     type;
    size_t      off;
    uint64_t    max;        /* DF_U64 */
    bool        required;   /* false: absent or null allowed while $.rows is 0 (dates) */
    const char *expect;     /* not DF_U64 (key_u64 says what is wrong) */
    er_status (*check)(ld *L, er_baseline *bl, doc_vals *v);
} dfield;

/* $.kind names a baseline. */
static er_status check_kind(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)bl;
    return strcmp(v->kind, "ecorisk-baseline") != 0
               ? bad(L, ER_EBASELINE, "expected \"ecorisk-baseline\" (is this a baseline file?)") : ER_OK;
}

/* $.format is the one this build reads. */
static er_status check_format(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)bl;
    if (v->format != ER_BASELINE_FORMAT)
        return bad(L, ER_EVERSION, "baseline format %llu, this ecorisk reads format %d: rebuild the baseline",
                   (unsigned long long)v->format, ER_BASELINE_FORMAT);
    return ER_OK;
}

/* $.hist: the histogram layout of this build. */
static er_status check_hist(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)bl;
    uint64_t bins = 0;
    er_status st = key_u64(L, v->hist, "$.hist", "bins", UINT32_MAX, &bins);
    if (st)
        return st;
    json_object *lo = get(v->hist, "lo"), *w = get(v->hist, "width");
    setpath(L, "$.hist");
    if (bins != HIST_BINS || !lo || !w || json_object_get_double(lo) != HIST_LO ||
        json_object_get_double(w) != HIST_W)
        return bad(L, ER_EBASELINE, "histogram layout differs from this ecorisk's (%d bins of %g from %g)",
                   HIST_BINS, HIST_W, HIST_LO);
    return ER_OK;
}

/* $.qscale: the fixed-point scale of this build. */
static er_status check_qscale(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)bl;
    return v->qscale != (uint64_t)QSCALE ? bad(L, ER_EBASELINE, "expected %llu", (unsigned long long)QSCALE) : ER_OK;
}

/* $.min_group ≥ 1. */
static er_status check_min_group(ld *L, er_baseline *bl, doc_vals *v)
{
    if (v->min_group == 0)
        return bad(L, ER_EBASELINE, "expected an integer ≥ 1");
    bl->min_group = (unsigned)v->min_group;
    return ER_OK;
}

/* $.rows: kept (the dates may be null when it is 0). */
static er_status check_rows(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)L;
    bl->rows = v->rows;
    return ER_OK;
}

/* $.date_max: not before $.date_min. */
static er_status check_dates(ld *L, er_baseline *bl, doc_vals *v)
{
    bl->date_min = v->date_min;
    bl->date_max = v->date_max;
    if (bl->rows && bl->date_min > bl->date_max) {
        setpath(L, "$.date_min");
        return bad(L, ER_EBASELINE, "date_min is after date_max");
    }
    return ER_OK;
}

/* $.id: 32 lowercase hex digits, kept to compare with the content hash. */
static er_status check_id(ld *L, er_baseline *bl, doc_vals *v)
{
    (void)bl;
    if (strlen(v->id) != 32 || strspn(v->id, "0123456789abcdef") != 32)
        return bad(L, ER_EBASELINE, "expected 32 lowercase hex digits");
    memcpy(v->stored_id, v->id, 33);
    return ER_OK;
}

/* $.groups: every group, the route table sized once; group "all" holds $.rows. */
static er_status load_groups(ld *L, er_baseline *bl, doc_vals *v)
{
    size_t ng = json_object_array_length(v->groups);
    /* Size the route table once (entries are space-separated): no rehashing while loading. */
    size_t n_routes = 0;
    for (size_t i = 0; i < ng; i++) {
        json_object *r = get(json_object_array_get_idx(v->groups, i), "routes");
        if (r && json_object_is_type(r, json_type_string))
            n_routes += count_entries(json_object_get_string(r), (size_t)json_object_get_string_len(r));
    }
    free(bl->rs);
    bl->n_rs = 0;
    bl->rs = er_big_alloc((n_routes + 1) * sizeof *bl->rs);
    L->rs_cap = n_routes;
    if (!bl->rs || er_bl_route_reserve(&bl->routes, n_routes) != ER_OK)
        return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
    er_status st;
    for (size_t i = 0; i < ng; i++)
        if ((st = load_group(L, bl, json_object_array_get_idx(v->groups, i), i)))
            return st;
    const group *all = er_bl_gs_find(&bl->gs, LV_ALL, 0);
    setpath(L, "$.groups");
    if ((all ? all->rows : 0) != bl->rows)
        return bad(L, ER_EBASELINE, "group \"all\" holds %llu rows, expected $.rows = %llu",
                   (unsigned long long)(all ? all->rows : 0), (unsigned long long)bl->rows);
    return ER_OK;
}

/* One "hash:YYYY-MM-DD:count" entry at *p (after its separator); false when malformed. */
static bool scan_trader(const char **pp, uint64_t *hv, int32_t *dd, uint64_t *cnt)
{
    const char *p = *pp;
    bool ok = true;
    for (int i = 0; ok && i < 16; i++, p++) {
        int c = *p;
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) ok = false; else *hv = *hv << 4 | (uint64_t)v;
    }
    ok = ok && *p++ == ':' && strnlen(p, 10) == 10 && er_date_parse(p, 10, dd) == ER_OK;
    if (ok) p += 10;
    ok = ok && *p++ == ':' && *p >= '1' && *p <= '9';
    for (; ok && *p >= '0' && *p <= '9'; p++) {
        if (*cnt > (UINT64_MAX - 9) / 10) ok = false;
        *cnt = *cnt * 10 + (uint64_t)(*p - '0');
    }
    ok = ok && (*p == ' ' || *p == '\0');
    *pp = p;
    return ok;
}

/* $.traders.CC: one chapter's entries appended to bl->ts (room for cap). */
static er_status load_chapter(ld *L, er_baseline *bl, const char *ck, json_object *cv, size_t cap)
{
    setpath(L, "$.traders.%.8s", ck);
    if (!(ck[0] >= '0' && ck[0] <= '9' && ck[1] >= '0' && ck[1] <= '9' && ck[2] == '\0'))
        return bad(L, ER_EBASELINE, "expected a two-digit HS chapter as key");
    uint8_t ch = (uint8_t)((ck[0] - '0') * 10 + (ck[1] - '0'));
    if (!json_object_is_type(cv, json_type_string))
        return bad(L, ER_EBASELINE, "expected a string \"hash:YYYY-MM-DD:count ...\"");
    const char *p0 = json_object_get_string(cv), *p = p0;
    uint64_t prev = 0;
    if (!*p)
        return bad(L, ER_EBASELINE, "empty chapter entry");
    while (*p) {
        bool ok = p == p0 || *p++ == ' ';
        uint64_t hv = 0, cnt = 0;
        int32_t dd = 0;
        ok = ok && scan_trader(&p, &hv, &dd, &cnt);
        if (!ok || hv <= prev)
            return bad(L, ER_EBASELINE, "at character %ld: expected \"hash:YYYY-MM-DD:count\" (16 lowercase hex "
                       "digits, increasing, non-zero; count ≥ 1)", (long)(p - p0));
        prev = hv;
        if (bl->n_ts == cap)   /* cannot happen: counted above */
            return er_errf(L->err, ER_EINTERNAL, "%s: trader count changed while loading", L->file);
        bl->ts[bl->n_ts++] = (trader_ent){.h = hv, .n = cnt, .date = dd, .ch = ch};
    }
    return ER_OK;
}

/* $.traders: every chapter's first-seen entries, then the lookup table. */
static er_status load_traders(ld *L, er_baseline *bl, doc_vals *v)
{
    size_t n_traders = 0;
    json_object_object_foreach(v->traders, ck0, cv0) {
        (void)ck0;
        if (json_object_is_type(cv0, json_type_string))
            n_traders += count_entries(json_object_get_string(cv0), (size_t)json_object_get_string_len(cv0));
    }
    /* Entries are collected in file order (chapter, then hash: the order derive
     * needs) and inserted into the lookup table afterwards, prefetching ahead. */
    free(bl->ts);
    bl->n_ts = 0;
    if (!(bl->ts = er_big_alloc((n_traders + 1) * sizeof *bl->ts)))
        return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
    er_status st;
    json_object_object_foreach(v->traders, ck, cv)
        if ((st = load_chapter(L, bl, ck, cv, n_traders)))
            return st;
    if (er_bl_trader_insert_all(&bl->traders, bl->ts, bl->n_ts) != ER_OK)
        return er_errf(L->err, ER_ENOMEM, "%s: out of memory", L->file);
    return ER_OK;
}

static const dfield DOC_FIELDS[] = {
    {"kind", DF_STR, offsetof(doc_vals, kind), 0, true,
     "expected \"ecorisk-baseline\" (is this a baseline file?)", check_kind},
    {"format", DF_U64, offsetof(doc_vals, format), UINT32_MAX, true, NULL, check_format},
    {"hist", DF_OBJ, offsetof(doc_vals, hist), 0, true, "expected {bins, lo, width}", check_hist},
    {"qscale", DF_U64, offsetof(doc_vals, qscale), UINT64_MAX, true, NULL, check_qscale},
    {"min_group", DF_U64, offsetof(doc_vals, min_group), UINT32_MAX, true, NULL, check_min_group},
    {"rows", DF_U64, offsetof(doc_vals, rows), INT64_MAX, true, NULL, check_rows},
    {"date_min", DF_DATE, offsetof(doc_vals, date_min), 0, false, "expected a date \"YYYY-MM-DD\"", NULL},
    {"date_max", DF_DATE, offsetof(doc_vals, date_max), 0, false, "expected a date \"YYYY-MM-DD\"", check_dates},
    {"id", DF_STR, offsetof(doc_vals, id), 0, true, "expected 32 lowercase hex digits", check_id},
    {"groups", DF_ARR, offsetof(doc_vals, groups), 0, true, "expected an array of groups", load_groups},
    {"traders", DF_OBJ, offsetof(doc_vals, traders), 0, true,
     "expected an object {chapter: \"hash:date:count ...\"}", load_traders},
};

/* One table row of the document into v, then its check. */
static er_status load_dfield(ld *L, er_baseline *bl, json_object *root, doc_vals *v, const dfield *f)
{
    void *dst = (char *)v + f->off;
    er_status st = ER_OK;
    if (f->type == DF_U64) {
        if ((st = key_u64(L, root, "$", f->key, f->max, dst)))
            return st;
        return f->check ? f->check(L, bl, v) : ER_OK;
    }
    setpath(L, "$.%s", f->key);
    json_object *o = get(root, f->key);
    if (!f->required && bl->rows == 0 && (!o || json_object_is_type(o, json_type_null)))
        return f->check ? f->check(L, bl, v) : ER_OK;
    static const json_type want[] = {[DF_STR] = json_type_string, [DF_OBJ] = json_type_object,
                                     [DF_ARR] = json_type_array, [DF_DATE] = json_type_string};
    if (!o || !json_object_is_type(o, want[f->type]) ||
        (f->type == DF_DATE && er_date_parse(json_object_get_string(o), strlen(json_object_get_string(o)),
                                             dst) != ER_OK))
        return bad(L, ER_EBASELINE, "%s", f->expect);
    if (f->type == DF_STR)
        *(const char **)dst = json_object_get_string(o);
    else if (f->type != DF_DATE)
        *(json_object **)dst = o;
    return f->check ? f->check(L, bl, v) : ER_OK;
}

static er_status load_doc(ld *L, er_baseline *bl, json_object *root, char stored_id[33])
{
    er_status st;
    setpath(L, "$");
    if (!json_object_is_type(root, json_type_object))
        return bad(L, ER_EBASELINE, "expected a baseline object");
    doc_vals v = {.date_min = bl->date_min, .date_max = bl->date_max, .stored_id = stored_id};
    for (size_t i = 0; i < sizeof DOC_FIELDS / sizeof DOC_FIELDS[0]; i++)
        if ((st = load_dfield(L, bl, root, &v, &DOC_FIELDS[i])))
            return st;
    /* Keep the arrays for derive when they are in its order (a canonical file). */
    bl->ts_ready = true;
    for (size_t i = 1; i < bl->n_ts && bl->ts_ready; i++)
        bl->ts_ready = bl->ts[i - 1].ch < bl->ts[i].ch ||
                       (bl->ts[i - 1].ch == bl->ts[i].ch && bl->ts[i - 1].h < bl->ts[i].h);
    /* Routes: derive and save need each group's run contiguous and sorted (a
     * group split over two runs fails derive's route_n check). */
    bl->rs_ready = bl->n_rs == bl->routes.n;
    for (size_t i = 1; i < bl->n_rs && bl->rs_ready; i++)
        bl->rs_ready = (bl->rs[i - 1].key >> 32) != (bl->rs[i].key >> 32) || bl->rs[i - 1].key < bl->rs[i].key;
    return ER_OK;
}

/* True when txt, with its top-level id zeroed, hashes to that id: the file is
 * intact, byte for byte as written. Save writes canonical text, so for its
 * files this is the canonical id; a hand-made file can also carry the hash
 * of its own non-canonical text, and keeps that id while loaded (save then
 * writes the canonical form under the canonical id). Zeroes the id in txt. */
static bool file_is_intact(char *txt, size_t len, const char *stored)
{
    static const char key[] = "},\"id\":\"";
    char *p = strstr(txt, key);
    if (!p || strstr(p + 1, key) || (size_t)(p - txt) + sizeof key - 1 + 33 > len)
        return false;
    p += sizeof key - 1;
    if (memcmp(p, stored, 32) != 0 || p[32] != '"')
        return false;
    memset(p, '0', 32);
    char id[33];
    er_bl_text_id(txt, len, id);
    return strcmp(id, stored) == 0;
}

/* The first bytes of path are the binary magic (false for stdin, or when unreadable). */
static bool path_is_bin(const char *path)
{
    if (strcmp(path, "-") == 0)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char m[8];
    bool bin = fread(m, 1, 8, f) == 8 && memcmp(m, er_bl_bin_magic, 8) == 0;
    fclose(f);
    return bin;
}

static er_status load_json(er_baseline **out, const char *file, char *txt, size_t len, er_err *err);

er_status er_baseline_load(er_baseline **out, const char *path, er_err *err)
{
    er_bl_gsl_quiet();
    if (path_is_bin(path))
        return er_bl_load_bin_path(out, path, err);
    const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    char *txt = NULL;
    size_t len = 0;
    er_status st = read_all(path, &txt, &len, err);
    if (st != ER_OK)
        return st;
    if (len >= 8 && memcmp(txt, er_bl_bin_magic, 8) == 0)
        return er_bl_load_bin_mem(out, file, txt, len, err);
    st = load_json(out, file, txt, len, err);
    free(txt);
    return st;
}

/* The JSON form from txt (NUL-terminated, borrowed: the intact check zeroes its id). */
static er_status load_json(er_baseline **out, const char *file, char *txt, size_t len, er_err *err)
{
    json_tokener *tok = NULL;
    json_object *root = NULL;
    er_baseline *bl = NULL;
    ld L = {file, err, "$", 0};
    char stored[33];
    er_status st = ER_OK;
    tok = json_tokener_new();
    if (!tok) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory", file);
        goto cleanup;
    }
    root = json_tokener_parse_ex(tok, txt, (int)(len > INT32_MAX ? INT32_MAX : len));
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (len > INT32_MAX) {
        st = er_errf(err, ER_ELIMIT, "%s: baseline file larger than 2 GiB", file);
        goto cleanup;
    }
    if (!root || je != json_tokener_success) {
        size_t off = json_tokener_get_parse_end(tok);
        size_t line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += txt[i] == '\n';
        st = er_errf(err, ER_EPARSE, "%s:%zu: not valid JSON (byte %zu): %s", file, line, off,
                     (je == json_tokener_success || je == json_tokener_continue) ? "unexpected end of file"
                                                                         : json_tokener_error_desc(je));
        goto cleanup;
    }
    if (json_tokener_get_parse_end(tok) < len && strspn(txt + json_tokener_get_parse_end(tok), " \t\r\n") !=
                                                      len - json_tokener_get_parse_end(tok)) {
        st = er_errf(err, ER_EPARSE, "%s: trailing data after the JSON document", file);
        goto cleanup;
    }
    bl = malloc(sizeof *bl);
    if (!bl) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory", file);
        goto cleanup;
    }
    if ((st = er_bl_init(bl, DEFAULT_MIN_GROUP, err)) != ER_OK) {
        free(bl);
        bl = NULL;
        goto cleanup;
    }
    if ((st = load_doc(&L, bl, root, stored)) != ER_OK)
        goto cleanup;
    if ((st = er_bl_derive(bl, err)) != ER_OK) {
        er_err_prefix(err, st, "%s", file);
        goto cleanup;
    }
    /* The id is the hash of the canonical text with a zero id. A file as
     * written by save IS that text: hash it directly. Otherwise (reformatted,
     * edited) serialise what was loaded and compare. */
    if (file_is_intact(txt, len, stored)) {
        memcpy(bl->id, stored, 33);
    } else if ((st = er_bl_hash(bl, false, err)) != ER_OK) {
        er_err_prefix(err, st, "%s", file);
        goto cleanup;
    }
    if (strcmp(stored, bl->id) != 0) {
        st = er_errf(err, ER_EBASELINE,
                     "%s: $.id: content hash %s does not match the stored id %s (file edited or corrupt)",
                     file, bl->id, stored);
        goto cleanup;
    }
    *out = bl;
    bl = NULL;
cleanup:
    er_baseline_free(bl);
    json_object_put(root);
    if (tok) json_tokener_free(tok);
    return st;
}
