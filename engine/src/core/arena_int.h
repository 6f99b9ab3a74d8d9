/*
 * arena_int.h — the arena's layout (arena.c), for the one allocation made
 * per string field of every record: er_arena_strndup_inline takes its bytes
 * from the current block without a call, and calls er_arena_strndup only
 * when the block is full. Private to the library.
 */
#ifndef ER_CORE_ARENA_INT_H
#define ER_CORE_ARENA_INT_H

#include <stdint.h>
#include <string.h>
#include "ecorisk/arena.h"

typedef struct arena_block {
    struct arena_block *next;
    size_t              size, used;
    unsigned char       data[];
} arena_block;

typedef struct islot {
    const char *s;
    uint32_t    len;
    uint32_t    hash;
} islot;

struct er_arena {
    arena_block *head;         /* current block (newest first) */
    arena_block *first;        /* kept on reset */
    arena_block *spare;        /* standard-size blocks kept by reset, reused before malloc */
    size_t       n_spare;
    size_t       block_size;
    size_t       reserved;
    islot       *slots;        /* interner */
    size_t       n_slots, n_used;
};

/* An allocation's size in its block: 8-byte aligned. */
static inline size_t arena_round(size_t n) { return (n + 7) & ~(size_t)7; }

/* er_arena_strndup, the same bytes at the same place. */
static inline char *er_arena_strndup_inline(er_arena *a, const char *s, size_t len)
{
    size_t n = arena_round(len + 1);
    arena_block *b = a->head;
    if (b->used + n > b->size)
        return er_arena_strndup(a, s, len);
    char *p = (char *)b->data + b->used;
    b->used += n;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

#endif
