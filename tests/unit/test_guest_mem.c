#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "mem/guest_mem.h"
#include "mem/mem_file.h"
#include "machine/pc_map.h"

static void expect_e820(uint64_t ram, const struct e820_entry *want, int nwant)
{
	struct e820_entry e[E820_MAX];
	int n = gmem_e820(ram, e, E820_MAX);
	ck_assert_int_eq(n, nwant);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].addr, want[i].addr);
		ck_assert_uint_eq(e[i].size, want[i].size);
		ck_assert_uint_eq(e[i].type, want[i].type);
	}
	/* Sorted and non-overlapping; RAM adds up to the requested size minus
	 * the low holes (EBDA + VGA/BIOS area). */
	uint64_t ram_sum = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			ck_assert_uint_ge(e[i].addr, e[i - 1].addr + e[i - 1].size);
		if (e[i].type == E820_RAM)
			ram_sum += e[i].size;
		/* Nothing in the MMIO hole. */
		ck_assert(e[i].addr + e[i].size <= LAYOUT_MMIO_HOLE_START || e[i].addr >= 4 * GiB);
	}
	ck_assert_uint_eq(ram_sum, ram - (LAYOUT_HIGHMEM_START - LAYOUT_EBDA_START));
}

#define LOW3 { 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x400, E820_RESERVED }, \
	{ 0xe0000, 0x20000, E820_RESERVED }

START_TEST(e820_128m)
{
	const struct e820_entry w[] = { LOW3, { 1 * MiB, 127 * MiB, E820_RAM } };
	expect_e820(128 * MiB, w, 4);
}
END_TEST

START_TEST(e820_3g)
{
	const struct e820_entry w[] = { LOW3, { 1 * MiB, 3 * GiB - 1 * MiB, E820_RAM } };
	expect_e820(3 * GiB, w, 4);
}
END_TEST

START_TEST(e820_5g)
{
	const struct e820_entry w[] = { LOW3, { 1 * MiB, 3 * GiB - 1 * MiB, E820_RAM },
					{ 4 * GiB, 2 * GiB, E820_RAM } };
	expect_e820(5 * GiB, w, 5);
}
END_TEST

START_TEST(e820_8g)
{
	const struct e820_entry w[] = { LOW3, { 1 * MiB, 3 * GiB - 1 * MiB, E820_RAM },
					{ 4 * GiB, 5 * GiB, E820_RAM } };
	expect_e820(8 * GiB, w, 5);
}
END_TEST

START_TEST(plan_rejects)
{
	struct gmem_region r[2];
	ck_assert_int_eq(gmem_plan(0, r, 2), -EINVAL);
	ck_assert_int_eq(gmem_plan(8 * MiB, r, 2), -EINVAL);
	ck_assert_int_eq(gmem_plan(128 * MiB + 1, r, 2), -EINVAL);
	ck_assert_int_eq(gmem_plan(128 * MiB, r, 1), -EINVAL);
	ck_assert_int_eq(gmem_plan(1ULL << 50, r, 2), -EINVAL);
	ck_assert_int_eq(gmem_plan(5 * GiB, r, 2), 2);
	ck_assert_uint_eq(r[1].gpa, 4 * GiB);
}
END_TEST

START_TEST(ptr_bounds)
{
	struct guest_mem m;
	ck_assert_int_eq(gmem_alloc(&m, 5 * GiB), 0); /* MAP_NORESERVE: cheap */
	ck_assert_int_eq(m.nr, 2);
	ck_assert_ptr_nonnull(gmem_ptr(&m, 0, 4096));
	ck_assert_ptr_nonnull(gmem_ptr(&m, 3 * GiB - 8, 8));
	ck_assert_ptr_null(gmem_ptr(&m, 3 * GiB - 8, 9));   /* runs into the hole */
	ck_assert_ptr_null(gmem_ptr(&m, 3 * GiB, 1));       /* in the hole */
	ck_assert_ptr_nonnull(gmem_ptr(&m, 4 * GiB, 1));
	ck_assert_ptr_nonnull(gmem_ptr(&m, 6 * GiB - 1, 1));
	ck_assert_ptr_null(gmem_ptr(&m, 6 * GiB - 1, 2));   /* past the end */
	ck_assert_ptr_null(gmem_ptr(&m, UINT64_MAX, 2));    /* wraps */
	ck_assert_ptr_null(gmem_ptr(&m, 4096, UINT64_MAX)); /* huge length */
	uint8_t buf[4] = { 1, 2, 3, 4 }, out[4];
	ck_assert_int_eq(gmem_write(&m, 4 * GiB + 100, buf, 4), 0);
	ck_assert_int_eq(gmem_read(&m, 4 * GiB + 100, out, 4), 0);
	ck_assert_mem_eq(buf, out, 4);
	ck_assert_int_eq(gmem_write(&m, 3 * GiB - 2, buf, 4), -EFAULT);
	gmem_free(&m);
}
END_TEST

START_TEST(zero_only_where_needed)
{
	uint8_t *b = malloc(3 * 4096 + 100);
	memset(b, 0, 3 * 4096 + 100);
	b[5000] = 7;
	b[3 * 4096 + 99] = 9;
	gmem_zero(b + 1, 3 * 4096 + 99);
	for (int i = 0; i < 3 * 4096 + 100; i++)
		ck_assert_uint_eq(b[i], 0);
	memset(b, 0xaa, 64);
	gmem_zero(b + 10, 20); /* a range inside one chunk */
	ck_assert_uint_eq(b[9], 0xaa);
	ck_assert_uint_eq(b[10], 0);
	ck_assert_uint_eq(b[29], 0);
	ck_assert_uint_eq(b[30], 0xaa);
	free(b);
}
END_TEST

