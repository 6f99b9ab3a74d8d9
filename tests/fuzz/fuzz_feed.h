/*
 * fuzz_feed.h — the body shared by the CSV and JSON Lines harnesses: feed the
 * input through er_feed_open / er_feed_next (reader, gzip detection, mapping,
 * validation, quarantine) in small batches and check what the feed contract
 * promises for ANY input: no crash, leak or UB; every record accepted or
 * quarantined (rows_read == accepted + quarantined, per-reason counts add up,
 * batch contents match the counters); accepted declarations satisfy the
 * validation rules (docs/feeds.md, decl.h limits).
 */
#ifndef ECORISK_FUZZ_FEED_H
#define ECORISK_FUZZ_FEED_H

#include <math.h>
#include <string.h>

#include "ecorisk/decl.h"
#include "ecorisk/feed.h"
#include "ecorisk/refdata.h"
#include "fuzz_common.h"

static er_refdata *fz_ref;
static er_mapping *fz_maps[2];

static void fz_feed_init(const char *map0, const char *map1)
{
    er_err err = {{0}};
    if (er_refdata_load(&fz_ref, NULL, &err) != ER_OK ||
        er_mapping_load(&fz_maps[0], map0, &err) != ER_OK ||
        (map1 && er_mapping_load(&fz_maps[1], map1, &err) != ER_OK)) {
        fprintf(stderr, "fuzz init: %s\n", err.msg);
        abort();
    }
}

static bool fz_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void fz_check_decl(const er_decl *d)
{
    FZ_CHECK(d->id && *d->id && strlen(d->id) <= ER_LIMIT_ID);
    FZ_CHECK(d->hs_len >= 6 && d->hs_len <= ER_HS_MAX && strlen(d->hs) == d->hs_len);
    FZ_CHECK(fz_digits(d->hs, d->hs_len));
    char day[11];
    int32_t back = 0;
    er_date_format(d->date, day);
    FZ_CHECK(er_date_parse(day, 10, &back) == ER_OK && back == d->date);
    FZ_CHECK(d->flow <= ER_FLOW_TR && d->mode <= ER_MODE_OTHER);
    FZ_CHECK(d->n_transit <= ER_TRANSIT_MAX);
    FZ_CHECK(!d->origin || er_country_valid(fz_ref, d->origin));
    FZ_CHECK(!d->export_country || er_country_valid(fz_ref, d->export_country));
    FZ_CHECK(!d->destination || er_country_valid(fz_ref, d->destination));
    for (unsigned i = 0; i < d->n_transit; i++)
        FZ_CHECK(er_country_valid(fz_ref, d->transit[i]));
    const double *nums[] = {&d->net_kg, &d->gross_kg, &d->quantity, &d->value, &d->packages, &d->value_ref};
    const uint32_t bits[] = {ER_P_NET_KG, ER_P_GROSS_KG, ER_P_QUANTITY, ER_P_VALUE, ER_P_PACKAGES, ER_P_VALUE_REF};
    for (size_t i = 0; i < 6; i++) {
        if (d->present & bits[i])
            FZ_CHECK(isfinite(*nums[i]) && *nums[i] >= 0);
        else
            FZ_CHECK(*nums[i] == 0.0);
    }
    if ((d->present & ER_P_NET_KG) && (d->present & ER_P_GROSS_KG))
        FZ_CHECK(d->gross_kg >= d->net_kg);
    FZ_CHECK(!d->declarant || strlen(d->declarant) <= ER_LIMIT_PARTY);
    FZ_CHECK(!d->importer || strlen(d->importer) <= ER_LIMIT_PARTY);
    FZ_CHECK(!d->exporter || strlen(d->exporter) <= ER_LIMIT_PARTY);
    FZ_CHECK(!d->description || strlen(d->description) <= ER_LIMIT_DESCRIPTION);
    FZ_CHECK(!d->office || strlen(d->office) <= ER_LIMIT_OFFICE);
    FZ_CHECK(!d->unit || strlen(d->unit) <= ER_LIMIT_UNIT);
    FZ_CHECK(!d->container || strlen(d->container) <= ER_LIMIT_CONTAINER);
    FZ_CHECK(d->n_extra <= ER_LIMIT_EXTRAS);
    for (uint32_t i = 0; i < d->n_extra; i++)
        FZ_CHECK(d->extra[i].name && d->extra[i].value && strlen(d->extra[i].value) <= ER_LIMIT_EXTRA);
    FZ_CHECK(d->line >= 1);
}

/* Run one input through the feed with the given format and mapping index. */
static void fz_feed_one(const uint8_t *data, size_t size, const char *file, er_format fmt, int map)
{
    const char *path = fz_write(file, data, size);
    er_feed_opts o = {.source = path, .mapping = fz_maps[map], .ref = fz_ref, .format = fmt};
    er_feed *f = NULL;
    er_batch *b = NULL;
    er_err err = {{0}};
    uint64_t acc = 0, q = 0, by_reason[ER_Q_COUNT] = {0}, last_seq = 0;
    bool any = false;
    if (er_batch_new(&b, 7, &err) != ER_OK)
        abort();
    er_status st = er_feed_open(&f, &o, &err);
    if (st == ER_OK) {
        for (int guard = 0;; guard++) {
            FZ_CHECK(guard < 10000000);
            st = er_feed_next(f, b, &err);
            if (st != ER_OK)
                break;
            FZ_CHECK(b->n + b->n_q > 0 && b->n <= b->cap);
            for (size_t i = 0; i < b->n; i++) {
                fz_check_decl(&b->decls[i]);
                FZ_CHECK(!any || b->decls[i].seq > last_seq);
                last_seq = b->decls[i].seq;
                any = true;
            }
            for (size_t i = 0; i < b->n_q; i++) {
                FZ_CHECK(b->quarantined[i].reason < ER_Q_COUNT);
                FZ_CHECK(b->quarantined[i].line >= 1 && b->quarantined[i].detail);
                by_reason[b->quarantined[i].reason]++;
            }
            acc += b->n;
            q += b->n_q;
        }
        FZ_CHECK(st != ER_OK);
        if (st == ER_EOF) {
            FZ_CHECK(b->n == 0 && b->n_q == 0);
            /* a second call after the end stays at the end */
            FZ_CHECK(er_feed_next(f, b, &err) == ER_EOF);
        } else {
            FZ_CHECK(err.msg[0] != '\0');
        }
        const er_feed_stats *s = er_feed_stats_get(f);
        FZ_CHECK(s->rows_read == s->accepted + s->quarantined);
        if (st == ER_EOF) {
            FZ_CHECK(s->accepted == acc && s->quarantined == q);
            for (int r = 0; r < ER_Q_COUNT; r++)
                FZ_CHECK(s->by_reason[r] == by_reason[r]);
        }
        FZ_CHECK(s->bytes_read <= (uint64_t)size || (size >= 2 && data[0] == 0x1f && data[1] == 0x8b));
    } else {
        FZ_CHECK(f == NULL && err.msg[0] != '\0');
    }
    er_feed_free(f);
    er_batch_free(b);
}

#endif
