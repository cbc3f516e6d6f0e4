/* virtiofsd (QEMU 7.2's C daemon in Debian 12: /usr/lib/qemu/virtiofsd) as
 * a child serving one host directory over vhost-user (--share). Spawned with
 * host/daemon.c's building blocks: private temp dir, PR_SET_PDEATHSIG,
 * SIGTERM/SIGKILL + waitpid at teardown. Read-only shares: this virtiofsd
 * has no such option, so the child runs in a private mount namespace where
 * the directory is a read-only bind mount (daemon_child.ro_dir); its own
 * sandbox then bind-mounts that (still read-only) mount as its root. */
#ifndef MYVMM_VIRTIOFSD_H
#define MYVMM_VIRTIOFSD_H
#include <stdbool.h>
#include <stddef.h>

#include "host/daemon.h"

#define DAEMON_VIRTIOFSD "virtiofsd"
#define VIRTIOFSD_ENV "MYVMM_VIRTIOFSD"   /* overrides the search below */

struct virtiofsd_params {
	const char *prog;     /* the binary (virtiofsd_find) */
	const char *dir;      /* the shared directory */
	const char *sock;     /* its vhost-user socket */
	bool chroot_sandbox;  /* -o sandbox=chroot (pivot_root fails on an initramfs root) */
};

/* Pure: the argument vector into buf/argv (NULL-terminated). The directory
 * goes through FUSE's option syntax, so ',' and '\' are escaped with '\'.
 * Returns argc or -ENAMETOOLONG. */
int virtiofsd_build_argv(const struct virtiofsd_params *p, char buf[][DAEMON_ARG_LEN],
			 char *argv[]);
/* The virtiofsd binary: $MYVMM_VIRTIOFSD when set (used as is), else
 * /usr/lib/qemu/virtiofsd, /usr/libexec/virtiofsd, then virtiofsd on PATH.
 * false when none is executable. */
bool virtiofsd_find(char *out, size_t len);
/* True when this process's root is the initramfs (rootfs), where
 * virtiofsd's default namespace sandbox cannot pivot_root. */
bool virtiofsd_root_is_initramfs(void);

/* Starts virtiofsd for dir (read-only when ro) with its socket in a private
 * directory (d->sock), and waits (bounded) until it accepts connections.
 * 0, or -errno with one line in err (virtiofsd's own first line when it
 * exited). */
int daemon_start_virtiofsd(struct daemon *d, const char *dir, bool ro, char *err,
			   size_t errlen);
/* After a failed handshake: virtiofsd's reason when it has exited (waits
 * up to ms for it), else "". */
void virtiofsd_exit_reason(struct daemon *d, unsigned ms, char *out, size_t len);
#endif
