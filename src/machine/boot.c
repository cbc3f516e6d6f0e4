/* The "boot" step: the ACPI tables and what the vCPU starts in — a kernel
 * (bzImage, ELF/PVH, multiboot) loaded into RAM with the tables at
 * LAYOUT_ACPI_BASE, or, with firmware boot, the BIOS (firmware.c) with the
 * tables handed over through fw_cfg. The kernel and initrd are read once
 * per run (the host context keeps them across guest resets). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "devices/pci.h"
#include "host/file.h"
#include "machine/firmware.h"
#include "machine/legacy.h"
#include "machine/machine_priv.h"

/* The bytes of --kernel and --initrd, read on the first boot. */
struct vm_files {
	uint8_t *kernel, *initrd;
	size_t klen, ilen;
};

void vm_host_ctx_release(struct vm_host_ctx *host)
{
	if (!host->files)
		return;
	free(host->files->kernel);
	free(host->files->initrd);
	free(host->files);
	host->files = NULL;
}

/* Both must fit in guest RAM; a larger file is refused before it is read. */
static int read_files(const struct vm_config *c, struct vm_host_ctx *host, struct err *err)
{
	struct vm_files *f;
	int r;

	if (host->files)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	if ((r = file_read_all("--kernel", c->kernel, c->mem, &f->kernel, &f->klen, err)) ||
	    (c->initrd &&
	     (r = file_read_all("--initrd", c->initrd, c->mem, &f->initrd, &f->ilen, err)))) {
		free(f->kernel);
		free(f);
		return r;
	}
	host->files = f;
	return 0;
}

static void acpi_describe(const struct vm *vm, struct acpi_config *ac)
{
	*ac = (struct acpi_config){
		.ncpus = vm->ncpus,
		.pm_base = PORT_PM_BASE,
		.sci_irq = IRQ_SCI,
		.reset_port = PORT_RESET_CTRL,
		.pci_mmio_start = LAYOUT_PCI_MMIO_START,
		.pci_mmio_end = LAYOUT_PCI_MMIO_END,
		.pci_io_start = PCI_IO_WINDOW_START,
		.pci_io_end = PCI_IO_WINDOW_END,
		.pci0_aml = pci_prt_aml,
		.pci0_aml_opaque = vm->pci,
	};
	legacy_acpi_describe(ac);
}

static int load_kernel(struct vm *vm, struct err *err)
{
	const struct vm_config *c = vm->cfg;
	struct e820_entry e820[E820_MAX];
	char lerr[LOADER_ERR_LEN] = "";
	int r = read_files(c, vm->host, err);

	if (r)
		return r;
	struct boot_args a = {
		.kernel = vm->host->files->kernel, .kernel_len = vm->host->files->klen,
		.initrd = vm->host->files->initrd, .initrd_len = vm->host->files->ilen,
		.cmdline = c->cmdline ? c->cmdline : "console=ttyS0",
		.rsdp_gpa = vm->rsdp, .e820 = e820, .e820_nr = gmem_e820(c->mem, e820, E820_MAX),
	};
	if ((r = loader_load(&vm->mem, &a, &vm->entry, lerr)))
		ERRF("kernel %s: %s", c->kernel, lerr);
	return r;
}

int vm_boot_load(struct vm *vm, struct err *err)
{
	struct acpi_config ac;
	struct acpi_result res;
	uint8_t *buf = gmem_ptr(&vm->mem, LAYOUT_ACPI_BASE, LAYOUT_ACPI_SIZE);
	int r;

	acpi_describe(vm, &ac);
	if (vm->fw) /* the BIOS owns 0xE0000: tables go through fw_cfg */
		return vm_firmware_load(vm, &ac, err);
	if (!buf) {
		ERRF("ACPI area 0x%llx is not in guest RAM", (unsigned long long)LAYOUT_ACPI_BASE);
		return -EFAULT;
	}
	if ((r = acpi_build(&ac, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_BASE, &res))) {
		ERRF("building ACPI tables: %s", strerror(-r));
		return r;
	}
	vm->rsdp = res.rsdp_gpa;
	return load_kernel(vm, err);
}
