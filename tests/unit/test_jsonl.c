/*
 * test_jsonl.c — the JSON Lines reader. JSONTestSuite (shared/data): every
 * n_ document is rejected and every y_ document accepted by the strict
 * checker; as feed lines, every n_ line is quarantined as a syntax error
 * whose detail names its line, no y_ object is rejected for syntax, i_ files
 * never crash. Plus JSONL specifics: BOM, CRLF, blank lines, arrays for
 * transit, nested values as extras, non-scalar fields, the depth limit.
 */
#include <dirent.h>
#include <json-c/json.h>

#include "check_main.h"
#include "feed_fixture.h"
#include "jsonl.h"

typedef struct tfile {
    char  *name;
    char  *data;
    size_t len;
} tfile;

static tfile *files;
static size_t n_files;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const tfile *)a)->name, ((const tfile *)b)->name);
}

static bool load_suite(void)
{
    if (files)
        return true;
    const char *dir = fx_shared("jsontestsuite/test_parsing");
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    size_t cap = 512;
    files = calloc(cap, sizeof *files);
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".json") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        char *buf = malloc(1u << 20);
        size_t n = fread(buf, 1, 1u << 20, f);
        fclose(f);
        ck_assert_uint_lt(n_files, cap);
        files[n_files].name = strdup(e->d_name);
        files[n_files].data = buf;
        files[n_files].len = n;
        n_files++;
    }
    closedir(d);
    qsort(files, n_files, sizeof *files, cmp_name);
    return n_files > 0;
}

START_TEST(suite_documents)
{
    if (!load_suite()) {
        fprintf(stderr, "JSONTestSuite not present: skipped\n");
        return;
    }
    size_t y = 0, n = 0;
    for (size_t i = 0; i < n_files; i++) {
        size_t off = 0;
        const char *msg = NULL;
        bool ok = er_json_check(files[i].data, files[i].len, &off, &msg);
        if (files[i].name[0] == 'y') {
            ck_assert_msg(ok, "%s rejected: %s at %zu", files[i].name, msg, off);
            y++;
        } else if (files[i].name[0] == 'n') {
            ck_assert_msg(!ok, "%s accepted", files[i].name);
            ck_assert_ptr_nonnull(msg);
            ck_assert_uint_le(off, files[i].len);
            n++;
        }
    }
    ck_assert_uint_eq(y, 95);
    ck_assert_uint_eq(n, 188);
}
END_TEST

