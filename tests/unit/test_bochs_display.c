/* bochs-display: PCI identity and BARs, DISPI registers, VRAM memslot hook,
 * screen_info and the dirty-page -> row-span conversion. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "devices/bochs_display.h"
#include "devices/pci.h"
#include "ui/display.h"

#define SLOT 5

struct fx {
	struct pci_bus b;
	struct bus pio, mmio;
	struct bochs_display *d;
	int maps, unmaps;
	uint64_t last_gpa;
	bool live;
};

static int fake_map(void *opaque, uint64_t gpa, uint8_t *hva, uint64_t size, bool mapped)
{
	struct fx *f = opaque;
	ck_assert_uint_eq(size, BOCHS_VRAM_DEFAULT);
	ck_assert_ptr_nonnull(hva);
	if (mapped)
		f->maps++;
	else
		f->unmaps++;
	f->last_gpa = gpa;
	f->live = mapped;
	return 0;
}

static void setup(struct fx *f)
{
	static struct vmctl ctl;
	memset(f, 0, sizeof(*f));
	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	pci_bus_init(&f->b, &ctl);
	pci_bus_attach(&f->b, &f->pio, &f->mmio, 0xc0000000, 0xe0000000, NULL);
	struct bochs_map_hook h = { .map = fake_map, .opaque = f };
	f->d = bochs_display_create(BOCHS_VRAM_DEFAULT, 1024, 768, &h);
	ck_assert_ptr_nonnull(f->d);
	ck_assert_int_eq(bochs_display_add(f->d, &f->b, SLOT), 0);
}

static void teardown(struct fx *f)
{
	bochs_display_destroy(f->d);
	pci_bus_destroy(&f->b);
	bus_destroy(&f->mmio);
	bus_destroy(&f->pio);
}

static uint32_t cfg_rd(struct fx *f, unsigned off, unsigned len)
{
	return pci_bus_cfg_read(&f->b, SLOT << 3, off, len);
}

static void cfg_wr(struct fx *f, unsigned off, unsigned len, uint32_t v)
{
	pci_bus_cfg_write(&f->b, SLOT << 3, off, len, v);
}

static uint64_t mmio_base(struct fx *f)
{
	return cfg_rd(f, PCI_BAR0 + 8, 4) & ~0xfu;
}

static uint32_t rd(struct fx *f, uint64_t off, uint32_t len)
{
	uint8_t b[4] = { 0 };
	ck_assert_int_eq(bus_access(&f->mmio, mmio_base(f) + off, b, len, false), 0);
	return (uint32_t)bus_get_le(b, len);
}

static void wr(struct fx *f, uint64_t off, uint32_t len, uint32_t v)
{
	uint8_t b[4];
	bus_put_le(b, len, v);
	ck_assert_int_eq(bus_access(&f->mmio, mmio_base(f) + off, b, len, true), 0);
}

static uint16_t dispi(struct fx *f, unsigned idx) { return (uint16_t)rd(f, BOCHS_DISPI_OFF + 2 * idx, 2); }
static void dispi_w(struct fx *f, unsigned idx, uint16_t v) { wr(f, BOCHS_DISPI_OFF + 2 * idx, 2, v); }

static void set_mode(struct fx *f, uint16_t w, uint16_t h, uint16_t bpp, uint16_t flags)
{
	dispi_w(f, DISPI_ENABLE, 0);
	dispi_w(f, DISPI_BPP, bpp);
	dispi_w(f, DISPI_XRES, w);
	dispi_w(f, DISPI_YRES, h);
	dispi_w(f, DISPI_VIRT_WIDTH, w);
	dispi_w(f, DISPI_X_OFFSET, 0);
	dispi_w(f, DISPI_Y_OFFSET, 0);
	dispi_w(f, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED | flags);
}

START_TEST(pci_identity)
{
	struct fx f;
	setup(&f);
	ck_assert_uint_eq(cfg_rd(&f, PCI_VENDOR_ID, 2), 0x1234);
	ck_assert_uint_eq(cfg_rd(&f, PCI_DEVICE_ID, 2), 0x1111);
	ck_assert_uint_eq(cfg_rd(&f, PCI_CLASS_PROG, 4) >> 8 & 0xffffff, 0x038000 >> 8 << 8 >> 8);
	ck_assert_uint_eq(cfg_rd(&f, 0x0a, 2), 0x0380);
	/* BAR0: prefetchable 32-bit memory, 16 MiB, mapped as a memslot. */
	uint32_t bar0 = cfg_rd(&f, PCI_BAR0, 4);
	ck_assert_uint_eq(bar0 & 0xf, 0x8);
	ck_assert_int_eq(f.maps, 1);
	ck_assert_uint_eq(f.last_gpa, bar0 & ~0xfu);
	ck_assert_uint_eq(bochs_display_fb_gpa(f.d), bar0 & ~0xfu);
	cfg_wr(&f, PCI_BAR0, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_rd(&f, PCI_BAR0, 4), 0xff000008u);
	ck_assert(!f.live);
	ck_assert_uint_eq(bochs_display_fb_gpa(f.d), 0);
	/* the guest moves BAR0: a new memslot at the new address */
	cfg_wr(&f, PCI_BAR0, 4, 0xd0000000);
	ck_assert(f.live);
	ck_assert_uint_eq(f.last_gpa, 0xd0000000);
	ck_assert_int_eq(f.maps, 2);
	/* BAR2: 4 KiB */
	uint32_t bar2 = cfg_rd(&f, PCI_BAR0 + 8, 4);
	cfg_wr(&f, PCI_BAR0 + 8, 4, 0xffffffff);
	ck_assert_uint_eq(cfg_rd(&f, PCI_BAR0 + 8, 4), 0xfffff000u);
	cfg_wr(&f, PCI_BAR0 + 8, 4, bar2);
	teardown(&f);
	ck_assert(!f.live);
}
END_TEST

