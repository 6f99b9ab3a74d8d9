/*
 * mirror.c — mirror checks (mirror.h, docs/registries.md "Mirror checks").
 * The import feeds are loaded into memory (compact records in one arena),
 * indexed by container number and by (HS4, export country, destination),
 * each bucket sorted by date. The export feeds are then streamed in feed
 * order; each export takes the first unused import with its container in the
 * date window, else the unused import of its bucket in the window whose mass
 * is closest (within the mass tolerance). One import matches one export at
 * most; the result depends only on the feed order.
 */
#include "ecorisk/mirror.h"
#include "ecorisk/arena.h"
#include "core/grow.h"
#include "core/sbuf.h"
#include "registry/registry_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCAN 512   /* candidates examined per export in one bucket */

/* Basel waste streams by HS prefix (profiles/lists/basel-waste-hs.txt). */
static const char *const WASTE_HS[] = {"2620", "2621", "271091", "271099", "3825", "3915", "4004", "401220", "4707",
                                       "6309", "7001", "7204", "7404", "7602", "7802", "854810", "8549", NULL};

const char *er_mirror_finding_str(er_mirror_finding f)
{
    static const char *const n[] = {"no_import", "hs_chapter", "waste_as_goods", "goods_as_waste",
                                    "mass", "value", "exporter", "importer"};
    return f < ER_MF_COUNT ? n[f] : "";
}

typedef struct imp {
    const char *id, *container, *importer, *exporter;
    char        hs[ER_HS_MAX + 1];
    int32_t     date;
    uint16_t    exc, dest;
    uint32_t    present;
    double      kg, val;
    uint32_t    next;      /* next in the same container chain, or UINT32_MAX */
    bool        used;
} imp;

typedef struct bucket {
    uint32_t *v;           /* import indices sorted by date */
    size_t    n, cap;
} bucket;

typedef struct mctx {
    const er_mirror_opts *o;
    er_refdata *ref;
    er_mapping *map;
    er_arena   *arena;
    imp        *im;
    size_t      n_im, cap_im;
    smap        by_container;   /* container → first import index */
    smap        by_key;         /* "hs4|exc|dest" → bucket index */
    bucket     *b;
    size_t      n_b, cap_b;
    er_mirror_result *res;
    FILE       *out;            /* the export pass's findings */
    er_sb       line;
} mctx;

static bool is_waste(const char *hs)
{
    for (const char *const *p = WASTE_HS; *p; p++)
        if (strncmp(hs, *p, strlen(*p)) == 0)
            return true;
    return false;
}

static const char *keep(er_arena *a, const char *s)
{
    return s ? er_arena_strndup(a, s, strlen(s)) : NULL;
}

static int bucket_key(char *out, size_t cap, const char *hs, uint16_t exc, uint16_t dest)
{
    return snprintf(out, cap, "%.4s|%c%c|%c%c", hs, exc ? ER_CC_A(exc) : '-', exc ? ER_CC_B(exc) : '-',
                    dest ? ER_CC_A(dest) : '-', dest ? ER_CC_B(dest) : '-');
}

