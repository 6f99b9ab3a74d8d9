/*
 * sink.c — the table of alert sinks (sink.h) and the choice of one by
 * destination: http(s):// URL, dir:PATH or file://PATH, "-" for stdout
 * (docs/operations.md#push). A new sink is one row here plus its
 * sink_<name>.c (docs/architecture.md#alert-sinks).
 */
#include "deliver/sink.h"

const er_sink er_sinks[] = {
    {"dir", er_sink_dir_claims, er_sink_dir_open, er_sink_dir_deliver, er_sink_dir_close},
    {"stdout", er_sink_stdout_claims, er_sink_stdout_open, er_sink_stdout_deliver, er_sink_stdout_close},
    /* last: every other destination is a URL, checked (and refused with a reason) by open */
    {"http", er_sink_http_claims, er_sink_http_open, er_sink_http_deliver, er_sink_http_close},
};
const size_t er_n_sinks = sizeof er_sinks / sizeof er_sinks[0];

const er_sink *er_sink_for(const char *dest)
{
    for (size_t i = 0; dest && i < er_n_sinks; i++)
        if (er_sinks[i].claims(dest))
            return &er_sinks[i];
    return NULL;
}
