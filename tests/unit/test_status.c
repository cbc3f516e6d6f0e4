/* The exit-code contract for debug-exit values across the whole range the
 * port accepts (0 .. 0x7fffffff). Built with signed-overflow and shift
 * checks that trap (tests/CMakeLists.txt): issue 10 finding 9 was
 * (value << 1) overflowing an int for values >= 0x40000000. */
#include <check.h>

#include "check_util.h"
#include "cli/status.h"

START_TEST(debug_exit_codes)
{
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0, false), 1);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 5, false), 11);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x7f, false), 255);
	/* Large values: the low 7 bits decide, as (v << 1) | 1 truncated to
	 * the 8-bit process status would under QEMU. */
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x80, false), 1);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x3fffffff, false), 255);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x40000000, false), 1);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x40000005, false), 11);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x7fffffff, false), 255);
	/* A negative value cannot come from the port; it is defined anyway. */
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, -1, false), 255);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, (int)0x80000000u, false), 1);
}
END_TEST

CHECK_MAIN("status", debug_exit_codes)
