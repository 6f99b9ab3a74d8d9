/*
 * source.c — byte sources for feeds: files, stdin and URLs (libcurl multi
 * interface, pulled on demand with back-pressure through CURL_WRITEFUNC_PAUSE
 * so at most ~1 MiB is buffered), with transparent gzip detected by magic
 * bytes, and the shared read buffer (rbuf) the readers scan. Gzip is inflated
 * by ISA-L (igzip: about 2.5 times zlib's speed, the same checks of the CRC
 * and length of every member), on a thread of its own for a file or stdin,
 * GZ_SLOTS chunks ahead of the reader (docs/operations.md).
 */
#include "source.h"
#include "core/grow.h"
#include "core/curl_api.h"
#include "core/loopback.h"
#include "ecorisk/version.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

#define RAW_CHUNK   (256u * 1024u)   /* compressed input buffer for inflate */
#define NET_PENDING (1u << 20)       /* pause the transfer above this backlog */
#define GZ_CHUNK    (1u << 20)       /* inflated bytes handed over at a time */
#define GZ_SLOTS    4                /* chunks inflated ahead of the reader */
/* A chunk's bytes sit at GZ_PREFIX into its buffer: the room in front holds
 * the unread tail of the chunk before when it is lent (src_lend). */
#define GZ_PREFIX   SRC_LEND_TAIL

/* Inflate thread and its ring of chunks: the thread fills slot tail % GZ_SLOTS,
 * the reader drains slot head % GZ_SLOTS (copied out, or lent whole); an
 * error or the end of the stream follows the last chunk filled before it. */
typedef struct gz_pipe {
    pthread_t       th;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    char           *buf[GZ_SLOTS];
    size_t          len[GZ_SLOTS];
    unsigned        head, tail;
    size_t          off;          /* read offset in the head slot */
    bool            done, stop;   /* thread finished (st, err final) / asked to stop */
    er_status       st;
    er_err          err;
    uint64_t        raw_bytes;    /* compressed bytes behind the chunks filled */
} gz_pipe;

typedef enum { K_FD, K_URL } src_kind;

struct er_src {
    char      swap_a, swap_b; /* src_swap: bytes exchanged in everything read */
    src_kind  kind;
    char     *name;
    int       fd;
    bool      own_fd;
    uint64_t  size;
    uint64_t  size_hint;  /* bytes it will probably give (src_size_hint) */
    uint64_t  raw_bytes;
    /* URL */
    CURL     *easy;
    CURLM    *multi;
    char     *pend;          /* bytes received, not yet consumed */
    size_t    pend_len, pend_off, pend_cap;
    bool      paused, done;
    CURLcode  result;
    char      curl_err[CURL_ERROR_SIZE];
    /* peeked raw bytes (magic sniffing) and gzip */
    unsigned char *raw;      /* peek, then inflate input: raw_cap bytes */
    size_t         raw_cap;  /* RAW_CHUNK, or less for a smaller regular file */
    size_t    raw_len, raw_off;
    bool      raw_eof;
    bool      gzip;
    bool      z_end;          /* the current gzip member ended */
    struct inflate_state *z;  /* inflate state (gzip only) */
    char     *pre;            /* peeked decompressed bytes, served first */
    size_t    pre_len, pre_off;
    gz_pipe  *gp;             /* inflate thread (gzip files and stdin), once started */
    bool      gp_failed;      /* no thread could be started: inflate inline */
};

bool src_is_url(const char *source)
{
    return strncmp(source, "http://", 7) == 0 || strncmp(source, "https://", 8) == 0 ||
           strncmp(source, "sftp://", 7) == 0;
}

bool src_is_gzip(const er_src *s) { return s->gzip; }
uint64_t src_raw_bytes(const er_src *s)
{
    if (!s->gp)
        return s->raw_bytes;
    pthread_mutex_lock(&s->gp->mu);
    uint64_t n = s->gp->raw_bytes;
    pthread_mutex_unlock(&s->gp->mu);
    return n;
}
uint64_t src_size(const er_src *s) { return s->size; }
uint64_t src_size_hint(const er_src *s) { return s->size_hint; }

