/* Shared boilerplate for the Check unit-test executables. */
#ifndef MYVMM_CHECK_UTIL_H
#define MYVMM_CHECK_UTIL_H
#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
