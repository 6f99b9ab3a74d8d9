/*
 * arena.h — bump allocator and string interning for one batch of declarations.
 *
 * A batch's strings (ids, descriptions, extras) all live in one arena, so a
 * declaration costs no malloc per field and a batch is freed in one call.
 * Pointers handed out stay valid until er_arena_reset() or er_arena_free().
 * The interner returns one pointer per distinct string within the arena
 * lifetime (importer ids, offices, units repeat a lot in a day's feed).
 */
#ifndef ECORISK_ARENA_H
#define ECORISK_ARENA_H

#include "ecorisk/api.h"
#include <stddef.h>
#include <stdint.h>
#include "ecorisk/status.h"

ER_BEGIN_DECLS

typedef struct er_arena er_arena;

er_arena *er_arena_new(size_t block_size);       /* NULL on ENOMEM; free with er_arena_free */
void      er_arena_free(er_arena *a);             /* NULL is a no-op */
void      er_arena_reset(er_arena *a);            /* keeps the first block, forgets the rest */
void     *er_arena_alloc(er_arena *a, size_t n);  /* 8-byte aligned; NULL on ENOMEM */
/* Copy of s[0..len) + NUL, not interned. NULL on ENOMEM. */
char     *er_arena_strndup(er_arena *a, const char *s, size_t len);
/* Interned copy of s[0..len) + NUL: equal strings give the same pointer. */
const char *er_arena_intern(er_arena *a, const char *s, size_t len);
size_t    er_arena_bytes(const er_arena *a);      /* bytes reserved (for memory accounting) */

/* FNV-1a 64-bit, the hash used for ids throughout (stable across platforms). */
uint64_t er_hash64(const void *data, size_t len, uint64_t seed);

ER_END_DECLS
#endif
