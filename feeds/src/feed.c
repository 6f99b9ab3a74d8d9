/*
 * feed.c — the feed driver behind er_feed_* (feed.h): opens the source,
 * picks the format's reader from the reader table (reader.h), which binds
 * the mapping to the CSV header (or JSON keys) and yields raw records,
 * and fills batches with validated declarations and quarantine records,
 * keeping rows_read == accepted + quarantined. Duplicate ids are detected
 * with a bounded table of 64-bit id hashes (see ER_FEED_DUP_EXACT).
 */
#include "ecorisk/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bigmem.h"
#include "core/wordload.h"
#include "feed_internal.h"
#include "reader.h"
#include "source.h"

/* Linear probing at load <= 3/4: 4M slots × 8 bytes = 32 MiB hold ER_FEED_DUP_EXACT ids. */
#define DUP_MAX_SLOTS (1u << 22)

struct er_feed {
    char             *name;
    void            (*warn)(void *ud, const char *msg);
    void             *warn_ud;
    er_format         fmt;
    er_mapping       *own_map;
    const er_mapping *map;
    er_src           *src;
    const feed_reader *rd;           /* the format's row of er_feed_readers */
    void             *rs;            /* its state */
    er_feed_stats     st;
    vctx              vc;
    const char       *label_field;
    /* duplicate ids */
    uint64_t         *dup;
    size_t            dup_slots, dup_used;
    icache           *ic;
    bool              eof;
    uint64_t          rows_cut;      /* records cut so far (er_feed_cut; the reading thread's) */
};

const er_feed_stats *er_feed_stats_get(const er_feed *f) { return &f->st; }
const char *er_feed_name(const er_feed *f) { return f->name; }
er_format er_feed_format(const er_feed *f) { return f->fmt; }
const char *er_feed_mapping_name(const er_feed *f) { return er_mapping_name(f->map); }
uint64_t er_feed_raw_bytes(const er_feed *f) { return src_raw_bytes(f->src); }
uint64_t er_feed_size(const er_feed *f) { return src_size(f->src); }

void er_feed_free(er_feed *f)
{
    if (!f)
        return;
    if (f->rd)
        f->rd->free(f->rs);
    src_free(f->src);
    er_mapping_free(f->own_map);
    er_big_cfree(f->dup, f->dup_slots * sizeof *f->dup);
    free(f->ic);
    free(f->name);
    free(f);
}

/* The reader: the format asked for, else the mapping's, else the file
 * name's, else the one claiming the first bytes (reader.h). */
static er_status pick_reader(er_feed *f, const er_feed_opts *o, er_err *err)
{
    er_format fmt = o->format;
    if (fmt == ER_FORMAT_AUTO && o->mapping)
        fmt = er_mapping_format(o->mapping);
    f->rd = er_feed_reader_by_format(fmt);
    if (!f->rd)
        f->rd = er_feed_reader_by_name(o->source);
    if (!f->rd) {
        char buf[4096];
        size_t n;
        er_status st = src_peek(f->src, buf, sizeof buf, &n, err);
        if (st != ER_OK)
            return st;
        f->rd = er_feed_reader_sniff(buf, n);
    }
    f->fmt = f->rd->fmt;
    return ER_OK;
}

er_status er_feed_open(er_feed **out, const er_feed_opts *o, er_err *err)
{
    er_status st = ER_OK;
    *out = NULL;
    if (!o || !o->source || !*o->source || !o->ref)
        return er_errf(err, ER_EINVAL, "er_feed_open: source and reference data are required");
    er_feed *f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(o->source))) {
        free(f);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    f->label_field = o->label_field;
    f->warn = o->warn;
    f->warn_ud = o->warn_ud;
    src_opts so = {o->cacert, o->max_time_s};
    if ((st = src_open(&f->src, o->source, &so, err)) != ER_OK)
        goto fail;
    if ((st = pick_reader(f, o, err)) != ER_OK)
        goto fail;
    if (o->mapping) {
        f->map = o->mapping;
    } else {
        if ((st = er_mapping_canonical(&f->own_map, f->fmt, err)) != ER_OK)
            goto fail;
        f->map = f->own_map;
    }
    if (!(f->ic = calloc(1, sizeof *f->ic))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto fail;
    }
    f->vc.ic = f->ic;
    f->vc.ref = o->ref;
    f->vc.map = f->map;
    f->vc.since = o->since;
    f->vc.until = o->until;
    feed_ctx fc = {f->name, f->map, f->label_field, f->warn, f->warn_ud};
    if ((st = f->rd->open(&f->rs, f->src, &fc, err)) != ER_OK)
        goto fail;
    uint64_t blank;
    f->rd->counts(f->rs, &f->st.bytes_read, &blank);
    *out = f;
    return ER_OK;
fail:
    er_feed_free(f);
    return st;
}

