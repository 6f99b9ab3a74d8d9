/*
 * outbox.c — the durable alert outbox (outbox.h, docs/alerts.md): batches are
 * written to tmp/, fsynced, renamed into pending/ and the directory fsynced;
 * delivery moves them to sent/ (with a receipt) or dead/ (with the response)
 * the same way. Owns the batch naming hash (SHA-256, so a name is a content
 * address and can never come from input) and the test-only fault hooks.
 */
#include "ecorisk/outbox.h"
#include "deliver/outbox_int.h"
#include "core/durable.h"
#include "core/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- fault injection (see outbox.h) ---- */

static int           fault_inited;
static unsigned long fault_write_at, fault_write_n;
static unsigned long fault_alloc_at, fault_alloc_n;

static void fault_init(void)
{
    if (fault_inited)
        return;
    fault_inited = 1;
    const char *w = getenv("ECORISK_FAULT_WRITE");
    const char *a = getenv("ECORISK_FAULT_ALLOC");
    if (w && *w)
        fault_write_at = strtoul(w, NULL, 10);
    if (a && *a)
        fault_alloc_at = strtoul(a, NULL, 10);
}

/* True (errno = ENOSPC) when this write operation is the injected failure. */
static bool fault_write(void)
{
    fault_init();
    if (fault_write_at == 0)
        return false;
    if (++fault_write_n == fault_write_at) {
        errno = ENOSPC;
        return true;
    }
    return false;
}

bool er_outbox_fault_alloc(void)
{
    fault_init();
    if (fault_alloc_at == 0)
        return false;
    return ++fault_alloc_n == fault_alloc_at;
}

static void *xmalloc(size_t n)
{
    if (er_outbox_fault_alloc())
        return NULL;
    return malloc(n ? n : 1);
}

static void *xrealloc(void *p, size_t n)
{
    if (er_outbox_fault_alloc())
        return NULL;
    return realloc(p, n ? n : 1);
}

/* ---- the batch naming hash ---- */

er_status er_outbox_hash(const void *data, size_t len, char hex[65], er_err *err)
{
    return er_sha256_hex(data, len, hex, err);
}

/* ---- names ---- */

static bool is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool er_outbox_valid_name(const char *name)
{
    return name && strlen(name) == 69 && is_hex64(name) && strcmp(name + 64, ".json") == 0;
}

/* "<h>.json" → "<h><suffix>" */
static void side_name(char *out, size_t cap, const char *name, const char *suffix)
{
    snprintf(out, cap, "%.64s%s", name, suffix);
}

/* ---- the outbox ---- */

static const char *const state_dirs[] = {"pending", "sent", "dead"};

struct er_outbox {
    char         *dir;
    int           root_fd;
    int           tmp_fd;
    int           fd[3];        /* pending, sent, dead */
    int           lock_fd;
    unsigned long seq;          /* tmp name counter */
    char          name[70];     /* last put name (name_out) */
    json_tokener *tok;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void er_outbox_free(er_outbox *o)
{
    if (!o)
        return;
    if (o->tok)
        json_tokener_free(o->tok);
    close_fd(&o->lock_fd);
    for (int i = 2; i >= 0; i--)
        close_fd(&o->fd[i]);
    close_fd(&o->tmp_fd);
    close_fd(&o->root_fd);
    free(o->dir);
    free(o);
}

const char *er_outbox_dir(const er_outbox *o) { return o->dir; }

static er_status sys_err(er_err *err, er_status st, const er_outbox *o, const char *sub,
                         const char *name, const char *what)
{
    int e = errno;
    return er_errf(err, st, "%s/%s%s%s: %s: %s", o->dir, sub, name ? "/" : "", name ? name : "", what,
                   strerror(e));
}

static er_status open_subdir(er_outbox *o, const char *sub, int *fd_out, er_err *err)
{
    if ((fault_write() || mkdirat(o->root_fd, sub, 0700) != 0) && errno != EEXIST)
        return sys_err(err, ER_EIO, o, sub, NULL, "cannot create directory");
    int fd = openat(o->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_err(err, ER_EIO, o, sub, NULL, "cannot open directory");
    *fd_out = fd;
    return ER_OK;
}

er_status er_outbox_open(er_outbox **out, const char *dir, er_err *err)
{
    er_status st = ER_OK;
    er_outbox *o = NULL;

    *out = NULL;
    fault_init();
    if (!dir || !*dir) {
        st = er_errf(err, ER_EINVAL, "outbox: no directory given");
        goto cleanup;
    }
    o = xmalloc(sizeof *o);
    if (!o) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory opening the outbox", dir);
        goto cleanup;
    }
    memset(o, 0, sizeof *o);
    o->root_fd = o->tmp_fd = o->lock_fd = -1;
    o->fd[0] = o->fd[1] = o->fd[2] = -1;
    o->dir = strdup(dir);
    o->tok = json_tokener_new();
    if (!o->dir || !o->tok) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory opening the outbox", dir);
        goto cleanup;
    }
    if ((fault_write() || mkdir(dir, 0700) != 0) && errno != EEXIST) {
        st = er_errf(err, ER_EIO, "%s: cannot create the outbox directory: %s", dir, strerror(errno));
        goto cleanup;
    }
    o->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->root_fd < 0) {
        st = er_errf(err, ER_EIO, "%s: cannot open the outbox directory: %s", dir, strerror(errno));
        goto cleanup;
    }
    if ((st = open_subdir(o, "tmp", &o->tmp_fd, err)) != ER_OK)
        goto cleanup;
    for (int i = 0; i < 3; i++)
        if ((st = open_subdir(o, state_dirs[i], &o->fd[i], err)) != ER_OK)
            goto cleanup;
    if (fsync(o->root_fd) != 0) {
        st = er_errf(err, ER_EIO, "%s: fsync: %s", dir, strerror(errno));
        goto cleanup;
    }
    *out = o;
    o = NULL;

