/* libFuzzer: PCI configuration mechanism #1 (pci_cfg_ops at 0xCF8) with a
 * virtio-pci function in slot 1 (virtio-rng, or virtio-console when byte 0
 * is odd), transport in test mode (vm_fd -1, no event loop, a fake MSI sink).
 * This drives config space (BAR sizing and moves, command register, MSI-X
 * capability), the virtio common config state machine, ISR, device config,
 * notify and the MSI-X table/PBA, and queue processing over hostile rings.
 *
 * Input: byte 0 device, bytes 1-2 length L of the access stream (fuzz_io.h)
 * that follows; the rest is the first 64 KiB of guest RAM (at GPA 0, the
 * rest of the 1 MiB RAM is zero). Regions: 0 the 8 config ports, 1 the MMIO
 * bus from the start of the PCI window (BARs wherever the guest moved them),
 * 2 BAR0 and 3 the MSI-X BAR directly (even when not decoded). Event: a
 * queue kick as the I/O thread would run it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/console.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio_pci.h"
#include "fuzz_io.h"
#include "host/log.h"
#include "machine/pc_map.h"

#define RAM_SIZE (1u << 20)

struct ctx {
	struct pci_bus pb;
	struct bus pio, mmio;
	struct virtio_pci *vp;
	struct fio_irq_state irq;
	unsigned long fired, routed, out;
	uint64_t now;
};

static int sink_route(void *o, unsigned v, uint64_t a, uint32_t d)
{
	struct ctx *c = o;
	if (v >= MSIX_MAX_VECTORS)
		abort();
	c->routed++;
	return 0;
}
static void sink_fire(void *o, unsigned v)
{
	struct ctx *c = o;
	if (v >= MSIX_MAX_VECTORS)
		abort();
	c->fired++;
}
static const struct msi_sink_ops sink_ops = { sink_route, sink_fire };
static uint64_t fake_clock(void *o) { return ((struct ctx *)o)->now; }
static void out_write(void *o, const void *b, unsigned long n)
{
	const volatile uint8_t *p = b;
	for (unsigned long i = 0; i < n; i++)
		(void)p[i];
	((struct ctx *)o)->out += n;
}

/* Region 1: the MMIO bus seen from LAYOUT_PCI_MMIO_START. */
static void win_read(void *o, uint64_t off, void *d, uint32_t len)
{
	struct ctx *c = o;
	bus_access(&c->mmio, LAYOUT_PCI_MMIO_START + off, d, len, false);
}
static void win_write(void *o, uint64_t off, const void *d, uint32_t len)
{
	struct ctx *c = o;
	bus_access(&c->mmio, LAYOUT_PCI_MMIO_START + off, (void *)d, len, true);
}
static const struct bus_ops win_ops = { win_read, win_write };

static void ev_kick(void *o, unsigned arg)
{
	struct ctx *c = o;
	c->now += (uint64_t)(arg & 0xff) * 1000000ull;
	virtio_pci_queue_kick(c->vp, arg >> 8);
}

static uint8_t *ram;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	ram = malloc(RAM_SIZE);
	return ram ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx c;
	struct guest_mem mem = { .nr = 1, .ram_size = RAM_SIZE };
	struct vmctl no_ctl = { 0 };
	struct irq_line intx = { fio_irq_set, &c.irq, 0 };
	struct char_sink out = { out_write, &c };
	struct msi_sink sink = { &sink_ops, &c };
	struct virtio_dev *vd = NULL;
	bool is_con;

	if (size < 3)
		return 0;
	is_con = data[0] & 1;
	size_t L = data[1] | data[2] << 8;
	data += 3;
	size -= 3;
	if (L > size)
		L = size;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + L, size - L < 65536 ? size - L : 65536);
	mem.r[0] = (struct gmem_region){ 0, RAM_SIZE, ram };

	memset(&c, 0, sizeof(c));
	c.now = 1000000000ull;
	if (pci_bus_init(&c.pb, &no_ctl))
		abort();
	bus_init(&c.pio, "pio");
	bus_init(&c.mmio, "mmio");
	pci_bus_attach(&c.pb, &c.pio, &c.mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END, &intx);
	if (is_con) {
		if (virtio_console_create(&out, &vd))
			abort();
	} else {
		if (virtio_rng_create(NULL, &vd))
			abort();
		virtio_rng_set_clock(vd, fake_clock, &c);
	}
	struct virtio_pci_params p = { .bus = &c.pb, .slot = 1, .mem = &mem, .vm_fd = -1,
				       .msi = &sink };
	if (virtio_pci_create(vd, &p, &c.vp))
		abort();

	const struct fio_region r[4] = {
		{ &pci_cfg_ops, &c.pb, 8, 4 },
		{ &win_ops, &c, 0x10000, 8 },
		{ &virtio_pci_bar0_ops, c.vp, VP_BAR_CFG_SIZE, 8 },
		{ &virtio_pci_msix_ops, c.vp, VP_BAR_MSIX_SIZE, 8 },
	};
	fio_run(r, 4, ev_kick, &c, data, L);
	if (is_con) {
		uint8_t in[16] = "hello";
		virtio_console_input(vd, in, sizeof(in));
	}

	virtio_pci_destroy(c.vp);
	if (is_con)
		virtio_console_destroy(vd);
	else
		virtio_rng_destroy(vd);
	pci_bus_destroy(&c.pb);
	bus_destroy(&c.pio);
	bus_destroy(&c.mmio);
	return 0;
}
