/*
 * status.c — er_status names and the error-message helpers every module uses
 * to report failures (see status.h for the conventions).
 */
#include "ecorisk/status.h"
#include "ecorisk/version.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *er_version(void) { return ECORISK_VERSION; }

const char *er_status_str(er_status st)
{
    static const char *const names[ER_STATUS_COUNT] = {
        [ER_OK] = "ok",
        [ER_EOF] = "end of input",
        [ER_ENOMEM] = "out of memory",
        [ER_EINVAL] = "invalid argument",
        [ER_EIO] = "I/O error",
        [ER_ENOTFOUND] = "not found",
        [ER_EPARSE] = "parse error",
        [ER_EFORMAT] = "unexpected format",
        [ER_EPROFILE] = "invalid profile pack",
        [ER_EBASELINE] = "invalid baseline",
        [ER_EVERSION] = "unsupported version",
        [ER_ELIMIT] = "limit exceeded",
        [ER_ENET] = "network error",
        [ER_EHTTP] = "HTTP error",
        [ER_EPENDING] = "work left pending",
        [ER_EINTERNAL] = "internal error",
        [ER_ECREATE] = "cannot create output",
        [ER_EBUSY] = "locked by another process",
        [ER_ELIBRARY] = "shared library unavailable",
    };
    if ((unsigned)st >= ER_STATUS_COUNT || !names[st])
        return "unknown status";
    return names[st];
}

er_status er_errf(er_err *err, er_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

er_status er_err_default(er_err *err, er_status st)
{
    if (err && st != ER_OK && !err->msg[0])
        snprintf(err->msg, sizeof err->msg, "%s", er_status_str(st));
    return st;
}

er_status er_err_prefix(er_err *err, er_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    char prefix[512], old[ER_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t pl = strlen(prefix);
    if (pl > sizeof err->msg - 3)
        pl = sizeof err->msg - 3;
    memcpy(err->msg, prefix, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t room = sizeof err->msg - pl - 3, ol = strlen(old);
    if (ol > room)
        ol = room;
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = '\0';
    return st;
}