static er_status add_import(mctx *c, const er_decl *d, er_err *err)
{
    if (!er_grow((void **)&c->im, &c->cap_im, c->n_im + 1, sizeof *c->im))
        return er_errf(err, ER_ENOMEM, "out of memory loading imports");
    imp *m = &c->im[c->n_im];
    memset(m, 0, sizeof *m);
    m->id = keep(c->arena, d->id);
    m->container = keep(c->arena, d->container);
    m->importer = keep(c->arena, d->importer);
    m->exporter = keep(c->arena, d->exporter);
    memcpy(m->hs, d->hs, sizeof m->hs);
    m->date = d->date;
    m->exc = d->export_country;
    m->dest = d->destination;
    m->present = d->present;
    m->kg = d->net_kg;
    m->val = d->value_ref;
    m->next = UINT32_MAX;
    if (!m->id)
        return er_errf(err, ER_ENOMEM, "out of memory loading imports");
    uint32_t self = (uint32_t)c->n_im++;
    if (m->container) {
        long h = smap_get(&c->by_container, m->container, strlen(m->container));
        if (h >= 0) {   /* append to the chain's tail: feed order */
            uint32_t t = (uint32_t)h;
            while (c->im[t].next != UINT32_MAX)
                t = c->im[t].next;
            c->im[t].next = self;
        } else if (!smap_put(&c->by_container, m->container, strlen(m->container), self)) {
            return er_errf(err, ER_ENOMEM, "out of memory");
        }
    }
    char key[32];
    int kl = bucket_key(key, sizeof key, m->hs, m->exc, m->dest);
    long bi = smap_get(&c->by_key, key, (size_t)kl);
    if (bi < 0) {
        if (!er_grow((void **)&c->b, &c->cap_b, c->n_b + 1, sizeof *c->b) ||
            !smap_put(&c->by_key, key, (size_t)kl, (uint32_t)c->n_b))
            return er_errf(err, ER_ENOMEM, "out of memory");
        memset(&c->b[c->n_b], 0, sizeof c->b[0]);
        bi = (long)c->n_b++;
    }
    bucket *b = &c->b[bi];
    if (!er_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v))
        return er_errf(err, ER_ENOMEM, "out of memory");
    b->v[b->n++] = self;
    return ER_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort a bucket by (date, feed order): keys date << 32 | index. */
static bool sort_bucket(const mctx *c, bucket *b)
{
    uint64_t *k = malloc((b->n ? b->n : 1) * sizeof *k);
    if (!k)
        return false;
    for (size_t i = 0; i < b->n; i++)
        k[i] = (uint64_t)(uint32_t)(c->im[b->v[i]].date + (1 << 30)) << 32 | b->v[i];
    qsort(k, b->n, sizeof *k, cmp_u64);
    for (size_t i = 0; i < b->n; i++)
        b->v[i] = (uint32_t)k[i];
    free(k);
    return true;
}

typedef er_status (*decl_fn)(mctx *c, const er_decl *d, er_err *err);

static er_status read_feeds(mctx *c, const char *const *feeds, size_t n, uint8_t flow, decl_fn fn, er_err *err)
{
    er_batch *b = NULL;
    er_feed *f = NULL;
    er_status st = er_batch_new(&b, 4096, err);
    for (size_t i = 0; i < n && st == ER_OK; i++) {
        er_feed_opts fo = {.source = feeds[i], .mapping = c->map, .ref = c->ref};
        if ((st = er_feed_open(&f, &fo, err)) != ER_OK)
            break;
        while ((st = er_feed_next(f, b, err)) == ER_OK)
            for (size_t k = 0; k < b->n && st == ER_OK; k++)
                if (b->decls[k].flow == flow)
                    st = fn(c, &b->decls[k], err);
        if (st == ER_EOF)
            st = ER_OK;
        er_feed_free(f);
        f = NULL;
    }
    er_batch_free(b);
    return st;
}

static bool in_window(const mctx *c, int32_t ex_date, int32_t im_date)
{
    int w = c->o->window_days > 0 ? c->o->window_days : 30;
    return im_date >= ex_date - 2 && im_date <= ex_date + w;
}

static double rel_diff(double a, double b)
{
    double m = fmax(fabs(a), fabs(b));
    return m > 0 ? fabs(a - b) / m : 0;
}

