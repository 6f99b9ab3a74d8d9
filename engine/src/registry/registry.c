/*
 * registry.c — loads the document registries a run checks declarations
 * against (docs/registries.md): CITES permits and certificates, ODS/HFC
 * licences and quotas, Basel notifications and consents, each a CSV file
 * with a header, and the ODS substance table (ODP, GWP) behind the harm
 * figures. Read-only once loaded; every error names the file and the line.
 */
#include "registry_int.h"
#include "core/grow.h"
#include "ecorisk/arena.h"
#include "ecorisk/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *er_dockind_str(er_dockind k)
{
    static const char *const n[] = {"permit", "licence", "consent"};
    return k < ER_DOC_KINDS ? n[k] : "";
}

const char *er_docstate_str(unsigned bit)
{
    static const char *const n[] = {"missing", "unknown", "expired", "mismatch", "exhausted", "exceeded"};
    return bit < ER_DS_COUNT ? n[bit] : NULL;
}

/* ---- smap ---- */

static size_t slot_of(const smap *m, const char *key, size_t len)
{
    size_t j = er_hash64(key, len, 0x726567) & (m->cap - 1);
    while (m->keys[j] && (strlen(m->keys[j]) != len || memcmp(m->keys[j], key, len) != 0))
        j = (j + 1) & (m->cap - 1);
    return j;
}

