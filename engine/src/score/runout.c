/*
 * runout.c — the run's outputs as one transaction (runout.h,
 * docs/operations.md "Outputs: one transaction"): a lock on --out, a private
 * staging directory beside it, exclusive fsynced files, a manifest, and one
 * atomic directory swap to publish. A run killed at any point leaves --out
 * holding either the previous set or the new one, never a mix.
 */
#define _GNU_SOURCE
#include "score/runout.h"
#include "core/durable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void er_runout_init(er_runout *r)
{
    memset(r, 0, sizeof *r);
    r->parent_fd = r->lock_fd = r->stage_fd = -1;
    for (size_t i = 0; i < ER_RUNOUT_MAX_FILES; i++)
        r->stream_fd[i] = r->unsynced[i] = -1;
}

static er_status mkdir_p(const char *dir, er_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return er_errf(err, ER_ECREATE, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return er_errf(err, ER_ECREATE, "%s: cannot create directory: %s", tmp, strerror(errno));
    return ER_OK;
}

/* Remove the directory parent/name holding one output set: its files (never
 * following a link), then the directory. A directory that holds anything else
 * (a subdirectory, e.g. an outbox from an older layout) is left in place. */
static void remove_set(int parent_fd, const char *name)
{
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode))
            unlinkat(fd, e->d_name, 0);
    }
    closedir(d);
    unlinkat(parent_fd, name, AT_REMOVEDIR);
}

/* Under the lock, every .NAME.run-* beside --out is a killed run's staging
 * directory or a previous set that was not yet removed. */
static void remove_stale(er_runout *r)
{
    char prefix[300];
    int n = snprintf(prefix, sizeof prefix, ".%s.run-", r->base);
    int fd = dup(r->parent_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, (size_t)n) == 0)
            remove_set(r->parent_fd, e->d_name);
    closedir(d);
}

static er_status split_dir(er_runout *r, const char *dir, er_err *err)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return er_errf(err, ER_EINVAL, "output directory: bad path");
    memcpy(tmp, dir, n + 1);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = '\0';
    char *slash = strrchr(tmp, '/');
    const char *base = slash ? slash + 1 : tmp;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strlen(base) > 200)
        return er_errf(err, ER_EINVAL, "%s: the output directory must be named by a path ending in a plain name", dir);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->base, sizeof r->base, "%s", base);
    if (!slash)
        snprintf(r->parent, sizeof r->parent, ".");
    else if (slash == tmp)
        snprintf(r->parent, sizeof r->parent, "/");
    else {
        *slash = '\0';
        snprintf(r->parent, sizeof r->parent, "%s", tmp);
    }
    return ER_OK;
}

er_status er_runout_begin(er_runout *r, const char *dir, er_err *err)
{
    er_status st;
    char name[300], path[4400];
    struct stat sb;

    if ((st = split_dir(r, dir, err)) != ER_OK)
        return st;
    if ((st = mkdir_p(r->parent, err)) != ER_OK)
        return st;
    r->parent_fd = open(r->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->parent_fd < 0)
        return er_errf(err, ER_ECREATE, "%s: cannot open directory: %s", r->parent, strerror(errno));
    if (fstatat(r->parent_fd, r->base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode))
        return er_errf(err, ER_ECREATE, "%s: exists and is not a directory%s", dir,
                       S_ISLNK(sb.st_mode) ? " (a symbolic link: give the directory itself)" : "");
    snprintf(name, sizeof name, ".%s.lock", r->base);
    r->lock_fd = openat(r->parent_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (r->lock_fd < 0)
        return er_errf(err, ER_ECREATE, "%s/%s: cannot open the lock file: %s", r->parent, name, strerror(errno));
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            return er_errf(err, ER_EBUSY, "%s: another run is writing this output directory (lock %s/%s held); "
                           "try again when it has finished", dir, r->parent, name);
        return er_errf(err, ER_EIO, "%s/%s: cannot lock: %s", r->parent, name, strerror(e));
    }
    remove_stale(r);
    snprintf(path, sizeof path, "%s/.%s.run-XXXXXX", r->parent, r->base);
    if (!mkdtemp(path))
        return er_errf(err, ER_ECREATE, "%s: cannot create a staging directory: %s", path, strerror(errno));
    snprintf(r->stage, sizeof r->stage, "%s", strrchr(path, '/') + 1);
    r->stage_fd = openat(r->parent_fd, r->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r->stage_fd < 0)
        return er_errf(err, ER_ECREATE, "%s: cannot open: %s", path, strerror(errno));
    return ER_OK;
}

er_status er_runout_open(er_runout *r, const char *name, FILE **f, er_err *err)
{
    *f = NULL;
    if (r->n_files == ER_RUNOUT_MAX_FILES || strlen(name) >= sizeof r->files[0])
        return er_errf(err, ER_EINTERNAL, "%s: too many output files", name);
    int fd = er_durable_create(r->stage_fd, name, 0644);
    if (fd < 0)
        return er_errf(err, ER_ECREATE, "%s/%s/%s: cannot create: %s", r->parent, r->stage, name, strerror(errno));
    er_hashfile *hf;
    *f = er_hashfile_open(fd, &hf);
    if (!*f) {
        close(fd);
        return er_errf(err, ER_ENOMEM, "%s: out of memory", name);
    }
    r->stream[r->n_files] = *f;
    r->hf[r->n_files] = hf;
    r->stream_fd[r->n_files] = fd;
    snprintf(r->files[r->n_files++], sizeof r->files[0], "%s", name);
    return ER_OK;
}

