/*
 * sha256.h — SHA-256 for content names and manifests, from OpenSSL's libcrypto
 * (EVP), which libcurl already brings in: one well-tested implementation
 * instead of a hand-written one. Private to libecorisk.
 *
 * Incremental use: er_sha256_new, er_sha256_update..., er_sha256_final (which
 * frees the context whatever happens); one-shot: er_sha256_hex. Failures are
 * libcrypto allocation failures and come back as ER_ENOMEM.
 */
#ifndef ECORISK_CORE_SHA256_H
#define ECORISK_CORE_SHA256_H

#include <stddef.h>
#include "ecorisk/status.h"

typedef struct er_sha256 er_sha256;

er_status er_sha256_new(er_sha256 **out, er_err *err);
er_status er_sha256_update(er_sha256 *h, const void *data, size_t len, er_err *err);
/* Lowercase hex digest into hex[65]; frees h (also on failure). */
er_status er_sha256_final(er_sha256 *h, char hex[65], er_err *err);
/* Frees a context without a digest (an abandoned hash); NULL is a no-op. */
void      er_sha256_free(er_sha256 *h);
/* Digest of a whole file's bytes (mappings and run configs named in summary.json);
 * ER_ENOTFOUND if it cannot be opened, ER_EIO on a read error. */
er_status er_sha256_file(const char *path, char hex[65], er_err *err);

/* Lowercase hex SHA-256 of data into hex[65]. */
er_status er_sha256_hex(const void *data, size_t len, char hex[65], er_err *err);

#endif
