/* Guest RAM on a file: --mem-path PATH (a hugetlbfs mount directory, where an
 * unlinked file is created, or an existing file on any filesystem) and
 * --hugepages (a memfd on the default-size hugetlb pages, no mount needed).
 * The whole size is reserved at start (hugetlb: a shared mapping without
 * MAP_NORESERVE; other files: fallocate), so a shortage of huge pages or disk
 * space is one error line before the guest runs, never a SIGBUS later. The fd is what guest_mem maps and what SET_MEM_TABLE gives
 * vhost-user back-ends. */
#ifndef MYVMM_MEM_BACKING_H
#define MYVMM_MEM_BACKING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_BACKING_ERR_LEN 512

struct gmem_backing {
	int fd;                  /* owned; -1 when closed */
	uint64_t page_size;      /* the file's page size: huge page size on hugetlbfs */
	bool hugetlb;            /* the file is on hugetlbfs (or a MFD_HUGETLB memfd) */
};

/* The counters of one hugetlb pool (/sys/kernel/mm/hugepages/hugepages-NkB/). */
struct gmem_huge_pool {
	uint64_t nr, free, resv, overcommit, surplus;
};

/* Pure: "2 MiB", "1 GiB", "513 MiB", "64 KiB", "4097 B" (the largest unit
 * that divides bytes exactly). */
void gmem_fmt_size(uint64_t bytes, char *buf, size_t n);
/* Pure: the number of pages of page_size bytes in ram (page_size a power of
 * two >= 4096). -EINVAL when ram is not a multiple (or page_size is bad). */
int gmem_pages_for(uint64_t ram, uint64_t page_size, uint64_t *pages);
/* Pure: ram rounded up to a multiple of page_size (a power of two). */
uint64_t gmem_round_up(uint64_t ram, uint64_t page_size);
/* Pure: pages the pool can still give (free - reserved + overcommit room). */
uint64_t gmem_pool_available(const struct gmem_huge_pool *p);
/* Pure: when the pool cannot give ram in pages of page_size, writes the one
 * line naming the shortage and the fix (what is "--mem-path DIR" or
 * "--hugepages"; default_size: the pool is vm.nr_hugepages's) and returns 1;
 * else 0. */
int gmem_huge_shortage(const char *what, uint64_t ram, uint64_t page_size,
		       const struct gmem_huge_pool *p, bool default_size, char *buf, size_t n);

/* Opens the backing for ram bytes of guest RAM (path: --mem-path, or NULL
 * with hugepages: --hugepages) and reserves all of it. 0, or -errno with
 * one line in err naming the problem and the fix. */
int gmem_backing_open(const char *path, bool hugepages, uint64_t ram, struct gmem_backing *b,
		      char err[GMEM_BACKING_ERR_LEN]);
void gmem_backing_close(struct gmem_backing *b);
#endif