/* The slot of an open stream. */
static size_t file_slot(const er_runout *r, const FILE *f)
{
    size_t i = 0;
    while (i < r->n_files && r->stream[i] != f)
        i++;
    return i;
}

er_status er_runout_close(er_runout *r, FILE **f, er_err *err)
{
    if (!*f)
        return ER_OK;
    size_t slot = file_slot(r, *f);
    if (slot == r->n_files) {
        fclose(*f);
        *f = NULL;
        return er_errf(err, ER_EINTERNAL, "a stream closed that no output file holds");
    }
    const char *name = r->files[slot];
    int fd = r->stream_fd[slot];
    er_err herr;
    /* the last bytes out and hashed (a write error is reported here) */
    er_status hst = er_hashfile_finish(r->hf[slot], *f, &r->bytes[slot], r->sha256[slot], &herr);
    bool bad = hst != ER_OK;
    /* The fd stays open for the fsync in publish: the same open file
     * description, so a write-back error is reported there. Without a spare
     * descriptor, the fsync happens now. */
    int keep = bad ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (!bad && keep < 0 && fsync(fd) != 0) {
        bad = true;
        snprintf(herr.msg, sizeof herr.msg, "%s", strerror(errno));
    }
#ifdef SYNC_FILE_RANGE_WRITE
    if (keep >= 0)
        sync_file_range(keep, 0, 0, SYNC_FILE_RANGE_WRITE);   /* a hint: the fsync checks */
#endif
    if (fclose(*f) != 0 && !bad) {
        bad = true;
        snprintf(herr.msg, sizeof herr.msg, "%s", strerror(errno));
    }
    *f = NULL;
    r->stream[slot] = NULL;
    r->hf[slot] = NULL;
    r->stream_fd[slot] = -1;
    if (bad) {
        if (keep >= 0)
            close(keep);
        if (hst == ER_ENOMEM)
            return er_errf(err, ER_ENOMEM, "%s/%s/%s: out of memory hashing it", r->parent, r->stage, name);
        return er_errf(err, ER_EIO, "%s/%s/%s: write failed: %s", r->parent, r->stage, name, herr.msg);
    }
    if (keep >= 0)
        r->unsynced[slot] = keep;
    return ER_OK;
}

/* fsync every closed file that waits for it, in creation order. */
static er_status sync_files(er_runout *r, er_err *err)
{
    for (size_t i = 0; i < r->n_files; i++) {
        int fd = r->unsynced[i];
        if (fd < 0)
            continue;
        int rc = fsync(fd), e = errno;
        close(fd);
        r->unsynced[i] = -1;
        if (rc != 0)
            return er_errf(err, ER_EIO, "%s/%s/%s: fsync: %s", r->parent, r->stage, r->files[i], strerror(e));
    }
    return ER_OK;
}

er_status er_runout_manifest(er_runout *r, er_sb *b, er_err *err)
{
    er_sb_puts(b, "\"files\": [");
    for (size_t i = 0; i < r->n_files; i++) {
        if (r->stream[i])
            return er_errf(err, ER_EINTERNAL, "%s: listed in the manifest before it is closed", r->files[i]);
        er_sb_printf(b, "%s\n    {\"name\": ", i ? "," : "");
        er_sb_json_cstr(b, r->files[i]);
        er_sb_printf(b, ", \"bytes\": %llu, \"sha256\": \"%s\"}", r->bytes[i], r->sha256[i]);
    }
    er_sb_puts(b, "\n  ]");
    return ER_OK;
}

er_status er_runout_publish(er_runout *r, er_err *err)
{
    er_status st = sync_files(r, err);
    if (st != ER_OK)
        return st;
    if (fchmod(r->stage_fd, 0755) != 0 || fsync(r->stage_fd) != 0)
        return er_errf(err, ER_EIO, "%s/%s: fsync: %s", r->parent, r->stage, strerror(errno));
    /* Swap the new set in: an existing --out is exchanged in one step, a new one appears in one step. */
    int rc = renameat2(r->parent_fd, r->stage, r->parent_fd, r->base, RENAME_EXCHANGE);
    if (rc != 0 && errno == ENOENT)
        rc = renameat2(r->parent_fd, r->stage, r->parent_fd, r->base, RENAME_NOREPLACE);
    if (rc != 0) {
        int e = errno;
        return er_errf(err, e == EINVAL ? ER_ECREATE : ER_EIO,
                       "%s: cannot publish the new output set (atomic directory exchange): %s", r->dir, strerror(e));
    }
    r->published = true;
    if (fsync(r->parent_fd) != 0)
        return er_errf(err, ER_EIO, "%s: fsync: %s", r->parent, strerror(errno));
    /* The previous set now sits under the staging name. */
    remove_set(r->parent_fd, r->stage);
    return ER_OK;
}

void er_runout_end(er_runout *r)
{
    for (size_t i = 0; i < ER_RUNOUT_MAX_FILES; i++)
        if (r->unsynced[i] >= 0)
            close(r->unsynced[i]);
    if (r->stage_fd >= 0)
        close(r->stage_fd);
    if (!r->published && r->stage[0] && r->parent_fd >= 0)
        remove_set(r->parent_fd, r->stage);
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    if (r->parent_fd >= 0)
        close(r->parent_fd);
    er_runout_init(r);
}
