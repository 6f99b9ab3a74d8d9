/*
 * sbuf.h — growable string buffer with JSON writing helpers, private to the
 * library. Used wherever the engine emits JSON text on a hot path (alerts,
 * summaries), where building json-c objects would cost an allocation per
 * field. Owns its memory: er_sb_free releases it; er_sb_reset keeps capacity.
 * On allocation failure the buffer sets `oom` and ignores further writes;
 * callers check it once at the end.
 */
#ifndef ECORISK_SBUF_H
#define ECORISK_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct er_sb {
    char  *p;
    size_t len, cap;
    bool   oom;
} er_sb;

void er_sb_free(er_sb *b);                       /* frees p; the struct itself is the caller's */
static inline void er_sb_reset(er_sb *b) { b->len = 0; if (b->p) b->p[0] = '\0'; }
bool er_sb_reserve(er_sb *b, size_t extra);
void er_sb_put(er_sb *b, const char *s, size_t n);
void er_sb_puts(er_sb *b, const char *s);
void er_sb_putc(er_sb *b, char c);
void er_sb_printf(er_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON string literal with quotes; invalid UTF-8 bytes become U+FFFD. */
void er_sb_json_str(er_sb *b, const char *s, size_t n);
static inline void er_sb_json_cstr(er_sb *b, const char *s) { er_sb_json_str(b, s ? s : "", s ? __builtin_strlen(s) : 0); }
/* JSON number: shortest "%.17g"-exact round-trip form; non-finite → null. */
void er_sb_json_num(er_sb *b, double x);
/* Number with at most `digits` significant digits (%.*g), for human-facing values. */
void er_sb_json_numg(er_sb *b, double x, int digits);
void er_sb_json_int(er_sb *b, long long v);
/* x exactly as printf's "%.*g" writes it (without printf when it can). */
void er_sb_numg(er_sb *b, double x, int prec);
/* printf for evidence texts: "%s", "%.Ng" (N = 1..9, through er_sb_numg) and
 * "%%" only; anything else after '%' is written as it stands. */
void er_sb_printg(er_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "key": — a comma is written first unless the buffer ends with '{' or '['. */
void er_sb_json_key(er_sb *b, const char *key);

#endif