/* All single-line test files as one JSONL feed (n_, y_ and i_). */
START_TEST(suite_as_feed_lines)
{
    if (!load_suite()) {
        fprintf(stderr, "JSONTestSuite not present: skipped\n");
        return;
    }
    size_t cap = 1u << 22, k = 0, line = 0;
    char *text = malloc(cap);
    size_t *line_of = calloc(n_files, sizeof *line_of);
    for (size_t i = 0; i < n_files; i++) {
        const tfile *f = &files[i];
        if (f->len == 0 || memchr(f->data, '\n', f->len) || memchr(f->data, '\r', f->len))
            continue;   /* not one line: covered by suite_documents */
        bool blank = true;
        for (size_t j = 0; j < f->len; j++)
            if (f->data[j] != ' ' && f->data[j] != '\t')
                blank = false;
        if (blank && f->len == 0)
            continue;
        memcpy(text + k, f->data, f->len);
        k += f->len;
        text[k++] = '\n';
        line_of[i] = ++line;
    }
    er_feed_opts o = {0};
    o.source = fx_tmpfile(text, k, ".jsonl");
    er_err err = {{0}};
    er_feed *feed = NULL;
    o.ref = fx_ref();
    ck_assert_int_eq(er_feed_open(&feed, &o, &err), ER_OK);
    er_batch *b = NULL;
    ck_assert_int_eq(er_batch_new(&b, 8192, &err), ER_OK);
    ck_assert_int_eq(er_feed_next(feed, b, &err), ER_OK);
    ck_assert_int_eq(er_feed_next(feed, b, &err) == ER_EOF || b->n + b->n_q == 0, 1);
    er_batch_reset(b);
    er_feed_free(feed);
    ck_assert_int_eq(er_feed_open(&feed, &o, &err), ER_OK);
    ck_assert_int_eq(er_feed_next(feed, b, &err), ER_OK);
    const er_feed_stats *st = er_feed_stats_get(feed);
    ck_assert_uint_eq(st->rows_read, line);
    ck_assert_uint_eq(st->rows_read, st->accepted + st->quarantined);
    size_t checked_n = 0, checked_y = 0;
    for (size_t i = 0; i < n_files; i++) {
        if (!line_of[i])
            continue;
        const er_qrecord *q = NULL;
        for (size_t j = 0; j < b->n_q; j++)
            if (b->quarantined[j].line == line_of[i])
                q = &b->quarantined[j];
        bool accepted = false;
        for (size_t j = 0; j < b->n; j++)
            if (b->decls[j].line == line_of[i])
                accepted = true;
        ck_assert_msg(accepted != (q != NULL), "%s: line %zu neither accepted nor quarantined",
                      files[i].name, line_of[i]);
        bool is_object = files[i].data[strspn(files[i].data, " \t")] == '{';
        if (files[i].name[0] == 'n') {
            ck_assert_msg(q && q->reason == ER_Q_SYNTAX, "%s not rejected", files[i].name);
            char want[64];
            snprintf(want, sizeof want, "line %zu", line_of[i]);
            ck_assert_msg(strstr(q->detail, want), "%s: detail '%s' does not name %s",
                          files[i].name, q->detail, want);
            checked_n++;
        } else if (files[i].name[0] == 'y') {
            if (is_object)
                ck_assert_msg(!q || q->reason != ER_Q_SYNTAX, "%s: object rejected: %s",
                              files[i].name, q->detail);
            else
                ck_assert_msg(q && q->reason == ER_Q_SYNTAX &&
                                  strstr(q->detail, "must be an object"),
                              "%s: non-object line not rejected as such", files[i].name);
            checked_y++;
        }
    }
    ck_assert_uint_gt(checked_n, 150);
    ck_assert_uint_gt(checked_y, 80);
    er_batch_free(b);
    er_feed_free(feed);
    free(line_of);
    free(text);
}
END_TEST

START_TEST(jsonl_records)
{
    fx_result r;
    fx_ingest(&r,
              "\xEF\xBB\xBF{\"id\":\"A\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"transit\":[\"AE\",\"QA\"],"
              "\"net_kg\":12.5,\"gross_kg\":1e2,\"value\":null,\"note\":{\"k\":[1,2]},\"flag\":true}\r\n"
              "\n"
              "   \n"
              "{\"id\":\"B\",\"date\":\"2026-01-05\",\"hs\":[\"010690\"]}\n"
              "{\"id\":\"C\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"transit\":[\"AE\",1]}\n"
              "{\"id\":\"D\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"transit\":\"AE;QA\",\"net_kg\":\"7\"}\n"
              "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
              "{\"id\":\"E\",\"date\":\"2026-01-05\",\"hs\":\"010690\"}",
              ".jsonl", NULL);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_uint_eq(r.st.rows_read, 7);
    ck_assert_uint_eq(r.st.blank_lines, 1);
    ck_assert_uint_eq(r.st.accepted, 3);
    const er_decl *d = &r.d[0];
    ck_assert_str_eq(d->id, "A");
    ck_assert_int_eq(d->n_transit, 2);
    ck_assert_double_eq(d->net_kg, 12.5);
    ck_assert_double_eq(d->gross_kg, 100);
    ck_assert_uint_eq(d->present, ER_P_NET_KG | ER_P_GROSS_KG);
    ck_assert_str_eq(er_decl_extra(d, "note"), "{\"k\":[1,2]}");
    ck_assert_str_eq(er_decl_extra(d, "flag"), "true");
    ck_assert_str_eq(r.d[1].id, "D");
    ck_assert_int_eq(r.d[1].n_transit, 2);
    ck_assert_double_eq(r.d[1].net_kg, 7);
    ck_assert_str_eq(r.d[2].id, "E");
    ck_assert_uint_eq(r.d[2].line, 8);
    ck_assert_uint_eq(r.n_q, 4);
    fx_assert_q(&r, 0, "syntax", NULL, "line 3, column 4: empty line or no JSON value");
    fx_assert_q(&r, 1, "syntax", "hs", "hs: expected a string or a number, got an array");
    ck_assert_uint_eq(r.q[1].line, 4);
    fx_assert_q(&r, 2, "syntax", "transit", "transit[1]: expected a two-letter country code");
    fx_assert_q(&r, 3, "syntax", NULL, "line 7, column 65: nesting deeper than 64 levels");
    fx_free(&r);
}
END_TEST

