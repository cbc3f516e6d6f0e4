/* The machine's own view of struct vm, shared by the files of src/machine/
 * and nothing else: each part (legacy devices, virtio devices, display,
 * firmware, boot) adds its step to vm_create() and reads what earlier steps
 * built. */
#ifndef MYVMM_MACHINE_PRIV_H
#define MYVMM_MACHINE_PRIV_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/config.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "kvm/coalesced.h"
#include "loader/loader.h"
#include "machine/machine.h"
#include "machine/pc_map.h"
#include "mem/guest_mem.h"
#include "vcpu/pause.h"
#include "kvm/coalesced.h"
#include "vcpu/vcpu.h"

struct serial;
struct rtc;
struct i8042;
struct pm;
struct pci_bus;
struct sysdevs;
struct dma8237;
struct irq_routing;
struct virtio_dev;
struct vm_display;
struct vm_firmware;
struct vm_restore;
struct virtio_pci;
struct vm_virtio;

struct vm {
	const struct vm_config *cfg;
	struct vm_host_ctx *host;
	int fd;                       /* KVM's VM fd */
	struct guest_mem mem;
	struct bus pio, mmio;
	struct boot_entry entry;
	uint64_t rsdp;                /* ACPI RSDP address (kernel boot) */
	unsigned nsteps;              /* vm_create() steps done, undone in reverse */
	struct vmctl ctl;             /* devices' stop requests -> vm_request_stop */
	struct irq_line irq[IRQ_ISA_LINES]; /* ISA IRQ lines 0-15 */
	struct irq_routing *irqrt;    /* KVM GSI routes (MSI-X) */

	unsigned ncpus;
	struct vcpu_env vcpu_env;     /* what the vCPUs see of this VM */
	struct coalesced coalesced;   /* CONFIG_ADDRESS writes queued by KVM */
	struct vcpu **vcpus;
	struct vcpu_gate gate;        /* pause/resume of the vCPU threads (gdb) */

	/* Stop state: written once by vm_request_stop(), read by the loop. */
	pthread_mutex_t stop_lock;
	enum stop_reason stop_why;
	int stop_value;
	int stop_efd;                 /* eventfd, readable once a stop is requested */
	volatile int stopping;

	/* Legacy PC devices (legacy.c). */
	struct sysdevs *sys;
	struct serial *serial;
	struct rtc *rtc;
	struct i8042 *i8042;
	struct pm *pm;
	struct dma8237 *dma;          /* firmware boot only */

	struct pci_bus *pci;
	struct vm_virtio *virtio;     /* virtio devices and other PCI functions (pci_devs.c) */
	struct virtio_dev *vcon;      /* virtio console, NULL unless --console virtio */
	struct vm_display *display;   /* bochs-display, NULL unless --display sdl */
	struct vm_firmware *fw;       /* BIOS boot state, NULL unless --boot disk */

	/* Snapshots (vm_snapshot.c): the snapshot this VM is restored from
	 * (during vm_create only), and the memory file its RAM maps. */
	struct vm_restore *restore;
	uint64_t ram_file_dev, ram_file_ino; /* 0/0: RAM is anonymous */
	/* Dirty tracking: a snapshot was taken (or RAM restored from one), so
	 * the dirty pages since then make a Diff on top of it. */
	bool dirty_base;
};

#define ERRF(...) err_set(err, __VA_ARGS__)

/* irq_line.set for a GSI (opaque = the vm): KVM_IRQ_LINE. */
void vm_irq_set(void *opaque, uint32_t gsi, int level);

/* The steps of vm_create(), in order; each undoes itself in the matching
 * *_destroy, which vm_destroy() calls in reverse. -errno and a line in err. */
int legacy_create(struct vm *vm, struct err *err);       /* legacy.c */
void legacy_destroy(struct vm *vm);
int pci_devs_create(struct vm *vm, struct err *err);     /* pci_devs.c */
/* A vhost-user device will be attached: guest RAM must be shareable. */
bool pci_devs_need_shared_mem(const struct vm_config *c); /* pci_devs.c */
/* A raw disk is served in-process with O_DIRECT (cache=none). */
bool pci_devs_direct_disk(const struct vm_config *c);     /* pci_devs.c */
void pci_devs_destroy(struct vm *vm);
/* The virtio PCI functions, in creation order (snapshots). */
unsigned pci_devs_virtio_count(const struct vm *vm);
struct virtio_pci *pci_devs_virtio_pci(struct vm *vm, unsigned i);
int vm_display_setup(struct vm *vm, struct err *err);    /* display.c */
void vm_display_destroy(struct vm *vm);
int vm_firmware_setup(struct vm *vm, struct err *err);   /* firmware.c */
void vm_firmware_destroy(struct vm *vm);
int vm_boot_load(struct vm *vm, struct err *err);        /* boot.c: kernel or BIOS */
int vm_display_boot(struct vm *vm, struct err *err);     /* display.c: screen_info */
/* vm_snapshot.c: with vm->restore, RAM from the memory file (after
 * memory_create) and, as the last step, every device's, vCPU's and the VM's
 * state from the snapshot. Both 0 without a restore. */
int vm_restore_ram(struct vm *vm, struct err *err);
int vm_restore_state(struct vm *vm, struct err *err);
#endif
