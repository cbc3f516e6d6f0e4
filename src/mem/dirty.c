/* Guest RAM pages the VMM writes, for diff snapshots (guest_mem.h). KVM's
 * dirty log (KVM_MEM_LOG_DIRTY_PAGES) records what the vCPUs write; what
 * devices write into guest RAM from host threads (virtio buffers and used
 * rings, disk reads landing straight in guest buffers) never goes through
 * the guest's page tables, so it is recorded here. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/guest_mem.h"
#include "mem/mem_file.h"

#define PAGE_SHIFT 12

uint64_t gmem_dirty_words(const struct guest_mem *m, int i)
{
	uint64_t pages = m->r[i].size >> PAGE_SHIFT;
	return (pages + 63) / 64;
}

int gmem_dirty_enable(struct guest_mem *m)
{
	for (int i = 0; i < m->nr; i++) {
		if (m->dirty[i])
			continue;
		m->dirty[i] = calloc(gmem_dirty_words(m, i), sizeof(uint64_t));
		if (!m->dirty[i])
			return -ENOMEM;
	}
	return 0;
}

void gmem_mark_dirty(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->dirty[0])
		return; /* not tracking (gmem_dirty_enable sets every region's) */
	if (!len)
		len = 1;
	for (int i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];
		uint64_t *bits = m->dirty[i];
		if (!bits || gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		uint64_t off = gpa - r->gpa;
		uint64_t end = len > r->size - off ? r->size : off + len;
		for (uint64_t pg = off >> PAGE_SHIFT; pg <= (end - 1) >> PAGE_SHIFT; pg++) {
			uint64_t bit = 1ull << (pg & 63);
			/* Most marks hit a bit already set: read before the locked op. */
			if (!(__atomic_load_n(&bits[pg / 64], __ATOMIC_RELAXED) & bit))
				__atomic_fetch_or(&bits[pg / 64], bit, __ATOMIC_RELAXED);
		}
		return;
	}
}

void gmem_dirty_take(const struct guest_mem *m, int i, uint64_t *out)
{
	uint64_t n = gmem_dirty_words(m, i);
	if (!m->dirty[i])
		return;
	for (uint64_t w = 0; w < n; w++)
		if (__atomic_load_n(&m->dirty[i][w], __ATOMIC_RELAXED))
			out[w] |= __atomic_exchange_n(&m->dirty[i][w], 0, __ATOMIC_ACQ_REL);
}

void gmem_dirty_restore(const struct guest_mem *m, int i, const uint64_t *bits)
{
	uint64_t n = gmem_dirty_words(m, i);
	if (!m->dirty[i])
		return;
	for (uint64_t w = 0; w < n; w++)
		if (bits[w])
			__atomic_fetch_or(&m->dirty[i][w], bits[w], __ATOMIC_RELAXED);
}

int gmem_save_file_pages(const struct guest_mem *m, int fd, uint64_t *const bits[],
			 uint64_t *written)
{
	uint64_t w = 0, foff = 0;

	for (int i = 0; i < m->nr; i++) {
		uint64_t n = gmem_dirty_words(m, i), pages = m->r[i].size >> PAGE_SHIFT;
		for (uint64_t wd = 0; wd < n; wd++) {
			for (uint64_t b = bits[i][wd]; b; b &= b - 1) {
				uint64_t pg = wd * 64 + (uint64_t)__builtin_ctzll(b);
				if (pg >= pages)
					break;
				const uint8_t *src = m->r[i].hva + (pg << PAGE_SHIFT);
				for (uint64_t done = 0; done < 4096;) {
					ssize_t k = pwrite(fd, src + done, 4096 - done,
							   (off_t)(foff + (pg << PAGE_SHIFT) + done));
					if (k < 0 && errno == EINTR)
						continue;
					if (k <= 0)
						return k < 0 ? -errno : -EIO;
					done += (uint64_t)k;
				}
				w += 4096;
			}
		}
		foff += m->r[i].size;
	}
	if (ftruncate(fd, (off_t)foff) < 0)
		return -errno;
	if (written)
		*written = w;
	return 0;
}

/* Copies [off, off+len) of diff into base. */
static int copy_range(int diff, int base, off_t off, off_t len)
{
	static uint8_t buf[1 << 16];

	while (len > 0) {
		size_t want = len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(diff, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (ssize_t done = 0; done < n;) {
			ssize_t k = pwrite(base, buf + done, (size_t)(n - done), off + done);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return k < 0 ? -errno : -EIO;
			done += k;
		}
		off += n;
		len -= n;
	}
	return 0;
}

int gmem_file_merge(int base, int diff, uint64_t *copied)
{
	struct stat bs, ds;
	off_t off = 0, data, hole;
	uint64_t total = 0;
	int r;

	if (fstat(base, &bs) || fstat(diff, &ds))
		return -errno;
	if (!S_ISREG(bs.st_mode) || !S_ISREG(ds.st_mode) || bs.st_size != ds.st_size)
		return -EINVAL;
	/* A filesystem that does not report holes says the whole file is data:
	 * copying that would overwrite the base with the diff's zeros. */
	hole = lseek(diff, 0, SEEK_HOLE);
	if (hole < 0)
		return -errno;
	if (hole >= ds.st_size && (uint64_t)ds.st_blocks * 512 < (uint64_t)ds.st_size)
		return -EOPNOTSUPP;
	while (off < ds.st_size) {
		data = lseek(diff, off, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* no data after off */
			return -errno;
		}
		hole = lseek(diff, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((r = copy_range(diff, base, data, hole - data)))
			return r;
		total += (uint64_t)(hole - data);
		off = hole;
	}
	if (fdatasync(base) < 0)
		return -errno;
	if (copied)
		*copied = total;
	return 0;
}
