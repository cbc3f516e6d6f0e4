/* bochs-display PCI device: DISPI registers in MMIO, VRAM in host memory. */
#include "devices/bochs_display.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "host/log.h"

struct bochs_display {
	struct pci_dev pci;
	pthread_mutex_t lock;
	uint16_t regs[DISPI_NREGS];
	uint8_t vga[0x20];
	struct bochs_mode mode;       /* derived from regs on every change */
	uint8_t *vram;
	uint32_t vram_size;
	uint32_t def_w, def_h;
	struct bochs_map_hook hook;
	uint64_t fb_gpa;              /* BAR0 address while mapped (atomic) */
	bool added;
	bool own_vram;                /* mmap'ed here (else the caller's memory) */
};

static uint32_t bytes_pp(uint32_t bpp)
{
	return (bpp + 7) / 8;
}

static bool bpp_valid(uint32_t bpp)
{
	return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

int bochs_frame_extent(const uint16_t regs[DISPI_NREGS], uint64_t vram_size, uint64_t *offset,
		       uint64_t *size, uint32_t *stride)
{
	uint32_t w = regs[DISPI_XRES], h = regs[DISPI_YRES], bpp = regs[DISPI_BPP];
	uint32_t vw = regs[DISPI_VIRT_WIDTH] < w ? w : regs[DISPI_VIRT_WIDTH];
	uint64_t bp, line, off, ext, end;

	if (!bpp_valid(bpp) || w == 0 || h == 0 || w > DISPI_MAX_XRES || h > DISPI_MAX_YRES)
		return -EINVAL;
	/* Every factor is 16 bits wide: the products fit in 64 bits with room
	 * to spare; the checked helpers keep that true if the limits change. */
	bp = bytes_pp(bpp);
	line = (uint64_t)vw * bp;
	if (__builtin_mul_overflow(line, (uint64_t)regs[DISPI_Y_OFFSET], &off) ||
	    __builtin_add_overflow(off, (uint64_t)regs[DISPI_X_OFFSET] * bp, &off) ||
	    __builtin_mul_overflow(line, (uint64_t)(h - 1), &ext) ||
	    __builtin_add_overflow(ext, (uint64_t)w * bp, &ext) ||
	    __builtin_add_overflow(off, ext, &end) || end > vram_size || line > UINT32_MAX)
		return -ERANGE;
	*offset = off;
	*size = ext;
	*stride = (uint32_t)line;
	return 0;
}

/* Lock held. Recomputes the scan-out mode from the registers. A mode that
 * cannot be shown (bad depth, zero or oversized resolution, frame beyond
 * VRAM) is refused: ENABLE reads back without DISPI_ENABLED. */
static void update_mode(struct bochs_display *d)
{
	uint16_t *r = d->regs;
	struct bochs_mode m = { .generation = d->mode.generation + 1 };
	uint64_t off, size;
	uint32_t stride;

	if (r[DISPI_ENABLE] & DISPI_ENABLED) {
		uint32_t w = r[DISPI_XRES], h = r[DISPI_YRES], bpp = r[DISPI_BPP];
		int e = bochs_frame_extent(r, d->vram_size, &off, &size, &stride);
		if (e == -EINVAL) {
			pr_guest("bochs-display: mode %ux%ux%u refused", w, h, bpp);
			r[DISPI_ENABLE] &= (uint16_t)~DISPI_ENABLED;
			goto out;
		}
		if (e) {
			pr_guest("bochs-display: mode %ux%ux%u at (%u,%u), line %u bytes, exceeds %u "
				 "bytes of VRAM", w, h, bpp, r[DISPI_X_OFFSET], r[DISPI_Y_OFFSET],
				 (unsigned)(r[DISPI_VIRT_WIDTH] < w ? w : r[DISPI_VIRT_WIDTH]) *
					 bytes_pp(bpp), d->vram_size);
			r[DISPI_ENABLE] &= (uint16_t)~DISPI_ENABLED;
			goto out;
		}
		r[DISPI_VIRT_WIDTH] = (uint16_t)(stride / bytes_pp(bpp));
		uint64_t vh = d->vram_size / stride;
		r[DISPI_VIRT_HEIGHT] = (uint16_t)(vh > 0xffff ? 0xffff : vh);
		m = (struct bochs_mode){ .enabled = true, .width = w, .height = h, .bpp = bpp,
					 .stride = stride, .offset = off, .size = size,
					 .generation = m.generation };
	}
out:
	d->mode = m;
}

/* Lock held. DISPI register write (Bochs VBE "DISPI" interface). */
static void dispi_write(struct bochs_display *d, unsigned idx, uint16_t v)
{
	uint16_t *r = d->regs;
	switch (idx) {
	case DISPI_ID:
		if (v >= DISPI_ID0 && v <= DISPI_ID5)
			r[DISPI_ID] = v;
		return;
	case DISPI_XRES: case DISPI_YRES: case DISPI_BPP:
	case DISPI_VIRT_WIDTH: case DISPI_X_OFFSET: case DISPI_Y_OFFSET:
		r[idx] = v;
		break;
	case DISPI_BANK:
		/* 64 KiB banks of the legacy window: keep it inside VRAM. */
		r[DISPI_BANK] = (uint16_t)(v < d->vram_size / 65536 ? v : 0);
		return;
	case DISPI_ENABLE: {
		bool was = r[DISPI_ENABLE] & DISPI_ENABLED;
		r[DISPI_ENABLE] = v & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC |
				       DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);
		update_mode(d);
		/* Clears exactly the frame's extent, which update_mode checked
		 * against VRAM (the lines' padding between is VRAM too). */
		if (!was && d->mode.enabled && !(v & DISPI_NOCLEARMEM))
			memset(d->vram + d->mode.offset, 0, (size_t)d->mode.size);
		return;
	}
	default:
		return; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
	}
	if (r[DISPI_ENABLE] & DISPI_ENABLED)
		update_mode(d);
}

