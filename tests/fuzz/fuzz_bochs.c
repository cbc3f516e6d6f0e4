/* libFuzzer: bochs-display with its VRAM in malloc'd memory of exactly the
 * VRAM size, so AddressSanitizer reports any byte the device touches past
 * it (finding 1: the clear on enable wrote stride * height bytes from the
 * frame offset). PCI config (0xCF8) plus the MMIO BAR (DISPI, VGA ports,
 * QEMU extension registers) and the VRAM BAR, at wherever the guest moved
 * them.
 *
 * Invariants: around every write that reaches DISPI_ENABLE the harness
 * snapshots VRAM, and afterwards every byte that changed must lie inside the
 * visible frame [offset, offset + size) the device now reports (or be the
 * bytes of that very access, should the guest have overlapped the BARs):
 * the clear never spills into the rest of VRAM. An enabled mode always
 * lies inside VRAM and its size is stride * (height - 1) + width * bytes per
 * pixel, stride >= width * bytes per pixel.
 *
 * Input: fuzz_io.h access stream; regions 0 the config ports, 1 the MMIO
 * BAR, 2 the VRAM BAR; event: check the mode, 0xffff: the firmware's
 * set_mode(640x480). seeds/bochs/ has the audit's extent attack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bochs_display.h"
#include "fuzz_io.h"
#include "host/log.h"
#include "machine/pc_map.h"

#define VRAM_SIZE (1u << 20)

static uint8_t *vram, *snap;

struct bctx {
	struct bochs_display *d;
	struct bus *mmio;
	unsigned bar;
};

static void check_mode(struct bochs_display *d, struct bochs_mode *out)
{
	struct bochs_mode m;
	bochs_display_get_mode(d, &m);
	if (m.enabled) {
		uint32_t bpp = (m.bpp + 7) / 8;
		if (m.width == 0 || m.height == 0 || m.offset > VRAM_SIZE ||
		    m.size > VRAM_SIZE - m.offset || m.stride < (uint64_t)m.width * bpp ||
		    m.size != (uint64_t)m.stride * (m.height - 1) + (uint64_t)m.width * bpp)
			abort();
		(void)*(volatile uint8_t *)(vram + m.offset + m.size - 1);
	}
	if (out)
		*out = m;
}

static void bar_access(struct bctx *b, uint64_t off, void *data, uint32_t len, bool wr)
{
	uint64_t base = pci_dev_bar_addr(bochs_display_pci(b->d), b->bar);
	bool enable = wr && b->bar == 2 && off <= BOCHS_DISPI_OFF + 2 * DISPI_ENABLE &&
		      off + len > BOCHS_DISPI_OFF + 2 * DISPI_ENABLE;
	if (!enable) {
		bus_access(b->mmio, base + off, data, len, wr);
		return;
	}
	memcpy(snap, vram, VRAM_SIZE);
	bus_access(b->mmio, base + off, data, len, wr);
	struct bochs_mode m;
	check_mode(b->d, &m);
	uint64_t fb = pci_dev_bar_addr(bochs_display_pci(b->d), 0);
	uint64_t acc = base + off - fb;   /* the access inside VRAM, if BARs overlap */
	for (uint64_t i = 0; i < VRAM_SIZE; i += 4096) {
		if (!memcmp(vram + i, snap + i, 4096))
			continue;
		for (uint64_t j = i; j < i + 4096; j++) {
			if (vram[j] == snap[j])
				continue;
			if (m.enabled && j >= m.offset && j < m.offset + m.size)
				continue;
			if (base + off >= fb && j >= acc && j < acc + len)
				continue;
			fprintf(stderr, "fuzz_bochs: VRAM byte 0x%llx changed outside the frame "
				"(enabled %d offset 0x%llx size 0x%llx)\n", (unsigned long long)j,
				m.enabled, (unsigned long long)m.offset, (unsigned long long)m.size);
			abort();
		}
	}
}
static void bar_read(void *o, uint64_t off, void *d, uint32_t len) { bar_access(o, off, d, len, false); }
static void bar_write(void *o, uint64_t off, const void *d, uint32_t len) { bar_access(o, off, (void *)d, len, true); }
static const struct bus_ops bar_ops = { bar_read, bar_write };

static void ev(void *o, unsigned arg)
{
	struct bctx *b = o;
	check_mode(b->d, NULL);
	if (arg == 0xffff) {
		bochs_display_set_mode(b->d, 640, 480);
		check_mode(b->d, NULL);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	vram = malloc(VRAM_SIZE);
	snap = malloc(VRAM_SIZE);
	return vram && snap ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_bus pb;
	struct bus pio, mmio;
	struct vmctl no_ctl = { 0 };
	struct bochs_display *d;

	memset(vram, 0x5a, VRAM_SIZE);
	if (pci_bus_init(&pb, &no_ctl))
		abort();
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	pci_bus_attach(&pb, &pio, &mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END, NULL);
	d = bochs_display_create_on(vram, VRAM_SIZE, 640, 480, NULL);
	if (!d || bochs_display_add(d, &pb, 2))
		abort();
	struct bctx mm = { d, &mmio, 2 }, vr = { d, &mmio, 0 };
	const struct fio_region r[3] = {
		{ &pci_cfg_ops, &pb, 8, 4 },
		{ &bar_ops, &mm, BOCHS_MMIO_SIZE, 8 },
		{ &bar_ops, &vr, 0x10000, 8 },
	};
	fio_run(r, 3, ev, &mm, data, size);
	check_mode(d, NULL);
	bochs_display_destroy(d);
	pci_bus_destroy(&pb);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	return 0;
}
