#include "cli.h"

/* placeholder: 'push' is implemented in its own issue */
static const cli_opt push_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int push_main(const cli_args *a)
{
    (void)a;
    cli_error("'push' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_push = {"push", "(not yet available)", NULL, NULL, push_opts, CLI_NOPTS(push_opts), push_main};
