/*
 * reader_csv.c — the CSV row of the feed reader table (reader.h): binds the
 * mapping to the header row (names checked, each once; required columns
 * present; extras chosen) and turns each csv.c record into a raw record by
 * column, or into a quarantine item (syntax, too long, field count).
 * A mapping's delimiter other than ',' is read by swapping it with ',' in
 * the source (docs/feeds.md#mappings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "reader.h"

typedef struct rcsv {
    feed_ctx c;
    er_csv  *csv;
    char   **hdr;
    size_t   n_hdr;
    int      fcol[F_COUNT];
    /* the bound fields only, for the per-record copy: field mfi[k] is column mcol[k] */
    uint8_t  mfi[F_COUNT];
    int      mcol[F_COUNT];
    int      n_m;
    int      xcol[ER_LIMIT_EXTRAS];
    size_t   n_x;
} rcsv;

/* Anything but a JSON object's opening brace (row 0 reads what no row claims). */
bool er_reader_csv_sniff(const char *p, size_t n)
{
    size_t i = er_feed_skip_space(p, n);
    return i < n && p[i] != '{';
}

void er_reader_csv_free(void *state)
{
    rcsv *r = state;
    if (!r)
        return;
    csv_free(r->csv);
    if (r->hdr)
        for (size_t i = 0; i < r->n_hdr; i++)
            free(r->hdr[i]);
    free(r->hdr);
    free(r);
}

void er_reader_csv_counts(const void *state, uint64_t *bytes, uint64_t *blank_lines)
{
    const rcsv *r = state;
    *bytes = csv_bytes(r->csv);
    *blank_lines = csv_blank_lines(r->csv);
}

static bool is_required(int fi) { return fi == F_ID || fi == F_DATE || fi == F_HS; }

/* A header name holds no control character (docs/feeds.md#csv). A CR in it
 * means the file ends its lines with a bare CR (classic Mac), which the
 * reader does not split on: say so rather than read one huge header. */
