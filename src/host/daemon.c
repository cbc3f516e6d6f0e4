/* Child daemons (see daemon.h). */
#include "host/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* QEMU option syntax: a comma in a value is written ",,". */
static int put_escaped(char *dst, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		if (n + 3 > cap)
			return -ENAMETOOLONG;
		dst[n++] = *s;
		if (*s == ',')
			dst[n++] = ',';
	}
	dst[n] = 0;
	return 0;
}

int qsd_build_argv(const struct qsd_params *p, char buf[][DAEMON_ARG_LEN], char *argv[])
{
	char img[4096 + 64], sock[256];
	int n = 0;

	if (put_escaped(img, sizeof(img), p->image) || put_escaped(sock, sizeof(sock), p->sock))
		return -ENAMETOOLONG;
	snprintf(buf[n++], DAEMON_ARG_LEN, "%s", DAEMON_QSD);
	snprintf(buf[n++], DAEMON_ARG_LEN, "--blockdev");
	if (snprintf(buf[n++], DAEMON_ARG_LEN,
		     "driver=file,node-name=file0,filename=%s,cache.direct=%s,read-only=%s",
		     img, p->direct ? "on" : "off", p->ro ? "on" : "off") >= DAEMON_ARG_LEN)
		return -ENAMETOOLONG;
	snprintf(buf[n++], DAEMON_ARG_LEN, "--blockdev");
	snprintf(buf[n++], DAEMON_ARG_LEN, "driver=%s,node-name=disk0,file=file0,read-only=%s",
		 p->format, p->ro ? "on" : "off");
	snprintf(buf[n++], DAEMON_ARG_LEN, "--export");
	snprintf(buf[n++], DAEMON_ARG_LEN,
		 "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=%s,writable=%s",
		 sock, p->ro ? "off" : "on");
	for (int i = 0; i < n; i++)
		argv[i] = buf[i];
	argv[n] = NULL;
	return n;
}

bool daemon_available(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

uint64_t daemon_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool sock_listens(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

void daemon_log_line(const struct daemon *d, const char *skip, char *out, size_t len)
{
	FILE *f = fopen(d->log, "r");
	char line[512];

	out[0] = 0;
	if (!f)
		return;
	for (unsigned n = 0; n < 1000 && fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] && (!skip || !strstr(line, skip))) {
			snprintf(out, len, "%.300s", line);
			break;
		}
	}
	fclose(f);
}

