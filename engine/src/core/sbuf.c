/*
 * sbuf.c — growable string buffer and JSON emitters (see sbuf.h).
 */
#include "core/sbuf.h"
#include "core/pow10.h"
#include "core/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void er_sb_free(er_sb *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

bool er_sb_reserve(er_sb *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1)
        nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = nc;
    return true;
}

void er_sb_put(er_sb *b, const char *s, size_t n)
{
    if (!er_sb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void er_sb_puts(er_sb *b, const char *s) { er_sb_put(b, s, strlen(s)); }

void er_sb_putc(er_sb *b, char c)
{
    if (!er_sb_reserve(b, 1))
        return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* Formats once into the free space (numbers and short texts fit in 64 bytes);
 * only a longer result is formatted again after the buffer grows. */
void er_sb_printf(er_sb *b, const char *fmt, ...)
{
    va_list ap;
    if (!er_sb_reserve(b, 64))
        return;
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->p[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        if (!er_sb_reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void er_sb_json_str(er_sb *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!er_sb_reserve(b, n + 2))
        return;
    er_sb_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
#ifdef __SSE2__
        /* 16 bytes at a time while none needs escaping or is past ASCII */
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), low = _mm_set1_epi8(0x1f);
        while (run + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + run));
            __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                       _mm_cmpeq_epi8(_mm_min_epu8(v, low), v));   /* v <= 0x1f */
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(bad, v));   /* or the high bit */
            if (m) {
                run += (size_t)__builtin_ctz(m);
                break;
            }
            run += 16;
        }
#endif
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            er_sb_put(b, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            er_sb_put(b, e, 2);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': er_sb_put(b, "\\n", 2); break;
            case '\r': er_sb_put(b, "\\r", 2); break;
            case '\t': er_sb_put(b, "\\t", 2); break;
            default: er_sb_printf(b, "\\u%04x", c); break;
            }
            i++;
        } else {
            size_t l = er_utf8_seq(s + i, n - i);
            if (l == 0) {
                er_sb_put(b, "\xEF\xBF\xBD", 3);
                i++;
            } else {
                er_sb_put(b, (const char *)s + i, l);
                i += l;
            }
        }
    }
    er_sb_putc(b, '"');
}

/* The decimal digits of v, as printf's %lld writes them, without printf:
 * alerts hold a few dozen whole numbers each (counts, ranges, ids). */
static void put_int(er_sb *b, long long v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    er_sb_put(b, p, (size_t)(e - p));
}

/* printf's "%.*g" of x with prec significant digits (1 to 15) into out (32
 * bytes), without printf, when one rounding of double arithmetic decides
 * every digit: x scaled by an exact power of ten is off by at most half an
 * ulp, so unless it lies within an ulp of a rounding tie its nearest whole
 * number is the one printf's exact conversion rounds to. Returns the length,
 * or 0 when printf must decide (zero, not finite, a near-tie, a power of ten
 * past 1e22). *digits / 10^*k10 is then |x| rounded (for round-trip checks). */