START_TEST(dispi_id_and_qext)
{
	struct fx f;
	setup(&f);
	ck_assert_uint_eq(dispi(&f, DISPI_ID), 0xb0c5);
	dispi_w(&f, DISPI_ID, 0xb0c0);
	ck_assert_uint_eq(dispi(&f, DISPI_ID), 0xb0c0);
	dispi_w(&f, DISPI_ID, 0x1234);
	ck_assert_uint_eq(dispi(&f, DISPI_ID), 0xb0c0);
	ck_assert_uint_eq(dispi(&f, DISPI_VIDEO_MEMORY_64K), 256);
	dispi_w(&f, DISPI_VIDEO_MEMORY_64K, 1);
	ck_assert_uint_eq(dispi(&f, DISPI_VIDEO_MEMORY_64K), 256);
	ck_assert_uint_eq(rd(&f, BOCHS_QEXT_OFF, 4), 8);
	ck_assert_uint_eq(rd(&f, BOCHS_QEXT_OFF + 4, 4), 0x1e1e1e1e);
	wr(&f, BOCHS_QEXT_OFF + 4, 4, 0xbebebebe);
	ck_assert_uint_eq(rd(&f, BOCHS_QEXT_OFF + 4, 4), 0x1e1e1e1e);
	ck_assert_uint_eq(rd(&f, 0, 4), 0); /* no EDID */
	/* GETCAPS: resolution/depth registers read the maxima */
	dispi_w(&f, DISPI_ENABLE, DISPI_GETCAPS);
	ck_assert_uint_eq(dispi(&f, DISPI_XRES), DISPI_MAX_XRES);
	ck_assert_uint_eq(dispi(&f, DISPI_BPP), 32);
	/* out-of-range register indexes and odd offsets are harmless */
	dispi_w(&f, 0x7e, 0xffff);
	ck_assert_uint_eq(rd(&f, BOCHS_DISPI_OFF + 1, 1), 0);
	ck_assert_uint_eq(rd(&f, 0xffc, 4), 0);
	teardown(&f);
}
END_TEST

