/*
 * bigmem.h — allocation of large, long-lived buffers (batch arrays, arena
 * blocks) on 2 MiB-aligned memory advised for transparent huge pages: one
 * page fault per 2 MiB instead of 512, which matters on virtual machines where
 * a fault costs microseconds. Small sizes are plain malloc. Free with free().
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

#endif
