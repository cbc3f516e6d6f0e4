/* Firmware boot wiring: BIOS ROM, PIIX/IDE/DMA/fw_cfg and CMOS for SeaBIOS.
 * Facts about what SeaBIOS reads come from its src/fw/paravirt.c (fw_cfg
 * items, CMOS 0x34/0x35/0x5b-0x5d/0x5f) and QEMU's pc CMOS layout. */
#include "machine/firmware.h"
#include "host/disk_format.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "acpi/acpi.h"
#include "devices/dma8237.h"
#include "devices/fw_cfg.h"
#include "devices/ide.h"
#include "devices/piix.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "host/log.h"
#include "host/file.h"
#include "machine/machine_priv.h"

#define IDE_MAX_DISKS 4

/* fw_cfg keys SeaBIOS reads that fw_cfg.h does not name (QEMU fw_cfg_keys.h). */
#define FW_CFG_BOOT_MENU 0x000e

/* CMOS bytes of the pc machine (QEMU hw/i386/pc.c pc_cmos_init layout). */
#define CMOS_FLOPPY      0x10
#define CMOS_BASEMEM_LO  0x15
#define CMOS_BASEMEM_HI  0x16
#define CMOS_EXTMEM_LO   0x17
#define CMOS_EXTMEM_HI   0x18
#define CMOS_EXTMEM2_LO  0x30
#define CMOS_EXTMEM2_HI  0x31
#define CMOS_MEM16M_LO   0x34  /* RAM above 16 MiB below 4 GiB, 64 KiB units */
#define CMOS_MEM16M_HI   0x35
#define CMOS_BOOT_3      0x38  /* bits 7:4 third boot device, bit 0 no fd sig check */
#define CMOS_BOOT_12     0x3d  /* bits 3:0 first, 7:4 second: 1 fd, 2 hd, 3 cd */
#define CMOS_MEM4G_0     0x5b  /* RAM above 4 GiB, 64 KiB units, 24 bits */
#define CMOS_NCPUS_M1    0x5f

struct vm_firmware {
	struct piix piix;
	bool piix_ok;
	struct pci_dev ide_pci;
	struct ide *ide;
	struct disk_file ide_disk[IDE_MAX_DISKS];
	unsigned nide;
	struct dma8237 *dma;
	struct fw_cfg *fwcfg;
	struct vm *vm;
	uint16_t pm_base;             /* where the PM block is on the PIO bus */
	bool pm_mapped;
	uint8_t *rom;                 /* host copy of the ROM (memslot backing) */
	size_t rom_size;
	bool rom_mapped;              /* MEMSLOT_BIOS is live */
	pthread_mutex_t dbg_lock;     /* SeaBIOS debug console line buffer */
	char dbg[160];
	unsigned dbg_len;
};

static void dbg_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct vm_firmware *fw = opaque;
	const uint8_t *p = data;

	pthread_mutex_lock(&fw->dbg_lock);
	for (uint32_t i = 0; i < len; i++) {
		char ch = (char)p[i];
		if (ch == '\n' || fw->dbg_len == sizeof(fw->dbg) - 1) {
			fw->dbg[fw->dbg_len] = 0;
			pr_debug("bios: %s", fw->dbg);
			fw->dbg_len = 0;
		}
		if (ch != '\n' && ch != '\r')
			fw->dbg[fw->dbg_len++] = (ch >= 0x20 && ch < 0x7f) ? ch : '.';
	}
	pthread_mutex_unlock(&fw->dbg_lock);
}

static void dbg_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	bus_put_le(data, len, 0xe9); /* QEMU debugcon's readback value */
}

static const struct bus_ops dbg_ops = { .read = dbg_read, .write = dbg_write };

