/*
 * test_csv.c — the RFC 4180 tokenizer: csv-spectrum cases parse to exactly
 * their expected JSON; CRLF, BOM, blank lines, embedded newlines, error
 * recovery (stray quotes, unterminated quotes, over-long lines) with exact
 * line numbers; and a randomized round trip across read-buffer boundaries.
 */
#include <json-c/json.h>

#include "check_main.h"
#include "csv.h"
#include "feed_fixture.h"
#include "source.h"

typedef struct rec_copy {
    int      err;
    uint64_t line, err_line;
    bool     ascii;
    char     raw[64];    /* the raw excerpt, cut at 63 bytes */
    size_t   n;
    char    *f[32];
    size_t   len[32];
} rec_copy;

typedef struct parsed {
    rec_copy r[4096];
    size_t   n;
    uint64_t blank;
} parsed;

static void parse_file(parsed *out, const char *path, size_t max_record)
{
    er_err err = {{0}};
    er_src *src = NULL;
    er_csv *c = NULL;
    ck_assert_msg(src_open(&src, path, NULL, &err) == ER_OK, "%s", err.msg);
    ck_assert_int_eq(csv_open(&c, src, max_record, &err), ER_OK);
    memset(out, 0, sizeof *out);
    csv_rec rec;
    er_status st;
    while ((st = csv_next(c, &rec, &err)) == ER_OK) {
        ck_assert_uint_lt(out->n, 4096);
        rec_copy *k = &out->r[out->n++];
        k->err = rec.err;
        k->line = rec.line;
        k->err_line = rec.err_line;
        k->ascii = rec.ascii;
        snprintf(k->raw, sizeof k->raw, "%.*s", (int)(rec.raw_len < 63 ? rec.raw_len : 63), rec.raw);
        k->n = rec.n;
        for (size_t i = 0; i < rec.n && i < 32; i++) {
            k->f[i] = malloc(rec.f[i].len + 1);
            memcpy(k->f[i], rec.f[i].p, rec.f[i].len);
            k->f[i][rec.f[i].len] = '\0';
            k->len[i] = rec.f[i].len;
        }
    }
    ck_assert_int_eq(st, ER_EOF);
    out->blank = csv_blank_lines(c);
    csv_free(c);
    src_free(src);
}

static void parse_text(parsed *out, const char *text, size_t len, size_t max_record)
{
    parse_file(out, fx_tmpfile(text, len, ".csv"), max_record);
}

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < p->n; i++)
        for (size_t k = 0; k < p->r[i].n && k < 32; k++)
            free(p->r[i].f[k]);
}

static parsed P;   /* large: static */

static const char *const SPECTRUM[] = {
    "comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json", "newlines",
    "newlines_crlf", "quotes_and_newlines", "simple", "simple_crlf", "utf8",
};

START_TEST(csv_spectrum)
{
    char rel[256];
    snprintf(rel, sizeof rel, "csv-spectrum/csvs/%s.csv", SPECTRUM[_i]);
    const char *csv = fx_shared(rel);
    if (access(csv, R_OK) != 0) {
        fprintf(stderr, "csv-spectrum not present (%s): skipped\n", csv);
        return;
    }
    parse_file(&P, csv, ER_LIMIT_RECORD);
    json_object *got = json_object_new_array();
    ck_assert_uint_ge(P.n, 1);
    for (size_t i = 1; i < P.n; i++) {
        ck_assert_int_eq(P.r[i].err, CSV_OK);
        ck_assert_uint_eq(P.r[i].n, P.r[0].n);
        json_object *o = json_object_new_object();
        for (size_t k = 0; k < P.r[i].n; k++)
            json_object_object_add(o, P.r[0].f[k],
                                   json_object_new_string_len(P.r[i].f[k], (int)P.r[i].len[k]));
        json_object_array_add(got, o);
    }
    snprintf(rel, sizeof rel, "csv-spectrum/json/%s.json", SPECTRUM[_i]);
    json_object *want = json_object_from_file(fx_shared(rel));
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(json_object_equal(got, want), "%s: got %s, want %s", SPECTRUM[_i],
                  json_object_to_json_string(got), json_object_to_json_string(want));
    json_object_put(got);
    json_object_put(want);
    parsed_free(&P);
}
END_TEST

