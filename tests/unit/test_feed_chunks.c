/*
 * test_feed_chunks.c — reading a feed in chunks (er_feed_cut / _parse /
 * _settle, as the daily run does on its threads) gives exactly what
 * er_feed_next gives: the same declarations, quarantine records (line, seq,
 * reason, detail, excerpt) and statistics, whatever the chunk size. Cases
 * that the cutter must get right by hand (fields spanning lines, errors that
 * resynchronise, blank and CRLF lines, lines over the record limit, duplicate
 * ids across chunks, another delimiter), seeded random feeds built from
 * such pieces, and JSON Lines (blank and CRLF lines, non-objects, syntax
 * errors, lines over the record limit).
 */
#include "check_main.h"
#include "feed_chunks_compare.h"
#include "feed_fixture.h"

#define HDR "id,date,flow,hs,description,origin,value,currency\n"

static const size_t chunk_sizes[] = {1, 2, 3, 5, 8, 64, 8192};

static void same_every_size(const char *text, size_t len, const char *suffix, const er_mapping *map)
{
    const char *path = fx_tmpfile(text, len, suffix);
    er_feed_opts o = {.source = path, .ref = fx_ref(), .mapping = map};
    for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++)
        ck_assert_msg(fcc_same(&o, chunk_sizes[i]), "%s: chunks of %zu differ (stderr)", path, chunk_sizes[i]);
}

static void same_text(const char *text)
{
    same_every_size(text, strlen(text), ".csv", NULL);
}

START_TEST(test_plain_and_quoted)
{
    same_text(HDR "A1,2026-11-24,IM,010600,live parrots,BR,100,USD\n"
                  "A2,2026-11-24,IM,010600,\"parrots, live\",BR,100,USD\n"
                  "A3,2026-11-24,IM,010600,\"a \"\"quoted\"\" word\",BR,100,USD\n"
                  "A4,2026-11-24,IM,010600,\"spans\ntwo lines\",BR,100,USD\n"
                  "A5,2026-11-24,IM,010600,\"three\n\nlines, one blank\",BR,100,USD\n"
                  "A6,2026-11-24,IM,010600,no newline at the end,BR,100,USD");
}
END_TEST

START_TEST(test_errors_resynchronise)
{
    same_text(HDR "B1,2026-11-24,IM,010600,bad\"quote,BR,100,USD\n"
                  "B2,2026-11-24,IM,010600,\"closed\"then,BR,100,USD\n"
                  "B3,2026-11-24,IM,010600,\"open \"\" and \"odd\" quotes,BR,100,USD\n"
                  "B4,2026-11-24,IM,010600,ok,BR,100,USD\n"
                  "B5,2026-11-24,IM,010600,\"spans\nand \"breaks\" here,BR,100,USD\n"
                  "B6,2026-11-24,IM,010600,too,many,fields,here,BR,100,USD\n"
                  "B7,2026-13-24,IM,010600,bad date,BR,100,USD\n"
                  "B8,2026-11-24,IM,010600,ok,BR,100,USD\n"
                  "B9,2026-11-24,IM,010600,\"never closed,BR,100,USD\n"
                  "B10,2026-11-24,IM,010600,after,BR,100,USD\n");
}
END_TEST

START_TEST(test_blank_crlf_bom)
{
    same_text("\xEF\xBB\xBF" "id,date,flow,hs,description,origin,value,currency\r\n"
              "\r\n"
              "C1,2026-11-24,IM,010600,crlf,BR,100,USD\r\n"
              "\n\n\r\n"
              "C2,2026-11-24,IM,010600,\"quoted\r\nacross crlf\",BR,100,USD\r\n"
              "C3,2026-11-24,IM,010600,\"x\"\r,BR,100,USD\r\n"
              "C4,2026-11-24,IM,010600,last,BR,100,USD\r\n\r\n\n");
}
END_TEST

