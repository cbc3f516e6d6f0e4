/* Guest RAM on a hugetlbfs or other file (see mem_backing.h). */
#include "mem/mem_backing.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define ERR(...) (snprintf(err, GMEM_BACKING_ERR_LEN, __VA_ARGS__))

void gmem_fmt_size(uint64_t bytes, char *buf, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (u < 4 && bytes && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	snprintf(buf, n, "%" PRIu64 " %s", bytes, unit[u]);
}

static bool page_ok(uint64_t page_size)
{
	return page_size >= 4096 && !(page_size & (page_size - 1));
}

int gmem_pages_for(uint64_t ram, uint64_t page_size, uint64_t *pages)
{
	if (!page_ok(page_size) || (ram & (page_size - 1)))
		return -EINVAL;
	*pages = ram / page_size;
	return 0;
}

uint64_t gmem_round_up(uint64_t ram, uint64_t page_size)
{
	return (ram + page_size - 1) & ~(page_size - 1);
}

uint64_t gmem_pool_available(const struct gmem_huge_pool *p)
{
	uint64_t avail = p->free > p->resv ? p->free - p->resv : 0;
	if (p->overcommit > p->surplus)
		avail += p->overcommit - p->surplus;
	return avail;
}

int gmem_huge_shortage(const char *what, uint64_t ram, uint64_t page_size,
		       const struct gmem_huge_pool *p, bool default_size, char *buf, size_t n)
{
	char rs[32], ps[32], knob[96];
	uint64_t need, avail = gmem_pool_available(p);

	if (gmem_pages_for(ram, page_size, &need) || avail >= need)
		return 0;
	gmem_fmt_size(ram, rs, sizeof(rs));
	gmem_fmt_size(page_size, ps, sizeof(ps));
	uint64_t want = p->nr + (need - avail);
	if (default_size)
		snprintf(knob, sizeof(knob), "sysctl -w vm.nr_hugepages=%" PRIu64, want);
	else
		snprintf(knob, sizeof(knob), "echo %" PRIu64 " > /sys/kernel/mm/hugepages/hugepages-%"
			 PRIu64 "kB/nr_hugepages", want, page_size >> 10);
	snprintf(buf, n, "%s: %s needs %" PRIu64 " huge pages of %s, %" PRIu64 " free: raise "
		 "vm.nr_hugepages (%s)", what, rs, need, ps, avail, knob);
	return 1;
}

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	unsigned long long x;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", &x) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*v = x;
	return 0;
}

/* The pool of page_size pages; -errno when the kernel has none of that size. */
static int read_pool(uint64_t page_size, struct gmem_huge_pool *p)
{
	static const char *const names[] = { "nr_hugepages", "free_hugepages", "resv_hugepages",
					     "nr_overcommit_hugepages", "surplus_hugepages" };
	uint64_t *dst[] = { &p->nr, &p->free, &p->resv, &p->overcommit, &p->surplus };
	char path[128];

	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s",
			 page_size >> 10, names[i]);
		int r = read_u64(path, dst[i]);
		if (r)
			return r;
	}
	return 0;
}

/* Hugepagesize from /proc/meminfo (bytes), 0 when unknown. */
static uint64_t default_huge_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

