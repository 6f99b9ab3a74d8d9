/*
 * failalloc.c — an allocation-failure injector for the fault tests
 * (tests/fault/run_alloc_fail.sh), loaded with LD_PRELOAD: malloc, calloc,
 * realloc and posix_memalign called from the ecorisk executable itself (the
 * CLI and the statically linked library; not libc, json-c, zlib or XGBoost,
 * whose own handling is theirs) are counted, and the one numbered
 * ECORISK_FAIL_ALLOC (1-based) returns NULL / ENOMEM, as does every later one
 * when ECORISK_FAIL_ALLOC_ALL=1. With ECORISK_FAIL_ALLOC=0 nothing fails and
 * the count is written to the file named by ECORISK_FAIL_ALLOC_COUNT at exit.
 * ECORISK_FAIL_ALLOC_TRAP=1 raises SIGTRAP at the failure, for a debugger.
 * Like curl's and SQLite's malloc-failure loops, it proves that each failure
 * is handled — a clean error, no crash, no partial output — not just returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uintptr_t exe_lo, exe_hi;   /* the executable's text */
static long fail_at = -1;          /* -1: not read yet */
static int fail_all, trap;
static atomic_long counter;

static int find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    /* the first object is the executable */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            exe_lo = info->dlpi_addr + ph->p_vaddr;
            exe_hi = exe_lo + ph->p_memsz;
        }
    }
    return 1;
}

static void report(void)
{
    const char *path = getenv("ECORISK_FAIL_ALLOC_COUNT");
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%ld\n", atomic_load(&counter));
        fclose(f);
    }
}

static void setup(void)
{
    const char *s = getenv("ECORISK_FAIL_ALLOC"), *a = getenv("ECORISK_FAIL_ALLOC_ALL");
    fail_all = a && *a == '1';
    trap = getenv("ECORISK_FAIL_ALLOC_TRAP") != NULL;   /* stop a debugger at the failure */
    dl_iterate_phdr(find_exe, NULL);
    fail_at = s ? strtol(s, NULL, 10) : 0;
    if (fail_at == 0)
        atexit(report);
}

/* Whether this allocation, made from return address ra, fails. */
static int should_fail(void *ra)
{
    if (fail_at < 0)
        setup();
    uintptr_t r = (uintptr_t)ra;
    if (r < exe_lo || r >= exe_hi)
        return 0;
    long n = atomic_fetch_add(&counter, 1) + 1;
    if (trap && n == fail_at)
        raise(SIGTRAP);
    return fail_at > 0 && (n == fail_at || (fail_all && n > fail_at));
}

void *malloc(size_t n)
{
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
    if (n && should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (should_fail(__builtin_return_address(0)))
        return ENOMEM;
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
