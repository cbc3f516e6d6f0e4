#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "cli/config.h"
#include "devices/virtio/blk.h"

START_TEST(sizes)
{
	uint64_t v;
	ck_assert_int_eq(parse_size("512M", &v), 0); ck_assert_uint_eq(v, 512ULL << 20);
	ck_assert_int_eq(parse_size("2G", &v), 0); ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(parse_size("8g", &v), 0); ck_assert_uint_eq(v, 8ULL << 30);
	ck_assert_int_eq(parse_size("1048576K", &v), 0); ck_assert_uint_eq(v, 1ULL << 30);
	ck_assert_int_eq(parse_size("64", &v), 0); ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(parse_size("1GiB", &v), 0); ck_assert_uint_eq(v, 1ULL << 30);
	ck_assert_int_eq(parse_size("4096B", &v), 0); ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(parse_size("abc", &v), -EINVAL);
	ck_assert_int_eq(parse_size("", &v), -EINVAL);
	ck_assert_int_eq(parse_size("-1G", &v), -EINVAL);
	ck_assert_int_eq(parse_size("12X", &v), -EINVAL);
	ck_assert_int_eq(parse_size("1M2", &v), -EINVAL);
	ck_assert_int_eq(parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(parse_size("20000000T", &v), -ERANGE);
}
END_TEST

START_TEST(durations)
{
	uint64_t v;
	ck_assert_int_eq(parse_duration_ms("30", &v), 0); ck_assert_uint_eq(v, 30000);
	ck_assert_int_eq(parse_duration_ms("1.5", &v), 0); ck_assert_uint_eq(v, 1500);
	ck_assert_int_eq(parse_duration_ms("250ms", &v), 0); ck_assert_uint_eq(v, 250);
	ck_assert_int_eq(parse_duration_ms("2s", &v), 0); ck_assert_uint_eq(v, 2000);
	ck_assert_int_eq(parse_duration_ms("x", &v), -EINVAL);
	ck_assert_int_eq(parse_duration_ms("5min", &v), -EINVAL);
}
END_TEST

static int parse(struct vm_config *c, char *err, int argc, char **argv)
{
	config_init(c);
	return config_parse_args(c, argc, argv, err);
}

START_TEST(args_good)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *argv[] = { "myvmm", "--kernel", "k", "--mem", "1G", "--cpus", "4", "--no-reboot",
			 "--timeout", "10", "--console", "file:/tmp/x", "--cmdline", "a b", NULL };
	ck_assert_int_eq(parse(&c, err, 14, argv), 0);
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_uint_eq(c.mem, 1ULL << 30);
	ck_assert_uint_eq(c.cpus, 4);
	ck_assert(c.no_reboot);
	ck_assert_uint_eq(c.timeout_ms, 10000);
	ck_assert_int_eq(c.console, CONSOLE_FILE);
	ck_assert_str_eq(c.console_path, "/tmp/x");
	ck_assert_str_eq(c.cmdline, "a b");
	ck_assert_int_eq(config_validate(&c, err), 0);
	config_free(&c);
}
END_TEST

START_TEST(args_defaults)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *argv[] = { "myvmm", "--kernel=k", NULL };
	ck_assert_int_eq(parse(&c, err, 2, argv), 0);
	ck_assert_uint_eq(c.mem, 512ULL << 20);
	ck_assert_uint_eq(c.cpus, 1);
	ck_assert_int_eq(c.console, CONSOLE_STDIO);
	ck_assert(!c.no_reboot);
	ck_assert_uint_eq(c.timeout_ms, 0);
	config_free(&c);
}
END_TEST

struct bad { const char *a, *b; const char *needle; };

START_TEST(args_bad)
{
	static const struct bad cases[] = {
		{ "--mem", "0", "zero" }, { "--mem", "abc", "not a size" },
		{ "--mem", "1K", "too small" }, { "--mem", "16777217B", "4K" },
		{ "--cpus", "0", "between 1 and" }, { "--cpus", "300", "between 1 and" },
		{ "--cpus", "x", "not a number" }, { "--cpus", "-1", "not a number" },
		{ "--console", "bogus", "unknown console" }, { "--console", "file:", "unknown console" },
		{ "--timeout", "soon", "not a duration" }, { "--bogus", NULL, "unknown option" },
		{ "k1", "k2", "unexpected argument" }, { "--ker", "x", "did you mean --kernel?" },
		{ "-kernel", "x", "did you mean --kernel?" }, { "--cpu", "2", "did you mean --cpus?" },
		{ "--no-reboot=1", NULL, "takes no value" }, { "-smp", "2", "did you mean --cpus?" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;
		char err[CONFIG_ERR_LEN] = "";
		char *argv[] = { "myvmm", (char *)cases[i].a, (char *)cases[i].b, NULL };
		int argc = cases[i].b ? 3 : 2;
		ck_assert_msg(parse(&c, err, argc, argv) != 0, "accepted %s %s", cases[i].a,
			      cases[i].b ? cases[i].b : "");
		ck_assert_msg(strstr(err, cases[i].needle), "'%s' lacks '%s'", err, cases[i].needle);
		ck_assert_msg(!strchr(err, '\n'), "error must be one line");
		config_free(&c);
	}
}
END_TEST

START_TEST(missing_value_and_kernel)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *argv[] = { "myvmm", "--mem", NULL };
	ck_assert_int_ne(parse(&c, err, 2, argv), 0);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	config_free(&c);
	char *argv2[] = { "myvmm", "--cpus", "2", NULL };
	ck_assert_int_eq(parse(&c, err, 3, argv2), 0);
	ck_assert_int_ne(config_validate(&c, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "--kernel"));
	config_free(&c);
}
END_TEST