/* ---- libcurl ---- */

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    er_src *s = ud;
    size_t n = size * nmemb;
    if (s->pend_off == s->pend_len)
        s->pend_off = s->pend_len = 0;
    if (s->pend_len - s->pend_off + n > NET_PENDING && s->pend_len > s->pend_off) {
        s->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (s->pend_len + n > s->pend_cap) {
        if (s->pend_off) {
            memmove(s->pend, s->pend + s->pend_off, s->pend_len - s->pend_off);
            s->pend_len -= s->pend_off;
            s->pend_off = 0;
        }
        if (s->pend_len + n > s->pend_cap) {
            size_t nc = s->pend_cap ? s->pend_cap : 64 * 1024;
            while (nc < s->pend_len + n)
                nc *= 2;
            char *np = realloc(s->pend, nc);
            if (!np)
                return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
            s->pend = np;
            s->pend_cap = nc;
        }
    }
    memcpy(s->pend + s->pend_len, p, n);
    s->pend_len += n;
    return n;
}

static er_status net_error(er_src *s, er_err *err)
{
    if (s->result == CURLE_HTTP_RETURNED_ERROR) {
        long code = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        return er_errf(err, ER_EHTTP, "%s: HTTP status %ld", s->name, code);
    }
    return er_errf(err, ER_ENET, "%s: %s", s->name,
                   s->curl_err[0] ? s->curl_err : curl_easy_strerror(s->result));
}

