/* Guest RAM to and from a file, for snapshots: the file holds RAM regions
 * back to back at their file offsets; pages that are zero (never touched, or
 * zeroed) are holes, so the file is as large as what the guest used. A
 * restore maps the file MAP_PRIVATE over guest RAM: pages are read on first
 * touch and copied on first write, so a restored VM starts without reading
 * RAM and many VMs can share one snapshot file. */
#ifndef MYVMM_MEM_FILE_H
#define MYVMM_MEM_FILE_H
#include <stdint.h>

#include "mem/guest_mem.h"

/* Writes every non-zero 4 KiB page of m to fd (a new, empty file) at its
 * file offset; sets the file size to the RAM size. *written (if non-NULL)
 * gets the bytes of data written. Returns 0 or -errno. */
int gmem_save_file(const struct guest_mem *m, int fd, uint64_t *written);
/* The same, reading every page: for RAM mapped from a file (a restored VM),
 * where mincore reports the page cache, not what the guest touched. */
int gmem_save_file_all(const struct guest_mem *m, int fd, uint64_t *written);
/* Diff snapshots: writes only the pages whose bit is set in bits[i] (one
 * bitmap per region, gmem_dirty_words long), zero pages included, and sets
 * the file size to the RAM size: every other page is a hole. */
int gmem_save_file_pages(const struct guest_mem *m, int fd, uint64_t *const bits[],
			 uint64_t *written);
/* Applies a diff memory file onto its base (same size): copies the diff's
 * data ranges (SEEK_DATA/SEEK_HOLE) over the base and fdatasyncs it.
 * -EINVAL: not two regular files of one size; -EOPNOTSUPP: the diff's
 * filesystem does not report holes. *copied = bytes copied. */
int gmem_file_merge(int base, int diff, uint64_t *copied);
/* Replaces m's RAM mappings with private mappings of fd (a file written by
 * gmem_save_file for a RAM of the same size). Returns 0, -EINVAL when the
 * file's size does not match, or -errno. */
int gmem_map_file(struct guest_mem *m, int fd);
#endif
