/* The daemon spawner (see daemon.h): a process forked before the seccomp
 * sandbox is installed, which starts, polls and stops daemons on request
 * over a SOCK_SEQPACKET socket pair, and stops them all when myvmm's end of
 * the socket closes (myvmm exited, however). One request, one reply. */
#include "host/daemon.h"

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { SP_SPAWN = 1, SP_POLL, SP_STOP };

#define SP_ARGS_MAX 32768
#define SP_CHILDREN 32
#define SP_STOP_MS 3000

struct sp_req {
	uint32_t op;
	int32_t pid;
	char dir[DAEMON_DIR_LEN];
	char log[DAEMON_PATH_LEN];
	char ro_dir[DAEMON_RO_DIR_LEN];   /* "": none (struct daemon_child) */
	uint32_t argc;
	uint32_t len;                 /* bytes of args: argc NUL-terminated strings */
	char args[SP_ARGS_MAX];
};

struct sp_rep {
	int32_t rc;                   /* >= 0 or -errno */
	int32_t pid;
};

/* myvmm's side: the socket to the spawner, its pid; one request at a time. */
static struct {
	int fd;
	pid_t pid;
	pthread_mutex_t lock;
} g_sp = { -1, 0, PTHREAD_MUTEX_INITIALIZER };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void daemon_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (d) {
		/* Only what a daemon leaves there: sockets, logs. Bounded. */
		while ((e = readdir(d)) && n++ < 256)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

const char *daemon_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp && strlen(tmp) <= DAEMON_TMPDIR_MAX ? tmp : "/tmp";
}

/* Directories myvmm-TAG-PID-XXXXXX of ours whose myvmm is gone (killed
 * along with its spawner): removed at start. */
static void remove_stale_dirs(void)
{
	const char *tmp = daemon_tmpdir();
	DIR *d = opendir(tmp);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n++ < 100000) {
		char tag[32], rnd[16], path[DAEMON_DIR_LEN];
		int pid, end = 0;
		struct stat st;
		if (strncmp(e->d_name, "myvmm-", 6) ||
		    sscanf(e->d_name, "myvmm-%31[a-z0-9]-%d-%15[A-Za-z0-9]%n", tag, &pid, rnd, &end) != 3 ||
		    e->d_name[end] || strlen(rnd) != 6 || pid <= 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode) ||
		    st.st_uid != getuid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;   /* alive (or not ours to judge) */
		if (snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name) < (int)sizeof(path))
			daemon_rmdir(path);
	}
	closedir(d);
}

/* ---- the spawner process ---- */

struct sp_child {
	pid_t pid;                    /* 0: free slot */
	bool exited;                  /* reaped (SP_POLL saw it go); dir kept until SP_STOP */
	char dir[DAEMON_DIR_LEN];
};

static int sp_spawn(struct sp_req *q, struct sp_child *kids, pid_t *out)
{
	char *argv[DAEMON_ARGV_MAX + 1];
	struct sp_child *slot = NULL;
	size_t off = 0;
	pid_t pid, self = getpid();

	for (int i = 0; i < SP_CHILDREN; i++)
		if (!kids[i].pid) {
			slot = &kids[i];
			break;
		}
	if (!slot)
		return -EMFILE;
	if (!q->argc || q->argc > DAEMON_ARGV_MAX || q->len > SP_ARGS_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < q->argc; i++) {
		size_t l = strnlen(q->args + off, q->len - off);
		if (off + l >= q->len)
			return -EINVAL;
		argv[i] = q->args + off;
		off += l + 1;
	}
	argv[q->argc] = NULL;
	q->dir[sizeof(q->dir) - 1] = q->log[sizeof(q->log) - 1] = 0;
	q->ro_dir[sizeof(q->ro_dir) - 1] = 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		daemon_child_exec(q->log, q->ro_dir, argv, self, DAEMON_CHILD_DEFAULT_SIGNALS);
	slot->pid = pid;
	slot->exited = false;
	snprintf(slot->dir, sizeof(slot->dir), "%s", q->dir);
	*out = pid;
	return 0;
}

static struct sp_child *find_kid(struct sp_child *kids, pid_t pid)
{
	for (int i = 0; i < SP_CHILDREN; i++)
		if (pid > 0 && kids[i].pid == pid)
			return &kids[i];
	return NULL;
}

static void forget(struct sp_child *k)
{
	if (k->dir[0])
		daemon_rmdir(k->dir);
	k->pid = 0;
	k->exited = false;
	k->dir[0] = 0;
}

/* SIGTERM to every child in the list (qemu-storage-daemon then flushes its
 * metadata), reaped within SP_STOP_MS, SIGKILL for the rest. */