void gmem_backing_close(struct gmem_backing *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

/* An unlinked file in a hugetlbfs directory. */
static int tmpfile_in(const char *dir, const char *what, char *err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		int e = errno;
		ERR("%s: cannot create a file there (%s); check it is writable", what, strerror(e));
		return -e;
	}
	char *tmpl;
	if (asprintf(&tmpl, "%s/myvmm-ram-XXXXXX", dir) < 0) {
		ERR("out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		unlink(tmpl);
	free(tmpl);
	if (fd < 0) {
		ERR("%s: cannot create a file there (%s); check it is writable", what, strerror(e));
		return -e;
	}
	return fd;
}

static int open_path(const char *path, const char *what, char *err)
{
	struct stat st;
	struct statfs sf;
	int fd;

	if (stat(path, &st) < 0) {
		int e = errno;
		ERR("%s: %s; give a hugetlbfs mount (e.g. /dev/hugepages) or an existing file",
		    what, strerror(e));
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		if (statfs(path, &sf) < 0) {
			int e = errno;
			ERR("%s: %s", what, strerror(e));
			return -e;
		}
		if (sf.f_type != HUGETLBFS_MAGIC) {
			ERR("%s: not a hugetlbfs mount; give one (mount -t hugetlbfs none "
			    "/dev/hugepages), a file, or use --hugepages", what);
			return -EINVAL;
		}
		return tmpfile_in(path, what, err);
	}
	if (!S_ISREG(st.st_mode)) {
		ERR("%s: not a directory or a regular file; give a hugetlbfs mount (e.g. "
		    "/dev/hugepages) or a file", what);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		ERR("%s: %s; the file must be readable and writable", what, strerror(e));
		return -e;
	}
	/* Two VMs on one RAM file would corrupt each other. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		ERR("%s: %s", what, e == EWOULDBLOCK ? "in use by another VM (locked); give each "
		    "VM its own file" : strerror(e));
		return -e;
	}
	return fd;
}

static int shortage(struct gmem_backing *b, const char *what, uint64_t ram, bool dflt,
		    int e, char *err)
{
	struct gmem_huge_pool p;
	char rs[32];

	if (!read_pool(b->page_size, &p) &&
	    gmem_huge_shortage(what, ram, b->page_size, &p, dflt, err, GMEM_BACKING_ERR_LEN))
		return -ENOMEM;
	/* The pool has the pages: the mount's size= or a cgroup limits us. */
	gmem_fmt_size(ram, rs, sizeof(rs));
	ERR("%s: cannot reserve %s of huge pages (%s): the hugetlbfs mount's size= or the "
	    "hugetlb cgroup limit is too small", what, rs, strerror(e));
	return -e;
}

/* Sizes the file to at least ram and makes sure every page of [0, ram) is
 * there when the guest touches it. hugetlb: a shared mapping without
 * MAP_NORESERVE reserves the file's pages in the pool (they stay reserved
 * for the file after munmap, until it is truncated or freed), or fails now;
 * they are zeroed on first touch, so a start costs no zeroing (fallocate of
 * 1 GiB took ~250 ms here). Other files: fallocate, so a full filesystem is
 * an error now rather than a SIGBUS later. */
static int allocate(struct gmem_backing *b, const char *what, uint64_t ram, bool dflt,
		    char *err)
{
	struct stat st;
	char rs[32];

	gmem_fmt_size(ram, rs, sizeof(rs));
	if (fstat(b->fd, &st) < 0) {
		int e = errno;
		ERR("%s: %s", what, strerror(e));
		return -e;
	}
	if ((uint64_t)st.st_size < ram && ftruncate(b->fd, (off_t)ram) < 0) {
		int e = errno;
		ERR("%s: cannot size the file to %s (%s)", what, rs, strerror(e));
		return -e;
	}
	if (b->hugetlb) {
		void *p = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
		if (p == MAP_FAILED)
			return shortage(b, what, ram, dflt, errno, err);
		munmap(p, ram);
		return 0;
	}
	if (fallocate(b->fd, 0, 0, (off_t)ram) == 0)
		return 0;
	int e = errno;
	if (e == EOPNOTSUPP || e == ENOSYS)
		return 0; /* a filesystem without fallocate: pages come on first touch */
	ERR("%s: cannot allocate %s (%s)%s", what, rs, strerror(e),
	    e == ENOSPC ? "; free space on its filesystem or use a smaller --mem" : "");
	return -e;
}

int gmem_backing_open(const char *path, bool hugepages, uint64_t ram, struct gmem_backing *b,
		      char err[GMEM_BACKING_ERR_LEN])
{
	char what[240], rs[32], ps[32];
	struct statfs sf;
	int r;

	b->fd = -1;
	b->page_size = 4096;
	b->hugetlb = false;
	if (path)
		snprintf(what, sizeof(what), "--mem-path %.200s", path);
	else
		snprintf(what, sizeof(what), "--hugepages");
	if (path) {
		if ((r = open_path(path, what, err)) < 0)
			return r;
		b->fd = r;
	} else {
		b->fd = memfd_create("myvmm-guest-ram", MFD_CLOEXEC | MFD_HUGETLB);
		if (b->fd < 0) {
			int e = errno;
			ERR("--hugepages: this kernel gives no hugetlb memfd (%s); use a kernel with "
			    "CONFIG_HUGETLBFS or drop --hugepages", strerror(e));
			return -e;
		}
	}
	if (fstatfs(b->fd, &sf) < 0) {
		r = -errno;
		ERR("%s: %s", what, strerror(-r));
		goto fail;
	}
	uint64_t dflt = default_huge_size();
	b->hugetlb = sf.f_type == HUGETLBFS_MAGIC;
	if (b->hugetlb)
		b->page_size = (uint64_t)sf.f_bsize;
	if (!page_ok(b->page_size)) {
		r = -EINVAL;
		ERR("%s: page size %" PRIu64 " is not a power of two", what, b->page_size);
		goto fail;
	}
	if (ram & (b->page_size - 1)) {
		uint64_t up = gmem_round_up(ram, b->page_size);
		gmem_fmt_size(b->page_size, ps, sizeof(ps));
		r = -EINVAL;
		if (ram & ((1ULL << 20) - 1))
			snprintf(rs, sizeof(rs), "%" PRIu64 "K", ram >> 10);
		else
			snprintf(rs, sizeof(rs), "%" PRIu64 "M", ram >> 20);
		ERR("--mem %s is not a multiple of the %s huge pages of %s; use --mem %" PRIu64 "M",
		    rs, ps, what, up >> 20);
		goto fail;
	}
	if (b->hugetlb) {
		/* Say so before allocating anything; fallocate stays the final word
		 * (overcommit, mount limits, cgroups). */
		struct gmem_huge_pool p;
		if (!read_pool(b->page_size, &p) &&
		    gmem_huge_shortage(what, ram, b->page_size, &p, b->page_size == dflt, err,
				       GMEM_BACKING_ERR_LEN)) {
			r = -ENOMEM;
			goto fail;
		}
	}
	if ((r = allocate(b, what, ram, b->page_size == dflt, err)))
		goto fail;
	return 0;
fail:
	gmem_backing_close(b);
	return r;
}