static bool log_has(const struct daemon *d, const char *what)
{
	FILE *f = fopen(d->log, "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	for (unsigned n = 0; n < 64 && !found && fgets(line, sizeof(line), f); n++)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

int daemon_child_ro_dir(const char *dir)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

	/* Private namespace, no propagation back to the host; the directory
	 * bound onto itself, then read-only with everything mounted below it
	 * (mount_setattr, Linux 5.12); older kernels: the top mount only. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) ||
	    mount(dir, dir, NULL, MS_BIND | MS_REC, NULL))
		return -errno;
	if (mount_setattr(AT_FDCWD, dir, AT_RECURSIVE, &a, sizeof(a)) == 0)
		return 0;
	if (errno != ENOSYS || umount2(dir, MNT_DETACH) || mount(dir, dir, NULL, MS_BIND, NULL) ||
	    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		return -errno;
	return 0;
}

int daemon_prepare(struct daemon *d, const char *tag, char *err, size_t errlen)
{
	const char *tmp = daemon_tmpdir();
	int r;

	memset(d, 0, sizeof(*d));
	if (!*tag || strlen(tag) > 12 || strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789") !=
	    strlen(tag)) {
		snprintf(err, errlen, "bad daemon tag '%.20s'", tag);
		return -EINVAL;
	}
	snprintf(d->dir, sizeof(d->dir), "%s/myvmm-%s-%d-XXXXXX", tmp, tag, (int)getpid());
	if (!mkdtemp(d->dir)) {
		r = -errno;
		snprintf(err, errlen, "cannot create a private directory in %s: %s", tmp,
			 strerror(-r));
		d->dir[0] = 0;
		return r;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/vhost.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/stderr", d->dir);
	return 0;
}

void daemon_child_exec(const char *log, const char *ro_dir, char *const argv[], pid_t parent,
		       unsigned flags)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Dies with its parent, however it dies. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
	}
	if (fd >= 0)
		dup2(fd, 2);
	if (flags & DAEMON_CHILD_OWN_PGRP)
		setpgid(0, 0); /* a terminal's Ctrl-C goes to myvmm, which tears down */
	if (flags & DAEMON_CHILD_DEFAULT_SIGNALS) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
	}
	if (ro_dir && *ro_dir && (errno = -daemon_child_ro_dir(ro_dir))) {
		dprintf(2, "cannot make %s read-only for %s: %s\n", ro_dir, argv[0],
			strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	_exit(127);
}

/* No spawner: fork here (works only without the sandbox). */
static int fork_direct(struct daemon *d, char *const argv[], const char *ro_dir)
{
	pid_t ppid = getpid();

	d->pid = fork();
	if (d->pid < 0) {
		int r = -errno;
		d->pid = 0;
		return r;
	}
	if (d->pid == 0)
		daemon_child_exec(d->log, ro_dir, argv, ppid, DAEMON_CHILD_OWN_PGRP);
	return 0;
}

bool daemon_exited(struct daemon *d)
{
	if (d->spawned)
		return spawner_poll(d->pid) != 0;   /* 1, or the spawner is gone */
	if (waitpid(d->pid, NULL, WNOHANG) != d->pid)
		return false;
	d->pid = 0;
	return true;
}

/* Ready to be connected to: listening (a probe connect), or for
 * c->ready_line the socket file plus that line (or 300 ms of the file). */
static bool ready(struct daemon *d, const struct daemon_child *c, uint64_t *seen)
{
	struct stat st;

	if (!c || !c->ready_line)
		return sock_listens(d->sock);
	if (stat(d->sock, &st) || !S_ISSOCK(st.st_mode))
		return false;
	if (!*seen)
		*seen = daemon_now_ms();
	return log_has(d, c->ready_line) || daemon_now_ms() - *seen >= 300;
}

int daemon_run(struct daemon *d, char *const argv[], char *err, size_t errlen)
{
	return daemon_run_child(d, argv, NULL, err, errlen);
}

int daemon_run_child(struct daemon *d, char *const argv[], const struct daemon_child *c,
		     char *err, size_t errlen)
{
	const char *ro_dir = c ? c->ro_dir : NULL;
	uint64_t deadline, seen = 0;
	int r;

	if (ro_dir && strlen(ro_dir) >= DAEMON_RO_DIR_LEN) {
		snprintf(err, errlen, "the directory path is too long");
		daemon_stop(d);
		return -ENAMETOOLONG;
	}

	snprintf(d->prog, sizeof(d->prog), "%s", argv[0]);
	if (daemon_spawner_running()) {
		d->spawned = true;
		r = spawner_spawn(argv, d->dir, d->log, ro_dir, &d->pid);
		if (r) {
			d->pid = 0;
			d->spawned = false;
		}
	} else {
		r = fork_direct(d, argv, ro_dir);
	}
	if (r) {
		if (r == -EPERM)
			snprintf(err, errlen, "cannot start %s: the seccomp sandbox forbids fork and "
				 "myvmm started no daemon spawner (a myvmm bug)", d->prog);
		else
			snprintf(err, errlen, "cannot start %s: %s", d->prog, strerror(-r));
		goto fail;
	}
	deadline = daemon_now_ms() + DAEMON_SOCKET_WAIT_MS;
	for (;;) {
		if (ready(d, c, &seen))
			return 0;
		if (daemon_exited(d)) {
			char line[400];
			daemon_log_line(d, c ? c->ready_line : NULL, line, sizeof(line));
			snprintf(err, errlen, "%s exited at start: %s", d->prog,
				 line[0] ? line : "no message (status 127: not runnable)");
			r = -EIO;
			goto fail;
		}
		if (daemon_now_ms() > deadline) {
			snprintf(err, errlen, "%s did not listen on its socket within %u ms", d->prog,
				 DAEMON_SOCKET_WAIT_MS);
			r = -ETIMEDOUT;
			goto fail;
		}
		usleep(5000);
	}
fail:
	daemon_stop(d);
	return r;
}

int daemon_start_qsd(struct daemon *d, const struct qsd_params *p, char *err, size_t errlen)
{
	char (*buf)[DAEMON_ARG_LEN] = calloc(DAEMON_ARGV_MAX, DAEMON_ARG_LEN);
	char *argv[DAEMON_ARGV_MAX + 1];
	struct qsd_params q = *p;
	int r;

	memset(d, 0, sizeof(*d));
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!daemon_available(DAEMON_QSD)) {
		snprintf(err, errlen, "%s is not installed", DAEMON_QSD);
		free(buf);
		return -ENOENT;
	}
	if ((r = daemon_prepare(d, "qsd", err, errlen)))
		goto out;
	q.sock = d->sock;
	if ((r = qsd_build_argv(&q, buf, argv)) < 0) {
		snprintf(err, errlen, "the image path is too long for %s", DAEMON_QSD);
		daemon_stop(d);
		goto out;
	}
	r = daemon_run(d, argv, err, errlen);
out:
	free(buf);
	return r;
}

void daemon_stop(struct daemon *d)
{
	if (d->pid > 0 && d->spawned) {
		/* The spawner SIGTERMs (qemu-storage-daemon then flushes its
		 * metadata caches), SIGKILLs after 3 s, reaps, removes the dir. */
		if (spawner_stop(d->pid) == 0)
			d->dir[0] = 0;
		d->pid = 0;
	}
	if (d->pid > 0) {
		uint64_t deadline = daemon_now_ms() + 3000;
		kill(d->pid, SIGTERM);
		while (daemon_now_ms() < deadline) {
			if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
				d->pid = 0;
				break;
			}
			usleep(5000);
		}
	}
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
			;
		d->pid = 0;
	}
	if (d->dir[0]) {
		daemon_rmdir(d->dir);
		d->dir[0] = 0;
	}
}
