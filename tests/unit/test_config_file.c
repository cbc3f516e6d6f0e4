#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "cli/config.h"

START_TEST(good_file)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	config_init(&c);
	const char *t = "# comment\n; also\n\n[machine]\n  kernel = k.elf \nmem=1G\ncpus = 2\n"
			"no-reboot = yes\ncmdline = \"console=ttyS0 quiet\"\n[run]\ntimeout=1.5\n"
			"console = file:out.log\ndebug = false\n";
	ck_assert_int_eq(config_load_text(&c, t, "t.conf", "/etc/vm", err), 0);
	ck_assert_str_eq(c.kernel, "/etc/vm/k.elf"); /* relative to the file */
	ck_assert_uint_eq(c.mem, 1ULL << 30);
	ck_assert_uint_eq(c.cpus, 2);
	ck_assert(c.no_reboot);
	ck_assert(!c.debug);
	ck_assert_str_eq(c.cmdline, "console=ttyS0 quiet");
	ck_assert_uint_eq(c.timeout_ms, 1500);
	ck_assert_str_eq(c.console_path, "/etc/vm/out.log"); /* relative to the file too */
	config_free(&c);
}
END_TEST

/* Firecracker's JSON through the API handlers (api_config.c). */
START_TEST(json_file)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN] = "";
	config_init(&c);
	const char *t = "  {\"boot-source\": {\"kernel_image_path\": \"vmlinux\", \"boot_args\": "
			"\"console=ttyS0\", \"initrd_path\": null},\n"
			" \"machine-config\": {\"vcpu_count\": 3, \"mem_size_mib\": 256, \"smt\": false},\n"
			" \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"a,b.img\", "
			"\"is_root_device\": true, \"is_read_only\": true},\n"
			"  {\"drive_id\": \"data\", \"path_on_host\": \"/d.img\", \"is_root_device\": false}],\n"
			" \"vsock\": {\"guest_cid\": 5, \"uds_path\": \"/tmp/v.sock\"},\n"
			" \"logger\": {\"log_path\": \"/tmp/l.log\", \"level\": \"warn\"},\n"
			" \"network-interfaces\": []}";
	ck_assert_msg(config_load_text(&c, t, "vm.json", "/etc/vm", err) == 0, "%s", err);
	ck_assert_str_eq(c.kernel, "vmlinux"); /* Firecracker: relative to the cwd */
	ck_assert_str_eq(c.cmdline, "console=ttyS0");
	ck_assert_ptr_null(c.initrd);
	ck_assert_uint_eq(c.cpus, 3);
	ck_assert_uint_eq(c.mem, 256ULL << 20);
	ck_assert_uint_eq(c.ndisks, 2);
	ck_assert_str_eq(c.disks[0].path, "a,b.img");  /* the comma stays literal */
	ck_assert(c.disks[0].ro);
	ck_assert_str_eq(c.disks[0].serial, "rootfs");
	ck_assert_str_eq(c.disks[1].serial, "data");
	ck_assert_uint_eq(c.vsock_cid, 5);
	ck_assert(c.logger_set);
	ck_assert_str_eq(c.log_path, "/tmp/l.log");
	ck_assert_int_eq(c.logger_level, 1 /* LOG_WARN */);
	ck_assert(c.disks[0].root && !c.disks[1].root);
	ck_assert_int_eq(config_finish(&c), 0);      /* is_root_device: root= added */
	ck_assert_str_eq(c.cmdline, "console=ttyS0 root=/dev/vda ro");
	config_free(&c);
	/* One line naming the file, the section and the field. */
	config_init(&c);
	ck_assert_int_ne(config_load_text(&c, "{\"drives\": [{\"drive_id\": \"x\", \"path_on_host\": "
					 "\"p\", \"readonly\": true}]}", "vm.json", NULL, err), 0);
	ck_assert_str_eq(err, "vm.json: drives[0]: unknown field 'readonly'");
	config_free(&c);
}
END_TEST

struct bad { const char *text, *needle; };

START_TEST(bad_files)
{
	static const struct bad cases[] = {
		{ "mem = 1G\nfrobnicate = 3\n", "t.conf:2: unknown key 'frobnicate'" },
		{ "\n\ncpus = zero\n", "t.conf:3: --cpus zero: not a number" },
		{ "mem = -5\n", "t.conf:1: --mem -5" },
		{ "[machine\n", "t.conf:1: section header" },
		{ "= 5\n", "t.conf:1: missing key" },
		{ "kernel =\n", "t.conf:1: --kernel needs a value" },
		{ "no-reboot = maybe\n", "t.conf:1: no-reboot = maybe: not a boolean" },
		{ "help = 1\n", "t.conf:1: 'help' is a command-line action" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;
		char err[CONFIG_ERR_LEN] = "";
		config_init(&c);
		ck_assert_int_ne(config_load_text(&c, cases[i].text, "t.conf", NULL, err), 0);
		ck_assert_msg(strstr(err, cases[i].needle), "'%s' lacks '%s'", err, cases[i].needle);
		config_free(&c);
	}
}
END_TEST

START_TEST(cmdline_overrides_file)
{
	char path[] = "/tmp/myvmm-cfg-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *t = "mem = 1G\ncpus = 4\nkernel = /k\n";
	ck_assert_int_eq(write(fd, t, strlen(t)), (ssize_t)strlen(t));
	close(fd);
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *argv[] = { "myvmm", "--cpus", "1", "--config", path, "--mem", "256M", NULL };
	config_init(&c);
	ck_assert_int_eq(config_parse_args(&c, 7, argv, err), 0);
	ck_assert_uint_eq(c.mem, 256ULL << 20); /* later option wins */
	ck_assert_uint_eq(c.cpus, 4);            /* file came after --cpus 1 */
	ck_assert_str_eq(c.kernel, "/k");
	config_free(&c);
	/* A file that includes itself is stopped. */
	FILE *f = fopen(path, "w");
	fprintf(f, "config = %s\n", path);
	fclose(f);
	config_init(&c);
	ck_assert_int_ne(config_load_file(&c, path, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "nest"));
	config_free(&c);
	unlink(path);
	config_init(&c);
	ck_assert_int_ne(config_load_file(&c, "/nonexistent/x.conf", err), 0);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	config_free(&c);
}
END_TEST

CHECK_MAIN("config_file", good_file, bad_files, cmdline_overrides_file, json_file)
