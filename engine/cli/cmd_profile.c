#include "cli.h"

/* placeholder: 'profile lint' is implemented in its own issue */
static const cli_opt profile_lint_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int profile_lint_main(const cli_args *a)
{
    (void)a;
    cli_error("'profile lint' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_profile_lint = {"profile lint", "(not yet available)", NULL, NULL, profile_lint_opts, CLI_NOPTS(profile_lint_opts), profile_lint_main};
/* placeholder: 'profile show' is implemented in its own issue */
static const cli_opt profile_show_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int profile_show_main(const cli_args *a)
{
    (void)a;
    cli_error("'profile show' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_profile_show = {"profile show", "(not yet available)", NULL, NULL, profile_show_opts, CLI_NOPTS(profile_show_opts), profile_show_main};
