/*
 * feed_fixture.h — helpers shared by the feed unit tests: temporary files,
 * shared test data paths, and a one-call "ingest this text" that returns
 * every accepted declaration and quarantine record of a feed.
 */
#ifndef ECORISK_TEST_FEED_FIXTURE_H
#define ECORISK_TEST_FEED_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecorisk/decl.h"
#include "ecorisk/feed.h"
#include "ecorisk/refdata.h"
#include "tmp_fixture.h"

__attribute__((unused)) static char *fx_shared(const char *rel)
{
    static char buf[4][4096];
    static int k;
    const char *base = getenv("ECORISK_SHARED_DATA");
    char *out = buf[k++ % 4];
    if (base && *base)
        snprintf(out, 4096, "%s/%s", base, rel);
    else
        snprintf(out, 4096, "%s/../shared/data/%s", ECORISK_SOURCE_DIR, rel);
    return out;
}

/* Write len bytes to a fresh file with the given suffix in the test's
 * scratch directory (tmp_fixture.h, removed at exit); returns its path
 * (static slots: valid for the next 7 calls). */
static const char *fx_tmpfile(const void *data, size_t len, const char *suffix)
{
    static char paths[8][1024];
    static int k;
    char *p = paths[k++ % 8];
    tf_mkstemps(p, sizeof paths[0], "feed-", suffix);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static er_refdata *fx_ref(void)
{
    static er_refdata *ref;
    if (!ref) {
        er_err err = {{0}};
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/feeds/reference", ECORISK_SOURCE_DIR);
        ck_assert_msg(er_refdata_load(&ref, dir, &err) == ER_OK, "%s", err.msg);
    }
    return ref;
}

/* The result of reading a whole feed: copies of the batches' contents. */
typedef struct fx_result {
    er_status     open_st, next_st;
    char          err[ER_ERR_MSG_MAX];
    er_feed_stats st;
    size_t        n, n_q;
    er_decl       d[64];
    er_qrecord    q[64];
    er_batch     *keep;        /* the last batch (owns the strings of d / q when small) */
} fx_result;

__attribute__((unused)) static void fx_free(fx_result *r)
{
    er_batch_free(r->keep);
    r->keep = NULL;
}

/* Ingest a file; keeps up to 64 decls / quarantine records (single batch
 * of cap 4096 so the strings stay valid in r->keep). */
static void fx_ingest_opts(fx_result *r, er_feed_opts *o)
{
    memset(r, 0, sizeof *r);
    er_err err = {{0}};
    er_feed *f = NULL;
    o->ref = fx_ref();
    r->open_st = er_feed_open(&f, o, &err);
    if (r->open_st != ER_OK) {
        snprintf(r->err, sizeof r->err, "%s", err.msg);
        return;
    }
    ck_assert_int_eq(er_batch_new(&r->keep, 4096, &err), ER_OK);
    er_batch *tmp = NULL;
    ck_assert_int_eq(er_batch_new(&tmp, 4096, &err), ER_OK);
    er_batch *cur = r->keep;
    bool first = true;
    for (;;) {
        er_batch *b = first ? r->keep : tmp;
        er_status st = er_feed_next(f, b, &err);
        if (st != ER_OK) {
            r->next_st = st;
            if (st != ER_EOF)
                snprintf(r->err, sizeof r->err, "%s", err.msg);
            break;
        }
        cur = b;
        for (size_t i = 0; i < b->n && r->n < 64; i++)
            if (first)
                r->d[r->n++] = b->decls[i];
        for (size_t i = 0; i < b->n_q && r->n_q < 64; i++)
            if (first)
                r->q[r->n_q++] = b->quarantined[i];
        first = false;
    }
    (void)cur;
    r->st = *er_feed_stats_get(f);
    er_batch_free(tmp);
    er_feed_free(f);
}

__attribute__((unused)) static void fx_ingest(fx_result *r, const char *text, const char *suffix, const er_mapping *m)
{
    er_feed_opts o = {0};
    o.source = fx_tmpfile(text, strlen(text), suffix);
    o.mapping = m;
    fx_ingest_opts(r, &o);
}

/* Quarantine record i: reason, field and detail must match exactly. */
#define fx_assert_q(r, i, reason_, field_, detail_)                                            \
    do {                                                                                      \
        ck_assert_uint_gt((r)->n_q, (i));                                                     \
        ck_assert_str_eq(er_qreason_str((r)->q[i].reason), reason_);                          \
        if ((field_) == NULL)                                                                 \
            ck_assert_ptr_null((r)->q[i].field);                                              \
        else                                                                                  \
            ck_assert_str_eq((r)->q[i].field ? (r)->q[i].field : "(null)", (field_) ? (field_) : ""); \
        ck_assert_str_eq((r)->q[i].detail, detail_);                                          \
    } while (0)

#endif
