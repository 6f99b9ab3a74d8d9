/*
 * fuzz_jsonl.c — libFuzzer harness for the JSON Lines feed reader (line
 * splitting, json-c parsing, key mapping, transit arrays, validation,
 * quarantine, gzip detection) through the public er_feed API.
 */
#include "fuzz_feed.h"

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
    return 0;
}
