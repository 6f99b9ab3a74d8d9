/*
 * refdata.c — the shared reference tables (refdata.h): ISO 3166-1 countries
 * with region and OECD / EU flags, and the currency rates table, loaded from
 * countries.csv and currency-rates.csv (feeds/reference/). Lookups are O(1):
 * countries in a 26×26 table, currencies in a 26³ table. Lines starting with
 * '#' before the header are comments. Read-only after load.
 */
#include "ecorisk/refdata.h"
#include "ecorisk/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "source.h"
#include "feed_internal.h"
#include "refdata_int.h"

static int cc_index(uint16_t cc)
{
    int a = ref_letter(ER_CC_A(cc)), b = ref_letter(ER_CC_B(cc));
    return a < 0 || b < 0 ? -1 : a * 26 + b;
}

bool er_country_valid(const er_refdata *r, uint16_t cc)
{
    int i = cc_index(cc);
    return i >= 0 && r->c[i].valid;
}

bool er_country_oecd(const er_refdata *r, uint16_t cc)
{
    int i = cc_index(cc);
    return i >= 0 && r->c[i].oecd;
}

bool er_country_eu(const er_refdata *r, uint16_t cc)
{
    int i = cc_index(cc);
    return i >= 0 && r->c[i].eu;
}

const char *er_country_name(const er_refdata *r, uint16_t cc)
{
    int i = cc_index(cc);
    return i >= 0 && r->c[i].valid ? r->c[i].name : "";
}

bool er_country_parse(const er_refdata *r, const char *s, size_t len, uint16_t *cc)
{
    return ref_country_parse(r, s, len, cc);
}

const char *er_refdata_ref_currency(const er_refdata *r) { return r->ref; }

bool er_currency_rate(const er_refdata *r, const char *code, double *rate)
{
    return ref_currency_rate(r, code, rate);
}

void er_refdata_free(er_refdata *r)
{
    if (!r)
        return;
    for (int i = 0; i < REF_N_CC; i++)
        free(r->c[i].name);
    free(r);
}

/* Column index by header name, or -1. */
static int col(const csv_rec *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->f[i].len == strlen(name) && memcmp(h->f[i].p, name, h->f[i].len) == 0)
            return (int)i;
    return -1;
}

typedef er_status (*row_fn)(er_refdata *r, const csv_rec *rec, const int *cols,
                            const char *path, er_err *err);

static er_status load_table(er_refdata *r, const char *path, const char *const *names, int ncols,
                            row_fn fn, er_err *err)
{
    er_status st;
    er_src *src = NULL;
    er_csv *csv = NULL;
    csv_rec rec;
    int cols[8];
    bool header = false;
    uint64_t rows = 0;
    if ((st = src_open(&src, path, NULL, err)) != ER_OK)
        goto cleanup;
    if ((st = csv_open(&csv, src, 1u << 16, err)) != ER_OK)
        goto cleanup;
    while ((st = csv_next(csv, &rec, err)) == ER_OK) {
        if (rec.err != CSV_OK) {
            st = er_errf(err, ER_EFORMAT, "%s:%llu: %s", path, (unsigned long long)rec.line,
                         rec.errmsg);
            goto cleanup;
        }
        if (rec.n && rec.f[0].len && rec.f[0].p[0] == '#' && !header)
            continue;
        if (!header) {
            for (int i = 0; i < ncols; i++)
                if ((cols[i] = col(&rec, names[i])) < 0) {
                    st = er_errf(err, ER_EFORMAT, "%s:%llu: header lacks column '%s'", path,
                                 (unsigned long long)rec.line, names[i]);
                    goto cleanup;
                }
            header = true;
            continue;
        }
        for (int i = 0; i < ncols; i++)
            if ((size_t)cols[i] >= rec.n) {
                st = er_errf(err, ER_EFORMAT, "%s:%llu: expected %d fields, got %zu", path,
                             (unsigned long long)rec.line, ncols, rec.n);
                goto cleanup;
            }
        if ((st = fn(r, &rec, cols, path, err)) != ER_OK)
            goto cleanup;
        rows++;
    }
    if (st != ER_EOF)
        goto cleanup;
    st = ER_OK;
    if (!header || rows == 0)
        st = er_errf(err, ER_EFORMAT, "%s: no data rows", path);
cleanup:
    csv_free(csv);
    src_free(src);
    return st;
}

