/*
 * api.h — how the public headers declare the library's interface.
 *
 * Every public header wraps its declarations in ER_BEGIN_DECLS / ER_END_DECLS:
 *  - for C++ they are extern "C", so a C++ program links against libecorisk;
 *  - they carry default visibility. The library itself is compiled with
 *    -fvisibility=hidden, so exactly what a public header declares is exported
 *    from libecorisk.so, and every internal function (private headers under
 *    engine/src and feeds/src) stays inside the library.
 * A header under engine/include/ecorisk/ that declares functions must use the
 * pair; nothing else is needed to export a new function.
 */
#ifndef ECORISK_API_H
#define ECORISK_API_H

#if defined(__GNUC__) || defined(__clang__)
#define ER_VISIBILITY_PUSH_ _Pragma("GCC visibility push(default)")
#define ER_VISIBILITY_POP_  _Pragma("GCC visibility pop")
#else
#define ER_VISIBILITY_PUSH_
#define ER_VISIBILITY_POP_
#endif

#ifdef __cplusplus
#define ER_BEGIN_DECLS extern "C" { ER_VISIBILITY_PUSH_
#define ER_END_DECLS   ER_VISIBILITY_POP_ }
#else
#define ER_BEGIN_DECLS ER_VISIBILITY_PUSH_
#define ER_END_DECLS   ER_VISIBILITY_POP_
#endif

#endif
