/*
 * test_sbuf.c — the JSON string builder used for alerts and summaries:
 * escaping (controls, quotes, invalid UTF-8), number formatting, keys; and
 * the word loads of short strings (core/wordload.h) used by the hashes.
 */
#include "check_main.h"
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/utf8.h"
#include "core/wordload.h"

/* xorshift64: the tests' values, the same on every run. */
static uint64_t next_rand(uint64_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    return *r;
}

START_TEST(test_escape)
{
    er_sb b = {0};
    er_sb_json_str(&b, "a\"b\\c\n\t\x01", 8);
    ck_assert_str_eq(b.p, "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    er_sb_reset(&b);
    /* valid multi-byte UTF-8 passes through; invalid bytes become U+FFFD */
    er_sb_json_cstr(&b, "caf\xc3\xa9 \xff \xed\xa0\x80");
    ck_assert_str_eq(b.p, "\"caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    er_sb_reset(&b);
    er_sb_json_cstr(&b, NULL);
    ck_assert_str_eq(b.p, "\"\"");
    er_sb_free(&b);
}
END_TEST

/* The escaping, byte by byte as docs/feeds.md states it: quote and
 * backslash escaped, controls as \n \r \t or \u00XX, valid UTF-8 as it
 * stands, any other byte U+FFFD. */
static void json_str_reference(er_sb *b, const unsigned char *s, size_t n)
{
    er_sb_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            er_sb_putc(b, '\\');
            er_sb_putc(b, (char)c);
            i++;
        } else if (c < 0x20) {
            if (c == '\n')
                er_sb_puts(b, "\\n");
            else if (c == '\r')
                er_sb_puts(b, "\\r");
            else if (c == '\t')
                er_sb_puts(b, "\\t");
            else
                er_sb_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            er_sb_putc(b, (char)c);
            i++;
        } else {
            size_t l = er_utf8_seq(s + i, n - i);
            er_sb_put(b, l ? (const char *)s + i : "\xEF\xBF\xBD", l ? l : 3);
            i += l ? l : 1;
        }
    }
    er_sb_putc(b, '"');
}

/* Long plain runs (taken 16 bytes at a time) broken at every position by
 * each kind of byte that ends them. */
