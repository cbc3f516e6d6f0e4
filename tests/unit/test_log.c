/* The guest message limits (host/log.h): per call site, all sites together,
 * and over the whole run; what they drop is reported, never lost silently.
 * A fake clock drives the windows. Issue 10 finding 5: 200,000 pvpanic
 * writes made 200,000 lines (16 MB) of --log. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "host/log.h"

static uint64_t fake_ms = 1000000;
static uint64_t fake_now(void) { return fake_ms; }

static char path[] = "/tmp/test_log_XXXXXX";

static void open_log(void)
{
	strcpy(path, "/tmp/test_log_XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(log_open_file(path), 0);
	log_set_level(LOG_ERR); /* keep stderr quiet: the file gets warnings */
	log_test_reset(fake_now);
}

/* Closes the log (which reports the rest) and returns its text. */
static char *close_log(long *size)
{
	struct stat st;
	log_close_file();
	ck_assert_int_eq(stat(path, &st), 0);
	*size = (long)st.st_size;
	char *text = calloc(1, (size_t)st.st_size + 1);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	unlink(path);
	log_test_reset(NULL);
	return text;
}

static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void pvpanic_like(unsigned i)
{
	pr_info_rl("pvpanic: guest panicked, crash kernel loaded (VM left running) #%u", i);
}

START_TEST(one_site_flood)
{
	struct log_guest_stats st;
	long size;
	open_log();
	for (unsigned i = 0; i < 200000; i++)
		pvpanic_like(i);
	log_guest_stats(&st);
	ck_assert_uint_eq(st.printed, LOG_SITE_BURST);
	ck_assert_uint_eq(st.suppressed, 200000 - LOG_SITE_BURST);
	char *text = close_log(&size);
	ck_assert_uint_eq(count_lines(text, "crash kernel loaded"), LOG_SITE_BURST);
	ck_assert_msg(strstr(text, "199990 guest-triggered messages suppressed"), "%s", text);
	ck_assert_int_lt(size, 4096);
	free(text);
}
END_TEST

static void site_a(void) { pr_guest("site a"); }
static void site_b(void) { pr_warn_rl("site b"); }

START_TEST(windows_and_report)
{
	long size;
	open_log();
	for (unsigned i = 0; i < 100; i++)
		site_a();
	fake_ms += LOG_SITE_MS;          /* next window: 90 reported, 10 more */
	for (unsigned i = 0; i < 100; i++)
		site_a();
	site_b();                        /* another site has its own burst */
	char *text = close_log(&size);
	ck_assert_uint_eq(count_lines(text, "warning: guest: site a"), 2 * LOG_SITE_BURST);
	ck_assert_uint_eq(count_lines(text, "warning: site b"), 1);
	ck_assert_uint_eq(count_lines(text, "90 guest-triggered messages suppressed"), 2);
	free(text);
}
END_TEST

/* Many call sites at once: the global budget caps them together, per window
 * and over the whole run. */
START_TEST(global_budget)
{
	static struct ratelimit sites[200];
	struct log_guest_stats st;
	long size;
	open_log();
	for (unsigned i = 0; i < 200; i++)
		sites[i] = (struct ratelimit)RATELIMIT_INIT(LOG_SITE_BURST, LOG_SITE_MS);
	for (unsigned i = 0; i < 200; i++)
		log_limited(&sites[i], LOG_WARN, "guest: ", "site %u", i);
	log_guest_stats(&st);
	ck_assert_uint_eq(st.printed, LOG_GUEST_BURST);
	ck_assert_uint_eq(st.suppressed, 200 - LOG_GUEST_BURST);
	/* a long flood from many sites: at most LOG_GUEST_TOTAL lines in all */
	for (unsigned w = 0; w < 2 * LOG_GUEST_TOTAL / LOG_GUEST_BURST; w++) {
		fake_ms += LOG_GUEST_MS;
		for (unsigned i = 0; i < 200; i++)
			log_limited(&sites[i], LOG_WARN, "guest: ", "site %u", i);
	}
	log_guest_stats(&st);
	ck_assert(st.total_reached);
	ck_assert_uint_eq(st.printed, LOG_GUEST_TOTAL);
	char *text = close_log(&size);
	ck_assert_uint_eq(count_lines(text, "guest: site "), LOG_GUEST_TOTAL);
	ck_assert_uint_eq(count_lines(text, "further ones are dropped"), 1);
	ck_assert_int_lt(size, (long)LOG_GUEST_TOTAL * 200);
	free(text);
}
END_TEST

START_TEST(ratelimit_basic)
{
	struct ratelimit rl = RATELIMIT_INIT(3, 100);
	log_test_reset(fake_now);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(ratelimit_ok(&rl));
	for (unsigned i = 0; i < 100000; i++)
		ck_assert(!ratelimit_ok(&rl));
	fake_ms += 99;
	ck_assert(!ratelimit_ok(&rl));
	fake_ms += 1;
	ck_assert(ratelimit_ok(&rl));
	log_test_reset(NULL);
}
END_TEST

CHECK_MAIN("log", ratelimit_basic, one_site_flood, windows_and_report, global_budget)
