/*
 * fuzz_common.h — helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c):
 * the input as a file the library can open (each harness process has its own
 * scratch directory, under /dev/shm when available so a run does not hit the
 * disk), and FZ_CHECK, which aborts on a broken invariant so that libFuzzer
 * (and the replay executable in every ctest run) reports it as a crash.
 * The scratch directory is removed at exit; libFuzzer ends a process on a
 * crash, a timeout or a signal with _Exit, which skips that, so
 * tests/fuzz/run.sh puts all of them under $ECORISK_FUZZ_SCRATCH, a
 * directory it removes itself.
 */
#ifndef ECORISK_FUZZ_COMMON_H
#define ECORISK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_CHECK(cond)                                                               \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static char fz_dir[256];

static void fz_cleanup(void)
{
    char p[320];
    static const char *const names[] = {"in.csv", "in.jsonl", "in.json", "out.json", "out2.json",
                                        "in.bin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", fz_dir, names[i]);
        unlink(p);
    }
    rmdir(fz_dir);
}

/* Path of a scratch file named `name` in this process's directory. */
static inline const char *fz_path(const char *name)
{
    static char p[320];
    if (!fz_dir[0]) {
        struct stat sb;
        const char *base = getenv("ECORISK_FUZZ_SCRATCH");
        if (!base || !*base)
            base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fz_dir, sizeof fz_dir, "%s/ecorisk-fuzz-%ld", base, (long)getpid());
        if (mkdir(fz_dir, 0700) != 0 && stat(fz_dir, &sb) != 0) {
            perror(fz_dir);
            abort();
        }
        atexit(fz_cleanup);
    }
    snprintf(p, sizeof p, "%s/%s", fz_dir, name);
    return p;
}

/* Write data to the scratch file `name`; returns its path (static buffer). */
static inline const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(p);
        abort();
    }
    return p;
}

/* Read a whole file into a malloc'd NUL-terminated buffer. */
static inline char *fz_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    if (!f)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = (cap ? cap * 2 : 8192);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

#endif
