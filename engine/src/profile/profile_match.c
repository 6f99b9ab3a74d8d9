/*
 * profile_match.c — the fast matchers profiles compile into: the HS prefix
 * trie shared by every HS set of a profile set (one walk over the declared
 * code answers all sets at once), the keyword automaton of each pack
 * (Aho-Corasick as a dense DFA over byte classes, used for evidence;
 * evaluation scans with profile_kwscan.c), and the text normalization both
 * run on (case-folded, accent-stripped). ASCII and
 * Latin-1 / Latin Extended-A fold through tables; every other script through
 * libutf8proc (docs/profiles.md#keywords).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/grow.h"
#include "profile/profile_int.h"

/* ---- text normalization ---------------------------------------------------- */

/* U+00C0..U+00FF folded to ASCII ("" = treat as separator). */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};
/* U+0100..U+017F (Latin Extended-A) folded to ASCII. */
static const char latinA[129] =
    "aaaaaaccccccccdddd"   /* 0100-0111 */
    "eeeeeeeeeegggggggg"   /* 0112-0123 */
    "hhhhiiiiiiiiiiiijj"   /* 0124-0135: IJ ij folded to i */
    "kkkllllllllllnnnnn"   /* 0136-0147 */
    "nnnnoooooooorrrrrr"   /* 0148-0159: OE oe handled separately */
    "ssssssssttttttuuuu"   /* 015A-016B */
    "uuuuuuuuwwyyyzzzzzz"  /* 016C-017E */
    "s";                   /* 017F long s */

/* ASCII byte → lower-case letter or digit, or 0 for a separator. */
static const unsigned char ascii_fold[128] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g',
    ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n',
    ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
    ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
    ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u',
    ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
};

/* Any other character, through libutf8proc: letters and digits of every script
 * are case-folded, decomposed and stripped of their marks (Cyrillic "Ч" → "ч",
 * Vietnamese "Ệ" → "e"); combining marks vanish; everything else (punctuation,
 * symbols, spaces) is a separator. Returns the new output length. */
static size_t fold_other(utf8proc_int32_t cp, char *out, size_t o, size_t cap, bool *space)
{
    utf8proc_int32_t buf[8];
    int last = 0;
    utf8proc_category_t cat = utf8proc_category(cp);
    if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)
        return o;
    if (!(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) &&
        !(cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO)) {
        if (!*space && o < cap) {
            out[o++] = ' ';
            *space = true;
        }
        return o;
    }
    utf8proc_ssize_t m = utf8proc_decompose_char(
        cp, buf, 8, UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_COMPAT, &last);
    if (m < 0 || m > 8) {   /* cannot happen for a valid code point; keep it as it is */
        buf[0] = cp;
        m = 1;
    }
    for (utf8proc_ssize_t k = 0; k < m; k++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t el = utf8proc_encode_char(buf[k], enc);
        if (el <= 0 || o + (size_t)el > cap)
            return o;
        memcpy(out + o, enc, (size_t)el);
        o += (size_t)el;
    }
    if (m > 0)
        *space = false;
    return o;
}

/* One non-ASCII character at s (avail bytes, at most 4 read): Latin-1 and
 * Latin Extended-A through the tables, anything else through fold_other; an
 * ill-formed byte is a separator. Out of line and by value, so that the ASCII
 * loop of kw_normalize keeps its state in registers. */
typedef struct fold_state {
    size_t used, o;   /* bytes consumed; output length */
    bool   space;     /* the output ends in a separator */
} fold_state;

__attribute__((noinline)) static fold_state fold_nonascii(const unsigned char *s, size_t avail, char *out,
                                                          size_t cap, fold_state st)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(s, (utf8proc_ssize_t)(avail < 4 ? avail : 4), &cp);
    st.used = n > 0 ? (size_t)n : 1;
    if (n <= 0) {
        if (!st.space && st.o < cap) {
            out[st.o++] = ' ';
            st.space = true;
        }
    } else if (cp >= 0xC0 && cp <= 0xFF) {
        const char *f = latin1[cp - 0xC0];
        if (!*f && !st.space && st.o < cap) {
            out[st.o++] = ' ';
            st.space = true;
        }
        for (; *f && st.o < cap; f++) {
            out[st.o++] = *f;
            st.space = false;
        }
    } else if (cp >= 0x100 && cp <= 0x17F) {
        bool oe = cp == 0x152 || cp == 0x153;   /* Œ œ */
        if (oe && st.o < cap)
            out[st.o++] = 'o';
        if (st.o < cap)
            out[st.o++] = oe ? 'e' : latinA[cp - 0x100];
        st.space = false;
    } else {
        st.o = fold_other(cp, out, st.o, cap, &st.space);
    }
    return st;
}

