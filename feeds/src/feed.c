/*
 * feed.c — the feed driver behind er_feed_* (feed.h): opens the source,
 * picks the format, binds the mapping to the CSV header (or JSON keys),
 * and fills batches with validated declarations and quarantine records,
 * keeping rows_read == accepted + quarantined. Duplicate ids are detected
 * with a bounded table of 64-bit id hashes (see ER_FEED_DUP_EXACT).
 */
#include "ecorisk/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bigmem.h"
#include "csv.h"
#include "feed_internal.h"
#include "jsonl.h"
#include "source.h"

#define DUP_MAX_SLOTS (ER_FEED_DUP_EXACT * 2u)   /* 4M slots × 8 bytes = 32 MiB */

struct er_feed {
    char             *name;
    void            (*warn)(void *ud, const char *msg);
    void             *warn_ud;
    er_format         fmt;
    er_mapping       *own_map;
    const er_mapping *map;
    er_src           *src;
    er_csv           *csv;
    er_jsonl         *jl;
    er_feed_stats     st;
    vctx              vc;
    const char       *label_field;
    /* CSV binding */
    char            **hdr;
    size_t            n_hdr;
    int               fcol[F_COUNT];
    int               xcol[ER_LIMIT_EXTRAS];
    size_t            n_x;
    /* JSONL: arrays joined for transit */
    char             *join;
    size_t            join_cap;
    char             *djoin[3];      /* arrays of document numbers (permits, licences, consents) */
    size_t            djoin_cap[3];
    /* duplicate ids */
    uint64_t         *dup;
    size_t            dup_slots, dup_used;
    icache           *ic;
    bool              eof;
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
    csv_free(f->csv);
    jsonl_free(f->jl);
    src_free(f->src);
    er_mapping_free(f->own_map);
    if (f->hdr)
        for (size_t i = 0; i < f->n_hdr; i++)
            free(f->hdr[i]);
    free(f->hdr);
    free(f->join);
    for (int i = 0; i < 3; i++)
        free(f->djoin[i]);
    er_big_cfree(f->dup, f->dup_slots * sizeof *f->dup);
    free(f->ic);
    free(f->name);
    free(f);
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncmp(s + n - k, suf, k) == 0;
}

static er_format format_from_name(const char *src)
{
    size_t n = strlen(src);
    const char *q = strchr(src, '?');   /* URLs: ignore the query */
    if (q)
        n = (size_t)(q - src);
    if (ends_with(src, n, ".gz"))
        n -= 3;
    if (ends_with(src, n, ".csv") || ends_with(src, n, ".CSV") || ends_with(src, n, ".txt"))
        return ER_FORMAT_CSV;
    if (ends_with(src, n, ".jsonl") || ends_with(src, n, ".ndjson") || ends_with(src, n, ".json"))
        return ER_FORMAT_JSONL;
    return ER_FORMAT_AUTO;
}

static er_status sniff_format(er_feed *f, er_err *err)
{
    char buf[4096];
    size_t n;
    er_status st = src_peek(f->src, buf, sizeof buf, &n, err);
    if (st != ER_OK)
        return st;
    size_t i = 0;
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    f->fmt = i < n && buf[i] == '{' ? ER_FORMAT_JSONL : ER_FORMAT_CSV;
    return ER_OK;
}

static bool is_required(int fi) { return fi == F_ID || fi == F_DATE || fi == F_HS; }

/* A header name holds no control character (docs/feeds.md#csv). A CR in it
 * means the file ends its lines with a bare CR (classic Mac), which the
 * reader does not split on: say so rather than read one huge header. */
