/* Machine assembly: vm_create() runs the steps of vm_steps[] in order and
 * vm_destroy() undoes the ones that ran, last first. Every step is in the
 * table; none hides another in a tail call. */
#include "machine/machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/virtio/console.h"
#include "host/efd.h"
#include "host/log.h"
#include "kvm/irq_routing.h"
#include "kvm/kvm_host.h"
#include "machine/machine_priv.h"
#include "mem/mem_backing.h"

static void vm_ctl_stop(void *opaque, enum stop_reason why, int value)
{
	vm_request_stop(opaque, why, value);
}

void vm_request_stop(struct vm *vm, enum stop_reason why, int value)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_why == STOP_NONE) {
		vm->stop_why = why;
		vm->stop_value = value;
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
		if (efd_signal(vm->stop_efd) < 0)
			pr_warn("stop eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

/* The KVM VM itself. */
static int kvm_vm_create(struct vm *vm, struct err *err)
{
	const struct kvm_host *kvm = vm->host->kvm;

	if ((int)vm->ncpus > kvm->max_vcpus) {
		ERRF("--cpus %u: this host's KVM supports at most %d vCPUs; use fewer", vm->ncpus,
		     kvm->max_vcpus);
		return -EINVAL;
	}
	vm->fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		ERRF("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Closing the fd drops every memslot, before guest RAM is unmapped. */
static void kvm_vm_destroy(struct vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

void vm_irq_set(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		pr_warn_rl("KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

/* In-kernel PIC/IOAPIC/LAPIC (+ PIT) and the GSI routing table. */
static int irqchip_create(struct vm *vm, struct err *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = LAYOUT_KVM_IDENT_MAP;
	int r;

	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0) {
		ERRF("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	/* Optional (older PVM/SVM hosts lack it); only used for real mode on VMX. */
	if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		pr_debug("KVM_SET_IDENTITY_MAP_ADDR: %s (ignored)", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ERRF("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	/* The in-kernel PIT costs ~15 ms of KVM setup and teardown here; guests
	 * that never use it may opt out with --no-pit. */
	if (!vm->cfg->no_pit && ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
		ERRF("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < IRQ_ISA_LINES; i++)
		vm->irq[i] = (struct irq_line){ .set = vm_irq_set, .opaque = vm, .gsi = i };
	/* Our own routing table (default irqchip routes + MSI routes). */
	vm->irqrt = calloc(1, sizeof(*vm->irqrt));
	if (!vm->irqrt) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	if ((r = irq_routing_init(vm->irqrt, vm->fd))) {
		free(vm->irqrt);
		vm->irqrt = NULL;
		ERRF("KVM_SET_GSI_ROUTING: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void irqchip_destroy(struct vm *vm)
{
	if (vm->irqrt) {
		irq_routing_destroy(vm->irqrt);
		free(vm->irqrt);
		vm->irqrt = NULL;
	}
}

/* Guest RAM (host side; before the VM fd so it is unmapped after it). */
static int memory_create(struct vm *vm, struct err *err)
{
	struct sysinfo si;
	int ret;

	/* Guest RAM is mapped lazily (MAP_NORESERVE), so check up front that the
	 * host could back all of it: RAM plus swap. */
	if (sysinfo(&si) == 0) {
		uint64_t host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (vm->cfg->mem > host) {
			ERRF("--mem %llu MiB is more than this host can back (%llu MiB of RAM and swap); "
			     "use a smaller --mem", (unsigned long long)(vm->cfg->mem >> 20),
			     (unsigned long long)(host >> 20));
			return -ENOMEM;
		}
	}
	if (vm->cfg->mem_path || vm->cfg->hugepages) {
		/* --mem-path / --hugepages: a file, shared like the memfd below
		 * (vhost-user back-ends map it), allocated in full here. */
		struct gmem_backing b;
		char berr[GMEM_BACKING_ERR_LEN];
		if ((ret = gmem_backing_open(vm->cfg->mem_path, vm->cfg->hugepages, vm->cfg->mem,
					     &b, berr))) {
			ERRF("%s", berr);
			return ret;
		}
		ret = gmem_alloc_fd(&vm->mem, vm->cfg->mem, b.fd, b.page_size, b.hugetlb);
		if (!ret)
			pr_info("guest RAM: %llu MiB on %s (%llu KiB pages)",
				(unsigned long long)(vm->cfg->mem >> 20),
				vm->cfg->mem_path ? vm->cfg->mem_path : "a hugetlb memfd",
				(unsigned long long)(b.page_size >> 10));
	} else
		ret = pci_devs_need_shared_mem(vm->cfg) ? gmem_alloc_shared(&vm->mem, vm->cfg->mem)
							: gmem_alloc(&vm->mem, vm->cfg->mem);
	/* O_DIRECT requests into small pages take ~2x as long here (the
	 * test kernel's buffer straddles the 2 MiB line): bench/blk.sh
	 * seqread 77 -> 51 ms per 64 MiB. */
	if (!ret && pci_devs_direct_disk(vm->cfg))
		gmem_huge_low(&vm->mem);
	if (ret)
		ERRF("--mem %llu MiB: the host cannot back that much guest RAM (%s); use a smaller --mem",
		     (unsigned long long)(vm->cfg->mem >> 20), strerror(-ret));
	else if (vm->cfg->track_dirty && (ret = gmem_dirty_enable(&vm->mem)))
		ERRF("track_dirty_pages: out of memory for the dirty bitmaps");
	return ret ? ret : vm_restore_ram(vm, err);
}

static void memory_destroy(struct vm *vm)
{
	gmem_free(&vm->mem);
}

/* Guest RAM as KVM memslots (they go with the VM fd). */
static int memslots_create(struct vm *vm, struct err *err)
{
	for (int i = 0; i < vm->mem.nr; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = MEMSLOT_RAM0 + (uint32_t)i,
			.guest_phys_addr = vm->mem.r[i].gpa,
			.memory_size = vm->mem.r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.r[i].hva,
			/* Diff snapshots: KVM records the pages the vCPUs write. */
			.flags = vm->cfg->track_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			ERRF("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Last step: the vCPUs (vCPU 0 gets the boot entry's registers). */
static int vcpus_create(struct vm *vm, struct err *err)
{
	vm->vcpu_env = (struct vcpu_env){
		.vm_fd = vm->fd, .kvm = vm->host->kvm, .pio = &vm->pio, .mmio = &vm->mmio,
		.mem = &vm->mem, .ncpus = vm->ncpus, .entry = &vm->entry,
		.coalesced = &vm->coalesced, .stopping = &vm->stopping, .gate = &vm->gate, .ctl = vm->ctl,
		.debug = vm->cfg->debug,
	};
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int r = vcpu_create(&vm->vcpu_env, i, &vm->vcpus[i]);
		if (r) {
			ERRF("creating vCPU %u: %s", i, strerror(-r));
			return r;
		}
	}
	/* Every PCI config access writes CONFIG_ADDRESS, then reads or writes
	 * CONFIG_DATA: let KVM queue the first (replayed before the second
	 * exit is handled), as QEMU does. Without the capability, every write
	 * exits as before. */
	if (!coalesced_init(&vm->coalesced, vm->fd, vm->vcpus[0]->fd, &vm->pio, &vm->mmio) &&
	    vm->pci && coalesced_add(&vm->coalesced, PORT_PCI_CONFIG, 4, true))
		pr_warn("coalesced port I/O for 0x%x not available; PCI config accesses exit twice",
			PORT_PCI_CONFIG);
	return 0;
}

static void vcpus_destroy(struct vm *vm)
{
	vm_stop_vcpus(vm);
	if (vm->vcpus)
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_destroy(vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	coalesced_destroy(&vm->coalesced);
}

static void nothing(struct vm *vm) { }

/* A restored VM's RAM already holds the kernel, tables and everything else. */
static int boot_load(struct vm *vm, struct err *err)
{
	if (vm->restore) {
		vm->entry.mode = BOOT_REAL_RESET; /* vCPU registers come from the snapshot */
		return 0;
	}
	return vm_boot_load(vm, err);
}

/* The machine, in build order. destroy undoes create (also a partial one);
 * vm_destroy() runs them backwards. */
static const struct vm_step {
	const char *name;
	int (*create)(struct vm *vm, struct err *err);
	void (*destroy)(struct vm *vm);
} vm_steps[] = {
	{ "memory",   memory_create,     memory_destroy },     /* guest RAM          */
	{ "kvm-vm",   kvm_vm_create,     kvm_vm_destroy },     /* VM fd              */
	{ "irqchip",  irqchip_create,    irqchip_destroy },    /* PIC/IOAPIC/PIT/GSI */
	{ "memslots", memslots_create,   nothing },            /* RAM into KVM       */
	{ "legacy",   legacy_create,     legacy_destroy },     /* legacy.c table     */
	{ "pci",      pci_devs_create,   pci_devs_destroy },   /* bridge, virtio     */
	{ "display",  vm_display_setup,  vm_display_destroy }, /* --display sdl      */
	{ "firmware", vm_firmware_setup, vm_firmware_destroy },/* --boot disk chipset*/
	{ "boot",     boot_load,         nothing },            /* ACPI + kernel/BIOS */
	{ "screen",   vm_display_boot,   nothing },            /* screen_info        */
	{ "vcpus",    vcpus_create,      vcpus_destroy },
	{ "restore",  vm_restore_state,  nothing },            /* --restore: states */
};
#define NSTEPS (sizeof(vm_steps) / sizeof(vm_steps[0]))

static int create(const struct vm_config *cfg, struct vm_host_ctx *host, struct vm_restore *rs,
		  struct vm **out, struct err *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r = 0;

	if (!vm) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	vm->cfg = cfg;
	vm->host = host;
	vm->restore = rs;
	vm->ncpus = cfg->cpus;
	vm->fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	vcpu_gate_init(&vm->gate, &vm->stopping);
	vm->ctl = (struct vmctl){ .stop = vm_ctl_stop, .opaque = vm };
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		r = -errno;
		ERRF("eventfd: %s", strerror(errno));
		goto fail;
	}
	for (; vm->nsteps < NSTEPS; vm->nsteps++) {
		err->msg[0] = 0;
		if ((r = vm_steps[vm->nsteps].create(vm, err))) {
			if (!err->msg[0])
				ERRF("%s: %s", vm_steps[vm->nsteps].name, strerror(-r));
			vm->nsteps++; /* its destroy cleans up what it started */
			goto fail;
		}
	}
	vm->restore = NULL;
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
	return r;
}

int vm_create(const struct vm_config *cfg, struct vm_host_ctx *host, struct vm **out,
	      struct err *err)
{
	return create(cfg, host, NULL, out, err);
}

int vm_create_restored(const struct vm_config *cfg, struct vm_host_ctx *host,
		       struct vm_restore *rs, struct vm **out, struct err *err)
{
	int r = create(cfg, host, rs, out, err);
	/* The host ends of vsock connections are gone: tell the guest's driver
	 * (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET), as Firecracker does. */
	if (!r && cfg->vsock_cid && vm_vsock_transport_reset(*out))
		pr_warn("--restore: the vsock transport reset event could not be sent");
	return r;
}

int vm_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int r = vcpu_start(vm->vcpus[i]);
		if (r) {
			vm_request_stop(vm, STOP_INTERNAL_ERROR, 0);
			return r;
		}
	}
	return 0;
}

void vm_stop_vcpus(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
	vcpu_gate_wake(&vm->gate); /* parked vCPUs see stopping */
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i])
			vcpu_kick(vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i])
			vcpu_join(vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	while (vm->nsteps > 0)
		vm_steps[--vm->nsteps].destroy(vm);
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_mutex_destroy(&vm->stop_lock);
	vcpu_gate_destroy(&vm->gate);
	free(vm);
}

int vm_stop_fd(const struct vm *vm)
{
	return vm->stop_efd;
}

enum stop_reason vm_stop_reason(struct vm *vm, int *value)
{
	enum stop_reason why;

	pthread_mutex_lock(&vm->stop_lock);
	why = vm->stop_why;
	*value = vm->stop_value;
	pthread_mutex_unlock(&vm->stop_lock);
	return why;
}

struct vcpu_gate *vm_vcpu_gate(struct vm *vm) { return &vm->gate; }
unsigned vm_ncpus(const struct vm *vm) { return vm->ncpus; }
struct vcpu *const *vm_vcpus(struct vm *vm) { return vm->vcpus; }
struct guest_mem *vm_guest_mem(struct vm *vm) { return &vm->mem; }

size_t vm_console_input(struct vm *vm, const uint8_t *buf, size_t len)
{
	/* --console virtio: input goes to hvc0; the UART keeps only output. */
	return vm->vcon ? virtio_console_input(vm->vcon, buf, len) :
			  serial_rx_push(vm->serial, buf, len);
}

void vm_input_key(struct vm *vm, const uint8_t *set2, size_t n)
{
	i8042_key_event(vm->i8042, set2, n);
}

void vm_input_mouse(struct vm *vm, int dx, int dy, unsigned buttons)
{
	unsigned b = ((buttons & DISPLAY_BTN_LEFT) ? I8042_BTN_LEFT : 0) |
		     ((buttons & DISPLAY_BTN_RIGHT) ? I8042_BTN_RIGHT : 0) |
		     ((buttons & DISPLAY_BTN_MIDDLE) ? I8042_BTN_MIDDLE : 0);
	i8042_mouse_event(vm->i8042, dx, dy, b);
}

void vm_input_power(struct vm *vm)
{
	pm_power_button(vm->pm);
}

void vm_tick_second(struct vm *vm)
{
	rtc_tick(vm->rtc);
}
