/*
 * csv.c — the RFC 4180 tokenizer behind the CSV feed reader (see csv.h).
 *
 * Fast path: memchr finds the line end; one SSE2 pass over a line of up to
 * 1 KiB builds bitmaps of its commas and quotes, a prefix XOR of the quotes
 * marks what lies inside quoted fields, and the line is split in place at the
 * commas outside them (quoted fields become views between their quotes).
 * Longer quote-free lines are split by a plain SSE2 scan. Records with a
 * doubled quote or a field spanning lines take the state machine
 * (slow_parse), which unescapes into a scratch buffer. The same pass tells
 * whether the record is pure ASCII without NUL, so validation can skip its
 * UTF-8 checks. Nothing is allocated per record or per field; both buffers
 * start small and grow to the record limit only when a record needs it.
 */
#include "csv.h"
#include "core/grow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define READ_EXTRA (256u * 1024u)

struct er_csv {
    rbuf       rb;
    size_t     max_record;
    uint64_t   line;          /* line number of the byte at rb.pos */
    uint64_t   blank;
    bool       started;       /* BOM check done */
    bool       skip_nl;       /* discard through the next '\n' before parsing */
    bool       sm_only;       /* csv_state_machine_only() */
    csv_field *f;
    size_t     fcap;
    char      *scratch;       /* unescaped fields of a quoted record */
    size_t     scratch_cap;   /* kept >= rb.cap: unescaping never lengthens a record */
    /* parsing a cut (csv_mem_reset): the records the cutter resolved, met in turn */
    const rcut *cut;
    size_t     bad_i;
};

er_status csv_open(er_csv **out, er_src *src, size_t max_record, er_err *err)
{
    er_status st = ER_OK;
    er_csv *c = calloc(1, sizeof *c);
    if (!c)
        return er_errf(err, ER_ENOMEM, "out of memory");
    c->max_record = max_record;
    c->line = 1;
    c->fcap = 64;
    c->f = malloc(c->fcap * sizeof *c->f);
    if (!c->f) {
        st = er_errf(err, ER_ENOMEM, "out of memory");
        goto fail;
    }
    st = rbuf_init(&c->rb, src, max_record + READ_EXTRA, err);
    if (st != ER_OK)
        goto fail;
    *out = c;
    return ER_OK;
fail:
    csv_free(c);
    return st;
}

void csv_free(er_csv *c)
{
    if (!c)
        return;
    rbuf_free(&c->rb);
    free(c->scratch);
    free(c->f);
    free(c);
}

uint64_t csv_blank_lines(const er_csv *c) { return c->blank; }
uint64_t csv_bytes(const er_csv *c) { return c->rb.consumed + c->rb.pos; }
void csv_state_machine_only(er_csv *c) { c->sm_only = true; }

/* Room for at least `need` fields (the growth itself is out of line, so the
 * per-line check stays one comparison). */
static __attribute__((noinline)) bool fields_grow(er_csv *c, size_t need)
{
    return er_grow((void **)&c->f, &c->fcap, need, sizeof *c->f);
}

static inline bool fields_reserve(er_csv *c, size_t need)
{
    return need <= c->fcap || fields_grow(c, need);
}

static inline bool push_field(er_csv *c, size_t *n, const char *p, size_t len)
{
    if (*n == c->fcap && !fields_reserve(c, *n + 1))
        return false;
    c->f[*n].p = p;
    c->f[*n].len = (uint32_t)len;
    (*n)++;
    return true;
}

static size_t count_nl(const char *p, const char *e)
{
    size_t k = 0;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

enum { SP_DONE, SP_MORE, SP_ERR, SP_OPEN, SP_NOMEM };

/* First ',', '\n' or '"' in [p, e), or e. May read up to 15 bytes past e
 * (the read buffer has slack). */
static inline const char *find3(const char *p, const char *e)
{
#ifdef __SSE2__
    const __m128i c = _mm_set1_epi8(','), n = _mm_set1_epi8('\n'), q = _mm_set1_epi8('"');
    while (p < e) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c), _mm_cmpeq_epi8(v, n)), _mm_cmpeq_epi8(v, q)));
        if (m) {
            const char *r = p + __builtin_ctz(m);
            return r < e ? r : e;
        }
        p += 16;
    }
    return e;
