/* The PCI side of the machine: the host bridge (config ports, INTx, BAR
 * windows), pvpanic, and the virtio devices from one table. Adding a virtio
 * device is its own file pair, one row here (with a create adapter that
 * hands it what it needs from the machine) and its option in src/cli/. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/vhost_user_dev.h"
#include "devices/virtio/vhost_user_fs.h"
#include "devices/virtio/vsock.h"
#include "devices/virtio/virtio_pci.h"
#include "host/daemon.h"
#include "host/disk_format.h"
#include "host/log.h"
#include "host/net_slirp.h"
#include "kvm/irq_routing.h"
#include "machine/machine_priv.h"

#define VM_MAX_VIRTIO (4 + CONFIG_MAX_DISKS + CONFIG_MAX_SHARES)

struct vm_virtio {
	struct pvpanic *pvpanic;
	struct net_slirp *net;        /* user network, NULL unless --net user */
	struct virtio_dev *blk[CONFIG_MAX_DISKS]; /* disk i's in-process virtio-blk, or NULL */
	struct virtio_dev *vsock;     /* NULL unless --vsock */
	struct virtio_dev *netdev;    /* the virtio-net device, NULL unless --net user */
	unsigned n;
	struct {
		struct virtio_dev *dev;
		struct virtio_pci *pci;
	} d[VM_MAX_VIRTIO];
};

/* One kind of virtio device: instances 0..count-1 where want() says so, at
 * PCI slot slot + i (slot_fw + i with firmware boot). The transport owns
 * the lifecycle; teardown is virtio_dev_destroy (the device's ops). */
struct virtio_row {
	const char *name;
	unsigned slot, slot_fw;
	unsigned (*count)(const struct vm_config *c);
	bool (*want)(const struct vm_config *c, unsigned i);
	int (*create)(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err);
};

static unsigned one(const struct vm_config *c) { return 1; }
static unsigned ndisks(const struct vm_config *c) { return c->ndisks; }

static bool always(const struct vm_config *c, unsigned i) { return true; }
static int mk_rng(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	return virtio_rng_create(vm->host->loop, out);
}

static bool want_console(const struct vm_config *c, unsigned i) { return c->virtio_console; }
static int mk_console(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	int r = virtio_console_create(&vm->host->console_out, out);
	if (!r)
		vm->vcon = *out;
	return r;
}

static bool want_disk(const struct vm_config *c, unsigned i)
{
	return c->disks[i].iface == DISK_IF_VIRTIO;
}
/* How a virtio disk is served: in process (raw; a non-raw image is refused
 * there when qemu-storage-daemon is missing), by qemu-storage-daemon
 * (non-raw, probed or declared), or by an external vhost-user back-end
 * ("vhost-user:SOCKET"). */
#define VHOST_USER_PREFIX "vhost-user:"
enum disk_route { DISK_INPROC, DISK_QSD, DISK_VHOST_EXT };

static enum disk_route disk_route(const struct disk_config *dc, enum disk_format *fmt)
{
	enum disk_format f = (enum disk_format)dc->format;

	if (!strncmp(dc->path, VHOST_USER_PREFIX, strlen(VHOST_USER_PREFIX)))
		return DISK_VHOST_EXT;
	if (f == DISK_FMT_AUTO) {
		int fd = open(dc->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		f = DISK_FMT_RAW;
		if (fd >= 0) {
			if (disk_format_probe_fd(fd, &f))
				f = DISK_FMT_RAW;   /* the in-process open reports the error */
			close(fd);
		}
	}
	*fmt = f;
	if (f == DISK_FMT_RAW || !daemon_available(DAEMON_QSD))
		return DISK_INPROC;
	return DISK_QSD;
}

bool pci_devs_need_shared_mem(const struct vm_config *c)
{
	enum disk_format f;

	if (c->nshares)
		return true;   /* virtiofsd maps guest RAM */
	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].iface == DISK_IF_VIRTIO && disk_route(&c->disks[i], &f) != DISK_INPROC)
			return true;
	return false;
}