size_t kw_normalize(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    bool space = true;   /* suppress leading and repeated spaces */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len && o < cap && u[i];) {
        unsigned c = u[i];
        if (c < 0x80) {
            /* without a branch on the byte: a separator is written as a space
             * and kept only when the output does not already end in one */
            unsigned char f = ascii_fold[c];
            bool sep = !f;
            out[o] = sep ? ' ' : (char)f;   /* o < cap: loop condition */
            o += !(sep & space);
            space = sep;
            i++;
            continue;
        }
        fold_state st = fold_nonascii(u + i, len == (size_t)-1 ? 4 : len - i, out, cap,
                                      (fold_state){0, o, space});
        i += st.used;
        o = st.o;
        space = st.space;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    return o;
}

/* ---- HS prefix trie -------------------------------------------------------- */

static int32_t hs_node_new(er_profileset *s)
{
    if (s->n_hs == s->cap_hs) {
        size_t nc = s->cap_hs ? s->cap_hs * 2 : 256;
        hsnode *n = realloc(s->hs, nc * sizeof *n);
        if (!n)
            return -1;
        s->hs = n;
        s->cap_hs = nc;
    }
    hsnode *n = &s->hs[s->n_hs];
    for (int i = 0; i < 10; i++)
        n->kid[i] = -1;
    n->bits = -1;
    return (int32_t)s->n_hs++;
}

er_status hs_build(er_profileset *s)
{
    s->hs_words = (uint32_t)((s->n_hssets + 63) / 64);
    if (s->hs_words == 0)
        s->hs_words = 1;
    s->n_hs = 0;
    if (hs_node_new(s) < 0)
        return ER_ENOMEM;
    for (size_t p = 0; p < s->n_hs_pending; p++) {
        const char *pre = s->hs_pending[p];
        int32_t cur = 0;
        for (const char *c = pre; *c; c++) {
            int d = *c - '0';
            if (d < 0 || d > 9)
                break;
            if (s->hs[cur].kid[d] < 0) {
                int32_t nn = hs_node_new(s);
                if (nn < 0)
                    return ER_ENOMEM;
                s->hs[cur].kid[d] = nn;
            }
            cur = s->hs[cur].kid[d];
        }
        if (s->hs[cur].bits < 0) {
            if (!er_grow((void **)&s->hs_bits, &s->cap_hs_bits, s->n_hs_bits + s->hs_words,
                         sizeof *s->hs_bits))
                return ER_ENOMEM;
            s->hs[cur].bits = (int32_t)s->n_hs_bits;
            memset(s->hs_bits + s->n_hs_bits, 0, s->hs_words * sizeof(uint64_t));
            s->n_hs_bits += s->hs_words;
        }
        uint32_t set = s->hs_pending_set[p];
        s->hs_bits[s->hs[cur].bits + set / 64] |= (uint64_t)1 << (set % 64);
    }
    return ER_OK;
}

void hs_lookup(const er_profileset *s, const char *hs, uint64_t *mask)
{
    memset(mask, 0, s->hs_words * sizeof *mask);
    if (!s->n_hs)
        return;
    int32_t cur = 0;
    for (const char *c = hs; *c; c++) {
        unsigned d = (unsigned)(*c - '0');
        if (d > 9)
            return;
        cur = s->hs[cur].kid[d];
        if (cur < 0)
            return;
        int32_t b = s->hs[cur].bits;
        if (b >= 0)
            for (uint32_t w = 0; w < s->hs_words; w++)
                mask[w] |= s->hs_bits[b + w];
    }
}

/* ---- keyword automaton ----------------------------------------------------- */

