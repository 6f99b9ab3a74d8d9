/*
 * test_feed_readers.c — the feed reader table (feeds/src/reader.h): every row
 * claims its own sample by sniffing and no other row does, is found by its
 * file endings and its format, and opens its sample and reads it record by
 * record with exact fields, line numbers and quarantine items.
 */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"

typedef struct sample {
    const char *fmt, *file, *text;
} sample;

static const sample samples[] = {
    {"csv", "s.csv", "id,date,hs\nD1,2026-11-24,010600\n\nD2,2026-11-24\n"},
    {"jsonl", "s.jsonl", "{\"id\":\"D1\",\"date\":\"2026-11-24\",\"hs\":\"010600\"}\n\n[1]\n"},
};

static const sample *sample_of(const char *name)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (strcmp(samples[i].fmt, name) == 0)
            return &samples[i];
    return NULL;
}

START_TEST(test_every_row_has_a_sample)
{
    ck_assert_uint_eq(er_feed_n_readers, sizeof samples / sizeof samples[0]);
    for (size_t i = 0; i < er_feed_n_readers; i++)
        ck_assert_ptr_nonnull(sample_of(er_feed_readers[i].name));
}
END_TEST

START_TEST(test_sniff_own_only)
{
    for (size_t i = 0; i < er_feed_n_readers; i++) {
        const feed_reader *r = &er_feed_readers[i];
        for (size_t j = 0; j < er_feed_n_readers; j++) {
            const sample *s = sample_of(er_feed_readers[j].name);
            ck_assert_int_eq(r->sniff(s->text, strlen(s->text)), i == j);
        }
        const sample *own = sample_of(r->name);
        ck_assert_ptr_eq(er_feed_reader_sniff(own->text, strlen(own->text)), r);
        ck_assert_ptr_eq(er_feed_reader_by_name(own->file), r);
        ck_assert_ptr_eq(er_feed_reader_by_format(r->fmt), r);
    }
    /* a byte-order mark and leading blank lines are skipped; nothing claimed: row 0 */
    ck_assert_str_eq(er_feed_reader_sniff("\xEF\xBB\xBF\n {\"id\":1}", 12)->name, "jsonl");
    ck_assert_ptr_eq(er_feed_reader_sniff("", 0), &er_feed_readers[0]);
    ck_assert_str_eq(er_feed_reader_by_name("https://h/day.ndjson.gz?x=.csv")->name, "jsonl");
    ck_assert_ptr_null(er_feed_reader_by_name("day.bin"));
    ck_assert_ptr_null(er_feed_reader_by_format(ER_FORMAT_AUTO));
}
END_TEST

/* Open row name's sample; the caller frees state, src and mapping. */
static void *open_sample(const feed_reader *r, er_src **src, er_mapping **m)
{
    const sample *s = sample_of(r->name);
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_feed_readers_%d_%s", (int)getpid(), s->file);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(s->text, f);
    fclose(f);
    er_err err;
    ck_assert_int_eq(er_mapping_canonical(m, r->fmt, &err), ER_OK);
    src_opts so = {0};
    ck_assert_int_eq(src_open(src, path, &so, &err), ER_OK);
    unlink(path);
    feed_ctx c = {s->file, *m, NULL, NULL, NULL};
    void *state = NULL;
    ck_assert_int_eq(r->open(&state, *src, &c, &err), ER_OK);
    return state;
}

static er_status next(const feed_reader *r, void *state, raw_rec *rec, feed_item *it)
{
    er_err err;
    memset(rec, 0, sizeof *rec);
    memset(it, 0, sizeof *it);
    return r->next(state, rec, it, &err);
}

/* Format names come from the table alone: every row round-trips, "auto" is
 * AUTO, anything else is refused, and the list names every row in order. */
START_TEST(test_format_names)
{
    er_format f = ER_FORMAT_CSV;
    char list[256] = "", want[256] = "";
    for (size_t i = 0; i < er_feed_n_readers; i++) {
        ck_assert(er_format_from_name(er_feed_readers[i].name, &f));
        ck_assert_int_eq(f, er_feed_readers[i].fmt);
        ck_assert_str_eq(er_format_name(f), er_feed_readers[i].name);
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? ", " : "", er_feed_readers[i].name);
    }
    ck_assert(er_format_from_name("auto", &f));
    ck_assert_int_eq(f, ER_FORMAT_AUTO);
    ck_assert_str_eq(er_format_name(ER_FORMAT_AUTO), "auto");
    f = ER_FORMAT_CSV;
    ck_assert(!er_format_from_name("xml", &f));
    ck_assert(!er_format_from_name(NULL, &f));
    ck_assert_int_eq(f, ER_FORMAT_CSV);   /* untouched on refusal */
    ck_assert_ptr_null(er_format_name((er_format)99));
    er_format_list(list, sizeof list);
    ck_assert_str_eq(list, want);
    ck_assert_str_eq(want, "csv, jsonl");
    er_format_list(list, 4);               /* truncated, still terminated */
    ck_assert_str_eq(list, "csv");
}
END_TEST

START_TEST(test_read_records)
{
    for (size_t i = 0; i < er_feed_n_readers; i++) {
        const feed_reader *r = &er_feed_readers[i];
        er_src *src = NULL;
        er_mapping *m = NULL;
        void *state = open_sample(r, &src, &m);
        raw_rec rec;
        feed_item it;
        bool csv = strcmp(r->name, "csv") == 0;
        /* record 1: id, date, hs */
        ck_assert_int_eq(next(r, state, &rec, &it), ER_OK);
        ck_assert(!it.bad);
        ck_assert_uint_eq(it.line, csv ? 2 : 1);
        ck_assert_uint_eq(rec.len[F_ID], 2);
        ck_assert_mem_eq(rec.v[F_ID], "D1", 2);
        ck_assert_mem_eq(rec.v[F_DATE], "2026-11-24", 10);
        ck_assert_mem_eq(rec.v[F_HS], "010600", 6);
        ck_assert_ptr_null(rec.v[F_ORIGIN]);
        /* record 2 (after a blank line): quarantined with the reader's reason */
        ck_assert_int_eq(next(r, state, &rec, &it), ER_OK);
        ck_assert(it.bad);
        ck_assert_uint_eq(it.line, csv ? 4 : 3);
        ck_assert_int_eq(it.reason, csv ? ER_Q_FIELD_COUNT : ER_Q_SYNTAX);
        if (csv)
            ck_assert_str_eq(it.detail, "expected 3 fields (as in the header), got 2");
        ck_assert_int_eq(next(r, state, &rec, &it), ER_EOF);
        uint64_t bytes, blank;
        r->counts(state, &bytes, &blank);
        ck_assert_uint_eq(bytes, strlen(sample_of(r->name)->text));
        ck_assert_uint_eq(blank, 1);
        r->free(state);
        src_free(src);
        er_mapping_free(m);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("feed_readers");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_every_row_has_a_sample);
    tcase_add_test(tc, test_sniff_own_only);
    tcase_add_test(tc, test_read_records);
    tcase_add_test(tc, test_format_names);
    suite_add_tcase(s, tc);
    return s;
}