bool smap_put(smap *m, const char *key, size_t len, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        smap nm = {calloc(nc, sizeof(char *)), calloc(nc, sizeof(uint32_t)), nc, m->n};
        if (!nm.keys || !nm.vals) {
            free(nm.keys);
            free(nm.vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = slot_of(&nm, m->keys[i], strlen(m->keys[i]));
                nm.keys[j] = m->keys[i];
                nm.vals[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        *m = nm;
    }
    size_t j = slot_of(m, key, len);
    if (!m->keys[j]) {
        if (!(m->keys[j] = strndup(key, len)))
            return false;
        m->n++;
    }
    m->vals[j] = val;
    return true;
}

long smap_get(const smap *m, const char *key, size_t len)
{
    if (!m->cap)
        return -1;
    size_t j = slot_of(m, key, len);
    return m->keys[j] ? (long)m->vals[j] : -1;
}

void smap_free(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- CSV ---- */

er_status rcsv_open(rcsv *c, const char *path, bool may_miss, bool *found, er_err *err)
{
    memset(c, 0, sizeof *c);
    if (found)
        *found = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && may_miss)
            return ER_OK;
        return er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    er_status st = ER_OK;
    size_t cap = 0;
    for (;;) {
        if (!er_grow((void **)&c->buf, &cap, c->len + 65536 + 1, 1)) {
            st = er_errf(err, ER_ENOMEM, "%s: out of memory", path);
            break;
        }
        size_t n = fread(c->buf + c->len, 1, 65536, f);
        c->len += n;
        if (n < 65536)
            break;
    }
    if (st == ER_OK && ferror(f))
        st = er_errf(err, ER_EIO, "%s: read error", path);
    fclose(f);
    if (st != ER_OK)
        return st;
    c->buf[c->len] = '\0';
    if (found)
        *found = true;
    /* comments, then the header */
    while (c->pos < c->len && c->buf[c->pos] == '#') {
        while (c->pos < c->len && c->buf[c->pos] != '\n')
            c->pos++;
        c->pos++;
        c->line++;
    }
    if ((st = rcsv_next(c, err, path)) != ER_OK)
        return st == ER_EOF ? er_errf(err, ER_EFORMAT, "%s: no header line", path) : st;
    c->hdr = calloc(c->n ? c->n : 1, sizeof *c->hdr);
    if (!c->hdr)
        return er_errf(err, ER_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        char tmp[64];
        size_t k = 0;
        for (const char *p = c->f[i]; *p && k < sizeof tmp - 1; p++)
            if (!isspace((unsigned char)*p))
                tmp[k++] = (char)tolower((unsigned char)*p);
        tmp[k] = '\0';
        if (!(c->hdr[i] = strdup(tmp)))
            return er_errf(err, ER_ENOMEM, "out of memory");
        c->n_hdr++;
    }
    return ER_OK;
}

er_status rcsv_next(rcsv *c, er_err *err, const char *path)
{
    for (;;) {
        if (c->pos >= c->len)
            return ER_EOF;
        c->line++;
        c->n = 0;
        char *p = c->buf + c->pos, *end = c->buf + c->len;
        bool blank = true;
        for (;;) {
            if (!er_grow((void **)&c->f, &c->cap, c->n + 1, sizeof *c->f))
                return er_errf(err, ER_ENOMEM, "out of memory");
            char *w = p, *start = p;
            if (p < end && *p == '"') {
                p++;
                for (;;) {
                    if (p >= end)
                        return er_errf(err, ER_EPARSE, "%s:%llu: unterminated quoted field", path,
                                       (unsigned long long)c->line);
                    if (*p == '"' && p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        if (*p == '\n')
                            c->line++;
                        *w++ = *p++;
                    }
                }
                blank = false;
            }
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                *w++ = *p++;
            char sep = p < end ? *p : '\n';
            *w = '\0';
            /* trim */
            while (*start == ' ' || *start == '\t')
                start++;
            for (char *q = w; q > start && (q[-1] == ' ' || q[-1] == '\t');)
                *--q = '\0';
            if (*start)
                blank = false;
            c->f[c->n++] = start;
            if (sep == ',') {
                p++;
                continue;
            }
            if (p < end) {   /* the separator itself may now be the field's terminating NUL */
                bool cr = sep == '\r';
                p++;
                if (cr && p < end && *p == '\n')
                    p++;
            }
            break;
        }
        c->pos = (size_t)(p - c->buf);
        if (!blank)
            return ER_OK;
    }
}

int rcsv_col(const rcsv *c, const char *name)
{
    for (size_t i = 0; i < c->n_hdr; i++)
        if (strcmp(c->hdr[i], name) == 0)
            return (int)i;
    return -1;
}

void rcsv_close(rcsv *c)
{
    for (size_t i = 0; i < c->n_hdr; i++)
        free(c->hdr[i]);
    free(c->hdr);
    free(c->f);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* ---- helpers ---- */

size_t reg_norm(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; s && *s && k + 1 < cap; s++)
        if (isalnum((unsigned char)*s))
            out[k++] = (char)toupper((unsigned char)*s);
    if (cap)
        out[k] = '\0';
    return k;
}

long reg_substance(const er_registry *r, const char *name)
{
    char n[64], alt[72];
    size_t len = reg_norm(name, n, sizeof n);
    if (!len)
        return -1;
    long i = smap_get(&r->sub_by_name, n, len);
    if (i >= 0 || n[0] != 'R' || !isdigit((unsigned char)n[1]))
        return i;
    /* refrigerant numbers: R-12 → CFC-12, R-22 → HCFC-22, R-32 → HFC-32 */
    static const char *const pre[] = {"CFC", "HCFC", "HFC", "HALON"};
    for (size_t k = 0; k < 4 && i < 0; k++) {
        int m = snprintf(alt, sizeof alt, "%s%s", pre[k], n + 1);
        i = smap_get(&r->sub_by_name, alt, (size_t)m);
    }
    return i;
}

typedef struct cols {
    const char *file;
    rcsv       *c;
    er_arena   *arena;
} cols;

static const char *col_str(const rcsv *c, int i)
{
    return i >= 0 && (size_t)i < c->n && c->f[i][0] ? c->f[i] : NULL;
}

static char *dup_or_null(const rcsv *c, int i)
{
    const char *s = col_str(c, i);
    return s ? strdup(s) : NULL;
}

static er_status need_cols(const rcsv *c, const char *path, const char *const *names, int *idx, size_t n,
                           const char *required, er_err *err)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = rcsv_col(c, names[i]);
        if (idx[i] < 0 && strstr(required, names[i]))
            return er_errf(err, ER_EFORMAT, "%s: missing column '%s' (required: %s)", path, names[i], required);
    }
    return ER_OK;
}

static er_status num_col(const rcsv *c, int i, const char *path, const char *name, bool required, double *v,
                         er_err *err)
{
    const char *s = col_str(c, i);
    *v = 0;
    if (!s) {
        if (required)
            return er_errf(err, ER_EFORMAT, "%s:%llu: %s: a number is required", path,
                           (unsigned long long)c->line, name);
        return ER_OK;
    }
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    if (*e || errno || !isfinite(*v) || *v < 0)
        return er_errf(err, ER_EPARSE, "%s:%llu: %s: '%s' is not a non-negative number", path,
                       (unsigned long long)c->line, name, s);
    return ER_OK;
}