/* Pull until some bytes are pending or the transfer is over. */
static er_status net_pump(er_src *s, er_err *err)
{
    while (s->pend_off == s->pend_len && !s->done) {
        if (s->paused) {
            s->paused = false;
            curl_easy_pause(s->easy, CURLPAUSE_CONT);
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK)
            return er_errf(err, ER_ENET, "%s: %s", s->name, curl_multi_strerror(mc));
        if (!running) {
            int left;
            CURLMsg *m;
            s->result = CURLE_OK;
            while ((m = curl_multi_info_read(s->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                    s->result = m->data.result;
            s->done = true;
            break;
        }
        if (s->pend_off < s->pend_len)
            break;
        mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            return er_errf(err, ER_ENET, "%s: %s", s->name, curl_multi_strerror(mc));
    }
    if (s->done && s->pend_off == s->pend_len && s->result != CURLE_OK)
        return net_error(s, err);
    return ER_OK;
}

/* Plain http:// is for loopback test servers only; real feeds use https. */
static bool loopback_http(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return true;
    const char *h = url + 7;
    const char *at = strpbrk(h, "@/");
    if (at && *at == '@')
        h = at + 1;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
    return er_host_is_loopback(h, n);
}

static er_status url_open(er_src *s, const src_opts *o, er_err *err)
{
    if (!loopback_http(s->name))
        return er_errf(err, ER_EINVAL, "%s: plain http is only accepted for loopback test servers; "
                       "use https://", s->name);
    er_err lerr;
    er_status lst = er_curl_load(&lerr);
    if (lst != ER_OK)
        return er_errf(err, lst, "%s: %s", s->name, lerr.msg);
    s->easy = curl_easy_init();
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi)
        return er_errf(err, ER_ENOMEM, "%s: out of memory initialising libcurl", s->name);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->name);
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https,sftp");
    curl_easy_setopt(s->easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(s->easy, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(s->easy, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "ecorisk/" ECORISK_VERSION);
    curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->curl_err);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    if (o && o->cacert)
        curl_easy_setopt(s->easy, CURLOPT_CAINFO, o->cacert);
    if (o && o->max_time_s > 0)
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, o->max_time_s);
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
        return er_errf(err, ER_ENET, "%s: cannot start the transfer", s->name);
    return ER_OK;
}

/* ---- raw reads (before gzip) ---- */

static er_status raw_read(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    *n = 0;
    if (s->kind == K_FD) {
        for (;;) {
            ssize_t r = read(s->fd, buf, cap);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return er_errf(err, ER_EIO, "%s: read failed: %s", s->name, strerror(errno));
            *n = (size_t)r;
            break;
        }
    } else {
        er_status st = net_pump(s, err);
        if (st != ER_OK)
            return st;
        size_t avail = s->pend_len - s->pend_off;
        *n = avail < cap ? avail : cap;
        memcpy(buf, s->pend + s->pend_off, *n);
        s->pend_off += *n;
    }
    s->raw_bytes += *n;
    return ER_OK;
}

/* Refill s->raw (compressed side) when it is empty. */
static er_status raw_refill(er_src *s, er_err *err)
{
    if (s->raw_off < s->raw_len || s->raw_eof)
        return ER_OK;
    size_t n;
    er_status st = raw_read(s, (char *)s->raw, s->raw_cap, &n, err);
    if (st != ER_OK)
        return st;
    s->raw_off = 0;
    s->raw_len = n;
    if (n == 0)
        s->raw_eof = true;
    return ER_OK;
}

er_status src_open(er_src **out, const char *source, const src_opts *o, er_err *err)
{
    er_status st = ER_OK;
    *out = NULL;
    er_src *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(source))) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory", source);
        goto cleanup;
    }
    s->fd = -1;
    if (src_is_url(source)) {
        s->kind = K_URL;
        st = url_open(s, o, err);
        if (st != ER_OK)
            goto cleanup;
    } else if (strcmp(source, "-") == 0) {
        s->kind = K_FD;
        s->fd = STDIN_FILENO;
    } else {
        s->kind = K_FD;
        s->fd = open(source, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            st = er_errf(err, errno == ENOENT ? ER_ENOTFOUND : ER_EIO, "%s: cannot open: %s",
                         source, strerror(errno));
            goto cleanup;
        }
        s->own_fd = true;
        struct stat sb;
        if (fstat(s->fd, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                st = er_errf(err, ER_EIO, "%s: is a directory", source);
                goto cleanup;
            }
            if (S_ISREG(sb.st_mode))
                s->size = (uint64_t)sb.st_size;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    s->raw_cap = s->size && s->size < RAW_CHUNK ? (size_t)s->size + 1 : RAW_CHUNK;
    if (!(s->raw = malloc(s->raw_cap))) {
        st = er_errf(err, ER_ENOMEM, "%s: out of memory", source);
        goto cleanup;
    }
    /* Peek: read until we have 2 bytes or EOF, to sniff the gzip magic. */
    while (s->raw_len < 2 && !s->raw_eof) {
        size_t n;
        st = raw_read(s, (char *)s->raw + s->raw_len, s->raw_cap - s->raw_len, &n, err);
        if (st != ER_OK)
            goto cleanup;
        if (n == 0)
            s->raw_eof = true;
        s->raw_len += n;
    }
    if (s->raw_len >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b) {
        s->gzip = true;
        if (!(s->z = malloc(sizeof *s->z))) {
            st = er_errf(err, ER_ENOMEM, "%s: out of memory", source);
            goto cleanup;
        }
        isal_inflate_init(s->z);
        s->z->crc_flag = ISAL_GZIP;   /* header, then CRC-32 and length checked at the member's end */
    }
    s->size_hint = s->size;
    if (s->gzip && s->size >= 18) {
        /* a gzip file ends with its last member's length mod 2^32 (RFC 1952):
         * the whole file's for the usual single member, a floor otherwise */
        unsigned char t[4];
        if (pread(s->fd, t, 4, (off_t)(s->size - 4)) == 4) {
            uint64_t isize = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
            if (isize > s->size_hint)
                s->size_hint = isize;
        }
    }
    *out = s;
    s = NULL;
cleanup:
    src_free(s);
    return st;
}

static void gz_pipe_stop(er_src *s);

void src_free(er_src *s)
{
    if (!s)
        return;
    gz_pipe_stop(s);
    free(s->z);
    if (s->multi) {
        if (s->easy)
            curl_multi_remove_handle(s->multi, s->easy);
        curl_multi_cleanup(s->multi);
    }
    if (s->easy)
        curl_easy_cleanup(s->easy);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->pend);
    free(s->pre);
    free(s->raw);
    free(s->name);
    free(s);
}

