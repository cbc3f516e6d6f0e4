/* Disk image formats, told apart by their magic bytes, so that an image in a
 * container format (qcow2, VMDK, ...) is never served to a guest as if its
 * bytes were the disk: a guest that partitions such a "disk" destroys the
 * image. Pure: the probe looks at a buffer the caller read. */
#ifndef MYVMM_DISK_FORMAT_H
#define MYVMM_DISK_FORMAT_H
#include <stddef.h>
#include <stdint.h>

enum disk_format {
	DISK_FMT_AUTO = 0,   /* probe (the default) */
	DISK_FMT_RAW,
	DISK_FMT_QCOW2,
	DISK_FMT_QCOW,       /* qcow version 1 */
	DISK_FMT_QED,
	DISK_FMT_VMDK,
	DISK_FMT_VDI,
	DISK_FMT_VHDX,
	DISK_FMT_VPC,        /* VHD (Virtual PC), dynamic */
	DISK_FMT_LUKS,
	DISK_FMT_PARALLELS,
	DISK_FMT_BOCHS,
	DISK_FMT_COUNT
};

/* Bytes of the image start the probe needs. */
#define DISK_PROBE_LEN 512

/* The format whose magic buf (the first len bytes of the image) carries, or
 * DISK_FMT_RAW when none does. */
enum disk_format disk_format_probe(const uint8_t *buf, size_t len);
/* qemu-img's name for f ("raw", "qcow2", "vmdk", ...). */
const char *disk_format_name(enum disk_format f);
/* The format named s (qemu-img's names), or -1. */
int disk_format_parse(const char *s);
/* Reads the first DISK_PROBE_LEN bytes of fd (any alignment, pread) and
 * probes them. A short or empty image is raw. -errno on a read error. */
int disk_format_probe_fd(int fd, enum disk_format *out);
#endif

/* Decides whether the image open on fd may be served raw, given the format the
 * user declared (DISK_FMT_AUTO: probe; DISK_FMT_RAW: serve the bytes as they
 * are, no probe). Returns 0 when it may, else -EMEDIUMTYPE (or a read error)
 * with one line in err naming the format and the fix. */
int disk_format_check_raw(int fd, const char *path, enum disk_format declared,
			  char *err, size_t errlen);
