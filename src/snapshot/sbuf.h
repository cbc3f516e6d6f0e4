/* Byte streams for device state in a snapshot section: a growing writer and
 * a bounds-checked reader, little-endian fixed-width fields only (no host
 * pointers, no struct dumps). Errors are sticky: a writer that ran out of
 * memory, or a reader that ran past its end, says so once at the end
 * (sbuf_err / srd_end), so save/load code stays a straight list of fields. */
#ifndef MYVMM_SNAPSHOT_SBUF_H
#define MYVMM_SNAPSHOT_SBUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *p;
	size_t len, cap;
	int err;                 /* -ENOMEM, sticky */
};

void sb_bytes(struct sbuf *b, const void *data, size_t n);
void sb_u8(struct sbuf *b, uint8_t v);
void sb_u16(struct sbuf *b, uint16_t v);
void sb_u32(struct sbuf *b, uint32_t v);
void sb_u64(struct sbuf *b, uint64_t v);
void sb_free(struct sbuf *b);

struct srd {
	const uint8_t *p;
	size_t len, off;
	bool bad;                /* read past the end, or a value was out of range */
};

static inline void srd_init(struct srd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}
void srd_bytes(struct srd *r, void *out, size_t n);
uint8_t srd_u8(struct srd *r);
uint16_t srd_u16(struct srd *r);
uint32_t srd_u32(struct srd *r);
uint64_t srd_u64(struct srd *r);
/* A field the loader found out of range: the whole load fails. */
static inline void srd_reject(struct srd *r) { r->bad = true; }
/* 0 when every byte was read and nothing was rejected, else -EINVAL. */
int srd_end(const struct srd *r);

/* One device's save/load pair (a snapshot section per instance). save
 * appends the device's state to out (0 or -errno); load reads it back into a
 * device built from the same configuration, checking every value against
 * the device's limits (-EINVAL for a foreign or damaged blob). Neither runs
 * while a vCPU does: the VM is paused. */
struct snap_dev_ops {
	const char *name;
	uint32_t tag;            /* SNAP_TAG(...) of its section */
	uint32_t version;        /* of its byte layout */
	int (*save)(void *dev, struct sbuf *out);
	int (*load)(void *dev, struct srd *in);
};
#endif
