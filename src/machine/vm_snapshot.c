/* Snapshot and restore of the whole machine (see machine.h): which state
 * goes into which section, in which order it is loaded, and the checks that
 * make a bad snapshot one clear line instead of a half-built VM.
 *
 * Sections: "cfg " (the machine configuration), "vcpu" i (vcpu_state.h),
 * "vm  " (irqchips, PIT, kvmclock: vm_state.h), and one per device model
 * (its snap_dev_ops tag; instance = its index). Restore order: RAM (mapped
 * copy-on-write before anything runs), device models, vCPUs, then the VM's
 * irqchips and clock, so the clock is set last, closest to the restart. */
#include <errno.h>
#include <linux/kvm.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/virtio/virtio_pci.h"
#include "host/file.h"
#include "host/log.h"
#include "kvm/kvm_host.h"
#include "kvm/vm_state.h"
#include "machine/machine_priv.h"
#include "mem/mem_file.h"
#include "snapshot/format.h"
#include "snapshot/snap_config.h"
#include "vcpu/vcpu_state.h"

#define TAG_CFG  SNAP_TAG('c', 'f', 'g', ' ')
#define TAG_VCPU SNAP_TAG('v', 'c', 'p', 'u')
#define TAG_VM   SNAP_TAG('v', 'm', ' ', ' ')
#define STATE_MAX (64u << 20)   /* a state file is KiBs; refuse anything huge */

struct vm_restore {
	uint8_t *buf;
	size_t len;
	struct snap_reader rd;
	char *state_path;
	int mem_fd;
	uint64_t mem_dev, mem_ino;
};

/* ---- the device models, in save and load order ---- */

static unsigned one(struct vm *vm) { return 1; }
static unsigned nvirtio(struct vm *vm) { return pci_devs_virtio_count(vm); }
static void *dev_serial(struct vm *vm, unsigned i) { return vm->serial; }
static void *dev_rtc(struct vm *vm, unsigned i) { return vm->rtc; }
static void *dev_i8042(struct vm *vm, unsigned i) { return vm->i8042; }
static void *dev_pm(struct vm *vm, unsigned i) { return vm->pm; }
static void *dev_pci(struct vm *vm, unsigned i) { return vm->pci; }
static void *dev_virtio(struct vm *vm, unsigned i) { return pci_devs_virtio_pci(vm, i); }

static const struct snap_dev_entry {
	const struct snap_dev_ops *ops;
	unsigned (*count)(struct vm *vm);
	void *(*dev)(struct vm *vm, unsigned i);
} snap_devs[] = {
	{ &serial_snap_ops,     one,     dev_serial },
	{ &rtc_snap_ops,        one,     dev_rtc },
	{ &i8042_snap_ops,      one,     dev_i8042 },
	{ &pm_snap_ops,         one,     dev_pm },
	/* Config space and BARs of every function (pvpanic has nothing else),
	 * before the virtio transports, whose ioeventfds follow BAR0. */
	{ &pci_bus_snap_ops,    one,     dev_pci },
	{ &virtio_pci_snap_ops, nvirtio, dev_virtio },
};
#define NSNAP_DEVS (sizeof(snap_devs) / sizeof(snap_devs[0]))

static uint64_t ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t ram_total(const struct guest_mem *m)
{
	uint64_t n = 0;
	for (int i = 0; i < m->nr; i++)
		n += m->r[i].size;
	return n;
}

/* What this build cannot save yet: one line naming it. */
static int check_supported(struct vm *vm, struct err *err)
{
	if (!vcpu_gate_paused(&vm->gate)) {
		ERRF("the VM must be paused for a snapshot: PATCH /vm {\"state\": \"Paused\"} first");
		return -EBUSY;
	}
	if (vm->fw) {
		ERRF("snapshots need a direct kernel boot (--kernel); the BIOS chipset state "
		     "(--boot disk) is not saved");
		return -ENOTSUP;
	}
	if (vm->display) {
		ERRF("snapshots do not save the display (--display sdl / --screenshot); drop it");
		return -ENOTSUP;
	}
	if (vm->mem.file) {
		ERRF("snapshots need guest RAM of its own; RAM in a file (--mem-path, --hugepages) "
		     "is not saved: start the VM without it");
		return -ENOTSUP;
	}
	if (vm->mem.fd >= 0) {
		ERRF("snapshots need guest RAM of its own; shared RAM for vhost-user back-ends "
		     "(qemu-storage-daemon disks) is not saved");
		return -ENOTSUP;
	}
	return 0;
}