cleanup:
    er_outbox_free(o);
    return st;
}

er_status er_outbox_lock(er_outbox *o, er_err *err)
{
    if (o->lock_fd >= 0)
        return ER_OK;
    int fd = openat(o->root_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return er_errf(err, ER_EIO, "%s/.lock: cannot open: %s", o->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return er_errf(err, ER_ELIMIT, "%s: another push is already running on this outbox", o->dir);
        return er_errf(err, ER_EIO, "%s/.lock: cannot lock: %s", o->dir, strerror(e));
    }
    o->lock_fd = fd;
    return ER_OK;
}

/* Write data durably as <target dir>/<final> via tmp/ (core/durable.h:
 * create exclusively, write, fsync, rename, fsync the target directory). The
 * tmp file is removed on failure. */
static er_status write_durable(er_outbox *o, int target_fd, const char *target_sub, const char *final,
                               const char *data, size_t len, er_err *err)
{
    char tmpname[128];
    const char *step = "";

    snprintf(tmpname, sizeof tmpname, "%.80s.%ld.%lu.tmp", final, (long)getpid(), ++o->seq);
    if (er_durable_replace(o->tmp_fd, tmpname, target_fd, final, data, len, 0600, fault_write, &step) == 0)
        return ER_OK;
    if (strcmp(step, "rename") == 0)
        return sys_err(err, ER_EIO, o, target_sub, final, "rename from tmp/");
    if (strcmp(step, "fsync-dir") == 0)
        return sys_err(err, ER_EIO, o, target_sub, NULL, "fsync");
    return sys_err(err, ER_EIO, o, "tmp", tmpname, strcmp(step, "create") == 0 ? "cannot create" : step);
}

static bool exists_in(int dfd, const char *name)
{
    struct stat sb;
    return fstatat(dfd, name, &sb, 0) == 0;
}

/* Trim JSON-insignificant whitespace around one alert text. */
static void trim(const char *s, const char **b, size_t *n)
{
    size_t len = strlen(s), i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    *b = s + i;
    *n = len - i;
}

/* Check that s[0..n) is exactly one JSON object. */
static bool is_one_object(json_tokener *tok, const char *s, size_t n)
{
    if (n == 0 || n > INT_MAX || s[0] != '{')
        return false;
    json_tokener_reset(tok);
    json_object *j = json_tokener_parse_ex(tok, s, (int)n);
    bool ok = j && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(j, json_type_object) && json_tokener_get_parse_end(tok) == n;
    json_object_put(j);
    return ok;
}

/* put one batch; base is the index of alerts[0] in the caller's list (messages). */
static er_status put_batch(er_outbox *o, const char *const *alerts, size_t n, size_t base,
                           const char **name_out, er_err *err)
{
    er_status st = ER_OK;
    char *buf = NULL;
    size_t cap = 4, len = 0;
    char hex[65], name[70];

    if (n == 0) {
        st = er_errf(err, ER_EINVAL, "%s: refusing to spool an empty batch", o->dir);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const char *b;
        size_t bn;
        if (!alerts[i]) {
            st = er_errf(err, ER_EINVAL, "%s: alert [%zu] is NULL", o->dir, base + i);
            goto cleanup;
        }
        trim(alerts[i], &b, &bn);
        if (!is_one_object(o->tok, b, bn)) {
            st = er_errf(err, ER_EPARSE, "%s: alert [%zu] is not one JSON object", o->dir, base + i);
            goto cleanup;
        }
        cap += bn + 2;
    }
    buf = xmalloc(cap + 1);
    if (!buf) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory building a batch of %zu alerts", o->dir, n);
        goto cleanup;
    }
    buf[len++] = '[';
    buf[len++] = '\n';
    for (size_t i = 0; i < n; i++) {
        const char *b;
        size_t bn;
        trim(alerts[i], &b, &bn);
        memcpy(buf + len, b, bn);
        len += bn;
        buf[len++] = i + 1 < n ? ',' : '\n';
        if (i + 1 < n)
            buf[len++] = '\n';
    }
    buf[len++] = ']';
    buf[len++] = '\n';
    buf[len] = '\0';
    if ((st = er_outbox_hash(buf, len, hex, err)) != ER_OK)
        goto cleanup;
    snprintf(name, sizeof name, "%s.json", hex);
    if (!exists_in(o->fd[ER_OUTBOX_PENDING], name) && !exists_in(o->fd[ER_OUTBOX_SENT], name)) {
        st = write_durable(o, o->fd[ER_OUTBOX_PENDING], "pending", name, buf, len, err);
        if (st != ER_OK)
            goto cleanup;
    }
    memcpy(o->name, name, sizeof name);
    if (name_out)
        *name_out = o->name;

cleanup:
    free(buf);
    return st;
}