START_TEST(mode_set)
{
	struct fx f;
	struct bochs_mode m;
	setup(&f);
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	uint8_t *vram = bochs_display_vram(f.d, NULL);
	memset(vram, 0xab, 4096 * 768);
	set_mode(&f, 1024, 768, 32, 0);
	bochs_display_get_mode(f.d, &m);
	ck_assert(m.enabled);
	ck_assert_uint_eq(m.width, 1024);
	ck_assert_uint_eq(m.height, 768);
	ck_assert_uint_eq(m.bpp, 32);
	ck_assert_uint_eq(m.stride, 4096);
	ck_assert_uint_eq(m.offset, 0);
	ck_assert_uint_eq(vram[12345], 0);             /* cleared on enable */
	ck_assert_uint_eq(dispi(&f, DISPI_VIRT_HEIGHT), 4096);
	ck_assert_uint_eq(dispi(&f, DISPI_ENABLE) & DISPI_ENABLED, DISPI_ENABLED);
	/* panning moves the scan-out offset */
	dispi_w(&f, DISPI_Y_OFFSET, 768);
	bochs_display_get_mode(f.d, &m);
	ck_assert_uint_eq(m.offset, 768 * 4096);
	/* NOCLEARMEM keeps VRAM */
	memset(vram, 0x5a, 64);
	set_mode(&f, 800, 600, 32, DISPI_NOCLEARMEM);
	ck_assert_uint_eq(vram[10], 0x5a);
	bochs_display_get_mode(f.d, &m);
	ck_assert_uint_eq(m.stride, 3200);
	uint32_t g = m.generation;
	dispi_w(&f, DISPI_ENABLE, 0);
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	ck_assert_uint_ne(m.generation, g);
	teardown(&f);
}
END_TEST

START_TEST(mode_invalid)
{
	struct fx f;
	struct bochs_mode m;
	setup(&f);
	set_mode(&f, 1024, 768, 7, 0);                 /* bad depth */
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	ck_assert_uint_eq(dispi(&f, DISPI_ENABLE) & DISPI_ENABLED, 0);
	set_mode(&f, 0, 768, 32, 0);                   /* zero width */
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	set_mode(&f, 4096, 4096, 32, 0);               /* 64 MiB > 16 MiB VRAM */
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	set_mode(&f, 20000, 10, 32, 0);                /* beyond DISPI_MAX_XRES */
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	/* an enabled mode panned out of VRAM is switched off */
	set_mode(&f, 1024, 768, 32, 0);
	dispi_w(&f, DISPI_Y_OFFSET, 4000);
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	/* the host-side helper refuses what does not fit */
	ck_assert_int_eq(bochs_display_set_mode(f.d, 4096, 4096), -EINVAL);
	ck_assert_int_eq(bochs_display_set_mode(f.d, 1280, 1024), 0);
	ck_assert_ptr_null(bochs_display_create(3 << 20, 640, 480, NULL)); /* not a power of two */
	teardown(&f);
}
END_TEST

/* Issue 10 finding 1: a 1x63x32 mode with virt_width 65535 panned to
 * (65535, 1) fits in 16 MiB of VRAM by its visible pixels, but the clear on
 * enable wrote stride * height bytes: ~256 KiB of zeros past VRAM. The VRAM
 * sits in one malloc'ed buffer between two guard zones; every byte outside
 * the visible frame's extent must keep its pattern. */
#define GUARD (1u << 20)
/* Index of the first byte of [a, b) that is not v, or b. */
static size_t first_not(const uint8_t *buf, size_t a, size_t b, uint8_t v)
{
	while (a < b && buf[a] == v)
		a++;
	return a;
}

