/*
 * bigmem.h — allocation of large, long-lived buffers (batch arrays, arena
 * blocks, hash tables). Zeroed ones are mapped fresh, so the kernel clears
 * their pages as they are first touched and nothing is cleared twice; small
 * sizes are plain malloc / calloc.
 *   er_big_alloc(n)        uninitialised, for buffers filled in order (batch
 *                          arrays, arena blocks, text); free with free()
 *   er_big_calloc(n)       zeroed, for hash tables probed at random; free with
 *                          er_big_cfree(p, n), the same n
 *
 * Only the hash tables are advised for transparent huge pages, where TLB
 * misses dominated random probes. Buffers filled in order are not: on the
 * virtual machines measured (docs/operations.md, "Memory pages"), a fresh
 * 2 MiB page costs 5-8 times more to fault in than the 512 small pages it
 * replaces whenever the host has taken the guest's free memory back (a
 * nightly job after idle time), and the run touches tens of MB of batch buffers.
 */
#ifndef ECORISK_BIGMEM_H
#define ECORISK_BIGMEM_H

#include <stdlib.h>
#include <sys/mman.h>

#define ER_BIG_MAP ((size_t)2 << 20)   /* from this size, er_big_calloc maps fresh pages */

static inline void *er_big_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

/* Zeroed; free with er_big_cfree(p, n), the same n. */
static inline void *er_big_calloc(size_t n)
{
    if (n < ER_BIG_MAP)
        return calloc(1, n ? n : 1);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#ifdef MADV_HUGEPAGE
    if (p != MAP_FAILED)
        madvise(p, n, MADV_HUGEPAGE);
#endif
    return p == MAP_FAILED ? NULL : p;
}

static inline void er_big_cfree(void *p, size_t n)
{
    if (!p)
        return;
    if (n < ER_BIG_MAP)
        free(p);
    else
        munmap(p, n);
}

#endif