static er_status date_col(const rcsv *c, int i, const char *path, const char *name, int32_t *v, er_err *err)
{
    const char *s = col_str(c, i);
    *v = 0;
    if (s && er_date_parse(s, strlen(s), v) != ER_OK)
        return er_errf(err, ER_EPARSE, "%s:%llu: %s: '%s' is not a date (YYYY-MM-DD)", path,
                       (unsigned long long)c->line, name, s);
    return ER_OK;
}

static er_status cc_col(const rcsv *c, int i, const char *path, const char *name, uint16_t *v, er_err *err)
{
    const char *s = col_str(c, i);
    *v = 0;
    if (!s)
        return ER_OK;
    if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
        return er_errf(err, ER_EPARSE, "%s:%llu: %s: '%s' is not an ISO 3166 alpha-2 code", path,
                       (unsigned long long)c->line, name, s);
    *v = ER_CC(toupper((unsigned char)s[0]), toupper((unsigned char)s[1]));
    return ER_OK;
}

static er_status dup_number(smap *m, const char *key, const char *path, uint64_t line, uint32_t idx, er_err *err)
{
    if (smap_get(m, key, strlen(key)) >= 0)
        return er_errf(err, ER_EFORMAT, "%s:%llu: document '%s' listed twice", path, (unsigned long long)line, key);
    return smap_put(m, key, strlen(key), idx) ? ER_OK : er_errf(err, ER_ENOMEM, "out of memory");
}

/* ---- the tables: one generic reader, a row function per table ---- */

/* One table being read: its records, the column index of each of the
 * table's names, and the capacity of the array its rows go to. */
typedef struct tload {
    er_registry *r;
    rcsv         c;
    const char  *path;
    int          ix[16];   /* at least the longest column list (permits: 14) */
    size_t       cap;
} tload;

typedef struct table {
    const char        *file;       /* file name in its folder */
    const char *const *cols;       /* column names, in the order the row function indexes ix[] */
    size_t             n_cols;
    const char        *required;   /* the required columns, space-separated (for the message too) */
    er_status        (*row)(tload *t, er_err *err);   /* one record into t->r */
} table;

/* Room for one more record in *arr (zeroed and counted in *n), or NULL on ENOMEM. */
static void *next_slot(tload *t, void **arr, size_t *n, size_t size)
{
    if (!er_grow(arr, &t->cap, *n + 1, size))
        return NULL;
    void *e = (char *)*arr + *n * size;
    memset(e, 0, size);
    (*n)++;
    return e;
}

/* The record of a registry: its number (column 0) is required, then room
 * for it in *arr as next_slot gives. NULL with *st set on failure. */
static void *doc_slot(tload *t, void **arr, size_t *n, size_t size, er_status *st, er_err *err)
{
    void *e = NULL;
    if (!col_str(&t->c, t->ix[0]))
        *st = er_errf(err, ER_EFORMAT, "%s:%llu: number is empty", t->path, (unsigned long long)t->c.line);
    else if (!(e = next_slot(t, arr, n, size)))
        *st = er_errf(err, ER_ENOMEM, "out of memory");
    return e;
}

static er_status load_table(er_registry *r, const table *tb, const char *path, bool *found, er_err *err)
{
    tload t = {.r = r, .path = path};
    er_status st = rcsv_open(&t.c, path, found != NULL, found, err);
    if (st != ER_OK || (found && !*found))
        goto cleanup;
    if ((st = need_cols(&t.c, path, tb->cols, t.ix, tb->n_cols, tb->required, err)) != ER_OK)
        goto cleanup;
    while ((st = rcsv_next(&t.c, err, path)) == ER_OK)
        if ((st = tb->row(&t, err)) != ER_OK)
            goto cleanup;
    if (st == ER_EOF)
        st = ER_OK;
cleanup:
    rcsv_close(&t.c);
    return st;
}

static const char *const permit_cols[] = {"number", "type", "issuing_country", "exporter", "importer", "taxon",
                                          "appendix", "source", "purpose", "hs", "quantity", "unit",
                                          "valid_from", "valid_until"};

