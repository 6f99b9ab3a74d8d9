/*
 * refdata_int.h — the layout of the reference tables (refdata.c) and their
 * two look-ups made for every record (a country code, a currency's rate),
 * inline so validation makes them without a call. Private to feeds/src;
 * refdata.h's er_country_parse and er_currency_rate are these.
 */
#ifndef ER_FEEDS_REFDATA_INT_H
#define ER_FEEDS_REFDATA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/refdata.h"

#define REF_N_CC  (26 * 26)
#define REF_N_CUR (26 * 26 * 26)

typedef struct ref_country {
    bool  valid, oecd, eu;
    char *name;
} ref_country;

struct er_refdata {
    ref_country c[REF_N_CC];
    double      rate[REF_N_CUR];   /* 0 = unknown */
    char        ref[4];
};

/* A letter of either case as 0..25, else -1. */
static inline int ref_letter(char ch)
{
    if (ch >= 'a' && ch <= 'z')
        ch = (char)(ch - 32);
    return ch >= 'A' && ch <= 'Z' ? ch - 'A' : -1;
}

static inline bool ref_country_parse(const er_refdata *r, const char *s, size_t len, uint16_t *cc)
{
    if (len != 2)
        return false;
    int a = ref_letter(s[0]), b = ref_letter(s[1]);
    if (a < 0 || b < 0 || !r->c[a * 26 + b].valid)
        return false;
    *cc = ER_CC('A' + a, 'A' + b);
    return true;
}

static inline bool ref_currency_rate(const er_refdata *r, const char *code, double *rate)
{
    if (!code || !code[0] || !code[1] || !code[2] || code[3])
        return false;
    int a = ref_letter(code[0]), b = ref_letter(code[1]), c = ref_letter(code[2]);
    if (a < 0 || b < 0 || c < 0)
        return false;
    double v = r->rate[(a * 26 + b) * 26 + c];
    if (v <= 0)
        return false;
    *rate = v;
    return true;
}

#endif