er_status kw_add(kwauto *k, const char *norm, size_t len, bool prefix, uint32_t kwset)
{
    if (k->n_pats == k->cap_pats) {
        size_t nc = k->cap_pats ? k->cap_pats * 2 : 64;
        kwpat *np = realloc(k->pats, nc * sizeof *np);
        if (!np)
            return ER_ENOMEM;
        k->pats = np;
        char **nr = realloc(k->raw, nc * sizeof *nr);
        if (!nr)
            return ER_ENOMEM;
        k->raw = nr;
        k->cap_pats = nc;
    }
    char *r = malloc(len + 1);
    if (!r)
        return ER_ENOMEM;
    memcpy(r, norm, len);
    r[len] = '\0';
    k->raw[k->n_pats] = r;
    k->pats[k->n_pats] = (kwpat){.len = (uint32_t)len, .kwset = kwset, .prefix = prefix};
    k->n_pats++;
    return ER_OK;
}

/* Working arrays of kw_build, freed when it ends. */
typedef struct kwbuild {
    uint32_t *fail, *queue, *own_start, *own, *cnt;
    size_t    qt;        /* states in BFS order in queue[0 .. qt) (the root excluded) */
} kwbuild;

/* Byte classes of the patterns; returns the trie's size bound (1 + total pattern length). */
static size_t kw_classes(kwauto *k)
{
    memset(k->cls, 0, sizeof k->cls);
    k->n_cls = 1;
    size_t total = 1;
    for (size_t p = 0; p < k->n_pats; p++) {
        for (const unsigned char *c = (const unsigned char *)k->raw[p]; *c; c++)
            if (!k->cls[*c])
                k->cls[*c] = (uint8_t)k->n_cls++;
        total += k->pats[p].len;
    }
    return total;
}

/* The goto function (0 = no edge: the root is never a target) and each state's own outputs. */
static bool kw_trie(kwauto *k, kwbuild *b)
{
    const uint32_t C = k->n_cls;
    k->n_states = 1;
    uint32_t *term = calloc(k->n_pats ? k->n_pats : 1, sizeof *term);
    if (!term)
        return false;
    for (size_t p = 0; p < k->n_pats; p++) {
        uint32_t cur = 0;
        for (const unsigned char *c = (const unsigned char *)k->raw[p]; *c; c++) {
            uint32_t *e = &k->delta[(size_t)cur * C + k->cls[*c]];
            if (!*e)
                *e = k->n_states++;
            cur = *e;
        }
        term[p] = cur;
        b->cnt[cur]++;
    }
    b->own_start = calloc(k->n_states + 1, sizeof *b->own_start);
    b->own = malloc((k->n_pats ? k->n_pats : 1) * sizeof *b->own);
    if (!b->own_start || !b->own) {
        free(term);
        return false;
    }
    for (uint32_t q = 0; q < k->n_states; q++)
        b->own_start[q + 1] = b->own_start[q] + b->cnt[q];
    memset(b->cnt, 0, k->n_states * sizeof *b->cnt);
    for (size_t p = 0; p < k->n_pats; p++)
        b->own[b->own_start[term[p]] + b->cnt[term[p]]++] = (uint32_t)p;
    free(term);
    return true;
}

/* BFS: failure links, and the complete DFA. */
static void kw_failure(kwauto *k, kwbuild *b)
{
    const uint32_t C = k->n_cls;
    size_t qh = 0, qt = 0;
    for (uint32_t c = 0; c < C; c++) {
        uint32_t t = k->delta[c];
        if (t) {
            b->fail[t] = 0;
            b->queue[qt++] = t;
        }
    }
    while (qh < qt) {
        uint32_t q = b->queue[qh++];
        for (uint32_t c = 0; c < C; c++) {
            uint32_t *e = &k->delta[(size_t)q * C + c];
            if (*e) {
                b->fail[*e] = k->delta[(size_t)b->fail[q] * C + c];
                b->queue[qt++] = *e;
            } else {
                *e = k->delta[(size_t)b->fail[q] * C + c];
            }
        }
    }
    b->qt = qt;
}

