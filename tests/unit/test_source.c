/*
 * test_source.c — byte sources under the feed readers: gzip detected by
 * magic (single and concatenated members), truncated or trailing-garbage
 * gzip streams as whole-feed errors, missing files, directories, empty
 * feeds, and an unreachable URL.
 */
#include <sys/stat.h>
#include <zlib.h>

#include "check_main.h"
#include "feed_fixture.h"
#include "source.h"

static const char *gz_file(const char *const *parts, int n, size_t cut, const char *tail)
{
    static char path[1024];
    tf_mkstemps(path, sizeof path, "gz-", ".csv.gz");
    /* each part its own gzip member, appended */
    FILE *out = fopen(path, "wb");
    for (int i = 0; i < n; i++) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.part", path);
        gzFile g = gzopen(tmp, "wb");
        gzwrite(g, parts[i], (unsigned)strlen(parts[i]));
        gzclose(g);
        FILE *in = fopen(tmp, "rb");
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, k, out);
        fclose(in);
        unlink(tmp);
    }
    if (tail)
        fputs(tail, out);
    fclose(out);
    if (cut) {
        struct stat sb;
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_int_eq(truncate(path, sb.st_size - (off_t)cut), 0);
    }
    return path;
}

START_TEST(gzip_members)
{
    const char *parts[] = {"id,date,hs\nA,2026-01-05,010690\n", "B,2026-01-05,010690\nC,2026-01-05,01\n"};
    er_feed_opts o = {0};
    o.source = gz_file(parts, 2, 0, NULL);
    fx_result r;
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_int_eq(r.next_st, ER_EOF);
    ck_assert_uint_eq(r.st.rows_read, 3);
    ck_assert_uint_eq(r.st.accepted, 2);
    ck_assert_uint_eq(r.q[0].line, 4);
    ck_assert_uint_eq(r.st.bytes_read, strlen(parts[0]) + strlen(parts[1]));
    fx_free(&r);
}
END_TEST

/* The size a feed will probably give (it sizes the duplicate-id table): a
 * plain file's size; a single-member gzip file's inflated length, read from
 * its trailer; for several members at least the file's size. */
START_TEST(size_hint)
{
    static char big[6001];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = (char)('a' + i % 7);
    const char *one[] = {big}, *two[] = {big, "id\n"};
    er_err err = {{0}};
    er_src *s = NULL;
    struct stat sb;
    const char *path = gz_file(one, 1, 0, NULL);
    ck_assert_int_eq(src_open(&s, path, NULL, &err), ER_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_lt((uint64_t)sb.st_size, sizeof big - 1);
    ck_assert_uint_eq(src_size(s), (uint64_t)sb.st_size);
    ck_assert_uint_eq(src_size_hint(s), sizeof big - 1);
    src_free(s);
    path = gz_file(two, 2, 0, NULL);
    ck_assert_int_eq(src_open(&s, path, NULL, &err), ER_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(src_size_hint(s), (uint64_t)sb.st_size);   /* the last member says 3 */
    src_free(s);
    path = fx_tmpfile(big, sizeof big - 1, ".csv");
    ck_assert_int_eq(src_open(&s, path, NULL, &err), ER_OK);
    ck_assert_uint_eq(src_size_hint(s), sizeof big - 1);
    src_free(s);
}
END_TEST

START_TEST(gzip_broken)
{
    char *big = malloc(400000);
    size_t k = (size_t)sprintf(big, "id,date,hs\n");
    for (int i = 0; k < 390000; i++)
        k += (size_t)sprintf(big + k, "ID%07d,2026-01-05,010690\n", i);
    const char *parts[] = {big};
    er_feed_opts o = {0};
    o.source = gz_file(parts, 1, 2000, NULL);
    fx_result r;
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_int_eq(r.next_st, ER_EPARSE);
    ck_assert_ptr_nonnull(strstr(r.err, ": gzip stream truncated (unexpected end of input)"));
    fx_free(&r);

    o.source = gz_file(parts, 1, 0, "garbage");
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.next_st, ER_EPARSE);
    ck_assert_ptr_nonnull(strstr(r.err, ": trailing garbage after the gzip stream"));
    fx_free(&r);

    /* corrupt deflate data inside the member */
    o.source = gz_file(parts, 1, 0, NULL);
    FILE *f = fopen(o.source, "r+b");
    fseek(f, 100, SEEK_SET);
    fputs("\xff\xff\xff\xff\xff\xff\xff\xff", f);
    fclose(f);
    fx_ingest_opts(&r, &o);
    /* seen while reading the header (open) or later, depending on where it hits */
    ck_assert_int_eq(r.open_st == ER_EPARSE || r.next_st == ER_EPARSE, 1);
    ck_assert_ptr_nonnull(strstr(r.err, ": corrupt gzip stream: "));
    fx_free(&r);

    /* intact deflate data, but the member's CRC-32, then its length, does not match it */
    for (long at = -8; at <= -4; at += 4) {
        o.source = gz_file(parts, 1, 0, NULL);
        f = fopen(o.source, "r+b");
        fseek(f, at, SEEK_END);
        int c = fgetc(f);
        fseek(f, at, SEEK_END);
        fputc(c ^ 0x01, f);
        fclose(f);
        fx_ingest_opts(&r, &o);
        ck_assert_msg(r.open_st == ER_EPARSE || r.next_st == ER_EPARSE, "open %d next %d", r.open_st, r.next_st);
        ck_assert_msg(strstr(r.err, ": corrupt gzip stream: incorrect data check") != NULL, "%s", r.err);
        fx_free(&r);
    }
    free(big);
}
END_TEST

START_TEST(whole_file_errors)
{
    fx_result r;
    er_feed_opts o = {0};
    o.source = "/nonexistent/feed.csv";
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_ENOTFOUND);
    ck_assert_str_eq(r.err, "/nonexistent/feed.csv: cannot open: No such file or directory");
    o.source = "/tmp";
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_EIO);
    ck_assert_str_eq(r.err, "/tmp: is a directory");
    o.source = fx_tmpfile("", 0, ".csv");
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_EFORMAT);
    char want[512];
    snprintf(want, sizeof want, "%s: empty feed (no header row)", o.source);
    ck_assert_str_eq(r.err, want);
    o.source = fx_tmpfile("", 0, ".jsonl");   /* an empty JSONL feed is just empty */
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_int_eq(r.next_st, ER_EOF);
    ck_assert_uint_eq(r.st.rows_read, 0);
    fx_free(&r);
    o.source = fx_tmpfile("id,\"date\n", 9, ".csv");
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_EFORMAT);
    snprintf(want, sizeof want, "%s:1: header row: quoted field not closed before the end of input",
             o.source);
    ck_assert_str_eq(r.err, want);
    o.source = "http://127.0.0.1:1/feed.csv";
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_ENET);
    ck_assert_ptr_nonnull(strstr(r.err, "http://127.0.0.1:1/feed.csv: "));
    o.source = NULL;
    fx_ingest_opts(&r, &o);
    ck_assert_int_eq(r.open_st, ER_EINVAL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("source");
    TCase *t = tcase_create("source");
    tcase_add_test(t, gzip_members);
    tcase_add_test(t, size_hint);
    tcase_add_test(t, gzip_broken);
    tcase_add_test(t, whole_file_errors);
    suite_add_tcase(s, t);
    return s;
}
