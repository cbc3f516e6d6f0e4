/* Console escapes, line matching, kept lines and the status report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "host/console.h"
#include "cli/status.h"
#include "host/term.h"

static enum esc_result feed(struct esc_filter *f, const char *in, size_t n, char *out, size_t *on,
			    size_t *used)
{
	return esc_filter_feed(f, (const uint8_t *)in, n, (uint8_t *)out, on, used);
}

START_TEST(escapes)
{
	struct esc_filter f = { 0 };
	char out[16];
	size_t on, used;
	ck_assert_int_eq(feed(&f, "ab", 2, out, &on, &used), ESC_NONE);
	ck_assert_uint_eq(on, 2);
	/* Ctrl-A Ctrl-A sends one Ctrl-A. */
	ck_assert_int_eq(feed(&f, "\x01\x01z", 3, out, &on, &used), ESC_NONE);
	ck_assert_uint_eq(on, 2);
	ck_assert_mem_eq(out, "\x01z", 2);
	/* Split across reads. */
	ck_assert_int_eq(feed(&f, "q\x01", 2, out, &on, &used), ESC_NONE);
	ck_assert_uint_eq(on, 1);
	ck_assert_int_eq(feed(&f, "xrest", 5, out, &on, &used), ESC_QUIT);
	ck_assert_uint_eq(on, 0);
	ck_assert_uint_eq(used, 1);
	/* Unknown escapes are dropped; help is reported. */
	ck_assert_int_eq(feed(&f, "\x01" "c1", 3, out, &on, &used), ESC_NONE);
	ck_assert_uint_eq(on, 1);
	ck_assert_int_eq(out[0], '1');
	ck_assert_int_eq(feed(&f, "\x01h", 2, out, &on, &used), ESC_HELP);
}
END_TEST

static int matches;
static enum console_match last;
static void on_match(void *o, enum console_match m) { matches++; last = m; }

START_TEST(expect_lines)
{
	struct console c;
	char err[CONSOLE_ERR_LEN];
	ck_assert_int_eq(console_init(&c, -1, NULL, "^login: $", "Kernel panic", err), 0);
	c.on_match = on_match;
	matches = 0;
	console_write(&c, "boot\r\nlogin: ", 13);
	console_check_idle(&c, 0);
	ck_assert_int_eq(matches, 0); /* $ needs a real end of line */
	console_write(&c, "\n", 1);
	ck_assert_int_eq(matches, 1);
	ck_assert_int_eq(last, MATCH_EXPECT);
	console_destroy(&c);

	/* A prompt without a newline matches once the console is idle, not
	 * while the line is still arriving. */
	ck_assert_int_eq(console_init(&c, -1, NULL, "login:", "Kernel panic", err), 0);
	c.on_match = on_match;
	matches = 0;
	console_write(&c, "debian login: ", 14);
	console_check_idle(&c, 60000);
	ck_assert_int_eq(matches, 0);
	console_check_idle(&c, 0);
	ck_assert_int_eq(matches, 1);
	ck_assert_int_eq(last, MATCH_EXPECT);
	console_destroy(&c);

	/* A complete line matches at once; only the first match counts. */
	ck_assert_int_eq(console_init(&c, -1, NULL, "login:", "Kernel panic", err), 0);
	c.on_match = on_match;
	matches = 0;
	console_write(&c, "[ 1.0] Kernel pa", 16);
	ck_assert_int_eq(matches, 0);
	console_write(&c, "nic - not syncing\n", 18);
	ck_assert_int_eq(matches, 1);
	ck_assert_int_eq(last, MATCH_EXPECT_FAIL);
	console_write(&c, "login:\n", 7);
	console_check_idle(&c, 0);
	ck_assert_int_eq(matches, 1);
	console_destroy(&c);

	ck_assert_int_ne(console_init(&c, -1, NULL, "(unclosed", NULL, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "--expect"));
}
END_TEST

START_TEST(kept_lines)
{
	struct console c;
	char err[CONSOLE_ERR_LEN];
	char lines[CONSOLE_KEEP_LINES + 1][CONSOLE_LINE_MAX];
	ck_assert_int_eq(console_init(&c, -1, NULL, NULL, NULL, err), 0);
	for (int i = 0; i < 30; i++) {
		char l[32];
		int n = snprintf(l, sizeof(l), "line %d\r\n", i);
		console_write(&c, l, (unsigned long)n);
	}
	console_write(&c, "partial", 7);
	unsigned n = console_last_lines(&c, lines, CONSOLE_KEEP_LINES + 1);
	ck_assert_uint_eq(n, CONSOLE_KEEP_LINES + 1);
	ck_assert_str_eq(lines[0], "line 10");
	ck_assert_str_eq(lines[CONSOLE_KEEP_LINES - 1], "line 29");
	ck_assert_str_eq(lines[CONSOLE_KEEP_LINES], "partial");
	/* An over-long line is truncated, never overflows. */
	char big[2000];
	memset(big, 'x', sizeof(big));
	console_write(&c, big, sizeof(big));
	console_write(&c, "\n", 1);
	n = console_last_lines(&c, lines, CONSOLE_KEEP_LINES + 1);
	ck_assert_uint_eq(strlen(lines[n - 1]), CONSOLE_LINE_MAX - 1);
	console_destroy(&c);
}
END_TEST

START_TEST(exit_codes)
{
	ck_assert_int_eq(status_exit_code(STOP_POWEROFF, 0, false), 0);
	ck_assert_int_eq(status_exit_code(STOP_RESET, 0, true), 0);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0, false), 1);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 5, false), 11);
	ck_assert_int_eq(status_exit_code(STOP_DEBUG_EXIT, 0x7f, false), 255);
	ck_assert_int_eq(status_exit_code(STOP_TIMEOUT, 0, false), 124);
	ck_assert_int_eq(status_exit_code(STOP_INTERNAL_ERROR, 0, false), 3);
	ck_assert_int_eq(status_exit_code(STOP_PANIC, 0, false), 4);
	ck_assert_int_eq(status_exit_code(STOP_EXPECT, 0, false), 0);
	ck_assert_int_eq(status_exit_code(STOP_EXPECT_FAIL, 0, false), 5);
	ck_assert_int_eq(status_exit_code(STOP_SIGNAL, 15, false), 143);
	ck_assert_int_eq(status_exit_code(STOP_NONE, 0, false), 3);
}
END_TEST

START_TEST(json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *lines[] = { "TK: \"quoted\" \\ back", "ctl\x01\xff" };
	struct run_status s = { .reason = STOP_DEBUG_EXIT, .value = 7, .exit_code = 15,
				.wall_ms = 12, .boot_marker_ms = -1, .cpus = 2, .mem = 1 << 27,
				.kernel = "/k", .lines = lines, .nlines = 2 };
	ck_assert_int_eq(status_write_json(f, &s), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"reason\": \"debug-exit\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"exit_code\": 15"));
	ck_assert_ptr_nonnull(strstr(buf, "\"debug_exit_value\": 7"));
	ck_assert_ptr_nonnull(strstr(buf, "\"boot_marker_ms\": null"));
	ck_assert_ptr_nonnull(strstr(buf, "\"name\": null"));
	ck_assert_ptr_nonnull(strstr(buf, "\"TK: \\\"quoted\\\" \\\\ back\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"ctl\\u0001\\u00ff\""));
	free(buf);
}
END_TEST

CHECK_MAIN("console", escapes, expect_lines, kept_lines, exit_codes, json)