static size_t fmt_g(char *out, double x, int prec, uint64_t *digits, int *k10)
{
    if (prec < 1 || prec > 15 || !isfinite(x) || x == 0)
        return 0;
    double ax = fabs(x);
    int b2;
    frexp(ax, &b2);
    int e = (int)floor((b2 - 1) * 0.30102999566398120);   /* floor(log10(ax)), or one off */
    uint64_t d = 0;
    for (int tries = 0;; tries++) {
        int k = prec - 1 - e;
        if (tries == 3 || k > ER_POW10_EXACT_MAX || k < -ER_POW10_EXACT_MAX)
            return 0;
        double s = k >= 0 ? ax * er_pow10_exact[k] : ax / er_pow10_exact[-k];
        if (s < er_pow10_exact[prec - 1]) {
            e--;
            continue;
        }
        if (s >= er_pow10_exact[prec]) {
            e++;
            continue;
        }
        double fl = floor(s), frac = s - fl;
        if (fabs(frac - 0.5) <= s * 0x1p-52)
            return 0;
        d = (uint64_t)fl + (frac > 0.5);
        if (d == (uint64_t)er_pow10_exact[prec]) {   /* 9.99…5 rounded up */
            d /= 10;
            e++;
        }
        *digits = d;
        *k10 = prec - 1 - e;
        break;
    }
    char dg[16];
    for (int i = prec - 1; i >= 0; i--, d /= 10)
        dg[i] = (char)('0' + d % 10);
    int nd = prec;   /* significant digits left once trailing zeros go */
    while (nd > 1 && dg[nd - 1] == '0')
        nd--;
    char *p = out;
    if (signbit(x))
        *p++ = '-';
    if (e < -4 || e >= prec) {   /* d.ddde±XX */
        *p++ = dg[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dg + 1, (size_t)nd - 1);
            p += nd - 1;
        }
        int ae = e < 0 ? -e : e;
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        if (ae >= 100)
            *p++ = (char)('0' + ae / 100);
        *p++ = (char)('0' + ae / 10 % 10);
        *p++ = (char)('0' + ae % 10);
    } else if (e >= 0) {         /* ddd.ddd */
        memcpy(p, dg, (size_t)e + 1);
        p += e + 1;
        if (nd > e + 1) {
            *p++ = '.';
            memcpy(p, dg + e + 1, (size_t)(nd - e - 1));
            p += nd - e - 1;
        }
    } else {                     /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -e - 1; i++)
            *p++ = '0';
        memcpy(p, dg, (size_t)nd);
        p += nd;
    }
    return (size_t)(p - out);
}

void er_sb_numg(er_sb *b, double x, int prec)
{
    char tmp[32];
    uint64_t d;
    int k;
    size_t n = fmt_g(tmp, x, prec, &d, &k);
    if (n)
        er_sb_put(b, tmp, n);
    else
        er_sb_printf(b, "%.*g", prec, x);
}

void er_sb_printg(er_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            er_sb_puts(b, p);
            break;
        }
        er_sb_put(b, p, (size_t)(pct - p));
        p = pct + 1;
        if (*p == 's') {
            const char *str = va_arg(ap, const char *);
            er_sb_puts(b, str ? str : "(null)");   /* as glibc's printf */
        } else if (p[0] == '.' && p[1] >= '1' && p[1] <= '9' && p[2] == 'g') {
            er_sb_numg(b, va_arg(ap, double), p[1] - '0');
            p += 2;
        } else {   /* "%%", or a conversion this writer does not take: as it stands */
            er_sb_putc(b, '%');
            if (*p != '%')
                p--;
        }
    }
    va_end(ap);
}

void er_sb_json_num(er_sb *b, double x)
{
    if (!isfinite(x)) {
        er_sb_puts(b, "null");
        return;
    }
    if (x == floor(x) && fabs(x) < 1e15) {
        put_int(b, (long long)x);   /* as %.0f; -0 is 0 */
        return;
    }
    char tmp[40];
    uint64_t d;
    int k;
    size_t n = fmt_g(tmp, x, 15, &d, &k);
    /* d / 10^k is correctly rounded (d < 2^53, |k| <= 22), as strtod reads the text */
    if (n && (k >= 0 ? (double)d / er_pow10_exact[k] : (double)d * er_pow10_exact[-k]) == fabs(x)) {
        er_sb_put(b, tmp, n);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    er_sb_puts(b, tmp);
}

void er_sb_json_numg(er_sb *b, double x, int digits)
{
    if (!isfinite(x)) {
        er_sb_puts(b, "null");
        return;
    }
    if (x == 0) {
        er_sb_putc(b, '0');
        return;
    }
    /* a whole number of at most `digits` digits: %g writes it without exponent or point */
    if (digits >= 1 && digits <= 15 && x == floor(x) && fabs(x) < er_pow10_exact[digits]) {
        put_int(b, (long long)x);
        return;
    }
    er_sb_numg(b, x, digits);
}

void er_sb_json_int(er_sb *b, long long v) { put_int(b, v); }

void er_sb_json_key(er_sb *b, const char *key)
{
    if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        er_sb_putc(b, ',');
    er_sb_json_cstr(b, key);
    er_sb_putc(b, ':');
}