static long find_match(mctx *c, const er_decl *d, bool *by_container)
{
    double tol = c->o->mass_tol > 0 ? c->o->mass_tol : 0.10;
    *by_container = false;
    if (d->container) {
        long h = smap_get(&c->by_container, d->container, strlen(d->container));
        for (long i = h; i >= 0 && (uint32_t)i != UINT32_MAX; i = c->im[i].next)
            if (!c->im[i].used && in_window(c, d->date, c->im[i].date)) {
                *by_container = true;
                return i;
            }
    }
    if (!(d->present & ER_P_NET_KG))
        return -1;
    char key[32];
    int kl = bucket_key(key, sizeof key, d->hs, d->export_country, d->destination);
    long bi = smap_get(&c->by_key, key, (size_t)kl);
    if (bi < 0)
        return -1;
    const bucket *b = &c->b[bi];
    /* first import dated at or after export - 2 */
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->im[b->v[mid]].date < d->date - 2)
            lo = mid + 1;
        else
            hi = mid;
    }
    long best = -1;
    double best_d = tol;
    for (size_t k = lo, scanned = 0; k < b->n && scanned < MAX_SCAN; k++, scanned++) {
        const imp *m = &c->im[b->v[k]];
        if (!in_window(c, d->date, m->date))
            break;
        if (m->used || !(m->present & ER_P_NET_KG))
            continue;
        double r = rel_diff(d->net_kg, m->kg);
        if (r <= best_d && (best < 0 || r < best_d)) {
            best = b->v[k];
            best_d = r;
        }
    }
    return best;
}

static void party_norm(const char *s, char *out, size_t cap)
{
    reg_norm(s, out, cap);
}

static er_status on_export(mctx *c, const er_decl *d, er_err *err)
{
    er_mirror_result *r = c->res;
    bool byc;
    r->exports++;
    long i = find_match(c, d, &byc);
    uint32_t f = 0;
    const imp *m = i >= 0 ? &c->im[i] : NULL;
    if (!m) {
        f |= 1u << ER_MF_NO_IMPORT;
        r->unmatched++;
    } else {
        c->im[i].used = true;
        if (byc)
            r->by_container++;
        else
            r->by_attributes++;
        if (strncmp(d->hs, m->hs, 2) != 0)
            f |= 1u << ER_MF_HS_CHAPTER;
        if (is_waste(d->hs) && !is_waste(m->hs))
            f |= 1u << ER_MF_WASTE_AS_GOODS;
        if (!is_waste(d->hs) && is_waste(m->hs))
            f |= 1u << ER_MF_GOODS_AS_WASTE;
        double tol = c->o->mass_tol > 0 ? c->o->mass_tol : 0.10;
        double vr = c->o->value_ratio > 0 ? c->o->value_ratio : 1.5;
        if ((d->present & ER_P_NET_KG) && (m->present & ER_P_NET_KG) && rel_diff(d->net_kg, m->kg) > tol)
            f |= 1u << ER_MF_MASS;
        if ((d->present & ER_P_VALUE_REF) && (m->present & ER_P_VALUE_REF) && d->value_ref > 0 && m->val > 0 &&
            fmax(d->value_ref, m->val) / fmin(d->value_ref, m->val) > vr)
            f |= 1u << ER_MF_VALUE;
        char a[160], b[160];
        if (d->exporter && m->exporter) {
            party_norm(d->exporter, a, sizeof a);
            party_norm(m->exporter, b, sizeof b);
            if (strcmp(a, b) != 0)
                f |= 1u << ER_MF_EXPORTER;
        }
        if (d->importer && m->importer) {
            party_norm(d->importer, a, sizeof a);
            party_norm(m->importer, b, sizeof b);
            if (strcmp(a, b) != 0)
                f |= 1u << ER_MF_IMPORTER;
        }
        if (f)
            r->pairs_flagged++;
    }
    if (!f)
        return ER_OK;
    er_sb *l = &c->line;
    er_sb_reset(l);
    er_sb_putc(l, '{');
    er_sb_json_key(l, "export_id");
    er_sb_json_cstr(l, d->id);
    if (m) {
        er_sb_json_key(l, "import_id");
        er_sb_json_cstr(l, m->id);
        er_sb_json_key(l, "matched_by");
        er_sb_json_cstr(l, byc ? "container" : "hs4_countries_mass_date");
    }
    er_sb_json_key(l, "findings");
    er_sb_putc(l, '[');
    bool first = true;
    for (int k = 0; k < ER_MF_COUNT; k++)
        if (f & (1u << k)) {
            if (!first)
                er_sb_putc(l, ',');
            first = false;
            er_sb_json_cstr(l, er_mirror_finding_str((er_mirror_finding)k));
            r->by_finding[k]++;
        }
    er_sb_putc(l, ']');
    er_sb_json_key(l, "export");
    er_sb_printf(l, "{\"hs\":\"%s\",\"net_kg\":", d->hs);
    er_sb_json_numg(l, (d->present & ER_P_NET_KG) ? d->net_kg : 0, 10);
    er_sb_putc(l, '}');
    if (m) {
        er_sb_json_key(l, "import");
        er_sb_printf(l, "{\"hs\":\"%s\",\"net_kg\":", m->hs);
        er_sb_json_numg(l, (m->present & ER_P_NET_KG) ? m->kg : 0, 10);
        er_sb_putc(l, '}');
    }
    er_sb_puts(l, "}\n");
    if (l->oom)
        return er_errf(err, ER_ENOMEM, "out of memory");
    if (fwrite(l->p, 1, l->len, c->out) != l->len)
        return er_errf(err, ER_EIO, "%s: write failed", c->o->out);
    return ER_OK;
}

