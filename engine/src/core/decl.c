/*
 * decl.c — the declaration batch (arena-backed decls + quarantine records),
 * the stable names of flows, modes and quarantine reasons, and ISO dates.
 */
#include "ecorisk/decl.h"
#include "core/bigmem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *er_flow_str(er_flow f)
{
    switch (f) {
    case ER_FLOW_IM: return "IM";
    case ER_FLOW_EX: return "EX";
    case ER_FLOW_TR: return "TR";
    default: return "";
    }
}

const char *er_mode_str(er_mode m)
{
    static const char *const n[] = {"", "SEA", "AIR", "ROAD", "RAIL", "POST", "OTHER"};
    return (unsigned)m < sizeof n / sizeof n[0] ? n[m] : "";
}

const char *er_qreason_str(er_qreason r)
{
    static const char *const n[ER_Q_COUNT] = {
        [ER_Q_SYNTAX] = "syntax",
        [ER_Q_FIELD_COUNT] = "field_count",
        [ER_Q_MISSING_FIELD] = "missing_field",
        [ER_Q_BAD_HS] = "bad_hs",
        [ER_Q_BAD_DATE] = "bad_date",
        [ER_Q_BAD_NUMBER] = "bad_number",
        [ER_Q_NEGATIVE] = "negative",
        [ER_Q_GROSS_LT_NET] = "gross_lt_net",
        [ER_Q_TOO_LONG] = "too_long",
        [ER_Q_BAD_UTF8] = "bad_utf8",
        [ER_Q_BAD_COUNTRY] = "bad_country",
        [ER_Q_BAD_CURRENCY] = "bad_currency",
        [ER_Q_BAD_FLOW] = "bad_flow",
        [ER_Q_BAD_MODE] = "bad_mode",
        [ER_Q_DUPLICATE_ID] = "duplicate_id",
        [ER_Q_OUT_OF_RANGE] = "out_of_range",
    };
    return (unsigned)r < ER_Q_COUNT ? n[r] : "unknown";
}

er_status er_batch_new(er_batch **out, size_t cap, er_err *err)
{
    er_batch *b = calloc(1, sizeof *b);
    if (!b)
        goto nomem;
    b->cap = cap ? cap : 8192;
    b->decls = calloc(b->cap, sizeof *b->decls);   /* large: fresh pages, zeroed as touched */
    if (!b->decls)
        goto nomem;
    /* Arena blocks sized to the batch (a small batch costs little), at most
     * 2 MiB with the header; more blocks come as needed. */
    size_t block = b->cap * 512, most = ((size_t)2 << 20) - 64;
    b->arena = er_arena_new(block < (64u << 10) ? (64u << 10) : block > most ? most : block);
    if (!b->arena)
        goto nomem;
    *out = b;
    return ER_OK;
nomem:
    er_batch_free(b);
    return er_errf(err, ER_ENOMEM, "out of memory allocating a batch of %zu declarations", cap);
}

void er_batch_free(er_batch *b)
{
    if (!b)
        return;
    er_arena_free(b->arena);
    free(b->quarantined);
    free(b->decls);
    free(b);
}

void er_batch_reset(er_batch *b)
{
    b->n = 0;
    b->n_q = 0;
    er_arena_reset(b->arena);
}

er_decl *er_batch_push(er_batch *b)
{
    if (b->n >= b->cap)
        return NULL;
    er_decl *d = &b->decls[b->n++];
    memset(d, 0, sizeof *d);
    return d;
}

er_status er_batch_quarantine(er_batch *b, const char *file, uint64_t line, uint64_t seq,
                              er_qreason reason, const char *field, const char *excerpt,
                              size_t excerpt_len, const char *fmt, ...)
{
    if (b->n_q == b->cap_q) {
        size_t nc = b->cap_q ? b->cap_q * 2 : 64;
        er_qrecord *nq = realloc(b->quarantined, nc * sizeof *nq);
        if (!nq)
            return ER_ENOMEM;
        b->quarantined = nq;
        b->cap_q = nc;
    }
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    er_qrecord *q = &b->quarantined[b->n_q];
    q->file = file;
    q->line = line;
    q->seq = seq;
    q->reason = reason;
    q->field = field ? er_arena_intern(b->arena, field, strlen(field)) : NULL;
    q->detail = er_arena_strndup(b->arena, detail, strlen(detail));
    if (excerpt_len > 200)
        excerpt_len = 200;
    q->excerpt = excerpt ? er_arena_strndup(b->arena, excerpt, excerpt_len) : NULL;
    q->excerpt_len = excerpt ? excerpt_len : 0;
    if (!q->detail || (field && !q->field) || (excerpt && !q->excerpt))
        return ER_ENOMEM;
    b->n_q++;
    return ER_OK;
}

const char *er_decl_extra(const er_decl *d, const char *name)
{
    for (uint32_t i = 0; i < d->n_extra; i++)
        if (strcmp(d->extra[i].name, name) == 0)
            return d->extra[i].value;
    return NULL;
}

/* Days from civil date (Howard Hinnant's algorithm), proleptic Gregorian. */
static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static int dig(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

er_status er_date_parse(const char *s, size_t len, int32_t *days)
{
    int v[8];
    size_t i = 0, n = 0;
    bool dashed;
    if (len >= 10 && s[4] == '-' && s[7] == '-')
        dashed = true;
    else if (len >= 8)
        dashed = false;
    else
        return ER_EPARSE;
    for (i = 0; n < 8 && i < len; i++) {
        if (dashed && (i == 4 || i == 7))
            continue;
        v[n] = dig(s[i]);
        if (v[n] < 0)
            return ER_EPARSE;
        n++;
    }
    if (n < 8)
        return ER_EPARSE;
    if (i < len && s[i] != 'T' && s[i] != ' ')
        return ER_EPARSE;
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return ER_EPARSE;
    int md = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > md)
        return ER_EPARSE;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return ER_OK;
}

void er_date_format(int32_t days, char out[11])
{
    /* 64-bit: any int32_t day count (e.g. an "open" end INT32_MAX) is defined;
     * years outside 0..9999 print modulo 10000 (clamped at 0 below). */
    const int64_t z = (int64_t)days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    y = y < 0 ? 0 : y % 10000;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}