#else
    while (p < e && *p != ',' && *p != '\n' && *p != '"')
        p++;
    return p;
#endif
}

/* State machine for one record starting at s (it has a quote somewhere).
 * Quoted fields without "" escapes are views into the buffer; only fields
 * with escapes are unescaped into the scratch buffer.
 * SP_DONE: record parsed, *next = first byte after it, *nl = newlines used.
 * SP_MORE: need more input. SP_ERR: syntax error at *next (resync at the next
 * newline), *nl = newlines before it. SP_OPEN: quote still open at end of input. */
static int slow_parse(er_csv *c, const char *s, const char *e, bool eof, size_t *nf,
                      const char **next, uint64_t *nl, const char **msg)
{
    char *out = c->scratch;
    const char *p = s;
    uint64_t lines = 0;
    size_t n = 0;
    for (;;) {
        if (p < e && *p == '"') {
            const char *fs = ++p;
            char *os = NULL;   /* set once an escape forces a copy */
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(e - p));
                if (!q)
                    return eof ? SP_OPEN : SP_MORE;
                if (q + 1 == e && !eof)
                    return SP_MORE;
                if (q + 1 < e && q[1] == '"') {
                    if (!os) {
                        os = out;
                        memcpy(out, fs, (size_t)(q - fs));
                        out += q - fs;
                    } else {
                        memcpy(out, p, (size_t)(q - p));
                        out += q - p;
                    }
                    *out++ = '"';
                    p = q + 2;
                    continue;
                }
                lines += count_nl(fs, q);
                bool ok;
                if (os) {
                    memcpy(out, p, (size_t)(q - p));
                    out += q - p;
                    ok = push_field(c, &n, os, (size_t)(out - os));
                } else {
                    ok = push_field(c, &n, fs, (size_t)(q - fs));
                }
                if (!ok)
                    return SP_NOMEM;
                p = q + 1;
                break;
            }
            if (p == e) {
                if (!eof)
                    return SP_MORE;
                break;
            }
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == '\n') {
                p++;
                lines++;
                break;
            }
            if (*p == '\r') {
                if (p + 1 == e && !eof)
                    return SP_MORE;
                if (p + 1 < e && p[1] == '\n') {
                    p += 2;
                    lines++;
                    break;
                }
                if (p + 1 == e) {   /* a CR ending the input ends the line, as after an unquoted field */
                    p++;
                    break;
                }
            }
            *next = p;
            *nl = lines;
            *msg = "unexpected character after a closing quote (quotes inside a field must be doubled)";
            return SP_ERR;
        }
        /* unquoted field */
        const char *q = find3(p, e);
        if (q < e && *q == '"') {
            *next = q;
            *nl = lines;
            *msg = "double quote inside an unquoted field";
            return SP_ERR;
        }
        if (q == e && !eof)
            return SP_MORE;
        const char *fe = q;
        if ((q == e || *q == '\n') && fe > p && fe[-1] == '\r')
            fe--;
        if (!push_field(c, &n, p, (size_t)(fe - p)))
            return SP_NOMEM;
        if (q == e) {
            p = q;
            break;
        }
        if (*q == ',') {
            p = q + 1;
            continue;
        }
        p = q + 1;   /* '\n' */
        lines++;
        break;
    }
    *nf = n;
    *next = p;
    *nl = lines;
    return SP_DONE;
}

/* Split a quote-free line [s, e) at commas. Returns false if a quote was
 * seen (caller takes the slow path) or on ENOMEM (*nomem set). */
