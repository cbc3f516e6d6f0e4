/* Machine assembly: ordered build in vm_create(), reverse teardown. */
#include "machine/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/pm.h"
#include "devices/pvpanic.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/sysdevs.h"
#include "host/log.h"
#include "machine/pc_map.h"
#include "host/net_slirp.h"
#include "kvm/irq_routing.h"
#include "vcpu/vcpu.h"
#include "machine/display.h"
#include "machine/firmware.h"

#define ERRF(...) snprintf(err, VM_ERR_LEN, __VA_ARGS__)

static void vm_irq_set(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
		pr_warn_rl("KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

static void vm_ctl_stop(void *opaque, enum stop_reason why, int value)
{
	vm_request_stop(opaque, why, value);
}

void vm_request_stop(struct vm *vm, enum stop_reason why, int value)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_why == STOP_NONE) {
		vm->stop_why = why;
		vm->stop_value = value;
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
		if (write(vm->stop_efd, &one, sizeof(one)) < 0)
			pr_warn("stop eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

/* Reads a whole file; -errno. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	uint8_t *b = NULL;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, b + off, (size_t)st.st_size - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*buf = b;
	*len = off;
	b = NULL;
out:
	free(b);
	close(fd);
	return ret;
}

static int setup_memory(struct vm *vm, char *err)
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
	ret = gmem_alloc(&vm->mem, vm->cfg->mem);
	if (ret) {
		ERRF("--mem %llu MiB: the host cannot back that much guest RAM (%s); use a smaller --mem",
		     (unsigned long long)(vm->cfg->mem >> 20), strerror(-ret));
		return ret;
	}
	for (int i = 0; i < vm->mem.nr; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = (uint32_t)i,
			.guest_phys_addr = vm->mem.r[i].gpa,
			.memory_size = vm->mem.r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.r[i].hva,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			ret = -errno;
			ERRF("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return ret;
		}
	}
	return 0;
}

static int setup_irqchip(struct vm *vm, char *err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = LAYOUT_KVM_IDENT_MAP;

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
	for (unsigned i = 0; i < 16; i++)
		vm->irq[i] = (struct irq_line){ .set = vm_irq_set, .opaque = vm, .gsi = i };
	/* Our own routing table (default irqchip routes + MSI routes). */
	vm->irqrt = calloc(1, sizeof(*vm->irqrt));
	if (!vm->irqrt)
		return -ENOMEM;
	int r = irq_routing_init(vm->irqrt, vm->fd);
	if (r) {
		free(vm->irqrt);
		vm->irqrt = NULL;
		ERRF("KVM_SET_GSI_ROUTING: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* Wraps a virtio device in a PCI transport and records it for teardown. */
static int add_virtio(struct vm *vm, struct virtio_dev *vd, unsigned slot)
{
	struct virtio_pci_params p = {
		.bus = vm->pci, .slot = slot, .mem = &vm->mem, .loop = vm->host->loop,
		.vm_fd = vm->fd, .rt = vm->irqrt,
	};
	unsigned i = vm->nvirtio++;
	vm->virtio[i].dev = vd;
	return virtio_pci_create(vd, &p, &vm->virtio[i].pci);
}

static void net_rx(void *opaque, const uint8_t *frame, size_t len)
{
	virtio_net_receive(opaque, frame, len); /* full backlog: dropped, TCP retransmits */
}

/* --net user: virtio-net at VM_SLOT_NET fed by a libslirp stack. */
static int setup_net(struct vm *vm, char *err)
{
	char nerr[NET_SLIRP_ERR_LEN] = "";
	struct virtio_dev *vd;
	int r;

	if ((r = virtio_net_create(vm->cfg->net.mac, vm->host->loop, &vd))) {
		ERRF("virtio-net: %s", strerror(-r));
		return r;
	}
	if ((r = add_virtio(vm, vd, VM_SLOT_NET))) {
		ERRF("virtio-net: virtio-pci: %s", strerror(-r));
		return r;
	}
	if ((r = net_slirp_create(&vm->cfg->net, net_rx, vd, &vm->net, nerr))) {
		ERRF("%s", nerr[0] ? nerr : strerror(-r));
		return r;
	}
	virtio_net_set_backend(vd, &(struct net_backend){ .send = net_slirp_send,
							 .opaque = vm->net });
	return 0;
}

static int setup_pci_devices(struct vm *vm, char *err)
{
	struct irq_line intx = { .set = vm_irq_set, .opaque = vm };
	struct virtio_dev *vd;
	int r;

	pci_bus_attach(vm->pci, &vm->pio, &vm->mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END,
		       &intx);
	if ((r = pvpanic_create(vm->pci, VM_SLOT_PVPANIC, &vm->ctl, &vm->pvpanic))) {
		ERRF("pvpanic: %s", strerror(-r));
		return r;
	}
	if ((r = virtio_rng_create(vm->host->loop, &vd)) ||
	    (r = add_virtio(vm, vd,
			    vm_firmware_wanted(vm->cfg) ? VM_SLOT_RNG_FW : VM_SLOT_RNG))) {
		ERRF("virtio-rng: %s", strerror(-r));
		return r;
	}
	if (vm->cfg->virtio_console) {
		if ((r = virtio_console_create(&vm->host->console_out, &vd)) ||
		    (r = add_virtio(vm, vd, VM_SLOT_CONSOLE))) {
			ERRF("virtio-console: %s", strerror(-r));
			return r;
		}
		vm->vcon = vd;
	}
	for (unsigned i = 0; i < vm->cfg->ndisks; i++) {
		const struct disk_config *dc = &vm->cfg->disks[i];
		struct blk_params bp = { .path = dc->path, .ro = dc->ro,
					 .direct = dc->cache == DISK_CACHE_NONE,
					 .format = dc->format, .serial = dc->serial };
		char berr[256] = "";
		if (dc->iface != DISK_IF_VIRTIO)
			continue;
		if ((r = virtio_blk_create(&bp, vm->host->loop, &vd, berr))) {
			ERRF("--disk %s: %s", vm->cfg->disks[i].path, berr[0] ? berr : strerror(-r));
			return r;
		}
		if ((r = add_virtio(vm, vd, VM_SLOT_DISK0 + i))) {
			ERRF("--disk %s: virtio-pci: %s", vm->cfg->disks[i].path, strerror(-r));
			return r;
		}
	}
	if (vm->cfg->net.kind == NET_USER && (r = setup_net(vm, err)))
		return r;
	return vm_display_setup(vm, err);
}

static void destroy_pci_devices(struct vm *vm)
{
	vm_display_destroy(vm);
	net_slirp_destroy(vm->net); /* stops frames into virtio-net first */
	vm->net = NULL;
	for (unsigned i = vm->nvirtio; i-- > 0;) {
		virtio_pci_destroy(vm->virtio[i].pci);
		virtio_dev_destroy(vm->virtio[i].dev);
	}
	vm->nvirtio = 0;
	vm->vcon = NULL;
	pvpanic_destroy(vm->pvpanic);
	vm->pvpanic = NULL;
}

static int setup_devices(struct vm *vm, char *err)
{
	int r;

	vm->sys = sysdevs_create(&vm->ctl, vm->host->on_boot_marker, vm->host->marker_opaque);
	vm->serial = serial_create(&vm->irq[IRQ_COM1], &vm->host->console_out, NULL, NULL);
	vm->rtc = rtc_create(&vm->irq[IRQ_RTC], NULL, NULL,
			     vm->host->nvram_valid ? vm->host->nvram : NULL);
	vm->i8042 = i8042_create(&vm->irq[IRQ_KBD], &vm->irq[IRQ_MOUSE], &vm->ctl);
	vm->pm = pm_create(&vm->irq[IRQ_SCI], &vm->ctl, ACPI_S5_SLP_TYP);
	vm->pci = calloc(1, sizeof(*vm->pci));
	if (!vm->sys || !vm->serial || !vm->rtc || !vm->i8042 || !vm->pm || !vm->pci) {
		ERRF("out of memory creating devices");
		return -ENOMEM;
	}
	pci_bus_init(vm->pci, &vm->ctl);

	if ((r = sysdevs_register(vm->sys, &vm->pio)) ||
	    (r = bus_add(&vm->pio, PORT_COM1, 8, &serial_bus_ops, vm->serial, "com1")) ||
	    (r = bus_add(&vm->pio, PORT_RTC, 2, &rtc_bus_ops, vm->rtc, "rtc")) ||
	    (r = bus_add(&vm->pio, PORT_I8042_DATA, 1, &i8042_data_ops, vm->i8042, "i8042-data")) ||
	    (r = bus_add(&vm->pio, PORT_I8042_CMD, 1, &i8042_cmd_ops, vm->i8042, "i8042-cmd")) ||
	    (r = bus_add(&vm->pio, PORT_PM_BASE, PORT_PM_LEN, &pm_bus_ops, vm->pm, "acpi-pm")) ||
	    (r = bus_add(&vm->pio, PORT_PCI_CONFIG, 8, &pci_cfg_ops, vm->pci, "pci-cfg"))) {
		ERRF("registering devices: %s", strerror(-r));
		return r;
	}
	if ((r = setup_pci_devices(vm, err)))
		return r;
	return vm_firmware_wanted(vm->cfg) ? vm_firmware_setup(vm, err) : 0;
}

static int setup_acpi(struct vm *vm, uint64_t *rsdp, char *err)
{
	struct acpi_config ac = {
		.ncpus = vm->ncpus,
		.pm_base = PORT_PM_BASE,
		.sci_irq = IRQ_SCI,
		.reset_port = PORT_RESET_CTRL,
		.pci_mmio_start = LAYOUT_PCI_MMIO_START,
		.pci_mmio_end = LAYOUT_PCI_MMIO_END,
		.pci_io_start = PCI_IO_WINDOW_START,
		.pci_io_end = PCI_IO_WINDOW_END,
		.has_i8042 = true,
		.has_com1 = true,
		.has_rtc = true,
		.pci0_aml = pci_prt_aml,
		.pci0_aml_opaque = vm->pci,
	};
	struct acpi_result res;
	uint8_t *buf = gmem_ptr(&vm->mem, LAYOUT_ACPI_BASE, LAYOUT_ACPI_SIZE);
	int r;

	if (vm->fw) /* the BIOS owns 0xE0000: tables go through fw_cfg */
		return vm_firmware_load(vm, &ac, err);
	if (!buf)
		return -EFAULT;
	r = acpi_build(&ac, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_BASE, &res);
	if (r) {
		ERRF("building ACPI tables: %s", strerror(-r));
		return r;
	}
	*rsdp = res.rsdp_gpa;
	return 0;
}

static int load_kernel(struct vm *vm, uint64_t rsdp, char *err)
{
	const struct vm_config *c = vm->cfg;
	struct e820_entry e820[E820_MAX];
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	char lerr[LOADER_ERR_LEN] = "";
	int n, r;

	if (vm->fw)
		return 0; /* firmware boot: no kernel */
	r = read_file(c->kernel, &kernel, &klen);
	if (r) {
		ERRF("kernel %s: %s; check the --kernel path", c->kernel, strerror(-r));
		goto out;
	}
	if (c->initrd && (r = read_file(c->initrd, &initrd, &ilen))) {
		ERRF("initrd %s: %s; check the --initrd path", c->initrd, strerror(-r));
		goto out;
	}
	n = gmem_e820(c->mem, e820, E820_MAX);
	struct boot_args a = {
		.kernel = kernel, .kernel_len = klen, .initrd = initrd, .initrd_len = ilen,
		.cmdline = c->cmdline ? c->cmdline : "console=ttyS0",
		.rsdp_gpa = rsdp, .e820 = e820, .e820_nr = n,
	};
	r = loader_load(&vm->mem, &a, &vm->entry, lerr);
	if (r)
		ERRF("kernel %s: %s", c->kernel, lerr);
out:
	free(kernel);
	free(initrd);
	return r;
}

int vm_create(const struct vm_config *cfg, struct vm_host_ctx *host, struct vm **out,
	      char err[VM_ERR_LEN])
{
	struct vm *vm = calloc(1, sizeof(*vm));
	uint64_t rsdp = 0;
	int r;

	if (!vm) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	vm->cfg = cfg;
	vm->host = host;
	vm->ncpus = cfg->cpus;
	vm->fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	vcpu_gate_init(&vm->gate, &vm->stopping);
	vm->ctl = (struct vmctl){ .stop = vm_ctl_stop, .opaque = vm };
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	if (vm->stop_efd < 0) {
		r = -errno;
		ERRF("eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((int)vm->ncpus > host->kvm->max_vcpus) {
		r = -EINVAL;
		ERRF("--cpus %u: this host's KVM supports at most %d vCPUs; use fewer", vm->ncpus,
		     host->kvm->max_vcpus);
		goto fail;
	}
	vm->fd = ioctl(host->kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		r = -errno;
		ERRF("KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if ((r = setup_irqchip(vm, err)) || (r = setup_memory(vm, err)) ||
	    (r = setup_devices(vm, err)) || (r = setup_acpi(vm, &rsdp, err)) ||
	    (r = load_kernel(vm, rsdp, err)) || (r = vm_display_boot(vm, err)))
		goto fail;

	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = -ENOMEM;
		ERRF("out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_create(vm, i, &vm->vcpus[i]);
		if (r) {
			ERRF("creating vCPU %u: %s", i, strerror(-r));
			goto fail;
		}
	}
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
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
	vm_stop_vcpus(vm);
	if (vm->vcpus)
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_destroy(vm->vcpus[i]);
	free(vm->vcpus);
	if (vm->rtc) {
		rtc_get_nvram(vm->rtc, vm->host->nvram);
		vm->host->nvram_valid = true;
	}
	if (vm->pci) {
		destroy_pci_devices(vm);
		pci_bus_destroy(vm->pci);
		free(vm->pci);
	}
	pm_destroy(vm->pm);
	i8042_destroy(vm->i8042);
	rtc_destroy(vm->rtc);
	serial_destroy(vm->serial);
	sysdevs_destroy(vm->sys);
	if (vm->irqrt) {
		irq_routing_destroy(vm->irqrt);
		free(vm->irqrt);
	}
	if (vm->fd >= 0)
		close(vm->fd); /* drop KVM's memslots before unmapping guest RAM */
	vm_firmware_destroy(vm);
	gmem_free(&vm->mem);
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_mutex_destroy(&vm->stop_lock);
	vcpu_gate_destroy(&vm->gate);
	free(vm);
}
