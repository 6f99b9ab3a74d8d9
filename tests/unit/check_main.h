/*
 * check_main.h — what every Check program in tests/unit shares: each
 * test_<module>.c defines test_suite(), returning its suite with every test
 * case added, and links check_main.c, whose main() runs it.
 */
#ifndef ECORISK_CHECK_MAIN_H
#define ECORISK_CHECK_MAIN_H

#include <check.h>

/* The program's suite; called once by main(), which frees it with the runner. */
Suite *test_suite(void);

#endif