static uint16_t dispi_read(struct bochs_display *d, unsigned idx)
{
	bool caps = d->regs[DISPI_ENABLE] & DISPI_GETCAPS;
	switch (idx) {
	case DISPI_XRES: return caps ? DISPI_MAX_XRES : d->regs[idx];
	case DISPI_YRES: return caps ? DISPI_MAX_YRES : d->regs[idx];
	case DISPI_BPP:  return caps ? DISPI_MAX_BPP : d->regs[idx];
	case DISPI_VIDEO_MEMORY_64K: return (uint16_t)(d->vram_size / 65536);
	default: return idx < DISPI_NREGS ? d->regs[idx] : 0;
	}
}

static void mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct bochs_display *d = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&d->lock);
	if (off >= BOCHS_DISPI_OFF && off < BOCHS_DISPI_OFF + 2 * DISPI_NREGS && !(off & 1) &&
	    (len == 2 || len == 4)) {
		unsigned idx = (unsigned)(off - BOCHS_DISPI_OFF) / 2;
		v = dispi_read(d, idx);
		if (len == 4)
			v |= (uint32_t)dispi_read(d, idx + 1) << 16;
	} else if (off == BOCHS_QEXT_OFF && len == 4) {
		v = BOCHS_QEXT_SIZE;
	} else if (off == BOCHS_QEXT_OFF + 4 && len == 4) {
		v = BOCHS_QEXT_LE;
	} else if (off >= BOCHS_VGA_OFF && off < BOCHS_VGA_OFF + sizeof(d->vga) && len == 1) {
		v = d->vga[off - BOCHS_VGA_OFF];
	} /* EDID and the rest: zeros */
	pthread_mutex_unlock(&d->lock);
	bus_put_le(data, len, v);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct bochs_display *d = opaque;
	uint64_t v = bus_get_le(data, len);

	pthread_mutex_lock(&d->lock);
	if (off >= BOCHS_DISPI_OFF && off < BOCHS_DISPI_OFF + 2 * DISPI_NREGS && !(off & 1) &&
	    (len == 2 || len == 4)) {
		unsigned idx = (unsigned)(off - BOCHS_DISPI_OFF) / 2;
		dispi_write(d, idx, (uint16_t)v);
		if (len == 4 && idx + 1 < DISPI_NREGS)
			dispi_write(d, idx + 1, (uint16_t)(v >> 16));
	} else if (off >= BOCHS_VGA_OFF && off < BOCHS_VGA_OFF + sizeof(d->vga) && len == 1) {
		d->vga[off - BOCHS_VGA_OFF] = (uint8_t)v;
	}
	/* QEXT endianness writes: only little-endian is supported; ignored. */
	pthread_mutex_unlock(&d->lock);
}