/* ---- duplicate ids ---- */

static inline uint64_t id_hash(const char *s, size_t n)
{
    /* FNV-1a over 8-byte words, then a murmur finaliser. */
    uint64_t h = 1469598103934665603ULL ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h = (h ^ er_load8(s + i)) * 1099511628211ULL;
        h ^= h >> 29;
    }
    h = (h ^ er_load_tail(s + i, n - i)) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static bool dup_grow(er_feed *f)
{
    size_t ns = f->dup_slots ? f->dup_slots * 2 : 1u << 10;
    if (!f->dup_slots) {
        /* Pre-size from the feed's size (~200 bytes a row, as a canonical
         * declaration, at load <= 3/4); a feed of shorter rows grows the table.
         * Every slot is fresh memory the kernel zeroes: half the table of a
         * load of 1/2 is ~25 ms less work on a million-row day. */
        uint64_t est = src_size_hint(f->src) / 150;
        while (ns < est && ns < DUP_MAX_SLOTS)
            ns *= 2;
    }
    if (ns > DUP_MAX_SLOTS) {
        memset(f->dup, 0, f->dup_slots * sizeof *f->dup);
        f->dup_used = 0;
        f->st.dup_window_resets++;
        return true;
    }
    /* zeroed, on huge pages (probes are random and would miss the TLB) */
    uint64_t *nd = er_big_calloc(ns * sizeof *nd);
    if (!nd)
        return false;
    for (size_t i = 0; i < f->dup_slots; i++) {
        uint64_t h = f->dup[i];
        if (!h)
            continue;
        size_t j = (size_t)(h >> 20) & (ns - 1);
        while (nd[j])
            j = (j + 1) & (ns - 1);
        nd[j] = h;
    }
    er_big_cfree(f->dup, f->dup_slots * sizeof *f->dup);
    f->dup = nd;
    f->dup_slots = ns;
    return true;
}

static inline void dup_prefetch(const er_feed *f, uint64_t h)
{
    if (f->dup_slots)
        __builtin_prefetch(&f->dup[(size_t)(h >> 20) & (f->dup_slots - 1)]); /*PF*/
}

/* 1 if the id hash was seen before; else records it (0). -1 on ENOMEM. */
static int dup_check(er_feed *f, uint64_t h)
{
    if ((f->dup_used + 1) * 4 > f->dup_slots * 3 && !dup_grow(f))
        return -1;
    size_t mask = f->dup_slots - 1, j = (size_t)(h >> 20) & mask;
    while (f->dup[j]) {
        if (f->dup[j] == h)
            return 1;
        j = (j + 1) & mask;
    }
    f->dup[j] = h;
    f->dup_used++;
    return 0;
}

/* ---- records ---- */

/* A record quarantined: counted in st, recorded in b as the record seq of the feed. */
static er_status quarantine_at(const er_feed *f, er_feed_stats *st, er_batch *b, uint64_t line, uint64_t seq,
                               er_qreason reason, const char *field, const char *raw, size_t raw_len,
                               const char *detail)
{
    st->quarantined++;
    st->by_reason[reason]++;
    return er_batch_quarantine(b, f->name, line, seq, reason, field, raw, raw_len, "%s", detail);
}

static inline void item_reset(raw_rec *r, feed_item *it)
{
    memset(r->v, 0, sizeof r->v);
    r->n_extra = 0;
    r->ascii = false;
    r->trimmed = false;
    it->bad = false;
    it->field = NULL;
}

/* Record an accepted declaration's id, or take the declaration back out of
 * the batch and quarantine it when the id was seen before. The raw excerpt
 * of a duplicate is cut at DUP_RAW_MAX bytes. */
#define DUP_RAW_MAX 200
static er_status dup_quarantine(er_feed *f, er_batch *b, const er_decl *d, uint64_t line, const char *raw,
                                size_t raw_len, er_err *err)
{
    char why[160];
    snprintf(why, sizeof why, "id '%.64s' already seen earlier in this feed", d->id);
    f->st.accepted--;
    f->st.quarantined++;
    f->st.by_reason[ER_Q_DUPLICATE_ID]++;
    er_status st = er_batch_quarantine(b, f->name, line, d->seq, ER_Q_DUPLICATE_ID, "id", raw,
                                       raw_len < DUP_RAW_MAX ? raw_len : DUP_RAW_MAX, "%s", why);
    if (st != ER_OK)
        return er_errf(err, st, "%s: out of memory", f->name);
    return ER_OK;
}

