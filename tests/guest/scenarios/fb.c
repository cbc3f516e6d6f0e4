/* Display scenarios: the bochs-display (PCI 1234:1111) framebuffer and the
 * PS/2 keyboard and mouse, polled.
 *   fb       set 1024x768x32 through DISPI, draw 8 colour bars (top half) and
 *            the caption MYVMM TEST PATTERN in white on grey (bottom half); `TK: fb 1024x768
 *            drawn`; with tk.hold=<s> wait that long, then PASS.
 *   input    fb, then enable the aux port and mouse streaming and print
 *            `TK: kbd <hex>` per keyboard byte (set 1: translation on) and
 *            `TK: mouse <b0> <b1> <b2>` per packet; PASS on 'q' (0x10);
 *            FAIL after tk.timeout=<s> (default 60).
 *   fb-anim  tk.region=full|small|none: redraw the whole screen, a 64x64
 *            square, or nothing, forever; `TK: anim <region> <n>/s` each
 *            second (n = frames, or loop iterations for none). */
#include "tk.h"

#define FB_W 1024
#define FB_H 768
#define DISPI 0x500

static const uint32_t bars[8] = {
	0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
};

static uint32_t mmio_base;

static void dispi_w(unsigned idx, uint16_t v)
{
	mmio_write16(mmio_base + DISPI + 2 * idx, v);
}

static uint16_t dispi_r(unsigned idx)
{
	return mmio_read16(mmio_base + DISPI + 2 * idx);
}

static void fill(uint32_t *p, uint32_t v, uint32_t n)
{
	__asm__ volatile("cld; rep stosl" : "+D"(p), "+c"(n) : "a"(v) : "memory");
}

/* Finds the device and sets the mode; returns the framebuffer or NULL. */
static uint32_t *fb_setup(void)
{
	struct pci_dev *d = pci_find(0x1234, 0x1111, 0);
	if (!d) {
		kprintf("TK: fb no 1234:1111 device\n");
		return NULL;
	}
	if (!d->bar[0] || !d->bar[2] || d->bar_io[0] || d->bar_io[2]) {
		kprintf("TK: fb BARs missing\n");
		return NULL;
	}
	mmio_base = (uint32_t)d->bar[2];
	uint16_t id = dispi_r(0);
	if ((id & 0xfff0) != 0xb0c0) {
		kprintf("TK: fb bad DISPI id %x\n", id);
		return NULL;
	}
	kprintf("TK: fb id %x vram %u KiB bar0 0x%x\n", id, (unsigned)dispi_r(10) * 64,
		(uint32_t)d->bar[0]);
	dispi_w(4, 0);                 /* ENABLE off */
	dispi_w(3, 32);
	dispi_w(1, FB_W);
	dispi_w(2, FB_H);
	dispi_w(6, FB_W);
	dispi_w(8, 0);
	dispi_w(9, 0);
	dispi_w(4, 0x41 | 0x80);       /* enabled, LFB, no clear */
	if (!(dispi_r(4) & 1)) {
		kprintf("TK: fb mode refused\n");
		return NULL;
	}
	return phys(d->bar[0]);
}