static const struct bus_ops bochs_mmio_ops = { .read = mmio_read, .write = mmio_write };

/* BAR0 through MMIO exits: only while the KVM slot is not (yet) in place. */
static void vram_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct bochs_display *d = opaque;
	if (off < d->vram_size && len <= d->vram_size - off)
		memcpy(data, d->vram + off, len);
	else
		memset(data, 0xff, len);
}

static void vram_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct bochs_display *d = opaque;
	if (off < d->vram_size && len <= d->vram_size - off)
		memcpy(d->vram + off, data, len);
}

static const struct bus_ops bochs_vram_ops = { .read = vram_read, .write = vram_write };

static void bar_mapped(struct pci_dev *pd, unsigned bar, uint64_t addr, bool mapped)
{
	struct bochs_display *d = pd->opaque;
	if (bar != 0)
		return;
	__atomic_store_n(&d->fb_gpa, mapped ? addr : 0, __ATOMIC_RELEASE);
	if (d->hook.map) {
		int r = d->hook.map(d->hook.opaque, addr, d->vram, d->vram_size, mapped);
		if (r)
			pr_warn_rl("bochs-display: %smapping VRAM at 0x%llx: %s", mapped ? "" : "un",
				(unsigned long long)addr, strerror(-r));
	}
}

static const struct pci_dev_ops bochs_pci_ops = { .bar_mapped = bar_mapped };

static struct bochs_display *create(uint8_t *vram, uint32_t vram_size, uint32_t width,
				    uint32_t height, const struct bochs_map_hook *hook)
{
	struct bochs_display *d;

	if (vram_size < (1u << 20) || vram_size > (256u << 20) || (vram_size & (vram_size - 1)))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->own_vram = !vram;
	d->vram = vram;
	if (!vram) {
		d->vram = mmap(NULL, vram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);
		if (d->vram == MAP_FAILED) {
			free(d);
			return NULL;
		}
	}
	pthread_mutex_init(&d->lock, NULL);
	d->vram_size = vram_size;
	d->def_w = width;
	d->def_h = height;
	if (hook)
		d->hook = *hook;
	d->regs[DISPI_ID] = DISPI_ID5;
	d->regs[DISPI_BPP] = 32;
	d->regs[DISPI_XRES] = (uint16_t)width;
	d->regs[DISPI_YRES] = (uint16_t)height;

	pci_dev_init(&d->pci, BOCHS_PCI_VENDOR, BOCHS_PCI_DEVICE, BOCHS_PCI_CLASS, 2);
	pci_cfg_set(&d->pci, PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1af4); /* as QEMU: Red Hat */
	pci_cfg_set(&d->pci, PCI_SUBSYSTEM_ID, 2, 0x1100);
	d->pci.ops = &bochs_pci_ops;
	d->pci.opaque = d;
	if (pci_dev_set_bar(&d->pci, 0, PCI_BAR_MEM32, vram_size, &bochs_vram_ops, d, "bochs-vram") ||
	    pci_dev_set_bar(&d->pci, 2, PCI_BAR_MEM32, BOCHS_MMIO_SIZE, &bochs_mmio_ops, d,
			    "bochs-mmio")) {
		bochs_display_destroy(d);
		return NULL;
	}
	return d;
}

struct bochs_display *bochs_display_create(uint32_t vram_size, uint32_t width, uint32_t height,
					   const struct bochs_map_hook *hook)
{
	return create(NULL, vram_size, width, height, hook);
}