static er_status check_header_name(const er_feed *f, uint64_t line, size_t col, const char *p,
                                   size_t n, er_err *err)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c == '\r')
            return er_errf(err, ER_EFORMAT, "%s:%llu: header row: column %zu holds a bare CR: "
                           "lines ending in CR alone are not supported (convert the feed to LF "
                           "or CRLF line ends)", f->name, (unsigned long long)line, col + 1);
        if (c < 0x20 || c == 0x7f)
            return er_errf(err, ER_EFORMAT, "%s:%llu: header row: column %zu name holds the "
                           "control character 0x%02x", f->name, (unsigned long long)line,
                           col + 1, c);
    }
    return ER_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Every header name appears once: a repeated name would make the column a
 * mapping or an extra binds to depend on its position. Sorted, so a wide
 * hostile header costs n log n, not n^2. */
static er_status check_header_unique(const er_feed *f, uint64_t line, er_err *err)
{
    char **by = malloc(f->n_hdr * sizeof *by + 1);
    char ***ix = malloc(f->n_hdr * sizeof *ix + 1);
    er_status st = ER_OK;
    if (!by || !ix) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < f->n_hdr; i++) {
        by[i] = f->hdr[i];
        ix[i] = &by[i];
    }
    qsort(ix, f->n_hdr, sizeof *ix, cmp_name);
    for (size_t i = 1; i < f->n_hdr; i++)
        if (strcmp(*ix[i - 1], *ix[i]) == 0) {
            size_t a = (size_t)(ix[i - 1] - by), b = (size_t)(ix[i] - by);
            st = er_errf(err, ER_EFORMAT, "%s:%llu: header row: column name '%s' appears twice "
                         "(columns %zu and %zu)", f->name, (unsigned long long)line, *ix[i],
                         (a < b ? a : b) + 1, (a < b ? b : a) + 1);
            goto cleanup;
        }
cleanup:
    free(ix);
    free(by);
    return st;
}

/* A mapping's delimiter other than ',' is read by swapping it with ',' in the
 * source (src_swap); each field gets its own bytes back here (the views are
 * into the reader's buffers, which the feed owns). */
static void unswap_fields(const er_feed *f, const csv_rec *rec)
{
    char d = f->map->delimiter;
    if (d == ',' || !d)
        return;
    /* the raw record (for quarantine excerpts), which holds the fields split in place */
    char *raw = (char *)(uintptr_t)rec->raw;
    for (size_t k = 0; raw && k < rec->raw_len; k++)
        raw[k] = raw[k] == ',' ? d : raw[k] == d ? ',' : raw[k];
    for (size_t i = 0; i < rec->n; i++) {   /* fields unescaped into the scratch buffer */
        char *p = (char *)(uintptr_t)rec->f[i].p;
        if (raw && p >= raw && p + rec->f[i].len <= raw + rec->raw_len)
            continue;
        for (uint32_t k = 0; k < rec->f[i].len; k++)
            p[k] = p[k] == ',' ? d : p[k] == d ? ',' : p[k];
    }
}

/* The header's column names, quoted and comma-separated, cut with "..." to fit. */
static void header_list(const er_feed *f, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->n_hdr; i++) {
        int n = snprintf(out + o, cap - o, "%s'%s'", i ? ", " : "", f->hdr[i]);
        if (n < 0 || (size_t)n >= cap - o) {
            memcpy(out + (o + 4 < cap ? o : cap - 4), "...", 4);
            return;
        }
        o += (size_t)n;
    }
}

