/*
 * sink_stdout.c — the stdout row of the sink table (sink.h), destination "-":
 * each batch is written to standard output as stored (its JSON array, one
 * alert per line between "[" and "]", then a newline) and flushed, for a
 * pipe into another program. A batch
 * counts as delivered once the write and the flush succeeded; a closed pipe
 * stops the push with everything after it pending.
 */
#include "deliver/sink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool er_sink_stdout_claims(const char *dest) { return strcmp(dest, "-") == 0; }

er_status er_sink_stdout_open(void **state, const char *dest, const er_push_opts *o, char *pub, size_t cap,
                              er_err *err)
{
    (void)dest;
    (void)o;
    (void)err;
    *state = NULL;
    snprintf(pub, cap, "stdout");
    return ER_OK;
}

void er_sink_stdout_deliver(void *state, const er_sink_batch *b, er_sink_reply *r, er_err *err)
{
    (void)state;
    size_t len = b->len;
    while (len && (b->body[len - 1] == '\n' || b->body[len - 1] == ' '))
        len--;
    if (fwrite(b->body, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        snprintf(r->detail, sizeof r->detail, "stdout: %s", strerror(errno));
        r->result = ER_SINK_STOP;
        r->st = er_errf(err, ER_EIO, "%s", r->detail);
        return;
    }
    r->result = ER_SINK_OK;
    snprintf(r->detail, sizeof r->detail, "written to stdout");
}

void er_sink_stdout_close(void *state) { (void)state; }
