/* The machine's display: a bochs-display PCI function whose VRAM is a KVM
 * memory slot with dirty logging, and the frame the UI reads from it.
 * Called from machine.c (setup/teardown/boot) and from main.c's UI glue. */
#ifndef MYVMM_VM_DISPLAY_H
#define MYVMM_VM_DISPLAY_H
#include "ui/display.h"

struct vm;

#define VM_SLOT_DISPLAY 24   /* PCI slot of the bochs-display */
#define KVM_SLOT_VRAM   32   /* KVM memslot id: RAM uses 0..GMEM_MAX_REGIONS-1 */

/* Creates the display device when cfg->display is DISPLAY_SDL or a
 * --screenshot is wanted; a no-op otherwise. -errno with a line in err (VM_ERR_LEN). */
int vm_display_setup(struct vm *vm, char *err);
/* For Linux (bzImage) boots: sets the configured mode and describes it in
 * the zero page's screen_info so vesafb/simplefb/fbcon draw early. */
int vm_display_boot(struct vm *vm, char *err);
/* Removes the device and its memslot (before the VM fd is closed). */
void vm_display_destroy(struct vm *vm);
/* UI side: fills f with the current mode and the rows the guest wrote
 * since the last call (KVM_GET_DIRTY_LOG), then calls draw(f, arg).
 * -ENODEV without a display. Takes the display's lock. */
int vm_display_frame(struct vm *vm, display_draw_fn draw, void *arg);
#endif