static er_status bind_csv_header(er_feed *f, er_err *err)
{
    csv_rec h;
    er_status st = csv_next(f->csv, &h, err);
    if (st == ER_EOF)
        return er_errf(err, ER_EFORMAT, "%s: empty feed (no header row)", f->name);
    if (st != ER_OK)
        return st;
    unswap_fields(f, &h);
    if (h.err != CSV_OK)
        return er_errf(err, ER_EFORMAT, "%s:%llu: header row: %s", f->name,
                       (unsigned long long)h.line, h.errmsg);
    f->hdr = calloc(h.n, sizeof *f->hdr);
    if (!f->hdr)
        return er_errf(err, ER_ENOMEM, "out of memory");
    f->n_hdr = h.n;
    for (size_t i = 0; i < h.n; i++) {
        const char *p = h.f[i].p;
        uint32_t n = h.f[i].len;
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (!(f->hdr[i] = strndup(p, n)))
            return er_errf(err, ER_ENOMEM, "out of memory");
        if ((st = check_header_name(f, h.line, i, p, n, err)) != ER_OK)
            return st;
    }
    if ((st = check_header_unique(f, h.line, err)) != ER_OK)
        return st;
    bool used[4096] = {0};
    for (int fi = 0; fi < F_COUNT; fi++) {
        const map_field *mf = &f->map->f[fi];
        f->fcol[fi] = -1;
        if (!mf->column)
            continue;
        int found = -1;
        for (size_t i = 0; i < f->n_hdr; i++)
            if (strcmp(f->hdr[i], mf->column) == 0) {
                if (found >= 0)
                    return er_errf(err, ER_EFORMAT, "%s:%llu: column '%s' (mapped to %s) appears "
                                   "twice in the header", f->name, (unsigned long long)h.line,
                                   mf->column, er_field_names[fi]);
                found = (int)i;
            }
        if (found < 0 && is_required(fi) && !mf->constant) {
            char hl[512];
            header_list(f, hl, sizeof hl);
            const char *other = f->n_hdr != 1 ? NULL : strchr(f->hdr[0], ';') ? ";" : strchr(f->hdr[0], '\t') ? "\\t"
                                                      : strchr(f->hdr[0], '|') ? "|" : NULL;
            return er_errf(err, ER_EFORMAT, "%s:%llu: missing required column '%s' (mapped to %s "
                           "by mapping '%s'); the header has: %s%s%s%s", f->name, (unsigned long long)h.line,
                           mf->column, er_field_names[fi], er_mapping_name(f->map), hl,
                           other ? " (one column: if the file is separated by '" : "", other ? other : "",
                           other ? "', say so with \"delimiter\" in the mapping)" : "");
        }
        if (found < 0 && !mf->constant && !mf->may_be_absent && f->warn) {
            char msg[1024], hl[512];
            header_list(f, hl, sizeof hl);
            snprintf(msg, sizeof msg, "%s:%llu: column '%s' (mapped to %s by mapping '%s') is not in the header, "
                     "so %s is empty in every record; the header has: %s", f->name, (unsigned long long)h.line,
                     mf->column, er_field_names[fi], er_mapping_name(f->map), er_field_names[fi], hl);
            f->warn(f->warn_ud, msg);
        }
        f->fcol[fi] = found;
        if (found >= 0 && found < 4096)
            used[found] = true;
    }
    for (size_t i = 0; i < f->n_hdr; i++) {
        bool label = f->label_field && strcmp(f->hdr[i], f->label_field) == 0;
        bool keep = (i >= 4096 || !used[i]) ? f->map->keep_extras : label;
        if (!keep && !label)
            continue;
        if (f->n_x == ER_LIMIT_EXTRAS)
            return er_errf(err, ER_ELIMIT, "%s:%llu: more than %d unmapped columns to keep as extras "
                           "(use a mapping with \"extras\": false)", f->name,
                           (unsigned long long)h.line, ER_LIMIT_EXTRAS);
        f->xcol[f->n_x++] = (int)i;
    }
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
    f->fmt = o->format;
    if (f->fmt == ER_FORMAT_AUTO && o->mapping)
        f->fmt = er_mapping_format(o->mapping);
    if (f->fmt == ER_FORMAT_AUTO)
        f->fmt = format_from_name(o->source);
    if (f->fmt == ER_FORMAT_AUTO && (st = sniff_format(f, err)) != ER_OK)
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
    if (f->fmt == ER_FORMAT_CSV) {
        if (f->map->delimiter && f->map->delimiter != ',')
            src_swap(f->src, ',', f->map->delimiter);
        if ((st = csv_open(&f->csv, f->src, ER_LIMIT_RECORD, err)) != ER_OK)
            goto fail;
        if ((st = bind_csv_header(f, err)) != ER_OK)
            goto fail;
    } else {
        if ((st = jsonl_open(&f->jl, f->src, ER_LIMIT_RECORD, err)) != ER_OK)
            goto fail;
    }
    f->st.bytes_read = f->csv ? csv_bytes(f->csv) : 0;
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
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 1099511628211ULL;
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
        /* Pre-size from the file size (~200 bytes a row, as a canonical
         * declaration, at load <= 0.5); a feed of shorter rows grows the table. */
        uint64_t est = src_size(f->src) / 100;
        while (ns < est && ns < ER_FEED_DUP_EXACT)
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
    if ((f->dup_used + 1) * 2 > f->dup_slots && !dup_grow(f))
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

static er_status quarantine(er_feed *f, er_batch *b, uint64_t line, er_qreason reason,
                            const char *field, const char *raw, size_t raw_len, const char *detail)
{
    f->st.quarantined++;
    f->st.by_reason[reason]++;
    return er_batch_quarantine(b, f->name, line, f->st.rows_read - 1, reason, field, raw, raw_len,
                               "%s", detail);
}

static const char *json_text(json_object *v, size_t *len)
{
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    *len = strlen(s);
    return s;
}

/* Fill r->v[fi] from a JSON value. false: shape error, detail in *why. */

/* JSONL: an array of document numbers becomes "A;B;C" (docs/registries.md), in a buffer of
 * the field's own, since a record may carry all three. */
static bool join_docs(er_feed *f, raw_rec *r, int fi, json_object *v, char *why, size_t cap)
{
    int slot = fi - F_PERMITS;
    size_t n = json_object_array_length(v), need = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            snprintf(why, cap, "%s[%zu]: expected a document number (string)", er_field_names[fi], i);
            return false;
        }
        need += (size_t)json_object_get_string_len(e) + 1;
    }
    if (f->djoin_cap[slot] < need) {
        char *nj = realloc(f->djoin[slot], need);
        if (!nj) {
            snprintf(why, cap, "out of memory");
            return false;
        }
        f->djoin[slot] = nj;
        f->djoin_cap[slot] = need;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (k)
            f->djoin[slot][k++] = ';';
        memcpy(f->djoin[slot] + k, json_object_get_string(e), (size_t)json_object_get_string_len(e));
        k += (size_t)json_object_get_string_len(e);
    }
    f->djoin[slot][k] = '\0';
    r->v[fi] = f->djoin[slot];
    r->len[fi] = (uint32_t)k;
    return true;
}

