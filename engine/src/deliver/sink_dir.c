/*
 * sink_dir.c — the directory row of the sink table (sink.h), for an
 * air-gapped hand-over (docs/operations.md#push): each batch is written as
 * DIR/<batch name> ("<64 hex>.json", the outbox's content hash) through
 * core/durable.c: a temporary file in DIR created exclusively, written,
 * fsynced, renamed over the final name, DIR fsynced. A batch delivered again
 * (a push killed between the write and the outbox's move to sent/) rewrites
 * the same name with the same bytes: the hand-over directory holds each
 * batch once, whole. Names starting with '.' are temporary files; readers
 * of DIR take "*.json" only. Destinations: "dir:PATH" or "file://PATH".
 */
#include "deliver/sink.h"
#include "core/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dir_sink {
    int  fd;               /* the directory */
    char path[4096];
} dir_sink;

static const char *dir_path(const char *dest)
{
    if (strncmp(dest, "dir:", 4) == 0)
        return dest + 4;
    if (strncmp(dest, "file://", 7) == 0)
        return dest + 7;
    return NULL;
}

bool er_sink_dir_claims(const char *dest) { return dir_path(dest) != NULL; }

er_status er_sink_dir_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                           er_err *err)
{
    (void)o;
    *state = NULL;
    const char *path = dir_path(dest);
    if (!path || !*path)
        return er_errf(err, ER_EINVAL, "destination '%s': no directory after the prefix", dest);
    if (strlen(path) >= sizeof ((dir_sink *)0)->path)
        return er_errf(err, ER_EINVAL, "destination '%s': path too long", dest);
    dir_sink *d = calloc(1, sizeof *d);
    if (!d)
        return er_errf(err, ER_ENOMEM, "out of memory");
    snprintf(d->path, sizeof d->path, "%s", path);
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        er_status st = er_errf(err, ER_EIO, "%s: cannot create the hand-over directory: %s", path,
                               strerror(errno));
        free(d);
        return st;
    }
    d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0) {
        er_status st = er_errf(err, ER_EIO, "%s: cannot open the hand-over directory: %s", path,
                               strerror(errno));
        free(d);
        return st;
    }
    snprintf(pub, cap, "dir:%s", path);
    *state = d;
    return ER_OK;
}

void er_sink_dir_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err)
{
    dir_sink *d = state;
    char tmp[96];
    const char *step = NULL;
    snprintf(tmp, sizeof tmp, ".%.70s.tmp", b->name);
    /* a temporary file left by a killed push: ours (the outbox lock is held) */
    unlinkat(d->fd, tmp, 0);
    if (er_durable_replace(d->fd, tmp, d->fd, b->name, b->body, b->len, 0640, NULL, &step) == 0) {
        r->result = ER_SINK_OK;
        snprintf(r->detail, sizeof r->detail, "written to %.200s/%s", d->path, b->name);
        return;
    }
    int e = errno;
    snprintf(r->detail, sizeof r->detail, "%.160s/%s: %s: %s", d->path, b->name, step ? step : "write",
             strerror(e));
    if (e == EACCES || e == EPERM || e == EROFS || e == ENOTDIR || e == EEXIST || e == ELOOP) {
        /* the directory cannot take batches as it is: retrying cannot help */
        r->result = ER_SINK_STOP;
        r->st = er_errf(err, ER_EIO, "%s", r->detail);
        return;
    }
    r->result = ER_SINK_RETRY;   /* full disk, I/O error: may pass later */
}

void er_sink_dir_close(void *state)
{
    dir_sink *d = state;
    if (!d)
        return;
    close(d->fd);
    free(d);
}
