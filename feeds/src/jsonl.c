/*
 * jsonl.c — JSON Lines reader: splits lines from the shared read buffer,
 * checks each strictly (RFC 8259: json-c alone accepts NaN, single quotes,
 * leading zeros and raw control characters), then builds the object with a
 * reused json_tokener. Nothing stops the stream but a source error.
 */
#include "jsonl.h"
#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64
#define READ_EXTRA (256u * 1024u)

struct er_jsonl {
    rbuf               rb;
    size_t             max_record;
    uint64_t           line;
    uint64_t           blank;
    bool               skip_nl;
    bool               started;
    struct json_tokener *tok;
    json_object        *obj;
    char               *quoted;      /* the line with its long integers quoted */
    size_t              quoted_cap;
    const rcut         *cut;         /* parsing a cut (jsonl_mem_reset): its resolved records */
    size_t              bad_i;
};

static inline bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* The strict checker's state: where it is in the line and the open
 * containers ('{', '[', or ':' while an object key is read). */
typedef struct jscan {
    const unsigned char *p;
    size_t               n, i;
    int                  depth;
    char                 stack[JSON_MAX_DEPTH + 1];
    const char          *msg;     /* set on failure */
} jscan;

/* What comes next: a value, a key, what follows a value; done or failed. */
typedef enum { JS_VALUE, JS_KEY, JS_AFTER, JS_DONE, JS_FAIL } jstate;

static jstate js_fail(jscan *s, const char *msg)
{
    s->msg = msg;
    return JS_FAIL;
}

static void js_ws(jscan *s)
{
    while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' || s->p[s->i] == '\r'))
        s->i++;
}

static void js_digits(jscan *s)
{
    while (s->i < s->n && is_digit(s->p[s->i]))
        s->i++;
}

static jstate js_number(jscan *s)
{
    if (s->p[s->i] == '-')
        s->i++;
    if (s->i >= s->n || !is_digit(s->p[s->i]))
        return js_fail(s, "invalid number: digit expected");
    if (s->p[s->i] == '0') {
        s->i++;
        if (s->i < s->n && is_digit(s->p[s->i]))
            return js_fail(s, "invalid number: leading zero");
    } else {
        js_digits(s);
    }
    if (s->i < s->n && s->p[s->i] == '.') {
        s->i++;
        if (s->i >= s->n || !is_digit(s->p[s->i]))
            return js_fail(s, "invalid number: digit expected after '.'");
        js_digits(s);
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
            s->i++;
        if (s->i >= s->n || !is_digit(s->p[s->i]))
            return js_fail(s, "invalid number: digit expected in exponent");
        js_digits(s);
    }
    return JS_AFTER;
}

/* A backslash escape at s->i (the backslash already passed). */
static bool js_escape(jscan *s)
{
    const unsigned char *p = s->p;
    size_t i = s->i;
    if (i >= s->n)
        return js_fail(s, "unterminated escape sequence"), false;
    if (strchr("\"\\/bfnrt", p[i]) && p[i]) {
        s->i++;
        return true;
    }
    if (p[i] != 'u')
        return js_fail(s, "invalid escape sequence"), false;
    if (s->n - i < 5 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]) || !is_hex(p[i + 3]) || !is_hex(p[i + 4]))
        return js_fail(s, "invalid \\u escape (four hex digits expected)"), false;
    s->i += 5;
    return true;
}

/* A string from its opening quote; after an object key, the ':' too. */
static jstate js_string(jscan *s)
{
    s->i++;   /* opening quote */
    for (;;) {
        if (s->i >= s->n)
            return js_fail(s, "unterminated string");
        unsigned c = s->p[s->i];
        if (c == '"') {
            s->i++;
            break;
        }
        if (c == '\\') {
            s->i++;
            if (!js_escape(s))
                return JS_FAIL;
            continue;
        }
        if (c < 0x20)
            return js_fail(s, "control character in a string (must be escaped)");
        if (c < 0x80) {
            s->i++;
            continue;
        }
        size_t k = er_utf8_seq(s->p + s->i, s->n - s->i);
        if (!k)
            return js_fail(s, "invalid UTF-8 in a string");
        s->i += k;
    }
    if (!s->depth || s->stack[s->depth - 1] != ':')
        return JS_AFTER;
    s->depth--;   /* a key was just read */
    js_ws(s);
    if (s->i >= s->n || s->p[s->i] != ':')
        return js_fail(s, "expected ':' after an object key");
    s->i++;
    return JS_VALUE;
}