static bool split_plain(er_csv *c, const char *s, const char *e, size_t *nf, bool *ascii,
                        bool *nomem)
{
    size_t n = 0;
    const char *fs = s;
    size_t len = (size_t)(e - s);
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
    unsigned other = 0;   /* bytes >= 0x80 or NUL */
    for (size_t i = 0; i < len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma));
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
        unsigned mo = (unsigned)_mm_movemask_epi8(v) | (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
        if (len - i < 16) {
            unsigned keep = (1u << (len - i)) - 1u;
            mc &= keep;
            mq &= keep;
            mo &= keep;
        }
        other |= mo;
        if (mq)
            return false;
        while (mc) {
            const char *at = s + i + (unsigned)__builtin_ctz(mc);
            mc &= mc - 1;
            if (!push_field(c, &n, fs, (size_t)(at - fs))) {
                *nomem = true;
                return false;
            }
            fs = at + 1;
        }
    }
    *ascii = other == 0;
#else
    *ascii = true;
    for (const char *p = s; p < e; p++) {
        if (*p == '"')
            return false;
        if ((unsigned char)*p >= 0x80 || *p == '\0')
            *ascii = false;
        if (*p == ',') {
            if (!push_field(c, &n, fs, (size_t)(p - fs))) {
                *nomem = true;
                return false;
            }
            fs = p + 1;
        }
    }
#endif
    if (!push_field(c, &n, fs, (size_t)(e - fs))) {
        *nomem = true;
        return false;
    }
    *nf = n;
    return true;
}

#ifdef __SSE2__
/* Lines up to this many 64-byte words are split through bitmaps. */
#define SPLIT_WORDS 16

/* Bitmaps of the 64 bytes at p (bit i = byte i): commas, quotes, bytes
 * that are not ASCII or are NUL, bytes <= ' ' (what trimming looks at) and,
 * when newline is not NULL, newlines. */
static inline void masks64(const char *p, uint64_t *comma, uint64_t *quote, uint64_t *other, uint64_t *low,
                           uint64_t *newline)
{
    const __m128i zero = _mm_setzero_si128(), cm = _mm_set1_epi8(','), qm = _mm_set1_epi8('"'),
                  sp = _mm_set1_epi8(' '), nm = _mm_set1_epi8('\n');
    uint64_t c = 0, q = 0, o = 0, l = 0, n = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cm)) << (16 * k);
        q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, qm)) << (16 * k);
        o |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, zero))) << (16 * k);
        l |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, sp), sp)) << (16 * k);
        if (newline)
            n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nm)) << (16 * k);
    }
    *comma = c;
    *quote = q;
    *other = o;
    *low = l;
    if (newline)
        *newline = n;
}

static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* The bitmaps of one line of len bytes (nw = its 64-byte words, at most
 * SPLIT_WORDS), as split_words takes them; other is the OR of ot, known once
 * masks_trim has run. */
typedef struct line_masks {
    uint64_t cm[SPLIT_WORDS + 1], qm[SPLIT_WORDS], lw[SPLIT_WORDS], ot[SPLIT_WORDS], other;
    size_t   len, nw;
} line_masks;

/* Bits past the line's last byte cleared (the words were read whole), and
 * other taken over the line's words. */
static inline void masks_trim(line_masks *m)
{
    size_t w = m->nw - 1;
    if (m->len % 64) {
        uint64_t keep = (UINT64_C(1) << (m->len % 64)) - 1;
        m->cm[w] &= keep;
        m->qm[w] &= keep;
        m->lw[w] &= keep;
        m->ot[w] &= keep;
    }
    m->cm[m->nw] = 0;
    m->other = 0;
    for (size_t k = 0; k < m->nw; k++)
        m->other |= m->ot[k];
}

/* Split a line s[0..m->len) whose quoted fields hold no doubled quote from
 * its bitmaps: a prefix XOR of the quotes for what lies inside them, and the
 * separators are the commas outside. A quoted field becomes a view between
 * its quotes. *trimmed tells whether no field's view starts or ends with a
 * byte <= ' '. Returns false when the line needs the state machine (a
 * doubled quote, a quote not at a field's edge, a quote left open: a field
 * spanning lines) or on ENOMEM (*nomem set). */