static er_status check_header_name(const rcsv *f, uint64_t line, size_t col, const char *p,
                                   size_t n, er_err *err)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c == '\r')
            return er_errf(err, ER_EFORMAT, "%s:%llu: header row: column %zu holds a bare CR: "
                           "lines ending in CR alone are not supported (convert the feed to LF "
                           "or CRLF line ends)", f->c.name, (unsigned long long)line, col + 1);
        if (c < 0x20 || c == 0x7f)
            return er_errf(err, ER_EFORMAT, "%s:%llu: header row: column %zu name holds the "
                           "control character 0x%02x", f->c.name, (unsigned long long)line,
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
static er_status check_header_unique(const rcsv *f, uint64_t line, er_err *err)
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
                         "(columns %zu and %zu)", f->c.name, (unsigned long long)line, *ix[i],
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
 * into the reader's buffers, which the reader owns). */
static void unswap_fields(const rcsv *f, const csv_rec *rec)
{
    char d = f->c.map->delimiter;
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
static void header_list(const rcsv *f, char *out, size_t cap)
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

/* Read the header row: its names, trimmed, checked and unique. */
static er_status read_header(rcsv *f, uint64_t *line, er_err *err)
{
    csv_rec h;
    er_status st = csv_next(f->csv, &h, err);
    if (st == ER_EOF)
        return er_errf(err, ER_EFORMAT, "%s: empty feed (no header row)", f->c.name);
    if (st != ER_OK)
        return st;
    unswap_fields(f, &h);
    *line = h.line;
    if (h.err != CSV_OK)
        return er_errf(err, ER_EFORMAT, "%s:%llu: header row: %s", f->c.name,
                       (unsigned long long)h.line, h.errmsg);
    f->hdr = calloc(h.n, sizeof *f->hdr);
    if (!f->hdr)
        return er_errf(err, ER_ENOMEM, "out of memory");
    f->n_hdr = h.n;
    for (size_t i = 0; i < h.n; i++) {
        const char *p = h.f[i].p;
        uint32_t n = h.f[i].len;
        er_trim(&p, &n);
        if (!(f->hdr[i] = strndup(p, n)))
            return er_errf(err, ER_ENOMEM, "out of memory");
        if ((st = check_header_name(f, h.line, i, p, n, err)) != ER_OK)
            return st;
    }
    return check_header_unique(f, h.line, err);
}

/* The column of canonical field fi (-1: none), failing when a required one is missing. */
static er_status bind_field(rcsv *f, int fi, uint64_t line, er_err *err)
{
    const map_field *mf = &f->c.map->f[fi];
    const char *mname = er_mapping_name(f->c.map);
    int found = -1;
    f->fcol[fi] = -1;
    if (!mf->column)
        return ER_OK;
    for (size_t i = 0; i < f->n_hdr; i++)
        if (strcmp(f->hdr[i], mf->column) == 0) {
            if (found >= 0)
                return er_errf(err, ER_EFORMAT, "%s:%llu: column '%s' (mapped to %s) appears "
                               "twice in the header", f->c.name, (unsigned long long)line,
                               mf->column, er_field_names[fi]);
            found = (int)i;
        }
    char hl[512];
    if (found < 0 && is_required(fi) && !mf->constant) {
        header_list(f, hl, sizeof hl);
        const char *h0 = f->hdr[0];
        const char *other = f->n_hdr != 1 ? NULL : strchr(h0, ';') ? ";" : strchr(h0, '\t') ? "\\t"
                          : strchr(h0, '|') ? "|" : NULL;
        return er_errf(err, ER_EFORMAT, "%s:%llu: missing required column '%s' (mapped to %s "
                       "by mapping '%s'); the header has: %s%s%s%s", f->c.name,
                       (unsigned long long)line, mf->column, er_field_names[fi], mname, hl,
                       other ? " (one column: if the file is separated by '" : "", other ? other : "",
                       other ? "', say so with \"delimiter\" in the mapping)" : "");
    }
    if (found < 0 && !mf->constant && !mf->may_be_absent && f->c.warn) {
        char msg[1024];
        header_list(f, hl, sizeof hl);
        snprintf(msg, sizeof msg, "%s:%llu: column '%s' (mapped to %s by mapping '%s') is not in the header, "
                 "so %s is empty in every record; the header has: %s", f->c.name, (unsigned long long)line,
                 mf->column, er_field_names[fi], mname, er_field_names[fi], hl);
        f->c.warn(f->c.warn_ud, msg);
    }
    f->fcol[fi] = found;
    return ER_OK;
}

/* Bind the mapping to the header: a column per canonical field, then the
 * columns kept as extras (unmapped ones when the mapping keeps extras, and
 * the label column). */
static er_status bind_header(rcsv *f, er_err *err)
{
    uint64_t line = 0;
    er_status st = read_header(f, &line, err);
    if (st != ER_OK)
        return st;
    bool used[4096] = {0};
    for (int fi = 0; fi < F_COUNT; fi++) {
        if ((st = bind_field(f, fi, line, err)) != ER_OK)
            return st;
        if (f->fcol[fi] >= 0 && f->fcol[fi] < 4096)
            used[f->fcol[fi]] = true;
        if (f->fcol[fi] >= 0) {
            f->mfi[f->n_m] = (uint8_t)fi;
            f->mcol[f->n_m++] = f->fcol[fi];
        }
    }
    for (size_t i = 0; i < f->n_hdr; i++) {
        bool label = f->c.label_field && strcmp(f->hdr[i], f->c.label_field) == 0;
        bool keep = (i >= 4096 || !used[i]) ? f->c.map->keep_extras : label;
        if (!keep && !label)
            continue;
        if (f->n_x == ER_LIMIT_EXTRAS)
            return er_errf(err, ER_ELIMIT, "%s:%llu: more than %d unmapped columns to keep as extras "
                           "(use a mapping with \"extras\": false)", f->c.name,
                           (unsigned long long)line, ER_LIMIT_EXTRAS);
        f->xcol[f->n_x++] = (int)i;
    }
    return ER_OK;
}

er_status er_reader_csv_open(void **state, er_src *src, const feed_ctx *c, er_err *err)
{
    er_status st;
    *state = NULL;
    rcsv *f = calloc(1, sizeof *f);
    if (!f)
        return er_errf(err, ER_ENOMEM, "out of memory");
    f->c = *c;
    if (c->map->delimiter && c->map->delimiter != ',')
        src_swap(src, ',', c->map->delimiter);
    if ((st = csv_open(&f->csv, src, ER_LIMIT_RECORD, err)) != ER_OK ||
        (st = bind_header(f, err)) != ER_OK) {
        er_reader_csv_free(f);
        return st;
    }
    *state = f;
    return ER_OK;
}

/* One csv.c record into r and it (shared by next and parse). */
static void take_record(const rcsv *f, const csv_rec *rec, raw_rec *r, feed_item *it)
{
    unswap_fields(f, rec);
    er_feed_item_at(it, rec->line, rec->raw, rec->raw_len);
    if (rec->err != CSV_OK) {
        it->bad = true;
        it->reason = rec->err == CSV_ETOOLONG ? ER_Q_TOO_LONG : ER_Q_SYNTAX;
        if (rec->err == CSV_ESYNTAX && rec->err_line != rec->line)
            snprintf(it->detail, sizeof it->detail, "%s (at line %llu)", rec->errmsg,
                     (unsigned long long)rec->err_line);
        else
            snprintf(it->detail, sizeof it->detail, "%s", rec->errmsg);
        return;
    }
    if (rec->n != f->n_hdr) {
        it->bad = true;
        it->reason = ER_Q_FIELD_COUNT;
        snprintf(it->detail, sizeof it->detail, "expected %zu fields (as in the header), got %zu",
                 f->n_hdr, rec->n);
        return;
    }
    for (int k = 0; k < f->n_m; k++) {
        const csv_field *cf = &rec->f[f->mcol[k]];
        r->v[f->mfi[k]] = cf->p;
        r->len[f->mfi[k]] = cf->len;
    }
    for (size_t i = 0; i < f->n_x; i++) {
        int c = f->xcol[i];
        r->xname[i] = f->hdr[c];
        r->xval[i] = rec->f[c].p;
        r->xlen[i] = rec->f[c].len;
    }
    r->n_extra = f->n_x;
    r->ascii = rec->ascii;
    /* the splitter judged the swapped bytes: a tab delimiter's ',' was a tab */
    r->trimmed = rec->trimmed && (unsigned char)f->c.map->delimiter > ' ';
}

er_status er_reader_csv_next(void *state, raw_rec *r, feed_item *it, er_err *err)
{
    rcsv *f = state;
    csv_rec rec;
    er_status st = csv_next(f->csv, &rec, err);
    if (st == ER_OK)
        take_record(f, &rec, r, it);
    return st;
}

/* ---- in two steps (reader.h): cut on the reading thread, parse anywhere ---- */

typedef struct cut_part {
    rcut     cut;
    er_csv  *mem;    /* the parser of this chunk's cut */
} cut_part;

static void cut_part_free(void *p)
{
    cut_part *cp = p;
    if (!cp)
        return;
    rcut_free(&cp->cut);
    csv_mem_free(cp->mem);
    free(cp);
}

er_status er_reader_csv_cut(void *state, feed_chunk *c, size_t max_records, er_err *err)
{
    rcsv *f = state;
    er_status st;
    if (!er_chunk_owned(c, (const void *)er_reader_csv_cut)) {
        cut_part *cp = calloc(1, sizeof *cp);
        if (!cp || (st = csv_mem_open(&cp->mem, f->csv, err)) != ER_OK) {
            free(cp);
            return cp ? st : er_errf(err, ER_ENOMEM, "out of memory");
        }
        er_chunk_adopt(c, (const void *)er_reader_csv_cut, cp, cut_part_free);
    }
    cut_part *cp = c->part;
    st = csv_cut_next(f->csv, &cp->cut, max_records, ER_CUT_MAX_BYTES, err);
    c->n_rec = st == ER_OK ? cp->cut.n_rec : 0;
    c->fresh = true;
    return st;
}

er_status er_reader_csv_parse(const void *state, feed_chunk *c, raw_rec *r, feed_item *it, er_err *err)
{
    const rcsv *f = state;
    cut_part *cp = c->part;
    if (c->fresh) {
        csv_mem_reset(cp->mem, &cp->cut);
        c->fresh = false;
    }
    csv_rec rec;
    er_status st = csv_next(cp->mem, &rec, err);
    if (st == ER_OK)
        take_record(f, &rec, r, it);
    return st;
}