/* Hash of the record's id as validation will see it (trimmed), so that its
 * slot in the duplicate table can be prefetched while the record is
 * validated; 0 when there is no id. */
static inline uint64_t raw_id_hash(const raw_rec *r, const char **p, uint32_t *n)
{
    *p = r->v[F_ID];
    *n = r->len[F_ID];
    if (!*p)
        return 0;
    er_trim(p, n);
    return id_hash(*p, *n);
}

/* Check an accepted declaration's id against the feed's earlier ones: new
 * (*dup false, its date counted), or a duplicate (*dup true, quarantined in
 * b; the caller takes d out of the batch). ER_ENOMEM with err filled. */
static er_status check_id(er_feed *f, er_batch *b, const er_decl *d, uint64_t h, const char *raw,
                          size_t raw_len, bool *dup, er_err *err)
{
    int seen = dup_check(f, h);
    *dup = seen == 1;
    if (seen < 0)
        return er_errf(err, ER_ENOMEM, "%s: out of memory in the duplicate-id table", f->name);
    if (seen)
        return dup_quarantine(f, b, d, d->line, raw, raw_len, err);
    if (!f->st.min_date || d->date < f->st.min_date)
        f->st.min_date = d->date;
    if (!f->st.max_date || d->date > f->st.max_date)
        f->st.max_date = d->date;
    return ER_OK;
}

/* One raw record (from next or parse) into b: quarantined when the reader
 * or validation rejects it, else an accepted declaration (*d) with its line,
 * seq and id hash (*h; the duplicate table's slot prefetched when f_dup is
 * given). Counts go to st. */
static er_status take_one(const er_feed *f, const vctx *vc, er_feed_stats *st, er_batch *b, raw_rec *r,
                          const feed_item *it, uint64_t seq, er_feed *f_dup, er_decl **d, uint64_t *h)
{
    *d = NULL;
    if (it->bad)
        return quarantine_at(f, st, b, it->line, seq, it->reason, it->field, it->raw, it->raw_len, it->detail);
    const char *idp = NULL;
    uint32_t idn = 0;
    *h = raw_id_hash(r, &idp, &idn);
    if (f_dup)
        dup_prefetch(f_dup, *h);
    er_decl *nd = er_batch_push(b);
    vfail fail;
    if (!er_validate(vc, r, nd, &fail)) {
        b->n--;
        const char *field = fail.field >= 0 ? er_field_names[fail.field] : fail.xfield;
        return quarantine_at(f, st, b, it->line, seq, fail.reason, field, it->raw, it->raw_len, fail.detail);
    }
    nd->line = it->line;
    nd->seq = seq;
    st->accepted++;
    if (r->v[F_ID] != idp || r->len[F_ID] != idn)   /* the mapping changed the id */
        *h = id_hash(nd->id, r->len[F_ID]);
    *d = nd;
    return ER_OK;
}

er_status er_feed_next(er_feed *f, er_batch *b, er_err *err)
{
    er_status st = ER_OK;
    er_batch_reset(b);
    if (f->eof)
        return ER_EOF;
    f->vc.arena = b->arena;
    f->ic->gen++;
    raw_rec r;
    while (b->n + b->n_q < b->cap) {
        feed_item it;
        item_reset(&r, &it);
        st = f->rd->next(f->rs, &r, &it, err);
        if (st == ER_EOF) {
            f->eof = true;
            st = ER_OK;
            break;
        }
        if (st != ER_OK)
            break;
        er_decl *d;
        uint64_t h;
        if ((st = take_one(f, &f->vc, &f->st, b, &r, &it, f->st.rows_read++, f, &d, &h)) != ER_OK)
            break;
        bool dup = false;
        if (d && (st = check_id(f, b, d, h, it.raw, it.raw_len, &dup, err)) != ER_OK)
            break;
        b->n -= dup;
    }
    f->rd->counts(f->rs, &f->st.bytes_read, &f->st.blank_lines);
    if (st == ER_ENOMEM)
        return er_errf(err, ER_ENOMEM, "%s: out of memory", f->name);
    if (st != ER_OK)
        return st;
    if (b->n + b->n_q == 0)
        return ER_EOF;
    return ER_OK;
}

/* ---- in three steps: cut, parse, settle (feed.h) ---- */

struct er_feed_chunk {
    feed_chunk    fc;        /* the reader's cut */
    uint64_t      row0;      /* records of the feed before it */
    icache       *ic;        /* the interning cache of whoever parses it */
    er_feed_stats st;        /* what parsing counted: rows, accepted, quarantined */
    /* per declaration parsed, for settling: its id hash and raw record */
    uint64_t     *hash;
    const char  **raw;
    uint32_t     *raw_len;
    size_t        cap;
};

