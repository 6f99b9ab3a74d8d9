/*
 * hashfile.c — the hashing stream of hashfile.h: a fopencookie stream whose
 * write function fills 1 MiB blocks; a full block goes to the stream's
 * thread (SHA-256 update, then write(2) to the end) while the other block
 * fills. Hash and write happen in the order of the bytes, one block at a
 * time, so the digest is that of the file's content.
 */
#define _GNU_SOURCE
#include "core/hashfile.h"
#include "core/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK ((size_t)1 << 20)

struct er_hashfile {
    int             fd;
    er_sha256      *sha;          /* NULL once final, or when it could not be made or updated */
    unsigned long long bytes;
    int             werr;         /* first write errno (0: none) */
    char           *blk[2];
    size_t          len[2];
    int             cur;          /* the block being filled */
    /* the thread: blk[q] queued while `queued` */
    bool            threaded, queued, stop;
    int             q;
    pthread_t       th;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            finished;
};

/* Hash, then write to the end; the first failure is kept and later bytes
 * still counted and hashed (the file is failed either way). */
static void emit(er_hashfile *h, const char *p, size_t n)
{
    h->bytes += n;
    if (h->sha && er_sha256_update(h->sha, p, n, NULL) != ER_OK) {
        er_sha256_free(h->sha);
        h->sha = NULL;
    }
    off_t at = (off_t)(h->bytes - n);
    size_t len = n;
    while (n && !h->werr) {
        ssize_t k = write(h->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            h->werr = k < 0 ? errno : EIO;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    /* the disk starts on these bytes now: the fsync at the end waits less (a hint) */
    if (!h->werr && len >= BLOCK)
        sync_file_range(h->fd, at, (off_t)len, SYNC_FILE_RANGE_WRITE);
#endif
}

static void *run(void *arg)
{
    er_hashfile *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->queued && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (!h->queued)
            break;
        int q = h->q;
        pthread_mutex_unlock(&h->mu);
        emit(h, h->blk[q], h->len[q]);   /* the caller fills the other block meanwhile */
        pthread_mutex_lock(&h->mu);
        h->len[q] = 0;
        h->queued = false;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Waits until the thread holds no block. */
static void idle(er_hashfile *h)
{
    if (!h->threaded)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->queued)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

/* The full current block: to the thread (started on first use), or inline. */
static void hand_off(er_hashfile *h)
{
    if (!h->threaded && !h->blk[1]) {
        h->blk[1] = malloc(BLOCK);
        if (h->blk[1] && pthread_create(&h->th, NULL, run, h) == 0) {
            h->threaded = true;
        } else {
            free(h->blk[1]);
            h->blk[1] = NULL;
        }
    }
    if (!h->threaded) {
        emit(h, h->blk[h->cur], h->len[h->cur]);
        h->len[h->cur] = 0;
        return;
    }
    idle(h);
    pthread_mutex_lock(&h->mu);
    h->q = h->cur;
    h->queued = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    h->cur = !h->cur;
}

static ssize_t hf_write(void *c, const char *p, size_t n)
{
    er_hashfile *h = c;
    size_t left = n;
    while (left) {
        char *b = h->blk[h->cur];
        if (!b) {   /* no block: straight through */
            idle(h);
            emit(h, p, left);
            break;
        }
        size_t k = BLOCK - h->len[h->cur];
        if (k > left)
            k = left;
        memcpy(b + h->len[h->cur], p, k);
        h->len[h->cur] += k;
        p += k;
        left -= k;
        if (h->len[h->cur] == BLOCK)
            hand_off(h);
    }
    return (ssize_t)n;   /* a write error is reported by er_hashfile_finish */
}

/* Everything written: the thread stopped, the last block out. */
static void drain(er_hashfile *h)
{
    if (h->finished)
        return;
    h->finished = true;
    idle(h);
    if (h->threaded) {
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->th, NULL);
        h->threaded = false;
    }
    if (h->blk[h->cur] && h->len[h->cur]) {
        emit(h, h->blk[h->cur], h->len[h->cur]);
        h->len[h->cur] = 0;
    }
}

static int hf_close(void *c)
{
    er_hashfile *h = c;
    drain(h);
    int rc = close(h->fd) != 0 || h->werr ? -1 : 0;
    er_sha256_free(h->sha);
    free(h->blk[0]);
    free(h->blk[1]);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
    return rc;
}

FILE *er_hashfile_open(int fd, er_hashfile **out)
{
    er_hashfile *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h)
        return NULL;
    h->fd = fd;
    h->blk[0] = malloc(BLOCK);   /* without it: every write inline */
    er_sha256_new(&h->sha, NULL);   /* NULL on failure: reported by er_hashfile_finish */
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    cookie_io_functions_t io = {.read = NULL, .write = hf_write, .seek = NULL, .close = hf_close};
    FILE *f = fopencookie(h, "w", io);
    if (!f) {
        int e = errno;
        er_sha256_free(h->sha);
        free(h->blk[0]);
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        errno = e;
        return NULL;
    }
    *out = h;
    return f;
}

er_status er_hashfile_finish(er_hashfile *h, FILE *f, unsigned long long *bytes, char hex[65], er_err *err)
{
    int bad = fflush(f) != 0 || ferror(f);
    drain(h);
    *bytes = h->bytes;
    if (h->werr)
        return er_errf(err, ER_EIO, "%s", strerror(h->werr));
    if (bad)
        return er_errf(err, ER_EIO, "%s", strerror(errno ? errno : EIO));
    if (!h->sha)
        return er_errf(err, ER_ENOMEM, "out of memory");
    er_status st = er_sha256_final(h->sha, hex, err);
    h->sha = NULL;   /* final (er_sha256_final frees it): no second digest */
    return st;
}
