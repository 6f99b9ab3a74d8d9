/*
 * fuzz_csv.c — libFuzzer harness for the CSV feed reader (RFC 4180 parser,
 * header binding, mapping, validation, quarantine, gzip detection) through
 * the public er_feed API. Inputs whose first line names the Korea Customs
 * Service columns ("Declaration ID") use the kcs-customs mapping, others the
 * canonical CSV mapping, so both binding paths are explored.
 *
 * Then the tokenizer alone (csv.h) reads the input twice in step, once as
 * it runs in production and once with every record forced through the
 * state machine: both must give the same records, fields, lines, errors and
 * raw excerpts (the in-place splitter is an optimisation, never a dialect).
 * Last, the feed is read in chunks (cut, parse, settle) as the daily run
 * reads it, and must give what er_feed_next gives (unit/feed_chunks_compare.h).
 */
#include "csv.h"
#include "fuzz_feed.h"
#include "../unit/feed_chunks_compare.h"

static void same_records(const char *path)
{
    er_err err = {{0}};
    er_src *sa = NULL, *sb = NULL;
    er_csv *ca = NULL, *cb = NULL;
    if (src_open(&sa, path, NULL, &err) != ER_OK || src_open(&sb, path, NULL, &err) != ER_OK)
        goto cleanup;   /* e.g. a broken gzip header: the feed already reported it */
    FZ_CHECK(csv_open(&ca, sa, 4096, &err) == ER_OK && csv_open(&cb, sb, 4096, &err) == ER_OK);
    csv_state_machine_only(cb);
    for (;;) {
        csv_rec a, b;
        er_status s1 = csv_next(ca, &a, &err), s2 = csv_next(cb, &b, &err);
        FZ_CHECK(s1 == s2);
        if (s1 != ER_OK)
            break;
        FZ_CHECK(a.line == b.line && a.err == b.err && a.n == b.n);
        FZ_CHECK(a.raw_len == b.raw_len && (a.raw_len == 0 || memcmp(a.raw, b.raw, a.raw_len) == 0));
        if (a.err != CSV_OK) {
            FZ_CHECK(a.err_line == b.err_line && strcmp(a.errmsg, b.errmsg) == 0);
            continue;
        }
        for (size_t i = 0; i < a.n; i++)
            FZ_CHECK(a.f[i].len == b.f[i].len && memcmp(a.f[i].p, b.f[i].p, a.f[i].len) == 0);
    }
    FZ_CHECK(csv_bytes(ca) == csv_bytes(cb) && csv_blank_lines(ca) == csv_blank_lines(cb));
cleanup:
    csv_free(cb);
    csv_free(ca);
    src_free(sb);
    src_free(sa);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_feed_init("canonical-csv", "kcs-customs");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : size;
    int map = 0;
    for (size_t i = 0; i + 14 <= first && !map; i++)
        map = memcmp(data + i, "Declaration ID", 14) == 0;
    fz_feed_one(data, size, "in.csv", ER_FORMAT_CSV, map);
    same_records(fz_path("in.csv"));
    /* read in chunks as the daily run does: the same records, counts and errors */
    er_feed_opts o = {.source = fz_path("in.csv"), .mapping = fz_maps[map], .ref = fz_ref, .format = ER_FORMAT_CSV};
    FZ_CHECK(fcc_same(&o, 1) && fcc_same(&o, 3));
    return 0;
}
