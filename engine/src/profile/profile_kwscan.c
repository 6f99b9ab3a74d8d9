/*
 * profile_kwscan.c — the keyword scan of evaluation: every pack's keywords in
 * one trie, walked from each position where a keyword may start (the text's
 * start, or after a byte that is not a letter or digit), so a text costs one
 * short walk per word instead of one automaton step per byte and pack, and
 * only from a word whose first three classes begin some walk that goes on (a
 * bit table of class triples, read before the trie). It
 * finds exactly the matches the per-pack automata report once their boundary
 * checks are applied (docs/profiles.md#keywords); those automata stay for
 * evidence, which reports the first match in their order.
 */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "profile/profile_int.h"

/* Byte kinds of the scan: a letter or digit (either case), or an ASCII
 * separator (every other ASCII byte; normalization writes one space for a
 * run of them). Non-ASCII bytes are neither: boundaries, as in normalized text. */
enum { K_WORD = 1, K_SEP = 2, K_START = 4 /* the trie's root has an edge for the byte's class */ };
static uint8_t kind_of(unsigned c)
{
    if (c >= 0x80)
        return 0;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? K_WORD : K_SEP;
}

/* Build state: the trie as node × class (0 = no edge; the root is never a
 * target) and each node's own outputs as a linked list. */
typedef struct kwt_work {
    uint32_t *next;      /* n_nodes × n_cls */
    uint32_t *head;      /* per node: first output + 1, or 0 */
    uint32_t *link;      /* per output: next output + 1 of the same node, or 0 */
    uint32_t *val;       /* per output: kwset << 1 | prefix */
    size_t    n_out;
} kwt_work;

static void kwt_classes(kwtrie *t, const kwauto *packs, size_t n_packs, size_t *total)
{
    memset(t->cls, 0, sizeof t->cls);
    t->n_cls = 1;
    *total = 1;
    for (size_t k = 0; k < n_packs; k++)
        for (size_t p = 0; p < packs[k].n_pats; p++) {
            for (const unsigned char *c = (const unsigned char *)packs[k].raw[p]; *c; c++)
                if (!t->cls[*c])
                    t->cls[*c] = (uint8_t)t->n_cls++;
            *total += packs[k].pats[p].len;
        }
}

static void kwt_insert(kwtrie *t, kwt_work *b, const char *pat, const kwpat *p)
{
    uint32_t cur = 0;
    for (const unsigned char *c = (const unsigned char *)pat; *c; c++) {
        uint32_t *e = &b->next[(size_t)cur * t->n_cls + t->cls[*c]];
        if (!*e)
            *e = t->n_nodes++;
        cur = *e;
    }
    b->val[b->n_out] = p->kwset << 1 | (p->prefix ? 1u : 0u);
    b->link[b->n_out] = b->head[cur];
    b->head[cur] = (uint32_t)++b->n_out;
}

/* Mark the class triples (a, b, c), b in [b0, b1) and c in [c0, c1), in t->tri. */
static void tri_mark(kwtrie *t, uint32_t a, uint32_t b0, uint32_t b1, uint32_t c0, uint32_t c1)
{
    for (uint32_t b = b0; b < b1; b++)
        for (uint32_t c = c0; c < c1; c++) {
            size_t k = ((size_t)a * t->n_cls + b) * t->n_cls + c;
            t->tri[k >> 6] |= (uint64_t)1 << (k & 63);
        }
}

/* The filter of the scan: the class triples a walk from a word start must
 * begin with to reach a fourth step or an output. A triple is marked when
 * the trie has the path a, b, c, or an output after a or after a, b (then
 * every continuation). Up to 64 classes (32 KB); past that, no filter. */
static bool kwt_filter(kwtrie *t)
{
    uint32_t n = t->n_cls;
    if (n > 64)
        return true;
    t->tri = calloc(((size_t)n * n * n + 63) / 64, sizeof *t->tri);
    if (!t->tri)
        return false;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t na = t->next[a];
        if (!na)
            continue;
        if (na & 1u) {
            tri_mark(t, a, 0, n, 0, n);
            continue;
        }
        for (uint32_t b = 0; b < n; b++) {
            uint32_t nb = t->next[(na >> 1) + b];
            if (!nb)
                continue;
            if (nb & 1u) {
                tri_mark(t, a, b, b + 1, 0, n);
                continue;
            }
            for (uint32_t c = 0; c < n; c++)
                if (t->next[(nb >> 1) + c])
                    tri_mark(t, a, b, b + 1, c, c + 1);
        }
    }
    return true;
}

/* Final form: outputs grouped per node (CSR), and each edge stored as
 * (target × n_cls) << 1 | target-has-output, as in the automata. */
static bool kwt_finish(kwtrie *t, kwt_work *b)
{
    t->out_start = calloc((size_t)t->n_nodes + 1, sizeof *t->out_start);
    t->out = malloc((b->n_out ? b->n_out : 1) * sizeof *t->out);
    if (!t->out_start || !t->out)
        return false;
    uint32_t o = 0;
    for (uint32_t q = 0; q < t->n_nodes; q++) {
        t->out_start[q] = o;
        for (uint32_t j = b->head[q]; j; j = b->link[j - 1])
            t->out[o++] = b->val[j - 1];
    }
    t->out_start[t->n_nodes] = o;
    if ((uint64_t)t->n_nodes * t->n_cls >= (1u << 31))
        return false;
    t->next = malloc((size_t)t->n_nodes * t->n_cls * sizeof *t->next);
    if (!t->next)
        return false;
    for (size_t e = 0; e < (size_t)t->n_nodes * t->n_cls; e++) {
        uint32_t q = b->next[e];
        t->next[e] = q ? (q * t->n_cls) << 1 | (t->out_start[q + 1] > t->out_start[q]) : 0;
    }
    return kwt_filter(t);
}

