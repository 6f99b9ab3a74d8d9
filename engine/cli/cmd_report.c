#include "cli.h"

/* placeholder: 'report' is implemented in its own issue */
static const cli_opt report_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int report_main(const cli_args *a)
{
    (void)a;
    cli_error("'report' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_report = {"report", "(not yet available)", NULL, NULL, report_opts, CLI_NOPTS(report_opts), report_main};