/* true, false or null. */
static jstate js_literal(jscan *s)
{
    static const struct { char first; const char *word; const char *msg; } lits[] = {
        {'t', "true", "invalid literal (expected true)"},
        {'f', "false", "invalid literal (expected false)"},
        {'n', "null", "invalid literal (expected null)"},
    };
    for (size_t k = 0; k < sizeof lits / sizeof *lits; k++) {
        if (s->p[s->i] != lits[k].first)
            continue;
        size_t len = strlen(lits[k].word);
        if (s->n - s->i >= len && memcmp(s->p + s->i, lits[k].word, len) == 0) {
            s->i += len;
            return JS_AFTER;
        }
        return js_fail(s, lits[k].msg);
    }
    return js_fail(s, "unexpected character, expected a JSON value");
}

/* '{' or '[': push it; an empty container closes at once. */
static jstate js_open(jscan *s, char open, char close)
{
    if (s->depth == JSON_MAX_DEPTH)
        return js_fail(s, "nesting deeper than 64 levels");
    s->stack[s->depth++] = open;
    s->i++;
    js_ws(s);
    if (s->i < s->n && s->p[s->i] == close) {
        s->i++;
        s->depth--;
        return JS_AFTER;
    }
    return open == '{' ? JS_KEY : JS_VALUE;
}

static jstate js_value(jscan *s)
{
    js_ws(s);
    if (s->i >= s->n)
        return js_fail(s, s->depth ? "unexpected end of line inside a value" : "empty line or no JSON value");
    unsigned char c = s->p[s->i];
    if (c == '{')
        return js_open(s, '{', '}');
    if (c == '[')
        return js_open(s, '[', ']');
    if (c == '"')
        return js_string(s);
    if (c == '-' || is_digit(c))
        return js_number(s);
    return js_literal(s);
}

static jstate js_key(jscan *s)
{
    js_ws(s);
    if (s->i >= s->n || s->p[s->i] != '"')
        return js_fail(s, "expected a string key");
    s->stack[s->depth++] = ':';   /* marker: the next string is a key (depth < max + 1 here) */
    return js_string(s);
}

