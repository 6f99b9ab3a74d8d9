#include "cli.h"

/* placeholder: 'ingest' is implemented in its own issue */
static const cli_opt ingest_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int ingest_main(const cli_args *a)
{
    (void)a;
    cli_error("'ingest' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_ingest = {"ingest", "(not yet available)", NULL, NULL, ingest_opts, CLI_NOPTS(ingest_opts), ingest_main};