struct bochs_display *bochs_display_create_on(uint8_t *vram, uint32_t vram_size, uint32_t width,
					      uint32_t height, const struct bochs_map_hook *hook)
{
	return vram ? create(vram, vram_size, width, height, hook) : NULL;
}

int bochs_display_add(struct bochs_display *d, struct pci_bus *bus, unsigned slot)
{
	int r = pci_bus_add(bus, slot, &d->pci);
	if (r)
		return r;
	d->added = true;
	/* Prefetchable framebuffer (PCI 3.0 6.2.5.1, BAR bit 3, read-only);
	 * set after the allocator wrote the address. Not running yet: no lock. */
	pci_cfg_set(&d->pci, PCI_BAR0, 4, pci_cfg_read(&d->pci, PCI_BAR0, 4) | 0x8);
	return 0;
}

void bochs_display_destroy(struct bochs_display *d)
{
	if (!d)
		return;
	if (d->added && d->pci.bus)
		pci_bus_unmap_dev(d->pci.bus, &d->pci);
	if (d->own_vram)
		munmap(d->vram, d->vram_size);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int bochs_display_set_mode(struct bochs_display *d, uint32_t width, uint32_t height)
{
	int r = 0;
	pthread_mutex_lock(&d->lock);
	d->regs[DISPI_ENABLE] = 0;
	d->regs[DISPI_BPP] = 32;
	d->regs[DISPI_XRES] = (uint16_t)(width > DISPI_MAX_XRES ? 0 : width);
	d->regs[DISPI_YRES] = (uint16_t)(height > DISPI_MAX_YRES ? 0 : height);
	d->regs[DISPI_VIRT_WIDTH] = d->regs[DISPI_XRES];
	d->regs[DISPI_X_OFFSET] = d->regs[DISPI_Y_OFFSET] = 0;
	dispi_write(d, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	if (!d->mode.enabled)
		r = -EINVAL;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void bochs_display_get_mode(struct bochs_display *d, struct bochs_mode *m)
{
	pthread_mutex_lock(&d->lock);
	*m = d->mode;
	pthread_mutex_unlock(&d->lock);
}

uint8_t *bochs_display_vram(const struct bochs_display *d, uint32_t *size)
{
	if (size)
		*size = d->vram_size;
	return d->vram;
}

uint64_t bochs_display_fb_gpa(const struct bochs_display *d)
{
	return __atomic_load_n(&d->fb_gpa, __ATOMIC_ACQUIRE);
}

struct pci_dev *bochs_display_pci(struct bochs_display *d)
{
	return &d->pci;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

void screen_info_build(uint8_t si[0x40], uint64_t base, uint32_t width, uint32_t height,
		       uint32_t stride, uint32_t vram_size)
{
	/* include/uapi/linux/screen_info.h field offsets. */
	memset(si, 0, 0x40);
	si[0x0f] = SI_VIDEO_TYPE_VLFB;           /* orig_video_isVGA */
	put16(si + 0x12, (uint16_t)width);       /* lfb_width */
	put16(si + 0x14, (uint16_t)height);      /* lfb_height */
	put16(si + 0x16, 32);                    /* lfb_depth */
	put32(si + 0x18, (uint32_t)base);        /* lfb_base */
	put32(si + 0x1c, vram_size / 65536);     /* lfb_size: 64 KiB units for VLFB */
	put16(si + 0x24, (uint16_t)stride);      /* lfb_linelength */
	si[0x26] = 8; si[0x27] = 16;             /* red size/pos */
	si[0x28] = 8; si[0x29] = 8;              /* green */
	si[0x2a] = 8; si[0x2b] = 0;              /* blue */
	si[0x2c] = 8; si[0x2d] = 24;             /* reserved */
	put16(si + 0x32, 1);                     /* pages */
	if (base >> 32) {
		put32(si + 0x36, SI_CAP_64BIT_BASE); /* capabilities */
		put32(si + 0x3a, (uint32_t)(base >> 32)); /* ext_lfb_base */
	}
}
