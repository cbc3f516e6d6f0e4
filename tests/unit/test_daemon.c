/* qemu-storage-daemon's argument vector (host/daemon.c, pure part) and the
 * PATH lookup. */
#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "host/daemon.h"

static char buf[DAEMON_ARGV_MAX][DAEMON_ARG_LEN];
static char *argv[DAEMON_ARGV_MAX + 1];

START_TEST(qsd_rw_writeback)
{
	struct qsd_params p = { .image = "/img/a.qcow2", .format = "qcow2", .sock = "/t/s" };
	int n = qsd_build_argv(&p, buf, argv);
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(argv[0], "qemu-storage-daemon");
	ck_assert_str_eq(argv[1], "--blockdev");
	ck_assert_str_eq(argv[2], "driver=file,node-name=file0,filename=/img/a.qcow2,"
				  "cache.direct=off,read-only=off");
	ck_assert_str_eq(argv[4], "driver=qcow2,node-name=disk0,file=file0,read-only=off");
	ck_assert_str_eq(argv[5], "--export");
	ck_assert_str_eq(argv[6], "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
				  "addr.path=/t/s,writable=on");
	ck_assert_ptr_null(argv[7]);
}
END_TEST

START_TEST(qsd_ro_direct_commas)
{
	struct qsd_params p = { .image = "/x,driver=raw/b.vmdk", .format = "vmdk", .ro = true,
				.direct = true, .sock = "/t/s" };
	ck_assert_int_eq(qsd_build_argv(&p, buf, argv), 7);
	/* A comma in the path cannot inject an option: it is doubled. */
	ck_assert_str_eq(argv[2], "driver=file,node-name=file0,filename=/x,,driver=raw/b.vmdk,"
				  "cache.direct=on,read-only=on");
	ck_assert_str_eq(argv[4], "driver=vmdk,node-name=disk0,file=file0,read-only=on");
	ck_assert(strstr(argv[6], ",writable=off"));
}
END_TEST

START_TEST(qsd_path_too_long)
{
	static char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	struct qsd_params p = { .image = longp, .format = "qcow2", .sock = "/t/s" };
	ck_assert_int_eq(qsd_build_argv(&p, buf, argv), -ENAMETOOLONG);
}
END_TEST

START_TEST(available)
{
	ck_assert(daemon_available("sh"));
	ck_assert(daemon_available("/bin/sh"));
	ck_assert(!daemon_available("myvmm-no-such-program"));
}
END_TEST

CHECK_MAIN("daemon", qsd_rw_writeback, qsd_ro_direct_commas, qsd_path_too_long, available)
