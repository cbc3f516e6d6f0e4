/* Helpers shared by the kernel loaders: error lines, RAM range checks,
 * command line and initrd placement. Internal to src/loader/. */
#ifndef MYVMM_LOADER_PLACE_H
#define MYVMM_LOADER_PLACE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "loader/loader.h"

/* A guest-physical range [start, end). */
struct gpa_range {
	uint64_t start, end;
};

/* Formats one line into err (LOADER_ERR_LEN bytes); err may be NULL. */
void loader_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Little-endian reads from a buffer the caller has bounds-checked. */
static inline uint16_t ld_le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld_le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Top (exclusive) of the guest RAM that starts at 1 MiB and lies below the
 * 32-bit MMIO hole; 0 if there is no RAM at 1 MiB. */
uint64_t loader_low_ram_top(const struct guest_mem *m);

/* True if [gpa, gpa+len) does not wrap, is wholly backed by one RAM region
 * and ends at or below the MMIO hole (reachable by 32-bit code). */
bool loader_range_in_low_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* True if [gpa, gpa+len) touches the VMM's own low-memory boot data
 * (GDT, page tables, zero page, start_info, command line) or the EBDA/VGA/BIOS
 * area below 1 MiB. */
bool loader_range_hits_boot_data(uint64_t gpa, uint64_t len);

/* Writes cmdline (NULL = "") NUL-terminated at LAYOUT_CMDLINE. max_len is the
 * longest string (without NUL) the kernel accepts. -E2BIG if longer. */
int loader_write_cmdline(struct guest_mem *m, const char *cmdline, uint64_t max_len,
			 uint64_t *gpa, char *err);

/* Copies the initrd to the highest 4 KiB-aligned address whose end is
 * <= max_end, at or above 1 MiB, not overlapping any of avoid[]. Sets *gpa.
 * -ENOSPC if no such place. */
int loader_place_initrd(struct guest_mem *m, const uint8_t *data, uint64_t len, uint64_t max_end,
			const struct gpa_range *avoid, int n_avoid, uint64_t *gpa, char *err);
#endif
