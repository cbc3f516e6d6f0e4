/* One virtual machine: owns KVM's VM fd, guest RAM, the buses, devices and
 * vCPUs. Built in order by vm_create(), torn down in reverse by vm_destroy().
 * A guest reset is a destroy + create, so every device starts clean. */
#ifndef MYVMM_VM_H
#define MYVMM_VM_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/config.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "loader/loader.h"
#include "mem/guest_mem.h"
#include "kvm/kvm_host.h"
#include "vcpu/pause.h"

struct vcpu;
struct serial;
struct rtc;
struct i8042;
struct pm;
struct pci_bus;
struct sysdevs;
struct evloop;
struct irq_routing;
struct virtio_dev;
struct virtio_pci;
struct pvpanic;
struct vm_display;
struct vm_firmware;
struct net_slirp;

/* PCI slots of the on-board devices (slot 0 is the host bridge). */
#define VM_SLOT_RNG      1
#define VM_SLOT_PVPANIC  2
#define VM_SLOT_CONSOLE  3   /* only with --console virtio */
#define VM_SLOT_DISK0    4   /* disks[i] with if=virtio at 4 + i */
#define VM_SLOT_NET      20  /* only with --net user */
#define VM_MAX_VIRTIO    (4 + CONFIG_MAX_DISKS)

/* What survives a guest reset and is shared with the host side. */
struct vm_host_ctx {
	struct kvm_host *kvm;
	struct char_sink console_out; /* guest console bytes */
	uint8_t nvram[128];           /* CMOS, battery-backed across resets */
	bool nvram_valid;
	void (*on_boot_marker)(void *opaque, unsigned value);
	void *marker_opaque;
	struct evloop *loop;          /* the I/O thread's loop (main.c owns it) */
};

struct vm {
	const struct vm_config *cfg;
	struct vm_host_ctx *host;
	int fd;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct boot_entry entry;
	struct vmctl ctl;
	struct irq_line irq[16];      /* ISA IRQ lines 0-15 */

	unsigned ncpus;
	struct vcpu **vcpus;
	struct vcpu_gate gate;        /* pause/resume of the vCPU threads (gdb) */

	/* Stop state: written once by vm_request_stop(), read by the loop. */
	pthread_mutex_t stop_lock;
	enum stop_reason stop_why;
	int stop_value;
	int stop_efd;                 /* eventfd, readable once a stop is requested */
	volatile int stopping;

	struct serial *serial;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pm *pm;
	struct pci_bus *pci;
	struct sysdevs *sys;
	struct irq_routing *irqrt;    /* KVM GSI routes (MSI-X) */
	struct pvpanic *pvpanic;
	struct virtio_dev *vcon;      /* virtio console, NULL unless --console virtio */
	struct vm_display *display;   /* bochs-display, NULL unless --display sdl */
	struct vm_firmware *fw;       /* BIOS boot state, NULL unless --boot disk */
	struct net_slirp *net;        /* user network, NULL unless --net user */
	unsigned nvirtio;
	struct {
		struct virtio_dev *dev;   /* freed through dev->ops->destroy */
		struct virtio_pci *pci;
	} virtio[VM_MAX_VIRTIO];
};

#define VM_ERR_LEN 512
/* Builds the whole machine and loads the kernel. -errno and one line in err. */
int vm_create(const struct vm_config *cfg, struct vm_host_ctx *host, struct vm **out,
	      char err[VM_ERR_LEN]);
/* Starts every vCPU thread. */
int vm_start(struct vm *vm);
/* Kicks every vCPU out of KVM_RUN and joins the threads. Idempotent. */
void vm_stop_vcpus(struct vm *vm);
/* Saves CMOS NVRAM into the host context, then frees everything. */
void vm_destroy(struct vm *vm);
/* Thread-safe; the first request wins. */
void vm_request_stop(struct vm *vm, enum stop_reason why, int value);
#endif