er_status er_feed_chunk_new(er_feed_chunk **out, er_err *err)
{
    er_feed_chunk *c = calloc(1, sizeof *c);
    if (!c || !(c->ic = calloc(1, sizeof *c->ic))) {
        free(c);
        *out = NULL;
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    *out = c;
    return ER_OK;
}

void er_feed_chunk_free(er_feed_chunk *c)
{
    if (!c)
        return;
    if (c->fc.part_free)
        c->fc.part_free(c->fc.part);
    free(c->raw_len);
    free(c->raw);
    free(c->hash);
    free(c->ic);
    free(c);
}

er_status er_feed_cut(er_feed *f, er_feed_chunk *c, size_t max_records, er_err *err)
{
    if (f->eof)
        return ER_EOF;
    er_status st = f->rd->cut(f->rs, &c->fc, max_records, err);
    f->rd->counts(f->rs, &f->st.bytes_read, &f->st.blank_lines);
    if (st == ER_EOF)
        f->eof = true;
    if (st != ER_OK)
        return st;
    c->row0 = f->rows_cut;
    f->rows_cut += c->fc.n_rec;
    return ER_OK;
}

er_status er_feed_parse(const er_feed *f, er_feed_chunk *c, er_batch *b, er_err *err)
{
    er_status st = ER_OK;
    er_batch_reset(b);
    memset(&c->st, 0, sizeof c->st);
    if (c->fc.n_rec > b->cap)
        return er_errf(err, ER_EINTERNAL, "%s: a chunk of %zu records for a batch of %zu", f->name,
                       c->fc.n_rec, b->cap);
    if (c->cap < b->cap) {
        free(c->hash);
        free(c->raw);
        free(c->raw_len);
        c->hash = malloc(b->cap * sizeof *c->hash);
        c->raw = malloc(b->cap * sizeof *c->raw);
        c->raw_len = malloc(b->cap * sizeof *c->raw_len);
        c->cap = c->hash && c->raw && c->raw_len ? b->cap : 0;
        if (!c->cap)
            return er_errf(err, ER_ENOMEM, "%s: out of memory", f->name);
    }
    vctx vc = f->vc;
    vc.arena = b->arena;
    vc.ic = c->ic;
    c->ic->gen++;
    raw_rec r;
    feed_item it;
    for (;;) {
        item_reset(&r, &it);
        st = f->rd->parse(f->rs, &c->fc, &r, &it, err);
        if (st == ER_EOF) {
            st = ER_OK;
            break;
        }
        if (st != ER_OK)
            break;
        if (b->n + b->n_q == b->cap) {
            st = er_errf(err, ER_EINTERNAL, "%s: a chunk holds more records than it was cut with", f->name);
            break;
        }
        er_decl *d;
        uint64_t h;
        if ((st = take_one(f, &vc, &c->st, b, &r, &it, c->row0 + c->st.rows_read++, NULL, &d, &h)) != ER_OK)
            break;
        if (!d)
            continue;
        c->hash[b->n - 1] = h;
        c->raw[b->n - 1] = it.raw;
        c->raw_len[b->n - 1] = (uint32_t)(it.raw_len < DUP_RAW_MAX ? it.raw_len : DUP_RAW_MAX);
    }
    if (st == ER_ENOMEM)
        return er_errf(err, ER_ENOMEM, "%s: out of memory", f->name);
    return st;
}

static int cmp_qseq(const void *a, const void *b)
{
    uint64_t x = ((const er_qrecord *)a)->seq, y = ((const er_qrecord *)b)->seq;
    return (x > y) - (x < y);
}

er_status er_feed_settle(er_feed *f, er_feed_chunk *c, er_batch *b, er_err *err)
{
    er_status st = ER_OK;
    f->st.rows_read += c->st.rows_read;
    f->st.accepted += c->st.accepted;
    f->st.quarantined += c->st.quarantined;
    for (int q = 0; q < ER_Q_COUNT; q++)
        f->st.by_reason[q] += c->st.by_reason[q];
    size_t n = b->n, w = 0, n_q = b->n_q;
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n)
            dup_prefetch(f, c->hash[i + 8]);
        bool dup;
        if ((st = check_id(f, b, &b->decls[i], c->hash[i], c->raw[i], c->raw_len[i], &dup, err)) != ER_OK)
            return st;
        if (!dup && w != i)
            b->decls[w] = b->decls[i];
        w += !dup;
    }
    b->n = w;
    if (b->n_q != n_q)   /* duplicates join the other quarantine records in feed order */
        qsort(b->quarantined, b->n_q, sizeof *b->quarantined, cmp_qseq);
    return ER_OK;
}