static jstate js_after(jscan *s)
{
    js_ws(s);
    if (s->depth == 0)
        return s->i != s->n ? js_fail(s, "unexpected data after the JSON value") : JS_DONE;
    if (s->i >= s->n)
        return js_fail(s, "unexpected end of line (unclosed object or array)");
    char top = s->stack[s->depth - 1];
    unsigned char c = s->p[s->i];
    if (c == ',') {
        s->i++;
        return top == '{' ? JS_KEY : JS_VALUE;
    }
    if ((top == '{' && c == '}') || (top == '[' && c == ']')) {
        s->i++;
        s->depth--;
        return JS_AFTER;
    }
    return js_fail(s, top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
}

bool er_json_check(const char *text, size_t n, size_t *off, const char **msg)
{
    jscan s = {.p = (const unsigned char *)text, .n = n};
    jstate st = JS_VALUE;
    while (st != JS_DONE && st != JS_FAIL)
        st = st == JS_VALUE ? js_value(&s) : st == JS_KEY ? js_key(&s) : js_after(&s);
    if (st == JS_DONE)
        return true;
    *off = s.i;
    *msg = s.msg;
    return false;
}

er_status jsonl_open(er_jsonl **out, er_src *src, size_t max_record, er_err *err)
{
    er_status st;
    er_jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return er_errf(err, ER_ENOMEM, "out of memory");
    j->max_record = max_record;
    j->line = 1;
    j->tok = json_tokener_new_ex(JSON_MAX_DEPTH + 2);
    if (!j->tok) {
        free(j);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    json_tokener_set_flags(j->tok, JSON_TOKENER_STRICT);
    if ((st = rbuf_init(&j->rb, src, max_record + READ_EXTRA, err)) != ER_OK) {
        jsonl_free(j);
        return st;
    }
    *out = j;
    return ER_OK;
}

void jsonl_free(er_jsonl *j)
{
    if (!j)
        return;
    json_object_put(j->obj);
    free(j->quoted);
    if (j->tok)
        json_tokener_free(j->tok);
    rbuf_free(&j->rb);
    free(j);
}

uint64_t jsonl_blank_lines(const er_jsonl *j) { return j->blank; }
uint64_t jsonl_bytes(const er_jsonl *j) { return j->rb.consumed + j->rb.pos; }

static const char *type_name(json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    case json_type_boolean: return "a boolean";
    case json_type_null: return "null";
    default: return "a number";
    }
}

/* json-c turns an integer beyond 64 bits into INT64_MIN or UINT64_MAX and
 * keeps no text for it, so a number would be read as another number. An
 * integer of 19 digits or more is therefore handed over as a string of its
 * own text: the feed parses it as it parses the same text from a CSV cell
 * (docs/feeds.md#json-lines), out of range -> bad_number. Returns the text to
 * parse: s itself when nothing needed quoting, NULL on ENOMEM. The line has
 * passed er_json_check, so a number starts with '-' or a digit outside a
 * string. */
static const char *quote_long_ints(er_jsonl *j, const char *s, size_t len, size_t *olen)
{
    size_t o = 0;
    bool any = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t t = i;
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '-' || is_digit(c)) {
            size_t d = 0;
            bool integer = true;
            for (i += c == '-'; i < len && is_digit((unsigned char)s[i]); i++)
                d++;
            while (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' ||
                               s[i] == '-' || is_digit((unsigned char)s[i]))) {
                integer = false;
                i++;
            }
            if (integer && d >= 19) {
                if (!any) {
                    if (j->quoted_cap < 2 * len + 1) {
                        char *q = realloc(j->quoted, 2 * len + 1);
                        if (!q)
                            return NULL;
                        j->quoted = q;
                        j->quoted_cap = 2 * len + 1;
                    }
                    memcpy(j->quoted, s, t);
                    o = t;
                    any = true;
                }
                j->quoted[o++] = '"';
                memcpy(j->quoted + o, s + t, i - t);
                o += i - t;
                j->quoted[o++] = '"';
                continue;
            }
        } else {
            i++;
        }
        if (any) {
            size_t e = i < len ? i : len;
            memcpy(j->quoted + o, s + t, e - t);
            o += e - t;
        }
    }
    *olen = any ? o : len;
    return any ? j->quoted : s;
}

