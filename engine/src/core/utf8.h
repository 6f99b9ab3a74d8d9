/*
 * utf8.h — the one UTF-8 well-formedness check (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF) shared by the feed validation, the JSON
 * Lines reader, the quarantine writer and the JSON string builder.
 */
#ifndef ECORISK_UTF8_H
#define ECORISK_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (n > 0 bytes available):
 * 1 for ASCII, 2..4 for a multi-byte character, 0 if ill-formed or cut short. */
static inline size_t er_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (len > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

#endif