START_TEST(test_duplicates_across_chunks)
{
    same_text(HDR "D1,2026-11-24,IM,010600,a,BR,100,USD\n"
                  "D2,2026-11-24,IM,010600,b,BR,100,USD\n"
                  "D1,2026-11-24,IM,010600,again,BR,100,USD\n"
                  "D3,2026-11-24,IM,010600,c,BR,100,USD\n"
                  " D2 ,2026-11-24,IM,010600,trimmed id,BR,100,USD\n"
                  "D4,2026-11-25,IM,010600,\"dup \"\"quoted\"\"\",BR,100,USD\n"
                  "D4,2026-11-23,IM,010600,\"dup\nspanning\",BR,100,USD\n"
                  "D5,2026-11-22,IM,010600,d,BR,100,USD\n");
}
END_TEST

/* Lines past the record limit (1 MiB): one with a newline, one whose quote
 * stays open past the limit, one at the end without a newline. */
START_TEST(test_over_the_record_limit)
{
    size_t big = ER_LIMIT_RECORD + 1000, cap = 4 * big + 4096, n = 0;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    n += (size_t)snprintf(t + n, cap - n, HDR "E1,2026-11-24,IM,010600,ok,BR,100,USD\nE2,2026-11-24,IM,010600,");
    memset(t + n, 'x', big);
    n += big;
    n += (size_t)snprintf(t + n, cap - n, ",BR,100,USD\nE3,2026-11-24,IM,010600,\"");
    memset(t + n, 'y', big);
    n += big;
    n += (size_t)snprintf(t + n, cap - n, "\nE4,2026-11-24,IM,010600,after,BR,100,USD\nE5,2026-11-24,IM,010600,");
    memset(t + n, 'z', big);
    n += big;
    same_every_size(t, n, ".csv", NULL);
    free(t);
}
END_TEST

START_TEST(test_other_delimiter)
{
    static const char map[] =
        "{\"name\": \"semi\", \"format\": \"csv\", \"delimiter\": \";\", \"decimal\": \",\", \"fields\": {"
        "\"id\": \"id\", \"date\": \"date\", \"hs\": \"hs\", \"description\": \"description\", \"value\": \"value\"}}";
    er_mapping *m = NULL;
    er_err err = {{0}};
    ck_assert_msg(er_mapping_load(&m, fx_tmpfile(map, strlen(map), ".json"), &err) == ER_OK, "%s", err.msg);
    static const char text[] = "id;date;hs;description;value\n"
                               "S1;2026-11-24;010600;\"commas, and; semicolons\";12,5\n"
                               "S2;2026-11-24;010600;plain, with a comma;7\n"
                               "S3;2026-11-24;010600;\"spans;\nlines\";1,25\n"
                               "S1;2026-11-24;010600;dup;3\n"
                               "S4;2026-11-24;010600;bad\"q;3\n"
                               "S5;2026-11-24;010600;ok;3\n";
    same_every_size(text, strlen(text), ".csv", m);
    er_mapping_free(m);
}
END_TEST