bool pci_devs_direct_disk(const struct vm_config *c)
{
	enum disk_format f;

	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].cache == DISK_CACHE_NONE && disk_route(&c->disks[i], &f) == DISK_INPROC)
			return true;
	return false;
}

bool vm_config_needs_daemons(const struct vm_config *c)
{
	enum disk_format f;

	for (unsigned i = 0; i < c->nshares; i++)
		if (c->shares[i].dir)
			return true;   /* virtiofsd */

	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].iface == DISK_IF_VIRTIO && disk_route(&c->disks[i], &f) == DISK_QSD)
			return true;
	return false;
}

static int mk_vhost_disk(struct vm *vm, const struct disk_config *dc, enum disk_route route,
			 enum disk_format f, struct virtio_dev **out, struct err *err)
{
	struct vhost_user_dev_params vp = {
		.what = NULL, .name = "vhost-user-blk", .device_id = VIRTIO_ID_BLOCK,
		.feature_mask = VIRTIO_BLK_VHOST_FEATURES, .config_size = VIRTIO_BLK_CONFIG_SIZE,
		.queue_max = 256,
	};
	char what[300], msg[512] = "";
	struct daemon *d = NULL;
	int r;

	snprintf(what, sizeof(what), "--disk %.280s", dc->path);
	vp.what = what;
	if (route == DISK_VHOST_EXT) {
		vp.socket = dc->path + strlen(VHOST_USER_PREFIX);
	} else {
		struct qsd_params qp = { .image = dc->path, .format = disk_format_name(f),
					 .ro = dc->ro, .direct = dc->cache == DISK_CACHE_NONE };
		if (!(d = calloc(1, sizeof(*d)))) {
			ERRF("out of memory");
			return -ENOMEM;
		}
		if ((r = daemon_start_qsd(d, &qp, msg, sizeof(msg)))) {
			ERRF("--disk %s (%s): %s", dc->path, disk_format_name(f), msg);
			free(d);
			return r;
		}
		vp.socket = d->sock;
		vp.daemon = d;
	}
	if ((r = vhost_user_dev_create(&vp, vm->host->loop, out, msg, sizeof(msg)))) {
		ERRF("--disk %s: %s", dc->path, msg[0] ? msg : strerror(-r));
		if (d) {
			daemon_stop(d);
			free(d);
		}
	}
	return r;
}

static int mk_disk(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	const struct disk_config *dc = &vm->cfg->disks[i];
	enum disk_format f = DISK_FMT_RAW;
	enum disk_route route = disk_route(dc, &f);
	if (route != DISK_INPROC)
		return mk_vhost_disk(vm, dc, route, f, out, err);
	struct blk_params bp = { .path = dc->path, .ro = dc->ro,
				 .direct = dc->cache == DISK_CACHE_NONE,
				 .format = dc->format, .serial = dc->serial, .aio = dc->aio };
	char berr[256] = "";
	int r = virtio_blk_create(&bp, vm->host->loop, out, berr);
	if (r)
		ERRF("--disk %s: %s", dc->path, berr[0] ? berr : strerror(-r));
	else
		vm->virtio->blk[i] = *out;
	return r;
}

int vm_disk_swap(struct vm *vm, unsigned i, const char *path, char *err, size_t errlen)
{
	const struct disk_config *dc = &vm->cfg->disks[i];
	char berr[256] = "";
	int r;

	if (i >= vm->cfg->ndisks || !vm->virtio || !vm->virtio->blk[i]) {
		snprintf(err, errlen, "this drive is not an in-process virtio-blk disk (IDE, "
			 "qemu-storage-daemon or vhost-user): its backing file cannot be swapped");
		return -ENODEV;
	}
	struct blk_params bp = { .path = path, .ro = dc->ro, .direct = dc->cache == DISK_CACHE_NONE,
				 .format = dc->format, .serial = dc->serial, .aio = dc->aio };
	if ((r = virtio_blk_swap(vm->virtio->blk[i], &bp, berr)))
		snprintf(err, errlen, "%s", berr[0] ? berr : strerror(-r));
	return r;
}

