#include "cli.h"

/* placeholder: 'baseline build' is implemented in its own issue */
static const cli_opt baseline_build_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int baseline_build_main(const cli_args *a)
{
    (void)a;
    cli_error("'baseline build' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_baseline_build = {"baseline build", "(not yet available)", NULL, NULL, baseline_build_opts, CLI_NOPTS(baseline_build_opts), baseline_build_main};
/* placeholder: 'baseline merge' is implemented in its own issue */
static const cli_opt baseline_merge_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int baseline_merge_main(const cli_args *a)
{
    (void)a;
    cli_error("'baseline merge' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_baseline_merge = {"baseline merge", "(not yet available)", NULL, NULL, baseline_merge_opts, CLI_NOPTS(baseline_merge_opts), baseline_merge_main};
/* placeholder: 'baseline show' is implemented in its own issue */
static const cli_opt baseline_show_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int baseline_show_main(const cli_args *a)
{
    (void)a;
    cli_error("'baseline show' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_baseline_show = {"baseline show", "(not yet available)", NULL, NULL, baseline_show_opts, CLI_NOPTS(baseline_show_opts), baseline_show_main};