START_TEST(bom_crlf_blank_lines_and_last_line)
{
    const char t[] = "\xEF\xBB\xBF" "a,b\r\n1,2\r\n\r\n\n3,\"x\r\ny\"\r\n4,5";
    parse_text(&P, t, sizeof t - 1, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 4);
    ck_assert_str_eq(P.r[0].f[0], "a");       /* BOM stripped */
    ck_assert_uint_eq(P.r[1].line, 2);
    ck_assert_str_eq(P.r[1].f[1], "2");       /* CR stripped */
    ck_assert_uint_eq(P.r[2].line, 5);        /* after two blank lines */
    ck_assert_str_eq(P.r[2].f[1], "x\r\ny");  /* embedded CRLF kept */
    ck_assert_uint_eq(P.r[3].line, 7);
    ck_assert_str_eq(P.r[3].f[1], "5");       /* last line without newline */
    ck_assert_uint_eq(P.blank, 2);
    parsed_free(&P);
}
END_TEST

START_TEST(quoting)
{
    const char t[] = "a,b,c\n\"\",\"x\"\"y\",\"\"\"\"\n,,\n\"a,b\",\"\n\",z\n";
    parse_text(&P, t, sizeof t - 1, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 4);
    ck_assert_str_eq(P.r[1].f[0], "");
    ck_assert_str_eq(P.r[1].f[1], "x\"y");
    ck_assert_str_eq(P.r[1].f[2], "\"");
    ck_assert_uint_eq(P.r[2].n, 3);
    ck_assert_str_eq(P.r[2].f[2], "");
    ck_assert_str_eq(P.r[3].f[0], "a,b");
    ck_assert_str_eq(P.r[3].f[1], "\n");
    ck_assert_uint_eq(P.r[3].line, 4);
    parsed_free(&P);
}
END_TEST

START_TEST(error_recovery)
{
    const char t[] = "a,b\n"
                     "1,\"x\"y\n"            /* 2: text after closing quote */
                     "2,3\n"                 /* 3 */
                     "4,x\"y\n"              /* 4: quote in an unquoted field */
                     "5,\"multi\nline\"z\n"  /* 5-6: error seen on line 6 */
                     "6,7\n"                 /* 7 */
                     "8,\"open\n"            /* 8: quote never closed */
                     "9,10\n";               /* 9 */
    parse_text(&P, t, sizeof t - 1, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 8);
    ck_assert_int_eq(P.r[1].err, CSV_ESYNTAX);
    ck_assert_uint_eq(P.r[1].line, 2);
    ck_assert_str_eq(P.r[2].f[0], "2");
    ck_assert_uint_eq(P.r[2].line, 3);
    ck_assert_int_eq(P.r[3].err, CSV_ESYNTAX);
    ck_assert_uint_eq(P.r[3].line, 4);
    ck_assert_int_eq(P.r[4].err, CSV_ESYNTAX);
    ck_assert_uint_eq(P.r[4].line, 5);
    ck_assert_uint_eq(P.r[4].err_line, 6);
    ck_assert_str_eq(P.r[5].f[0], "6");
    ck_assert_uint_eq(P.r[5].line, 7);
    ck_assert_int_eq(P.r[6].err, CSV_ESYNTAX);   /* unterminated: resume at the next line */
    ck_assert_uint_eq(P.r[6].line, 8);
    ck_assert_str_eq(P.r[7].f[0], "9");
    ck_assert_uint_eq(P.r[7].line, 9);
    parsed_free(&P);
}
END_TEST

START_TEST(record_limit)
{
    /* limit 64: a 100-byte line is too long; a quote left open for > 64 bytes
     * over several lines is a syntax error and parsing resumes at the next line */
    char t[2048];
    char longf[101];
    memset(longf, 'x', 100);
    longf[100] = '\0';
    snprintf(t, sizeof t, "a,b\n1,%s\n2,3\n4,\"open\nl1\nl2,z\nl3 and more text to pass the limit "
                          "of sixty four bytes in all\n5,6\n", longf);
    parse_text(&P, t, strlen(t), 64);
    ck_assert_int_eq(P.r[1].err, CSV_ETOOLONG);
    ck_assert_uint_eq(P.r[1].line, 2);
    ck_assert_str_eq(P.r[2].f[0], "2");
    ck_assert_uint_eq(P.r[2].line, 3);
    ck_assert_int_eq(P.r[3].err, CSV_ESYNTAX);
    ck_assert_uint_eq(P.r[3].line, 4);
    ck_assert_int_eq(P.r[4].err, CSV_OK);        /* "l1" */
    ck_assert_uint_eq(P.r[4].line, 5);
    ck_assert_uint_eq(P.r[5].n, 2);              /* "l2,z" */
    ck_assert_uint_eq(P.r[5].line, 6);
    ck_assert_uint_eq(P.r[6].line, 7);
    ck_assert_str_eq(P.r[7].f[0], "5");
    ck_assert_uint_eq(P.r[7].line, 8);
    ck_assert_uint_eq(P.n, 8);
    parsed_free(&P);
}
END_TEST

