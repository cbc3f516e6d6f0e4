/* --screenshot: the guest's framebuffer as a PNG file (8-bit RGB, zlib
 * stream of stored deflate blocks: no compression library needed). */
#ifndef MYVMM_SCREENSHOT_H
#define MYVMM_SCREENSHOT_H
#include <stddef.h>
#include <stdint.h>

#include "ui/display.h"

#define SCREENSHOT_MAX_DIM 8192u

/* Pure: encodes frame f (bpp 32, 24, 16 or 15; stride >= width * bytes per
 * pixel) as PNG into a malloc'ed buffer. -EINVAL for a disabled frame or an
 * unsupported format, -E2BIG beyond SCREENSHOT_MAX_DIM, -ENOMEM. */
int screenshot_png(const struct display_frame *f, uint8_t **out, size_t *len);
/* Encodes f and writes it to path (through path.tmp and rename). -errno. */
int screenshot_write(const char *path, const struct display_frame *f);
#endif
