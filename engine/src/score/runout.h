/*
 * runout.h — a run's output directory as one transaction (docs/operations.md,
 * "Outputs: one transaction"). Private to libecorisk.
 *
 * er_runout_begin locks --out (flock on the sibling file .NAME.lock; a second
 * run on the same --out fails with ER_EBUSY), removes what killed runs left
 * and creates a private staging directory .NAME.run-XXXXXX next to --out
 * (mkdtemp). Files are created there exclusively (O_EXCL|O_NOFOLLOW) and
 * hashed as they are written (core/hashfile.h); a closed file's write-back
 * starts at once and its fsync waits for the publish.
 * er_runout_manifest lists the files with size and SHA-256;
 * er_runout_publish fsyncs every file and the staging directory, swaps it
 * with --out in one renameat2(RENAME_EXCHANGE) (RENAME_NOREPLACE the first
 * time), fsyncs the parent and removes the previous set. er_runout_end removes an
 * unpublished staging directory and releases the lock.
 */
#ifndef ECORISK_SCORE_RUNOUT_H
#define ECORISK_SCORE_RUNOUT_H

#include <stdio.h>

#include "core/hashfile.h"
#include "core/sbuf.h"
#include "ecorisk/status.h"

#define ER_RUNOUT_MAX_FILES 8

typedef struct er_runout {
    char  dir[4096];      /* --out as given */
    char  parent[4096];   /* its parent directory */
    char  base[256];      /* its last component */
    char  stage[300];     /* staging directory name within parent */
    int   parent_fd, lock_fd, stage_fd;
    bool  published;
    char  files[ER_RUNOUT_MAX_FILES][32];
    FILE *stream[ER_RUNOUT_MAX_FILES];      /* an open file's stream (er_runout_open's *f), else NULL */
    er_hashfile *hf[ER_RUNOUT_MAX_FILES];   /* its hashing (lives with the stream) */
    int   stream_fd[ER_RUNOUT_MAX_FILES];   /* the fd under an open stream (the stream owns it), else -1 */
    int   unsynced[ER_RUNOUT_MAX_FILES];    /* a closed file's fd until its fsync in publish, else -1 */
    unsigned long long bytes[ER_RUNOUT_MAX_FILES];   /* a closed file's size and digest */
    char  sha256[ER_RUNOUT_MAX_FILES][65];
    size_t n_files;
} er_runout;

/* Zero the struct (fds -1); safe to pass to er_runout_end afterwards. */
void      er_runout_init(er_runout *r);
er_status er_runout_begin(er_runout *r, const char *dir, er_err *err);
/* Create name in the staging directory; *f is a buffered stream over it. */
er_status er_runout_open(er_runout *r, const char *name, FILE **f, er_err *err);
/* Flush and close a stream from er_runout_open (*f becomes NULL) and start
 * its write-back; er_runout_publish fsyncs it. A write error is reported here. */
er_status er_runout_close(er_runout *r, FILE **f, er_err *err);
/* Append `"files":[{"name":…,"bytes":…,"sha256":…},…]` for every closed file, in creation order. */
er_status er_runout_manifest(er_runout *r, er_sb *b, er_err *err);
er_status er_runout_publish(er_runout *r, er_err *err);
/* Remove an unpublished staging directory and release the lock. */
void      er_runout_end(er_runout *r);

#endif