er_status er_outbox_put(er_outbox *o, const char *const *alerts, size_t n, const char **name_out,
                        er_err *err)
{
    return put_batch(o, alerts, n, 0, name_out, err);
}

er_status er_outbox_put_all(er_outbox *o, const char *const *alerts, size_t n, size_t batch_max,
                            size_t *n_put, er_err *err)
{
    er_status st = ER_OK;
    size_t done = 0;
    if (batch_max == 0)
        batch_max = n;
    while (done < n) {
        size_t k = n - done < batch_max ? n - done : batch_max;
        if ((st = put_batch(o, alerts + done, k, done, NULL, err)) != ER_OK)
            break;
        done += k;
    }
    if (n_put)
        *n_put = done;
    return st;
}

/* ---- listing, reading, moving ---- */

static int entry_cmp(const void *pa, const void *pb)
{
    const er_outbox_entry *a = pa, *b = pb;
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns < b->mtime_ns ? -1 : 1;
    return strcmp(a->name, b->name);
}

void er_outbox_list_free(er_outbox_list *l)
{
    if (!l)
        return;
    free(l->e);
    memset(l, 0, sizeof *l);
}

static bool is_side_file(const char *name)
{
    size_t n = strlen(name);
    if (n < 65 || !is_hex64(name))
        return false;
    return strcmp(name + 64, ".receipt.json") == 0 || strcmp(name + 64, ".response.json") == 0;
}

er_status er_outbox_list_batches(er_outbox *o, er_outbox_state state, er_outbox_list *out,
                                 er_err *err)
{
    er_status st = ER_OK;
    DIR *d = NULL;
    size_t cap = 0;
    const char *sub = state_dirs[state];

    memset(out, 0, sizeof *out);
    int fd = openat(o->fd[state], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(d = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        st = sys_err(err, ER_EIO, o, sub, NULL, "cannot list");
        goto cleanup;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                st = sys_err(err, ER_EIO, o, sub, NULL, "cannot list");
                goto cleanup;
            }
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        if (!er_outbox_valid_name(de->d_name)) {
            if (!is_side_file(de->d_name))
                out->n_foreign++;
            continue;
        }
        struct stat sb;
        if (fstatat(o->fd[state], de->d_name, &sb, 0) != 0) {
            if (errno == ENOENT)
                continue;   /* moved meanwhile */
            st = sys_err(err, ER_EIO, o, sub, de->d_name, "stat");
            goto cleanup;
        }
        if (!S_ISREG(sb.st_mode)) {
            out->n_foreign++;
            continue;
        }
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            er_outbox_entry *ne = xrealloc(out->e, nc * sizeof *ne);
            if (!ne) {
                st = er_errf(err, ER_ENOMEM, "%s/%s: out of memory listing batches", o->dir, sub);
                goto cleanup;
            }
            out->e = ne;
            cap = nc;
        }
        er_outbox_entry *e = &out->e[out->n++];
        memcpy(e->name, de->d_name, 70);
        e->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        e->size = (uint64_t)sb.st_size;
    }
    if (out->n)
        qsort(out->e, out->n, sizeof *out->e, entry_cmp);

cleanup:
    if (d)
        closedir(d);
    if (st != ER_OK)
        er_outbox_list_free(out);
    return st;
}

