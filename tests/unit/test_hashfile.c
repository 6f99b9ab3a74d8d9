/*
 * test_hashfile.c — the hashing stream of core/hashfile.h: the file holds
 * exactly the bytes written, and the size and SHA-256 it reports are those
 * of the file, for sizes around its 1 MiB blocks, writes of any length
 * (through stdio's buffer and past it), an empty file, and a write error
 * (ENOSPC on /dev/full) reported by er_hashfile_finish, not lost.
 */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hashfile.h"
#include "core/sha256.h"

#define MiB ((size_t)1 << 20)

/* A hashing stream over a fresh temporary file (its name into path). */
static FILE *open_temp(char path[], er_hashfile **h)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = er_hashfile_open(fd, h);
    ck_assert_ptr_nonnull(f);
    return f;
}

/* Writes data[0..n) through a hashing stream in pieces of pseudo-random
 * length up to max_piece, and checks file content, size and digest. */
static void roundtrip(const unsigned char *data, size_t n, size_t max_piece, uint64_t seed)
{
    char path[] = "/tmp/ecorisk-test-hashfile-XXXXXX";
    er_hashfile *h;
    FILE *f = open_temp(path, &h);
    uint64_t r = seed | 1;
    for (size_t at = 0; at < n;) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        size_t k = 1 + (size_t)(r % max_piece);
        if (k > n - at)
            k = n - at;
        ck_assert_uint_eq(fwrite(data + at, 1, k, f), k);
        at += k;
    }
    unsigned long long bytes = 0;
    char hex[65], want[65];
    er_err err;
    ck_assert_int_eq(er_hashfile_finish(h, f, &bytes, hex, &err), ER_OK);
    ck_assert_int_eq(fclose(f), 0);   /* closes fd */
    ck_assert_uint_eq(bytes, n);
    ck_assert_int_eq(er_sha256_hex(data, n, want, &err), ER_OK);
    ck_assert_str_eq(hex, want);
    /* the file holds the same bytes */
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    unsigned char *back = malloc(n + 1);
    ck_assert_uint_eq(fread(back, 1, n + 1, in), n);
    fclose(in);
    ck_assert(memcmp(back, data, n) == 0);
    free(back);
    unlink(path);
}

START_TEST(test_sizes)
{
    size_t max = 5 * MiB + 12345;
    unsigned char *data = malloc(max);
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < max; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        data[i] = (unsigned char)(r >> 56);
    }
    const size_t sizes[] = {0, 1, 4095, 4096, 8193, MiB - 1, MiB, MiB + 1, 2 * MiB, 3 * MiB - 7, max};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        roundtrip(data, sizes[i], 100, i);            /* small writes: through stdio's buffer */
        roundtrip(data, sizes[i], 3 * MiB, i + 50);   /* large ones: past it, across blocks */
    }
    free(data);
}
END_TEST

START_TEST(test_write_error)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;   /* no /dev/full here */
    er_hashfile *h;
    FILE *f = er_hashfile_open(fd, &h);
    ck_assert_ptr_nonnull(f);
    char block[4096];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 700; i++)   /* 2.7 MiB: the thread's blocks fail too */
        fwrite(block, 1, sizeof block, f);
    unsigned long long bytes;
    char hex[65];
    er_err err;
    ck_assert_int_eq(er_hashfile_finish(h, f, &bytes, hex, &err), ER_EIO);
    ck_assert_str_eq(err.msg, strerror(ENOSPC));
    ck_assert_uint_eq(bytes, 700 * sizeof block);
    ck_assert_int_ne(fclose(f), 0);   /* the failure is also fclose's */
}
END_TEST

START_TEST(test_abandoned)
{
    /* closed without finish (a failed run): the thread is stopped, nothing leaks */
    char path[] = "/tmp/ecorisk-test-hashfile-XXXXXX";
    er_hashfile *h;
    FILE *f = open_temp(path, &h);
    (void)h;
    char *big = calloc(1, 3 * MiB);
    ck_assert_uint_eq(fwrite(big, 1, 3 * MiB, f), 3 * MiB);
    ck_assert_int_eq(fclose(f), 0);
    free(big);
    unlink(path);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("hashfile");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_write_error);
    tcase_add_test(tc, test_abandoned);
    suite_add_tcase(s, tc);
    return s;
}
