/* Machine configuration in a snapshot (see snap_config.h). */
#include "snapshot/snap_config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define STR_MAX 4096u

static void put_str(struct sbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > STR_MAX) {
		b->err = b->err ? b->err : -ENAMETOOLONG;
		return;
	}
	sb_u8(b, s != NULL);
	sb_u16(b, (uint16_t)n);
	sb_bytes(b, s ? s : "", n);
}

/* NULL (absent), or a malloc'd string; a bad length rejects the reader. */
static char *get_str(struct srd *r, bool *oom)
{
	bool present = srd_u8(r) != 0;
	unsigned n = srd_u16(r);
	char *s;

	if (n > STR_MAX || r->bad || r->len - r->off < n) {
		srd_reject(r);
		return NULL;
	}
	if (!present)
		return NULL;
	if (!(s = malloc(n + 1))) {
		*oom = true;
		return NULL;
	}
	srd_bytes(r, s, n);
	s[n] = 0;
	if (strlen(s) != n) /* an embedded NUL */
		srd_reject(r);
	return s;
}

int snap_config_save(const struct vm_config *c, struct sbuf *out)
{
	sb_u64(out, c->mem);
	sb_u32(out, c->cpus);
	sb_u8(out, c->no_pit);
	sb_u8(out, c->virtio_console);
	sb_u8(out, (uint8_t)c->ndisks);
	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct disk_config *d = &c->disks[i];
		char *abs = realpath(d->path, NULL);
		put_str(out, abs ? abs : d->path);
		free(abs);
		sb_u8(out, d->ro);
		sb_u8(out, (uint8_t)d->cache);
		sb_u8(out, (uint8_t)d->iface);
		sb_bytes(out, d->serial, sizeof(d->serial));
		sb_u32(out, (uint32_t)d->format);
	}
	sb_u8(out, (uint8_t)c->net.kind);
	sb_bytes(out, c->net.mac, 6);
	sb_u8(out, c->net.host_loopback);
	sb_u8(out, (uint8_t)c->net.nfwd);
	for (unsigned i = 0; i < c->net.nfwd; i++) {
		const struct net_hostfwd *f = &c->net.fwd[i];
		sb_u8(out, f->udp);
		sb_u32(out, f->host_addr);
		sb_u16(out, f->host_port);
		sb_u32(out, f->guest_addr);
		sb_u16(out, f->guest_port);
	}
	sb_u64(out, c->vsock_cid);
	put_str(out, c->vsock_path);
	/* For a guest reset after the restore (the kernel is loaded again). */
	put_str(out, c->kernel);
	put_str(out, c->initrd);
	put_str(out, c->cmdline);
	return out->err;
}

int snap_config_load(struct vm_config *c, struct srd *in)
{
	struct vm_config n;
	bool oom = false;
	int r;

	memset(&n, 0, sizeof(n));
	n.mem = srd_u64(in);
	n.cpus = srd_u32(in);
	n.no_pit = srd_u8(in) != 0;
	n.virtio_console = srd_u8(in) != 0;
	n.ndisks = srd_u8(in);
	if (n.ndisks > CONFIG_MAX_DISKS || n.cpus == 0 || n.cpus > 255 || n.mem < (16u << 20) ||
	    (n.mem & 4095))
		srd_reject(in);
	for (unsigned i = 0; i < n.ndisks && !in->bad; i++) {
		struct disk_config *d = &n.disks[i];
		d->path = get_str(in, &oom);
		d->ro = srd_u8(in) != 0;
		d->cache = srd_u8(in) ? DISK_CACHE_NONE : DISK_CACHE_WRITEBACK;
		d->iface = srd_u8(in) ? DISK_IF_IDE : DISK_IF_VIRTIO;
		srd_bytes(in, d->serial, sizeof(d->serial));
		d->serial[sizeof(d->serial) - 1] = 0;
		d->format = (int)srd_u32(in);
		if (!d->path || d->format < 0 || d->format > 64)
			srd_reject(in);
	}
	n.net.kind = srd_u8(in) ? NET_USER : NET_NONE;
	srd_bytes(in, n.net.mac, 6);
	n.net.host_loopback = srd_u8(in) != 0;
	n.net.nfwd = srd_u8(in);
	if (n.net.nfwd > CONFIG_MAX_HOSTFWD)
		srd_reject(in);
	for (unsigned i = 0; i < n.net.nfwd && !in->bad; i++) {
		struct net_hostfwd *f = &n.net.fwd[i];
		f->udp = srd_u8(in) != 0;
		f->host_addr = srd_u32(in);
		f->host_port = srd_u16(in);
		f->guest_addr = srd_u32(in);
		f->guest_port = srd_u16(in);
	}
	n.vsock_cid = srd_u64(in);
	n.vsock_path = get_str(in, &oom);
	if (n.vsock_cid && !n.vsock_path)
		srd_reject(in);
	n.kernel = get_str(in, &oom);
	n.initrd = get_str(in, &oom);
	n.cmdline = get_str(in, &oom);
	if (!n.kernel)
		srd_reject(in);
	r = oom ? -ENOMEM : srd_end(in);
	if (r) {
		for (unsigned i = 0; i < CONFIG_MAX_DISKS; i++)
			free(n.disks[i].path);
		free(n.vsock_path);
		free(n.kernel);
		free(n.initrd);
		free(n.cmdline);
		return r;
	}
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i].path);
	free(c->vsock_path);
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	c->kernel = n.kernel;
	c->initrd = n.initrd;
	c->cmdline = n.cmdline;
	c->boot = CFG_BOOT_KERNEL;
	c->mem = n.mem;
	c->cpus = n.cpus;
	c->no_pit = n.no_pit;
	c->virtio_console = n.virtio_console;
	memcpy(c->disks, n.disks, sizeof(n.disks));
	c->ndisks = n.ndisks;
	c->net = n.net;
	c->vsock_cid = n.vsock_cid;
	c->vsock_path = n.vsock_path;
	return 0;
}