static bool split_words(er_csv *c, const char *s, const line_masks *lm, size_t *nf, bool *ascii, bool *trimmed,
                        bool *nomem)
{
    size_t len = lm->len, nw = lm->nw;
    const uint64_t *cm = lm->cm, *qm = lm->qm, *lw = lm->lw;
    uint64_t sep[SPLIT_WORDS];
    uint64_t inside = 0, prev_comma = 1;   /* the line start counts as a comma */
    /* a view's first byte follows a separator or an opening quote (or starts
     * the line), its last one precedes a separator or a closing quote (or
     * ends the line): edge_bad collects the bytes <= ' ' found there */
    uint64_t edge_bad = 0, prev_open = 1, prev_low = 0;
    for (size_t w = 0; w < nw; w++) {
        uint64_t q = qm[w], cw = cm[w];
        uint64_t in = prefix_xor(q) ^ inside;   /* 1 from an opening quote to before its closing one */
        inside = (uint64_t)((int64_t)in >> 63);
        uint64_t open = q & in, close = q & ~in;
        uint64_t before = cw << 1 | prev_comma;   /* the previous byte is a comma */
        uint64_t after = cw >> 1 | cm[w + 1] << 63;   /* the next byte is a comma */
        if (w == nw - 1)
            after |= UINT64_C(1) << ((len - 1) % 64);   /* or the line ends */
        if ((open & ~before) | (close & ~after))
            return false;
        prev_comma = cw >> 63;
        sep[w] = cw & ~in;
        uint64_t starts = sep[w] | open, ends = sep[w] | close;
        edge_bad |= (lw[w] & (starts << 1 | prev_open)) | ((lw[w] << 1 | prev_low) & ends);
        prev_open = starts >> 63;
        prev_low = lw[w] >> 63;
    }
    if (inside)
        return false;
    *trimmed = !edge_bad && (unsigned char)s[len - 1] > ' ';
    if (!fields_reserve(c, len + 1)) {   /* a bound on the fields, so the loop needs no check */
        *nomem = true;
        return false;
    }
    csv_field *out = c->f;
    size_t n = 0, fs = 0;
    for (size_t w = 0; w <= nw; w++) {
        uint64_t m = w < nw ? sep[w] : 0;
        for (;;) {
            size_t fe;
            if (m) {
                fe = 64 * w + (size_t)__builtin_ctzll(m);
                m &= m - 1;
            } else if (w == nw) {
                fe = len;
            } else {
                break;
            }
            const char *p = s + fs;
            size_t k = fe - fs;
            if (k >= 2 && p[0] == '"') {   /* "..." (its closing quote is the last byte) */
                p++;
                k -= 2;
            }
            out[n].p = p;
            out[n].len = (uint32_t)k;
            n++;
            fs = fe + 1;
            if (w == nw)
                break;
        }
    }
    *nf = n;
    *ascii = lm->other == 0;
    return true;
}

/* Split a line [s, e) of at most SPLIT_WORDS * 64 bytes (split_words). May
 * read up to 63 bytes past e (the buffer's slack). */
static bool split_quoted(er_csv *c, const char *s, const char *e, size_t *nf, bool *ascii,
                         bool *trimmed, bool *nomem)
{
    line_masks m;
    m.len = (size_t)(e - s);
    m.nw = (m.len + 63) / 64;
    for (size_t w = 0; w < m.nw; w++)
        masks64(s + 64 * w, &m.cm[w], &m.qm[w], &m.ot[w], &m.lw[w], NULL);
    masks_trim(&m);
    return split_words(c, s, &m, nf, ascii, trimmed, nomem);
}

/* The line at s, when its newline lies within SPLIT_WORDS words and before e
 * (the end of the bytes read), found and split from one set of bitmaps:
 * *nl at its '\n', *lend after its last byte (a CR before the newline is
 * not the line's). false: anything else (no newline yet, a blank or longer
 * line, a line the state machine must read, *nomem) for csv_next's own path. */
