/*
 * tmp_fixture.h — scratch files and directories for the unit tests, so that
 * no run leaves anything behind. Each test process gets ONE private
 * directory, $TMPDIR/ecorisk-<test>-XXXXXX (TMPDIR defaults to /tmp),
 * created before main() runs and removed with everything in it when that
 * process exits. Check runs each test in a forked child (CK_FORK): children
 * inherit the directory and their exit leaves it alone, since only the
 * process that created it removes it — so the same holds with CK_FORK=no,
 * after a failed assertion, and when a child is killed on timeout.
 * Tests create nothing under /tmp themselves: they ask here for a fresh file
 * (tf_mkstemps) or sub-directory (tf_mkdtemp) and never need to delete it.
 * Needs nftw (the unit tests are built with _XOPEN_SOURCE=700).
 */
#ifndef ECORISK_TEST_TMP_FIXTURE_H
#define ECORISK_TEST_TMP_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char  tf_root[1024];   /* "" when creation failed (tf_err says why) */
static char  tf_err[1200];
static pid_t tf_owner;        /* the process that created tf_root: the only one to remove it */

static int tf_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "tmp_fixture: cannot remove %s: %s\n", path, strerror(errno));
    return 0;   /* remove what can be removed */
}

static void tf_remove_root(void)
{
    if (tf_root[0] && getpid() == tf_owner)
        nftw(tf_root, tf_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs before main(), i.e. in the process that forks the tests. The
 * directory is named after the test source (test_csv.c → ecorisk-test_csv-). */
__attribute__((constructor)) static void tf_create_root(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    const char *src = __BASE_FILE__;
    const char *name = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    int name_len = (int)strcspn(name, ".");
    int n = snprintf(tf_root, sizeof tf_root, "%s/ecorisk-%.*s-XXXXXX", base, name_len, name);
    if (n < 0 || (size_t)n >= sizeof tf_root) {
        snprintf(tf_err, sizeof tf_err, "TMPDIR too long: %s", base);
        tf_root[0] = '\0';
        return;
    }
    if (!mkdtemp(tf_root)) {
        snprintf(tf_err, sizeof tf_err, "cannot create %s: %s", tf_root, strerror(errno));
        tf_root[0] = '\0';
        return;
    }
    tf_owner = getpid();
    if (atexit(tf_remove_root) != 0) {
        tf_remove_root();
        snprintf(tf_err, sizeof tf_err, "atexit failed");
        tf_root[0] = '\0';
    }
}

/* The process's scratch directory (borrowed; valid until the process exits). */
__attribute__((unused)) static const char *tf_dir(void)
{
    ck_assert_msg(tf_root[0] != '\0', "no scratch directory: %s", tf_err);
    return tf_root;
}

/* A new empty directory <scratch>/<prefix>XXXXXX; its path into out[size]. */
__attribute__((unused)) static void tf_mkdtemp(char *out, size_t size, const char *prefix)
{
    int n = snprintf(out, size, "%s/%sXXXXXX", tf_dir(), prefix);
    ck_assert_msg(n > 0 && (size_t)n < size, "scratch path does not fit in %zu bytes", size);
    ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp %s: %s", out, strerror(errno));
}

/* A new empty file <scratch>/<prefix>XXXXXX<suffix> (suffix may be NULL);
 * its path into out[size]. */
__attribute__((unused)) static void tf_mkstemps(char *out, size_t size, const char *prefix, const char *suffix)
{
    if (!suffix)
        suffix = "";
    int n = snprintf(out, size, "%s/%sXXXXXX%s", tf_dir(), prefix, suffix);
    ck_assert_msg(n > 0 && (size_t)n < size, "scratch path does not fit in %zu bytes", size);
    int fd = mkstemps(out, (int)strlen(suffix));
    ck_assert_msg(fd >= 0, "mkstemps %s: %s", out, strerror(errno));
    close(fd);
}

#endif