/* PIIX4 PMBA/PMREGMISC written (pci bus lock held): move the PM block. */
static void fw_pm_base_changed(void *opaque, uint16_t base, bool enabled)
{
	struct vm_firmware *fw = opaque;
	struct vm *vm = fw->vm;

	if (fw->pm_mapped && (!enabled || base != fw->pm_base)) {
		bus_remove(&vm->pio, fw->pm_base);
		fw->pm_mapped = false;
	}
	/* Base 0 (reset value) or a block running past 64K is not decoded. */
	if (!enabled || fw->pm_mapped || base == 0 || (uint32_t)base + PORT_PM_LEN > 0x10000)
		return;
	int r = bus_add(&vm->pio, base, PORT_PM_LEN, &pm_bus_ops, vm->pm, "acpi-pm");
	if (r) {
		pr_guest("PIIX4 PM base 0x%x: %s; PM block left unmapped", base, strerror(-r));
		return;
	}
	fw->pm_base = base;
	fw->pm_mapped = true;
	if (base != PORT_PM_BASE)
		pr_guest("PIIX4 PM base moved to 0x%x; the ACPI FADT says 0x%x", base, PORT_PM_BASE);
}

static void fw_pirq_changed(void *opaque, unsigned pirq, uint8_t irq, bool enabled)
{
	/* INTx goes through the IOAPIC (GSI 16-19, ACPI _PRT); the BIOS and
	 * bootloaders poll their disks, so the PIC route is only recorded. */
	pr_debug("PIIX3 PIRQ%c -> %s%u", 'A' + (int)pirq, enabled ? "IRQ " : "disabled ",
		 enabled ? irq : 0);
}

static void fw_pam_changed(void *opaque, unsigned region, unsigned mode)
{
	/* 0xC0000-0xFFFFF is plain RAM: shadowing needs no remapping. */
}

/* Opens the if=ide disks (checked and locked like every disk) and attaches
 * them as hda..hdd. */
static int setup_ide(struct vm_firmware *fw, struct vm *vm, struct err *err)
{
	const struct vm_config *c = vm->cfg;
	int r;

	fw->ide = ide_create(&vm->irq[IRQ_IDE0], &vm->irq[IRQ_IDE1]);
	if (!fw->ide) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct disk_config *d = &c->disks[i];
		struct disk_file *df = &fw->ide_disk[fw->nide];
		unsigned ch = fw->nide / 2, unit = fw->nide % 2;
		if (d->iface != DISK_IF_IDE)
			continue;
		if (fw->nide == IDE_MAX_DISKS) {
			ERRF("--disk %s: at most %d IDE disks (hda..hdd)", d->path, IDE_MAX_DISKS);
			return -ENOSPC;
		}
		if ((r = disk_file_open(d->path, d->ro, false, d->format, df, err)))
			return r;
		fw->nide++;
		if ((r = ide_attach(fw->ide, ch, unit, df->fd, df->size, d->ro)) ||
		    (d->serial[0] && (r = ide_set_serial(fw->ide, ch, unit, d->serial)))) {
			ERRF("--disk %s: IDE: %s", d->path, strerror(-r));
			return r;
		}
	}
	return 0;
}