er_status er_mirror(const er_mirror_opts *o, er_mirror_result *res, er_err *err)
{
    mctx c = {.o = o, .res = res};
    char tmp[4200] = "";
    bool to_stdout = strcmp(o->out, "-") == 0;
    er_status st;
    memset(res, 0, sizeof *res);
    if ((st = er_refdata_load(&c.ref, o->reference, err)) != ER_OK)
        goto cleanup;
    if (o->mapping && (st = er_mapping_load(&c.map, o->mapping, err)) != ER_OK)
        goto cleanup;
    if (!(c.arena = er_arena_new(1 << 20))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = read_feeds(&c, o->imports, o->n_imports, ER_FLOW_IM, add_import, err)) != ER_OK)
        goto cleanup;
    res->imports = c.n_im;
    for (size_t i = 0; i < c.n_b; i++)
        if (!sort_bucket(&c, &c.b[i])) {
            st = er_errf(err, ER_ENOMEM, "out of memory");
            goto cleanup;
        }
    if (to_stdout) {
        c.out = stdout;
    } else {
        snprintf(tmp, sizeof tmp, "%s.tmp", o->out);
        if (!(c.out = fopen(tmp, "w"))) {
            st = er_errf(err, ER_EIO, "%s: cannot create: %s", tmp, strerror(errno));
            goto cleanup;
        }
    }
    if ((st = read_feeds(&c, o->exports, o->n_exports, ER_FLOW_EX, on_export, err)) != ER_OK)
        goto cleanup;
    if (fflush(c.out) != 0 || ferror(c.out)) {
        st = er_errf(err, ER_EIO, "%s: write failed", to_stdout ? "stdout" : tmp);
        goto cleanup;
    }
    if (!to_stdout) {
        int rc = fclose(c.out);
        c.out = NULL;
        if (rc != 0 || rename(tmp, o->out) != 0) {
            st = er_errf(err, ER_EIO, "%s: cannot write: %s", o->out, strerror(errno));
            goto cleanup;
        }
        tmp[0] = '\0';
    }
cleanup:
    if (c.out && !to_stdout)
        fclose(c.out);
    if (tmp[0])
        remove(tmp);
    er_sb_free(&c.line);
    for (size_t i = 0; i < c.n_b; i++)
        free(c.b[i].v);
    free(c.b);
    smap_free(&c.by_key);
    smap_free(&c.by_container);
    free(c.im);
    er_arena_free(c.arena);
    er_mapping_free(c.map);
    er_refdata_free(c.ref);
    return st;
}
