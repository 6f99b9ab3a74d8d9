/*
 * dynlib.c — dlopen on first use (dynlib.h): one pthread_once per library,
 * every symbol resolved up front so a missing one fails the load, not a
 * later call.
 */
#include "core/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* pthread_once gives no argument: the library being loaded, under its once. */
static _Thread_local er_dynlib *loading;

static void load_once(void)
{
    er_dynlib *lib = loading;
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(lib->msg, sizeof lib->msg, "%s is needed for this but cannot be loaded (%s): %s", lib->what,
                 lib->soname, why ? why : "unknown reason");
        lib->st = ER_ELIBRARY;
        return;
    }
    for (const er_dynsym *s = lib->syms; s->name; s++) {
        void *p = dlsym(h, s->name);
        if (!p) {
            snprintf(lib->msg, sizeof lib->msg, "%s (%s) has no %s: a version this ecorisk was not built for",
                     lib->what, lib->soname, s->name);
            lib->st = ER_ELIBRARY;
            return;
        }
        /* POSIX: a function's address from dlsym, copied into its typed pointer */
        memcpy((char *)lib->api + s->off, &p, sizeof p);
    }
}

er_status er_dynlib_load(er_dynlib *lib, er_err *err)
{
    loading = lib;
    pthread_once(&lib->once, load_once);
    loading = NULL;
    if (lib->st != ER_OK)
        return er_errf(err, lib->st, "%s", lib->msg);
    return ER_OK;
}
