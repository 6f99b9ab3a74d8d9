/*
 * pow10.h — the powers of ten that are exact doubles, 10^0 to 10^22: a
 * decimal of at most 15 digits scaled by one of them in a single
 * multiplication or division is correctly rounded (Clinger's fast path).
 * Reading numbers (feeds/src/validate.c) and writing them (core/sbuf.c)
 * both rest on it.
 */
#ifndef ER_CORE_POW10_H
#define ER_CORE_POW10_H

#define ER_POW10_EXACT_MAX 22

static const double er_pow10_exact[ER_POW10_EXACT_MAX + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#endif
