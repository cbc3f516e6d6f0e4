/* libFuzzer: register state machines of the firmware-boot platform devices,
 * driven by a stream of accesses (fuzz_io.h). Byte 0 picks the device:
 * 0 fw_cfg: selector/data ports and the DMA interface, whose descriptors
 *   and buffers live in the fuzzed guest RAM;
 * 1 PIIX IDE (PIO): both channels' command and control blocks; channel 0
 *   master is a 64 KiB read-write image, channel 1 master a read-only one.
 *   After every input the images must still be 64 KiB and the read-only
 *   one unchanged: the guest can never grow a file or write a ro disk;
 * 2 bochs-display: PCI config (0xCF8) plus its MMIO BAR (DISPI, VGA ports,
 *   QEMU extension regs) and VRAM BAR, at wherever the guest moved them.
 * Bytes 1-2: length L of the access stream; the rest fills guest RAM (64 KiB
 * at GPA 0). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/bochs_display.h"
#include "devices/fw_cfg.h"
#include "devices/ide.h"
#include "fuzz_io.h"
#include "host/log.h"
#include "mem/guest_mem.h"
#include "machine/pc_map.h"

#define RAM_SIZE (64u << 10)
#define IMG_SIZE (64u << 10)

static uint8_t *ram;
static int img_rw = -1, img_ro = -1;
static uint8_t ro_content[IMG_SIZE];

static int make_image(uint8_t fill, char *name)
{
	strcpy(name, "/tmp/myvmm-fuzz-ide-XXXXXX");
	int fd = mkstemp(name);
	if (fd < 0)
		return -1;
	unlink(name);
	uint8_t buf[IMG_SIZE];
	for (unsigned i = 0; i < IMG_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + fill);
	if (pwrite(fd, buf, IMG_SIZE, 0) != IMG_SIZE)
		return -1;
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char n1[64], n2[64];
	log_set_level(LOG_ERR);
	ram = malloc(RAM_SIZE);
	img_rw = make_image(1, n1);
	img_ro = make_image(2, n2);
	if (!ram || img_rw < 0 || img_ro < 0 || pread(img_ro, ro_content, IMG_SIZE, 0) != IMG_SIZE)
		abort();
	return 0;
}

static off_t fsize(int fd)
{
	struct stat st;
	return fstat(fd, &st) ? -1 : st.st_size;
}

/* bochs BARs: accesses go through the MMIO bus at the BAR's current address. */
struct bochs_ctx {
	struct bochs_display *d;
	struct bus *mmio;
	unsigned bar;
};
static void bar_access(struct bochs_ctx *b, uint64_t off, void *data, uint32_t len, bool wr)
{
	uint64_t base = pci_dev_bar_addr(bochs_display_pci(b->d), b->bar);
	bus_access(b->mmio, base + off, data, len, wr);
}
static void bar_read(void *o, uint64_t off, void *d, uint32_t len) { bar_access(o, off, d, len, false); }
static void bar_write(void *o, uint64_t off, const void *d, uint32_t len) { bar_access(o, off, (void *)d, len, true); }
static const struct bus_ops bar_ops = { bar_read, bar_write };

static void ev_bochs(void *o, unsigned arg)
{
	struct bochs_ctx *b = o;
	struct bochs_mode m;
	uint32_t vsz;
	uint8_t *vram = bochs_display_vram(b->d, &vsz);
	bochs_display_get_mode(b->d, &m);
	if (m.enabled) {
		/* what the UI would scan out must lie inside VRAM */
		uint32_t bpp_bytes = (m.bpp + 7) / 8;
		if (m.width == 0 || m.height == 0 || m.offset > vsz ||
		    m.offset + (uint64_t)m.stride * (m.height - 1) + (uint64_t)m.width * bpp_bytes > vsz)
			abort();
		(void)*(volatile uint8_t *)(vram + m.offset);
	}
	if (arg == 0xffff)
		bochs_display_set_mode(b->d, 640, 480);
}