START_TEST(huge_line_is_skipped_streaming)
{
    /* a 3 MiB line (larger than the read buffer) with quotes inside */
    size_t n = 3u << 20;
    char *t = malloc(n + 64);
    size_t k = (size_t)sprintf(t, "a,b\n1,");
    for (size_t i = 0; i < n; i++)
        t[k++] = i % 1000 == 0 ? '"' : 'y';
    k += (size_t)sprintf(t + k, "\n2,3\n");
    parse_text(&P, t, k, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 3);
    ck_assert_int_eq(P.r[1].err, CSV_ETOOLONG);
    ck_assert_uint_eq(P.r[1].line, 2);
    ck_assert_str_eq(P.r[2].f[1], "3");
    ck_assert_uint_eq(P.r[2].line, 3);
    parsed_free(&P);
    free(t);
}
END_TEST

/* The read and unescape buffers start small and grow: a 700 KB quoted record
 * with doubled quotes and embedded newlines (under the 1 MiB limit) comes back
 * whole, between short records, with the right line numbers. */
START_TEST(buffers_grow_for_a_long_record)
{
    size_t n = 700000;
    char *t = malloc(n * 2 + 256);
    size_t k = (size_t)sprintf(t, "a,b\n1,2\n3,\"");
    size_t want = 0;
    char *expect = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        char ch = i % 5000 == 4999 ? '\n' : i % 777 == 0 ? '"' : (char)('a' + i % 26);
        if (ch == '"')
            t[k++] = '"';   /* doubled */
        t[k++] = ch;
        expect[want++] = ch;
    }
    expect[want] = '\0';
    k += (size_t)sprintf(t + k, "\"\n4,5\n");
    parse_text(&P, t, k, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 4);
    ck_assert_int_eq(P.r[2].err, CSV_OK);
    ck_assert_uint_eq(P.r[2].line, 3);
    ck_assert_uint_eq(P.r[2].len[1], want);
    ck_assert(memcmp(P.r[2].f[1], expect, want) == 0);
    ck_assert_str_eq(P.r[3].f[0], "4");
    ck_assert_uint_eq(P.r[3].line, 3 + n / 5000 + 1);
    parsed_free(&P);
    free(expect);
    free(t);
}
END_TEST

/* A record split in place says whether it is all ASCII without NUL
 * (validation then skips its UTF-8 checks): a byte >= 0x80 or a NUL anywhere,
 * also past the first 16 or 64 bytes and in the last partial block, clears
 * the flag. Records that need the state machine (a doubled quote, a field
 * spanning lines) are not known, so their fields are checked one by one. */
START_TEST(ascii_flag)
{
    static const char t[] = "a,b\n"
                            "plain,0123456789abcdefghij\n"
                            "caf\xc3\xa9,x\n"
                            "0123456789abcdefghij,k\xff\n"
                            "0123456789abcdef0123,nul\0x\n"
                            "\"q, r\",plain\n"
                            "\"a\"\"b\",plain\n"
                            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef,\"\xc3\xa9\"\n"
                            "\"two\nlines\",x\n";
    parse_text(&P, t, sizeof t - 1, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 9);
    ck_assert(P.r[0].ascii);
    ck_assert(P.r[1].ascii);
    ck_assert(!P.r[2].ascii);
    ck_assert(!P.r[3].ascii);
    ck_assert(!P.r[4].ascii);
    ck_assert(P.r[5].ascii);    /* quoted without escapes: split in place */
    ck_assert_str_eq(P.r[5].f[0], "q, r");
    ck_assert(!P.r[6].ascii);   /* doubled quote: state machine */
    ck_assert_str_eq(P.r[6].f[0], "a\"b");
    ck_assert(!P.r[7].ascii);
    ck_assert_str_eq(P.r[7].f[1], "\xc3\xa9");
    ck_assert(!P.r[8].ascii);
    ck_assert_str_eq(P.r[8].f[0], "two\nlines");
    parsed_free(&P);
}
END_TEST

/* The raw excerpt never holds the line end (LF, CRLF, or a CR ending the
 * input), whichever path split the record; a CR ending the input also ends a
 * quoted last field. */
