/*
 * curl_api.h — libcurl, opened on first use (core/dynlib.h). Include this
 * instead of <curl/curl.h>; call er_curl_load before the first curl_* call
 * of a code path (it also runs curl_global_init, once). The curl_* names
 * below then call through the table; a curl function not listed here fails
 * the link, since libcurl is not linked.
 */
#ifndef ECORISK_CORE_CURL_API_H
#define ECORISK_CORE_CURL_API_H

#include <curl/curl.h>

#include "core/dynlib.h"

#define ER_CURL_FUNCTIONS(X, T)                                                                               \
    X(T, curl_global_init) X(T, curl_easy_init) X(T, curl_easy_setopt) X(T, curl_easy_perform)                \
    X(T, curl_easy_getinfo) X(T, curl_easy_cleanup) X(T, curl_easy_strerror) X(T, curl_easy_pause)            \
    X(T, curl_free) X(T, curl_getdate) X(T, curl_slist_append) X(T, curl_slist_free_all) X(T, curl_url)       \
    X(T, curl_url_cleanup) X(T, curl_url_get) X(T, curl_url_set) X(T, curl_multi_init)                        \
    X(T, curl_multi_add_handle) X(T, curl_multi_remove_handle) X(T, curl_multi_perform)                       \
    X(T, curl_multi_poll) X(T, curl_multi_info_read) X(T, curl_multi_cleanup) X(T, curl_multi_strerror)

typedef struct er_curl_api {
    ER_CURL_FUNCTIONS(ER_DYNLIB_FIELD, _)
} er_curl_api;

extern er_curl_api er_curl;

/* Open libcurl and run curl_global_init, once per process: ER_ELIBRARY when
 * it cannot be opened, ER_ENET when it cannot be initialised. */
er_status er_curl_load(er_err *err);

#ifndef ER_CURL_API_TABLE   /* curl_api.c names the functions themselves */
/* curl.h's own checking macros (typecheck-gcc.h) give way to the table */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*er_curl.curl_global_init)
#define curl_easy_init (*er_curl.curl_easy_init)
#define curl_easy_setopt (*er_curl.curl_easy_setopt)
#define curl_easy_perform (*er_curl.curl_easy_perform)
#define curl_easy_getinfo (*er_curl.curl_easy_getinfo)
#define curl_easy_cleanup (*er_curl.curl_easy_cleanup)
#define curl_easy_strerror (*er_curl.curl_easy_strerror)
#define curl_easy_pause (*er_curl.curl_easy_pause)
#define curl_free (*er_curl.curl_free)
#define curl_getdate (*er_curl.curl_getdate)
#define curl_slist_append (*er_curl.curl_slist_append)
#define curl_slist_free_all (*er_curl.curl_slist_free_all)
#define curl_url (*er_curl.curl_url)
#define curl_url_cleanup (*er_curl.curl_url_cleanup)
#define curl_url_get (*er_curl.curl_url_get)
#define curl_url_set (*er_curl.curl_url_set)
#define curl_multi_init (*er_curl.curl_multi_init)
#define curl_multi_add_handle (*er_curl.curl_multi_add_handle)
#define curl_multi_remove_handle (*er_curl.curl_multi_remove_handle)
#define curl_multi_perform (*er_curl.curl_multi_perform)
#define curl_multi_poll (*er_curl.curl_multi_poll)
#define curl_multi_info_read (*er_curl.curl_multi_info_read)
#define curl_multi_cleanup (*er_curl.curl_multi_cleanup)
#define curl_multi_strerror (*er_curl.curl_multi_strerror)
#endif

#endif