static bool split_line(er_csv *c, const char *s, const char *e, const char **nl, const char **lend, size_t *nf,
                       bool *ascii, bool *trimmed, bool *nomem)
{
    line_masks m;
    const char *n = NULL;
    size_t w = 0;
    for (; w < SPLIT_WORDS && s + 64 * w < e; w++) {
        uint64_t nm;
        masks64(s + 64 * w, &m.cm[w], &m.qm[w], &m.ot[w], &m.lw[w], &nm);
        if ((size_t)(e - (s + 64 * w)) < 64)
            nm &= (UINT64_C(1) << (e - (s + 64 * w))) - 1;   /* what lies past e is not read data */
        if (nm) {
            n = s + 64 * w + __builtin_ctzll(nm);
            break;
        }
    }
    if (!n)
        return false;
    if ((size_t)(n - s) > c->max_record)
        return false;
    const char *le = n;
    if (le > s && le[-1] == '\r')
        le--;
    m.len = (size_t)(le - s);
    if (m.len == 0)
        return false;
    m.nw = (m.len + 63) / 64;
    masks_trim(&m);
    if (!split_words(c, s, &m, nf, ascii, trimmed, nomem))
        return false;
    *nl = n;
    *lend = le;
    return true;
}
#endif

/* Split one line in place when no state machine is needed. */
static bool fast_split(er_csv *c, const char *s, const char *e, size_t *nf, bool *ascii,
                       bool *trimmed, bool *nomem)
{
    *trimmed = false;
#ifdef __SSE2__
    if ((size_t)(e - s) <= SPLIT_WORDS * 64)
        return split_quoted(c, s, e, nf, ascii, trimmed, nomem);
#endif
    return split_plain(c, s, e, nf, ascii, nomem);
}

static void set_err(csv_rec *rec, csv_rerr e, const char *msg, const char *raw, size_t raw_len,
                    uint64_t line, uint64_t err_line)
{
    rec->f = NULL;
    rec->n = 0;
    rec->err = e;
    rec->errmsg = msg;
    rec->raw = raw;
    rec->raw_len = raw_len;
    rec->line = line;
    rec->err_line = err_line;
}

/* A line split without the state machine: rec filled, the line consumed. */
static inline void split_done(er_csv *c, csv_rec *rec, const char *s, const char *lend, const char *after, size_t n,
                              bool ascii, bool trimmed)
{
    rec->f = c->f;
    rec->n = n;
    rec->ascii = ascii;
    rec->trimmed = trimmed;
    rec->line = c->line;
    rec->raw = s;
    rec->raw_len = (size_t)(lend - s);
    c->rb.pos = (size_t)(after - c->rb.buf);
    c->line++;
}