START_TEST(raw_excerpt_without_line_end)
{
    static const char t[] = "a,b\r\n"
                            "1,2\r\n"
                            "\"x\"\"y\",2\r\n"
                            "\"multi\r\nline\",3\n"
                            "\"q\"\"\",\"4\"\r";   /* doubled quote: state machine */
    parse_text(&P, t, sizeof t - 1, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, 5);
    ck_assert_str_eq(P.r[1].raw, "1,2");
    ck_assert_str_eq(P.r[2].raw, "\"x\"\"y\",2");
    ck_assert_str_eq(P.r[3].raw, "\"multi\r\nline\",3");
    ck_assert_int_eq(P.r[4].err, CSV_OK);
    ck_assert_str_eq(P.r[4].raw, "\"q\"\"\",\"4\"");
    ck_assert_str_eq(P.r[4].f[0], "q\"");
    ck_assert_str_eq(P.r[4].f[1], "4");
    parsed_free(&P);
}
END_TEST

/* The bitmap splitter and the state machine agree on every 7-byte line made
 * of commas, quotes, CR, 'a' and spaces with an even number of quotes (an odd
 * one continues on the next line): the same fields, or the same error. Each
 * line is read once as it is and once after a first field with a doubled
 * quote, which forces the state machine; the two files are read in step.
 * The loop puts a first field of 0, 59 or 122 bytes before the 7 bytes, so
 * they also straddle the splitter's 64-byte words. */
/* Line lengths around the splitter's 64-byte words (a newline, or a CR and
 * its newline, at a word's edge) and past its 16 words (1025 bytes). */
static const int PADS[] = {0, 56, 59, 120, 122, 1017};
START_TEST(bitmap_split_matches_state_machine)
{
    static const char alphabet[] = ",\"a \r";
    char pad[1024];
    memset(pad, 'p', sizeof pad);
    int np = PADS[_i];
    size_t cap = 78125u * ((size_t)np + 24) + 64, na = 0, nb = 0, lines = 0;
    char *ta = malloc(cap), *tb = malloc(cap);
    na += (size_t)sprintf(ta, "h\n");
    nb += (size_t)sprintf(tb, "h\n");
    for (unsigned code = 0; code < 5u * 5 * 5 * 5 * 5 * 5 * 5; code++) {
        char line[8];
        unsigned x = code, quotes = 0;
        for (int i = 0; i < 7; i++, x /= 5) {
            line[i] = alphabet[x % 5];
            quotes += line[i] == '"';
        }
        if (quotes % 2)
            continue;
        na += (size_t)sprintf(ta + na, "%.*s%s%.7s\n", np, pad, np ? "," : "", line);
        nb += (size_t)sprintf(tb + nb, "\"\"\"\",%.*s%s%.7s\n", np, pad, np ? "," : "", line);
        lines++;
    }
    er_err err = {{0}};
    er_src *sa = NULL, *sb = NULL;
    er_csv *ca = NULL, *cb = NULL;
    ck_assert_int_eq(src_open(&sa, fx_tmpfile(ta, na, ".csv"), NULL, &err), ER_OK);
    ck_assert_int_eq(src_open(&sb, fx_tmpfile(tb, nb, ".csv"), NULL, &err), ER_OK);
    ck_assert_int_eq(csv_open(&ca, sa, ER_LIMIT_RECORD, &err), ER_OK);
    ck_assert_int_eq(csv_open(&cb, sb, ER_LIMIT_RECORD, &err), ER_OK);
    csv_rec ra, rb;
    size_t recs = 0, errors = 0, quoted = 0, trimmed = 0, untrimmed = 0;
    for (;;) {
        er_status s1 = csv_next(ca, &ra, &err), s2 = csv_next(cb, &rb, &err);
        ck_assert_int_eq(s1, s2);
        if (s1 == ER_EOF)
            break;
        ck_assert_int_eq(s1, ER_OK);
        recs++;
        ck_assert_uint_eq(ra.line, rb.line);
        ck_assert_msg(ra.err == rb.err, "line %llu: '%.*s'", (unsigned long long)ra.line,
                      (int)ra.raw_len, ra.raw);
        if (ra.err != CSV_OK) {
            errors++;
            continue;
        }
        if (ra.line == 1)
            continue;   /* the header */
        ck_assert_msg(ra.n + 1 == rb.n, "line %llu: '%.*s' vs '%.*s': %zu and %zu fields",
                      (unsigned long long)ra.line, (int)ra.raw_len, ra.raw, (int)rb.raw_len, rb.raw,
                      ra.n, rb.n);
        if (memchr(ra.raw, '"', ra.raw_len))
            quoted++;
        for (size_t f = 0; f < ra.n; f++)
            ck_assert_msg(ra.f[f].len == rb.f[f + 1].len &&
                              memcmp(ra.f[f].p, rb.f[f + 1].p, ra.f[f].len) == 0,
                          "line %llu: '%.*s' field %zu", (unsigned long long)ra.line,
                          (int)ra.raw_len, ra.raw, f);
        /* trimmed: no field starts or ends with a byte <= ' ' (what lets
         * validation skip trimming); the bitmap split says so exactly */
        bool edge = false;
        for (size_t f = 0; f < ra.n; f++)
            edge |= ra.f[f].len && ((unsigned char)ra.f[f].p[0] <= ' ' ||
                                    (unsigned char)ra.f[f].p[ra.f[f].len - 1] <= ' ');
        ck_assert_msg(!(ra.trimmed && edge), "line %llu: '%.*s' is not trimmed", (unsigned long long)ra.line,
                      (int)ra.raw_len, ra.raw);
        /* only a line the state machine splits (quotes it reads leniently or
         * doubled) or a line past the bitmaps' 1024 bytes is left unjudged */
        ck_assert_msg(ra.trimmed || edge || memchr(ra.raw, '"', ra.raw_len) || ra.raw_len > 1024,
                      "line %llu: '%.*s' not judged",
                      (unsigned long long)ra.line, (int)ra.raw_len, ra.raw);
        trimmed += ra.trimmed;
        untrimmed += edge;
    }
    ck_assert_uint_eq(recs, lines + 1);
    ck_assert_uint_gt(errors, 1000);
    ck_assert_uint_gt(quoted, 1000);
    if (np < 1000)
        ck_assert_uint_gt(trimmed, 1000);
    ck_assert_uint_gt(untrimmed, 1000);
    csv_free(cb);
    csv_free(ca);
    src_free(sb);
    src_free(sa);
    free(tb);
    free(ta);
}
END_TEST