START_TEST(clear_stays_in_vram)
{
	static struct vmctl ctl;
	struct fx f;
	struct bochs_mode m;
	size_t total = GUARD + BOCHS_VRAM_DEFAULT + GUARD;
	uint8_t *buf = malloc(total), *vram = buf + GUARD;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xa5, total);
	memset(&f, 0, sizeof(f));
	bus_init(&f.pio, "pio");
	bus_init(&f.mmio, "mmio");
	pci_bus_init(&f.b, &ctl);
	pci_bus_attach(&f.b, &f.pio, &f.mmio, 0xc0000000, 0xe0000000, NULL);
	f.d = bochs_display_create_on(vram, BOCHS_VRAM_DEFAULT, 1024, 768, NULL);
	ck_assert_ptr_nonnull(f.d);
	ck_assert_ptr_eq(bochs_display_vram(f.d, NULL), vram);
	ck_assert_int_eq(bochs_display_add(f.d, &f.b, SLOT), 0);

	dispi_w(&f, DISPI_ENABLE, 0);
	dispi_w(&f, DISPI_XRES, 1);
	dispi_w(&f, DISPI_YRES, 63);
	dispi_w(&f, DISPI_BPP, 32);
	dispi_w(&f, DISPI_VIRT_WIDTH, 65535);
	dispi_w(&f, DISPI_X_OFFSET, 65535);
	dispi_w(&f, DISPI_Y_OFFSET, 1);
	dispi_w(&f, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);

	bochs_display_get_mode(f.d, &m);
	uint64_t stride = 65535u * 4, off = stride + 65535u * 4, size = stride * 62 + 4;
	ck_assert(m.enabled);                 /* it does fit: 16776964 <= 16 MiB */
	ck_assert_uint_eq(m.stride, stride);
	ck_assert_uint_eq(m.offset, off);
	ck_assert_uint_eq(m.size, size);
	ck_assert_uint_le(m.offset + m.size, BOCHS_VRAM_DEFAULT);
	/* before the frame (guard + VRAM), the frame, after it (VRAM + guard) */
	ck_assert_uint_eq(first_not(buf, 0, GUARD + off, 0xa5), GUARD + off);
	ck_assert_uint_eq(first_not(buf, GUARD + off, GUARD + off + size, 0), GUARD + off + size);
	ck_assert_uint_eq(first_not(buf, GUARD + off + size, total, 0xa5), total);
	/* one byte further does not fit and is refused (nothing written) */
	memset(buf, 0xa5, total);
	dispi_w(&f, DISPI_ENABLE, 0);
	dispi_w(&f, DISPI_YRES, 64);
	dispi_w(&f, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	bochs_display_get_mode(f.d, &m);
	ck_assert(!m.enabled);
	ck_assert_uint_eq(first_not(buf, 0, total, 0xa5), total);
	teardown(&f);
	free(buf);
}
END_TEST

/* The pure extent function the check, the clear, the scan-out and the dirty
 * tracking share. */
START_TEST(frame_extent)
{
	uint16_t r[DISPI_NREGS] = { 0 };
	uint64_t off, size;
	uint32_t stride;
	r[DISPI_XRES] = 1024; r[DISPI_YRES] = 768; r[DISPI_BPP] = 32;
	ck_assert_int_eq(bochs_frame_extent(r, 16u << 20, &off, &size, &stride), 0);
	ck_assert_uint_eq(stride, 4096);       /* virt_width below xres: xres */
	ck_assert_uint_eq(off, 0);
	ck_assert_uint_eq(size, 4096 * 768);
	r[DISPI_BPP] = 24; r[DISPI_VIRT_WIDTH] = 2048; r[DISPI_X_OFFSET] = 3; r[DISPI_Y_OFFSET] = 2;
	ck_assert_int_eq(bochs_frame_extent(r, 16u << 20, &off, &size, &stride), 0);
	ck_assert_uint_eq(stride, 6144);
	ck_assert_uint_eq(off, 2 * 6144 + 9);
	ck_assert_uint_eq(size, 767 * 6144 + 3072);
	ck_assert_int_eq(bochs_frame_extent(r, off + size, &off, &size, &stride), 0);
	ck_assert_int_eq(bochs_frame_extent(r, off + size - 1, &off, &size, &stride), -ERANGE);
	/* every register at its maximum: no wrap-around, refused */
	for (unsigned i = 0; i < DISPI_NREGS; i++)
		r[i] = 0xffff;
	r[DISPI_BPP] = 32;
	ck_assert_int_eq(bochs_frame_extent(r, 256u << 20, &off, &size, &stride), -EINVAL);
	r[DISPI_XRES] = DISPI_MAX_XRES; r[DISPI_YRES] = DISPI_MAX_YRES;
	ck_assert_int_eq(bochs_frame_extent(r, UINT32_MAX, &off, &size, &stride), -ERANGE);
	r[DISPI_BPP] = 7;
	ck_assert_int_eq(bochs_frame_extent(r, UINT32_MAX, &off, &size, &stride), -EINVAL);
}
END_TEST