static void stop_kids(struct sp_child *kids, int n)
{
	uint64_t deadline = now_ms() + SP_STOP_MS;
	int left = 0;

	for (int i = 0; i < n; i++) {
		if (kids[i].pid > 0 && kids[i].exited)
			forget(&kids[i]);
		else if (kids[i].pid > 0 && kill(kids[i].pid, SIGTERM) == 0)
			left++;
	}
	while (left && now_ms() < deadline) {
		left = 0;
		for (int i = 0; i < n; i++) {
			if (kids[i].pid <= 0)
				continue;
			if (waitpid(kids[i].pid, NULL, WNOHANG) == kids[i].pid)
				forget(&kids[i]);
			else
				left++;
		}
		if (left)
			usleep(5000);
	}
	for (int i = 0; i < n; i++) {
		if (kids[i].pid <= 0)
			continue;
		kill(kids[i].pid, SIGKILL);
		while (waitpid(kids[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		forget(&kids[i]);
	}
}

static void __attribute__((noreturn)) spawner_main(int fd)
{
	static struct sp_req q;
	static struct sp_child kids[SP_CHILDREN];

	/* Out of the terminal's process group: a Ctrl-C is myvmm's to handle. */
	setpgid(0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "myvmm-spawner");
	/* Nothing of myvmm's but stdio and the socket. */
	for (int i = 3; i < 1024; i++)
		if (i != fd)
			close(i);
	remove_stale_dirs();
	for (;;) {
		struct sp_rep rep = { 0 };
		ssize_t n = recv(fd, &q, sizeof(q), 0);
		struct sp_child *k;
		if (n == 0 || (n < 0 && errno != EINTR))
			break;   /* myvmm is gone */
		if (n < (ssize_t)offsetof(struct sp_req, args)) {
			rep.rc = -EINVAL;
		} else if (q.op == SP_SPAWN) {
			if (q.len > (size_t)n - offsetof(struct sp_req, args))
				rep.rc = -EINVAL;
			else
				rep.rc = sp_spawn(&q, kids, &rep.pid);
		} else if (!(k = find_kid(kids, q.pid))) {
			rep.rc = -ESRCH;
		} else if (q.op == SP_POLL) {
			if (!k->exited && waitpid(k->pid, NULL, WNOHANG) == k->pid)
				k->exited = true;
			rep.rc = k->exited;
		} else if (q.op == SP_STOP) {
			stop_kids(k, 1);
		} else {
			rep.rc = -EINVAL;
		}
		if (send(fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
			break;
	}
	stop_kids(kids, SP_CHILDREN);
	_exit(0);
}

int daemon_spawner_start(char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (g_sp.fd >= 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "cannot create the daemon spawner's socket: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		snprintf(err, errlen, "cannot start the daemon spawner: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	g_sp.fd = sv[0];
	g_sp.pid = pid;
	return 0;
}

void daemon_spawner_stop(void)
{
	if (g_sp.fd < 0)
		return;
	close(g_sp.fd);   /* the spawner stops what is left and exits */
	g_sp.fd = -1;
	while (waitpid(g_sp.pid, NULL, 0) < 0 && errno == EINTR)
		;
	g_sp.pid = 0;
}

bool daemon_spawner_running(void)
{
	return g_sp.fd >= 0;
}

static int call(struct sp_req *q, size_t len, pid_t *pid)
{
	struct sp_rep rep;
	ssize_t n;

	pthread_mutex_lock(&g_sp.lock);
	if (g_sp.fd < 0) {
		pthread_mutex_unlock(&g_sp.lock);
		return -ENOTCONN;
	}
	if (send(g_sp.fd, q, len, MSG_NOSIGNAL) != (ssize_t)len) {
		pthread_mutex_unlock(&g_sp.lock);
		return -EPIPE;
	}
	do
		n = recv(g_sp.fd, &rep, sizeof(rep), 0);
	while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&g_sp.lock);
	if (n != sizeof(rep))
		return -EPIPE;
	if (pid)
		*pid = rep.pid;
	return rep.rc;
}

static struct sp_req *req_new(uint32_t op, pid_t pid)
{
	struct sp_req *q = calloc(1, sizeof(*q));
	if (q) {
		q->op = op;
		q->pid = pid;
	}
	return q;
}

int spawner_spawn(char *const argv[], const char *dir, const char *log, const char *ro_dir,
		  pid_t *pid)
{
	struct sp_req *q = req_new(SP_SPAWN, 0);
	size_t off = 0;
	int r;

	if (!q)
		return -ENOMEM;
	snprintf(q->dir, sizeof(q->dir), "%s", dir);
	snprintf(q->log, sizeof(q->log), "%s", log);
	if (ro_dir && snprintf(q->ro_dir, sizeof(q->ro_dir), "%s", ro_dir) >= (int)sizeof(q->ro_dir)) {
		free(q);
		return -ENAMETOOLONG;
	}
	for (; argv[q->argc]; q->argc++) {
		size_t l = strlen(argv[q->argc]) + 1;
		if (q->argc >= DAEMON_ARGV_MAX || off + l > sizeof(q->args)) {
			free(q);
			return -E2BIG;
		}
		memcpy(q->args + off, argv[q->argc], l);
		off += l;
	}
	q->len = (uint32_t)off;
	r = call(q, offsetof(struct sp_req, args) + off, pid);
	free(q);
	return r;
}

static int simple(uint32_t op, pid_t pid)
{
	struct sp_req *q = req_new(op, pid);
	int r;

	if (!q)
		return -ENOMEM;
	r = call(q, offsetof(struct sp_req, args), NULL);
	free(q);
	return r;
}

int spawner_poll(pid_t pid) { return simple(SP_POLL, pid); }
int spawner_stop(pid_t pid) { return simple(SP_STOP, pid); }