int vm_firmware_setup(struct vm *vm, struct err *err)
{
	struct vm_firmware *fw;
	int r;

	if (!config_boot_firmware(vm->cfg))
		return 0;
	fw = calloc(1, sizeof(*fw));
	if (!fw) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	const struct piix_callbacks cb = {
		.pam_changed = fw_pam_changed, .pirq_changed = fw_pirq_changed,
		.pm_base_changed = fw_pm_base_changed, .opaque = fw,
	};
	for (unsigned i = 0; i < IDE_MAX_DISKS; i++)
		fw->ide_disk[i].fd = -1;
	fw->vm = vm;
	pthread_mutex_init(&fw->dbg_lock, NULL);
	vm->fw = fw;
	/* machine.c registered the PM block at PORT_PM_BASE; SeaBIOS writes the same
	 * base into PMBA, and the PMBA callbacks move it from here on. */
	fw->pm_base = PORT_PM_BASE;
	fw->pm_mapped = true;
	if ((r = piix_init(&fw->piix, &vm->pci->host, &cb))) {
		ERRF("PIIX: %s", strerror(-r));
		return r;
	}
	fw->piix_ok = true;
	if ((r = setup_ide(fw, vm, err)))
		return r;
	ide_pci_init(&fw->ide_pci);
	fw->dma = dma8237_create();
	fw->fwcfg = fw_cfg_create(&vm->mem);
	if (!fw->dma || !fw->fwcfg) {
		ERRF("out of memory");
		return -ENOMEM;
	}
	if ((r = pci_bus_add_fn(vm->pci, SLOT_PIIX, 0, &fw->piix.isa)) ||
	    (r = pci_bus_add_fn(vm->pci, SLOT_PIIX, 1, &fw->ide_pci)) ||
	    (r = pci_bus_add_fn(vm->pci, SLOT_PIIX, 3, &fw->piix.pm))) {
		ERRF("PIIX at PCI slot %d: %s", SLOT_PIIX, strerror(-r));
		return r;
	}
	if ((r = bus_add(&vm->pio, PORT_ELCR, PIIX_ELCR_LEN, &piix_elcr_ops, &fw->piix, "elcr")) ||
	    (r = bus_add(&vm->pio, PORT_IDE0_CMD, IDE_CMD_LEN, &ide_cmd_ops[0], fw->ide, "ide0")) ||
	    (r = bus_add(&vm->pio, PORT_IDE0_CTL, IDE_CTL_LEN, &ide_ctl_ops[0], fw->ide, "ide0-ctl")) ||
	    (r = bus_add(&vm->pio, PORT_IDE1_CMD, IDE_CMD_LEN, &ide_cmd_ops[1], fw->ide, "ide1")) ||
	    (r = bus_add(&vm->pio, PORT_IDE1_CTL, IDE_CTL_LEN, &ide_ctl_ops[1], fw->ide, "ide1-ctl")) ||
	    (r = dma8237_register(fw->dma, &vm->pio)) ||
	    (r = bus_add(&vm->pio, PORT_BIOS_DEBUG, 1, &dbg_ops, fw, "bios-debug")) ||
	    (r = bus_add(&vm->pio, PORT_FW_CFG, PORT_FW_CFG_LEN, &fw_cfg_io_ops, fw->fwcfg, "fw_cfg")) ||
	    (r = bus_add(&vm->pio, PORT_FW_CFG_DMA, PORT_FW_CFG_DMA_LEN, &fw_cfg_dma_ops, fw->fwcfg,
			 "fw_cfg-dma"))) {
		ERRF("registering firmware devices: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* Reads the ROM into an anonymous mapping (page-aligned memslot backing). */
static int read_rom(struct vm_firmware *fw, const char *path, struct err *err)
{
	struct stat st;
	int fd = file_open("--bios", path, O_RDONLY, FILE_REGULAR, &st, err), r = 0;

	if (fd < 0) {
		if (fd == -ENOENT)
			err_set(err, "--bios %s: %s; give a SeaBIOS image (apt-get install seabios)",
				path, strerror(-fd));
		return fd;
	}
	/* A PC BIOS image is 64 KiB-aligned and ends at 4 GiB. */
	if (st.st_size < (64 << 10) || st.st_size > VM_FW_ROM_MAX || (st.st_size & 0xffff)) {
		ERRF("--bios %s: not a BIOS image (size must be a multiple of 64 KiB, 64 KiB..16 MiB)",
		     path);
		r = -EINVAL;
		goto out;
	}
	fw->rom_size = (size_t)st.st_size;
	fw->rom = mmap(NULL, fw->rom_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (fw->rom == MAP_FAILED) {
		fw->rom = NULL;
		r = -ENOMEM;
		ERRF("out of memory for the BIOS image");
		goto out;
	}
	if ((r = file_read_into(fd, fw->rom, fw->rom_size)))
		ERRF("--bios %s: read: %s", path, strerror(-r));
out:
	close(fd);
	return r;
}

static const char *pick_bios(const struct vm_config *c)
{
	if (c->bios)
		return c->bios;
	if (access(VM_FW_DEFAULT_BIOS, R_OK) == 0)
		return VM_FW_DEFAULT_BIOS;
	if (access(VM_FW_FALLBACK_BIOS, R_OK) == 0)
		return VM_FW_FALLBACK_BIOS;
	return NULL;
}

static int map_rom(struct vm_firmware *fw, struct vm *vm, struct err *err)
{
	bool ro = ioctl(vm->fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	struct kvm_userspace_memory_region r = {
		.slot = MEMSLOT_BIOS,
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = LAYOUT_MMIO_HOLE_END - fw->rom_size,
		.memory_size = fw->rom_size,
		.userspace_addr = (uint64_t)(uintptr_t)fw->rom,
	};
	size_t alias = fw->rom_size < VM_FW_ISA_BIOS_SIZE ? fw->rom_size : VM_FW_ISA_BIOS_SIZE;

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int e = errno;
		ERRF("mapping the BIOS at 0x%llx: %s", (unsigned long long)r.guest_phys_addr,
		     strerror(e));
		return -e;
	}
	fw->rom_mapped = true;
	if (!ro)
		pr_debug("KVM_CAP_READONLY_MEM missing: the BIOS ROM is writable RAM");
	/* "isa-bios": the top of the ROM below 1 MiB, as RAM POST may shadow. */
	if (gmem_write(&vm->mem, 0x100000 - alias, fw->rom + fw->rom_size - alias, alias)) {
		ERRF("BIOS shadow at 0x%llx is not in guest RAM", 0x100000ULL - alias);
		return -EFAULT;
	}
	return 0;
}

/* QEMU's etc/e820 entry: le64 address, le64 length, le32 type (packed). */
static size_t put_e820(uint8_t *p, uint64_t addr, uint64_t len, uint32_t type)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(addr >> (8 * i));
		p[8 + i] = (uint8_t)(len >> (8 * i));
	}
	for (int i = 0; i < 4; i++)
		p[16 + i] = (uint8_t)(type >> (8 * i));
	return 20;
}

/* OpenFirmware path of the first disk, as SeaBIOS builds it for matching. */
static int bootorder(const struct vm_config *c, char *buf, size_t cap)
{
	size_t n = 0;
	unsigned nide = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < c->ndisks && n < cap; i++) {
		int w;
		if (c->disks[i].iface == DISK_IF_IDE) {
			w = snprintf(buf + n, cap - n, "/pci@i0cf8/ide@%d,1/drive@%u/disk@%u\n",
				     SLOT_PIIX, nide / 2, nide % 2);
			nide++;
		} else {
			w = snprintf(buf + n, cap - n, "/pci@i0cf8/scsi@%x/disk@0,0\n",
				     SLOT_DISK0 + i);
		}
		if (w < 0 || (size_t)w >= cap - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	if (n)
		buf[n - 1] = 0; /* entries are newline-separated, the list NUL-ends */
	return (int)n;
}

static int fill_fw_cfg(struct vm_firmware *fw, struct vm *vm, const struct acpi_config *ac,
		       struct err *err)
{
	const struct vm_config *c = vm->cfg;
	struct fw_cfg *fc = fw->fwcfg;
	uint64_t low = c->mem < LAYOUT_MMIO_HOLE_START ? c->mem : LAYOUT_MMIO_HOLE_START;
	uint64_t high = c->mem - low;
	uint8_t e820[4 * 20], sercon[2] = { PORT_COM1 & 0xff, PORT_COM1 >> 8 };
	char order[CONFIG_MAX_DISKS * 48];
	size_t ne = 0;
	int r, olen = bootorder(c, order, sizeof(order));

	ne += put_e820(e820 + ne, 0, low, E820_RAM);
	/* KVM's identity-map page and TSS (QEMU reserves the same range). */
	ne += put_e820(e820 + ne, LAYOUT_KVM_IDENT_MAP, 0x4000, E820_RESERVED);
	if (high)
		ne += put_e820(e820 + ne, LAYOUT_HIGH_RAM_START, high, E820_RAM);
	if (olen < 0)
		olen = 0;
	if ((r = fw_cfg_add_u64(fc, FW_CFG_RAM_SIZE, c->mem)) ||
	    (r = fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, (uint16_t)vm->ncpus)) ||
	    (r = fw_cfg_add_u16(fc, FW_CFG_MAX_CPUS, (uint16_t)vm->ncpus)) ||
	    (r = fw_cfg_add_u16(fc, FW_CFG_NOGRAPHIC, vm->display ? 0 : 1)) ||
	    (r = fw_cfg_add_u16(fc, FW_CFG_BOOT_MENU, 0)) ||
	    (r = fw_cfg_add_file(fc, "etc/e820", e820, (uint32_t)ne)) ||
	    (r = fw_cfg_add_file(fc, "bootorder", order, (uint32_t)olen)) ||
	    (!vm->display && (r = fw_cfg_add_file(fc, "etc/sercon-port", sercon, 2))) ||
	    (r = fw_cfg_build_acpi(ac, fc))) {
		ERRF("fw_cfg: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void set_cmos(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	uint64_t low = c->mem < LAYOUT_MMIO_HOLE_START ? c->mem : LAYOUT_MMIO_HOLE_START;
	uint64_t high = c->mem - low;
	uint64_t v;

	rtc_set_cmos(vm->rtc, CMOS_FLOPPY, 0);
	rtc_set_cmos(vm->rtc, CMOS_BASEMEM_LO, 640 & 0xff);
	rtc_set_cmos(vm->rtc, CMOS_BASEMEM_HI, 640 >> 8);
	v = (low >> 10) - 1024;                 /* KiB above 1 MiB */
	if (v > 0xffff)
		v = 0xffff;
	rtc_set_cmos(vm->rtc, CMOS_EXTMEM_LO, (uint8_t)v);
	rtc_set_cmos(vm->rtc, CMOS_EXTMEM_HI, (uint8_t)(v >> 8));
	rtc_set_cmos(vm->rtc, CMOS_EXTMEM2_LO, (uint8_t)v);
	rtc_set_cmos(vm->rtc, CMOS_EXTMEM2_HI, (uint8_t)(v >> 8));
	v = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
	if (v > 0xffff)
		v = 0xffff;
	rtc_set_cmos(vm->rtc, CMOS_MEM16M_LO, (uint8_t)v);
	rtc_set_cmos(vm->rtc, CMOS_MEM16M_HI, (uint8_t)(v >> 8));
	v = high >> 16;
	for (int i = 0; i < 3; i++)
		rtc_set_cmos(vm->rtc, (uint8_t)(CMOS_MEM4G_0 + i), (uint8_t)(v >> (8 * i)));
	rtc_set_cmos(vm->rtc, CMOS_NCPUS_M1, (uint8_t)(vm->ncpus - 1));
	rtc_set_cmos(vm->rtc, CMOS_BOOT_12, 0x02); /* hard disk first */
	rtc_set_cmos(vm->rtc, CMOS_BOOT_3, 0x01);  /* no floppy signature check */
}

int vm_firmware_load(struct vm *vm, const struct acpi_config *ac, struct err *err)
{
	struct vm_firmware *fw = vm->fw;
	const char *path = pick_bios(vm->cfg);
	int r;

	if (!fw)
		return -EINVAL;
	if (!path) {
		ERRF("no BIOS: neither %s nor %s exists; apt-get install seabios or give --bios PATH",
		     VM_FW_DEFAULT_BIOS, VM_FW_FALLBACK_BIOS);
		return -ENOENT;
	}
	if ((r = read_rom(fw, path, err)) || (r = map_rom(fw, vm, err)) ||
	    (r = fill_fw_cfg(fw, vm, ac, err)))
		return r;
	set_cmos(vm);
	memset(&vm->entry, 0, sizeof(vm->entry));
	vm->entry.mode = BOOT_REAL_RESET;
	return 0;
}

void vm_firmware_destroy(struct vm *vm)
{
	struct vm_firmware *fw = vm->fw;

	if (!fw)
		return;
	if (fw->fwcfg)
		fw_cfg_destroy(fw->fwcfg);
	dma8237_destroy(fw->dma);
	if (fw->ide)
		ide_destroy(fw->ide);
	for (unsigned i = 0; i < IDE_MAX_DISKS; i++)
		disk_file_close(&fw->ide_disk[i]);
	if (fw->piix_ok)
		piix_destroy(&fw->piix);
	if (fw->rom_mapped) {
		struct kvm_userspace_memory_region r = { .slot = MEMSLOT_BIOS }; /* size 0: delete */
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			pr_warn("deleting the BIOS memslot: %s", strerror(errno));
	}
	if (fw->rom)
		munmap(fw->rom, fw->rom_size); /* no longer a memslot */
	pthread_mutex_destroy(&fw->dbg_lock);
	free(fw);
	vm->fw = NULL;
}
