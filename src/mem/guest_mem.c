/* Guest RAM layout, e820 map and checked gpa -> hva translation. */
#include "mem/guest_mem.h"
#include "machine/pc_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GMEM_MIN_RAM (16 * MiB)
#define PAGE_SIZE_4K 4096ULL

int gmem_plan(uint64_t ram_size, struct gmem_region *out, int max)
{
	uint64_t low, high;
	int n = 0;

	if (ram_size < GMEM_MIN_RAM || (ram_size & (PAGE_SIZE_4K - 1)) || max < 2)
		return -EINVAL;
	/* 1 TiB is far beyond what we map below the 64-bit PCI window. */
	if (ram_size > (1ULL << 40))
		return -EINVAL;
	low = ram_size < LAYOUT_MMIO_HOLE_START ? ram_size : LAYOUT_MMIO_HOLE_START;
	high = ram_size - low;
	out[n++] = (struct gmem_region){ .gpa = 0, .size = low, .hva = NULL };
	if (high)
		out[n++] = (struct gmem_region){ .gpa = LAYOUT_HIGH_RAM_START, .size = high };
	return n;
}

int gmem_e820(uint64_t ram_size, struct e820_entry *out, int max)
{
	struct gmem_region r[2];
	int nr = gmem_plan(ram_size, r, 2);
	int n = 0;

	if (nr < 0)
		return nr;
	if (max < 5)
		return -ENOSPC;
	out[n++] = (struct e820_entry){ 0, LAYOUT_EBDA_START, E820_RAM };
	out[n++] = (struct e820_entry){ LAYOUT_EBDA_START, LAYOUT_LOWMEM_END - LAYOUT_EBDA_START,
					E820_RESERVED };
	out[n++] = (struct e820_entry){ LAYOUT_ACPI_BASE, LAYOUT_HIGHMEM_START - LAYOUT_ACPI_BASE,
					E820_RESERVED };
	out[n++] = (struct e820_entry){ LAYOUT_HIGHMEM_START, r[0].size - LAYOUT_HIGHMEM_START,
					E820_RAM };
	if (nr > 1)
		out[n++] = (struct e820_entry){ r[1].gpa, r[1].size, E820_RAM };
	return n;
}

#define GMEM_HUGE (2 * MiB)

/* A mapping (anonymous, or of fd at off) whose start is aligned to align (2
 * MiB, or the huge page size of a hugetlbfs file), so that guest-physical and
 * host-virtual large-page boundaries coincide (KVM can then map guest RAM
 * with large pages; hugetlbfs needs it). NULL with errno on failure. */
static void *map_aligned(uint64_t size, int fd, uint64_t off, uint64_t align, bool hugetlb)
{
	/* Anonymous RAM is mapped in one go; file RAM over a reserved window. */
	uint8_t *p = mmap(NULL, size + align, fd < 0 ? PROT_READ | PROT_WRITE : PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	/* hugetlb pages are allocated already (mem_backing.c): no NORESERVE,
	 * which would let a shortage SIGBUS the guest later. */
	int fl = MAP_SHARED | MAP_FIXED | (hugetlb ? 0 : MAP_NORESERVE);
	if (fd >= 0 && mmap((void *)a, size, PROT_READ | PROT_WRITE, fl, fd, (off_t)off) == MAP_FAILED) {
		int e = errno;
		munmap(p, size + align);
		errno = e;
		return NULL;
	}
	/* Trim the slack before and after the aligned window. */
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + align > a)
		munmap((void *)(a + size), (uintptr_t)p + align - a);
	return (void *)a;
}

