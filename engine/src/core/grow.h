/*
 * grow.h — the one growable-array helper of the library (private): ensure
 * *p has room for `need` elements of `elem` bytes, doubling the capacity
 * (from 64) so appends are amortised O(1). On ENOMEM *p and *cap are left
 * unchanged and false is returned; the caller still owns and frees *p.
 */
#ifndef ECORISK_GROW_H
#define ECORISK_GROW_H

#include <stdbool.h>
#include <stdlib.h>

static inline bool er_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

#endif