START_TEST(test_escape_runs)
{
    static const char *breakers[] = {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xff", "\xe2\x82\xac", " "};
    er_sb got = {0}, want = {0};
    uint64_t r = 0x2545F4914F6CDD1DULL;
    for (int i = 0; i < 20000; i++) {
        next_rand(&r);
        unsigned char text[96];
        size_t n = (size_t)(r % 90);
        for (size_t k = 0; k < n; k++)
            text[k] = (unsigned char)('a' + (r >> (k % 40)) % 26);
        size_t at = n ? (size_t)(r >> 20) % n : 0;
        const char *br = breakers[(r >> 40) % (sizeof breakers / sizeof *breakers)];
        size_t bl = strlen(br);
        if (at + bl <= n)
            memcpy(text + at, br, bl);
        er_sb_reset(&got);
        er_sb_reset(&want);
        er_sb_json_str(&got, (const char *)text, n);
        json_str_reference(&want, text, n);
        ck_assert_msg(got.len == want.len && memcmp(got.p, want.p, got.len) == 0, "case %d: %s vs %s", i, got.p,
                      want.p);
    }
    er_sb_free(&got);
    er_sb_free(&want);
}
END_TEST

START_TEST(test_numbers)
{
    er_sb b = {0};
    er_sb_json_num(&b, 12);
    er_sb_putc(&b, ' ');
    er_sb_json_num(&b, 0.1);
    er_sb_putc(&b, ' ');
    er_sb_json_num(&b, -0.0);
    er_sb_putc(&b, ' ');
    er_sb_json_num(&b, NAN);
    er_sb_putc(&b, ' ');
    er_sb_json_num(&b, 1.0 / 3.0);
    er_sb_putc(&b, ' ');
    er_sb_json_numg(&b, 0.000123456789, 6);
    ck_assert_str_eq(b.p, "12 0.1 0 null 0.3333333333333333 0.000123457");
    ck_assert(strtod("0.3333333333333333", NULL) == 1.0 / 3.0);
    er_sb_free(&b);
}
END_TEST

/* The whole-number paths of er_sb_json_numg / _num / _int write what printf
 * writes, on 400,000 values around every power of ten and at random. */
START_TEST(test_numbers_as_printf)
{
    er_sb b = {0};
    char want[64];
    uint64_t r = 88172645463325252ULL;
    for (int i = 0; i < 400000; i++) {
        next_rand(&r);
        double x;
        int kind = i % 4;
        if (kind == 0) {           /* around a power of ten */
            double p = pow(10, (double)(r % 17));
            x = p + (double)((int)(r >> 8 & 7) - 4);
        } else if (kind == 1) {    /* a whole number of up to 16 digits */
            x = (double)(r % 10000000000000000ULL) / pow(10, (double)(r >> 56 & 15));
            x = floor(x);
        } else if (kind == 2) {    /* any magnitude, often not whole */
            x = (double)(r >> 11) * 0x1p-53 * pow(10, (double)((int)(r % 40) - 20));
        } else {
            x = (double)(int64_t)(r >> 20) / 8.0;
        }
        if (r & 1)
            x = -x;
        int digits = 1 + (int)(r >> 40) % 17;
        er_sb_reset(&b);
        er_sb_json_numg(&b, x, digits);
        snprintf(want, sizeof want, "%.*g", digits, x);
        if (x == 0)
            snprintf(want, sizeof want, "0");
        ck_assert_msg(strcmp(b.p, want) == 0, "numg(%.17g, %d): %s, printf %s", x, digits, b.p, want);
        er_sb_reset(&b);
        er_sb_json_num(&b, x);
        if (x == floor(x) && fabs(x) < 1e15) {
            snprintf(want, sizeof want, "%.0f", x == 0 ? 0.0 : x);
            ck_assert_msg(strcmp(b.p, want) == 0, "num(%.17g): %s, printf %s", x, b.p, want);
        }
        long long v = (long long)(r ^ (r << 31));
        er_sb_reset(&b);
        er_sb_json_int(&b, v);
        snprintf(want, sizeof want, "%lld", v);
        ck_assert_str_eq(b.p, want);
    }
    er_sb_reset(&b);
    er_sb_json_int(&b, LLONG_MIN);
    snprintf(want, sizeof want, "%lld", LLONG_MIN);
    ck_assert_str_eq(b.p, want);
    er_sb_free(&b);
}
END_TEST

/* The old er_sb_json_num: the shortest of %.15g, %.16g, %.17g that reads back. */
static void json_num_reference(char *out, size_t cap, double x)
{
    if (!isfinite(x)) {
        snprintf(out, cap, "null");
        return;
    }
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(out, cap, "%.0f", x == 0 ? 0.0 : x);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
}

/* er_sb_numg, the fractional path of er_sb_json_num and er_sb_printg write
 * what printf writes: doubles of every magnitude (subnormals too), decimal
 * rounding ties and their neighbours, powers of ten and theirs, at every
 * precision. */
START_TEST(test_fractions_as_printf)
{
    er_sb b = {0};
    char want[160];
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 600000; i++) {
        next_rand(&r);
        double x;
        int kind = i % 5;
        if (kind == 0) {   /* any bit pattern that is a finite double */
            uint64_t u = r & 0x7fefffffffffffffULL;
            memcpy(&x, &u, sizeof x);
        } else if (kind == 1) {   /* near the usual magnitudes */
            x = ldexp((double)(r >> 11) * 0x1p-53, (int)(r % 140) - 70);
        } else if (kind == 2) {   /* a decimal tie d.ddd5 at some precision, or next to it */
            double d = (double)(r >> 20 & 0xfffff) * 10 + 5;
            x = d / pow(10, (double)(r % 24)) * pow(10, (double)(r >> 8 % 8));
            if (r & 2)
                x = nextafter(x, (r & 4) ? INFINITY : 0);
        } else if (kind == 3) {   /* a power of ten, or next to it */
            x = pow(10, (double)((int)(r % 60) - 30));
            if (r & 2)
                x = nextafter(x, (r & 4) ? INFINITY : 0);
        } else {   /* 9.99..95 and 0.99..95 kinds: rounding up a digit */
            int n = 1 + (int)(r % 15);
            x = (pow(10, n) - 0.5) / pow(10, (double)(r >> 8 % 20));
        }
        if (r & 1)
            x = -x;
        int prec = 1 + (int)(r >> 40) % 17;
        er_sb_reset(&b);
        er_sb_numg(&b, x, prec);
        snprintf(want, sizeof want, "%.*g", prec, x);
        ck_assert_msg(strcmp(b.p, want) == 0, "numg(%a, %d): %s, printf %s", x, prec, b.p, want);
        er_sb_reset(&b);
        er_sb_json_num(&b, x);
        json_num_reference(want, sizeof want, x);
        ck_assert_msg(strcmp(b.p, want) == 0, "num(%a): %s, reference %s", x, b.p, want);
        /* and er_sb_printg, the evidence texts' printf, on a quarter of them */
        if (i % 4)
            continue;
        const char *s = (r & 8) ? "unit_value" : "";
        er_sb_reset(&b);
        er_sb_printg(&b, "%s p=%.3g %s (observed %.6g, 100%% %.9g..%.1g)%s", s, x, "<", x * 7, x, -x, s);
        snprintf(want, sizeof want, "%s p=%.3g %s (observed %.6g, 100%% %.9g..%.1g)%s", s, x, "<", x * 7, x, -x, s);
        ck_assert_str_eq(b.p, want);
    }
    static const double fixed[] = {0.0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 0.5, 0.15, 0.25, 2.5, 1e22, 1e23,
                                   9.5, 99999.95, 0.000099999995, 123456.5, 1e-5, 0.0001, 100000, 999999.5};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int prec = 1; prec <= 17; prec++) {
            er_sb_reset(&b);
            er_sb_numg(&b, fixed[i], prec);
            snprintf(want, sizeof want, "%.*g", prec, fixed[i]);
            ck_assert_msg(strcmp(b.p, want) == 0, "numg(%a, %d): %s, printf %s", fixed[i], prec, b.p, want);
        }
    er_sb_free(&b);
}
END_TEST