er_status csv_next(er_csv *c, csv_rec *rec, er_err *err)
{
    rbuf *r = &c->rb;
    er_status st;
    memset(rec, 0, sizeof *rec);
    if ((st = rbuf_begin(r, &c->started, &c->skip_nl, &c->line, err)) != ER_OK)
        return st;
    for (;;) {
        const char *s = NULL, *nlp = NULL;
        const rcut_bad *b = rcut_bad_at(c->cut, &c->bad_i, r->pos);
        if (b) {   /* resolved by the cutter */
            set_err(rec, (csv_rerr)b->kind, c->cut->xbuf + b->msg_off, c->cut->xbuf + b->raw_off, b->raw_len,
                    b->line, b->err_line);
            c->line = b->resume_line;
            return ER_OK;
        }
#ifdef __SSE2__
        if (!c->sm_only && r->pos < r->end) {   /* most lines: end and fields from one pass */
            size_t n = 0;
            bool nomem = false, ascii = false, trimmed = false;
            const char *lend;
            s = r->buf + r->pos;
            if (split_line(c, s, r->buf + r->end, &nlp, &lend, &n, &ascii, &trimmed, &nomem)) {
                split_done(c, rec, s, lend, nlp + 1, n, ascii, trimmed);
                return ER_OK;
            }
            if (nomem)
                return er_errf(err, ER_ENOMEM, "out of memory splitting a CSV record");
        }
#endif
        st = rbuf_line(r, c->max_record, &s, &nlp, err);
        if (st == ER_ELIMIT) {
            set_err(rec, CSV_ETOOLONG, "line longer than the record limit", s, 256, c->line, c->line);
            r->pos = r->end;
            c->skip_nl = true;
            return ER_OK;
        }
        if (st != ER_OK)
            return st;
        const char *e = r->buf + r->end;
        const char *le = nlp ? nlp : e;
        const char *after = nlp ? nlp + 1 : e;
        const char *lend = le;
        if (lend > s && lend[-1] == '\r')
            lend--;
        if (lend == s) {
            c->blank++;
            r->pos = (size_t)(after - r->buf);
            if (nlp)
                c->line++;
            continue;
        }
        if ((size_t)(le - s) > c->max_record) {
            set_err(rec, CSV_ETOOLONG, "line longer than the record limit", s, 256, c->line, c->line);
            r->pos = (size_t)(after - r->buf);
            c->line++;
            return ER_OK;
        }
        size_t n = 0;
        bool nomem = false, ascii = false, trimmed = false;
        if (!c->sm_only && fast_split(c, s, lend, &n, &ascii, &trimmed, &nomem)) {
            split_done(c, rec, s, lend, after, n, ascii, trimmed);
            return ER_OK;
        }
        if (nomem)
            return er_errf(err, ER_ENOMEM, "out of memory splitting a CSV record");
        if (c->scratch_cap < r->cap) {
            char *ns = realloc(c->scratch, r->cap + RBUF_SLACK);
            if (!ns)
                return er_errf(err, ER_ENOMEM, "out of memory unescaping a CSV record");
            c->scratch = ns;
            c->scratch_cap = r->cap;
        }
        const char *next = NULL, *msg = NULL;
        uint64_t nl = 0;
        int rc = slow_parse(c, s, e, r->eof, &n, &next, &nl, &msg);
        switch (rc) {
        case SP_DONE:
            rec->f = c->f;
            rec->n = n;
            rec->line = c->line;
            rec->raw = s;
            rec->raw_len = (size_t)(next - s);
            /* the line end (LF, CRLF, or a CR ending the input) is not the record's */
            if (rec->raw_len && s[rec->raw_len - 1] == '\n')
                rec->raw_len--;
            if (rec->raw_len && s[rec->raw_len - 1] == '\r')
                rec->raw_len--;
            r->pos = (size_t)(next - r->buf);
            c->line += nl;
            return ER_OK;
        case SP_MORE:
            if ((size_t)(e - s) > c->max_record) {
                if (nlp) {
                    set_err(rec, CSV_ESYNTAX, "quoted field not closed within the record limit", s,
                            (size_t)(nlp - s), c->line, c->line);
                    r->pos = (size_t)(nlp + 1 - r->buf);
                    c->line++;
                } else {
                    set_err(rec, CSV_ETOOLONG, "line longer than the record limit", s, 256,
                            c->line, c->line);
                    r->pos = r->end;
                    c->skip_nl = true;
                }
                return ER_OK;
            }
            if ((st = rbuf_fill(r, err)) != ER_OK)
                return st;
            continue;
        case SP_OPEN:
            set_err(rec, CSV_ESYNTAX, "quoted field not closed before the end of input", s,
                    (size_t)(le - s), c->line, c->line);
            r->pos = (size_t)(after - r->buf);
            if (nlp)
                c->line++;
            return ER_OK;
        case SP_ERR:
            set_err(rec, CSV_ESYNTAX, msg, s, (size_t)(next - s) + 1, c->line, c->line + nl);
            r->pos = (size_t)(next - r->buf);
            c->line += nl;
            c->skip_nl = true;
            return ER_OK;
        default:
            return er_errf(err, ER_ENOMEM, "out of memory splitting a CSV record");
        }
    }
}

/* ---- cutting and parsing apart (csv.h; docs/feeds.md, "Reading on several threads") ---- */

/* Whether [s, e) holds an even number of double quotes. */
static bool quotes_even(const char *s, const char *e)
{
    const char *p = memchr(s, '"', (size_t)(e - s));
    if (!p)
        return true;
    size_t k = 0, len = (size_t)(e - p);
    for (size_t i = 0; i < len; i++)
        k += p[i] == '"';
    return k % 2 == 0;
}

#ifdef __SSE2__
/* Bitmaps of the newlines and the quotes among the 64 bytes at p. */
static inline void masks_nq(const char *p, uint64_t *nl, uint64_t *quote)
{
    const __m128i nm = _mm_set1_epi8('\n'), qm = _mm_set1_epi8('"');
    uint64_t n = 0, q = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nm)) << (16 * k);
        q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, qm)) << (16 * k);
    }
    *nl = n;
    *quote = q;
}

