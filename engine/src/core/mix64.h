/*
 * mix64.h — the SplitMix64 finaliser: spreads a 64-bit key over all bits, for
 * hash-table slots (baseline route and trader tables) and for deterministic
 * per-declaration draws (profile random selection). One copy for the library.
 */
#ifndef ER_CORE_MIX64_H
#define ER_CORE_MIX64_H

#include <stdint.h>

static inline uint64_t er_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
