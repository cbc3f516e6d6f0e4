/* The machine's display: a bochs-display PCI function (SLOT_DISPLAY) whose
 * VRAM is a KVM memory slot (MEMSLOT_VRAM) with dirty logging, and the frame
 * the UI reads from it. Steps "display" (the device, --display sdl only) and
 * "screen" (screen_info for Linux boots); the UI's vm_display_frame. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/bochs_display.h"
#include "loader/bootparam.h"
#include "host/log.h"
#include "machine/machine_priv.h"

/* SeaVGABIOS built for the bochs-display (Debian's seabios package): with
 * firmware boot it is the device's expansion ROM, which SeaBIOS runs as the
 * display's option ROM so its own and the bootloader's text show up. */
#define VM_DISPLAY_VGA_ROM     "/usr/share/seabios/vgabios-bochs-display.bin"
#define VM_DISPLAY_VGA_ROM_MAX (128u << 10) /* the 0xC0000-0xDFFFF ROM area */

struct vm_display {
	struct bochs_display *dev;
	int vm_fd;
	pthread_mutex_t lock;     /* slot state and the dirty bitmap */
	bool slot_live;
	bool full;                /* redraw everything next frame */
	uint32_t last_gen;
	uint32_t vram_size;
	uint64_t *bitmap;         /* one bit per VRAM page */
	uint8_t *rom;             /* expansion ROM image (firmware boot) */
};

/* Reads the VGA option ROM into vd->rom. A missing or odd file only costs
 * the firmware screens: warn and go on. Returns its length or 0. */