static bool flag(const csv_field *f, bool *out)
{
    if (f->len == 1 && (f->p[0] == '0' || f->p[0] == '1')) {
        *out = f->p[0] == '1';
        return true;
    }
    return false;
}

static er_status country_row(er_refdata *r, const csv_rec *rec, const int *cols, const char *path,
                             er_err *err)
{
    const csv_field *a2 = &rec->f[cols[0]], *name = &rec->f[cols[1]];
    bool upper = a2->len == 2 && a2->p[0] >= 'A' && a2->p[0] <= 'Z' && a2->p[1] >= 'A' &&
                 a2->p[1] <= 'Z';
    int a = upper ? ref_letter(a2->p[0]) : -1, b = upper ? ref_letter(a2->p[1]) : -1;
    if (a < 0 || b < 0)
        return er_errf(err, ER_EFORMAT, "%s:%llu: alpha2 '%.*s' is not two upper-case letters",
                       path, (unsigned long long)rec->line, (int)a2->len, a2->p);
    ref_country *c = &r->c[a * 26 + b];
    if (c->valid)
        return er_errf(err, ER_EFORMAT, "%s:%llu: duplicate country %.2s", path,
                       (unsigned long long)rec->line, a2->p);
    if (!flag(&rec->f[cols[2]], &c->oecd) || !flag(&rec->f[cols[3]], &c->eu))
        return er_errf(err, ER_EFORMAT, "%s:%llu: oecd and eu must be 0 or 1", path,
                       (unsigned long long)rec->line);
    c->name = strndup(name->p, name->len);
    if (!c->name)
        return er_errf(err, ER_ENOMEM, "out of memory");
    c->valid = true;
    return ER_OK;
}

static er_status rate_row(er_refdata *r, const csv_rec *rec, const int *cols, const char *path,
                          er_err *err)
{
    const csv_field *code = &rec->f[cols[0]], *val = &rec->f[cols[1]];
    int a = -1, b = -1, c = -1;
    if (code->len == 3 && code->p[0] >= 'A' && code->p[0] <= 'Z' && code->p[1] >= 'A' &&
        code->p[1] <= 'Z' && code->p[2] >= 'A' && code->p[2] <= 'Z') {
        a = ref_letter(code->p[0]);
        b = ref_letter(code->p[1]);
        c = ref_letter(code->p[2]);
    }
    if (a < 0 || b < 0 || c < 0)
        return er_errf(err, ER_EFORMAT, "%s:%llu: code '%.*s' is not three upper-case letters",
                       path, (unsigned long long)rec->line, (int)code->len, code->p);
    double v;
    if (!er_parse_number(val->p, val->len, &v) || !(v > 0) || !isfinite(v))
        return er_errf(err, ER_EFORMAT, "%s:%llu: per_ref '%.*s' is not a positive number", path,
                       (unsigned long long)rec->line, (int)val->len, val->p);
    double *slot = &r->rate[(a * 26 + b) * 26 + c];
    if (*slot > 0)
        return er_errf(err, ER_EFORMAT, "%s:%llu: duplicate currency %.3s", path,
                       (unsigned long long)rec->line, code->p);
    *slot = v;
    return ER_OK;
}

er_status er_refdata_load(er_refdata **out, const char *dir, er_err *err)
{
    static const char *const ccols[] = {"alpha2", "name", "oecd", "eu"};
    static const char *const rcols[] = {"code", "per_ref"};
    er_status st;
    char path[4096 + 32], found[4096];
    *out = NULL;
    if (!dir) {
        if ((st = er_data_find(ER_DATA_REFERENCE, "countries.csv", found, sizeof found, err)) != ER_OK)
            return st;
        dir = found;
    }
    er_refdata *r = calloc(1, sizeof *r);
    if (!r)
        return er_errf(err, ER_ENOMEM, "out of memory");
    memcpy(r->ref, "USD", 4);
    snprintf(path, sizeof path, "%s/countries.csv", dir);
    if ((st = load_table(r, path, ccols, 4, country_row, err)) != ER_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/currency-rates.csv", dir);
    if ((st = load_table(r, path, rcols, 2, rate_row, err)) != ER_OK)
        goto fail;
    double usd;
    if (!er_currency_rate(r, "USD", &usd) || usd != 1.0) {
        st = er_errf(err, ER_EFORMAT, "%s: the reference currency USD must have per_ref 1", path);
        goto fail;
    }
    *out = r;
    return ER_OK;
fail:
    er_refdata_free(r);
    return st;
}