/* Random fields (commas, quotes, CR/LF, UTF-8) written per RFC 4180 and read
 * back across many buffer refills must come back identical. */
START_TEST(random_round_trip)
{
    static const char alphabet[] = "ab,\"\r\n \xc3\xa9x";
    uint64_t x = 0x2545F4914F6CDD1DULL + (uint64_t)_i;
    size_t cap = 6u << 20, k = 0;
    char *t = malloc(cap);
    char *fields[4096][4];
    size_t nrec = 0;
    while (nrec < 3000) {
        for (int c = 0; c < 4; c++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            size_t len = (x >> 8) % (c == 3 ? 1500 : 12);
            char *f = malloc(len + 1);
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                f[i] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
            }
            f[len] = '\0';
            if (c == 0 && len == 0) {   /* avoid a blank line: one empty field alone */
                f = realloc(f, 2);
                f[0] = 'k';
                f[1] = '\0';
            }
            fields[nrec][c] = f;
            bool q = strpbrk(f, ",\"\r\n") != NULL;
            if (q) t[k++] = '"';
            for (char *p = f; *p; p++) {
                if (*p == '"') t[k++] = '"';
                t[k++] = *p;
            }
            if (q) t[k++] = '"';
            t[k++] = c == 3 ? '\n' : ',';
        }
        nrec++;
    }
    parse_text(&P, t, k, ER_LIMIT_RECORD);
    ck_assert_uint_eq(P.n, nrec);
    for (size_t i = 0; i < nrec; i++) {
        ck_assert_int_eq(P.r[i].err, CSV_OK);
        ck_assert_uint_eq(P.r[i].n, 4);
        for (int c = 0; c < 4; c++) {
            /* a bare CR before the record's LF is a CRLF line end: the writer
             * quoted any field holding CR, so fields compare exactly */
            ck_assert_str_eq(P.r[i].f[c], fields[i][c]);
            free(fields[i][c]);
        }
    }
    parsed_free(&P);
    free(t);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *t = tcase_create("csv");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, csv_spectrum, 0, (int)(sizeof SPECTRUM / sizeof SPECTRUM[0]));
    tcase_add_test(t, bom_crlf_blank_lines_and_last_line);
    tcase_add_test(t, quoting);
    tcase_add_test(t, error_recovery);
    tcase_add_test(t, record_limit);
    tcase_add_test(t, huge_line_is_skipped_streaming);
    tcase_add_test(t, buffers_grow_for_a_long_record);
    tcase_add_test(t, ascii_flag);
    tcase_add_test(t, raw_excerpt_without_line_end);
    tcase_add_loop_test(t, bitmap_split_matches_state_machine, 0, (int)(sizeof PADS / sizeof PADS[0]));
    tcase_add_loop_test(t, random_round_trip, 0, 3);
    suite_add_tcase(s, t);
    return s;
}
