/*
 * validate.c — docs/feeds.md validation: one raw record (text views from the
 * CSV or JSONL reader, after the mapping) becomes an er_decl or a precise
 * quarantine reason. Numbers, dates, codes and UTF-8 are checked here with
 * no allocation except the strings kept in the batch arena.
 */
#include "feed_internal.h"
#include "refdata_int.h"
#include "core/arena_int.h"
#include "core/pow10.h"
#include "core/utf8.h"
#include "core/wordload.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool failf(vfail *f, er_qreason r, int field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool failf(vfail *f, er_qreason r, int field, const char *fmt, ...)
{
    f->reason = r;
    f->field = field;
    f->xfield = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    return false;
}

/* Printable, bounded copy of a value for details: "'abc…'". */
static const char *show(char *buf, size_t cap, const char *p, size_t n)
{
    size_t k = 0, lim = cap > 8 ? cap - 8 : 0;
    for (size_t i = 0; i < n && k < lim; i++) {
        unsigned char ch = (unsigned char)p[i];
        buf[k++] = (ch < 0x20 || ch == 0x7f || ch >= 0x80) ? '?' : (char)ch;
    }
    if (k < n && cap >= 4) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

int er_text_check(const char *p, size_t n, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    /* ASCII fast path, 8 bytes at a time (also catches NUL). */
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((w & 0x8080808080808080ULL) || ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
            break;
        i += 8;
    }
    while (i < n) {
        unsigned c = s[i];
        if (c == 0) {
            *bad_at = i;
            return 2;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = er_utf8_seq(s + i, n - i);
        if (!len) {
            *bad_at = i;
            return 1;
        }
        i += len;
    }
    return 0;
}

/* The common case: digits[.digits], at most 15 digits in all, so the integer
 * of all digits is exact in a double and one correctly rounded division by an
 * exact power of ten gives the same result as the general path. */
static inline bool parse_simple_decimal(const char *p, size_t n, double *out)
{
    uint64_t m = 0;
    size_t i = 0, frac = 0;
    for (; i < n; i++) {   /* the integer part */
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            break;
        m = m * 10 + d;
    }
    size_t nd = i;
    if (i < n) {   /* then '.' and the fraction, digits only */
        if (p[i] != '.')
            return false;
        size_t f0 = ++i;
        for (; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return false;
            m = m * 10 + d;
        }
        frac = i - f0;
        nd += frac;
    }
    if (nd == 0 || nd > 15)
        return false;
    *out = frac ? (double)m / er_pow10_exact[frac] : (double)m;
    return true;
}

/* The significand of a decimal number: up to 19 significant digits in m. */
typedef struct mantissa {
    uint64_t m;
    int      sig, frac, digits, int_extra;
} mantissa;

static inline bool is_dig(char ch) { return ch >= '0' && ch <= '9'; }

/* One digit into the significand; frac counts digits after the point kept. */
static void mantissa_digit(mantissa *ma, bool *lead, char ch, bool after_dot)
{
    ma->digits++;
    if (*lead && ch == '0') {
        ma->frac += after_dot;
        return;
    }
    *lead = false;
    if (ma->sig < 19) {
        ma->m = ma->m * 10 + (uint64_t)(ch - '0');
        ma->frac += after_dot;
    }
    ma->sig++;
}

/* digits[.digits] from p[*i]; false when there is no digit at all. */
static bool scan_mantissa(const char *p, size_t n, size_t *i, mantissa *ma)
{
    bool lead = true;
    memset(ma, 0, sizeof *ma);
    for (; *i < n && is_dig(p[*i]); (*i)++)
        mantissa_digit(ma, &lead, p[*i], false);
    ma->int_extra = ma->sig > 19 ? ma->sig - 19 : 0;
    if (*i < n && p[*i] == '.')
        for ((*i)++; *i < n && is_dig(p[*i]); (*i)++)
            mantissa_digit(ma, &lead, p[*i], true);
    return ma->digits > 0;
}

/* An optional (e|E)[+-]digits from p[*i] (capped at 100000); false when malformed. */
static bool scan_exponent(const char *p, size_t n, size_t *i, int *e)
{
    *e = 0;
    if (*i >= n || (p[*i] != 'e' && p[*i] != 'E'))
        return true;
    (*i)++;
    bool eneg = false;
    if (*i < n && (p[*i] == '+' || p[*i] == '-')) {
        eneg = p[*i] == '-';
        (*i)++;
    }
    if (*i >= n || !is_dig(p[*i]))
        return false;
    for (; *i < n && is_dig(p[*i]); (*i)++)
        if (*e < 100000)
            *e = *e * 10 + (p[*i] - '0');
    if (eneg)
        *e = -*e;
    return true;
}

/* Decimal number: [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits.
 * Exact (Clinger's fast path, else strtod on a validated copy). */
bool er_parse_number(const char *p, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (n == 0 || n > 64)
        return false;
    if (n <= 16 && parse_simple_decimal(p, n, out))
        return true;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        i++;
    }
    mantissa ma;
    int e;
    if (!scan_mantissa(p, n, &i, &ma) || !scan_exponent(p, n, &i, &e) || i != n)
        return false;
    int e10 = e - ma.frac + ma.int_extra;
    if (ma.sig <= 15 && e10 >= -ER_POW10_EXACT_MAX && e10 <= ER_POW10_EXACT_MAX) {
        double v = (double)ma.m;
        v = e10 < 0 ? v / er_pow10_exact[-e10] : v * er_pow10_exact[e10];
        *out = neg ? -v : v;
        return true;
    }
    char tmp[72];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

static const char *fname(int f) { return er_field_names[f]; }

static const char *intern_str(const vctx *c, const char *p, uint32_t n)
{
    if (!c->ic)
        return er_arena_intern(c->arena, p, n);
    uint64_t w[2];
    er_load16(p, n, w);
    uint64_t h = (w[0] ^ (w[1] * 0x9E3779B97F4A7C15ULL) ^ n) * 0xff51afd7ed558ccdULL;
    if (n > 16)
        h ^= er_hash64(p + 16, n - 16, 0);
    icache_slot *sl = &c->ic->slot[(h >> 40) & (ICACHE_SLOTS - 1)];
    if (sl->gen == c->ic->gen && sl->len == n && sl->w0 == w[0] && sl->w1 == w[1] &&
        (n <= 16 || memcmp(sl->s + 16, p + 16, n - 16) == 0))
        return sl->s;
    const char *s = er_arena_strndup_inline(c->arena, p, n);
    if (s) {
        sl->w0 = w[0];
        sl->w1 = w[1];
        sl->s = s;
        sl->len = n;
        sl->gen = c->ic->gen;
    }
    return s;
}

/* A kept string field: limit, UTF-8; interned or copied into the arena. */
/* take_str's failures, told out of its way. */
static __attribute__((noinline, cold)) bool str_failed(vfail *fail, int f, const char *p, uint32_t n, size_t limit,
                                                       int tc, size_t at)
{
    if (n > limit)
        return failf(fail, ER_Q_TOO_LONG, f, "%s is %u bytes, limit %zu", fname(f), n, limit);
    if (tc)
        return failf(fail, ER_Q_BAD_UTF8, f, "%s: %s at byte %zu of the value (0x%02x)", fname(f),
                     tc == 2 ? "NUL byte" : "invalid UTF-8", at, (unsigned char)p[at]);
    return failf(fail, ER_Q_TOO_LONG, f, "out of memory storing %s", fname(f));
}

/* Inlined at each field, where the limit and the choice to intern are constants. */
static inline __attribute__((always_inline)) bool take_str(const vctx *c, raw_rec *r, int f, size_t limit,
                                                            bool intern, const char **dst, vfail *fail)
{
    const char *p = r->v[f];
    uint32_t n = r->len[f];
    if (!p || n == 0)
        return true;
    size_t at = 0;
    int tc = 0;
    if (n > limit || (!r->ascii && (tc = er_text_check(p, n, &at)) != 0) ||
        !(*dst = intern ? intern_str(c, p, n) : er_arena_strndup_inline(c->arena, p, n)))
        return str_failed(fail, f, p, n, limit, tc, at);
    return true;
}

/* take_num's failures, told out of its way. */
static __attribute__((noinline, cold)) bool num_failed(vfail *fail, int f, const char *p, uint32_t n, bool parsed)
{
    char b[48];
    if (!parsed)
        return failf(fail, ER_Q_BAD_NUMBER, f, "%s: '%s' is not a number", fname(f), show(b, sizeof b, p, n));
    return failf(fail, ER_Q_NEGATIVE, f, "%s: %s is negative", fname(f), show(b, sizeof b, p, n));
}

static inline __attribute__((always_inline)) bool take_num(raw_rec *r, int f, double *dst, uint32_t *present,
                                                            uint32_t bit, vfail *fail)
{
    const char *p = r->v[f];
    uint32_t n = r->len[f];
    if (!p || n == 0)
        return true;
    double v;
    bool parsed = (n <= 16 && parse_simple_decimal(p, n, &v)) || er_parse_number(p, n, &v);   /* the common case inline */
    if (!parsed || v < 0)
        return num_failed(fail, f, p, n, parsed);
    *dst = v == 0 ? 0.0 : v;   /* no -0 */
    *present |= bit;
    return true;
}

static inline char upc(char ch) { return ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch; }

static __attribute__((noinline, cold)) bool country_failed(vfail *fail, int f, const char *p, uint32_t n)
{
    char b[48];
    return failf(fail, ER_Q_BAD_COUNTRY, f, "%s: '%s' is not an ISO 3166-1 alpha-2 code", fname(f),
                 show(b, sizeof b, p, n));
}

static inline __attribute__((always_inline)) bool take_country(const vctx *c, raw_rec *r, int f, uint16_t *dst,
                                                                vfail *fail)
{
    const char *p = r->v[f];
    uint32_t n = r->len[f];
    if (!p || n == 0)
        return true;
    /* Codes the mapping declares as "unknown country" (ZZ, XX: user-assigned in
     * ISO 3166-1): the country is absent and the declaration is scored. */
    for (size_t k = 0; n == 2 && k < c->map->n_unknown_countries; k++)
        if (upc(p[0]) == c->map->unknown_countries[k][0] && upc(p[1]) == c->map->unknown_countries[k][1]) {
            *dst = 0;
            return true;
        }
    if (n != 2 || !ref_country_parse(c->ref, p, n, dst))
        return country_failed(fail, f, p, n);
    return true;
}



static bool eq_ci_n(const char *p, size_t n, const char *lit, size_t k)
{
    if (k != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (upc(p[i]) != lit[i])
            return false;
    return true;
}

bool er_date_parse_pattern(const char *s, size_t len, const char *pattern, int32_t *days)
{
    char iso[10];
    size_t i = 0;
    for (const char *p = pattern; *p; ) {
        size_t w = strncmp(p, "YYYY", 4) == 0 ? 4 : (strncmp(p, "MM", 2) == 0 || strncmp(p, "DD", 2) == 0) ? 2 : 0;
        if (!w) {
            if (i >= len || s[i] != *p)
                return false;
            i++;
            p++;
            continue;
        }
        if (i + w > len)
            return false;
        char *dst = w == 4 ? iso : p[0] == 'M' ? iso + 5 : iso + 8;
        for (size_t k = 0; k < w; k++) {
            if (s[i + k] < '0' || s[i + k] > '9')
                return false;
            dst[k] = s[i + k];
        }
        i += w;
        p += w;
    }
    if (i < len && s[i] != ' ' && s[i] != 'T')
        return false;
    iso[4] = iso[7] = '-';
    return er_date_parse(iso, 10, days) == ER_OK;
}

/* A number written with a decimal comma and/or thousands separators, rewritten
 * into buf as er_parse_number reads it ("1.234,5" → "1234.5"); the value's
 * view then points at buf. False when it does not fit (left as it is). */
static bool localise_number(const er_mapping *m, const char **v, uint32_t *len, char *buf, size_t cap)
{
    size_t o = 0;
    for (uint32_t i = 0; i < *len; i++) {
        char ch = (*v)[i];
        if (m->thousands && ch == m->thousands)
            continue;
        if (ch == m->decimal)
            ch = '.';
        else if (ch == '.' && m->decimal != '.')
            ch = 'x';   /* a '.' that is neither decimal nor thousands: not a number */
        if (o + 1 >= cap)
            return false;
        buf[o++] = ch;
    }
    *v = buf;
    *len = (uint32_t)o;
    return true;
}

static bool take_date(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    const er_mapping *m = c->map;
    char b[48], list[160] = "";
    for (size_t k = 0; k < m->n_date_formats; k++)
        if (er_date_parse_pattern(r->v[F_DATE], r->len[F_DATE], m->date_formats[k], &d->date))
            return true;
    for (size_t k = 0, l = 0; k < m->n_date_formats && l < sizeof list; k++)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", k ? ", " : "", m->date_formats[k]);
    return failf(fail, ER_Q_BAD_DATE, F_DATE, "date: '%s' matches none of the mapping's date formats (%s)",
                 show(b, sizeof b, r->v[F_DATE], r->len[F_DATE]), list);
}

/* Mapping: trimming, then constants for absent/empty values and value maps. */
static void apply_mapping(const er_mapping *m, raw_rec *r)
{
    if (!r->trimmed)
        for (int f = 0; f < F_COUNT; f++)
            if (f != F_DESCRIPTION && r->v[f])
                er_trim(&r->v[f], &r->len[f]);
    for (size_t i = 0; i < m->n_rewrite; i++) {
        int f = m->rewrite[i];
        const map_field *mf = &m->f[f];
        if ((!r->v[f] || r->len[f] == 0) && mf->constant) {
            r->v[f] = mf->constant;
            r->len[f] = (uint32_t)mf->constant_len;
        } else if (mf->n_values && r->v[f]) {
            for (size_t k = 0; k < mf->n_values; k++) {
                const map_value *mv = &mf->values[k];
                if (mv->from_len == r->len[f] && memcmp(mv->from, r->v[f], mv->from_len) == 0) {
                    r->v[f] = mv->to;
                    r->len[f] = (uint32_t)mv->to_len;
                    break;
                }
            }
        }
    }
}

static inline bool has(const raw_rec *r, int f) { return r->v[f] && r->len[f]; }

static bool v_id(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    if (!has(r, F_ID))
        return failf(fail, ER_Q_MISSING_FIELD, F_ID, "id is empty or missing");
    return take_str(c, r, F_ID, ER_LIMIT_ID, false, &d->id, fail);
}

/* The date, through the last date's cache (a day's feed repeats one date). */
static bool v_date(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    char b[48];
    if (!has(r, F_DATE))
        return failf(fail, ER_Q_MISSING_FIELD, F_DATE, "date is empty or missing");
    if (c->ic && c->ic->date_len == r->len[F_DATE] && memcmp(c->ic->date_s, r->v[F_DATE], r->len[F_DATE]) == 0) {
        d->date = c->ic->date_days;
        return true;
    }
    if (c->map->n_date_formats) {
        if (!take_date(c, r, d, fail))
            return false;
    } else if (er_date_parse(r->v[F_DATE], r->len[F_DATE], &d->date) != ER_OK) {
        return failf(fail, ER_Q_BAD_DATE, F_DATE, "date: '%s' is not a valid YYYY-MM-DD date",
                     show(b, sizeof b, r->v[F_DATE], r->len[F_DATE]));
    }
    if (c->ic && r->len[F_DATE] <= sizeof c->ic->date_s) {
        memcpy(c->ic->date_s, r->v[F_DATE], r->len[F_DATE]);
        c->ic->date_len = r->len[F_DATE];
        c->ic->date_days = d->date;
    }
    return true;
}

static bool v_flow(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    static const struct { const char *name; er_flow flow; } flows[] = {
        {"IM", ER_FLOW_IM}, {"EX", ER_FLOW_EX}, {"TR", ER_FLOW_TR}};
    char b[48];
    (void)c;
    if (!has(r, F_FLOW))
        return true;
    for (size_t i = 0; i < sizeof flows / sizeof *flows; i++)
        if (eq_ci_n(r->v[F_FLOW], r->len[F_FLOW], flows[i].name, 2)) {
            d->flow = flows[i].flow;
            return true;
        }
    return failf(fail, ER_Q_BAD_FLOW, F_FLOW, "flow: '%s' is not IM, EX or TR",
                 show(b, sizeof b, r->v[F_FLOW], r->len[F_FLOW]));
}

/* hs: digits, dots/spaces stripped, 6..10 */
static bool v_hs(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    const char *p = r->v[F_HS];
    uint32_t n = r->len[F_HS];
    char b[48];
    (void)c;
    if (!p || n == 0)
        return failf(fail, ER_Q_MISSING_FIELD, F_HS, "hs is empty or missing");
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '.' || ch == ' ')
            continue;
        if (ch < '0' || ch > '9' || k >= ER_HS_MAX) {
            k = ER_HS_MAX + 1;
            break;
        }
        d->hs[k++] = ch;
    }
    if (k < 6 || k > ER_HS_MAX)
        return failf(fail, ER_Q_BAD_HS, F_HS, "hs: '%s' is not a 6 to 10 digit HS code", show(b, sizeof b, p, n));
    if ((d->hs[0] == '0' && d->hs[1] == '0') || (d->hs[0] == '7' && d->hs[1] == '7'))
        return failf(fail, ER_Q_BAD_HS, F_HS, "hs: '%s': chapter %c%c does not exist", show(b, sizeof b, p, n),
                     d->hs[0], d->hs[1]);
    d->hs[k] = '\0';
    d->hs_len = (uint8_t)k;
    return true;
}

static bool v_countries(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    return take_country(c, r, F_ORIGIN, &d->origin, fail) &&
           take_country(c, r, F_EXPORT_COUNTRY, &d->export_country, fail) &&
           take_country(c, r, F_DESTINATION, &d->destination, fail);
}

/* transit: ';'-separated alpha-2 */
static bool v_transit(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    char b[48];
    if (!has(r, F_TRANSIT))
        return true;
    const char *p = r->v[F_TRANSIT], *e = p + r->len[F_TRANSIT];
    while (p < e) {
        const char *q = memchr(p, ';', (size_t)(e - p));
        if (!q)
            q = e;
        const char *s = p;
        uint32_t n = (uint32_t)(q - p);
        er_trim(&s, &n);
        if (n) {
            uint16_t cc;
            if (n != 2 || !ref_country_parse(c->ref, s, n, &cc))
                return failf(fail, ER_Q_BAD_COUNTRY, F_TRANSIT, "transit: '%s' is not an ISO 3166-1 alpha-2 code",
                             show(b, sizeof b, s, n));
            if (d->n_transit == ER_TRANSIT_MAX)
                return failf(fail, ER_Q_TOO_LONG, F_TRANSIT, "transit lists more than %d countries",
                             ER_TRANSIT_MAX);
            d->transit[d->n_transit++] = cc;
        }
        p = q + 1;
    }
    return true;
}

/* mode: names or UN/ECE Rec 19 numeric codes */
static bool v_mode(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    static const char *const names[] = {"", "SEA", "AIR", "ROAD", "RAIL", "POST", "OTHER"};
    static const size_t lens[] = {0, 3, 3, 4, 4, 4, 5};
    static const int un[10] = {ER_MODE_NONE, ER_MODE_SEA, ER_MODE_RAIL, ER_MODE_ROAD, ER_MODE_AIR,
                               ER_MODE_POST, ER_MODE_OTHER, ER_MODE_OTHER, ER_MODE_OTHER, ER_MODE_OTHER};
    char b[48];
    (void)c;
    if (!has(r, F_MODE))
        return true;
    const char *p = r->v[F_MODE];
    size_t n = r->len[F_MODE];
    int mode = -1;
    for (int i = 1; i <= 6 && mode < 0; i++)
        if (eq_ci_n(p, n, names[i], lens[i]))
            mode = i;
    if (mode < 0 && n == 1 && p[0] >= '0' && p[0] <= '9')
        mode = un[p[0] - '0'];
    if (mode < 0)
        return failf(fail, ER_Q_BAD_MODE, F_MODE, "mode: '%s' is not SEA, AIR, ROAD, RAIL, POST, OTHER or a UN code 0-9",
                     show(b, sizeof b, p, n));
    d->mode = (uint8_t)mode;
    return true;
}

static bool v_weights(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    (void)c;
    if (!take_num(r, F_NET_KG, &d->net_kg, &d->present, ER_P_NET_KG, fail) ||
        !take_num(r, F_GROSS_KG, &d->gross_kg, &d->present, ER_P_GROSS_KG, fail) ||
        !take_num(r, F_QUANTITY, &d->quantity, &d->present, ER_P_QUANTITY, fail))
        return false;
    if ((d->present & ER_P_NET_KG) && (d->present & ER_P_GROSS_KG) && d->gross_kg < d->net_kg)
        return failf(fail, ER_Q_GROSS_LT_NET, F_GROSS_KG, "gross_kg %.6g is less than net_kg %.6g", d->gross_kg,
                     d->net_kg);
    return true;
}

static bool v_value(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    (void)c;
    return take_num(r, F_VALUE, &d->value, &d->present, ER_P_VALUE, fail);
}

/* currency: ISO 4217 in the rates table */
static bool v_currency(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    char b[48];
    if (!has(r, F_CURRENCY))
        return true;
    const char *p = r->v[F_CURRENCY];
    uint32_t n = r->len[F_CURRENCY];
    double rate;
    if (n == 3) {
        d->currency[0] = upc(p[0]);
        d->currency[1] = upc(p[1]);
        d->currency[2] = upc(p[2]);
        d->currency[3] = '\0';
    }
    if (n != 3 || !ref_currency_rate(c->ref, d->currency, &rate)) {
        d->currency[0] = '\0';
        return failf(fail, ER_Q_BAD_CURRENCY, F_CURRENCY, "currency: '%s' is not an ISO 4217 code in the rates table",
                     show(b, sizeof b, p, n));
    }
    if (d->present & ER_P_VALUE) {
        d->value_ref = d->value * rate;
        d->present |= ER_P_VALUE_REF;
    }
    return true;
}

static bool v_packages(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    (void)c;
    return take_num(r, F_PACKAGES, &d->packages, &d->present, ER_P_PACKAGES, fail);
}

/* One extra column: limit, UTF-8, interned. */
static bool take_extra(const vctx *c, raw_rec *r, size_t i, er_decl *d, vfail *fail)
{
    const char *p = r->xval[i];
    uint32_t n = r->xlen[i];
    size_t at;
    int tc;
    if (n > ER_LIMIT_EXTRA) {
        failf(fail, ER_Q_TOO_LONG, -1, "extra '%s' is %u bytes, limit %d", r->xname[i], n, ER_LIMIT_EXTRA);
        fail->xfield = r->xname[i];
        return false;
    }
    if (!r->ascii && (tc = er_text_check(p, n, &at)) != 0) {
        failf(fail, ER_Q_BAD_UTF8, -1, "extra '%s': %s at byte %zu of the value (0x%02x)", r->xname[i],
              tc == 2 ? "NUL byte" : "invalid UTF-8", at, (unsigned char)p[at]);
        fail->xfield = r->xname[i];
        return false;
    }
    er_extra *x = &d->extra[d->n_extra];
    x->name = intern_str(c, r->xname[i], (uint32_t)strlen(r->xname[i]));
    x->value = intern_str(c, p, n);
    if (!x->name || !x->value)
        return failf(fail, ER_Q_TOO_LONG, -1, "out of memory storing extras");
    d->n_extra++;
    return true;
}

static bool v_extras(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    if (!r->n_extra)
        return true;
    d->extra = er_arena_alloc(c->arena, r->n_extra * sizeof *d->extra);
    if (!d->extra)
        return failf(fail, ER_Q_TOO_LONG, -1, "out of memory storing extras");
    for (size_t i = 0; i < r->n_extra; i++)
        if (!take_extra(c, r, i, d, fail))
            return false;
    return true;
}

/* --since / --until */
static bool v_range(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    (void)r;
    if ((c->since && d->date < c->since) || (c->until && d->date > c->until)) {
        char ds[11];
        er_date_format(d->date, ds);
        return failf(fail, ER_Q_OUT_OF_RANGE, F_DATE, "date %s is outside --since/--until", ds);
    }
    return true;
}

/* A plain string field into its member: its limit, and whether it is
 * interned (repeated values: declarants, offices, units) or copied (traders,
 * free text). */
#define STR(f, lim, intern, member) take_str(c, r, f, lim, intern, &d->member, fail)

bool er_validate(const vctx *c, raw_rec *r, er_decl *d, vfail *fail)
{
    const er_mapping *m = c->map;
    apply_mapping(m, r);
    /* Numbers in the source's notation (decimal comma, thousands separators). */
    char nb[5][64];
    if (m->decimal != '.' || m->thousands) {
        static const int numf[5] = {F_NET_KG, F_GROSS_KG, F_QUANTITY, F_VALUE, F_PACKAGES};
        for (int k = 0; k < 5; k++)
            if (has(r, numf[k]))
                localise_number(m, &r->v[numf[k]], &r->len[numf[k]], nb[k], sizeof nb[k]);
    }
    /* The order of the checks is the order in which a record's first problem is reported. */
    return v_id(c, r, d, fail) && v_date(c, r, d, fail) && v_flow(c, r, d, fail) &&
           STR(F_DECLARANT, ER_LIMIT_PARTY, true, declarant) && STR(F_IMPORTER, ER_LIMIT_PARTY, false, importer) &&
           STR(F_EXPORTER, ER_LIMIT_PARTY, false, exporter) && v_hs(c, r, d, fail) &&
           STR(F_DESCRIPTION, ER_LIMIT_DESCRIPTION, false, description) && v_countries(c, r, d, fail) &&
           v_transit(c, r, d, fail) && v_mode(c, r, d, fail) && STR(F_OFFICE, ER_LIMIT_OFFICE, true, office) &&
           v_weights(c, r, d, fail) && STR(F_UNIT, ER_LIMIT_UNIT, true, unit) && v_value(c, r, d, fail) &&
           v_currency(c, r, d, fail) && v_packages(c, r, d, fail) &&
           STR(F_CONTAINER, ER_LIMIT_CONTAINER, false, container) && STR(F_PERMITS, ER_LIMIT_DOCREFS, false, permits) &&
           STR(F_LICENCES, ER_LIMIT_DOCREFS, false, licences) && STR(F_CONSENTS, ER_LIMIT_DOCREFS, false, consents) &&
           v_extras(c, r, d, fail) && v_range(c, r, d, fail);
}
#undef STR