static const char *isal_msg(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:       return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:    return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:     return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:  return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:  return "incorrect data check (CRC-32 or length)";
    default:                       return "inflate failed";
    }
}

static er_status gz_read(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    *n = 0;
    while (*n == 0) {
        er_status st = raw_refill(s, err);
        if (st != ER_OK)
            return st;
        if (s->z_end) {
            /* Between members: more data must be another gzip member. */
            if (s->raw_off == s->raw_len && s->raw_eof)
                return ER_OK;
            if (s->raw[s->raw_off] != 0x1f)
                return er_errf(err, ER_EPARSE, "%s: trailing garbage after the gzip stream "
                               "(byte offset %llu)", s->name,
                               (unsigned long long)(s->raw_bytes - (s->raw_len - s->raw_off)));
            isal_inflate_reset(s->z);
            s->z->crc_flag = ISAL_GZIP;
            s->z_end = false;
        }
        if (s->raw_off == s->raw_len && s->raw_eof)
            return er_errf(err, ER_EPARSE, "%s: gzip stream truncated (unexpected end of input)",
                           s->name);
        s->z->next_in = s->raw + s->raw_off;
        s->z->avail_in = (uint32_t)(s->raw_len - s->raw_off);
        s->z->next_out = (uint8_t *)buf;
        s->z->avail_out = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
        int zr = isal_inflate(s->z);
        s->raw_off = s->raw_len - s->z->avail_in;
        *n = (size_t)((char *)s->z->next_out - buf);
        if (zr < 0)
            return er_errf(err, ER_EPARSE, "%s: corrupt gzip stream: %s", s->name, isal_msg(zr));
        /* else all input is taken (kept inside when short) or the output is full */
        if (s->z->block_state == ISAL_BLOCK_FINISH)
            s->z_end = true;
    }
    return ER_OK;
}

/* ---- inflate thread ---- */

