/* Guest-virtual to guest-physical translation for the debugger, by walking
 * the guest's own page tables for its current mode: paging off (linear =
 * physical), 32-bit (4 KiB and PSE 4 MiB pages), PAE (4 KiB, 2 MiB) and
 * 4/5-level long mode (4 KiB, 2 MiB, 1 GiB). Pure: page-table entries are
 * read through a callback, which must refuse anything outside guest RAM. */
#ifndef MYVMM_GDB_MMU_H
#define MYVMM_GDB_MMU_H
#include <stdint.h>

struct gdb_mmu {
	uint64_t cr0, cr3, cr4, efer;
};

/* Reads len (4 or 8) bytes of guest-physical memory; 0 or -errno. */
typedef int (*gdb_phys_read)(void *opaque, uint64_t gpa, void *buf, unsigned len);

/* Translates va. On success returns 0 with *gpa and *left (bytes from va to
 * the end of its page, >= 1). -EFAULT when not mapped (or a table lies
 * outside RAM), -EINVAL for a non-canonical or out-of-range address. */
int gdb_mmu_translate(const struct gdb_mmu *m, uint64_t va, gdb_phys_read rd, void *opaque,
		      uint64_t *gpa, uint64_t *left);
#endif