er_status jsonl_next(er_jsonl *j, jsonl_rec *rec, er_err *err)
{
    rbuf *r = &j->rb;
    er_status st;
    json_object_put(j->obj);
    j->obj = NULL;
    rec->obj = NULL;
    rec->err = JL_OK;
    rec->errmsg[0] = '\0';
    if ((st = rbuf_begin(r, &j->started, &j->skip_nl, &j->line, err)) != ER_OK)
        return st;
    for (;;) {
        const char *s = NULL, *nl = NULL;
        const rcut_bad *b = rcut_bad_at(j->cut, &j->bad_i, r->pos);
        if (b) {   /* resolved by the cutter */
            rec->line = b->line;
            rec->raw = j->cut->xbuf + b->raw_off;
            rec->raw_len = b->raw_len;
            rec->err = (jsonl_rerr)b->kind;
            snprintf(rec->errmsg, sizeof rec->errmsg, "%s", j->cut->xbuf + b->msg_off);
            j->line = b->resume_line;
            return ER_OK;
        }
        st = rbuf_line(r, j->max_record, &s, &nl, err);
        if (st == ER_ELIMIT) {
            rec->line = j->line;
            rec->raw = s;
            rec->raw_len = 256;
            rec->err = JL_TOOLONG;
            snprintf(rec->errmsg, sizeof rec->errmsg, "line longer than the %zu-byte record limit",
                     j->max_record);
            r->pos = r->end;
            j->skip_nl = true;
            return ER_OK;
        }
        if (st != ER_OK)
            return st;
        const char *e = r->buf + r->end;
        const char *le = nl ? nl : e;
        size_t len = (size_t)(le - s);
        if (len && s[len - 1] == '\r')
            len--;
        r->pos = (size_t)((nl ? nl + 1 : e) - r->buf);
        uint64_t line = j->line;
        if (nl)
            j->line++;
        if (len == 0) {
            j->blank++;
            continue;
        }
        rec->line = line;
        rec->raw = s;
        rec->raw_len = len;
        if (len > j->max_record) {
            rec->err = JL_TOOLONG;
            snprintf(rec->errmsg, sizeof rec->errmsg, "line longer than the %zu-byte record limit",
                     j->max_record);
            return ER_OK;
        }
        size_t off;
        const char *msg;
        if (!er_json_check(s, len, &off, &msg)) {
            rec->err = JL_SYNTAX;
            snprintf(rec->errmsg, sizeof rec->errmsg, "line %llu, column %zu: %s",
                     (unsigned long long)line, off + 1, msg);
            return ER_OK;
        }
        size_t k = 0;
        while (s[k] == ' ' || s[k] == '\t')
            k++;
        if (s[k] != '{') {
            json_tokener_reset(j->tok);
            json_object *o = json_tokener_parse_ex(j->tok, s, (int)len);
            rec->err = JL_NOTOBJECT;
            snprintf(rec->errmsg, sizeof rec->errmsg,
                     "line %llu: a JSON Lines record must be an object, got %s",
                     (unsigned long long)line, s[k] == '[' ? "an array" : o ? type_name(o) :
                     s[k] == 'n' ? "null" : s[k] == '"' ? "a string" :
                     (s[k] == 't' || s[k] == 'f') ? "a boolean" : "a number");
            json_object_put(o);
            return ER_OK;
        }
        size_t qlen = len;
        const char *qs = quote_long_ints(j, s, len, &qlen);
        if (!qs)
            return er_errf(err, ER_ENOMEM, "out of memory reading a JSON Lines record");
        json_tokener_reset(j->tok);
        j->obj = json_tokener_parse_ex(j->tok, qs, (int)qlen);
        enum json_tokener_error je = json_tokener_get_error(j->tok);
        if (!j->obj || je != json_tokener_success) {
            json_object_put(j->obj);
            j->obj = NULL;
            rec->err = JL_SYNTAX;
            snprintf(rec->errmsg, sizeof rec->errmsg, "line %llu: %s", (unsigned long long)line,
                     json_tokener_error_desc(je));
            return ER_OK;
        }
        rec->obj = j->obj;
        return ER_OK;
    }
}

/* ---- reading in two steps (jsonl.h) ---- */

/* The cutter's view of the reader (source.h, rcut_reader): a line is a record. */
static bool line_whole(const char *p, const char *le)
{
    (void)p, (void)le;
    return true;
}

static er_status cut_record(void *rd, rcut *o, const char **start, er_err *err)
{
    jsonl_rec rec;
    er_status st = jsonl_next(rd, &rec, err);
    if (st != ER_OK)
        return st;
    *start = rec.err == JL_OK ? rec.raw : NULL;
    if (!*start && !rcut_add_bad(o, rec.err, rec.errmsg, rec.line, rec.line, rec.raw, rec.raw_len))
        return er_errf(err, ER_ENOMEM, "out of memory cutting JSON Lines records");
    return ER_OK;
}

er_status jsonl_cut_next(er_jsonl *j, rcut *o, size_t max_records, size_t max_bytes, er_err *err)
{
    rcut_reader rr = {&j->rb, &j->line, &j->blank, &j->started, &j->skip_nl, j->max_record,
                      line_whole, NULL, cut_record, j};
    return rcut_next(&rr, o, max_records, max_bytes, err);
}

er_status jsonl_mem_open(er_jsonl **out, const er_jsonl *like, er_err *err)
{
    er_jsonl *j = calloc(1, sizeof *j);
    if (!j || !(j->tok = json_tokener_new_ex(JSON_MAX_DEPTH + 2))) {
        free(j);
        return er_errf(err, ER_ENOMEM, "out of memory");
    }
    json_tokener_set_flags(j->tok, JSON_TOKENER_STRICT);
    j->max_record = like->max_record;
    *out = j;
    return ER_OK;
}

void jsonl_mem_reset(er_jsonl *j, rcut *o)
{
    rbuf_mem(&j->rb, o);
    j->line = o->line0;
    j->blank = 0;
    j->started = true;
    j->skip_nl = false;
    j->cut = o;
    j->bad_i = 0;
}

void jsonl_mem_free(er_jsonl *j)
{
    if (!j)
        return;
    j->rb.buf = NULL;   /* the cut's */
    jsonl_free(j);
}