static bool json_field(er_feed *f, raw_rec *r, int fi, json_object *v, char *why, size_t cap)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return true;
    case json_type_string:
        r->v[fi] = json_object_get_string(v);
        r->len[fi] = (uint32_t)json_object_get_string_len(v);
        return true;
    case json_type_int:
    case json_type_double:
    case json_type_boolean: {
        size_t n;
        r->v[fi] = json_text(v, &n);
        r->len[fi] = (uint32_t)n;
        return true;
    }
    case json_type_array:
        if (fi == F_TRANSIT) {
            size_t n = json_object_array_length(v), k = 0;
            if (f->join_cap < n * 3 + 1) {
                char *nj = realloc(f->join, n * 3 + 1);
                if (!nj) {
                    snprintf(why, cap, "out of memory");
                    return false;
                }
                f->join = nj;
                f->join_cap = n * 3 + 1;
            }
            for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string) || json_object_get_string_len(e) != 2) {
                    snprintf(why, cap, "transit[%zu]: expected a two-letter country code", i);
                    return false;
                }
                if (k)
                    f->join[k++] = ';';
                memcpy(f->join + k, json_object_get_string(e), 2);
                k += 2;
            }
            r->v[fi] = f->join;
            r->len[fi] = (uint32_t)k;
            return true;
        }
        if (fi == F_PERMITS || fi == F_LICENCES || fi == F_CONSENTS)
            return join_docs(f, r, fi, v, why, cap);
        /* fall through */
    default:
        snprintf(why, cap, "%s: expected a string or a number, got %s", er_field_names[fi],
                 json_object_is_type(v, json_type_array) ? "an array" : "an object");
        return false;
    }
}

