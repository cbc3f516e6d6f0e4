/* libFuzzer: PCI configuration mechanism #1 (pci_cfg_ops at 0xCF8) with a
 * virtio-pci function in slot 1, transport in test mode (vm_fd -1, no event
 * loop, a fake MSI sink). Byte 0 picks the device (mod 4): virtio-rng,
 * virtio-console, virtio-blk (a 64 KiB raw image file; bit 2 of byte 0:
 * cache=none, so unaligned buffers take the bounce path) or virtio-net (a
 * fake backend that counts frames). This drives config space (BAR sizing and
 * moves, command register, MSI-X capability), the virtio common config state
 * machine (feature negotiation, queue setup, resets while requests are in
 * flight), ISR, device config, notify and the MSI-X table/PBA, and queue
 * processing over hostile rings.
 *
 * Input: byte 0 device, bytes 1-2 length L of the access stream (fuzz_io.h)
 * that follows; the rest is the first 64 KiB of guest RAM (at GPA 0, the
 * rest of the 1 MiB RAM is zero). Regions: 0 the 8 config ports, 1 the MMIO
 * bus from the start of the PCI window (BARs wherever the guest moved them),
 * 2 BAR0 and 3 the MSI-X BAR directly (even when not decoded). Event arg
 * (16 bits): low byte advances the fake clock (ms); high byte bit 7 clear:
 * a kick of queue (high & 7) as the I/O thread would run it; set: a host
 * event for the device (blk: reap completions; net: a received frame of
 * (arg & 0x7ff) bytes, then a poll; console: input).
 *
 * Invariants: the blk image keeps its size; a net frame handed to the
 * backend is 14..65550 bytes; the transport never fires an MSI-X vector it
 * does not have. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio_pci.h"
#include "fuzz_io.h"
#include "host/disk_format.h"
#include "host/log.h"
#include "machine/pc_map.h"

#define RAM_SIZE (1u << 20)

struct ctx {
	struct pci_bus pb;
	struct bus pio, mmio;
	struct virtio_pci *vp;
	struct fio_irq_state irq;
	unsigned long fired, routed, out, frames;
	uint64_t now;
	unsigned kind;
	struct virtio_dev *vd;
};

enum { DEV_RNG, DEV_CONSOLE, DEV_BLK, DEV_NET };
#define IMG_SIZE (64u << 10)
/* Two images and two virtio-blk devices (writeback, cache=none), made once:
 * io_destroy() waits for an RCU grace period (~25 ms), too slow per input.
 * Between inputs a device is reset as the driver's status 0 would. */
static char img_path[2][64];
static struct virtio_dev *blk_dev[2];

static void net_send(void *o, const uint8_t *frame, size_t len)
{
	struct ctx *c = o;
	if (len < NET_MIN_FRAME || len > NET_MAX_FRAME)
		abort();
	for (size_t i = 0; i < len; i++)
		(void)((const volatile uint8_t *)frame)[i];
	c->frames++;
}

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
	static uint8_t frame[2048];

	c->now += (uint64_t)(arg & 0xff) * 1000000ull;
	if (!(arg & 0x8000)) {
		virtio_pci_queue_kick(c->vp, (arg >> 8) & 7);
		return;
	}
	switch (c->kind) {
	case DEV_BLK:
		virtio_blk_poll(c->vd);
		break;
	case DEV_NET:
		memset(frame, (int)(arg >> 3), sizeof(frame));
		(void)virtio_net_receive(c->vd, frame, arg & 0x7ff);
		virtio_net_poll(c->vd);
		break;
	case DEV_CONSOLE:
		virtio_console_input(c->vd, frame, arg & 0xf);
		break;
	}
}

static uint8_t *ram;

static void remove_image(void)
{
	unlink(img_path[0]);
	unlink(img_path[1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static uint8_t pattern[IMG_SIZE];
	char err[256];

	log_set_level(LOG_ERR);
	ram = malloc(RAM_SIZE);
	if (!ram)
		return -1;
	for (unsigned i = 0; i < IMG_SIZE; i++)
		pattern[i] = (uint8_t)(i * 5);
	for (unsigned k = 0; k < 2; k++) {
		struct blk_params dc = { .path = img_path[k], .format = DISK_FMT_RAW, .direct = k };
		strcpy(img_path[k], "/tmp/myvmm-fuzz-vpblk-XXXXXX");
		int fd = mkstemp(img_path[k]);
		if (fd < 0 || pwrite(fd, pattern, IMG_SIZE, 0) != IMG_SIZE)
			return -1;
		close(fd);
		if (virtio_blk_create(&dc, NULL, &blk_dev[k], err)) {
			fprintf(stderr, "fuzz_virtio_pci: %s\n", err);
			return -1;
		}
	}
	atexit(remove_image);
	return 0;
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
	struct net_backend nb = { net_send, &c };
	unsigned kind, which = 0;

	if (size < 3)
		return 0;
	kind = data[0] % 4;
	which = (data[0] >> 2) & 1;
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
	c.kind = kind;
	switch (kind) {
	case DEV_CONSOLE:
		if (virtio_console_create(&out, &vd))
			abort();
		break;
	case DEV_RNG:
		if (virtio_rng_create(NULL, &vd))
			abort();
		virtio_rng_set_clock(vd, fake_clock, &c);
		break;
	case DEV_BLK:
		vd = blk_dev[which];
		break;
	case DEV_NET: {
		static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
		if (virtio_net_create(mac, NULL, &vd))
			abort();
		virtio_net_set_backend(vd, &nb);
		break;
	}
	}
	c.vd = vd;
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
	if (kind == DEV_CONSOLE) {
		uint8_t in[16] = "hello";
		virtio_console_input(vd, in, sizeof(in));
	}

	if (kind == DEV_BLK) {
		/* the driver's reset (device_status 0) drains in-flight I/O and
		 * leaves the device as new for the next input */
		uint8_t zero = 0;
		virtio_pci_bar0_ops.write(c.vp, VP_COMMON_OFF + 0x14, &zero, 1);
	}
	virtio_pci_destroy(c.vp);
	if (kind == DEV_BLK) {
		struct stat st;
		if (stat(img_path[which], &st) || st.st_size != IMG_SIZE)
			abort(); /* the guest grew or shrank the image */
	} else {
		virtio_dev_destroy(vd);
	}
	pci_bus_destroy(&c.pb);
	bus_destroy(&c.pio);
	bus_destroy(&c.mmio);
	return 0;
}
