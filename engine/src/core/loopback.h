/*
 * loopback.h — the one rule for plain http:// (private): it is accepted only
 * towards a loopback test server, for feeds (--feed http://...) and for
 * delivery (--insecure-http) alike, so a cleartext request never leaves the
 * machine (docs/operations.md#delivery, docs/feeds.md).
 */
#ifndef ECORISK_LOOPBACK_H
#define ECORISK_LOOPBACK_H

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* host as in a URL: "127.0.0.1", "localhost" or "[::1]" (brackets optional). */
static inline bool er_host_is_loopback(const char *host, size_t n)
{
    static const char *const ok[] = {"127.0.0.1", "localhost", "[::1]", "::1"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strlen(ok[i]) == n && strncasecmp(host, ok[i], n) == 0)
            return true;
    return false;
}

#endif
