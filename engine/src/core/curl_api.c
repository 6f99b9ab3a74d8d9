/*
 * curl_api.c — libcurl's table (curl_api.h): opened by its soname on first
 * use, then curl_global_init once.
 */
#define ER_CURL_API_TABLE
#include "core/curl_api.h"

#ifndef ECORISK_CURL_SONAME
#define ECORISK_CURL_SONAME "libcurl.so.4"
#endif

ER_DYNLIB_DEFINE(lib, er_curl_api, er_curl, ER_CURL_FUNCTIONS, "libcurl", ECORISK_CURL_SONAME);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_OK;
static void init(void) { init_rc = er_curl.curl_global_init(CURL_GLOBAL_DEFAULT); }

er_status er_curl_load(er_err *err)
{
    er_status st = er_dynlib_load(&lib, err);
    if (st != ER_OK)
        return st;
    pthread_once(&init_once, init);
    if (init_rc != CURLE_OK)
        return er_errf(err, ER_ENET, "libcurl: initialisation failed: %s", er_curl.curl_easy_strerror(init_rc));
    return ER_OK;
}
