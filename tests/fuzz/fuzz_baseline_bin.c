/*
 * fuzz_baseline_bin.c — libFuzzer harness for the binary baseline loader
 * (baseline_bin.c: header, checksum, section layout, per-group bounds, sorted
 * arrays, lookup tables). A file it accepts must then behave: anomaly
 * features of a few declarations stay in range, `baseline show` text is
 * produced, it converts to JSON and to binary without crashing (a binary it
 * wrote itself loads, and saving that again gives the same bytes), and
 * merging it with itself works or fails with a message.
 *
 * Mutated files almost never carry the right checksum; the harness puts the
 * checksum of the mutated bytes in place before loading, so everything behind
 * the checksum is fuzzed.
 */
#include <math.h>

#include "ecorisk/baseline.h"
#include "fuzz_baseline.h"
#include "stats/baseline_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The batch path too; groups named within their buffers. */
static void check_one(const er_baseline *bl, const er_decl *d, er_anomalies *an)
{
    er_anomaly_compute_batch(bl, d, 1, an);
    FZ_CHECK(an->have_baseline);
    for (int f = 0; f < ER_FEAT_COUNT; f++)
        FZ_CHECK(an->f[f].level <= ER_LEVEL_ALL && memchr(an->f[f].group, '\0', sizeof an->f[f].group));
}

static void check_features(const er_baseline *bl)
{
    fz_baseline_features(bl, check_one);
}

static void exercise(const er_baseline *bl)
{
    er_err err = {{0}};
    er_baseline *again = NULL, *merged = NULL;
    check_features(bl);
    fz_baseline_describe(bl);
    /* JSON: written (it may not load back: the binary loader checks bounds, not every invariant) */
    FZ_CHECK(er_baseline_save_as(bl, fz_path("out.json"), ER_BASELINE_JSON, &err) == ER_OK);
    /* binary: what it writes itself loads and is a fixed point */
    char p1[400], p2[400];
    snprintf(p1, sizeof p1, "%s", fz_path("out2.json"));
    snprintf(p2, sizeof p2, "%s", fz_path("in.csv"));
    if (er_baseline_save_as(bl, p1, ER_BASELINE_BIN, &err) == ER_OK && er_baseline_load(&again, p1, &err) == ER_OK) {
        check_features(again);
        FZ_CHECK(er_baseline_save_as(again, p2, ER_BASELINE_BIN, &err) == ER_OK);
        size_t n1 = 0, n2 = 0;
        char *t1 = fz_read(p1, &n1), *t2 = fz_read(p2, &n2);
        FZ_CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
        free(t1);
        free(t2);
    }
    const er_baseline *two[2] = {bl, bl};
    if (er_baseline_merge(&merged, two, 2, &err) == ER_OK)
        check_features(merged);
    else
        FZ_CHECK(err.msg[0] != '\0');
    er_baseline_free(merged);
    er_baseline_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    er_err err = {{0}};
    er_baseline *bl = NULL;
    uint8_t *fixed = malloc(size ? size : 1);
    FZ_CHECK(fixed);
    memcpy(fixed, data, size);
    if (size >= 24) {
        uint64_t h = er_bl_xxh64(fixed + 24, size - 24);
        memcpy(fixed + 16, &h, 8);
    }
    const char *path = fz_write("in.bin", fixed, size);
    er_status st = er_baseline_load(&bl, path, &err);
    if (st == ER_OK) {
        FZ_CHECK(bl);
        exercise(bl);
    } else {
        FZ_CHECK(!bl && err.msg[0]);
    }
    er_baseline_free(bl);
    free(fixed);
    return 0;
}