/* From r->pos, at a record start: the lines that are one record each as
 * they stand (ending in a newline in the buffer, an even number of quotes,
 * within the record limit), 64 bytes at a time; blank lines are counted and
 * skipped. Stops before the first other line, at the end of the buffer, or
 * once *n_rec reaches max_rec. */
static void take_plain(er_csv *c, size_t *n_rec, size_t max_rec)
{
    rbuf *r = &c->rb;
    const char *ls = r->buf + r->pos, *e = r->buf + r->end, *blk = ls;
    uint64_t carry = 0, lines = 0;   /* carry: an odd number of quotes since ls */
    size_t n = *n_rec;
    while (blk < e && n < max_rec) {
        uint64_t mn, mq;
        masks_nq(blk, &mn, &mq);   /* reads up to 63 bytes past e: the buffer's slack */
        if (e - blk < 64) {
            uint64_t keep = (UINT64_C(1) << (e - blk)) - 1;
            mn &= keep;
            mq &= keep;
        }
        uint64_t in = prefix_xor(mq) ^ carry;   /* bit i: odd quotes from ls through byte i */
        carry = (uint64_t)((int64_t)in >> 63);
        for (; mn; mn &= mn - 1) {
            unsigned b = (unsigned)__builtin_ctzll(mn);
            const char *nl = blk + b;
            if ((in >> b & 1) || (size_t)(nl - ls) > c->max_record)
                goto stop;
            if (nl == ls || (nl == ls + 1 && *ls == '\r')) {
                c->blank++;
            } else {
                if (n == max_rec)
                    goto stop;
                n++;
            }
            lines++;
            ls = nl + 1;
        }
        blk += 64;
    }
stop:
    r->pos = (size_t)(ls - r->buf);
    c->line += lines;
    *n_rec = n;
}
#endif

/* The cutter's view of the parser (source.h, rcut_reader). */
static void bulk_plain(void *rd, size_t *n_rec, size_t max)
{
#ifdef __SSE2__
    take_plain(rd, n_rec, max);
#else
    (void)rd, (void)n_rec, (void)max;
#endif
}

static er_status cut_record(void *rd, rcut *o, const char **start, er_err *err)
{
    csv_rec rec;
    er_status st = csv_next(rd, &rec, err);
    if (st != ER_OK)
        return st;
    *start = rec.err == CSV_OK ? rec.raw : NULL;
    if (!*start && !rcut_add_bad(o, rec.err, rec.errmsg, rec.line, rec.err_line, rec.raw, rec.raw_len))
        return er_errf(err, ER_ENOMEM, "out of memory cutting CSV records");
    return ER_OK;
}

er_status csv_cut_next(er_csv *c, rcut *o, size_t max_records, size_t max_bytes, er_err *err)
{
    /* An even number of quotes: whatever the line holds, its record is this
     * line alone (a quoted field still open at its end needs an odd number),
     * so the parser reads it alike from the cut. */
    rcut_reader rr = {&c->rb, &c->line, &c->blank, &c->started, &c->skip_nl, c->max_record,
                      quotes_even, bulk_plain, cut_record, c};
    return rcut_next(&rr, o, max_records, max_bytes, err);
}

er_status csv_mem_open(er_csv **out, const er_csv *like, er_err *err)
{
    er_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->f = malloc(64 * sizeof *c->f))) {
        free(c);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    c->fcap = 64;
    c->max_record = like->max_record;
    c->sm_only = like->sm_only;
    *out = c;
    return ER_OK;
}

void csv_mem_reset(er_csv *c, rcut *o)
{
    rbuf_mem(&c->rb, o);
    c->line = o->line0;
    c->blank = 0;
    c->started = true;
    c->skip_nl = false;
    c->cut = o;
    c->bad_i = 0;
}

void csv_mem_free(er_csv *c)
{
    if (!c)
        return;
    free(c->scratch);
    free(c->f);
    free(c);
}
