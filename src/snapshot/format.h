/* The snapshot state file: a versioned, checksummed list of tagged sections
 * (one per vCPU, irqchip, device, ...). Guest RAM is a separate sparse file
 * (mem/mem_file.h). Layout, all little-endian:
 *   header  "MYVMSNAP" u32 format_version u32 nsections u64 ram_size
 *   section u32 tag u32 instance u32 version u32 len, len bytes, zero padding
 *           to 8, u32 crc32(payload) u32 0
 *   trailer "SNAPEND\0" u32 crc32(everything before the trailer) u32 0
 * The reader checks every length against the buffer, every checksum, and
 * the counts, and names the first problem; it never trusts the file. */
#ifndef MYVMM_SNAPSHOT_FORMAT_H
#define MYVMM_SNAPSHOT_FORMAT_H
#include <stddef.h>
#include <stdint.h>

#define SNAP_FORMAT_VERSION 1
#define SNAP_MAX_SECTIONS   4096
#define SNAP_MAX_SECTION    (16u << 20)
#define SNAP_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

struct snap_section {
	uint32_t tag, instance, version, len;
	const uint8_t *data;     /* into the reader's buffer */
};

/* A growing in-memory state file. */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nsections;
	int err;                 /* first error (-ENOMEM, -E2BIG), sticky */
};

void snap_writer_init(struct snap_writer *w, uint64_t ram_size);
void snap_put(struct snap_writer *w, uint32_t tag, uint32_t instance, uint32_t version,
	      const void *data, uint32_t len);
/* Appends the trailer; returns 0 or the sticky error. buf/len then hold the file. */
int snap_writer_finish(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);

struct snap_reader {
	uint64_t ram_size;
	uint32_t nsections;
	struct snap_section *sec;   /* malloc'd index */
};

/* Validates buf as a whole state file. Returns 0, or -EINVAL / -EPROTO with
 * one line in err ("not a myvmm snapshot", "format version 3, this myvmm
 * reads 1", "section 5 checksum mismatch", ...). */
int snap_read(struct snap_reader *r, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* The section with tag and instance, or NULL. */
const struct snap_section *snap_find(const struct snap_reader *r, uint32_t tag, uint32_t instance);
void snap_reader_free(struct snap_reader *r);
#endif
