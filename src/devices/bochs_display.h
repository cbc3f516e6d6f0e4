/* bochs-display: the PCI display QEMU calls "bochs-display" (1234:1111,
 * class 0x038000), as Linux's bochs DRM driver probes it.
 *   BAR0  prefetchable 32-bit memory: the linear framebuffer (VRAM). The VRAM
 *         is host memory; the owner maps it into the guest as a KVM memory
 *         slot through the map hook (called when the guest moves BAR0).
 *   BAR2  4 KiB MMIO: EDID (0x000, unused: zeros), VGA ports 0x3c0-0x3df
 *         (0x400, accepted and ignored), Bochs DISPI registers (0x500, 16
 *         bits each) and the QEMU extension registers (0x600: size 8,
 *         little-endian framebuffer).
 * Locking: one mutex for the registers; callbacks into the map hook run with
 * the PCI bus lock held (never with the device mutex held). */
#ifndef MYVMM_BOCHS_DISPLAY_H
#define MYVMM_BOCHS_DISPLAY_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/pci.h"

#define BOCHS_PCI_VENDOR   0x1234
#define BOCHS_PCI_DEVICE   0x1111
#define BOCHS_PCI_CLASS    0x038000u /* display controller, other */
#define BOCHS_VRAM_DEFAULT (16u << 20)
#define BOCHS_MMIO_SIZE    0x1000u
#define BOCHS_VGA_OFF      0x400u
#define BOCHS_DISPI_OFF    0x500u
#define BOCHS_QEXT_OFF     0x600u
#define BOCHS_QEXT_SIZE    8u
#define BOCHS_QEXT_LE      0x1e1e1e1eu

/* DISPI register indexes (register i is at BOCHS_DISPI_OFF + 2 * i). */
enum {
	DISPI_ID = 0, DISPI_XRES, DISPI_YRES, DISPI_BPP, DISPI_ENABLE, DISPI_BANK,
	DISPI_VIRT_WIDTH, DISPI_VIRT_HEIGHT, DISPI_X_OFFSET, DISPI_Y_OFFSET,
	DISPI_VIDEO_MEMORY_64K, DISPI_NREGS
};
#define DISPI_ID0          0xb0c0
#define DISPI_ID5          0xb0c5
#define DISPI_ENABLED      0x01
#define DISPI_GETCAPS      0x02
#define DISPI_8BIT_DAC     0x20
#define DISPI_LFB_ENABLED  0x40
#define DISPI_NOCLEARMEM   0x80
#define DISPI_MAX_XRES     16000
#define DISPI_MAX_YRES     12000
#define DISPI_MAX_BPP      32

/* The scan-out state the UI draws. enabled is false when the guest has
 * not set (or was refused) a mode; pixels then are not meaningful. */
struct bochs_mode {
	bool enabled;
	uint32_t width, height, bpp; /* bpp: 8, 15, 16, 24 or 32 */
	uint32_t stride;             /* bytes per line (virt_width * bytes/pixel) */
	uint64_t offset;             /* byte offset of pixel (0,0) in VRAM */
	uint64_t size;               /* bytes the frame spans from offset:
					stride * (height - 1) + width * bytes/pixel;
					offset + size <= VRAM size when enabled */
	uint32_t generation;         /* bumped on every mode change */
};

/* Pure: the one computation of where the visible frame of these DISPI
 * registers lies in VRAM (the mode check, the clear on enable, the scan-out,
 * the dirty tracking and screen_info all use its result). On success the
 * frame is the bytes [*offset, *offset + *size) and lies within vram_size;
 * *stride is the line length (virt_width, at least xres, times bytes/pixel).
 * -EINVAL: bad depth or resolution; -ERANGE: beyond vram_size. Overflow-safe
 * for every register value. */
int bochs_frame_extent(const uint16_t regs[DISPI_NREGS], uint64_t vram_size, uint64_t *offset,
		       uint64_t *size, uint32_t *stride);

/* Maps/unmaps the VRAM at guest address gpa (BAR0 moved or decoding
 * changed). Returns 0 or -errno (the BAR then falls back to MMIO exits). */
struct bochs_map_hook {
	int (*map)(void *opaque, uint64_t gpa, uint8_t *hva, uint64_t size, bool mapped);
	void *opaque;
};

struct bochs_display;

/* Allocates the device and vram_size bytes of VRAM (a power of two, 1..256
 * MiB; anonymous shared mmap). The power-on mode is disabled; width/height
 * are only what bochs_display_default_mode() reports. NULL on failure. */
struct bochs_display *bochs_display_create(uint32_t vram_size, uint32_t width, uint32_t height,
					   const struct bochs_map_hook *hook);
/* The same on VRAM the caller allocated and keeps (tests and fuzzers use
 * malloc'ed VRAM so a sanitizer sees every access past its end). */
struct bochs_display *bochs_display_create_on(uint8_t *vram, uint32_t vram_size, uint32_t width,
					      uint32_t height, const struct bochs_map_hook *hook);
/* Puts the device at PCI slot (its BARs get addresses). -errno. */
int bochs_display_add(struct bochs_display *d, struct pci_bus *bus, unsigned slot);
/* Unmaps the BARs (if added) and frees VRAM and the device. NULL is fine. */
void bochs_display_destroy(struct bochs_display *d);
/* Sets a mode as the firmware would before handing over (used for Linux
 * boots: screen_info points at it). -EINVAL if it does not fit in VRAM. */
int bochs_display_set_mode(struct bochs_display *d, uint32_t width, uint32_t height);
/* Thread-safe snapshot of the scan-out state. */
void bochs_display_get_mode(struct bochs_display *d, struct bochs_mode *m);
/* The VRAM (host mapping) and its size. */
uint8_t *bochs_display_vram(const struct bochs_display *d, uint32_t *size);
/* Guest address of BAR0 while mapped, else 0. */
uint64_t bochs_display_fb_gpa(const struct bochs_display *d);
/* The PCI function (for tests). */
struct pci_dev *bochs_display_pci(struct bochs_display *d);

/* Pure: Linux zero-page screen_info (first 0x40 bytes of boot_params) for a
 * VESA-style linear framebuffer: orig_video_isVGA = VIDEO_TYPE_VLFB, 32 bpp
 * x8r8g8b8 at base; VIDEO_CAPABILITY_64BIT_BASE when base >= 4 GiB. */
#define SI_VIDEO_TYPE_VLFB 0x23
#define SI_CAP_64BIT_BASE  0x2
void screen_info_build(uint8_t si[0x40], uint64_t base, uint32_t width, uint32_t height,
		       uint32_t stride, uint32_t vram_size);
#endif
