#include "cli.h"

/* placeholder: 'tune' is implemented in its own issue */
static const cli_opt tune_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int tune_main(const cli_args *a)
{
    (void)a;
    cli_error("'tune' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_tune = {"tune", "(not yet available)", NULL, NULL, tune_opts, CLI_NOPTS(tune_opts), tune_main};
