/* Guest RAM snapshot files (see mem_file.h). */
#include "mem/mem_file.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

static uint64_t file_offset(const struct guest_mem *m, int i)
{
	uint64_t off = 0;
	for (int j = 0; j < i; j++)
		off += m->r[j].size;
	return off;
}

static int is_zero(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)p;
	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/* Skips pages that were never faulted in (mincore) without reading them, so
 * saving a mostly untouched RAM does not populate it. */
static int write_region(int fd, const uint8_t *base, uint64_t size, uint64_t foff,
			bool all, uint64_t *written)
{
	enum { CHUNK = 512 };    /* pages per mincore call (2 MiB) */
	unsigned char vec[CHUNK];

	for (uint64_t off = 0; off < size; off += (uint64_t)CHUNK * PAGE) {
		uint64_t len = size - off < (uint64_t)CHUNK * PAGE ? size - off : (uint64_t)CHUNK * PAGE;
		if (all)
			memset(vec, 1, sizeof(vec));
		else if (mincore((void *)(base + off), len, vec) < 0)
			return -errno;
		for (uint64_t p = 0; p < len; p += PAGE) {
			const uint8_t *pg = base + off + p;
			if (!(vec[p / PAGE] & 1) || is_zero(pg, PAGE))
				continue;
			for (uint64_t done = 0; done < PAGE;) {
				ssize_t n = pwrite(fd, pg + done, PAGE - done,
						   (off_t)(foff + off + p + done));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return n < 0 ? -errno : -EIO;
				done += (uint64_t)n;
			}
			*written += PAGE;
		}
	}
	return 0;
}

static int save_file(const struct guest_mem *m, int fd, bool all, uint64_t *written)
{
	uint64_t w = 0, total = 0;
	int r;

	for (int i = 0; i < m->nr; i++) {
		if ((r = write_region(fd, m->r[i].hva, m->r[i].size, file_offset(m, i), all, &w)))
			return r;
		total += m->r[i].size;
	}
	if (ftruncate(fd, (off_t)total) < 0)
		return -errno;
	if (written)
		*written = w;
	return 0;
}

int gmem_save_file(const struct guest_mem *m, int fd, uint64_t *written)
{
	return save_file(m, fd, false, written);
}

int gmem_save_file_all(const struct guest_mem *m, int fd, uint64_t *written)
{
	return save_file(m, fd, true, written);
}

int gmem_map_file(struct guest_mem *m, int fd)
{
	struct stat st;
	uint64_t total = 0;

	for (int i = 0; i < m->nr; i++)
		total += m->r[i].size;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != total)
		return -EINVAL;
	for (int i = 0; i < m->nr; i++) {
		void *p = mmap(m->r[i].hva, m->r[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)file_offset(m, i));
		if (p == MAP_FAILED)
			return -errno;
		madvise(p, m->r[i].size, MADV_DONTDUMP);
	}
	return 0;
}
