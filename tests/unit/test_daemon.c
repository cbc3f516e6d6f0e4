/* qemu-storage-daemon's argument vector (host/daemon.c, pure part), the
 * PATH lookup, and a daemon's child set-up (daemon_child_exec) forked
 * directly and by the spawner. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A stand-in daemon: reports its set-up on stderr, then listens on argv[1]. */
static const char probe_py[] =
	"import os, re, socket, sys, time\n"
	"blk = re.search(r'SigBlk:\\s*(\\S+)', open('/proc/self/status').read()).group(1)\n"
	"sys.stderr.write('fd0=%s fd1=%s ownpgrp=%d sigblk=%s\\n' % (os.readlink('/proc/self/fd/0'),"
	" os.readlink('/proc/self/fd/1'), os.getpgid(0) == os.getpid(), blk))\n"
	"sys.stderr.flush()\n"
	"s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)\n"
	"time.sleep(30)\n";

static void read_log(const struct daemon *d, char *out, size_t len)
{
	FILE *f = fopen(d->log, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = 0;
	fclose(f);
}

/* Runs the probe (direct fork or spawner, whichever is up); its report. */
static void run_probe(char *report, size_t len)
{
	struct daemon d;
	char err[256] = "";
	ck_assert_int_eq(daemon_prepare(&d, "ut", err, sizeof(err)), 0);
	char *const args[] = { "python3", "-c", (char *)probe_py, d.sock, NULL };
	ck_assert_msg(daemon_run(&d, args, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_gt(d.pid, 0);
	read_log(&d, report, len);
	daemon_stop(&d);
	ck_assert_int_eq(d.pid, 0);
	ck_assert_int_eq(access(d.log, F_OK), -1);   /* its directory is gone */
}

START_TEST(child_direct)
{
	char report[512];
	ck_assert(!daemon_spawner_running());
	run_probe(report, sizeof(report));
	ck_assert_msg(strstr(report, "fd0=/dev/null fd1=/dev/null ownpgrp=1 "), "%s", report);
}
END_TEST

START_TEST(child_spawned)
{
	char report[512], err[256] = "";
	sigset_t term;
	/* A blocked signal is not passed on to the spawner's daemons. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	ck_assert_msg(daemon_spawner_start(err, sizeof(err)) == 0, "%s", err);
	run_probe(report, sizeof(report));
	daemon_spawner_stop();
	/* In the spawner's process group (made at its start), not its own. */
	ck_assert_msg(strstr(report, "fd0=/dev/null fd1=/dev/null ownpgrp=0 sigblk=0000000000000000"),
		      "%s", report);
}
END_TEST

START_TEST(child_ro_dir_fails)
{
	struct daemon d;
	char err[256] = "";
	struct daemon_child c = { .ro_dir = "/nonexistent-myvmm-ut" };
	ck_assert_int_eq(daemon_prepare(&d, "ut", err, sizeof(err)), 0);
	char *const args[] = { "true", NULL };
	ck_assert_int_eq(daemon_run_child(&d, args, &c, err, sizeof(err)), -EIO);
	ck_assert_msg(strstr(err, "true exited at start: cannot make /nonexistent-myvmm-ut "
			      "read-only for true: No such file or directory"), "%s", err);
	ck_assert_int_eq(d.pid, 0);
}
END_TEST

CHECK_MAIN("daemon", qsd_rw_writeback, qsd_ro_direct_commas, qsd_path_too_long, available,
	   child_direct, child_spawned, child_ro_dir_fails)