static void *gz_main(void *arg)
{
    er_src *s = arg;
    gz_pipe *g = s->gp;
    er_status st = ER_OK;
    er_err err = {{0}};
    bool eof = false;
    while (!eof && st == ER_OK) {
        pthread_mutex_lock(&g->mu);
        while (g->tail - g->head == GZ_SLOTS && !g->stop)
            pthread_cond_wait(&g->cv, &g->mu);
        bool stop = g->stop;
        pthread_mutex_unlock(&g->mu);
        if (stop)
            break;
        unsigned slot = g->tail % GZ_SLOTS;
        size_t len = 0;
        while (len < GZ_CHUNK) {
            size_t k = 0;
            /* bytes of a failing inflate call are dropped, as when reading inline */
            if ((st = gz_read(s, g->buf[slot] + GZ_PREFIX + len, GZ_CHUNK - len, &k, &err)) != ER_OK)
                break;
            if (k == 0) {
                eof = true;
                break;
            }
            len += k;
        }
        pthread_mutex_lock(&g->mu);
        g->len[slot] = len;
        if (len)
            g->tail++;
        g->raw_bytes = s->raw_bytes;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
    }
    pthread_mutex_lock(&g->mu);
    g->st = st;
    g->err = err;
    g->done = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* False when no thread (or its buffers) could be had: the caller inflates inline. */
static bool gz_pipe_start(er_src *s)
{
    gz_pipe *g = calloc(1, sizeof *g);
    if (!g)
        return false;
    for (int i = 0; i < GZ_SLOTS; i++)
        if (!(g->buf[i] = malloc(GZ_PREFIX + GZ_CHUNK + RBUF_SLACK))) {
            for (int j = 0; j < i; j++) free(g->buf[j]);
            free(g);
            return false;
        }
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    s->gp = g;
    if (pthread_create(&g->th, NULL, gz_main, s) != 0) {
        s->gp = NULL;
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        for (int i = 0; i < GZ_SLOTS; i++) free(g->buf[i]);
        free(g);
        return false;
    }
    return true;
}

static void gz_pipe_stop(er_src *s)
{
    gz_pipe *g = s->gp;
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    for (int i = 0; i < GZ_SLOTS; i++)
        free(g->buf[i]);
    free(g);
    s->gp = NULL;
}

/* Waits until slot `want` is filled or the thread is done: whether it is
 * (else *st is the thread's final status, err filled on an error). */
static bool gz_pipe_wait(gz_pipe *g, unsigned want, er_status *st, er_err *err)
{
    pthread_mutex_lock(&g->mu);
    while (g->tail == want && !g->done)
        pthread_cond_wait(&g->cv, &g->mu);
    bool have = g->tail != want;
    *st = g->st;
    if (!have && *st != ER_OK && err)
        *err = g->err;
    pthread_mutex_unlock(&g->mu);
    return have;
}

/* The head chunk, read to its end, goes back to the thread. */
static void gz_pipe_release(gz_pipe *g)
{
    pthread_mutex_lock(&g->mu);
    g->head++;
    g->off = 0;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* The next inflated bytes from the thread (same results as gz_read). */
static er_status gz_pipe_read(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    gz_pipe *g = s->gp;
    er_status st;
    *n = 0;
    if (!gz_pipe_wait(g, g->head, &st, err))
        return st;   /* ER_OK: end of input */
    /* the head slot is the reader's until head moves on */
    unsigned slot = g->head % GZ_SLOTS;
    size_t k = g->len[slot] - g->off;
    if (k > cap)
        k = cap;
    memcpy(buf, g->buf[slot] + GZ_PREFIX + g->off, k);
    g->off += k;
    *n = k;
    if (g->off == g->len[slot])
        gz_pipe_release(g);
    return ER_OK;
}

static void swap_bytes(const er_src *s, char *buf, size_t n);

bool src_lends(const er_src *s) { return s && s->gp && s->pre_off >= s->pre_len; }

er_status src_lend(er_src *s, bool held, const char *tail, size_t k, char **buf, size_t *n, er_err *err)
{
    gz_pipe *g = s->gp;
    er_status st;
    *n = 0;
    /* a held chunk is the head; the next one follows it */
    unsigned want = g->head + (held ? 1u : 0u);
    if (!gz_pipe_wait(g, want, &st, err))
        return st;   /* ER_OK: the end of input */
    unsigned slot = want % GZ_SLOTS;
    size_t off = held ? 0 : g->off;
    char *data = g->buf[slot] + GZ_PREFIX + off;
    size_t len = g->len[slot] - off;
    if (k)
        memcpy(data - k, tail, k);   /* another slot than tail's: GZ_SLOTS > 1 */
    if (held)
        gz_pipe_release(g);
    g->off = g->len[slot];   /* the head, handed over whole; released by the next lend or unlend */
    if (s->swap_a)
        swap_bytes(s, data, len);
    *buf = data - k;
    *n = k + len;
    return ER_OK;
}

void src_unlend(er_src *s)
{
    if (s->gp)
        gz_pipe_release(s->gp);
}

static er_status src_read_inner(er_src *s, char *buf, size_t cap, size_t *n, er_err *err);

er_status src_peek(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    size_t got = 0;
    while (got < cap) {
        size_t k;
        er_status st = src_read_inner(s, buf + got, cap - got, &k, err);
        if (st != ER_OK)
            return st;
        if (k == 0)
            break;
        got += k;
    }
    free(s->pre);
    s->pre = malloc(got ? got : 1);
    if (!s->pre)
        return er_errf(err, ER_ENOMEM, "out of memory");
    memcpy(s->pre, buf, got);
    s->pre_len = got;
    s->pre_off = 0;
    *n = got;
    return ER_OK;
}

static void swap_bytes(const er_src *s, char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] == s->swap_a)
            buf[i] = s->swap_b;
        else if (buf[i] == s->swap_b)
            buf[i] = s->swap_a;
}

