/* The display front end: what a UI (SDL window, or nothing) needs from the
 * VMM and what the VMM needs from a UI. The UI runs on the main thread;
 * everything it asks of the machine goes through struct display_host, whose
 * callbacks take the runner's VM lock (so a guest reset cannot free the VM
 * under the UI) and never block on vCPUs. */
#ifndef MYVMM_DISPLAY_H
#define MYVMM_DISPLAY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rows [y0, y1) of the frame changed since the previous frame. */
struct display_span {
	uint32_t y0, y1;
};
#define DISPLAY_MAX_SPANS 32

struct display_frame {
	bool enabled;              /* false: no mode set (draw black) */
	uint32_t width, height, bpp, stride;
	const uint8_t *pixels;     /* pixel (0,0); valid only inside the draw callback */
	uint64_t size;             /* bytes readable from pixels: stride * (height - 1)
				      + width * bytes/pixel (bochs_frame_extent) */
	uint32_t generation;       /* changes with the mode */
	unsigned nspans;
	struct display_span spans[DISPLAY_MAX_SPANS];
};

typedef void (*display_draw_fn)(const struct display_frame *f, void *arg);

/* Implemented by main.c for the UI. All are called from the UI thread. */
/* Mouse buttons for display_host.mouse. */
#define DISPLAY_BTN_LEFT   0x1
#define DISPLAY_BTN_RIGHT  0x2
#define DISPLAY_BTN_MIDDLE 0x4

struct display_host {
	/* Collects the dirty rows of the current frame and calls draw(f, arg)
	 * while the pixels are valid. -ENODEV when no VM is running. */
	int (*frame)(void *opaque, display_draw_fn draw, void *arg);
	/* PS/2 set-2 bytes for the keyboard. */
	void (*key)(void *opaque, const uint8_t *set2, size_t n);
	/* Relative motion, PS/2 sense (dy > 0 is up), DISPLAY_BTN_* buttons. */
	void (*mouse)(void *opaque, int dx, int dy, unsigned buttons);
	/* ACPI power button (first window close). */
	void (*power_button)(void *opaque);
	/* Stop the VM now (second close, Ctrl-Alt-Q): exit status 0. */
	void (*quit)(void *opaque);
	void *opaque;
};

struct display_params {
	const char *name;          /* VM name for the title */
	uint32_t width, height;    /* initial window size */
};

#define DISPLAY_ERR_LEN 256
/* A UI back end. create() runs on the main thread before the VM starts;
 * run() pumps events and renders until *stop becomes non-zero; destroy()
 * closes the window. */
struct display_ops {
	const char *name;
	int (*create)(const struct display_params *p, const struct display_host *h, void **ui,
		      char err[DISPLAY_ERR_LEN]);
	void (*run)(void *ui, volatile int *stop);
	void (*destroy)(void *ui);
};

#ifdef HAVE_SDL2
extern const struct display_ops sdl_display_ops;
#endif

/* Pure: converts a KVM dirty-page bitmap (bit p = page p of VRAM changed)
 * into row spans of a frame spanning fb_size bytes from fb_offset in VRAM
 * (bochs_frame_extent) with the given stride; rows are below
 * fb_size / stride + 1. Adjacent spans merge; if more than max would be
 * needed, the result is one span covering all dirty rows. Returns the count. */
unsigned display_dirty_spans(const uint64_t *bitmap, uint64_t npages, uint64_t fb_offset,
			     uint64_t fb_size, uint32_t stride, struct display_span *spans,
			     unsigned max);
#endif