static unsigned nshares(const struct vm_config *c) { return c->nshares; }
/* virtio-fs: virtiofsd started for --share HOSTDIR, or the user's (--vhost-user-fs). */
static int mk_fs(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	const struct share_config *s = &vm->cfg->shares[i];
	struct vhost_user_fs_params fp = { .dir = s->dir, .socket = s->socket, .tag = s->tag,
					   .ro = s->ro };
	char msg[512] = "";
	int r = vhost_user_fs_create(&fp, vm->host->loop, out, msg, sizeof(msg));

	if (r)
		ERRF("%s %s: %s", s->dir ? "--share" : "--vhost-user-fs", s->dir ? s->dir : s->socket,
		     msg[0] ? msg : strerror(-r));
	return r;
}

static bool want_net(const struct vm_config *c, unsigned i) { return c->net.kind == NET_USER; }
static void net_rx(void *opaque, const uint8_t *frame, size_t len)
{
	virtio_net_receive(opaque, frame, len); /* full backlog: dropped, TCP retransmits */
}
/* virtio-net fed by a libslirp stack (destroyed before the device). */
static int mk_net(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	char nerr[NET_SLIRP_ERR_LEN] = "";
	int r = virtio_net_create(vm->cfg->net.mac, vm->host->loop, out);

	if (r)
		return r;
	if ((r = net_slirp_create(&vm->cfg->net, net_rx, *out, &vm->virtio->net, nerr))) {
		ERRF("%s", nerr[0] ? nerr : strerror(-r));
		virtio_dev_destroy(*out);
		return r;
	}
	virtio_net_set_backend(*out, &(struct net_backend){ .send = net_slirp_send,
							   .opaque = vm->virtio->net });
	vm->virtio->netdev = *out;
	return 0;
}

static bool want_vsock(const struct vm_config *c, unsigned i) { return c->vsock_cid != 0; }
static int mk_vsock(struct vm *vm, unsigned i, struct virtio_dev **out, struct err *err)
{
	char verr[256] = "";
	int r = virtio_vsock_create(vm->cfg->vsock_cid, vm->cfg->vsock_path, vm->host->loop, out,
				    verr, sizeof(verr));
	if (r)
		ERRF("--vsock: %s", verr[0] ? verr : strerror(-r));
	else
		vm->virtio->vsock = *out;
	return r;
}

int vm_vsock_transport_reset(struct vm *vm)
{
	if (!vm->virtio || !vm->virtio->vsock)
		return -ENODEV;
	return virtio_vsock_transport_reset(vm->virtio->vsock);
}

static const struct virtio_row virtio_rows[] = {
	{ "virtio-rng",     SLOT_RNG,     SLOT_RNG_FW,  one,    always,       mk_rng },
	{ "virtio-console", SLOT_CONSOLE, SLOT_CONSOLE, one,    want_console, mk_console },
	{ "virtio-blk",     SLOT_DISK0,   SLOT_DISK0,   ndisks, want_disk,    mk_disk },
	{ "virtio-net",     SLOT_NET,     SLOT_NET,     one,    want_net,     mk_net },
	{ "virtio-vsock",   SLOT_VSOCK,   SLOT_VSOCK,   one,    want_vsock,   mk_vsock },
	{ "virtio-fs",      SLOT_FS0,     SLOT_FS0,     nshares, always,      mk_fs },
};