void src_swap(er_src *s, char a, char b)
{
    s->swap_a = a;
    s->swap_b = b;
}

er_status src_read(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    er_status st = ER_OK;
    if (s->pre_off < s->pre_len) {
        size_t k = s->pre_len - s->pre_off;
        if (k > cap)
            k = cap;
        memcpy(buf, s->pre + s->pre_off, k);
        s->pre_off += k;
        *n = k;
    } else {
        st = src_read_inner(s, buf, cap, n, err);
    }
    if (st == ER_OK && s->swap_a)
        swap_bytes(s, buf, *n);
    return st;
}

static er_status src_read_inner(er_src *s, char *buf, size_t cap, size_t *n, er_err *err)
{
    if (s->gzip) {
        /* files and stdin: inflate ahead on a thread (URLs stay on the reader's,
         * which owns the transfer's back-pressure) */
        if (!s->gp && s->kind == K_FD && !s->gp_failed)
            s->gp_failed = !gz_pipe_start(s);
        return s->gp ? gz_pipe_read(s, buf, cap, n, err) : gz_read(s, buf, cap, n, err);
    }
    /* Serve peeked bytes first. */
    if (s->raw_off < s->raw_len) {
        size_t k = s->raw_len - s->raw_off;
        if (k > cap)
            k = cap;
        memcpy(buf, s->raw + s->raw_off, k);
        s->raw_off += k;
        *n = k;
        return ER_OK;
    }
    if (s->raw_eof) {
        *n = 0;
        return ER_OK;
    }
    er_status st = raw_read(s, buf, cap, n, err);
    if (st == ER_OK && *n == 0)
        s->raw_eof = true;
    return st;
}

/* ---- rbuf ---- */

/* The buffer starts small (a short feed, a fuzz input, a test fixture costs
 * no more than its size) and doubles in rbuf_fill only when a record does not
 * fit, up to max. */
#define RBUF_INITIAL (256u * 1024u)

er_status rbuf_init(rbuf *r, er_src *src, size_t max, er_err *err)
{
    memset(r, 0, sizeof *r);
    r->src = src;
    size_t cap = max < RBUF_INITIAL ? max : RBUF_INITIAL;
    uint64_t size = src_is_gzip(src) ? 0 : src_size(src);
    if (size && size < cap)
        cap = size < 4096 ? 4096 : (size_t)size + 1;
    r->buf = malloc(cap + RBUF_SLACK);
    if (!r->buf)
        return er_errf(err, ER_ENOMEM, "out of memory allocating a %zu-byte read buffer", cap);
    memset(r->buf + cap, 0, RBUF_SLACK);
    r->cap = cap;
    r->max = max;
    return ER_OK;
}

void rbuf_free(rbuf *r)
{
    /* a lent chunk is the source's (freed with it) */
    free(r->lent ? r->own : r->buf);
    r->buf = r->own = NULL;
    r->lent = false;
}

/* From a lent chunk back to the rbuf's own buffer, [pos,end) moved to its front. */
static er_status unlend(rbuf *r, er_err *err)
{
    size_t k = r->end - r->pos;
    if (k > r->own_cap) {
        char *nb = realloc(r->own, k + RBUF_SLACK);
        if (!nb)
            return er_errf(err, ER_ENOMEM, "out of memory growing the read buffer to %zu bytes", k);
        r->own = nb;
        r->own_cap = k;
    }
    memcpy(r->own, r->buf + r->pos, k);
    src_unlend(r->src);
    r->buf = r->own;
    r->cap = r->own_cap;
    r->own = NULL;
    r->lent = false;
    r->consumed += r->pos;
    r->pos = 0;
    r->end = k;
    return ER_OK;
}

/* With an inflate thread: the next chunk lent in place (src_lend), the unread
 * tail copied in front of it, instead of copied into buf; the tail copy is
 * all that is copied. */
