#include "cli.h"

/* placeholder: 'outcomes add' is implemented in its own issue */
static const cli_opt outcomes_add_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int outcomes_add_main(const cli_args *a)
{
    (void)a;
    cli_error("'outcomes add' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_outcomes_add = {"outcomes add", "(not yet available)", NULL, NULL, outcomes_add_opts, CLI_NOPTS(outcomes_add_opts), outcomes_add_main};
