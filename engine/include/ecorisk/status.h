/*
 * status.h — the one status enum of libecorisk, and the error message buffer.
 *
 * Conventions for the whole library (read once, they hold everywhere):
 *  - Every fallible function returns er_status; ER_OK (0) is success.
 *  - Functions that can fail also take an `er_err *err` (may be NULL). On
 *    failure they fill err->msg with a one-line, human message that names the
 *    file / line / JSON path involved, and return the status. On success err is
 *    left untouched.
 *  - Ownership: what er_<x>_new / er_<x>_load / er_<x>_open returns, the caller
 *    frees with er_<x>_free. er_<x>_free(NULL) is a no-op. Any other pointer a
 *    function returns or fills in is borrowed; its header says for how long.
 *  - The library never calls exit() and never prints; the CLI does both.
 */
#ifndef ECORISK_STATUS_H
#define ECORISK_STATUS_H

#include "ecorisk/api.h"
#include <stddef.h>

ER_BEGIN_DECLS

typedef enum er_status {
    ER_OK = 0,
    ER_EOF,            /* end of input: not an error for readers */
    ER_ENOMEM,         /* allocation failed */
    ER_EINVAL,         /* bad argument or option */
    ER_EIO,            /* read / write / fsync / rename failed */
    ER_ENOTFOUND,      /* file, id, list or key not found */
    ER_EPARSE,         /* malformed input text (JSON, CSV, number) */
    ER_EFORMAT,        /* well-formed but wrong shape (missing column, bad mapping) */
    ER_EPROFILE,       /* invalid profile pack (see lint messages) */
    ER_EBASELINE,      /* corrupt or incompatible baseline */
    ER_EVERSION,       /* unsupported format version */
    ER_ELIMIT,         /* a configured limit was exceeded */
    ER_ENET,           /* connection / DNS / TLS / timeout */
    ER_EHTTP,          /* HTTP status not accepted */
    ER_EPENDING,       /* work left pending (e.g. alerts not yet delivered) */
    ER_EINTERNAL,      /* a bug: an invariant did not hold */
    ER_ECREATE,        /* an output file or directory cannot be created */
    ER_EBUSY,          /* another process holds the lock (e.g. a run on the same --out) */
    ER_ELIBRARY,       /* a shared library this needs cannot be loaded (libcurl, XGBoost) */
    ER_STATUS_COUNT
} er_status;

/* Static, never NULL: "ok", "out of memory", ... */
const char *er_status_str(er_status st);

/* The version of the linked library ("0.1.0"; static). Compare with the
 * ECORISK_VERSION macro of ecorisk/version.h to check header and library agree. */
const char *er_version(void);

#define ER_ERR_MSG_MAX 1024
typedef struct er_err {
    char msg[ER_ERR_MSG_MAX];
} er_err;

/* Fill err->msg (if err != NULL) printf-style and return st. */
er_status er_errf(er_err *err, er_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A failing st whose err->msg is still empty gets er_status_str(st) as its
 * message (public entry points call it last, so an error never reaches the
 * user as an empty line); returns st. */
er_status er_err_default(er_err *err, er_status st);

/* Prefix err->msg with "prefix: " (e.g. a file name) and return st. */
er_status er_err_prefix(er_err *err, er_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

ER_END_DECLS
#endif
