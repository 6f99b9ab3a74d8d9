/*
 * readers.c — the table of feed readers (reader.h) and how a feed's format
 * is chosen from it: by format, by file name, by the first bytes. A new
 * format is one row here plus its reader file (docs/architecture.md#feed-readers).
 */
#include "reader.h"

#include <stdio.h>
#include <string.h>

const feed_reader er_feed_readers[] = {
    /* row 0 also reads whatever no row claims (an empty feed too) */
    {"csv", ER_FORMAT_CSV, {".csv", ".CSV", ".txt", NULL},
     er_reader_csv_sniff, er_reader_csv_open, er_reader_csv_next, er_reader_csv_cut, er_reader_csv_parse,
     er_reader_csv_counts, er_reader_csv_free},
    {"jsonl", ER_FORMAT_JSONL, {".jsonl", ".ndjson", ".json", NULL},
     er_reader_jsonl_sniff, er_reader_jsonl_open, er_reader_jsonl_next, er_reader_jsonl_cut,
     er_reader_jsonl_parse,
     er_reader_jsonl_counts, er_reader_jsonl_free},
};
const size_t er_feed_n_readers = sizeof er_feed_readers / sizeof er_feed_readers[0];

const char *er_format_name(er_format f)
{
    if (f == ER_FORMAT_AUTO)
        return "auto";
    const feed_reader *r = er_feed_reader_by_format(f);
    return r ? r->name : NULL;
}

bool er_format_from_name(const char *name, er_format *out)
{
    if (name && strcmp(name, "auto") == 0) {
        *out = ER_FORMAT_AUTO;
        return true;
    }
    for (size_t i = 0; name && i < er_feed_n_readers; i++)
        if (strcmp(er_feed_readers[i].name, name) == 0) {
            *out = er_feed_readers[i].fmt;
            return true;
        }
    return false;
}

void er_format_list(char *buf, size_t n)
{
    size_t k = 0;
    if (!n)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < er_feed_n_readers && k < n; i++) {
        int w = snprintf(buf + k, n - k, "%s%s", i ? ", " : "", er_feed_readers[i].name);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

const feed_reader *er_feed_reader_by_format(er_format fmt)
{
    for (size_t i = 0; i < er_feed_n_readers; i++)
        if (er_feed_readers[i].fmt == fmt)
            return &er_feed_readers[i];
    return NULL;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncmp(s + n - k, suf, k) == 0;
}

const feed_reader *er_feed_reader_by_name(const char *source)
{
    size_t n = strlen(source);
    const char *q = strchr(source, '?');   /* URLs: ignore the query */
    if (q)
        n = (size_t)(q - source);
    if (ends_with(source, n, ".gz"))
        n -= 3;
    for (size_t i = 0; i < er_feed_n_readers; i++)
        for (const char *const *suf = er_feed_readers[i].suffixes; *suf; suf++)
            if (ends_with(source, n, *suf))
                return &er_feed_readers[i];
    return NULL;
}

const feed_reader *er_feed_reader_sniff(const char *p, size_t n)
{
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    for (size_t i = 0; i < er_feed_n_readers; i++)
        if (er_feed_readers[i].sniff(p, n))
            return &er_feed_readers[i];
    return &er_feed_readers[0];
}

void er_chunk_adopt(feed_chunk *c, const void *owner, void *part, void (*part_free)(void *part))
{
    if (c->part_free)
        c->part_free(c->part);
    c->part = part;
    c->part_free = part_free;
    c->owner = owner;
}
