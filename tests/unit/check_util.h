/* The shared runner for the Check unit-test executables: every
 * tests/unit/test_*.c ends in CHECK_MAIN, CHECK_MAIN_FIXTURE or
 * CHECK_MAIN_TIMEOUT (one suite of one "core" case) or, when it needs more
 * (several cases), builds its Suite and returns run_suite(s). */
#ifndef MYVMM_CHECK_UTIL_H
#define MYVMM_CHECK_UTIL_H
#include <check.h>
#include <stddef.h>
#include <stdlib.h>

/* Runs s (CK_NORMAL output) and frees it: EXIT_SUCCESS iff nothing failed. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A suite `name` of one case "core" holding tests[0..n), each run between
 * setup and teardown (checked fixture) when those are not NULL, each given
 * timeout seconds (0: Check's default, 4 s, or CK_DEFAULT_TIMEOUT). */
static inline Suite *core_suite(const char *name, SFun setup, SFun teardown, double timeout,
				const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core");
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return s;
}

/* main() for a suite of one case: CHECK_MAIN("bus", test_a, test_b). */
#define CHECK_MAIN_FULL(name, setup, teardown, timeout, ...)                       \
	int main(void)                                                             \
	{                                                                          \
		const TTest *const tests_[] = { __VA_ARGS__ };                     \
		return run_suite(core_suite(name, setup, teardown, timeout, tests_, \
					    sizeof(tests_) / sizeof(tests_[0])));   \
	}
#define CHECK_MAIN(name, ...) CHECK_MAIN_FULL(name, NULL, NULL, 0, __VA_ARGS__)
#define CHECK_MAIN_FIXTURE(name, setup, teardown, ...) \
	CHECK_MAIN_FULL(name, setup, teardown, 0, __VA_ARGS__)
#define CHECK_MAIN_TIMEOUT(name, timeout, ...) \
	CHECK_MAIN_FULL(name, NULL, NULL, timeout, __VA_ARGS__)
#endif

