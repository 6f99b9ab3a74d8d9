#include "cli.h"

/* placeholder: 'diff' is implemented in its own issue */
static const cli_opt diff_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int diff_main(const cli_args *a)
{
    (void)a;
    cli_error("'diff' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_diff = {"diff", "(not yet available)", NULL, NULL, diff_opts, CLI_NOPTS(diff_opts), diff_main};