static er_status fill_lent(rbuf *r, er_err *err)
{
    char *nb;
    size_t n, k = r->end - r->pos;
    er_status st = src_lend(r->src, r->lent, r->buf + r->pos, k, &nb, &n, err);
    if (st != ER_OK)
        return st;
    if (n == 0) {
        r->eof = true;
        return ER_OK;
    }
    if (!r->lent) {
        r->own = r->buf;
        r->own_cap = r->cap;
        r->lent = true;
    }
    r->consumed += r->pos;
    r->buf = nb;
    r->cap = n;
    r->pos = 0;
    r->end = n;
    memset(r->buf + r->end, 0, RBUF_SLACK);
    return ER_OK;
}

er_status rbuf_fill(rbuf *r, er_err *err)
{
    if (r->eof)
        return ER_OK;
    er_status st;
    if (src_lends(r->src) && r->end - r->pos <= SRC_LEND_TAIL)
        return fill_lent(r, err);
    if (r->lent && (st = unlend(r, err)) != ER_OK)
        return st;
    if (r->pos > 0) {
        size_t k = r->end - r->pos;
        memmove(r->buf, r->buf + r->pos, k);
        r->consumed += r->pos;
        r->pos = 0;
        r->end = k;
    }
    if (r->end == r->cap && r->cap < r->max) {
        size_t nc = r->cap > r->max / 2 ? r->max : r->cap * 2;
        char *nb = realloc(r->buf, nc + RBUF_SLACK);
        if (!nb)
            return er_errf(err, ER_ENOMEM, "out of memory growing the read buffer to %zu bytes", nc);
        r->buf = nb;
        r->cap = nc;
    }
    while (r->end < r->cap) {
        size_t n;
        st = src_read(r->src, r->buf + r->end, r->cap - r->end, &n, err);
        if (st != ER_OK)
            return st;
        if (n == 0) {
            r->eof = true;
            break;
        }
        r->end += n;
        /* One successful read is enough unless it was tiny. */
        if (r->end - r->pos >= 65536 || r->end == r->cap)
            break;
    }
    memset(r->buf + r->end, 0, RBUF_SLACK);
    return ER_OK;
}

er_status rbuf_skip_bom(rbuf *r, er_err *err)
{
    while (r->end - r->pos < 3 && !r->eof) {
        er_status st = rbuf_fill(r, err);
        if (st != ER_OK)
            return st;
    }
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
    return ER_OK;
}

er_status rbuf_begin(rbuf *r, bool *started, bool *skip_nl, uint64_t *line, er_err *err)
{
    er_status st;
    if (!*started) {
        if ((st = rbuf_skip_bom(r, err)) != ER_OK)
            return st;
        *started = true;
    }
    if (*skip_nl) {
        *skip_nl = false;
        if ((st = rbuf_skip_line(r, line, err)) != ER_OK)
            return st;
    }
    return ER_OK;
}

er_status rbuf_skip_line(rbuf *r, uint64_t *line, er_err *err)
{
    for (;;) {
        const char *nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            (*line)++;
            return ER_OK;
        }
        r->pos = r->end;
        if (r->eof)
            return ER_OK;
        er_status st = rbuf_fill(r, err);
        if (st != ER_OK)
            return st;
    }
}

/* ---- cuts (source.h) ---- */

void rcut_reset(rcut *o, uint64_t line0)
{
    o->len = o->n_rec = o->n_bad = o->xlen = 0;
    o->line0 = line0;
}

bool rcut_put(rcut *o, const char *p, size_t n)
{
    if (!er_grow((void **)&o->buf, &o->cap, o->len + n + RBUF_SLACK, 1))
        return false;
    if (n)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
    return true;
}

static bool xput(rcut *o, const char *p, size_t n, size_t *off)
{
    if (!er_grow((void **)&o->xbuf, &o->xcap, o->xlen + n + 1, 1))
        return false;
    *off = o->xlen;
    if (n)
        memcpy(o->xbuf + o->xlen, p, n);
    o->xbuf[o->xlen + n] = '\0';
    o->xlen += n + 1;
    return true;
}