/* Shared RAM: one sealed memfd behind both regions; another mapping of the
 * fd at a region's fd_offset (what a vhost-user back-end does) sees the
 * guest's bytes, and the file cannot be shrunk or grown. */
START_TEST(shared_ram)
{
	struct guest_mem m;
	ck_assert_int_eq(gmem_alloc_shared(&m, 5 * GiB), 0);
	ck_assert_int_eq(m.nr, 2);
	ck_assert_int_ge(m.fd, 0);
	ck_assert_uint_eq(m.fd_offset[0], 0);
	ck_assert_uint_eq(m.fd_offset[1], m.r[0].size);
	ck_assert_uint_eq((uintptr_t)m.r[1].hva % (2 * MiB), 0);
	ck_assert_int_eq(gmem_write(&m, 4 * GiB + 4096, "peer", 4), 0);
	uint8_t *peer = mmap(NULL, 8192, PROT_READ, MAP_SHARED, m.fd,
			     (off_t)(m.fd_offset[1]));
	ck_assert_ptr_ne(peer, MAP_FAILED);
	ck_assert_mem_eq(peer + 4096, "peer", 4);
	munmap(peer, 8192);
	ck_assert_int_ne(ftruncate(m.fd, 4096), 0);
	ck_assert_int_ne(ftruncate(m.fd, 6 * GiB), 0);
	int fd = m.fd;
	gmem_free(&m);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_lt(fcntl(fd, F_GETFD), 0); /* closed */
	/* Anonymous RAM has no fd. */
	ck_assert_int_eq(gmem_alloc(&m, 64 * MiB), 0);
	ck_assert_int_eq(m.fd, -1);
	gmem_free(&m);
}
END_TEST

/* A RAM snapshot file holds only the used pages (holes elsewhere), and a
 * private mapping of it restores the bytes without touching the file on
 * writes (copy-on-write: another VM can share it). */
START_TEST(snapshot_file)
{
	struct guest_mem m, n;
	char path[] = "/tmp/myvmm-memfile-XXXXXX";
	uint64_t written = 0;
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(gmem_alloc(&m, 5 * GiB), 0);
	ck_assert_int_eq(gmem_write(&m, 0x1000, "low", 3), 0);
	ck_assert_int_eq(gmem_write(&m, 4 * GiB + 0x123456, "high", 4), 0);
	uint8_t zero[4096] = { 0 };
	ck_assert_int_eq(gmem_write(&m, 0x200000, zero, sizeof(zero)), 0); /* touched, zero */
	ck_assert_int_eq(gmem_save_file(&m, fd, &written), 0);
	ck_assert_uint_eq(written, 2 * 4096);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 5 * GiB);
	ck_assert_uint_le((uint64_t)st.st_blocks * 512, 64 * 1024); /* sparse */
	gmem_free(&m);

	ck_assert_int_eq(gmem_alloc(&n, 5 * GiB), 0);
	ck_assert_int_eq(gmem_map_file(&n, fd), 0);
	char buf[4];
	ck_assert_int_eq(gmem_read(&n, 0x1000, buf, 3), 0);
	ck_assert_mem_eq(buf, "low", 3);
	ck_assert_int_eq(gmem_read(&n, 4 * GiB + 0x123456, buf, 4), 0);
	ck_assert_mem_eq(buf, "high", 4);
	ck_assert_int_eq(gmem_write(&n, 0x1000, "NEW", 3), 0);
	ck_assert_int_eq(pread(fd, buf, 3, 0x1000), 3);
	ck_assert_mem_eq(buf, "low", 3); /* the file is unchanged */
	gmem_free(&n);

	ck_assert_int_eq(gmem_alloc(&n, 64 * MiB), 0);
	ck_assert_int_eq(gmem_map_file(&n, fd), -EINVAL); /* another RAM size */
	gmem_free(&n);
	close(fd);
}
END_TEST

/* The VMA flags of the mapping holding p: does it carry MADV_HUGEPAGE ("hg")? */
static bool vma_huge(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, hg = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8))
			hg = strstr(line, " hg") != NULL;
	}
	fclose(f);
	return hg;
}

/* Anonymous RAM: huge pages asked for above 2 MiB; below only after
 * gmem_huge_low (VMs with O_DIRECT disks). Shared RAM is left alone. */
START_TEST(huge_low)
{
	struct guest_mem m;

	ck_assert_int_eq(gmem_alloc(&m, 64 * MiB), 0);
	uint8_t *lo = gmem_ptr(&m, 0x1000, 1), *hi = gmem_ptr(&m, 0x300000, 1);
	ck_assert(!vma_huge(lo));
	ck_assert(vma_huge(hi));
	gmem_huge_low(&m);
	ck_assert(vma_huge(lo));
	ck_assert(vma_huge(gmem_ptr(&m, 0x1fffff, 1)));
	ck_assert(vma_huge(hi));
	ck_assert_int_eq(gmem_write(&m, 0x1000, "x", 1), 0); /* still plain RAM */
	gmem_free(&m);
	ck_assert_int_eq(gmem_alloc_shared(&m, 64 * MiB), 0);
	gmem_huge_low(&m);
	ck_assert(!vma_huge(gmem_ptr(&m, 0x1000, 1)));
	gmem_free(&m);
}
END_TEST

CHECK_MAIN("guest_mem", e820_128m, e820_3g, e820_5g, e820_8g, plan_rejects, ptr_bounds,
	zero_only_where_needed, shared_ram, snapshot_file, huge_low)
