/*
 * ledger.c — the durable ledger of document consumption (docs/registries.md
 * "Ledger"): for every declaration that cited a known permit, licence or
 * consent, one record (declaration id, kind, number, licence year, quantity).
 *
 * On disk: DIR/lock (flock, exclusive while a run holds the ledger) and
 * DIR/runs/<run key>.tsv, one file per run key, written whole at the end of
 * the run through a temporary file that is fsynced, renamed into place and
 * the directory fsynced — the outbox's discipline. A killed run leaves the
 * previous file (or none); a re-run of the same key replaces its file, so
 * nothing is ever counted twice; a declaration id already recorded under
 * another key is not consumed again. The balance a run starts from is the sum
 * over every other key's file.
 */
#include "registry_int.h"
#include "core/grow.h"
#include "ecorisk/arena.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEDGER_MAGIC "# ecorisk-ledger/1"
#define MAX_REFS     8     /* documents of one kind per declaration */

/* One record: 16 bytes plus the declaration id in the arena. */
typedef struct lentry {
    const char *decl;     /* in the ledger's arena */
    uint32_t    bal;      /* the document: index of its balance */
    double      qty;
} lentry;

struct er_ledger {
    char    *dir, *key;
    int      lock_fd, runs_fd;
    er_arena *arena;                  /* declaration ids and document numbers */
    smap     bal_idx;                 /* "kind|number|year" → balance index */
    double  *used;                    /* per balance: quantity used */
    uint32_t *n_decl;                 /* per balance: declarations */
    const char **bnum;                /* per balance: document number (arena) */
    uint8_t  *bkind;
    uint16_t *byear;
    size_t   n_bal, cap_bal, cap_ndecl, cap_bnum, cap_bkind, cap_byear;
    uint64_t *dh;                     /* declaration id hash → first index in base[] (open addressing) */
    uint32_t *dv;
    size_t   dcap, dn;
    lentry  *base;   size_t n_base, cap_base;
    lentry  *run;    size_t n_run, cap_run;
    uint64_t already;
    bool     readonly;                /* er_ledger_open_readonly: no lock, never committed */
};

/* ---- encoding of free text in TSV: '%', control bytes → %XX ---- */

static void enc(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == '%' || c == 0x7f)
            fprintf(f, "%%%02X", c);
        else
            fputc(c, f);
    }
}

static bool dec(char *s)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p != '%') {
            *w++ = *p;
            continue;
        }
        if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
            return false;
        char h[3] = {p[1], p[2], 0};
        *w++ = (char)strtol(h, NULL, 16);
        p += 2;
    }
    *w = '\0';
    return true;
}

static int bal_key(char *out, size_t cap, int kind, const char *number, int year)
{
    return snprintf(out, cap, "%d|%s|%d", kind, number, year);
}

/* Index of a document's balance, created at 0 when absent; -1 on ENOMEM. */
static long bal_get(er_ledger *l, int kind, const char *number, int year)
{
    char key[400];
    int n = bal_key(key, sizeof key, kind, number, year);
    long i = smap_get(&l->bal_idx, key, (size_t)n);
    if (i >= 0)
        return i;
    size_t b = l->n_bal;
    if (!er_grow((void **)&l->used, &l->cap_bal, b + 1, sizeof *l->used) ||
        !er_grow((void **)&l->n_decl, &l->cap_ndecl, b + 1, sizeof *l->n_decl) ||
        !er_grow((void **)&l->bnum, &l->cap_bnum, b + 1, sizeof *l->bnum) ||
        !er_grow((void **)&l->bkind, &l->cap_bkind, b + 1, sizeof *l->bkind) ||
        !er_grow((void **)&l->byear, &l->cap_byear, b + 1, sizeof *l->byear) ||
        !(l->bnum[b] = er_arena_strndup(l->arena, number, strlen(number))) ||
        !smap_put(&l->bal_idx, key, (size_t)n, (uint32_t)b))
        return -1;
    l->used[b] = 0;
    l->n_decl[b] = 0;
    l->bkind[b] = (uint8_t)kind;
    l->byear[b] = (uint16_t)year;
    return (long)l->n_bal++;
}

static bool push_entry(er_ledger *l, lentry **v, size_t *n, size_t *cap, const char *decl, uint32_t bal, double qty)
{
    if (!er_grow((void **)v, cap, *n + 1, sizeof **v))
        return false;
    lentry *e = &(*v)[*n];
    if (!(e->decl = er_arena_strndup(l->arena, decl, strlen(decl))))
        return false;
    e->bal = bal;
    e->qty = qty;
    (*n)++;
    return true;
}