START_TEST(screen_info)
{
	uint8_t si[0x40];
	screen_info_build(si, 0xc1000000, 1024, 768, 4096, 16 << 20);
	ck_assert_uint_eq(si[0x0f], 0x23);
	ck_assert_uint_eq(si[0x12] | si[0x13] << 8, 1024);
	ck_assert_uint_eq(si[0x14] | si[0x15] << 8, 768);
	ck_assert_uint_eq(si[0x16], 32);
	ck_assert_uint_eq(si[0x18] | si[0x19] << 8 | si[0x1a] << 16 | (uint32_t)si[0x1b] << 24,
			  0xc1000000u);
	ck_assert_uint_eq(si[0x1c] | si[0x1d] << 8, 256);  /* 64 KiB units */
	ck_assert_uint_eq(si[0x24] | si[0x25] << 8, 4096);
	ck_assert_uint_eq(si[0x26], 8); ck_assert_uint_eq(si[0x27], 16);
	ck_assert_uint_eq(si[0x28], 8); ck_assert_uint_eq(si[0x29], 8);
	ck_assert_uint_eq(si[0x2a], 8); ck_assert_uint_eq(si[0x2b], 0);
	ck_assert_uint_eq(si[0x2c], 8); ck_assert_uint_eq(si[0x2d], 24);
	ck_assert_uint_eq(si[0x36], 0);                     /* below 4 GiB */
	screen_info_build(si, 0x800000000ull, 800, 600, 3200, 16 << 20);
	ck_assert_uint_eq(si[0x36], SI_CAP_64BIT_BASE);
	ck_assert_uint_eq(si[0x3a], 0x8);
	ck_assert_uint_eq(si[0x18] | si[0x19] << 8 | si[0x1a] << 16 | (uint32_t)si[0x1b] << 24, 0);
}
END_TEST

START_TEST(dirty_spans)
{
	uint64_t bm[4] = { 0 };
	struct display_span sp[4];
	/* stride 4096: page p is row p */
	bm[0] = 1u << 0 | 1u << 1 | 1u << 5;
	ck_assert_uint_eq(display_dirty_spans(bm, 256, 0, 4096 * 768, 4096, sp, 4), 2);
	ck_assert_uint_eq(sp[0].y0, 0); ck_assert_uint_eq(sp[0].y1, 2);
	ck_assert_uint_eq(sp[1].y0, 5); ck_assert_uint_eq(sp[1].y1, 6);
	/* stride 3200: page 1 = bytes 4096..8191 = rows 1..2 */
	bm[0] = 1u << 1;
	ck_assert_uint_eq(display_dirty_spans(bm, 256, 0, 3200 * 600, 3200, sp, 4), 1);
	ck_assert_uint_eq(sp[0].y0, 1); ck_assert_uint_eq(sp[0].y1, 3);
	/* offset: pages before the frame and after its end are ignored */
	bm[0] = 1u << 0 | 1u << 2;
	bm[3] = 1ull << 63;
	ck_assert_uint_eq(display_dirty_spans(bm, 256, 8192, 4096 * 10, 4096, sp, 4), 1);
	ck_assert_uint_eq(sp[0].y0, 0); ck_assert_uint_eq(sp[0].y1, 1);
	/* more spans than room: one covering span */
	bm[0] = 0x5555; bm[3] = 0;
	ck_assert_uint_eq(display_dirty_spans(bm, 256, 0, 4096 * 768, 4096, sp, 2), 1);
	ck_assert_uint_eq(sp[0].y0, 0); ck_assert_uint_eq(sp[0].y1, 15);
	memset(bm, 0, sizeof(bm));
	ck_assert_uint_eq(display_dirty_spans(bm, 256, 0, 4096 * 768, 4096, sp, 4), 0);
}
END_TEST

CHECK_MAIN("bochs_display", pci_identity, dispi_id_and_qext, mode_set, mode_invalid,
	screen_info, clear_stays_in_vram, frame_extent, dirty_spans)