er_status kwt_build(kwtrie *t, const kwauto *packs, size_t n_packs)
{
    er_status st = ER_ENOMEM;
    kwt_work b = {0};
    size_t total, n_pats = 0;
    memset(t, 0, sizeof *t);
    for (size_t k = 0; k < n_packs; k++)
        n_pats += packs[k].n_pats;
    kwt_classes(t, packs, n_packs, &total);
    t->n_nodes = 1;
    b.next = calloc(total * t->n_cls, sizeof *b.next);
    b.head = calloc(total, sizeof *b.head);
    b.link = malloc((n_pats ? n_pats : 1) * sizeof *b.link);
    b.val = malloc((n_pats ? n_pats : 1) * sizeof *b.val);
    if (!b.next || !b.head || !b.link || !b.val)
        goto cleanup;
    for (size_t k = 0; k < n_packs; k++)
        for (size_t p = 0; p < packs[k].n_pats; p++)
            kwt_insert(t, &b, packs[k].raw[p], &packs[k].pats[p]);
    for (unsigned c = 0; c < 256; c++) {
        t->kind[c] = kind_of(c);
        if (c >= 'A' && c <= 'Z')
            t->cls[c] = t->cls[c | 0x20];
        else if (t->kind[c] == K_SEP)
            t->cls[c] = t->cls[' '];
    }
    if (kwt_finish(t, &b)) {
        for (unsigned c = 0; c < 256; c++)
            if (t->cls[c] && t->next[t->cls[c]])
                t->kind[c] |= K_START;
        st = ER_OK;
    }
cleanup:
    free(b.val);
    free(b.link);
    free(b.head);
    free(b.next);
    return st;
}

void kwt_free(kwtrie *t)
{
    if (!t)
        return;
    free(t->next);
    free(t->out_start);
    free(t->out);
    free(t->tri);
    memset(t, 0, sizeof *t);
}

/* The outputs of the node at row whose keyword ends at text[i]. */
static void kwt_hit(const kwtrie *t, uint32_t row, const unsigned char *text, size_t i, size_t len,
                    uint64_t *mask)
{
    uint32_t q = row / t->n_cls;
    bool end_ok = i + 1 >= len || !(t->kind[text[i + 1]] & K_WORD);
    for (uint32_t j = t->out_start[q]; j < t->out_start[q + 1]; j++) {
        uint32_t v = t->out[j];
        if (end_ok || (v & 1u))
            mask[v >> 6 >> 1] |= (uint64_t)1 << (v >> 1 & 63);
    }
}

/* The scan of text[0..len), or, when cstr, of the NUL-terminated text (its
 * length then goes to *cstr_len): one function, so both read exactly alike. */
static inline bool scan(const kwtrie *t, const unsigned char *text, size_t len, bool cstr, uint64_t *mask,
                        size_t *cstr_len)
{
#define AT_END(i) (cstr ? !text[i] : (i) >= len)
    const uint32_t *next = t->next;
    const uint8_t *cls = t->cls, *kind = t->kind;
    unsigned high = 0;
    size_t s = 0;
    for (; !AT_END(s); s++) {
        high |= text[s];
        if (s > 0 && (kind[text[s - 1]] & K_WORD))
            continue;   /* a keyword starts at a boundary */
        if (!(kind[text[s]] & K_START))
            continue;   /* and with a class the trie's root has an edge for */
        if (t->tri && !AT_END(s + 1) && !AT_END(s + 2)) {
            /* the walk's first three steps, unless a run of separators counts as one there */
            unsigned a = text[s], b = text[s + 1], c = text[s + 2];
            if (!(((kind[a] & kind[b]) | (kind[b] & kind[c])) & K_SEP)) {
                size_t k = ((size_t)cls[a] * t->n_cls + cls[b]) * t->n_cls + cls[c];
                if (!(t->tri[k >> 6] >> (k & 63) & 1u))
                    continue;
            }
        }
        uint32_t row = 0;
        for (size_t i = s; !AT_END(i) && next; i++) {
            if ((kind[text[i]] & K_SEP) && i > s && (kind[text[i - 1]] & K_SEP))
                continue;   /* a run of separators is one space */
            uint32_t nx = next[row + cls[text[i]]];
            if (!nx)
                break;
            row = nx >> 1;
            if (nx & 1u)
                kwt_hit(t, row, text, i, cstr ? SIZE_MAX : len, mask);
        }
    }
    if (cstr)
        *cstr_len = s;
    return high < 0x80;
#undef AT_END
}

bool kwt_scan(const kwtrie *t, const char *text, size_t len, uint64_t *mask)
{
    return scan(t, (const unsigned char *)text, len, false, mask, NULL);
}

bool kwt_scan_str(const kwtrie *t, const char *text, uint64_t *mask, size_t *len)
{
    return scan(t, (const unsigned char *)text, 0, true, mask, len);
}
