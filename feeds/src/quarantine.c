/*
 * quarantine.c — quarantine records as JSON Lines (quarantine.h), with JSON
 * string escaping that turns invalid UTF-8 into U+FFFD so that whatever
 * garbage a feed held, quarantine.jsonl stays valid JSON.
 */
#include "ecorisk/quarantine.h"

#include <errno.h>
#include <string.h>

#include "core/utf8.h"

void er_quarantine_write_string(FILE *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            switch (c) {
            case '"': fputs("\\\"", out); break;
            case '\\': fputs("\\\\", out); break;
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default:
                if (c < 0x20 || c == 0x7f)
                    fprintf(out, "\\u%04x", c);
                else
                    fputc((int)c, out);
            }
            i++;
            continue;
        }
        size_t k = er_utf8_seq(s + i, len - i);
        if (k) {
            fwrite(s + i, 1, k, out);
            i += k;
        } else {
            fputs("\xEF\xBF\xBD", out);
            i++;
        }
    }
    fputc('"', out);
}

er_status er_quarantine_write(FILE *out, const er_qrecord *q, er_err *err)
{
    fputs("{\"file\":", out);
    er_quarantine_write_string(out, q->file ? q->file : "", q->file ? strlen(q->file) : 0);
    fprintf(out, ",\"line\":%llu,\"seq\":%llu,\"reason\":\"%s\",\"field\":",
            (unsigned long long)q->line, (unsigned long long)q->seq, er_qreason_str(q->reason));
    if (q->field)
        er_quarantine_write_string(out, q->field, strlen(q->field));
    else
        fputs("null", out);
    fputs(",\"detail\":", out);
    er_quarantine_write_string(out, q->detail ? q->detail : "", q->detail ? strlen(q->detail) : 0);
    fputs(",\"excerpt\":", out);
    if (q->excerpt)
        er_quarantine_write_string(out, q->excerpt,
                                   q->excerpt_len ? q->excerpt_len : strlen(q->excerpt));
    else
        fputs("null", out);
    fputs("}\n", out);
    if (ferror(out))
        return er_errf(err, ER_EIO, "writing quarantine record: %s", strerror(errno));
    return ER_OK;
}

er_status er_quarantine_write_batch(FILE *out, const er_batch *b, er_err *err)
{
    for (size_t i = 0; i < b->n_q; i++) {
        er_status st = er_quarantine_write(out, &b->quarantined[i], err);
        if (st != ER_OK)
            return st;
    }
    return ER_OK;
}
