/* Display helpers shared by the UI back ends (pure). */
#include "ui/display.h"

#define PAGE 4096ULL

unsigned display_dirty_spans(const uint64_t *bitmap, uint64_t npages, uint64_t fb_offset,
			     uint64_t fb_size, uint32_t stride, struct display_span *spans,
			     unsigned max)
{
	uint64_t fb_end = fb_offset + fb_size;
	unsigned n = 0;
	bool overflow = false;

	if (!stride || !fb_size || !max)
		return 0;
	for (uint64_t p = 0; p < npages; p++) {
		if (!(bitmap[p / 64] >> (p % 64) & 1))
			continue;
		uint64_t a = p * PAGE, b = a + PAGE;   /* dirty bytes [a, b) */
		if (b <= fb_offset || a >= fb_end)
			continue;
		if (a < fb_offset)
			a = fb_offset;
		if (b > fb_end)
			b = fb_end;
		uint32_t y0 = (uint32_t)((a - fb_offset) / stride);
		uint32_t y1 = (uint32_t)((b - 1 - fb_offset) / stride) + 1;
		if (n && y0 <= spans[n - 1].y1) {
			if (y1 > spans[n - 1].y1)
				spans[n - 1].y1 = y1;
		} else if (n < max) {
			spans[n++] = (struct display_span){ y0, y1 };
		} else {
			overflow = true;
			spans[n - 1].y1 = y1;
		}
	}
	if (overflow) {
		spans[0].y1 = spans[n - 1].y1;
		n = 1;
	}
	return n;
}