er_status er_outbox_read(er_outbox *o, er_outbox_state state, const char *name, char **buf_out,
                         size_t *len_out, er_err *err)
{
    er_status st = ER_OK;
    int fd = -1;
    char *buf = NULL;
    const char *sub = state_dirs[state];

    *buf_out = NULL;
    *len_out = 0;
    if (!er_outbox_valid_name(name)) {
        st = er_errf(err, ER_EINVAL, "%s/%s: not a batch name", o->dir, sub);
        goto cleanup;
    }
    fd = openat(o->fd[state], name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        st = sys_err(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, o, sub, name, "cannot open");
        goto cleanup;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = sys_err(err, ER_EIO, o, sub, name, "stat");
        goto cleanup;
    }
    size_t size = (size_t)sb.st_size;
    buf = xmalloc(size + 1);
    if (!buf) {
        st = er_errf(err, ER_ENOMEM, "%s/%s/%s: out of memory reading %zu bytes", o->dir, sub, name, size);
        goto cleanup;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = sys_err(err, ER_EIO, o, sub, name, "read");
            goto cleanup;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *buf_out = buf;
    *len_out = got;
    buf = NULL;

cleanup:
    free(buf);
    if (fd >= 0)
        close(fd);
    return st;
}

static er_status move_with_side(er_outbox *o, const char *name, er_outbox_state to, const char *suffix,
                                const char *side, er_err *err)
{
    er_status st = ER_OK;
    char sname[96];
    const char *sub = state_dirs[to];

    if (!er_outbox_valid_name(name))
        return er_errf(err, ER_EINVAL, "%s/pending: not a batch name", o->dir);
    if (!exists_in(o->fd[ER_OUTBOX_PENDING], name))
        return er_errf(err, ER_ENOTFOUND, "%s/pending/%s: no longer pending", o->dir, name);
    side_name(sname, sizeof sname, name, suffix);
    if (side && (st = write_durable(o, o->fd[to], sub, sname, side, strlen(side), err)) != ER_OK)
        return st;
    if (fault_write() || renameat(o->fd[ER_OUTBOX_PENDING], name, o->fd[to], name) != 0) {
        st = errno == ENOENT ? ER_ENOTFOUND : ER_EIO;
        return sys_err(err, st, o, sub, name, "rename from pending/");
    }
    if (fault_write() || fsync(o->fd[to]) != 0)
        return sys_err(err, ER_EIO, o, sub, NULL, "fsync");
    if (fault_write() || fsync(o->fd[ER_OUTBOX_PENDING]) != 0)
        return sys_err(err, ER_EIO, o, "pending", NULL, "fsync");
    return ER_OK;
}

er_status er_outbox_mark_sent(er_outbox *o, const char *name, const char *receipt, er_err *err)
{
    return move_with_side(o, name, ER_OUTBOX_SENT, ".receipt.json", receipt, err);
}

er_status er_outbox_mark_dead(er_outbox *o, const char *name, const char *response, er_err *err)
{
    return move_with_side(o, name, ER_OUTBOX_DEAD, ".response.json", response, err);
}

er_status er_outbox_remove_pending(er_outbox *o, const char *name, er_err *err)
{
    if (!er_outbox_valid_name(name))
        return er_errf(err, ER_EINVAL, "%s/pending: not a batch name", o->dir);
    if (fault_write() || unlinkat(o->fd[ER_OUTBOX_PENDING], name, 0) != 0)
        return sys_err(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, o, "pending", name, "unlink");
    if (fault_write() || fsync(o->fd[ER_OUTBOX_PENDING]) != 0)
        return sys_err(err, ER_EIO, o, "pending", NULL, "fsync");
    return ER_OK;
}

er_status er_outbox_set_mtime(er_outbox *o, const char *name, int64_t mtime_ns, er_err *err)
{
    if (!er_outbox_valid_name(name))
        return er_errf(err, ER_EINVAL, "%s/pending: not a batch name", o->dir);
    struct timespec ts[2];
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = (time_t)(mtime_ns / 1000000000);
    ts[1].tv_nsec = (long)(mtime_ns % 1000000000);
    if (utimensat(o->fd[ER_OUTBOX_PENDING], name, ts, 0) != 0)
        return sys_err(err, ER_EIO, o, "pending", name, "set time");
    return ER_OK;
}

er_status er_outbox_clean_tmp(er_outbox *o, long max_age_s, size_t *n_removed, er_err *err)
{
    er_status st = ER_OK;
    DIR *d = NULL;
    size_t n = 0;
    time_t now = time(NULL);

    int fd = openat(o->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(d = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        st = sys_err(err, ER_EIO, o, "tmp", NULL, "cannot list");
        goto cleanup;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                st = sys_err(err, ER_EIO, o, "tmp", NULL, "cannot list");
            break;
        }
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".tmp") != 0)
            continue;
        struct stat sb;
        if (fstatat(o->tmp_fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (now - sb.st_mtime <= max_age_s)
            continue;
        if (unlinkat(o->tmp_fd, de->d_name, 0) == 0)
            n++;
    }

cleanup:
    if (d)
        closedir(d);
    if (n_removed)
        *n_removed = n;
    return st;
}