static er_status permit_row(tload *t, er_err *err)
{
    const rcsv *c = &t->c;
    const int *ix = t->ix;
    er_registry *r = t->r;
    er_status st = ER_OK;
    permit *p = doc_slot(t, (void **)&r->permits, &r->n_permits, sizeof *p, &st, err);
    if (!p)
        return st;
    p->number = dup_or_null(c, ix[0]);
    p->type = dup_or_null(c, ix[1]);
    p->exporter = dup_or_null(c, ix[3]);
    p->importer = dup_or_null(c, ix[4]);
    p->taxon = dup_or_null(c, ix[5]);
    p->source = dup_or_null(c, ix[7]);
    p->purpose = dup_or_null(c, ix[8]);
    p->hs = dup_or_null(c, ix[9]);
    p->unit = dup_or_null(c, ix[11]);
    const char *ap = col_str(c, ix[6]);
    if (ap) {
        p->appendix = strcmp(ap, "I") == 0 || strcmp(ap, "1") == 0     ? 1
                      : strcmp(ap, "II") == 0 || strcmp(ap, "2") == 0  ? 2
                      : strcmp(ap, "III") == 0 || strcmp(ap, "3") == 0 ? 3
                                                                       : 0;
        if (!p->appendix)
            return er_errf(err, ER_EPARSE, "%s:%llu: appendix: '%s' is not I, II or III", t->path,
                           (unsigned long long)c->line, ap);
    }
    p->by_mass = p->unit && (strcasecmp(p->unit, "kg") == 0 || strcasecmp(p->unit, "KGM") == 0);
    if ((st = cc_col(c, ix[2], t->path, "issuing_country", &p->country, err)) != ER_OK ||
        (st = num_col(c, ix[10], t->path, "quantity", true, &p->quantity, err)) != ER_OK ||
        (st = date_col(c, ix[12], t->path, "valid_from", &p->from, err)) != ER_OK ||
        (st = date_col(c, ix[13], t->path, "valid_until", &p->until, err)) != ER_OK)
        return st;
    return dup_number(&r->by_permit, p->number, t->path, c->line, (uint32_t)(r->n_permits - 1), err);
}

static const char *const licence_cols[] = {"number", "year", "trader", "flow", "substance", "hs",
                                           "quantity_kg", "odp_tonnes", "co2e_tonnes"};