static void run_fw_cfg(const struct guest_mem *mem, const uint8_t *s, size_t L)
{
	struct fw_cfg *fc = fw_cfg_create(mem);
	static const uint8_t blob[300] = { 1, 2, 3 };
	if (!fc)
		abort();
	fw_cfg_add_u64(fc, FW_CFG_RAM_SIZE, RAM_SIZE);
	fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 2);
	fw_cfg_add_file(fc, "etc/empty", NULL, 0);
	fw_cfg_add_file(fc, "etc/blob", blob, sizeof(blob));
	fw_cfg_add_file(fc, "bootorder", "/pci@i0cf8/\n", 12);
	const struct fio_region r[2] = {
		{ &fw_cfg_io_ops, fc, PORT_FW_CFG_LEN, 4 },
		{ &fw_cfg_dma_ops, fc, PORT_FW_CFG_DMA_LEN, 4 },
	};
	fio_run(r, 2, NULL, NULL, s, L);
	fw_cfg_destroy(fc);
}

static void run_ide(const uint8_t *s, size_t L)
{
	struct fio_irq_state st = { 0 };
	struct irq_line i14 = { fio_irq_set, &st, 14 }, i15 = { fio_irq_set, &st, 15 };
	struct ide *ide = ide_create(&i14, &i15);
	if (!ide || ide_attach(ide, 0, 0, img_rw, IMG_SIZE, false) ||
	    ide_attach(ide, 1, 0, img_ro, IMG_SIZE, true))
		abort();
	const struct fio_region r[4] = {
		{ &ide_cmd_ops[0], ide, IDE_CMD_LEN, 4 },
		{ &ide_ctl_ops[0], ide, IDE_CTL_LEN, 4 },
		{ &ide_cmd_ops[1], ide, IDE_CMD_LEN, 4 },
		{ &ide_ctl_ops[1], ide, IDE_CTL_LEN, 4 },
	};
	fio_run(r, 4, NULL, NULL, s, L);
	ide_destroy(ide);
	static uint8_t now[IMG_SIZE];
	if (fsize(img_rw) != IMG_SIZE || fsize(img_ro) != IMG_SIZE ||
	    pread(img_ro, now, IMG_SIZE, 0) != IMG_SIZE || memcmp(now, ro_content, IMG_SIZE))
		abort();
}

static void run_bochs(const uint8_t *s, size_t L)
{
	struct pci_bus pb;
	struct bus pio, mmio;
	struct vmctl no_ctl = { 0 };
	struct bochs_display *d;

	if (pci_bus_init(&pb, &no_ctl))
		abort();
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	pci_bus_attach(&pb, &pio, &mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END, NULL);
	d = bochs_display_create(1u << 20, 640, 480, NULL);
	if (!d || bochs_display_add(d, &pb, 2))
		abort();
	struct bochs_ctx mm = { d, &mmio, 2 }, vr = { d, &mmio, 0 };
	const struct fio_region r[3] = {
		{ &pci_cfg_ops, &pb, 8, 4 },
		{ &bar_ops, &mm, BOCHS_MMIO_SIZE, 8 },
		{ &bar_ops, &vr, 0x10000, 8 },
	};
	fio_run(r, 3, ev_bochs, &mm, s, L);
	ev_bochs(&mm, 0);
	bochs_display_destroy(d);
	pci_bus_destroy(&pb);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { .nr = 1, .ram_size = RAM_SIZE };

	if (size < 3)
		return 0;
	uint8_t sel = data[0];
	size_t L = data[1] | data[2] << 8;
	data += 3;
	size -= 3;
	if (L > size)
		L = size;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + L, size - L < RAM_SIZE ? size - L : RAM_SIZE);
	mem.r[0] = (struct gmem_region){ 0, RAM_SIZE, ram };
	switch (sel % 3) {
	case 0: run_fw_cfg(&mem, data, L); break;
	case 1: run_ide(data, L); break;
	case 2: run_bochs(data, L); break;
	}
	return 0;
}