bool rcut_add_bad(rcut *o, int kind, const char *msg, uint64_t line, uint64_t err_line, const char *raw,
                  size_t raw_len)
{
    if (!er_grow((void **)&o->bad, &o->cap_bad, o->n_bad + 1, sizeof *o->bad))
        return false;
    rcut_bad *b = &o->bad[o->n_bad];
    b->at = o->len;
    b->kind = kind;
    b->line = line;
    b->err_line = err_line;
    b->resume_line = line;
    b->raw_len = raw_len < RCUT_RAW_MAX ? raw_len : RCUT_RAW_MAX;
    if (!xput(o, msg ? msg : "", msg ? strlen(msg) : 0, &b->msg_off) ||
        !xput(o, raw, raw ? b->raw_len : 0, &b->raw_off))
        return false;
    if (!raw)
        b->raw_len = 0;
    o->n_bad++;
    return true;
}

bool rcut_finish(rcut *o)
{
    if (!rcut_put(o, NULL, 0))
        return false;
    memset(o->buf + o->len, 0, RBUF_SLACK);
    return true;
}

void rcut_free(rcut *o)
{
    free(o->buf);
    free(o->bad);
    free(o->xbuf);
    memset(o, 0, sizeof *o);
}

void rbuf_mem(rbuf *r, rcut *o)
{
    memset(r, 0, sizeof *r);
    r->buf = o->buf;
    r->cap = r->end = r->max = o->len;
    r->eof = true;
}

er_status rcut_next(const rcut_reader *rr, rcut *o, size_t max_records, size_t max_bytes, er_err *err)
{
    rbuf *r = rr->r;
    er_status st;
    if ((st = rbuf_begin(r, rr->started, rr->skip_nl, rr->line, err)) != ER_OK)
        return st;
    rcut_reset(o, *rr->line);
    size_t run = r->pos;   /* start of the bytes read but not copied yet */
    while (o->n_rec < max_records && o->len + (r->pos - run) < max_bytes) {
        if (rr->bulk) {
            rr->bulk(rr->rd, &o->n_rec, max_records);
            if (o->n_rec == max_records)
                break;
        }
        const char *p = r->buf + r->pos, *e = r->buf + r->end;
        const char *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;
        if (!nl && !r->eof && (size_t)(e - p) <= rr->max_record) {
            if (!rcut_put(o, r->buf + run, r->pos - run))
                goto nomem;
            if ((st = rbuf_fill(r, err)) != ER_OK)
                return st;
            run = r->pos;
            continue;
        }
        if (p == e)
            break;   /* the end of the input */
        const char *le = nl ? nl : e, *lend = le;
        if (lend > p && lend[-1] == '\r')
            lend--;
        if (nl || r->eof) {
            bool blank = lend == p;
            if (blank || ((size_t)(le - p) <= rr->max_record && rr->whole(p, le))) {
                /* copied with the run; blank lines counted here */
                *rr->blank += blank;
                o->n_rec += !blank;
                r->pos = (size_t)((nl ? nl + 1 : e) - r->buf);
                *rr->line += nl != NULL;
                continue;
            }
        }
        /* the parser itself finds where the record ends */
        if (!rcut_put(o, r->buf + run, r->pos - run))
            goto nomem;
        run = r->pos;
        const char *start = NULL;
        if ((st = rr->record(rr->rd, o, &start, err)) == ER_EOF)
            break;
        if (st != ER_OK)
            return st;
        o->n_rec++;
        if (start) {   /* its bytes stay with the run */
            run = (size_t)(start - r->buf);
            continue;
        }
        if ((st = rbuf_begin(r, rr->started, rr->skip_nl, rr->line, err)) != ER_OK)
            return st;
        o->bad[o->n_bad - 1].resume_line = *rr->line;
        run = r->pos;
    }
    if (!rcut_put(o, r->buf + run, r->pos - run) || !rcut_finish(o))
        goto nomem;
    return o->n_rec ? ER_OK : ER_EOF;
nomem:
    return er_errf(err, ER_ENOMEM, "out of memory cutting records");
}
