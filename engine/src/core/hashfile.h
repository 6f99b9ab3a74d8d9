/*
 * hashfile.h — a stdio stream that writes to a file descriptor and takes the
 * SHA-256 and size of what it writes, so a manifest need not read its files
 * back (score/runout.c). Whole 1 MiB blocks are hashed and written by a
 * thread of the stream's own while the caller fills the next one; what is
 * left at the end, a short file, or one whose thread or blocks cannot be
 * had, is hashed and written inline. Private to libecorisk.
 *
 * er_hashfile_open wraps fd (the stream owns it from then on: fclose closes
 * it) and gives the handle *h, which lives until fclose. After the last
 * write, er_hashfile_finish flushes the stream, waits for its thread and
 * reports the byte count, the digest and the first write error (ER_EIO,
 * errno's text); fclose then frees everything. fclose without finish is
 * allowed (an abandoned file): it waits for the thread and frees.
 */
#ifndef ECORISK_CORE_HASHFILE_H
#define ECORISK_CORE_HASHFILE_H

#include <stdio.h>

#include "ecorisk/status.h"

typedef struct er_hashfile er_hashfile;

/* NULL (fd left open, errno set) when the stream cannot be made. */
FILE     *er_hashfile_open(int fd, er_hashfile **h);
er_status er_hashfile_finish(er_hashfile *h, FILE *f, unsigned long long *bytes, char hex[65], er_err *err);

#endif