/* Integers beyond 64 bits are read from their text, as the same text in a
 * CSV cell: json-c alone would turn them into INT64_MIN / UINT64_MAX. */
START_TEST(jsonl_big_integers)
{
    fx_result r;
    char nines[401];
    memset(nines, '9', 400);
    nines[400] = '\0';
    static char text[2048];
    ck_assert_int_lt(snprintf(text, sizeof text,
        "{\"id\":36893488147419103232,\"date\":\"2026-01-05\",\"hs\":\"010690\","
        "\"ref\":-9223372036854775809,\"s\":\"x\\\" 99999999999999999999\"}\n"
        "{\"id\":\"B\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"net_kg\":%s}\n"
        "{\"id\":\"C\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"net_kg\":\"%s\"}\n"
        "{\"id\":\"D\",\"date\":\"2026-01-05\",\"hs\":\"010690\",\"net_kg\":1e400}\n",
        nines, nines), (int)sizeof text);
    fx_ingest(&r, text, ".jsonl", NULL);
    ck_assert_int_eq(r.open_st, ER_OK);
    ck_assert_uint_eq(r.st.rows_read, 4);
    ck_assert_uint_eq(r.st.accepted, 1);
    ck_assert_str_eq(r.d[0].id, "36893488147419103232");
    ck_assert_str_eq(er_decl_extra(&r.d[0], "ref"), "-9223372036854775809");
    ck_assert_str_eq(er_decl_extra(&r.d[0], "s"), "x\" 99999999999999999999");
    ck_assert_uint_eq(r.n_q, 3);
    ck_assert_str_eq(er_qreason_str(r.q[0].reason), "bad_number");
    ck_assert_str_eq(er_qreason_str(r.q[1].reason), "bad_number");
    ck_assert_str_eq(r.q[0].detail, r.q[1].detail);
    fx_assert_q(&r, 2, "bad_number", "net_kg", "net_kg: '1e400' is not a number");
    fx_free(&r);
}
END_TEST

START_TEST(jsonl_format_detection)
{
    /* no extension: sniffed from the first byte */
    fx_result r;
    fx_ingest(&r, "  {\"id\":\"A\",\"date\":\"2026-01-05\",\"hs\":\"010690\"}\n", "", NULL);
    ck_assert_uint_eq(r.st.accepted, 1);
    fx_free(&r);
    fx_ingest(&r, "id,date,hs\nA,2026-01-05,010690\n", "", NULL);
    ck_assert_uint_eq(r.st.accepted, 1);
    fx_free(&r);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("jsonl");
    TCase *t = tcase_create("jsonl");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, suite_documents);
    tcase_add_test(t, suite_as_feed_lines);
    tcase_add_test(t, jsonl_records);
    tcase_add_test(t, jsonl_format_detection);
    tcase_add_test(t, jsonl_big_integers);
    suite_add_tcase(s, t);
    return s;
}