/* fd: -1 for anonymous RAM, -2 for a new sealed memfd, else a file (owned). */
static int alloc(struct guest_mem *m, uint64_t ram_size, int fd, uint64_t page_size, bool hugetlb)
{
	struct gmem_region plan[GMEM_MAX_REGIONS];
	int nr = gmem_plan(ram_size, plan, GMEM_MAX_REGIONS);
	uint64_t off = 0, align = page_size > GMEM_HUGE ? page_size : GMEM_HUGE;

	memset(m, 0, sizeof(*m));
	m->fd = fd >= 0 ? fd : -1;
	m->page_size = page_size;
	m->hugetlb = hugetlb;
	m->file = fd >= 0;
	if (nr < 0) {
		gmem_free(m);
		return nr;
	}
	if (fd == -2) {
		m->fd = memfd_create("myvmm-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (m->fd < 0)
			return -errno;
		if (ftruncate(m->fd, (off_t)ram_size) < 0 ||
		    fcntl(m->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
			int err = -errno;
			gmem_free(m);
			return err;
		}
	}
	for (int i = 0; i < nr; i++) {
		void *p = map_aligned(plan[i].size, m->fd, off, align, hugetlb);
		if (!p) {
			int err = -errno;
			gmem_free(m);
			return err == -EINVAL ? -ENOMEM : err;
		}
		/* Guest RAM must never end up in a core dump of the VMM. */
		madvise(p, plan[i].size, MADV_DONTDUMP);
		/* Transparent huge pages where the guest keeps its data: fewer
		 * page-table walks, and O_DIRECT disk I/O pins 2 MiB pages instead
		 * of 512 small ones (sequential virtio-blk reads ~2x faster here).
		 * The first 2 MiB stay small pages, so a tiny guest's RSS stays
		 * small (gmem_huge_low: unless the VM has O_DIRECT disks). Best
		 * effort: THP may be off on the host. */
		uint64_t skip = plan[i].gpa == 0 ? GMEM_HUGE : 0;
		if (!hugetlb && plan[i].size > skip)
			madvise((uint8_t *)p + skip, plan[i].size - skip, MADV_HUGEPAGE);
		m->r[i] = plan[i];
		m->r[i].hva = p;
		m->fd_offset[i] = off;
		m->nr = i + 1;
		off += plan[i].size;
	}
	m->ram_size = ram_size;
	return 0;
}

int gmem_alloc(struct guest_mem *m, uint64_t ram_size)
{
	/* bench/mem.sh: MYVMM_BENCH_MEM=shared measures the memfd (shareable)
	 * RAM where nothing needs it (hugetlb RAM: --hugepages, --mem-path). */
	const char *bm = getenv("MYVMM_BENCH_MEM");
	bool shared = bm && !strcmp(bm, "shared");
	return alloc(m, ram_size, shared ? -2 : -1, PAGE_SIZE_4K, false);
}

int gmem_alloc_shared(struct guest_mem *m, uint64_t ram_size)
{
	return alloc(m, ram_size, -2, PAGE_SIZE_4K, false);
}

int gmem_alloc_fd(struct guest_mem *m, uint64_t ram_size, int fd, uint64_t page_size, bool hugetlb)
{
	if (fd < 0 || page_size < PAGE_SIZE_4K || (page_size & (page_size - 1)) ||
	    (ram_size & (page_size - 1))) {
		if (fd >= 0)
			close(fd);
		memset(m, 0, sizeof(*m));
		m->fd = -1;
		return -EINVAL;
	}
	return alloc(m, ram_size, fd, page_size, hugetlb);
}

const char *gmem_backing_name(const struct guest_mem *m)
{
	return m->hugetlb ? "hugetlb" : m->file ? "file" : m->fd >= 0 ? "memfd" : "anonymous";
}

void gmem_huge_low(struct guest_mem *m)
{
	if (m->fd < 0 && m->nr > 0 && m->r[0].gpa == 0 && m->r[0].size >= GMEM_HUGE)
		madvise(m->r[0].hva, GMEM_HUGE, MADV_HUGEPAGE);
}

void gmem_free(struct guest_mem *m)
{
	for (int i = 0; i < m->nr; i++)
		if (m->r[i].hva)
			munmap(m->r[i].hva, m->r[i].size);
	for (int i = 0; i < GMEM_MAX_REGIONS; i++)
		free(m->dirty[i]);
	if (m->fd > 0) /* 0: a zeroed struct that was never allocated */
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	for (int i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];
		/* gpa - r->gpa < size and len <= size - offset: no overflow. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	/* Word-wise first, then the tail; n is at most one page. */
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w)
			return false;
	}
	for (; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void gmem_zero(void *hva, uint64_t len)
{
	uint8_t *p = hva;
	while (len) {
		/* Chunks end on 4 KiB boundaries of the host address. */
		size_t n = 4096 - ((uintptr_t)p & 4095);
		if (n > len)
			n = (size_t)len;
		if (!all_zero(p, n))
			memset(p, 0, n);
		p += n;
		len -= n;
	}
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	if (len)
		memcpy(p, src, len);
	gmem_mark_dirty(m, gpa, len);
	return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	if (len)
		memcpy(dst, p, len);
	return 0;
}