static int save_devices(struct vm *vm, struct snap_writer *w, struct err *err)
{
	for (size_t k = 0; k < NSNAP_DEVS; k++) {
		const struct snap_dev_entry *e = &snap_devs[k];
		for (unsigned i = 0; i < e->count(vm); i++) {
			struct sbuf b = { 0 };
			int r = e->ops->save(e->dev(vm, i), &b);
			if (!r)
				snap_put(w, e->ops->tag, i, e->ops->version, b.p, (uint32_t)b.len);
			sb_free(&b);
			if (r) {
				ERRF("saving %s %u: %s", e->ops->name, i, strerror(-r));
				return r;
			}
		}
	}
	return 0;
}

static int save_vcpus(struct vm *vm, struct snap_writer *w, struct err *err)
{
	uint32_t *msrs = NULL, nmsrs = 0;
	int r = vcpu_state_msr_list(vm->host->kvm->fd, vm->vcpus[0]->fd, &msrs, &nmsrs);

	if (r) {
		ERRF("KVM_GET_MSR_INDEX_LIST: %s", strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		uint8_t *blob = NULL;
		size_t len = 0;
		if ((r = vcpu_state_save(vm->vcpus[i]->fd, msrs, nmsrs, &blob, &len)))
			ERRF("saving vCPU %u: %s (KVM_GET_* failed on this host)", i, strerror(-r));
		else
			snap_put(w, TAG_VCPU, i, VCPU_STATE_VERSION, blob, (uint32_t)len);
		free(blob);
	}
	free(msrs);
	return r;
}

static int write_file(const char *what, const char *path, const void *buf, size_t len,
		      struct err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const uint8_t *p = buf;
	size_t off = 0;

	if (fd < 0) {
		ERRF("%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;
			ERRF("%s %s: write: %s", what, path, strerror(-r));
			close(fd);
			return r;
		}
		off += (size_t)n;
	}
	if (fdatasync(fd) < 0 || close(fd) < 0) {
		ERRF("%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Diff snapshots: the pages written since the last snapshot, KVM's dirty
 * log (vCPU writes; reading it clears it) ORed with the VMM's own marks
 * (device writes). bits[i] are calloc'd; the caller frees them. */
static int dirty_collect(struct vm *vm, uint64_t *bits[GMEM_MAX_REGIONS], struct err *err)
{
	for (int i = 0; i < vm->mem.nr; i++) {
		struct kvm_dirty_log log = { .slot = MEMSLOT_RAM0 + (uint32_t)i };
		if (!(bits[i] = calloc(gmem_dirty_words(&vm->mem, i), sizeof(uint64_t)))) {
			ERRF("out of memory for the dirty bitmaps");
			return -ENOMEM;
		}
		log.dirty_bitmap = bits[i];
		if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) < 0) {
			int r = -errno;
			ERRF("KVM_GET_DIRTY_LOG: %s", strerror(-r));
			return r;
		}
		gmem_dirty_take(&vm->mem, i, bits[i]);
	}
	return 0;
}

/* A snapshot that failed: its pages count again for the next one (KVM's
 * part is gone from KVM's log, so it goes into the VMM's bitmap). */
static void dirty_putback(struct vm *vm, uint64_t *bits[GMEM_MAX_REGIONS])
{
	for (int i = 0; i < vm->mem.nr; i++)
		if (bits[i])
			gmem_dirty_restore(&vm->mem, i, bits[i]);
}

/* bits NULL: every page the guest used (Full); else only those (Diff). */
static int save_ram(struct vm *vm, const char *path, uint64_t *const bits[], uint64_t *written,
		    struct err *err)
{
	struct stat st;
	int fd, r;

	/* Truncating the file a restored VM maps would pull its RAM away. */
	if (vm->ram_file_ino && stat(path, &st) == 0 && (uint64_t)st.st_dev == vm->ram_file_dev &&
	    (uint64_t)st.st_ino == vm->ram_file_ino) {
		ERRF("mem_file_path %s is the memory file this VM was restored from (its RAM maps "
		     "it); write the new snapshot to another file", path);
		return -EBUSY;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ERRF("mem_file_path %s: %s", path, strerror(errno));
		return -errno;
	}
	r = bits ? gmem_save_file_pages(&vm->mem, fd, bits, written) :
	    vm->ram_file_ino ? gmem_save_file_all(&vm->mem, fd, written) :
			       gmem_save_file(&vm->mem, fd, written);
	if (!r && fdatasync(fd) < 0)
		r = -errno;
	close(fd);
	if (r) {
		ERRF("mem_file_path %s: %s", path, strerror(-r));
		unlink(path);
	}
	return r;
}

static int check_diff(struct vm *vm, struct err *err)
{
	if (!vm->cfg->track_dirty) {
		ERRF("a Diff snapshot needs dirty page tracking: start the VM with machine-config "
		     "\"track_dirty_pages\": true (or load it with \"enable_diff_snapshots\": true)");
		return -EINVAL;
	}
	if (!vm->dirty_base) {
		ERRF("a Diff snapshot holds the pages written since the last snapshot, and this VM "
		     "has none: take a Full snapshot first");
		return -EINVAL;
	}
	return 0;
}

int vm_snapshot_create(struct vm *vm, const char *state_path, const char *mem_path, bool diff,
		       struct vm_snapshot_stats *st, struct err *err)
{
	uint64_t t0 = ms_now(), written = 0;
	uint64_t *bits[GMEM_MAX_REGIONS] = { 0 };
	bool took = false;
	struct snap_writer w;
	struct sbuf cfg = { 0 };
	uint8_t *vmblob = NULL;
	size_t vmlen = 0;
	char msg[256];
	int r;

	if ((r = check_supported(vm, err)) || (diff && (r = check_diff(vm, err))))
		return r;
	/* Disks first: their last completions land in the rings we save. */
	for (unsigned i = 0; i < pci_devs_virtio_count(vm); i++)
		if ((r = virtio_pci_quiesce(pci_devs_virtio_pci(vm, i), msg, sizeof(msg)))) {
			ERRF("%s", msg);
			return r;
		}
	snap_writer_init(&w, ram_total(&vm->mem));
	/* With tracking, every snapshot is the base of the next Diff: the
	 * dirty pages are taken (and cleared) here, with nothing running. */
	if (vm->cfg->track_dirty) {
		took = true;
		if ((r = dirty_collect(vm, bits, err)))
			goto out;
	}
	if ((r = snap_config_save(vm->cfg, &cfg))) {
		ERRF("saving the configuration: %s", strerror(-r));
		goto out;
	}
	snap_put(&w, TAG_CFG, 0, SNAP_CONFIG_VERSION, cfg.p, (uint32_t)cfg.len);
	if ((r = save_vcpus(vm, &w, err)) || (r = save_devices(vm, &w, err)))
		goto out;
	if ((r = vm_state_save(vm->fd, !vm->cfg->no_pit, &vmblob, &vmlen))) {
		ERRF("saving the irqchips/PIT/clock: %s", strerror(-r));
		goto out;
	}
	snap_put(&w, TAG_VM, 0, VM_STATE_VERSION, vmblob, (uint32_t)vmlen);
	if ((r = snap_writer_finish(&w))) {
		ERRF("building the snapshot: %s", strerror(-r));
		goto out;
	}
	if ((r = save_ram(vm, mem_path, diff ? bits : NULL, &written, err)) ||
	    (r = write_file("snapshot_path", state_path, w.buf, w.len, err)))
		goto out;
	if (st)
		*st = (struct vm_snapshot_stats){ .state_bytes = w.len, .mem_bytes = written,
						  .ms = ms_now() - t0 };
	vm->dirty_base = vm->cfg->track_dirty;
	pr_info("snapshot %s (%s): %zu bytes of state, %llu KiB of RAM data in %s, %llu ms",
		state_path, diff ? "Diff" : "Full", w.len, (unsigned long long)(written >> 10),
		mem_path, (unsigned long long)(ms_now() - t0));
out:
	if (r && took)
		dirty_putback(vm, bits);
	for (int i = 0; i < GMEM_MAX_REGIONS; i++)
		free(bits[i]);
	free(vmblob);
	sb_free(&cfg);
	snap_writer_free(&w);
	return r;
}

/* ---- restore ---- */

int vm_restore_open(const char *state_path, const char *mem_path, struct vm_restore **out,
		    struct err *err)
{
	struct vm_restore *rs = calloc(1, sizeof(*rs));
	char msg[256];
	struct stat st;
	int r;

	if (!rs) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	rs->mem_fd = -1;
	if ((r = file_read_all("snapshot", state_path, STATE_MAX, &rs->buf, &rs->len, err)))
		goto fail;
	if ((r = snap_read(&rs->rd, rs->buf, rs->len, msg, sizeof(msg)))) {
		ERRF("snapshot %s: %s", state_path, msg);
		goto fail;
	}
	if (!(rs->state_path = strdup(state_path))) {
		ERRF("out of memory");
		r = -ENOMEM;
		goto fail;
	}
	rs->mem_fd = open(mem_path, O_RDONLY | O_CLOEXEC);
	if (rs->mem_fd < 0 || fstat(rs->mem_fd, &st) < 0) {
		r = -errno;
		ERRF("memory file %s: %s; give the file written with the snapshot (mem=FILE)",
		     mem_path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != rs->rd.ram_size) {
		ERRF("memory file %s is %lld bytes, but the snapshot's guest RAM is %llu bytes: "
		     "give the memory file written with this snapshot", mem_path,
		     (long long)st.st_size, (unsigned long long)rs->rd.ram_size);
		r = -EINVAL;
		goto fail;
	}
	rs->mem_dev = (uint64_t)st.st_dev;
	rs->mem_ino = (uint64_t)st.st_ino;
	*out = rs;
	return 0;
fail:
	vm_restore_close(rs);
	return r;
}

void vm_restore_close(struct vm_restore *rs)
{
	if (!rs)
		return;
	if (rs->mem_fd >= 0)
		close(rs->mem_fd);
	snap_reader_free(&rs->rd);
	free(rs->buf);
	free(rs->state_path);
	free(rs);
}

/* The section (tag, instance) at the version this build writes, or NULL
 * with one line in err. */
static const struct snap_section *need(const struct vm_restore *rs, uint32_t tag,
				       uint32_t instance, uint32_t version, const char *what,
				       struct err *err)
{
	const struct snap_section *s = snap_find(&rs->rd, tag, instance);

	if (!s)
		ERRF("snapshot %s has no state for %s %u: it was taken of another machine or by "
		     "another myvmm", rs->state_path, what, instance);
	else if (s->version != version)
		ERRF("snapshot %s: %s %u is at state version %u; this myvmm reads version %u",
		     rs->state_path, what, instance, s->version, version);
	else
		return s;
	return NULL;
}

int vm_restore_config(const struct vm_restore *rs, struct vm_config *cfg, struct err *err)
{
	const struct snap_section *s = need(rs, TAG_CFG, 0, SNAP_CONFIG_VERSION, "configuration",
					    err);
	struct srd in;
	int r;

	if (!s)
		return -EINVAL;
	srd_init(&in, s->data, s->len);
	if ((r = snap_config_load(cfg, &in)))
		ERRF("snapshot %s: the saved configuration is damaged (%s)", rs->state_path,
		     strerror(-r));
	else if (cfg->mem != rs->rd.ram_size)
		ERRF("snapshot %s: configuration says %llu bytes of RAM, the header %llu",
		     rs->state_path, (unsigned long long)cfg->mem,
		     (unsigned long long)rs->rd.ram_size), r = -EINVAL;
	return r;
}

int vm_restore_ram(struct vm *vm, struct err *err)
{
	struct vm_restore *rs = vm->restore;
	int r;

	if (!rs)
		return 0;
	if (vm->mem.fd >= 0) {
		ERRF("restore: shared guest RAM (vhost-user disks) cannot map a snapshot");
		return -ENOTSUP;
	}
	if ((r = gmem_map_file(&vm->mem, rs->mem_fd))) {
		ERRF("memory file of %s: %s", rs->state_path,
		     r == -EINVAL ? "its size does not match the guest RAM" : strerror(-r));
		return r;
	}
	vm->ram_file_dev = rs->mem_dev;
	vm->ram_file_ino = rs->mem_ino;
	vm->dirty_base = true; /* the memory file is the base of a Diff */
	return 0;
}

static int load_devices(struct vm *vm, struct err *err)
{
	struct vm_restore *rs = vm->restore;

	for (size_t k = 0; k < NSNAP_DEVS; k++) {
		const struct snap_dev_entry *e = &snap_devs[k];
		for (unsigned i = 0; i < e->count(vm); i++) {
			const struct snap_section *s = need(rs, e->ops->tag, i, e->ops->version,
							    e->ops->name, err);
			struct srd in;
			int r;
			if (!s)
				return -EINVAL;
			srd_init(&in, s->data, s->len);
			if ((r = e->ops->load(e->dev(vm, i), &in))) {
				ERRF("snapshot %s: the state of %s %u does not fit this machine (%s)",
				     rs->state_path, e->ops->name, i, strerror(-r));
				return r;
			}
		}
	}
	/* A section for a device this machine lacks: not the same machine. */
	if (snap_find(&rs->rd, virtio_pci_snap_ops.tag, pci_devs_virtio_count(vm))) {
		ERRF("snapshot %s has more virtio devices than its configuration builds",
		     rs->state_path);
		return -EINVAL;
	}
	return 0;
}

int vm_restore_state(struct vm *vm, struct err *err)
{
	struct vm_restore *rs = vm->restore;
	const struct snap_section *s;
	uint64_t t0 = ms_now();
	int r;

	if (!rs)
		return 0;
	if ((r = load_devices(vm, err)))
		return r;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (!(s = need(rs, TAG_VCPU, i, VCPU_STATE_VERSION, "vCPU", err)))
			return -EINVAL;
		if ((r = vcpu_state_restore(vm->vcpus[i]->fd, s->data, s->len))) {
			ERRF("snapshot %s: vCPU %u: %s", rs->state_path, i,
			     r == -EINVAL ? "saved by a myvmm/KVM with another register layout" :
					    strerror(-r));
			return r;
		}
		vm->vcpus[i]->clock_stopped = true; /* before its thread starts */
	}
	if (snap_find(&rs->rd, TAG_VCPU, vm->ncpus)) {
		ERRF("snapshot %s has more vCPUs than its configuration", rs->state_path);
		return -EINVAL;
	}
	if (!(s = need(rs, TAG_VM, 0, VM_STATE_VERSION, "irqchip/clock", err)))
		return -EINVAL;
	if ((r = vm_state_restore(vm->fd, !vm->cfg->no_pit, s->data, s->len))) {
		ERRF("snapshot %s: irqchips/PIT/kvmclock: %s", rs->state_path,
		     r == -EINVAL ? "saved with another layout" : strerror(-r));
		return r;
	}
	/* The host ends of vsock connections are gone: the guest driver drops
	 * its sockets on TRANSPORT_RESET (virtio 1.2 5.10.6.6), as after a
	 * Firecracker restore. The network is just reset (slirp keeps no state). */
	if (vm->cfg->vsock_cid && (r = vm_vsock_transport_reset(vm)))
		pr_warn("restore: vsock transport reset event: %s", strerror(-r));
	pr_info("restored %s: %u vCPUs, %llu MiB RAM mapped copy-on-write, state loaded in %llu ms",
		rs->state_path, vm->ncpus, (unsigned long long)(vm->cfg->mem >> 20),
		(unsigned long long)(ms_now() - t0));
	return 0;
}