static int add_virtio(struct vm *vm, const struct virtio_row *row, unsigned i, struct err *err)
{
	struct vm_virtio *v = vm->virtio;
	unsigned slot = (config_boot_firmware(vm->cfg) ? row->slot_fw : row->slot) + i;
	struct virtio_pci_params p = {
		.bus = vm->pci, .slot = slot, .mem = &vm->mem, .loop = vm->host->loop,
		.vm_fd = vm->fd, .rt = vm->irqrt,
	};
	struct virtio_dev *vd = NULL;
	int r;

	if (v->n == VM_MAX_VIRTIO) {
		ERRF("%s: too many virtio devices", row->name);
		return -ENOSPC;
	}
	err->msg[0] = 0;
	if ((r = row->create(vm, i, &vd, err))) {
		if (!err->msg[0])
			ERRF("%s: %s", row->name, strerror(-r));
		return r;
	}
	v->d[v->n].dev = vd;
	if ((r = virtio_pci_create(vd, &p, &v->d[v->n].pci))) {
		ERRF("%s: PCI slot %u: %s", row->name, slot, strerror(-r));
		v->d[v->n].pci = NULL;
	}
	v->n++;
	return r;
}

int pci_devs_create(struct vm *vm, struct err *err)
{
	struct irq_line intx = { .set = vm_irq_set, .opaque = vm };
	int r;

	vm->pci = calloc(1, sizeof(*vm->pci));
	vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->pci || !vm->virtio) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	if ((r = pci_bus_init(vm->pci, &vm->ctl)) ||
	    (r = bus_add(&vm->pio, PORT_PCI_CONFIG, 8, &pci_cfg_ops, vm->pci, "pci-cfg"))) {
		ERRF("PCI host bridge: %s", strerror(-r));
		return r;
	}
	pci_bus_attach(vm->pci, &vm->pio, &vm->mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END,
		       &intx);
	if ((r = pvpanic_create(vm->pci, SLOT_PVPANIC, &vm->ctl, &vm->virtio->pvpanic))) {
		ERRF("pvpanic: %s", strerror(-r));
		return r;
	}
	for (size_t k = 0; k < sizeof(virtio_rows) / sizeof(virtio_rows[0]); k++) {
		const struct virtio_row *row = &virtio_rows[k];
		for (unsigned i = 0; i < row->count(vm->cfg); i++)
			if (row->want(vm->cfg, i) && (r = add_virtio(vm, row, i, err)))
				return r;
	}
	return 0;
}

void pci_devs_destroy(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;

	if (v) {
		net_slirp_destroy(v->net); /* stops frames into virtio-net first */
		for (unsigned i = v->n; i-- > 0;) {
			virtio_pci_destroy(v->d[i].pci);
			virtio_dev_destroy(v->d[i].dev);
		}
		pvpanic_destroy(v->pvpanic);
		free(v);
		vm->virtio = NULL;
		vm->vcon = NULL;
	}
	if (vm->pci) {
		pci_bus_destroy(vm->pci);
		free(vm->pci);
		vm->pci = NULL;
	}
}

_Static_assert(VM_STATS_MAX_DISKS == CONFIG_MAX_DISKS, "vm_stats covers every disk");

void vm_get_stats(struct vm *vm, struct vm_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < vm->ncpus && vm->vcpus; i++)
		if (vm->vcpus[i])
			vcpu_stats_add(vm->vcpus[i], &st->vcpu);
	st->ndisks = vm->cfg->ndisks < CONFIG_MAX_DISKS ? vm->cfg->ndisks : CONFIG_MAX_DISKS;
	for (unsigned i = 0; i < st->ndisks && vm->virtio; i++) {
		st->disk_present[i] = vm->virtio->blk[i] != NULL;
		if (vm->virtio->blk[i])
			virtio_blk_get_stats(vm->virtio->blk[i], &st->disk[i]);
	}
	st->net_present = vm->virtio && vm->virtio->netdev;
	if (st->net_present)
		virtio_net_get_stats(vm->virtio->netdev, &st->net);
}

unsigned pci_devs_virtio_count(const struct vm *vm)
{
	return vm->virtio ? vm->virtio->n : 0;
}

struct virtio_pci *pci_devs_virtio_pci(struct vm *vm, unsigned i)
{
	return vm->virtio && i < vm->virtio->n ? vm->virtio->d[i].pci : NULL;
}