/* Declaration ids of the base, by hash: first index of each id in base[], or -1. */
static long decl_find(const er_ledger *l, const char *decl)
{
    if (!l->dcap)
        return -1;
    uint64_t h = er_hash64(decl, strlen(decl), 0x6c6564676572ULL) | 1;
    for (size_t j = h & (l->dcap - 1); l->dh[j]; j = (j + 1) & (l->dcap - 1))
        if (l->dh[j] == h && strcmp(l->base[l->dv[j]].decl, decl) == 0)
            return l->dv[j];
    return -1;
}

static bool decl_add(er_ledger *l, const char *decl, uint32_t first)
{
    if ((l->dn + 1) * 2 > l->dcap) {
        size_t nc = l->dcap ? l->dcap * 2 : 1024;
        uint64_t *nh = calloc(nc, sizeof *nh);
        uint32_t *nv = calloc(nc, sizeof *nv);
        if (!nh || !nv) {
            free(nh);
            free(nv);
            return false;
        }
        for (size_t i = 0; i < l->dcap; i++)
            if (l->dh[i]) {
                size_t j = l->dh[i] & (nc - 1);
                while (nh[j])
                    j = (j + 1) & (nc - 1);
                nh[j] = l->dh[i];
                nv[j] = l->dv[i];
            }
        free(l->dh);
        free(l->dv);
        l->dh = nh;
        l->dv = nv;
        l->dcap = nc;
    }
    uint64_t h = er_hash64(decl, strlen(decl), 0x6c6564676572ULL) | 1;
    size_t j = h & (l->dcap - 1);
    while (l->dh[j])
        j = (j + 1) & (l->dcap - 1);
    l->dh[j] = h;
    l->dv[j] = first;
    l->dn++;
    return true;
}

/* ---- reading run files ---- */

typedef er_status (*entry_fn)(void *ud, const char *decl, int kind, const char *number, int year, double qty,
                              er_err *err);

static er_status read_run_file(int dfd, const char *dir, const char *name, entry_fn fn, void *ud, er_err *err)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    char *line = NULL;
    size_t cap = 0, n = 0;
    uint64_t ln = 0;
    bool ended = false;
    er_status st = ER_OK;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return er_errf(err, ER_EIO, "%s/runs/%s: cannot open: %s", dir, name, strerror(errno));
    }
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        ln++;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (ln == 1) {
            if (strncmp(line, LEDGER_MAGIC, strlen(LEDGER_MAGIC)) != 0) {
                st = er_errf(err, ER_EFORMAT, "%s/runs/%s:1: not a ledger file (expected '%s')", dir, name, LEDGER_MAGIC);
                goto cleanup;
            }
            continue;
        }
        if (ended) {
            st = er_errf(err, ER_EFORMAT, "%s/runs/%s:%llu: data after the end line", dir, name, (unsigned long long)ln);
            goto cleanup;
        }
        unsigned long long cnt;
        if (sscanf(line, "# end %llu", &cnt) == 1) {
            if (cnt != n) {
                st = er_errf(err, ER_EFORMAT, "%s/runs/%s:%llu: end line counts %llu records, file has %zu", dir,
                             name, (unsigned long long)ln, cnt, n);
                goto cleanup;
            }
            ended = true;
            continue;
        }
        char *fld[5], *save = NULL, *p = line;
        int k = 0;
        for (char *t = strtok_r(p, "\t", &save); t && k < 5; t = strtok_r(NULL, "\t", &save))
            fld[k++] = t;
        char *e1, *e2;
        long kind = k == 5 ? strtol(fld[1], &e1, 10) : -1;
        long year = k == 5 ? strtol(fld[3], &e2, 10) : -1;
        double q = k == 5 ? strtod(fld[4], NULL) : -1;
        if (k != 5 || kind < 0 || kind >= ER_DOC_KINDS || year < 0 || !(q >= 0) || !dec(fld[0]) || !dec(fld[2])) {
            st = er_errf(err, ER_EFORMAT, "%s/runs/%s:%llu: expected 'declaration<TAB>kind<TAB>number<TAB>year"
                         "<TAB>quantity'", dir, name, (unsigned long long)ln);
            goto cleanup;
        }
        if ((st = fn(ud, fld[0], (int)kind, fld[2], (int)year, q, err)) != ER_OK)
            goto cleanup;
        n++;
    }
    if (!ended)
        st = er_errf(err, ER_EFORMAT, "%s/runs/%s: no end line (truncated file)", dir, name);
