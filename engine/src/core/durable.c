/*
 * durable.c — exclusive creation, full writes and tmp+fsync+rename+directory
 * fsync (durable.h). The one implementation of "a file is either absent or
 * complete under its final name" in the library.
 */
#include "core/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int er_durable_create(int dirfd, const char *name, mode_t mode)
{
    return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

int er_durable_write_all(int fd, const void *data, size_t len, er_durable_fault fault)
{
    const char *p = data;
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off > (1u << 20) ? (1u << 20) : len - off;
        ssize_t w = fault && fault() ? -1 : write(fd, p + off, chunk);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

int er_durable_replace(int tmp_dirfd, const char *tmpname, int dst_dirfd, const char *final,
                       const void *data, size_t len, mode_t mode, er_durable_fault fault,
                       const char **step)
{
    int rc = -1, fd = -1, e = 0;
    bool created = false;

    *step = "create";
    fd = fault && fault() ? -1 : er_durable_create(tmp_dirfd, tmpname, mode);
    if (fd < 0)
        goto cleanup;
    created = true;
    *step = "write";
    if (er_durable_write_all(fd, data, len, fault) != 0)
        goto cleanup;
    *step = "fsync";
    if ((fault && fault()) || fsync(fd) != 0)
        goto cleanup;
    *step = "close";
    int cr = close(fd);
    fd = -1;
    if (cr != 0)
        goto cleanup;
    *step = "rename";
    if ((fault && fault()) || renameat(tmp_dirfd, tmpname, dst_dirfd, final) != 0)
        goto cleanup;
    created = false;
    *step = "fsync-dir";
    if ((fault && fault()) || fsync(dst_dirfd) != 0)
        goto cleanup;
    rc = 0;

cleanup:
    e = errno;
    if (fd >= 0)
        close(fd);
    if (created)
        unlinkat(tmp_dirfd, tmpname, 0);
    errno = e;
    return rc;
}
