/*
 * wordload.h — reading a short byte string as a little-endian word for
 * hashing and comparing (duplicate ids, the interning cache): the bytes are
 * read with at most two loads inside the string and combined, not copied
 * byte-wise into a zeroed word first, since a wide load of bytes just stored
 * one by one waits for those stores (store forwarding fails). The values are
 * those of the copy: the bytes in order, zero-padded.
 */
#ifndef ER_CORE_WORDLOAD_H
#define ER_CORE_WORDLOAD_H

#include <stdint.h>
#include <string.h>

static inline uint64_t er_load8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t er_load4(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The n < 8 bytes at p as a zero-padded little-endian word (two overlapping
 * reads agree on the bytes they share). */
static inline uint64_t er_load_tail(const void *p_, size_t n)
{
    const unsigned char *p = p_;
    if (n >= 4)
        return er_load4(p) | (uint64_t)er_load4(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) | (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* The first min(n, 16) bytes at p, zero-padded, as two words. */
static inline void er_load16(const void *p_, size_t n, uint64_t w[2])
{
    const unsigned char *p = p_;
    if (n >= 16) {
        w[0] = er_load8(p);
        w[1] = er_load8(p + 8);
    } else if (n >= 8) {
        w[0] = er_load8(p);
        w[1] = n > 8 ? er_load8(p + n - 8) >> (8 * (16 - n)) : 0;
    } else {
        w[0] = er_load_tail(p, n);
        w[1] = 0;
    }
}

#endif
