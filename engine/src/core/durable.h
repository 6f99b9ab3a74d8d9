/*
 * durable.h — durable file writing shared by everything that must never leave
 * a half-written file under its final name: the run's output set
 * (score/runout.c) and the alert outbox (deliver/outbox.c).
 *
 * Files are always created with O_CREAT|O_EXCL|O_NOFOLLOW, so a name planted
 * in advance (a symlink to somewhere else, a file left by another process) is
 * never followed or truncated: creation fails instead. Functions return 0, or
 * -1 with errno set; the caller words the message. Private to libecorisk.
 */
#ifndef ECORISK_CORE_DURABLE_H
#define ECORISK_CORE_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Fault hook: returns true (with errno set) to make the next step fail. */
typedef bool (*er_durable_fault)(void);

/* Create dirfd/name exclusively for writing (never follows a symlink). Returns the fd or -1. */
int er_durable_create(int dirfd, const char *name, mode_t mode);

/* write() all of data, retrying on EINTR, in chunks of at most 1 MiB (fault
 * called before each chunk when non-NULL). */
int er_durable_write_all(int fd, const void *data, size_t len, er_durable_fault fault);

/* Write data as dst_dirfd/final: create tmp_dirfd/tmpname exclusively, write,
 * fsync, close, rename to final, fsync dst_dirfd. On failure the temporary
 * file is removed and *step names what failed ("create", "write", "fsync",
 * "close", "rename", "fsync-dir"). */
int er_durable_replace(int tmp_dirfd, const char *tmpname, int dst_dirfd, const char *final,
                       const void *data, size_t len, mode_t mode, er_durable_fault fault,
                       const char **step);

#endif