/* A 5x7 font for the caption: one byte per row, bit 4 = leftmost column. */
static const struct glyph {
	char c;
	uint8_t row[7];
} font[] = {
	{ 'A', { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
	{ 'E', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f } },
	{ 'M', { 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 } },
	{ 'N', { 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11 } },
	{ 'P', { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 } },
	{ 'R', { 0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11 } },
	{ 'S', { 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e } },
	{ 'T', { 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
	{ 'V', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04 } },
	{ 'Y', { 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04 } },
};

/* Draws text in white, each font pixel as a scale x scale square. */
static void draw_text(uint32_t *fb, int x, int y, const char *t, int scale)
{
	for (; *t; t++, x += 6 * scale) {
		const struct glyph *g = NULL;
		for (unsigned i = 0; i < sizeof(font) / sizeof(font[0]); i++)
			if (font[i].c == *t)
				g = &font[i];
		if (!g)
			continue; /* space */
		for (int r = 0; r < 7 * scale; r++)
			for (int c = 0; c < 5; c++)
				if (g->row[r / scale] & (0x10 >> c))
					fill(fb + (y + r) * FB_W + x + c * scale, 0xffffff, (uint32_t)scale);
	}
}

static void fb_draw(uint32_t *fb)
{
	for (int y = 0; y < FB_H / 2; y++)
		for (int b = 0; b < 8; b++)
			fill(fb + y * FB_W + b * (FB_W / 8), bars[b], FB_W / 8);
	fill(fb + (FB_H / 2) * FB_W, 0x404040, (FB_H / 2) * FB_W);
	/* 18 characters x 24 px, centred, rows 560-587 (clear of the test's
	 * grey sample at y = 672). */
	draw_text(fb, (FB_W - 18 * 24) / 2, 560, "MYVMM TEST PATTERN", 4);
}

static uint32_t arg_u32(const struct bootinfo *bi, const char *key, uint32_t dflt)
{
	char buf[16];
	return cmdline_get(bi->cmdline, key, buf, sizeof(buf)) ? parse_u32(buf) : dflt;
}

static int draw_all(void)
{
	uint32_t *fb = fb_setup();
	if (!fb)
		return -1;
	fb_draw(fb);
	kprintf("TK: fb %ux%u drawn\n", FB_W, FB_H);
	return 0;
}

int scen_fb(const struct bootinfo *bi, const struct acpi_info *ai)
{
	if (draw_all())
		return -1;
	uint32_t hold = arg_u32(bi, "tk.hold", 0);
	if (hold)
		delay_ms(hold * 1000);
	return 0;
}

static bool wait_out(void)
{
	for (int i = 0; i < 100000; i++)
		if (!(inb(0x64) & 2))
			return true;
	return false;
}

int scen_input(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct deadline dl;
	uint8_t pkt[3];
	int np = 0;
	bool acked = false;

	if (draw_all())
		return -1;
	while (inb(0x64) & 1)          /* drop anything stale */
		(void)inb(0x60);
	wait_out();
	outb(0x64, 0xa8);              /* enable the aux port */
	wait_out();
	outb(0x64, 0xd4);              /* next data byte to the mouse */
	wait_out();
	outb(0x60, 0xf4);              /* enable streaming */
	deadline_start(&dl, arg_u32(bi, "tk.timeout", 60) * 1000);
	kprintf("TK: input ready\n");
	while (!deadline_passed(&dl)) {
		uint8_t st = inb(0x64);
		if (!(st & 1))
			continue;
		uint8_t v = inb(0x60);
		if (!(st & 0x20)) {
			kprintf("TK: kbd %02x\n", v);
			if (v == 0x10)
				return 0;
			continue;
		}
		if (!acked && v == 0xfa) { /* the mouse's ACK of 0xF4 */
			acked = true;
			kprintf("TK: mouse ack\n");
			continue;
		}
		if (np == 0 && !(v & 0x08)) /* first byte always has bit 3 set */
			continue;
		pkt[np++] = v;
		if (np == 3) {
			kprintf("TK: mouse %02x %02x %02x\n", pkt[0], pkt[1], pkt[2]);
			np = 0;
		}
	}
	kprintf("TK: input timeout\n");
	return -1;
}

int scen_fb_anim(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char region[8] = "full";
	uint32_t *fb = NULL;
	uint32_t n = 0, c = 0x102030;
	struct deadline dl;

	cmdline_get(bi->cmdline, "tk.region", region, sizeof(region));
	bool none = !kstrncmp(region, "none", 5), small = !kstrncmp(region, "small", 6);
	if (!none && !(fb = fb_setup()))
		return -1;
	if (fb)
		fill(fb, 0, FB_W * FB_H);
	kprintf("TK: anim %s start\n", region);
	deadline_start(&dl, 1000);
	for (;;) {
		if (none) {
			for (volatile int i = 0; i < 100; i++)
				;
		} else if (small) {
			for (int y = 0; y < 64; y++)
				fill(fb + (352 + y) * FB_W + 480, c, 64);
		} else {
			fill(fb, c, FB_W * FB_H);
		}
		c = (c + 0x010305) & 0xffffff;
		n++;
		if ((none && (n & 63)) || !deadline_passed(&dl))
			continue;
		kprintf("TK: anim %s %u/s\n", region, n);
		n = 0;
		deadline_start(&dl, 1000);
	}
}
