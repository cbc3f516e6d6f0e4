/* One virtual machine, as the rest of the program sees it: built by
 * vm_create(), run by vm_start(), stopped by vm_request_stop(), torn down by
 * vm_destroy(). A guest reset is a destroy + create, so every device starts
 * clean. struct vm itself is private to src/machine/ (machine_priv.h); this
 * header is the whole API main.c and the UI glue use. Threads: see
 * docs/ARCHITECTURE.md, "Threads and locks". */
#ifndef MYVMM_MACHINE_H
#define MYVMM_MACHINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/net.h"
#include "devices/vmctl.h"
#include "host/err.h"
#include "ui/display.h"
#include "vcpu/vcpu.h"

#define VM_STATS_MAX_DISKS 16   /* CONFIG_MAX_DISKS */

struct vm;
struct vm_config;
struct kvm_host;
struct evloop;
struct vcpu;
struct vcpu_gate;
struct guest_mem;
struct vm_restore;

/* What survives a guest reset and is shared with the host side. */
struct vm_host_ctx {
	struct kvm_host *kvm;
	struct char_sink console_out; /* guest console bytes */
	uint8_t nvram[128];           /* CMOS, battery-backed across resets */
	bool nvram_valid;
	void (*on_boot_marker)(void *opaque, unsigned value);
	void *marker_opaque;
	struct evloop *loop;          /* the I/O thread's loop (main.c owns it) */
	struct vm_files *files;       /* kernel/initrd bytes, read once (machine owns) */
};

/* Builds the whole machine and loads the kernel. -errno and one line in err. */
int vm_create(const struct vm_config *cfg, struct vm_host_ctx *host, struct vm **out,
	      struct err *err);
/* Starts every vCPU thread. */
int vm_start(struct vm *vm);
/* Kicks every vCPU out of KVM_RUN and joins the threads. Idempotent. */
void vm_stop_vcpus(struct vm *vm);
/* Saves CMOS NVRAM into the host context, then frees everything. */
void vm_destroy(struct vm *vm);
/* True when cfg has a disk that a daemon serves (qemu-storage-daemon for a
 * non-raw image): main() then starts the daemon spawner before the sandbox. */
bool vm_config_needs_daemons(const struct vm_config *cfg);
/* Frees what the host context keeps across resets (vm_files). */
void vm_host_ctx_release(struct vm_host_ctx *host);

/* Stop state. vm_request_stop is thread-safe; the first request wins. */
void vm_request_stop(struct vm *vm, enum stop_reason why, int value);
/* An eventfd that becomes readable once a stop is requested (I/O thread). */
int vm_stop_fd(const struct vm *vm);
/* Why and with what value the VM stopped (STOP_NONE while it runs). */
enum stop_reason vm_stop_reason(struct vm *vm, int *value);

/* Host input into the guest. Any thread; the caller keeps vm alive. */
/* Console bytes for the guest's console (the UART, or hvc0 with --console
 * virtio). Returns how many were taken; the rest waits for room. */
size_t vm_console_input(struct vm *vm, const uint8_t *buf, size_t len);
/* PS/2 keyboard: scan code set 2 bytes. */
void vm_input_key(struct vm *vm, const uint8_t *set2, size_t n);
/* PS/2 mouse: relative motion and DISPLAY_BTN_* bits. */
void vm_input_mouse(struct vm *vm, int dx, int dy, unsigned buttons);
/* ACPI power button (the guest decides what to do). */
void vm_input_power(struct vm *vm);
/* Once a second from the I/O thread: the RTC's update and alarm interrupts. */
void vm_tick_second(struct vm *vm);

/* For the gdb stub (I/O thread, between vm_create and vm_destroy): the
 * vCPU gate, the vCPUs (vm_ncpus of them) and guest RAM. */
struct vcpu_gate *vm_vcpu_gate(struct vm *vm);
unsigned vm_ncpus(const struct vm *vm);
struct vcpu *const *vm_vcpus(struct vm *vm);
struct guest_mem *vm_guest_mem(struct vm *vm);

/* Snapshots (vm_snapshot.c). A snapshot is a state file (format.h: the
 * machine configuration, every vCPU, the irqchips/PIT/kvmclock and every
 * device model) and a sparse guest RAM file (mem_file.h).
 *
 * vm_snapshot_create: the VM must be paused (vcpu_pause_all on its gate);
 * in-flight disk I/O is finished and the disks are fdatasync'ed first. I/O
 * thread. -errno and one line in err. */
struct vm_snapshot_stats {
	uint64_t state_bytes;         /* the state file */
	uint64_t mem_bytes;           /* RAM data written (the rest are holes) */
	uint64_t ms;                  /* wall time of the whole call */
};
/* diff: only the pages written since the last snapshot go into the memory
 * file (the rest are holes; gmem_file_merge applies it onto that
 * snapshot's memory file); needs cfg->track_dirty and an earlier snapshot
 * (or a restore) of this VM. With cfg->track_dirty every snapshot restarts
 * the dirty log. */
int vm_snapshot_create(struct vm *vm, const char *state_path, const char *mem_path, bool diff,
		       struct vm_snapshot_stats *st, struct err *err);
/* A snapshot opened for restore: the state file read and checked (magic,
 * version, checksums), the memory file opened and its size checked. */
int vm_restore_open(const char *state_path, const char *mem_path, struct vm_restore **out,
		    struct err *err);
/* Puts the saved machine configuration into cfg (RAM, vCPUs, disks, ...). */
int vm_restore_config(const struct vm_restore *rs, struct vm_config *cfg, struct err *err);
void vm_restore_close(struct vm_restore *rs);
/* vm_create for a restore: the machine of cfg (from vm_restore_config),
 * RAM mapped copy-on-write from the memory file, no kernel load, every
 * saved state loaded. The vCPUs start where they were paused. rs may be
 * closed afterwards. */
int vm_create_restored(const struct vm_config *cfg, struct vm_host_ctx *host,
		       struct vm_restore *rs, struct vm **out, struct err *err);
/* PATCH /drives (I/O thread): disk number i (cfg->disks[i]) reads path from
 * now on (virtio_blk_swap). -ENODEV when that disk is not an in-process
 * virtio-blk (IDE, qemu-storage-daemon, vhost-user); one line in err. */
int vm_disk_swap(struct vm *vm, unsigned i, const char *path, char *err, size_t errlen);
/* After a restore (I/O thread): VIRTIO_VSOCK_EVENT_TRANSPORT_RESET to the
 * guest's vsock driver, all connections dropped. -ENODEV without vsock. */
int vm_vsock_transport_reset(struct vm *vm);

/* Counters for metrics (I/O thread, between vm_create and vm_destroy):
 * the vCPUs' exits summed, each disk's virtio-blk requests (disk_present[i]
 * false: disk i is not an in-process virtio-blk) and virtio-net's. */
struct vm_stats {
	struct vcpu_stats vcpu;
	unsigned ndisks;
	bool disk_present[VM_STATS_MAX_DISKS];
	struct virtio_blk_stats disk[VM_STATS_MAX_DISKS];
	bool net_present;
	struct virtio_net_stats net;
};
void vm_get_stats(struct vm *vm, struct vm_stats *st);

/* UI side: the current frame (see display.h); -ENODEV without a display. */
int vm_display_frame(struct vm *vm, display_draw_fn draw, void *arg);
#endif
