/* Opening and reading the user's files (--kernel, --initrd, --bios, config
 * files, disk images) without surprises: the type is checked before the
 * file is used (a FIFO or a terminal never blocks start-up: the open is
 * O_NONBLOCK and anything but the allowed kinds is refused), and the size
 * before anything is read (a file too big for its purpose is refused
 * without reading it). */
#ifndef MYVMM_FILE_H
#define MYVMM_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "host/err.h"

#define FILE_REGULAR 1u   /* regular files */
#define FILE_BLOCKDEV 2u  /* block devices (disks) */

/* Opens path with flags (O_RDONLY/O_RDWR, O_DIRECT...; O_CLOEXEC is added)
 * when its type is one of kinds; fills *st. Returns the fd, or -errno with
 * a line in err naming what (e.g. "--kernel") and the fix: -EISDIR for a
 * directory, -EINVAL for another kind (FIFO, socket, character device). */
int file_open(const char *what, const char *path, int flags, unsigned kinds, struct stat *st,
	      struct err *err);

/* Reads a whole regular file of at most max bytes into a malloc'd buffer.
 * -EFBIG (with "does not fit" in err) when it is larger, checked before
 * reading. Returns 0 or -errno with a line in err. */
int file_read_all(const char *what, const char *path, size_t max, uint8_t **buf, size_t *len,
		  struct err *err);
/* Reads exactly len bytes from offset 0 of fd into dst (a buffer the caller
 * owns, e.g. an anonymous mapping). 0, -EIO on a short file, or -errno. */
int file_read_into(int fd, void *dst, size_t len);

/* A disk image opened for a disk device: the checks and lock every disk
 * (virtio-blk and IDE) gets. */
struct disk_file {
	int fd;
	uint64_t size;          /* bytes, a multiple of 512 */
	bool blockdev;
};
/* Opens a regular file or block device read-only or read-write (O_DIRECT
 * when direct), checks the format (disk_format_check_raw: a qcow2 & co. is
 * refused unless format says raw), that its size is a non-zero multiple of
 * 512, and takes an OFD lock (read lock when ro, write lock otherwise) so no
 * two VMs write one image. Returns 0 or -errno with one line in err. */
int disk_file_open(const char *path, bool ro, bool direct, int format, struct disk_file *out,
		   struct err *err);
void disk_file_close(struct disk_file *d);
#endif