static bool is_mapped_key(const er_feed *f, const char *key)
{
    for (int fi = 0; fi < F_COUNT; fi++)
        if (f->map->f[fi].column && strcmp(f->map->f[fi].column, key) == 0)
            return true;
    return false;
}

/* Next raw record. ER_OK: *got true with r filled, or a quarantine already
 * made (*got false, *q true). ER_EOF at end. */
static er_status next_record(er_feed *f, er_batch *b, raw_rec *r, uint64_t *line,
                             const char **raw, size_t *raw_len, bool *got, er_err *err)
{
    er_status st;
    char why[256];
    *got = false;
    memset(r->v, 0, sizeof r->v);
    r->n_extra = 0;
    r->ascii = false;
    if (f->csv) {
        csv_rec rec;
        if ((st = csv_next(f->csv, &rec, err)) != ER_OK)
            return st;
        unswap_fields(f, &rec);
        f->st.rows_read++;
        *line = rec.line;
        *raw = rec.raw;
        *raw_len = rec.raw_len;
        if (rec.err != CSV_OK) {
            if (rec.err == CSV_ESYNTAX && rec.err_line != rec.line)
                snprintf(why, sizeof why, "%s (at line %llu)", rec.errmsg,
                         (unsigned long long)rec.err_line);
            else
                snprintf(why, sizeof why, "%s", rec.errmsg);
            return quarantine(f, b, rec.line, rec.err == CSV_ETOOLONG ? ER_Q_TOO_LONG : ER_Q_SYNTAX,
                              NULL, rec.raw, rec.raw_len, why);
        }
        if (rec.n != f->n_hdr) {
            snprintf(why, sizeof why, "expected %zu fields (as in the header), got %zu", f->n_hdr,
                     rec.n);
            return quarantine(f, b, rec.line, ER_Q_FIELD_COUNT, NULL, rec.raw, rec.raw_len, why);
        }
        for (int fi = 0; fi < F_COUNT; fi++) {
            int c = f->fcol[fi];
            if (c >= 0) {
                r->v[fi] = rec.f[c].p;
                r->len[fi] = rec.f[c].len;
            }
        }
        for (size_t i = 0; i < f->n_x; i++) {
            int c = f->xcol[i];
            r->xname[i] = f->hdr[c];
            r->xval[i] = rec.f[c].p;
            r->xlen[i] = rec.f[c].len;
        }
        r->n_extra = f->n_x;
        r->ascii = rec.ascii;
        *got = true;
        return ER_OK;
    }
    jsonl_rec rec;
    if ((st = jsonl_next(f->jl, &rec, err)) != ER_OK)
        return st;
    f->st.rows_read++;
    *line = rec.line;
    *raw = rec.raw;
    *raw_len = rec.raw_len;
    if (rec.err != JL_OK)
        return quarantine(f, b, rec.line, rec.err == JL_TOOLONG ? ER_Q_TOO_LONG : ER_Q_SYNTAX, NULL,
                          rec.raw, rec.raw_len, rec.errmsg);
    for (int fi = 0; fi < F_COUNT; fi++) {
        const char *key = f->map->f[fi].column;
        json_object *v;
        if (!key || !json_object_object_get_ex(rec.obj, key, &v))
            continue;
        if (!json_field(f, r, fi, v, why, sizeof why))
            return quarantine(f, b, rec.line, ER_Q_SYNTAX, er_field_names[fi], rec.raw,
                              rec.raw_len, why);
    }
    json_object_object_foreach(rec.obj, key, val) {
        bool label = f->label_field && strcmp(key, f->label_field) == 0;
        if (!label && (!f->map->keep_extras || is_mapped_key(f, key)))
            continue;
        if (r->n_extra == ER_LIMIT_EXTRAS) {
            snprintf(why, sizeof why, "more than %d extra keys", ER_LIMIT_EXTRAS);
            return quarantine(f, b, rec.line, ER_Q_TOO_LONG, NULL, rec.raw, rec.raw_len, why);
        }
        size_t n;
        const char *s;
        if (json_object_is_type(val, json_type_null))
            continue;
        if (json_object_is_type(val, json_type_string)) {
            s = json_object_get_string(val);
            n = (size_t)json_object_get_string_len(val);
        } else {
            s = json_text(val, &n);
        }
        r->xname[r->n_extra] = key;
        r->xval[r->n_extra] = s;
        r->xlen[r->n_extra] = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
        r->n_extra++;
    }
    *got = true;
    return ER_OK;
}

