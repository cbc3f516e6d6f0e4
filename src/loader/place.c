/* Shared placement helpers for the kernel loaders. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include "loader/place.h"
#include "machine/pc_map.h"

void loader_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, LOADER_ERR_LEN, fmt, ap);
	va_end(ap);
}

uint64_t loader_low_ram_top(const struct guest_mem *m)
{
	for (int i = 0; i < m->nr && i < GMEM_MAX_REGIONS; i++) {
		const struct gmem_region *r = &m->r[i];
		uint64_t end = r->gpa + r->size;

		if (end < r->gpa)
			continue;
		if (r->gpa <= LAYOUT_HIGHMEM_START && LAYOUT_HIGHMEM_START < end)
			return end < LAYOUT_MMIO_HOLE_START ? end : LAYOUT_MMIO_HOLE_START;
	}
	return 0;
}

bool loader_range_in_low_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	if (gpa + len < gpa || gpa + len > LAYOUT_MMIO_HOLE_START)
		return false;
	return gmem_ptr(m, gpa, len) != NULL;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b_start, uint64_t b_end)
{
	return a < b_end && b_start < a + alen;
}

bool loader_range_hits_boot_data(uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	if (gpa + len < gpa)
		return true;
	return overlaps(gpa, len, 0, LAYOUT_CMDLINE + LAYOUT_CMDLINE_MAX) ||
	       overlaps(gpa, len, LAYOUT_EBDA_START, LAYOUT_HIGHMEM_START);
}

int loader_write_cmdline(struct guest_mem *m, const char *cmdline, uint64_t max_len,
			 uint64_t *gpa, char *err)
{
	const char *s = cmdline ? cmdline : "";
	size_t n = strlen(s);

	if (max_len > LAYOUT_CMDLINE_MAX - 1)
		max_len = LAYOUT_CMDLINE_MAX - 1;
	if (n > max_len) {
		loader_err(err, "command line is %zu bytes, the kernel accepts at most %llu; shorten --append",
			   n, (unsigned long long)max_len);
		return -E2BIG;
	}
	if (gmem_write(m, LAYOUT_CMDLINE, s, n + 1) < 0) {
		loader_err(err, "no guest RAM at 0x%llx for the command line; give the VM more memory",
			   (unsigned long long)LAYOUT_CMDLINE);
		return -ENOSPC;
	}
	*gpa = LAYOUT_CMDLINE;
	return 0;
}

#define PAGE_MASK_4K (~(uint64_t)0xfff)

int loader_place_initrd(struct guest_mem *m, const uint8_t *data, uint64_t len, uint64_t max_end,
			const struct gpa_range *avoid, int n_avoid, uint64_t *gpa, char *err)
{
	uint64_t top = loader_low_ram_top(m);
	uint64_t cand;
	bool moved;

	if (max_end > top)
		max_end = top;
	if (len == 0 || max_end < LAYOUT_HIGHMEM_START || max_end - LAYOUT_HIGHMEM_START < len)
		goto nospc;
	cand = (max_end - len) & PAGE_MASK_4K;
	/* Every move lowers cand strictly, so this terminates. */
	do {
		if (cand < LAYOUT_HIGHMEM_START)
			goto nospc;
		moved = false;
		for (int i = 0; i < n_avoid; i++) {
			if (!overlaps(cand, len, avoid[i].start, avoid[i].end))
				continue;
			if (avoid[i].start < len)
				goto nospc;
			cand = (avoid[i].start - len) & PAGE_MASK_4K;
			moved = true;
			break;
		}
	} while (moved);
	if (gmem_write(m, cand, data, len) < 0)
		goto nospc;
	*gpa = cand;
	return 0;
nospc:
	loader_err(err, "initrd of %llu bytes does not fit in guest RAM between 1 MiB and 0x%llx next to the kernel; give the VM more memory (--mem) or use a smaller initrd",
		   (unsigned long long)len, (unsigned long long)max_end);
	return -ENOSPC;
}
