/* Image format probe by magic (see disk_format.h). The magics are the ones
 * each format's specification puts at the start of the file. */
#include "host/disk_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[DISK_FMT_COUNT] = {
	[DISK_FMT_AUTO] = "auto",   [DISK_FMT_RAW] = "raw",       [DISK_FMT_QCOW2] = "qcow2",
	[DISK_FMT_QCOW] = "qcow",   [DISK_FMT_QED] = "qed",       [DISK_FMT_VMDK] = "vmdk",
	[DISK_FMT_VDI] = "vdi",     [DISK_FMT_VHDX] = "vhdx",     [DISK_FMT_VPC] = "vpc",
	[DISK_FMT_LUKS] = "luks",   [DISK_FMT_PARALLELS] = "parallels", [DISK_FMT_BOCHS] = "bochs",
};

struct magic {
	enum disk_format fmt;
	size_t off;
	const char *bytes;
	size_t len;
};

/* Sorted by nothing in particular: no two magics can both match. */
static const struct magic magics[] = {
	{ DISK_FMT_QED, 0, "QED\0", 4 },
	{ DISK_FMT_VMDK, 0, "KDMV", 4 },                        /* sparse extent header */
	{ DISK_FMT_VMDK, 0, "COWD", 4 },                        /* ESX sparse (COWD) */
	{ DISK_FMT_VMDK, 0, "# Disk DescriptorFile", 21 },      /* text descriptor */
	{ DISK_FMT_VDI, 0x40, "\x7f\x10\xda\xbe", 4 },          /* signature 0xbeda107f, LE */
	{ DISK_FMT_VHDX, 0, "vhdxfile", 8 },
	{ DISK_FMT_VPC, 0, "conectix", 8 },                     /* footer copy of a dynamic VHD */
	{ DISK_FMT_LUKS, 0, "LUKS\xba\xbe", 6 },
	{ DISK_FMT_PARALLELS, 0, "WithoutFreeSpace", 16 },
	{ DISK_FMT_PARALLELS, 0, "WithouFreSpacExt", 16 },
	{ DISK_FMT_BOCHS, 0, "Bochs Virtual HD Image", 22 },
};

enum disk_format disk_format_probe(const uint8_t *buf, size_t len)
{
	/* qcow and qcow2 share "QFI\xfb"; the big-endian version follows. */
	if (len >= 8 && !memcmp(buf, "QFI\xfb", 4)) {
		uint32_t v = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
			     (uint32_t)buf[6] << 8 | buf[7];
		return v == 1 ? DISK_FMT_QCOW : DISK_FMT_QCOW2;
	}
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		const struct magic *m = &magics[i];
		if (len >= m->off + m->len && !memcmp(buf + m->off, m->bytes, m->len))
			return m->fmt;
	}
	return DISK_FMT_RAW;
}

const char *disk_format_name(enum disk_format f)
{
	return (unsigned)f < DISK_FMT_COUNT ? names[f] : "unknown";
}

int disk_format_parse(const char *s)
{
	for (int f = 0; f < DISK_FMT_COUNT; f++)
		if (!strcmp(s, names[f]))
			return f;
	return -1;
}

int disk_format_probe_fd(int fd, enum disk_format *out)
{
	/* pread through a private buffer: O_DIRECT fds need an aligned one. */
	uint8_t *buf = NULL;
	ssize_t n;

	if (posix_memalign((void **)&buf, 4096, 4096))
		return -ENOMEM;
	do
		n = pread(fd, buf, 4096, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int r = -errno;
		free(buf);
		return r;
	}
	*out = disk_format_probe(buf, (size_t)n < DISK_PROBE_LEN ? (size_t)n : DISK_PROBE_LEN);
	free(buf);
	return 0;
}

int disk_format_check_raw(int fd, const char *path, enum disk_format declared,
			  char *err, size_t errlen)
{
	enum disk_format f = declared;
	int r;

	if (declared == DISK_FMT_RAW)
		return 0;
	if (declared == DISK_FMT_AUTO) {
		if ((r = disk_format_probe_fd(fd, &f))) {
			snprintf(err, errlen, "disk %s: cannot read its first sector: %s", path,
				 strerror(-r));
			return r;
		}
		if (f == DISK_FMT_RAW)
			return 0;
		snprintf(err, errlen,
			 "disk %s is a %s image, not a raw one, and myvmm serves only raw images: "
			 "convert it with 'qemu-img convert -O raw %s %s.raw' (or add ,format=raw to "
			 "serve its bytes unchanged)", path, disk_format_name(f), path, path);
		return -EMEDIUMTYPE;
	}
	snprintf(err, errlen,
		 "disk %s: format=%s images cannot be served by this build (raw only): convert it "
		 "with 'qemu-img convert -f %s -O raw %s %s.raw'", path, disk_format_name(f),
		 disk_format_name(f), path, path);
	return -EMEDIUMTYPE;
}
