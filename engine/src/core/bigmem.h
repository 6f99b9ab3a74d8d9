/*
 * bigmem.h — allocation of large, long-lived buffers (batch arrays, arena
 * blocks, hash tables) on 2 MiB-aligned memory advised for transparent huge
 * pages: one page fault per 2 MiB instead of 512, which matters on virtual
 * machines where a fault costs microseconds. Small sizes are plain
 * malloc / calloc.
 *   er_big_alloc(n)        uninitialised; free with free()
 *   er_big_calloc(n)       zeroed, mapped fresh (the kernel clears pages as
 *                          they are first touched, so nothing is cleared
 *                          twice); free with er_big_cfree(p, n), the same n
 */
#ifndef ECORISK_BIGMEM_H
#define ECORISK_BIGMEM_H

#include <stdlib.h>
#include <sys/mman.h>

#define ER_HUGE_PAGE ((size_t)2 << 20)

static inline void *er_big_alloc(size_t n)
{
    if (n < ER_HUGE_PAGE / 2)
        return malloc(n);
    size_t total = (n + ER_HUGE_PAGE - 1) & ~(ER_HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, ER_HUGE_PAGE, total) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, total, MADV_HUGEPAGE);
#endif
    return p;
}

/* Zeroed; free with er_big_cfree(p, n), the same n. */
static inline void *er_big_calloc(size_t n)
{
    if (n < ER_HUGE_PAGE)
        return calloc(1, n ? n : 1);
    size_t total = (n + ER_HUGE_PAGE - 1) & ~(ER_HUGE_PAGE - 1);
    /* map one huge page more, then trim to a 2 MiB-aligned start */
    char *p = mmap(NULL, total + ER_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (ER_HUGE_PAGE - ((size_t)p & (ER_HUGE_PAGE - 1))) & (ER_HUGE_PAGE - 1);
    if (head)
        munmap(p, head);
    munmap(p + head + total, ER_HUGE_PAGE - head);
    p += head;
#ifdef MADV_HUGEPAGE
    madvise(p, total, MADV_HUGEPAGE);
#endif
    return p;
}

static inline void er_big_cfree(void *p, size_t n)
{
    if (!p)
        return;
    if (n < ER_HUGE_PAGE)
        free(p);
    else
        munmap(p, (n + ER_HUGE_PAGE - 1) & ~(ER_HUGE_PAGE - 1));
}

#endif
