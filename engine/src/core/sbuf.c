/*
 * sbuf.c — growable string buffer and JSON emitters (see sbuf.h).
 */
#include "core/sbuf.h"
#include "core/utf8.h"

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
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    er_sb_puts(b, tmp);
}

void er_sb_json_numg(er_sb *b, double x, int digits)
{
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    if (!isfinite(x)) {
        er_sb_puts(b, "null");
        return;
    }
    if (x == 0) {
        er_sb_putc(b, '0');
        return;
    }
    /* a whole number of at most `digits` digits: %g writes it without exponent or point */
    if (digits >= 1 && digits <= 15 && x == floor(x) && fabs(x) < pow10[digits]) {
        put_int(b, (long long)x);
        return;
    }
    er_sb_printf(b, "%.*g", digits, x);
}

void er_sb_json_int(er_sb *b, long long v) { put_int(b, v); }

void er_sb_json_key(er_sb *b, const char *key)
{
    if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
        er_sb_putc(b, ',');
    er_sb_json_cstr(b, key);
    er_sb_putc(b, ':');
}
