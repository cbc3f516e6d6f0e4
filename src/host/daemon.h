/* Helper daemons myvmm starts (qemu-storage-daemon for non-raw disks,
 * virtiofsd): each in a private temporary directory
 * ($TMPDIR/myvmm-TAG-PID-XXXXXX: socket and the daemon's stderr), stopped with
 * the VM on every exit path.
 *
 * The seccomp sandbox forbids fork and execve once set-up is done, and VMs
 * are built after that (again on every guest reset, or on the API's
 * InstanceStart). So main() forks a small spawner process first
 * (daemon_spawner_start, before sandbox_install), which is not sandboxed and
 * starts daemons on request over a socket pair. It owns them: SIGTERM (so
 * qemu-storage-daemon flushes its metadata), SIGKILL after 3 s, waitpid, dir
 * removed, on request (daemon_stop) and for all of them when myvmm's end of
 * the socket closes (myvmm exited, even by SIGKILL). Each daemon has
 * PR_SET_PDEATHSIG(SIGKILL) against the spawner. At its start the spawner
 * removes the directories of dead myvmm processes (both killed at once).
 * Without a spawner (unit tests, or none started) daemons are forked
 * directly, which only works without the sandbox. */
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

#define DAEMON_TMPDIR_MAX 32   /* a longer $TMPDIR: /tmp (socket paths are short) */
#define DAEMON_DIR_LEN 96
#define DAEMON_PATH_LEN 128

struct daemon {
	pid_t pid;            /* 0: not running */
	bool spawned;         /* started by the spawner (else forked here) */
	char prog[32];        /* for messages: "qemu-storage-daemon" */
	char dir[DAEMON_DIR_LEN];   /* private temp dir ("" when none) */
	char sock[DAEMON_PATH_LEN]; /* dir/vhost.sock */
	char log[DAEMON_PATH_LEN];  /* dir/stderr: the child's stderr */
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

/* Forks the spawner (main(), before the sandbox; idempotent). 0 or -errno
 * with one line in err. */
int daemon_spawner_start(char *err, size_t errlen);
/* Closes the socket (the spawner stops any daemon left) and reaps it. */
void daemon_spawner_stop(void);
bool daemon_spawner_running(void);

/* Generic start, any daemon: makes d's private dir (tag: [a-z0-9]{1,12},
 * e.g. "qsd"), fills d->sock/d->log. 0 or -errno with one line in err. */
int daemon_prepare(struct daemon *d, const char *tag, char *err, size_t errlen);
/* After daemon_prepare: runs argv (argv[0] looked up on PATH; its socket
 * should be d->sock) with stdin/stdout /dev/null, stderr to d->log, and waits
 * up to DAEMON_SOCKET_WAIT_MS until d->sock accepts a connection. 0, or
 * -errno with one line in err (the daemon's own first stderr line when it
 * exited); d is stopped on failure. */
int daemon_run(struct daemon *d, char *const argv[], char *err, size_t errlen);

/* What a daemon needs beyond daemon_run's defaults (virtiofsd). */
struct daemon_child {
	/* Non-NULL: the daemon runs in a private mount namespace in which this
	 * directory is a read-only bind mount of itself (virtiofsd has no
	 * read-only option). */
	const char *ro_dir;
	/* Non-NULL: ready when d->sock exists and the daemon's stderr has a
	 * line containing this (or the socket has existed for 300 ms), not by
	 * connecting: virtiofsd serves only its first connection. */
	const char *ready_line;
};
#define DAEMON_RO_DIR_LEN 4096
int daemon_run_child(struct daemon *d, char *const argv[], const struct daemon_child *c,
		     char *err, size_t errlen);
/* In a daemon's child before exec: the ro_dir set-up. 0 or -errno. */
int daemon_child_ro_dir(const char *dir);
/* In a daemon's child just after fork (direct or by the spawner): stdin and
 * stdout /dev/null, stderr to log, PR_SET_PDEATHSIG(SIGKILL) (exits 127 when
 * parent is already gone), the ro_dir set-up (NULL or "": none; exits 126
 * with a line on log when it fails), then execvp(argv). Flags: */
#define DAEMON_CHILD_OWN_PGRP 1u        /* setpgid(0, 0) (forked by myvmm) */
#define DAEMON_CHILD_DEFAULT_SIGNALS 2u /* empty mask, SIGINT/HUP/QUIT/PIPE default */
void daemon_child_exec(const char *log, const char *ro_dir, char *const argv[], pid_t parent,
		       unsigned flags) __attribute__((noreturn));
/* Has the daemon exited (reaped)? */
bool daemon_exited(struct daemon *d);
/* The daemon's first non-empty stderr line not containing skip (NULL: any). */
void daemon_log_line(const struct daemon *d, const char *skip, char *out, size_t len);
uint64_t daemon_now_ms(void);   /* CLOCK_MONOTONIC */

/* The $TMPDIR daemons' directories go in; removes a daemon's directory
 * (its entries, not recursive, then the directory). */
const char *daemon_tmpdir(void);
void daemon_rmdir(const char *dir);

/* The spawner's requests (daemon.c uses them): start argv (dir removed
 * when it is stopped), has it exited (1/0), stop it. -ENOTCONN without a
 * spawner. */
int spawner_spawn(char *const argv[], const char *dir, const char *log, const char *ro_dir,
		  pid_t *pid);
int spawner_poll(pid_t pid);
int spawner_stop(pid_t pid);

/* Starts qemu-storage-daemon for p (p->sock is ignored: the socket goes in a
 * private dir, d->sock) and waits (bounded) until it listens. Returns 0, or
 * -errno with one line in err (the daemon's own first error line when it
 * exited, e.g. an image locked by another VM). */
int daemon_start_qsd(struct daemon *d, const struct qsd_params *p, char *err, size_t errlen);
/* Kills and reaps the child, removes its directory. Idempotent. */
void daemon_stop(struct daemon *d);
#endif
