#include "cli.h"

/* placeholder: 'explain' is implemented in its own issue */
static const cli_opt explain_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int explain_main(const cli_args *a)
{
    (void)a;
    cli_error("'explain' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_explain = {"explain", "(not yet available)", NULL, NULL, explain_opts, CLI_NOPTS(explain_opts), explain_main};
