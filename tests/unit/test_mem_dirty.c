/* Diff snapshots at the memory level (mem/dirty.c): the VMM's own dirty
 * marks (devices' writes; KVM's log covers the vCPUs'), a Diff memory file
 * holding only the marked pages (zero pages too), and merging it onto its
 * base. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "devices/virtio/virtqueue.h"
#include "machine/pc_map.h"
#include "mem/guest_mem.h"
#include "mem/mem_file.h"

static int tmpfile_fd(void)
{
	char path[] = "/tmp/myvmm-dirty-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
}

static bool bit(const uint64_t *b, uint64_t page)
{
	return b[page / 64] >> (page % 64) & 1;
}

START_TEST(marks_and_take)
{
	struct guest_mem m;
	ck_assert_int_eq(gmem_alloc(&m, 5 * GiB), 0);
	gmem_mark_dirty(&m, 0x5000, 1); /* tracking off: nothing, no crash */
	ck_assert_ptr_null(m.dirty[0]);
	ck_assert_int_eq(gmem_dirty_enable(&m), 0);
	ck_assert_int_eq(m.nr, 2);
	gmem_mark_dirty(&m, 0x5000, 1);
	gmem_mark_dirty(&m, 0x7ffe, 4);                 /* straddles pages 7 and 8 */
	ck_assert_int_eq(gmem_write(&m, 4 * GiB + 0x3000, "x", 1), 0); /* gmem_write marks */
	gmem_mark_dirty(&m, LAYOUT_MMIO_HOLE_START + 0x1000, 8); /* not RAM: ignored */
	gmem_mark_dirty(&m, m.r[0].size - 2, 100);      /* clamped to the region's end */

	uint64_t *b0 = calloc(gmem_dirty_words(&m, 0), 8), *b1 = calloc(gmem_dirty_words(&m, 1), 8);
	gmem_dirty_take(&m, 0, b0);
	gmem_dirty_take(&m, 1, b1);
	uint64_t last = m.r[0].size / 4096 - 1, n = 0;
	for (uint64_t p = 0; p <= last; p++)
		n += bit(b0, p);
	ck_assert_uint_eq(n, 4);
	ck_assert(bit(b0, 5) && bit(b0, 7) && bit(b0, 8) && bit(b0, last));
	ck_assert(bit(b1, 3) && !bit(b1, 2));
	/* taken: cleared */
	uint64_t *again = calloc(gmem_dirty_words(&m, 0), 8);
	gmem_dirty_take(&m, 0, again);
	ck_assert(!bit(again, 5));
	/* a failed snapshot puts them back */
	gmem_dirty_restore(&m, 0, b0);
	gmem_dirty_take(&m, 0, again);
	ck_assert(bit(again, 5) && bit(again, last));
	free(b0);
	free(b1);
	free(again);
	gmem_free(&m);
}
END_TEST

/* What a virtio device writes (a device-writable buffer it popped, the used
 * ring) is marked; what it only reads is not. */
START_TEST(virtqueue_marks)
{
	struct guest_mem m;
	struct virtqueue q;
	struct vq_chain c;
	ck_assert_int_eq(gmem_alloc(&m, 64 * MiB), 0);
	ck_assert_int_eq(gmem_dirty_enable(&m), 0);
	uint8_t *ram = m.r[0].hva;
	const uint64_t desc = 0x10000, avail = 0x11000, used = 0x12000;
	/* desc 0: 16 bytes driver->device at 0x20000, next 1; desc 1: 8 KiB
	 * device-writable at 0x30000 */
	uint64_t a0 = 0x20000, a1 = 0x30000;
	memcpy(ram + desc, &a0, 8);
	*(uint32_t *)(ram + desc + 8) = 16;
	*(uint16_t *)(ram + desc + 12) = VRING_DESC_F_NEXT;
	*(uint16_t *)(ram + desc + 14) = 1;
	memcpy(ram + desc + 16, &a1, 8);
	*(uint32_t *)(ram + desc + 24) = 8192;
	*(uint16_t *)(ram + desc + 28) = VRING_DESC_F_WRITE;
	*(uint16_t *)(ram + avail + 4) = 0;     /* ring[0] = head 0 */
	*(uint16_t *)(ram + avail + 2) = 1;     /* idx */
	ck_assert_int_eq(vq_init(&q, &m, 8, desc, avail, used, false, false), 0);
	uint64_t *b = calloc(gmem_dirty_words(&m, 0), 8);
	gmem_dirty_take(&m, 0, b); /* start clean */
	memset(b, 0, gmem_dirty_words(&m, 0) * 8);
	ck_assert_int_eq(vq_pop(&q, &c), 1);
	ck_assert_int_eq(vq_push(&q, c.head, 100), 0);
	gmem_dirty_take(&m, 0, b);
	ck_assert(bit(b, 0x30) && bit(b, 0x31));       /* the writable buffer */
	ck_assert(!bit(b, 0x20) && !bit(b, 0x10) && !bit(b, 0x11)); /* read only */
	ck_assert(bit(b, 0x12));                        /* the used ring */
	free(b);
	gmem_free(&m);
}
END_TEST

START_TEST(diff_file_and_merge)
{
	struct guest_mem m;
	int base = tmpfile_fd(), diff = tmpfile_fd();
	uint64_t written = 0, copied = 0;
	ck_assert_int_eq(gmem_alloc(&m, 32 * MiB), 0);
	memset(m.r[0].hva + 0x1000, 'A', 3 * 4096);        /* pages 1-3 */
	ck_assert_int_eq(gmem_save_file(&m, base, &written), 0);
	ck_assert_uint_eq(written, 3 * 4096);
	/* after the base: page 2 zeroed, page 5 written; only those are dirty */
	memset(m.r[0].hva + 0x2000, 0, 4096);
	memset(m.r[0].hva + 0x5000, 'B', 4096);
	uint64_t *bits[GMEM_MAX_REGIONS] = { calloc(gmem_dirty_words(&m, 0), 8) };
	bits[0][0] = 1u << 2 | 1u << 5;
	ck_assert_int_eq(gmem_save_file_pages(&m, diff, bits, &written), 0);
	ck_assert_uint_eq(written, 2 * 4096);             /* the zero page is data too */
	struct stat st;
	ck_assert_int_eq(fstat(diff, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, 32 * MiB);
	ck_assert_uint_le((uint64_t)st.st_blocks * 512, 64 * 1024);
	ck_assert_int_eq(gmem_file_merge(base, diff, &copied), 0);
	ck_assert_uint_ge(copied, 2 * 4096);
	uint8_t got[4096], want[4096];
	for (int p = 0; p < 8; p++) {
		ck_assert_int_eq(pread(base, got, 4096, p * 4096), 4096);
		memset(want, p == 1 || p == 3 ? 'A' : p == 5 ? 'B' : 0, 4096);
		ck_assert_msg(!memcmp(got, want, 4096), "page %d after the merge", p);
	}
	/* other sizes: refused */
	ck_assert_int_eq(ftruncate(diff, 16 * MiB), 0);
	ck_assert_int_eq(gmem_file_merge(base, diff, &copied), -EINVAL);
	free(bits[0]);
	close(base);
	close(diff);
	gmem_free(&m);
}
END_TEST

CHECK_MAIN("mem_dirty", marks_and_take, virtqueue_marks, diff_file_and_merge)
