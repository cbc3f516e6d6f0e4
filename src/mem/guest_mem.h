/* Guest RAM: a few host mappings, each backing one guest-physical range.
 * All translation goes through gmem_ptr(), which refuses any range that is not
 * wholly inside one region (so a guest address can never reach host memory
 * outside guest RAM, and length arithmetic cannot wrap). */
#ifndef MYVMM_GUEST_MEM_H
#define MYVMM_GUEST_MEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	int nr;
	uint64_t ram_size;       /* total RAM bytes requested (--mem) */
	int fd;                  /* shared RAM: the memfd behind every region; else -1 */
	uint64_t fd_offset[GMEM_MAX_REGIONS]; /* shared RAM: where r[i] starts in fd */
	uint64_t page_size;      /* host page size behind the RAM (4096, or hugetlb's) */
	bool hugetlb;            /* on hugetlb pages (--mem-path on hugetlbfs, --hugepages) */
	bool file;               /* fd is a --mem-path/--hugepages file (mem_backing.h) */
	/* Dirty tracking (gmem_dirty_enable): one bit per 4 KiB page of r[i]
	 * that the VMM itself wrote (devices' DMA, used rings, gmem_write);
	 * KVM's dirty log only sees the vCPUs' writes. NULL: not tracking. */
	uint64_t *dirty[GMEM_MAX_REGIONS];
};

/* e820 entry types (Linux boot protocol / ACPI). */
#define E820_RAM       1
#define E820_RESERVED  2
#define E820_ACPI      3

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};
#define E820_MAX 16

/* Pure: splits ram_size around the MMIO hole into RAM ranges (gpa, size).
 * Returns the number of ranges (1 or 2) or -EINVAL for sizes below the
 * minimum (LAYOUT minimum is 16 MiB) or not page-aligned. */
int gmem_plan(uint64_t ram_size, struct gmem_region *out, int max);
/* Pure: the e820 map the guest sees for that RAM size. Returns entry count. */
int gmem_e820(uint64_t ram_size, struct e820_entry *out, int max);

/* mmap()s the planned regions (MAP_NORESERVE, anonymous). -ENOMEM if the host
 * cannot back it. */
int gmem_alloc(struct guest_mem *m, uint64_t ram_size);
/* Like gmem_alloc, but RAM is one memfd mapped MAP_SHARED (sealed against
 * shrinking and growing), so another process (a vhost-user back-end) can map
 * it: m->fd and m->fd_offset[i] say where region i is. */
int gmem_alloc_shared(struct guest_mem *m, uint64_t ram_size);
/* Like gmem_alloc_shared, on fd (owned from here on, closed on failure too):
 * a file from gmem_backing_open whose pages are page_size bytes (ram_size a
 * multiple of it; regions mapped at page_size-aligned addresses). */
int gmem_alloc_fd(struct guest_mem *m, uint64_t ram_size, int fd, uint64_t page_size,
		  bool hugetlb);
/* "anonymous", "memfd" (shared for vhost-user), "hugetlb" or "file". */
const char *gmem_backing_name(const struct guest_mem *m);
void gmem_free(struct guest_mem *m);
/* Asks for a transparent huge page for the first 2 MiB of anonymous RAM too
 * (gmem_alloc leaves it to small pages so a tiny guest's RSS stays small).
 * For a VM with O_DIRECT disks, whose DMA into small pages costs ~2x per
 * request here (bench/blk.sh). Call before anything is written there;
 * nothing happens for shared (memfd) RAM or without THP. */
void gmem_huge_low(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len) if it lies wholly in one region, else NULL.
 * len 0 is treated as 1. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Zeroes [hva, hva+len) of guest RAM, writing only the 4 KiB chunks that are
 * not zero already: fresh guest RAM stays unbacked (a kernel's large .bss
 * costs no host memory until the guest touches it). */
void gmem_zero(void *hva, uint64_t len);
/* Dirty tracking for diff snapshots (dirty.c). gmem_mark_dirty is cheap
 * and thread-safe (atomic bit sets), a no-op when tracking is off or the
 * range is not RAM. */
int gmem_dirty_enable(struct guest_mem *m);
void gmem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Words of region i's bitmap (one bit per page). */
uint64_t gmem_dirty_words(const struct guest_mem *m, int i);
/* ORs the VMM's bits of region i into out (gmem_dirty_words long) and clears
 * them (atomically, word by word). */
void gmem_dirty_take(const struct guest_mem *m, int i, uint64_t *out);
/* Puts bits back (a snapshot that failed after taking them). */
void gmem_dirty_restore(const struct guest_mem *m, int i, const uint64_t *bits);

/* Copy helpers: -EFAULT if the range is not wholly in RAM (gmem_write marks
 * what it wrote dirty). */
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
#endif
