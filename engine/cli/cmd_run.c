#include "cli.h"

/* placeholder: 'run' is implemented in its own issue */
static const cli_opt run_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int run_main(const cli_args *a)
{
    (void)a;
    cli_error("'run' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_run = {"run", "(not yet available)", NULL, NULL, run_opts, CLI_NOPTS(run_opts), run_main};