START_TEST(test_json_lines)
{
    static const char text[] =
        "\xEF\xBB\xBF{\"id\":\"J1\",\"date\":\"2026-11-24\",\"hs\":\"010600\",\"transit\":[\"TR\",\"AE\"]}\n"
        "\n"
        "{\"id\":\"J2\",\"date\":\"2026-11-24\",\"hs\":\"010600\",\"description\":\"a \\\"quoted\\\" word\"}\r\n"
        "[1,2]\n"
        "{\"id\":\"J3\",\"date\":\"2026-11-24\",\"hs\":\"010600\",\"permits\":[\"P1\",\"P2\"],\"x\":12345678901234567890}\n"
        "{\"id\":\"J1\",\"date\":\"2026-11-24\",\"hs\":\"010600\"}\n"
        "{\"id\": broken\n"
        "\r\n"
        "{\"id\":\"J4\",\"date\":\"2026-11-24\",\"hs\":[1]}\n"
        "{\"id\":\"J5\",\"date\":\"2026-11-24\",\"hs\":\"010600\"}";
    same_every_size(text, sizeof text - 1, ".jsonl", NULL);
    /* a line over the record limit, with and without a newline after it */
    size_t big = ER_LIMIT_RECORD + 1000, n = 0;
    char *t = malloc(2 * big + 512);
    ck_assert_ptr_nonnull(t);
    n += (size_t)sprintf(t, "{\"id\":\"K1\",\"date\":\"2026-11-24\",\"hs\":\"010600\",\"description\":\"");
    memset(t + n, 'x', big);
    n += big;
    n += (size_t)sprintf(t + n, "\"}\n{\"id\":\"K2\",\"date\":\"2026-11-24\",\"hs\":\"010600\"}\n{\"id\":\"");
    memset(t + n, 'y', big);
    n += big;
    same_every_size(t, n, ".jsonl", NULL);
    free(t);
}
END_TEST

/* Seeded random feeds from pieces that stress the cutter. */
static const char *const pieces[] = {
    "plain", "\"quoted, comma\"", "\"esc \"\"q\"\"\"", "\"multi\nline\"", "\"multi\r\nline\"", "bad\"q",
    "\"open", "\"x\"y", "", "\"\"", "  padded  ", "caf\xC3\xA9", "\xFF\xFE", "\"a\n\nb\"", "\"\"\"\"",
};

static size_t rnd(uint64_t *s, size_t n)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (size_t)((*s >> 33) % n);
}

START_TEST(test_random_feeds)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t s = seed;
        size_t cap = 1 << 16, n = 0;
        char *t = malloc(cap + 512);
        ck_assert_ptr_nonnull(t);
        n += (size_t)snprintf(t, cap, "%s", rnd(&s, 4) ? HDR : "id,date,hs,description\r\n");
        bool wide = t[n - 2] == 'y';   /* the canonical header above ends in "currency" */
        for (size_t row = 0; n < cap - 512 && row < 300; row++) {
            switch (rnd(&s, 12)) {
            case 0: n += (size_t)snprintf(t + n, cap - n, "\n"); continue;
            case 1: n += (size_t)snprintf(t + n, cap - n, "\r\n"); continue;
            default: break;
            }
            n += (size_t)snprintf(t + n, cap - n, "R%zu,2026-11-%02zu,", rnd(&s, 40), 20 + rnd(&s, 8));
            if (wide)
                n += (size_t)snprintf(t + n, cap - n, "IM,");
            n += (size_t)snprintf(t + n, cap - n, "%s,%s", rnd(&s, 6) ? "010600" : "01x600",
                                  pieces[rnd(&s, sizeof pieces / sizeof *pieces)]);
            if (wide)
                n += (size_t)snprintf(t + n, cap - n, ",%s,%zu,USD", rnd(&s, 5) ? "BR" : "ZZ", rnd(&s, 1000));
            if (!rnd(&s, 20))
                n += (size_t)snprintf(t + n, cap - n, ",extra");
            n += (size_t)snprintf(t + n, cap - n, "%s", rnd(&s, 5) ? "\n" : "\r\n");
        }
        if (rnd(&s, 2) && n && t[n - 1] == '\n')
            n--;   /* no newline at the end */
        same_every_size(t, n, ".csv", NULL);
        free(t);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("feed_chunks");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_plain_and_quoted);
    tcase_add_test(tc, test_errors_resynchronise);
    tcase_add_test(tc, test_blank_crlf_bom);
    tcase_add_test(tc, test_duplicates_across_chunks);
    tcase_add_test(tc, test_over_the_record_limit);
    tcase_add_test(tc, test_other_delimiter);
    tcase_add_test(tc, test_random_feeds);
    tcase_add_test(tc, test_json_lines);
    suite_add_tcase(s, tc);
    return s;
}
