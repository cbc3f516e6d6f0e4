/* Helper daemons myvmm starts as children (qemu-storage-daemon for non-raw
 * disks): each in a private temporary directory, killed with the VM on every
 * exit path (PR_SET_PDEATHSIG in the child, kill + waitpid at teardown). */
#ifndef MYVMM_DAEMON_H
#define MYVMM_DAEMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DAEMON_QSD "qemu-storage-daemon"
#define DAEMON_ARGV_MAX 16
#define DAEMON_ARG_LEN 4400
#define DAEMON_SOCKET_WAIT_MS 10000

struct daemon {
	pid_t pid;            /* 0: not running */
	char dir[64];         /* private temp dir ("" when none) */
	char sock[128];       /* dir/vhost.sock */
	char log[128];        /* dir/stderr: the child's stderr */
};

/* qemu-storage-daemon exporting one image as vhost-user-blk. */
struct qsd_params {
	const char *image;
	const char *format;   /* qemu's driver name: "qcow2", "vmdk", ... */
	bool ro, direct;
	const char *sock;
};

/* Pure: the qemu-storage-daemon argument vector for p into
 * buf[DAEMON_ARGV_MAX][DAEMON_ARG_LEN] (commas in the image path doubled, as
 * QEMU's option syntax wants), argv NULL-terminated. Returns argc or -ENAMETOOLONG. */
int qsd_build_argv(const struct qsd_params *p, char buf[][DAEMON_ARG_LEN], char *argv[]);

/* True when prog is found on PATH (or is an executable path). */
bool daemon_available(const char *prog);

/* Starts qemu-storage-daemon for p (p->sock is ignored: the socket goes in a
 * private dir, d->sock) and waits (bounded) until it listens. Returns 0, or
 * -errno with one line in err (the daemon's own first error line when it
 * exited, e.g. an image locked by another VM). */
int daemon_start_qsd(struct daemon *d, const struct qsd_params *p, char *err, size_t errlen);
/* The building blocks (also for host/virtiofsd.c). */
uint64_t daemon_now_ms(void);   /* CLOCK_MONOTONIC */
/* Zeroes d, makes its private directory $TMPDIR/myvmm-<kind>-XXXXXX and names
 * d->sock and d->log in it. 0 or -errno with one line in err. */
int daemon_prepare(struct daemon *d, const char *kind, char *err, size_t errlen);
/* What the child does before exec. */
struct daemon_child {
	/* Non-NULL: the child runs in a private mount namespace where this
	 * directory is a read-only bind mount of itself (virtiofsd has no
	 * read-only option). */
	const char *ro_dir;
};
/* Forks and execs argv (argv[0] a path, or a name looked up on PATH) with
 * stdin/stdout on /dev/null, stderr into d->log, PR_SET_PDEATHSIG(SIGKILL),
 * its own process group; d->pid set. Returns 0 or -errno with one line in
 * err (naming prog). Exec failures show up as the child's exit + log line. */
int daemon_spawn(struct daemon *d, const char *prog, char *const argv[],
		 const struct daemon_child *c, char *err, size_t errlen);
/* The child's first non-empty stderr line not containing skip (NULL: any). */
void daemon_log_line(const struct daemon *d, const char *skip, char *out, size_t len);
/* Kills and reaps the child, removes its directory. Idempotent. */
void daemon_stop(struct daemon *d);
#endif
