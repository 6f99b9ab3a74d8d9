/*
 * check_main.c — the one main() of the Check programs in tests/unit: runs the
 * suite the test file defines (test_suite(), check_main.h) with CK_NORMAL
 * output, in the fork mode and with the timeouts Check takes from the
 * environment (CK_FORK, CK_DEFAULT_TIMEOUT, CK_RUN_CASE, ...), and exits 1
 * when any test failed.
 */
#include <stdlib.h>

#include "check_main.h"

int main(void)
{
    SRunner *r = srunner_create(test_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
