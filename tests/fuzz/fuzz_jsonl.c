/*
 * fuzz_jsonl.c — libFuzzer harness for the JSON Lines feed reader (line
 * splitting, json-c parsing, key mapping, transit arrays, validation,
 * quarantine, gzip detection) through the public er_feed API; then the
 * feed read in chunks (cut, parse, settle) as the daily run reads it must
 * give what er_feed_next gives (unit/feed_chunks_compare.h).
 */
#include "fuzz_feed.h"
#include "../unit/feed_chunks_compare.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_feed_init("canonical-jsonl", NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_feed_one(data, size, "in.jsonl", ER_FORMAT_JSONL, 0);
    er_feed_opts o = {.source = fz_path("in.jsonl"), .mapping = fz_maps[0], .ref = fz_ref, .format = ER_FORMAT_JSONL};
    FZ_CHECK(fcc_same(&o, 1) && fcc_same(&o, 3));
    return 0;
}
