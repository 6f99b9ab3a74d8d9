/*
 * arena.c — bump allocator with an open-addressing string interner, one per
 * batch (see arena.h). Blocks are chained; reset keeps the first block and
 * up to ARENA_SPARE more of the standard size for reuse, so a steady-state
 * batch loop allocates (and page-faults) nothing, while one outsized batch
 * does not pin its memory.
 */
#include "ecorisk/arena.h"
#include "core/arena_int.h"
#include "core/bigmem.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_SPARE 4

typedef arena_block block;

uint64_t er_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static block *block_new(size_t size)
{
    block *b = er_big_alloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

er_arena *er_arena_new(size_t block_size)
{
    er_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : 1u << 20;
    a->first = a->head = block_new(a->block_size);
    if (!a->first) {
        free(a);
        return NULL;
    }
    a->reserved = a->block_size;
    return a;
}

void er_arena_free(er_arena *a)
{
    if (!a)
        return;
    for (int list = 0; list < 2; list++) {
        block *b = list ? a->spare : a->head;
        while (b) {
            block *n = b->next;
            free(b);
            b = n;
        }
    }
    free(a->slots);
    free(a);
}

void er_arena_reset(er_arena *a)
{
    block *b = a->head;
    while (b && b != a->first) {
        block *n = b->next;
        if (b->size == a->block_size && a->n_spare < ARENA_SPARE) {
            b->next = a->spare;
            a->spare = b;
            a->n_spare++;
        } else {
            free(b);
        }
        b = n;
    }
    a->head = a->first;
    a->first->used = 0;
    a->first->next = NULL;
    a->reserved = a->first->size;
    if (a->slots && a->n_used)
        memset(a->slots, 0, a->n_slots * sizeof *a->slots);
    a->n_used = 0;
}

void *er_arena_alloc(er_arena *a, size_t n)
{
    n = arena_round(n);
    block *b = a->head;
    if (b->used + n > b->size) {
        size_t sz = n > a->block_size ? n : a->block_size;
        block *nb;
        if (sz == a->block_size && a->spare) {
            nb = a->spare;
            a->spare = nb->next;
            a->n_spare--;
            nb->used = 0;
        } else if (!(nb = block_new(sz))) {
            return NULL;
        }
        nb->next = a->head;
        a->head = nb;
        a->reserved += sz;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *er_arena_strndup(er_arena *a, const char *s, size_t len)
{
    char *p = er_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static int intern_grow(er_arena *a)
{
    size_t n = a->n_slots ? a->n_slots * 2 : 1024;
    islot *ns = calloc(n, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < a->n_slots; i++) {
        if (!a->slots[i].s)
            continue;
        size_t j = a->slots[i].hash & (n - 1);
        while (ns[j].s)
            j = (j + 1) & (n - 1);
        ns[j] = a->slots[i];
    }
    free(a->slots);
    a->slots = ns;
    a->n_slots = n;
    return 0;
}

const char *er_arena_intern(er_arena *a, const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    if ((a->n_used + 1) * 2 > a->n_slots && intern_grow(a) != 0)
        return NULL;
    uint32_t h = (uint32_t)er_hash64(s, len, 0);
    size_t mask = a->n_slots - 1, j = h & mask;
    while (a->slots[j].s) {
        if (a->slots[j].hash == h && a->slots[j].len == len && memcmp(a->slots[j].s, s, len) == 0)
            return a->slots[j].s;
        j = (j + 1) & mask;
    }
    char *p = er_arena_strndup(a, s, len);
    if (!p)
        return NULL;
    a->slots[j].s = p;
    a->slots[j].len = (uint32_t)len;
    a->slots[j].hash = h;
    a->n_used++;
    return p;
}

size_t er_arena_bytes(const er_arena *a)
{
    return a->reserved + a->n_slots * sizeof(islot);
}