START_TEST(test_keys)
{
    er_sb b = {0};
    er_sb_putc(&b, '{');
    er_sb_json_key(&b, "a");
    er_sb_json_int(&b, 1);
    er_sb_json_key(&b, "b");
    er_sb_putc(&b, '[');
    er_sb_putc(&b, ']');
    er_sb_putc(&b, '}');
    ck_assert_str_eq(b.p, "{\"a\":1,\"b\":[]}");
    ck_assert_uint_eq(b.len, strlen(b.p));
    ck_assert(!b.oom);
    er_sb_free(&b);
    er_sb_free(NULL);
}
END_TEST

/* Short strings read as words (core/wordload.h) equal a zero-padded byte
 * copy, for every length up to 24 and every position in a buffer, reading
 * nothing outside the string (the buffer around it is poisoned under ASan
 * by being a separate allocation of exactly n bytes). */
START_TEST(test_wordload)
{
    uint64_t seed = 7;
    for (size_t n = 0; n <= 24; n++)
        for (int rep = 0; rep < 200; rep++) {
            unsigned char *p = malloc(n ? n : 1);
            ck_assert_ptr_nonnull(p);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                p[i] = (unsigned char)(seed >> 56);
            }
            uint64_t w[2], r[2] = {0, 0};
            er_load16(p, n, w);
            memcpy(r, p, n < 16 ? n : 16);
            ck_assert_msg(w[0] == r[0] && w[1] == r[1], "n=%zu", n);
            if (n < 8) {
                uint64_t t = 0;
                memcpy(&t, p, n);
                ck_assert_msg(er_load_tail(p, n) == t, "tail n=%zu", n);
            }
            free(p);
        }
}
END_TEST

START_TEST(test_growth)
{
    er_sb b = {0};
    for (int i = 0; i < 100000; i++)
        er_sb_printf(&b, "%d,", i % 10);
    ck_assert_uint_eq(b.len, 200000);
    ck_assert_int_eq(b.p[199998], '9');
    er_sb_free(&b);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("sbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_escape_runs);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_numbers_as_printf);
    tcase_add_test(tc, test_fractions_as_printf);
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_wordload);
    suite_add_tcase(s, tc);
    return s;
}
