/*
 * dynlib.h — libraries opened on first use (docs/architecture.md, "Libraries
 * opened on first use"). libcurl (feed URLs, pushes) and XGBoost (training,
 * and prediction for a model whose trees do not compile) pull in some thirty
 * shared libraries between them; linked, they cost every process ~6 ms of
 * start-up relocation, though most commands never call either. Instead they
 * are opened with dlopen by their soname (recorded at build time) the first
 * time they are needed, as systemd does for its optional libraries.
 *
 * A library is described by a table of symbol names and the slots their
 * addresses go to; er_dynlib_load opens it once per process (thread-safe)
 * and fills every slot, or fails with ER_ELIBRARY naming the library, the
 * soname and the loader's reason. A failure is remembered: later calls
 * report the same message. The handle is never closed.
 */
#ifndef ECORISK_CORE_DYNLIB_H
#define ECORISK_CORE_DYNLIB_H

#include <pthread.h>

#include "ecorisk/status.h"

#include <stddef.h>

/* One function: its name and where its pointer sits in the library's table. */
typedef struct er_dynsym {
    const char *name;
    size_t      off;
} er_dynsym;

typedef struct er_dynlib {
    const char      *what;     /* "libcurl": for messages */
    const char      *soname;   /* "libcurl.so.4" */
    const er_dynsym *syms;     /* terminated by a NULL name */
    void            *api;      /* the table the addresses are copied into */
    pthread_once_t   once;
    er_status        st;
    char             msg[512];
} er_dynlib;

#define ER_DYNLIB_INIT(what, soname, syms, api) {what, soname, syms, api, PTHREAD_ONCE_INIT, ER_OK, ""}

er_status er_dynlib_load(er_dynlib *lib, er_err *err);

/* A library's table from an X-macro list of its functions, LIST(X, T) giving
 * X(T, name) for each: a struct with one pointer per function, typed as the
 * function itself (ER_DYNLIB_FIELD), and ER_DYNLIB_DEFINE for the table, its
 * er_dynsym list and the static er_dynlib `lib` that fills it. The library's
 * header then #defines each function name to a call through the struct, so
 * call sites read as direct calls and a function missing from the list fails
 * the link. */
#define ER_DYNLIB_FIELD(T, f) __typeof__(f) *f;
#define ER_DYNLIB_SYM(T, f) {#f, offsetof(T, f)},
#define ER_DYNLIB_DEFINE(lib, type, var, list, what, soname)                                     \
    type var;                                                                                  \
    static const er_dynsym lib##_syms[] = {list(ER_DYNLIB_SYM, type){NULL, 0}};                \
    static er_dynlib lib = ER_DYNLIB_INIT(what, soname, lib##_syms, &var)

#endif
