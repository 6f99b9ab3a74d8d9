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
};

static inline bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

bool er_json_check(const char *text, size_t n, size_t *off, const char **msg)
{
    const unsigned char *p = (const unsigned char *)text;
    char stack[JSON_MAX_DEPTH + 1];
    int depth = 0;
    size_t i = 0;
#define WS() while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++
#define FAIL(m) do { *off = i; *msg = (m); return false; } while (0)

value:
    WS();
    if (i >= n)
        FAIL(depth ? "unexpected end of line inside a value" : "empty line or no JSON value");
    switch (p[i]) {
    case '{':
        if (depth == JSON_MAX_DEPTH)
            FAIL("nesting deeper than 64 levels");
        stack[depth++] = '{';
        i++;
        WS();
        if (i < n && p[i] == '}') {
            i++;
            depth--;
            goto after;
        }
        goto key;
    case '[':
        if (depth == JSON_MAX_DEPTH)
            FAIL("nesting deeper than 64 levels");
        stack[depth++] = '[';
        i++;
        WS();
        if (i < n && p[i] == ']') {
            i++;
            depth--;
            goto after;
        }
        goto value;
    case '"':
        goto string;
    case 't':
        if (n - i >= 4 && memcmp(p + i, "true", 4) == 0) { i += 4; goto after; }
        FAIL("invalid literal (expected true)");
    case 'f':
        if (n - i >= 5 && memcmp(p + i, "false", 5) == 0) { i += 5; goto after; }
        FAIL("invalid literal (expected false)");
    case 'n':
        if (n - i >= 4 && memcmp(p + i, "null", 4) == 0) { i += 4; goto after; }
        FAIL("invalid literal (expected null)");
    default:
        if (p[i] == '-' || is_digit(p[i]))
            goto number;
        FAIL("unexpected character, expected a JSON value");
    }

number:
    if (p[i] == '-')
        i++;
    if (i >= n || !is_digit(p[i]))
        FAIL("invalid number: digit expected");
    if (p[i] == '0') {
        i++;
        if (i < n && is_digit(p[i]))
            FAIL("invalid number: leading zero");
    } else {
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || !is_digit(p[i]))
            FAIL("invalid number: digit expected after '.'");
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit(p[i]))
            FAIL("invalid number: digit expected in exponent");
        while (i < n && is_digit(p[i]))
            i++;
    }
    goto after;

string:
    i++;   /* opening quote */
    for (;;) {
        if (i >= n)
            FAIL("unterminated string");
        unsigned c = p[i];
        if (c == '"') {
            i++;
            break;
        }
        if (c == '\\') {
            i++;
            if (i >= n)
                FAIL("unterminated escape sequence");
            switch (p[i]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                i++;
                break;
            case 'u':
                if (n - i < 5 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]) || !is_hex(p[i + 3]) ||
                    !is_hex(p[i + 4]))
                    FAIL("invalid \\u escape (four hex digits expected)");
                i += 5;
                break;
            default:
                FAIL("invalid escape sequence");
            }
            continue;
        }
        if (c < 0x20)
            FAIL("control character in a string (must be escaped)");
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = er_utf8_seq(p + i, n - i);
        if (!k)
            FAIL("invalid UTF-8 in a string");
        i += k;
    }
    if (depth && stack[depth - 1] == ':') {
        /* a key was just read */
        depth--;
        WS();
        if (i >= n || p[i] != ':')
            FAIL("expected ':' after an object key");
        i++;
        goto value;
    }
    goto after;

key:
    WS();
    if (i >= n || p[i] != '"')
        FAIL("expected a string key");
    stack[depth++] = ':';   /* marker: the next string is a key (depth < max + 1 here) */
    goto string;

after:
    WS();
    if (depth == 0) {
        if (i != n)
            FAIL("unexpected data after the JSON value");
        return true;
    }
    if (i >= n)
        FAIL("unexpected end of line (unclosed object or array)");
    if (p[i] == ',') {
        i++;
        if (stack[depth - 1] == '{')
            goto key;
        goto value;
    }
    if (stack[depth - 1] == '{' && p[i] == '}') {
        i++;
        depth--;
        goto after;
    }
    if (stack[depth - 1] == '[' && p[i] == ']') {
        i++;
        depth--;
        goto after;
    }
    FAIL(stack[depth - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
#undef WS
#undef FAIL
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
    if (!j->started) {
        if ((st = rbuf_skip_bom(r, err)) != ER_OK)
            return st;
        j->started = true;
    }
    if (j->skip_nl) {
        j->skip_nl = false;
        if ((st = rbuf_skip_line(r, &j->line, err)) != ER_OK)
            return st;
    }
    for (;;) {
        const char *s = NULL, *nl = NULL;
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
