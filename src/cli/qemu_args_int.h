/* Private to the QEMU command-line translator (qemu_args.c, qemu_devs.c):
 * its parse state and the property-string helpers both files use. */
#ifndef MYVMM_CLI_QEMU_ARGS_INT_H
#define MYVMM_CLI_QEMU_ARGS_INT_H

#include "cli/qemu_args.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ERR(...) (snprintf(err, CONFIG_ERR_LEN, __VA_ARGS__), -EINVAL)
#define QMAX_DRIVES CONFIG_MAX_DISKS
#define QMAX_NETDEVS 4
#define QVAL_MAX 4096

struct qdrive {
	char id[64];
	struct disk_config d;
	bool none;               /* if=none: waits for -device virtio-blk-pci,drive=ID */
	int order;               /* argv position of what created the device; -1 none yet */
};

struct qnetdev {
	char id[64];
	char spec[1024];         /* "user[,hostfwd=...]" for parse_net */
};

/* -device virtio-blk-pci,drive=ID: resolved after all -drive options, as
 * QEMU creates drives before devices. */
struct qblkdev {
	char ref[64];
	char serial[21];
	int pos;
};

struct qstate {
	struct vm_config *c;
	struct qblkdev blkdevs[QMAX_DRIVES];
	unsigned nblkdevs;
	char netdev_ref[64], netdev_mac[32]; /* -device virtio-net-pci, resolved at the end */
	bool netdev_dev;
	struct qdrive drives[QMAX_DRIVES];
	unsigned ndrives;
	struct qnetdev netdevs[QMAX_NETDEVS];
	unsigned nnetdevs;
	char nic_spec[1100];     /* the one NIC: its user network spec plus ",mac=..." */
	bool have_nic, legacy_nic, legacy_user;
	char legacy_mac[32], legacy_user_spec[1024];
	bool nographic, nodefaults, serial_given, gdb_wait;
	char gdb[256];
	int pos;                 /* argv index of the option being parsed */
};


int qemu_next_prop(const char **p, char *key, size_t kcap, char *val, size_t vcap);
#define FOR_PROPS(v, key, val, r) \
	for (const char *_p = (v); ((r) = qemu_next_prop(&_p, key, sizeof(key), val, sizeof(val))) == 0;)

static inline int too_long(const char *opt, char *err)
{
	return ERR("%s: a property is too long", opt);
}

static inline bool is_on(const char *v) { return !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"); }
static inline bool is_off(const char *v) { return !strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"); }

/* qemu_devs.c: -drive, -netdev, -nic, -net and -device, and their resolution
 * once the whole command line is read. */
int qemu_drive(struct qstate *q, const char *o, const char *v, char *err);
int qemu_netdev(struct qstate *q, const char *o, const char *v, char *err);
int qemu_nic(struct qstate *q, const char *o, const char *v, char *err);
int qemu_net(struct qstate *q, const char *o, const char *v, char *err);
int qemu_device(struct qstate *q, const char *o, const char *v, char *err);
int qemu_resolve_devices(struct qstate *q, char *err);
/* Adds the one NIC: a user network SPEC with an optional MAC. */
int qemu_add_nic(struct qstate *q, const char *o, const char *spec, const char *mac, char *err);

#endif
