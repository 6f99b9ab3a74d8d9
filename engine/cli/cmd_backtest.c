#include "cli.h"

/* placeholder: 'backtest' is implemented in its own issue */
static const cli_opt backtest_opts[] = {{"x-unused", 0, CLI_FLAG, NULL, NULL, "reserved"}};
static int backtest_main(const cli_args *a)
{
    (void)a;
    cli_error("'backtest' is not available in this build yet");
    return EX_SOFTWARE_;
}
const cli_cmd cmd_backtest = {"backtest", "(not yet available)", NULL, NULL, backtest_opts, CLI_NOPTS(backtest_opts), backtest_main};