cleanup:
    free(line);
    fclose(f);
    return st;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run files of dfd (sorted; ".tmp" and hidden names excluded). */
static er_status list_runs(int dfd, const char *dir, char ***names, size_t *n, er_err *err)
{
    int fd = dup(dfd);
    DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!dp) {
        if (fd >= 0)
            close(fd);
        return er_errf(err, ER_EIO, "%s/runs: cannot list: %s", dir, strerror(errno));
    }
    rewinddir(dp);
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".tsv") != 0)
            continue;
        if (!er_grow((void **)names, &cap, *n + 1, sizeof **names) || !((*names)[*n] = strdup(de->d_name))) {
            closedir(dp);
            return er_errf(err, ER_ENOMEM, "out of memory");
        }
        (*n)++;
    }
    closedir(dp);
    if (*n)
        qsort(*names, *n, sizeof **names, name_cmp);
    return ER_OK;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool mkdir_p(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return false;
            *s = '/';
        }
    return mkdir(p, 0777) == 0 || errno == EEXIST;
}

static er_status open_dirs(const char *dir, int *lock_fd, int *runs_fd, int lock_op, er_err *err)
{
    char p[4096];
    *lock_fd = *runs_fd = -1;
    if (!mkdir_p(dir))
        return er_errf(err, ER_EIO, "%s: cannot create: %s", dir, strerror(errno));
    snprintf(p, sizeof p, "%s/runs", dir);
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return er_errf(err, ER_EIO, "%s: cannot create: %s", p, strerror(errno));
    if ((*runs_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return er_errf(err, ER_EIO, "%s: cannot open: %s", p, strerror(errno));
    if (!lock_op)
        return ER_OK;
    snprintf(p, sizeof p, "%s/lock", dir);
    if ((*lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
        return er_errf(err, ER_EIO, "%s: cannot open: %s", p, strerror(errno));
    if (flock(*lock_fd, lock_op | LOCK_NB) != 0)
        return er_errf(err, ER_EPENDING, "%s: the ledger is in use by another run (lock held); try again later", dir);
    return ER_OK;
}

static er_status base_add(void *ud, const char *decl, int kind, const char *number, int year, double qty, er_err *err)
{
    er_ledger *l = ud;
    long b = bal_get(l, kind, number, year);
    /* a declaration's records are consecutive in its file: index the first */
    bool first = l->n_base == 0 || strcmp(l->base[l->n_base - 1].decl, decl) != 0;
    if (b < 0 || !push_entry(l, &l->base, &l->n_base, &l->cap_base, decl, (uint32_t)b, qty) ||
        (first && decl_find(l, decl) < 0 && !decl_add(l, decl, (uint32_t)(l->n_base - 1))))
        return er_errf(err, ER_ENOMEM, "out of memory loading the ledger");
    l->used[b] += qty;
    l->n_decl[b]++;
    return ER_OK;
}

static er_status ledger_open(er_ledger **out, const char *dir, const char *key, int lock_op, er_err *err)
{
    er_ledger *l = calloc(1, sizeof *l);
    char **names = NULL, own[300];
    size_t n_names = 0;
    er_status st = ER_OK;
    *out = NULL;
    if (!l)
        return er_errf(err, ER_ENOMEM, "out of memory");
    l->lock_fd = l->runs_fd = -1;
    if (!(l->arena = er_arena_new(1 << 16))) {
        free(l);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    if (!dir) {
        *out = l;
        return ER_OK;
    }
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            st = er_errf(err, ER_EINVAL, "ledger key '%s': only letters, digits, '-' and '_'", key);
            goto cleanup;
        }
    if (!(l->dir = strdup(dir)) || !(l->key = strdup(key))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((st = open_dirs(dir, &l->lock_fd, &l->runs_fd, lock_op, err)) != ER_OK)
        goto cleanup;
    snprintf(own, sizeof own, "%s.tsv", key);
    if ((st = list_runs(l->runs_fd, dir, &names, &n_names, err)) != ER_OK)
        goto cleanup;
    for (size_t i = 0; i < n_names; i++)
        if (strcmp(names[i], own) != 0 && (st = read_run_file(l->runs_fd, dir, names[i], base_add, l, err)) != ER_OK)
            goto cleanup;
cleanup:
    names_free(names, n_names);
    if (st != ER_OK) {
        er_ledger_free(l);
        return st;
    }
    *out = l;
    return ER_OK;
}

er_status er_ledger_open(er_ledger **out, const char *dir, const char *key, er_err *err)
{
    return ledger_open(out, dir, key, LOCK_EX, err);
}

er_status er_ledger_open_readonly(er_ledger **out, const char *dir, const char *key, er_err *err)
{
    er_status st = ledger_open(out, dir, key, 0, err);
    if (st == ER_OK && *out)
        (*out)->readonly = true;
    return st;
}

void er_ledger_free(er_ledger *l)
{
    if (!l)
        return;
    free(l->run);
    free(l->base);
    free(l->dh);
    free(l->dv);
    smap_free(&l->bal_idx);
    free(l->byear);
    free(l->bkind);
    free(l->bnum);
    free(l->n_decl);
    free(l->used);
    er_arena_free(l->arena);
    if (l->runs_fd >= 0)
        close(l->runs_fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);   /* releases the flock */
    free(l->key);
    free(l->dir);
    free(l);
}

void er_ledger_stats_get(const er_ledger *l, er_ledger_stats *st)
{
    st->entries_base = l->n_base;
    st->entries_run = l->n_run;
    st->already_counted = l->already;
}

/* ---- commit ---- */

er_status er_ledger_commit(er_ledger *l, er_err *err)
{
    if (!l->dir)
        return ER_OK;
    if (l->readonly)
        return er_errf(err, ER_EINVAL, "%s: the ledger was opened read-only", l->dir);
    char tmp[320], fin[320];
    snprintf(tmp, sizeof tmp, ".%s.tmp", l->key);
    snprintf(fin, sizeof fin, "%s.tsv", l->key);
    int fd = openat(l->runs_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    er_status st = ER_OK;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return er_errf(err, ER_EIO, "%s/runs/%s: cannot create: %s", l->dir, tmp, strerror(errno));
    }
    fprintf(f, "%s key=%s\n", LEDGER_MAGIC, l->key);
    for (size_t i = 0; i < l->n_run; i++) {
        const lentry *e = &l->run[i];
        enc(f, e->decl);
        fprintf(f, "\t%d\t", l->bkind[e->bal]);
        enc(f, l->bnum[e->bal]);
        fprintf(f, "\t%d\t%.17g\n", l->byear[e->bal], e->qty);
    }
    fprintf(f, "# end %zu\n", l->n_run);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        st = er_errf(err, ER_EIO, "%s/runs/%s: write/fsync failed: %s", l->dir, tmp, strerror(errno));
    if (fclose(f) != 0 && st == ER_OK)
        st = er_errf(err, ER_EIO, "%s/runs/%s: close failed: %s", l->dir, tmp, strerror(errno));
    if (st == ER_OK && renameat(l->runs_fd, tmp, l->runs_fd, fin) != 0)
        st = er_errf(err, ER_EIO, "%s/runs/%s: rename failed: %s", l->dir, fin, strerror(errno));
    if (st == ER_OK && fsync(l->runs_fd) != 0)
        st = er_errf(err, ER_EIO, "%s/runs: fsync failed: %s", l->dir, strerror(errno));
    if (st != ER_OK)
        unlinkat(l->runs_fd, tmp, 0);
    return st;
}

/* ---- show / reset ---- */

typedef struct show_ctx {
    er_ledger *l;
} show_ctx;

static er_status show_add(void *ud, const char *decl, int kind, const char *number, int year, double qty, er_err *err)
{
    (void)decl;
    er_ledger *l = ud;
    long b = bal_get(l, kind, number, year);
    if (b < 0)
        return er_errf(err, ER_ENOMEM, "out of memory");
    l->used[b] += qty;
    l->n_decl[b]++;
    return ER_OK;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

er_status er_ledger_show(const char *dir, const er_registry *r, char **text, er_err *err)
{
    er_ledger l = {.lock_fd = -1, .runs_fd = -1};
    char **names = NULL, **keys = NULL, *buf = NULL;
    size_t n_names = 0, blen = 0;
    FILE *f = NULL;
    er_status st;
    *text = NULL;
    if ((st = open_dirs(dir, &l.lock_fd, &l.runs_fd, 0, err)) != ER_OK ||
        (st = list_runs(l.runs_fd, dir, &names, &n_names, err)) != ER_OK)
        goto cleanup;
    l.dir = (char *)dir;
    if (!(l.arena = er_arena_new(1 << 16))) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n_names; i++)
        if ((st = read_run_file(l.runs_fd, dir, names[i], show_add, &l, err)) != ER_OK)
            goto cleanup;
    keys = calloc(l.n_bal ? l.n_bal : 1, sizeof *keys);
    f = open_memstream(&buf, &blen);
    if (!keys || !f) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    size_t k = 0;
    for (size_t i = 0; i < l.bal_idx.cap; i++)
        if (l.bal_idx.keys[i])
            keys[k++] = l.bal_idx.keys[i];
    qsort(keys, k, sizeof *keys, key_cmp);
    fprintf(f, "kind\tnumber\tyear\tused\tunit\tlimit\tremaining\tdeclarations\n");
    for (size_t i = 0; i < k; i++) {
        char num[300];
        int kind = 0, year = 0;
        const char *p1 = strchr(keys[i], '|'), *p2 = strrchr(keys[i], '|');
        kind = atoi(keys[i]);
        year = atoi(p2 + 1);
        snprintf(num, sizeof num, "%.*s", (int)(p2 - p1 - 1), p1 + 1);
        long b = smap_get(&l.bal_idx, keys[i], strlen(keys[i]));
        double lim = 0;
        const char *unit = "";
        bool has = er_registry_limit(r, (er_dockind)kind, num, year, &lim, &unit);
        fprintf(f, "%s\t%s\t%d\t%.6g\t%s\t", er_dockind_str((er_dockind)kind), num, year, l.used[b],
                has ? unit : "");
        if (has)
            fprintf(f, "%.6g\t%.6g\t", lim, lim - l.used[b]);
        else
            fprintf(f, "\t\t");
        fprintf(f, "%u\n", l.n_decl[b]);
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto cleanup;
    }
    f = NULL;
    *text = buf;
    buf = NULL;
cleanup:
    if (f)
        fclose(f);
    free(buf);
    free(keys);
    names_free(names, n_names);
    smap_free(&l.bal_idx);
    free(l.used);
    free(l.n_decl);
    free(l.bnum);
    free(l.bkind);
    free(l.byear);
    er_arena_free(l.arena);
    if (l.runs_fd >= 0)
        close(l.runs_fd);
    return st;
}

er_status er_ledger_reset_year(const char *dir, int year, size_t *removed, er_err *err)
{
    int lock_fd = -1, runs_fd = -1;
    char **names = NULL, pre[16];
    size_t n_names = 0;
    er_status st;
    *removed = 0;
    if ((st = open_dirs(dir, &lock_fd, &runs_fd, LOCK_EX, err)) != ER_OK ||
        (st = list_runs(runs_fd, dir, &names, &n_names, err)) != ER_OK)
        goto cleanup;
    snprintf(pre, sizeof pre, "%04d-", year);
    for (size_t i = 0; i < n_names; i++) {
        if (strncmp(names[i], pre, 5) != 0)
            continue;
        if (unlinkat(runs_fd, names[i], 0) != 0) {
            st = er_errf(err, ER_EIO, "%s/runs/%s: cannot remove: %s", dir, names[i], strerror(errno));
            goto cleanup;
        }
        (*removed)++;
    }
    if (*removed && fsync(runs_fd) != 0)
        st = er_errf(err, ER_EIO, "%s/runs: fsync failed: %s", dir, strerror(errno));
cleanup:
    names_free(names, n_names);
    if (runs_fd >= 0)
        close(runs_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    return st;
}

/* ---- the check pass lives in check.c; it reaches the ledger through these ---- */

long ledger_balance(er_ledger *l, int kind, const char *number, int year, double *used)
{
    long b = bal_get(l, kind, number, year);
    *used = b >= 0 ? l->used[b] : 0;
    return b;
}

/* Prior quantity this declaration took from the document under another key, or -1 when the
 * declaration is not in the base at all. */
double ledger_prior(const er_ledger *l, const char *decl, int kind, const char *number, int year)
{
    long i = decl_find(l, decl);
    if (i < 0)
        return -1;
    char key[400];
    int n = bal_key(key, sizeof key, kind, number, year);
    long b = smap_get(&l->bal_idx, key, (size_t)n);
    double q = 0;
    for (size_t k = (size_t)i; k < l->n_base && strcmp(l->base[k].decl, decl) == 0; k++)
        if ((long)l->base[k].bal == b)
            q += l->base[k].qty;
    return q;
}

bool ledger_known_decl(const er_ledger *l, const char *decl)
{
    return decl_find(l, decl) >= 0;
}

void ledger_note_already(er_ledger *l)
{
    l->already++;
}

bool ledger_consume(er_ledger *l, long bal, const char *decl, double qty)
{
    if (!push_entry(l, &l->run, &l->n_run, &l->cap_run, decl, (uint32_t)bal, qty))
        return false;
    l->used[bal] += qty;
    l->n_decl[bal]++;
    return true;
}
