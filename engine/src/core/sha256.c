/*
 * sha256.c — SHA-256 through OpenSSL's EVP interface (see sha256.h). The
 * outbox names batches by the hex digest of their bytes, so the digest must
 * be exactly FIPS 180-4 SHA-256; test_outbox.c checks the published vectors.
 */
#include "core/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

struct er_sha256 {
    EVP_MD_CTX *ctx;
};

static void to_hex(const unsigned char *md, unsigned n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

er_status er_sha256_new(er_sha256 **out, er_err *err)
{
    er_sha256 *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h || !(h->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        er_sha256_free(h);
        return er_errf(err, ER_ENOMEM, "SHA-256: out of memory setting up a digest context");
    }
    *out = h;
    return ER_OK;
}

er_status er_sha256_update(er_sha256 *h, const void *data, size_t len, er_err *err)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return er_errf(err, ER_ENOMEM, "SHA-256: digest update failed");
    return ER_OK;
}

er_status er_sha256_final(er_sha256 *h, char hex[65], er_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int ok = EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == 32;
    er_sha256_free(h);
    if (!ok)
        return er_errf(err, ER_ENOMEM, "SHA-256: digest failed");
    to_hex(md, n, hex);
    return ER_OK;
}

void er_sha256_free(er_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

er_status er_sha256_hex(const void *data, size_t len, char hex[65], er_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return er_errf(err, ER_ENOMEM, "SHA-256: digest failed");
    to_hex(md, n, hex);
    return ER_OK;
}

er_status er_sha256_file(const char *path, char hex[65], er_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return er_errf(err, ER_ENOTFOUND, "%s: cannot open: %s", path, strerror(errno));
    er_sha256 *h = NULL;
    er_status st = er_sha256_new(&h, err);
    char buf[8192];
    size_t n;
    while (st == ER_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        st = er_sha256_update(h, buf, n, err);
    if (st == ER_OK && ferror(f))
        st = er_errf(err, ER_EIO, "%s: read error", path);
    if (st == ER_OK)
        st = er_sha256_final(h, hex, err);
    else
        er_sha256_free(h);
    fclose(f);
    return st;
}

