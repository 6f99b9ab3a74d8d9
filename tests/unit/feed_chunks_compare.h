/*
 * feed_chunks_compare.h — reads one feed twice, once with er_feed_next and
 * once in chunks (er_feed_cut / er_feed_parse / er_feed_settle, as the daily
 * run does), and says whether both gave the same declarations, quarantine
 * records and statistics, byte for byte. Shared by the unit tests and the
 * CSV fuzz harness; plain C, no test framework.
 */
#ifndef ECORISK_TEST_FEED_CHUNKS_COMPARE_H
#define ECORISK_TEST_FEED_CHUNKS_COMPARE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecorisk/decl.h"
#include "ecorisk/feed.h"

static void fcc_str(FILE *f, const char *s)
{
    if (s)
        fprintf(f, "\x1f%zu:%s", strlen(s), s);
    else
        fputs("\x1f-", f);
}

/* Every field of a declaration, then every field of a quarantine record. */
static void fcc_decl(FILE *f, const er_decl *d)
{
    fputs("D", f);
    fcc_str(f, d->id);
    fprintf(f, "|%d|%u|%u|%s|%s|%u|%u|%u|%u", d->date, d->flow, d->mode, d->hs, d->currency, d->origin,
            d->export_country, d->destination, d->n_transit);
    for (unsigned i = 0; i < d->n_transit; i++)
        fprintf(f, ",%u", d->transit[i]);
    fprintf(f, "|%u", d->present);
    const char *s[] = {d->declarant, d->importer, d->exporter, d->description, d->office, d->unit, d->container,
                       d->permits, d->licences, d->consents};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        fcc_str(f, s[i]);
    fprintf(f, "|%.17g|%.17g|%.17g|%.17g|%.17g|%.17g", d->net_kg, d->gross_kg, d->quantity, d->value, d->value_ref,
            d->packages);
    for (uint32_t i = 0; i < d->n_extra; i++) {
        fcc_str(f, d->extra[i].name);
        fcc_str(f, d->extra[i].value);
    }
    fprintf(f, "|%llu|%llu\n", (unsigned long long)d->line, (unsigned long long)d->seq);
}

static void fcc_quarantine(FILE *f, const er_qrecord *q)
{
    fprintf(f, "Q%llu|%llu|%d", (unsigned long long)q->line, (unsigned long long)q->seq, (int)q->reason);
    fcc_str(f, q->field);
    fcc_str(f, q->detail);
    size_t n = q->excerpt ? (q->excerpt_len ? q->excerpt_len : strlen(q->excerpt)) : 0;
    fprintf(f, "|%zu:", n);
    if (n)
        fwrite(q->excerpt, 1, n, f);
    fputc('\n', f);
}

static void fcc_stats(FILE *f, const er_feed_stats *s)
{
    fprintf(f, "S%llu|%llu|%llu|%llu|%llu|%llu|%d|%d", (unsigned long long)s->rows_read,
            (unsigned long long)s->accepted, (unsigned long long)s->quarantined, (unsigned long long)s->blank_lines,
            (unsigned long long)s->bytes_read, (unsigned long long)s->dup_window_resets, s->min_date, s->max_date);
    for (int r = 0; r < ER_Q_COUNT; r++)
        fprintf(f, ",%llu", (unsigned long long)s->by_reason[r]);
    fputc('\n', f);
}

/* The feed read one way into *out (malloc'd text): chunk_records 0 reads with
 * er_feed_next in batches of batch_cap, else in chunks of that many records.
 * The status that ended the reading is written last. */
static char *fcc_read(const er_feed_opts *o, size_t batch_cap, size_t chunk_records)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    er_feed *fd = NULL;
    er_batch *b = NULL;
    er_feed_chunk *c = NULL;
    er_err err = {{0}};
    if (er_batch_new(&b, batch_cap, &err) != ER_OK || er_feed_chunk_new(&c, &err) != ER_OK)
        abort();
    er_status st = er_feed_open(&fd, o, &err);
    while (st == ER_OK) {
        if (!chunk_records) {
            st = er_feed_next(fd, b, &err);
        } else {
            st = er_feed_cut(fd, c, chunk_records, &err);
            if (st == ER_OK && (st = er_feed_parse(fd, c, b, &err)) == ER_OK)
                st = er_feed_settle(fd, c, b, &err);
        }
        if (st != ER_OK)
            break;
        for (size_t i = 0; i < b->n; i++)
            fcc_decl(f, &b->decls[i]);
        for (size_t i = 0; i < b->n_q; i++)
            fcc_quarantine(f, &b->quarantined[i]);
    }
    if (fd)
        fcc_stats(f, er_feed_stats_get(fd));
    fprintf(f, "E%d %s\n", (int)st, st == ER_EOF ? "" : err.msg);
    er_feed_free(fd);
    er_feed_chunk_free(c);
    er_batch_free(b);
    fclose(f);
    return text;
}

/* The next line of pass's kind (0: declarations, 1: quarantine records, 2:
 * statistics and ending) from *p, advancing *p past it; NULL at the end. */
static const char *fcc_next_line(const char **p, int pass, size_t *n)
{
    for (const char *q = *p; *q; q += *n) {
        const char *e = strchr(q, '\n');
        *n = e ? (size_t)(e - q) + 1 : strlen(q);
        if (pass == 0 ? *q == 'D' : pass == 1 ? *q == 'Q' : (*q == 'S' || *q == 'E')) {
            *p = q + *n;
            return q;
        }
    }
    *n = 0;
    return NULL;
}

/* Whether reading in chunks of chunk_records gives what er_feed_next gives
 * (decls and quarantine records each in feed order, statistics, the ending
 * status). Batches differ in how records group, so each way's records are
 * compared as two streams: declarations, quarantine records. On a
 * difference, the first differing lines go to stderr. */
static bool fcc_same(const er_feed_opts *o, size_t chunk_records)
{
    char *a = fcc_read(o, chunk_records, 0), *b = fcc_read(o, chunk_records, chunk_records);
    bool same = true;
    for (int pass = 0; pass < 3 && same; pass++) {
        const char *pa = a, *pb = b;
        for (;;) {
            size_t na, nb;
            const char *la = fcc_next_line(&pa, pass, &na), *lb = fcc_next_line(&pb, pass, &nb);
            if (!la && !lb)
                break;
            if (!la || !lb || na != nb || memcmp(la, lb, na) != 0) {
                fprintf(stderr, "chunks of %zu differ from er_feed_next:\n  next:   %.*s\n  chunks: %.*s\n",
                        chunk_records, la ? (int)na : 6, la ? la : "(none)", lb ? (int)nb : 6, lb ? lb : "(none)");
                same = false;
                break;
            }
        }
    }
    free(a);
    free(b);
    return same;
}

#endif
