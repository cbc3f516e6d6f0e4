/* Unit tests for src/host/file.c: every file option and disk is type-checked
 * before it is used (no FIFO hang), sized before it is read, and every disk
 * is locked (issue 10 findings 8 and 11). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "host/file.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/myvmm-filetest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *path(const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void make_file(const char *name, off_t size, const void *data, size_t len)
{
	int fd = open(path(name), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	if (len)
		ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

START_TEST(read_all_regular)
{
	struct err e = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;

	make_file("k", 5, "hello", 5);
	ck_assert_int_eq(file_read_all("--kernel", path("k"), 100, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(buf, "hello", 5);
	free(buf);
}
END_TEST

/* A FIFO with no writer: refused at once, not a blocked open or read. */
START_TEST(fifo_refused_without_blocking)
{
	struct err e = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	double t0 = now();

	ck_assert_int_eq(mkfifo(path("fifo"), 0600), 0);
	ck_assert_int_eq(file_read_all("--initrd", path("fifo"), 1 << 20, &buf, &len, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "FIFO"));
	ck_assert_ptr_nonnull(strstr(e.msg, "--initrd"));
	ck_assert_double_lt(now() - t0, 1.0);
	ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(directory_refused)
{
	struct err e = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(file_read_all("--kernel", dir, 1 << 20, &buf, &len, &e), -EISDIR);
	ck_assert_ptr_nonnull(strstr(e.msg, "directory"));
}
END_TEST

/* 1 TiB sparse file, limit 64 MiB: refused by size, never read (reading or
 * allocating it could not finish in the time allowed). */
START_TEST(oversized_refused_before_read)
{
	struct err e = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	double t0 = now();

	make_file("huge", (off_t)1 << 40, NULL, 0);
	ck_assert_int_eq(file_read_all("--initrd", path("huge"), 64u << 20, &buf, &len, &e),
			 -EFBIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "does not fit"));
	ck_assert_double_lt(now() - t0, 1.0);
	ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(disk_checks)
{
	struct err e = { "" };
	struct disk_file d;

	make_file("odd.img", 1000, NULL, 0);
	make_file("empty.img", 0, NULL, 0);
	ck_assert_int_eq(disk_file_open(dir, false, false, 0, &d, &e), -EISDIR);
	ck_assert_ptr_nonnull(strstr(e.msg, "directory"));
	ck_assert_int_eq(disk_file_open(path("odd.img"), true, false, 0, &d, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "multiple of 512"));
	ck_assert_int_eq(disk_file_open(path("empty.img"), true, false, 0, &d, &e), -EINVAL);
	ck_assert_int_eq(mkfifo(path("fifo"), 0600), 0);
	ck_assert_int_eq(disk_file_open(path("fifo"), false, false, 0, &d, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "FIFO"));
	ck_assert_int_eq(disk_file_open(path("missing.img"), false, false, 0, &d, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "truncate"));
}
END_TEST

/* A writer excludes every other opener; readers share. */
START_TEST(disk_locks)
{
	struct err e = { "" };
	struct disk_file a, b;

	make_file("disk.img", 1 << 20, NULL, 0);
	ck_assert_int_eq(disk_file_open(path("disk.img"), false, false, 0, &a, &e), 0);
	ck_assert_uint_eq(a.size, 1 << 20);
	ck_assert_int_eq(disk_file_open(path("disk.img"), false, false, 0, &b, &e), -EAGAIN);
	ck_assert_ptr_nonnull(strstr(e.msg, "locked"));
	ck_assert_int_eq(disk_file_open(path("disk.img"), true, false, 0, &b, &e), -EAGAIN);
	disk_file_close(&a);
	ck_assert_int_eq(disk_file_open(path("disk.img"), true, false, 0, &a, &e), 0);
	ck_assert_int_eq(disk_file_open(path("disk.img"), true, false, 0, &b, &e), 0);
	disk_file_close(&a);
	disk_file_close(&b);
}
END_TEST

START_TEST(err_helpers)
{
	struct err e = { "" };

	ck_assert_str_eq(err_or(&e, "fallback"), "fallback");
	err_set(&e, "disk %s is bad", "x.img");
	err_prefix(&e, "--disk %d: ", 3);
	ck_assert_str_eq(e.msg, "--disk 3: disk x.img is bad");
	err_set(NULL, "ignored");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host_file");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_all_regular);
	tcase_add_test(tc, fifo_refused_without_blocking);
	tcase_add_test(tc, directory_refused);
	tcase_add_test(tc, oversized_refused_before_read);
	tcase_add_test(tc, disk_checks);
	tcase_add_test(tc, disk_locks);
	tcase_add_test(tc, err_helpers);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