START_TEST(set_by_key)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	config_init(&c);
	ck_assert_int_eq(config_set(&c, "mem", "2G", err), 0);
	ck_assert_uint_eq(c.mem, 2ULL << 30);
	ck_assert_int_eq(config_set(&c, "nope", "1", err), -ENOENT);
	ck_assert_int_eq(config_set(&c, "cpus", "", err), -EINVAL);
	/* Later settings override earlier ones. */
	ck_assert_int_eq(config_set(&c, "kernel", "a", err), 0);
	ck_assert_int_eq(config_set(&c, "kernel", "b", err), 0);
	ck_assert_str_eq(c.kernel, "b");
	config_free(&c);
}
END_TEST

START_TEST(disks)
{
	struct disk_config d;
	char err[CONFIG_ERR_LEN];
	ck_assert_int_eq(parse_disk("a.img", &d, err), 0);
	ck_assert_str_eq(d.path, "a.img");
	ck_assert(!d.ro);
	ck_assert_int_eq(d.cache, DISK_CACHE_WRITEBACK);
	ck_assert_int_eq(d.iface, DISK_IF_VIRTIO);
	free(d.path);
	ck_assert_int_eq(parse_disk("/x/b.img,ro,cache=none,serial=SN123,if=ide", &d, err), 0);
	ck_assert_str_eq(d.path, "/x/b.img");
	ck_assert(d.ro);
	ck_assert_int_eq(d.cache, DISK_CACHE_NONE);
	ck_assert_int_eq(d.iface, DISK_IF_IDE);
	ck_assert_str_eq(d.serial, "SN123");
	ck_assert_int_eq(d.aio, BLK_AIO_AUTO);
	free(d.path);
	/* aio=: QEMU's engine names */
	const char *aio[] = { "a.img,aio=io_uring", "a.img,aio=native", "a.img,aio=threads" };
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(parse_disk(aio[i], &d, err), 0);
		ck_assert_int_eq(d.aio, i + 1);
		free(d.path);
	}
	ck_assert_int_ne(parse_disk("a.img,aio=posix", &d, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "aio=io_uring|native|threads"));
	ck_assert_int_ne(parse_disk("", &d, err), 0);
	/* The first field is the path, even with '=' in it; ",," is a comma. */
	ck_assert_int_eq(parse_disk("/tmp/a=b.img,ro", &d, err), 0);
	ck_assert_str_eq(d.path, "/tmp/a=b.img");
	ck_assert(d.ro);
	free(d.path);
	ck_assert_int_eq(parse_disk("/tmp/x,,y.img,serial=S", &d, err), 0);
	ck_assert_str_eq(d.path, "/tmp/x,y.img");
	ck_assert_str_eq(d.serial, "S");
	free(d.path);
	ck_assert_int_ne(parse_disk(",ro", &d, err), 0);
	/* Too long is an error, never a silently shortened path. */
	char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	ck_assert_int_ne(parse_disk(longp, &d, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	ck_assert_int_ne(parse_disk("a.img,cache=weird", &d, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "cache=weird"));
	ck_assert_int_ne(parse_disk("a.img,serial=123456789012345678901", &d, err), 0);
	/* IDE needs a firmware boot. */
	struct vm_config ci;
	config_init(&ci);
	ck_assert_int_eq(config_set(&ci, "disk", "x.img,if=ide", err), 0);
	ck_assert_int_eq(config_validate(&ci, err), 0); /* no kernel: BIOS boot */
	ck_assert_int_eq(config_set(&ci, "kernel", "k", err), 0);
	ck_assert_int_ne(config_validate(&ci, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "if=ide"));
	config_free(&ci);
	/* Repeatable, bounded. */
	struct vm_config c;
	config_init(&c);
	for (int i = 0; i < CONFIG_MAX_DISKS; i++)
		ck_assert_int_eq(config_set(&c, "disk", "d.img", err), 0);
	ck_assert_int_ne(config_set(&c, "disk", "d.img", err), 0);
	ck_assert_uint_eq(c.ndisks, CONFIG_MAX_DISKS);
	config_free(&c);
}
END_TEST

/* Found by tests/fuzz/fuzz_config.c: a parse that stopped inside an option
 * cluster ("-xh") left glibc's getopt pointing into that argv, so the next
 * config_parse_args() call read the old (here freed) strings. */
START_TEST(args_reparse_after_cluster)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a1 = strdup("-xh");
	char *argv1[] = { "myvmm", a1, NULL };
	char *argv2[] = { "myvmm", "--mem=64", NULL };

	config_init(&c);
	ck_assert_int_ne(config_parse_args(&c, 2, argv1, err), 0);
	config_free(&c);
	memset(a1, 'Q', 3);
	free(a1);
	config_init(&c);
	ck_assert_int_eq(config_parse_args(&c, 2, argv2, err), 0);
	ck_assert(!c.show_help);
	ck_assert_uint_eq(c.mem, 64ull << 20);
	config_free(&c);
}
END_TEST

CHECK_MAIN("config", sizes, durations, args_good, args_defaults, args_bad,
	missing_value_and_kernel, set_by_key, disks, args_reparse_after_cluster)
