/* The part of the configuration that shapes the machine (RAM, vCPUs, PIT,
 * disks, network, vsock, virtio console; the kernel, initrd and command
 * line for a guest reset after the restore), saved in a snapshot so that a
 * restore rebuilds exactly the machine whose state it loads. Host-side
 * settings (console, API socket, timeouts, logs) are not saved: they come
 * from the restoring command line. */
#ifndef MYVMM_SNAP_CONFIG_H
#define MYVMM_SNAP_CONFIG_H
#include "cli/config.h"
#include "snapshot/sbuf.h"

#define SNAP_CONFIG_VERSION 1

/* Disk paths are saved absolute (realpath), so the restoring process may
 * run elsewhere. 0 or -errno. */
int snap_config_save(const struct vm_config *c, struct sbuf *out);
/* Replaces c's machine settings (its disks, net, vsock included) with the
 * saved ones. -EINVAL for a damaged blob, -ENOMEM. */
int snap_config_load(struct vm_config *c, struct srd *in);
#endif