/* Record an accepted declaration's id, or take the declaration back out of
 * the batch and quarantine it when the id was seen before. The raw excerpt
 * of a duplicate is cut at DUP_RAW_MAX bytes. */
#define DUP_RAW_MAX 200
static er_status check_id(er_feed *f, er_batch *b, er_decl *d, uint64_t h, uint64_t line,
                          const char *raw, size_t raw_len, er_err *err)
{
    int dup = dup_check(f, h);
    if (dup == 0) {
        if (!f->st.min_date || d->date < f->st.min_date)
            f->st.min_date = d->date;
        if (!f->st.max_date || d->date > f->st.max_date)
            f->st.max_date = d->date;
        return ER_OK;
    }
    if (dup < 0)
        return er_errf(err, ER_ENOMEM, "%s: out of memory in the duplicate-id table", f->name);
    char why[160];
    snprintf(why, sizeof why, "id '%.64s' already seen earlier in this feed", d->id);
    uint64_t seq = d->seq;
    b->n--;
    f->st.accepted--;
    f->st.quarantined++;
    f->st.by_reason[ER_Q_DUPLICATE_ID]++;
    er_status st = er_batch_quarantine(b, f->name, line, seq, ER_Q_DUPLICATE_ID, "id", raw,
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

er_status er_feed_next(er_feed *f, er_batch *b, er_err *err)
{
    er_status st = ER_OK;
    er_batch_reset(b);
    if (f->eof)
        return ER_EOF;
    f->vc.arena = b->arena;
    f->ic->gen++;
    raw_rec r;
    vfail fail;
    while (b->n + b->n_q < b->cap) {
        uint64_t line = 0;
        const char *raw = NULL;
        size_t raw_len = 0;
        bool got;
        st = next_record(f, b, &r, &line, &raw, &raw_len, &got, err);
        if (st == ER_EOF) {
            f->eof = true;
            st = ER_OK;
            break;
        }
        if (st != ER_OK)
            break;
        if (!got)
            continue;
        const char *idp = NULL;
        uint32_t idn = 0;
        uint64_t h = raw_id_hash(&r, &idp, &idn);
        dup_prefetch(f, h);
        er_decl *d = er_batch_push(b);
        if (!er_validate(&f->vc, &r, d, &fail)) {
            b->n--;
            const char *field = fail.field >= 0 ? er_field_names[fail.field] : fail.xfield;
            if ((st = quarantine(f, b, line, fail.reason, field, raw, raw_len, fail.detail)) != ER_OK)
                break;
            continue;
        }
        d->line = line;
        d->seq = f->st.rows_read - 1;
        f->st.accepted++;
        if (r.v[F_ID] != idp || r.len[F_ID] != idn)   /* the mapping changed the id */
            h = id_hash(d->id, r.len[F_ID]);
        if ((st = check_id(f, b, d, h, line, raw, raw_len, err)) != ER_OK)
            break;
    }
    f->st.bytes_read = f->csv ? csv_bytes(f->csv) : jsonl_bytes(f->jl);
    f->st.blank_lines = f->csv ? csv_blank_lines(f->csv) : jsonl_blank_lines(f->jl);
    if (st == ER_ENOMEM)
        return er_errf(err, ER_ENOMEM, "%s: out of memory", f->name);
    if (st != ER_OK)
        return st;
    if (b->n + b->n_q == 0)
        return ER_EOF;
    return ER_OK;
}