static er_status licence_row(tload *t, er_err *err)
{
    const rcsv *c = &t->c;
    const int *ix = t->ix;
    er_registry *r = t->r;
    er_status st = ER_OK;
    licence *l = doc_slot(t, (void **)&r->licences, &r->n_licences, sizeof *l, &st, err);
    if (!l)
        return st;
    const char *yr = col_str(c, ix[1]), *fl = col_str(c, ix[3]);
    double y;
    l->number = dup_or_null(c, ix[0]);
    l->trader = dup_or_null(c, ix[2]);
    l->substance = dup_or_null(c, ix[4]);
    l->hs = dup_or_null(c, ix[5]);
    if ((st = num_col(c, ix[1], t->path, "year", true, &y, err)) != ER_OK)
        return st;
    if (y < 1987 || y > 2200 || y != floor(y))
        return er_errf(err, ER_EPARSE, "%s:%llu: year: '%s' is not a year", t->path, (unsigned long long)c->line, yr);
    l->year = (int)y;
    if (fl && strcmp(fl, "IM") != 0 && strcmp(fl, "EX") != 0)
        return er_errf(err, ER_EPARSE, "%s:%llu: flow: '%s' is not IM or EX", t->path, (unsigned long long)c->line, fl);
    l->flow = !fl ? ER_FLOW_NONE : fl[0] == 'I' ? ER_FLOW_IM : ER_FLOW_EX;
    if ((st = num_col(c, ix[6], t->path, "quantity_kg", true, &l->quantity_kg, err)) != ER_OK ||
        (st = num_col(c, ix[7], t->path, "odp_tonnes", false, &l->odp_t, err)) != ER_OK ||
        (st = num_col(c, ix[8], t->path, "co2e_tonnes", false, &l->co2e_t, err)) != ER_OK)
        return st;
    if (l->substance && reg_substance(r, l->substance) < 0)
        return er_errf(err, ER_EFORMAT, "%s:%llu: substance: '%s' is not a controlled substance of "
                       "ods-substances.csv", t->path, (unsigned long long)c->line, l->substance);
    char key[300];
    snprintf(key, sizeof key, "%s|%d", l->number, l->year);
    if ((st = dup_number(&r->by_licence_year, key, t->path, c->line, (uint32_t)(r->n_licences - 1), err)) != ER_OK)
        return st;
    if (!smap_put(&r->by_licence, l->number, strlen(l->number), (uint32_t)(r->n_licences - 1)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    return ER_OK;
}

static const char *const consent_cols[] = {"number", "exporter", "importer", "export_country", "transit",
                                           "import_country", "waste_code", "hs", "quantity_kg", "valid_from",
                                           "valid_until"};

/* The transit column: alpha-2 codes separated by ';', '|' or spaces. */
static er_status transit_col(const tload *t, const char *tr, consent *k, er_err *err)
{
    for (const char *p = tr; p && *p;) {
        while (*p == ';' || *p == '|' || *p == ' ')
            p++;
        if (!*p)
            break;
        if (!isalpha((unsigned char)p[0]) || !isalpha((unsigned char)p[1]) ||
            (p[2] && p[2] != ';' && p[2] != '|' && p[2] != ' ') || k->n_transit == ER_TRANSIT_MAX)
            return er_errf(err, ER_EPARSE, "%s:%llu: transit: '%s' is not a list of at most %d alpha-2 codes "
                           "separated by ';'", t->path, (unsigned long long)t->c.line, tr, ER_TRANSIT_MAX);
        k->transit[k->n_transit++] = ER_CC(toupper((unsigned char)p[0]), toupper((unsigned char)p[1]));
        p += 2;
    }
    return ER_OK;
}

static er_status consent_row(tload *t, er_err *err)
{
    const rcsv *c = &t->c;
    const int *ix = t->ix;
    er_registry *r = t->r;
    er_status st = ER_OK;
    consent *k = doc_slot(t, (void **)&r->consents, &r->n_consents, sizeof *k, &st, err);
    if (!k)
        return st;
    k->number = dup_or_null(c, ix[0]);
    k->exporter = dup_or_null(c, ix[1]);
    k->importer = dup_or_null(c, ix[2]);
    k->waste_code = dup_or_null(c, ix[6]);
    k->hs = dup_or_null(c, ix[7]);
    if ((st = transit_col(t, col_str(c, ix[4]), k, err)) != ER_OK ||
        (st = cc_col(c, ix[3], t->path, "export_country", &k->export_country, err)) != ER_OK ||
        (st = cc_col(c, ix[5], t->path, "import_country", &k->import_country, err)) != ER_OK ||
        (st = num_col(c, ix[8], t->path, "quantity_kg", true, &k->quantity_kg, err)) != ER_OK ||
        (st = date_col(c, ix[9], t->path, "valid_from", &k->from, err)) != ER_OK ||
        (st = date_col(c, ix[10], t->path, "valid_until", &k->until, err)) != ER_OK)
        return st;
    return dup_number(&r->by_consent, k->number, t->path, c->line, (uint32_t)(r->n_consents - 1), err);
}

static const char *const substance_cols[] = {"substance", "odp", "gwp", "hs2022"};

static er_status substance_row(tload *t, er_err *err)
{
    const rcsv *c = &t->c;
    er_registry *r = t->r;
    const char *name = col_str(c, t->ix[0]), *hs = col_str(c, t->ix[3]);
    er_status st;
    if (!name)
        return ER_OK;
    char n[64];
    size_t len = reg_norm(name, n, sizeof n);
    if (smap_get(&r->sub_by_name, n, len) >= 0)
        return ER_OK;   /* an isomer row after its group: the group's figures apply */
    substance *s = next_slot(t, (void **)&r->subs, &r->n_subs, sizeof *s);
    if (!s || !(s->name = strdup(name)))
        return er_errf(err, ER_ENOMEM, "out of memory");
    if ((st = num_col(c, t->ix[1], t->path, "odp", false, &s->odp, err)) != ER_OK ||
        (st = num_col(c, t->ix[2], t->path, "gwp", false, &s->gwp, err)) != ER_OK)
        return st;
    if (!smap_put(&r->sub_by_name, n, len, (uint32_t)(r->n_subs - 1)) ||
        (hs && !smap_put(&r->sub_by_hs, hs, strlen(hs), (uint32_t)(r->n_subs - 1))))
        return er_errf(err, ER_ENOMEM, "out of memory");
    return ER_OK;
}

#define TABLE(file, cols, required, row) {file, cols, sizeof cols / sizeof cols[0], required, row}

/* The reference table the licences are checked against, then the registries
 * of a registry folder (each optional; at least one must be there). */
static const table substances = TABLE("ods-substances.csv", substance_cols, "substance odp gwp hs2022", substance_row);
static const table registries[] = {
    TABLE("cites-permits.csv", permit_cols, "number quantity unit", permit_row),
    TABLE("ods-licences.csv", licence_cols, "number year quantity_kg", licence_row),
    TABLE("basel-consents.csv", consent_cols, "number quantity_kg", consent_row),
};

er_status er_registry_load(er_registry **out, const char *dir, const char *ref_dir, er_err *err)
{
    er_registry *r = calloc(1, sizeof *r);
    char path[4200], rdir[4096];
    bool any = false;
    er_status st = ER_OK;
    *out = NULL;
    if (!r)
        return er_errf(err, ER_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/%s", ref_dir ? ref_dir : "", substances.file);
    if (ref_dir && access(path, R_OK) == 0)
        snprintf(rdir, sizeof rdir, "%s", ref_dir);
    else if ((st = er_data_find(ER_DATA_REFERENCE, substances.file, rdir, sizeof rdir, err)) != ER_OK)
        goto cleanup;
    snprintf(path, sizeof path, "%s/%s", rdir, substances.file);
    if ((st = load_table(r, &substances, path, NULL, err)) != ER_OK)
        goto cleanup;
    for (size_t i = 0; i < sizeof registries / sizeof registries[0]; i++) {
        bool found = false;
        snprintf(path, sizeof path, "%s/%s", dir, registries[i].file);
        if ((st = load_table(r, &registries[i], path, &found, err)) != ER_OK)
            goto cleanup;
        any |= found;
    }
    if (!any)
        st = er_errf(err, ER_ENOTFOUND, "%s: no registry (expected cites-permits.csv, ods-licences.csv or "
                     "basel-consents.csv)", dir);
cleanup:
    if (st != ER_OK) {
        er_registry_free(r);
        return st;
    }
    *out = r;
    return ER_OK;
}

void er_registry_free(er_registry *r)
{
    if (!r)
        return;
    smap_free(&r->sub_by_hs);
    smap_free(&r->sub_by_name);
    smap_free(&r->by_consent);
    smap_free(&r->by_licence);
    smap_free(&r->by_licence_year);
    smap_free(&r->by_permit);
    for (size_t i = 0; i < r->n_subs; i++)
        free(r->subs[i].name);
    free(r->subs);
    for (size_t i = 0; i < r->n_consents; i++) {
        consent *k = &r->consents[i];
        free(k->number), free(k->exporter), free(k->importer), free(k->waste_code), free(k->hs);
    }
    free(r->consents);
    for (size_t i = 0; i < r->n_licences; i++) {
        licence *l = &r->licences[i];
        free(l->number), free(l->trader), free(l->substance), free(l->hs);
    }
    free(r->licences);
    for (size_t i = 0; i < r->n_permits; i++) {
        permit *p = &r->permits[i];
        free(p->number), free(p->type), free(p->exporter), free(p->importer), free(p->taxon);
        free(p->source), free(p->purpose), free(p->hs), free(p->unit);
    }
    free(r->permits);
    free(r);
}

size_t er_registry_count(const er_registry *r, er_dockind k)
{
    if (!r)
        return 0;
    return k == ER_DOC_PERMIT ? r->n_permits : k == ER_DOC_LICENCE ? r->n_licences : k == ER_DOC_CONSENT ? r->n_consents : 0;
}

bool er_registry_limit(const er_registry *r, er_dockind k, const char *number, int year, double *limit,
                       const char **unit)
{
    long i;
    char key[300];
    if (!r || !number)
        return false;
    switch (k) {
    case ER_DOC_PERMIT:
        if ((i = smap_get(&r->by_permit, number, strlen(number))) < 0)
            return false;
        *limit = r->permits[i].quantity;
        *unit = r->permits[i].by_mass ? "kg" : r->permits[i].unit ? r->permits[i].unit : "";
        return true;
    case ER_DOC_LICENCE:
        snprintf(key, sizeof key, "%s|%d", number, year);
        if ((i = smap_get(&r->by_licence_year, key, strlen(key))) < 0)
            return false;
        *limit = r->licences[i].quantity_kg;
        *unit = "kg";
        return true;
    case ER_DOC_CONSENT:
        if ((i = smap_get(&r->by_consent, number, strlen(number))) < 0)
            return false;
        *limit = r->consents[i].quantity_kg;
        *unit = "kg";
        return true;
    default:
        return false;
    }
}

bool er_registry_harm(const er_registry *r, const char *name, double mass_kg, double *odp_t, double *co2e_t,
                      const char **canonical)
{
    long i = r && name ? reg_substance(r, name) : -1;
    if (i < 0)
        return false;
    *odp_t = mass_kg / 1000.0 * r->subs[i].odp;
    *co2e_t = mass_kg / 1000.0 * r->subs[i].gwp;
    if (canonical)
        *canonical = r->subs[i].name;
    return true;
}
