/* virtiofsd as a child (see virtiofsd.h). */
#include "host/virtiofsd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* virtiofsd prints this (info level) once its socket listens. */
#define READY_LINE "Waiting for vhost-user socket connection"

/* FUSE option syntax (-o a=b,c): ',' separates, '\' escapes. */
static int fuse_escape(char *dst, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (n + 3 > cap)
			return -ENAMETOOLONG;
		if (*s == ',' || *s == '\\')
			dst[n++] = '\\';
		dst[n++] = *s;
	}
	dst[n] = 0;
	return 0;
}

int virtiofsd_build_argv(const struct virtiofsd_params *p, char buf[][DAEMON_ARG_LEN],
			 char *argv[])
{
	char dir[DAEMON_ARG_LEN - 8];
	int n = 0;

	if (fuse_escape(dir, sizeof(dir), p->dir) || strlen(p->prog) >= DAEMON_ARG_LEN ||
	    strlen(p->sock) + 16 >= DAEMON_ARG_LEN)
		return -ENAMETOOLONG;
	snprintf(buf[n++], DAEMON_ARG_LEN, "%s", p->prog);
	snprintf(buf[n++], DAEMON_ARG_LEN, "--socket-path=%s", p->sock);
	snprintf(buf[n++], DAEMON_ARG_LEN, "-o");
	snprintf(buf[n++], DAEMON_ARG_LEN, "source=%s", dir);
	if (p->chroot_sandbox) {
		snprintf(buf[n++], DAEMON_ARG_LEN, "-o");
		snprintf(buf[n++], DAEMON_ARG_LEN, "sandbox=chroot");
	}
	for (int i = 0; i < n; i++)
		argv[i] = buf[i];
	argv[n] = NULL;
	return n;
}

bool virtiofsd_find(char *out, size_t len)
{
	static const char *const fixed[] = { "/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd" };
	const char *env = getenv(VIRTIOFSD_ENV);

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(env, X_OK) == 0;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (access(fixed[i], X_OK) == 0) {
			snprintf(out, len, "%s", fixed[i]);
			return true;
		}
	snprintf(out, len, "%s", DAEMON_VIRTIOFSD);
	return daemon_available(DAEMON_VIRTIOFSD);
}

bool virtiofsd_root_is_initramfs(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	bool rootfs = false;

	if (!f)
		return false;
	/* "36 1 0:2 / / rw - rootfs rootfs rw": the last mount on "/" wins */
	while (fgets(line, sizeof(line), f)) {
		char root[1024], mnt[1024], type[16];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%15s", type) != 1)
			continue;
		if (!strcmp(mnt, "/"))
			rootfs = !strcmp(type, "rootfs");
	}
	fclose(f);
	return rootfs;
}

void virtiofsd_exit_reason(struct daemon *d, unsigned ms, char *out, size_t len)
{
	uint64_t deadline = daemon_now_ms() + ms;

	out[0] = 0;
	while (d->pid > 0) {
		if (daemon_exited(d)) {
			daemon_log_line(d, READY_LINE, out, len);
			return;
		}
		if (daemon_now_ms() > deadline)
			return;
		usleep(5000);
	}
}

int daemon_start_virtiofsd(struct daemon *d, const char *dir, bool ro, char *err,
			   size_t errlen)
{
	char (*buf)[DAEMON_ARG_LEN] = calloc(DAEMON_ARGV_MAX, DAEMON_ARG_LEN);
	char *argv[DAEMON_ARGV_MAX + 1], prog[256];
	struct virtiofsd_params p = { .prog = prog, .dir = dir,
				      .chroot_sandbox = virtiofsd_root_is_initramfs() };
	/* Not ready by connecting: virtiofsd serves its first connection only. */
	struct daemon_child child = { .ro_dir = ro ? dir : NULL, .ready_line = READY_LINE };
	int r;

	memset(d, 0, sizeof(*d));
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!virtiofsd_find(prog, sizeof(prog))) {
		snprintf(err, errlen, "%s is not installed (%s; Debian: apt install "
			 "qemu-system-common, or set $%s)", DAEMON_VIRTIOFSD, prog, VIRTIOFSD_ENV);
		r = -ENOENT;
		goto out;
	}
	if ((r = daemon_prepare(d, "fs", err, errlen)))
		goto out;
	p.sock = d->sock;
	if ((r = virtiofsd_build_argv(&p, buf, argv)) < 0) {
		snprintf(err, errlen, "the directory path is too long for %s", DAEMON_VIRTIOFSD);
		daemon_stop(d);
		goto out;
	}
	r = daemon_run_child(d, argv, &child, err, errlen);
out:
	free(buf);
	return r;
}