/* Merged outputs: own + fail chain (BFS order guarantees fail done first). */
static bool kw_outputs(kwauto *k, kwbuild *b)
{
    k->out_start = calloc(k->n_states + 1, sizeof *k->out_start);
    if (!k->out_start)
        return false;
    uint32_t *mcount = b->cnt;   /* reuse: merged count per state */
    memset(mcount, 0, k->n_states * sizeof *mcount);
    for (size_t i = 0; i < b->qt; i++) {
        uint32_t q = b->queue[i];
        mcount[q] = (b->own_start[q + 1] - b->own_start[q]) + mcount[b->fail[q]];
    }
    for (uint32_t q = 0; q < k->n_states; q++)
        k->out_start[q + 1] = k->out_start[q] + mcount[q];
    k->out = malloc((k->out_start[k->n_states] ? k->out_start[k->n_states] : 1) * sizeof *k->out);
    if (!k->out)
        return false;
    for (size_t i = 0; i < b->qt; i++) {
        uint32_t q = b->queue[i], o = k->out_start[q];
        for (uint32_t j = b->own_start[q]; j < b->own_start[q + 1]; j++)
            k->out[o++] = b->own[j];
        uint32_t f = b->fail[q];
        for (uint32_t j = k->out_start[f]; j < k->out_start[f + 1]; j++)
            k->out[o++] = k->out[j];
    }
    return true;
}

/* Renumber states in BFS order: the shallow states every scan keeps visiting
 * become contiguous rows (cache locality). */
static bool kw_renumber(kwauto *k, const kwbuild *b)
{
    const uint32_t C = k->n_cls;
    uint32_t *newid = malloc(k->n_states * sizeof *newid);
    uint32_t *nd = malloc((size_t)k->n_states * C * sizeof *nd);
    uint32_t *nos = malloc((k->n_states + 1) * sizeof *nos);
    uint32_t *nout = malloc((k->out_start[k->n_states] ? k->out_start[k->n_states] : 1) * sizeof *nout);
    if (!newid || !nd || !nos || !nout) {
        free(newid);
        free(nd);
        free(nos);
        free(nout);
        return false;
    }
    newid[0] = 0;
    for (size_t i = 0; i < b->qt; i++)
        newid[b->queue[i]] = (uint32_t)(i + 1);
    nos[0] = 0;
    for (uint32_t n = 0; n < k->n_states; n++) {
        uint32_t old = n == 0 ? 0 : b->queue[n - 1];
        for (uint32_t c = 0; c < C; c++)
            nd[(size_t)n * C + c] = newid[k->delta[(size_t)old * C + c]];
        uint32_t oc = k->out_start[old + 1] - k->out_start[old];
        memcpy(nout + nos[n], k->out + k->out_start[old], oc * sizeof *nout);
        nos[n + 1] = nos[n] + oc;
    }
    free(newid);
    free(k->delta);
    free(k->out_start);
    free(k->out);
    k->delta = nd;
    k->out_start = nos;
    k->out = nout;
    return true;
}

er_status kw_build(kwauto *k)
{
    er_status st = ER_ENOMEM;
    kwbuild b = {0};
    size_t cap_states = kw_classes(k);
    const uint32_t C = k->n_cls;
    k->delta = calloc(cap_states * C, sizeof *k->delta);
    b.fail = calloc(cap_states, sizeof *b.fail);
    b.queue = malloc(cap_states * sizeof *b.queue);
    b.cnt = calloc(cap_states, sizeof *b.cnt);
    if (!k->delta || !b.fail || !b.queue || !b.cnt || !kw_trie(k, &b))
        goto cleanup;
    kw_failure(k, &b);
    if (!kw_outputs(k, &b) || !kw_renumber(k, &b))
        goto cleanup;
    /* final form: each entry is (target * C) << 1 | target-has-output, so the
     * scan needs no multiply and no second load on the common path */
    if ((uint64_t)k->n_states * C >= (1u << 31))
        goto cleanup;
    for (size_t e = 0; e < (size_t)k->n_states * C; e++) {
        uint32_t t = k->delta[e];
        k->delta[e] = (t * C) << 1 | (k->out_start[t + 1] > k->out_start[t]);
    }
    st = ER_OK;
cleanup:
    for (size_t p = 0; p < k->n_pats; p++)
        free(k->raw ? k->raw[p] : NULL);
    free(k->raw);
    k->raw = NULL;
    free(b.own);
    free(b.own_start);
    free(b.cnt);
    free(b.queue);
    free(b.fail);
    return st;
}

void kw_free(kwauto *k)
{
    if (!k)
        return;
    if (k->raw)
        for (size_t p = 0; p < k->n_pats; p++)
            free(k->raw[p]);
    free(k->raw);
    free(k->delta);
    free(k->out_start);
    free(k->out);
    free(k->pats);
    memset(k, 0, sizeof *k);
}
