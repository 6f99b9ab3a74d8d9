/*
 * fuzz_csv.c — libFuzzer harness for the CSV feed reader (RFC 4180 parser,
 * header binding, mapping, validation, quarantine, gzip detection) through
 * the public er_feed API. Inputs whose first line names the Korea Customs
 * Service columns ("Declaration ID") use the kcs-customs mapping, others the
 * canonical CSV mapping, so both binding paths are explored.
 */
#include "fuzz_feed.h"

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
    return 0;
}