static uint32_t load_vga_rom(struct vm_display *vd)
{
	struct stat st;
	int fd = open(VM_DISPLAY_VGA_ROM, O_RDONLY | O_CLOEXEC);
	uint32_t n = 0;

	if (fd < 0) {
		pr_warn("%s: %s; no BIOS screens in the window (apt-get install seabios)",
			VM_DISPLAY_VGA_ROM, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 512 ||
	    st.st_size > VM_DISPLAY_VGA_ROM_MAX) {
		pr_warn("%s: not an option ROM (512 B..128 KiB); ignored", VM_DISPLAY_VGA_ROM);
		goto out;
	}
	vd->rom = malloc((size_t)st.st_size);
	if (vd->rom && pread(fd, vd->rom, (size_t)st.st_size, 0) == st.st_size &&
	    vd->rom[0] == 0x55 && vd->rom[1] == 0xaa) {
		n = (uint32_t)st.st_size;
	} else {
		pr_warn("%s: unreadable or no 55 AA signature; ignored", VM_DISPLAY_VGA_ROM);
		free(vd->rom);
		vd->rom = NULL;
	}
out:
	close(fd);
	return n;
}

/* bochs_map_hook: (re)creates the VRAM memslot at BAR0 (PCI bus lock held). */
static int map_vram(void *opaque, uint64_t gpa, uint8_t *hva, uint64_t size, bool mapped)
{
	struct vm_display *vd = opaque;
	struct kvm_userspace_memory_region r = {
		.slot = MEMSLOT_VRAM,
		.flags = mapped ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = mapped ? size : 0, /* size 0 deletes the slot */
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	int ret = 0;

	pthread_mutex_lock(&vd->lock);
	if (!mapped && !vd->slot_live)
		goto out;
	if (ioctl(vd->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		ret = -errno;
	else
		vd->slot_live = mapped;
	vd->full = true;
out:
	pthread_mutex_unlock(&vd->lock);
	return ret;
}

int vm_display_setup(struct vm *vm, struct err *err)
{
	const struct vm_config *c = vm->cfg;
	struct vm_display *vd;
	int r;

	if (c->display != DISPLAY_SDL && !c->screenshot)
		return 0;
	vd = calloc(1, sizeof(*vd));
	if (!vd)
		goto nomem;
	pthread_mutex_init(&vd->lock, NULL);
	vd->vm_fd = vm->fd;
	vd->vram_size = BOCHS_VRAM_DEFAULT;
	vd->full = true;
	vd->bitmap = calloc(vd->vram_size / 4096 / 64, sizeof(uint64_t));
	vm->display = vd;
	struct bochs_map_hook hook = { .map = map_vram, .opaque = vd };
	vd->dev = bochs_display_create(vd->vram_size, c->display_w, c->display_h, &hook);
	if (!vd->bitmap || !vd->dev)
		goto nomem;
	if (config_boot_firmware(c)) {
		uint32_t n = load_vga_rom(vd);
		if (n && (r = pci_dev_set_rom(bochs_display_pci(vd->dev), vd->rom, n, "bochs-rom")))
			pr_warn("bochs-display: expansion ROM: %s", strerror(-r));
	}
	if ((r = bochs_display_add(vd->dev, vm->pci, SLOT_DISPLAY))) {
		ERRF("bochs-display: PCI slot %d: %s", SLOT_DISPLAY,
			 strerror(-r));
		return r;
	}
	if (!vd->slot_live)
		pr_warn("bochs-display: VRAM is not a KVM memslot; drawing will be slow");
	return 0;
nomem:
	ERRF("bochs-display: out of memory");
	return -ENOMEM;
}

int vm_display_boot(struct vm *vm, struct err *err)
{
	struct vm_display *vd = vm->display;
	struct bochs_mode m;
	uint8_t si[0x40];
	uint64_t base;
	uint32_t size;

	if (!vd || vm->entry.mode != BOOT_LINUX64)
		return 0;
	base = bochs_display_fb_gpa(vd->dev);
	if (!base || bochs_display_set_mode(vd->dev, vm->cfg->display_w, vm->cfg->display_h))
		return 0; /* the guest driver can still set a mode */
	bochs_display_get_mode(vd->dev, &m);
	bochs_display_vram(vd->dev, &size);
	/* screen_info describes a frame at BAR0 + 0 (the firmware mode is not
	 * panned) whose extent the device checked against VRAM. */
	if (!m.enabled || m.offset != 0 || m.size > size)
		return 0;
	screen_info_build(si, base, m.width, m.height, m.stride, size);
	if (gmem_write(&vm->mem, LAYOUT_ZERO_PAGE + BP_OFF(screen_info), si, sizeof(si))) {
		ERRF("bochs-display: zero page not in guest RAM");
		return -EFAULT;
	}
	return 0;
}

void vm_display_destroy(struct vm *vm)
{
	struct vm_display *vd = vm->display;
	if (!vd)
		return;
	bochs_display_destroy(vd->dev); /* unmaps BAR0: deletes the memslot */
	free(vd->rom);                  /* after the ROM BAR is off the bus */
	free(vd->bitmap);
	pthread_mutex_destroy(&vd->lock);
	free(vd);
	vm->display = NULL;
}

int vm_display_frame(struct vm *vm, display_draw_fn draw, void *arg)
{
	struct vm_display *vd = vm->display;
	struct display_frame f = { 0 };
	struct bochs_mode m;
	uint8_t *vram;
	uint32_t size;

	if (!vd)
		return -ENODEV;
	pthread_mutex_lock(&vd->lock);
	bochs_display_get_mode(vd->dev, &m);
	vram = bochs_display_vram(vd->dev, &size);
	/* The device only enables frames inside VRAM; the UI reads exactly
	 * [offset, offset + size), so check the same extent once more here. */
	f.enabled = m.enabled && m.offset <= size && m.size <= size - m.offset;
	f.generation = m.generation;
	if (f.enabled) {
		bool full = vd->full || m.generation != vd->last_gen;
		f.width = m.width;
		f.height = m.height;
		f.bpp = m.bpp;
		f.stride = m.stride;
		f.pixels = vram + m.offset;
		f.size = m.size;
		if (vd->slot_live) {
			struct kvm_dirty_log dl = { .slot = MEMSLOT_VRAM, .dirty_bitmap = vd->bitmap };
			if (ioctl(vd->vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0)
				full = true;
			else if (!full)
				f.nspans = display_dirty_spans(vd->bitmap, vd->vram_size / 4096, m.offset,
							       m.size, m.stride, f.spans,
							       DISPLAY_MAX_SPANS);
		} else {
			full = true; /* no dirty log: MMIO-exit fallback */
		}
		if (full) {
			f.spans[0] = (struct display_span){ 0, m.height };
			f.nspans = 1;
		}
		vd->full = false;
		vd->last_gen = m.generation;
	}
	draw(&f, arg);
	pthread_mutex_unlock(&vd->lock);
	return 0;
}
