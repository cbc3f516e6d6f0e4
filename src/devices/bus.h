/* One trap API for port I/O and MMIO. Devices register a range with a const
 * ops table and an opaque pointer; callbacks receive the offset relative to
 * the registered base. The bus rejects zero-length, wrapping and overlapping
 * ranges. Lookups take a read lock only to find the device; the callback runs
 * without any bus lock held (devices lock their own state). */
#ifndef MYVMM_BUS_H
#define MYVMM_BUS_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops {
	/* len is 1, 2, 4 or 8 (MMIO). data is little-endian guest bytes. A NULL
	 * read fills 0xff; a NULL write ignores the access. */
	void (*read)(void *opaque, uint64_t off, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t off, const void *data, uint32_t len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	pthread_rwlock_t lock;
	struct bus_range *r;   /* sorted by base, non-overlapping */
	size_t n, cap;
	const char *name;      /* "pio" / "mmio", for logs */
};

int bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);
/* Returns 0, -EINVAL (zero length or wraps), -EEXIST (overlap), -ENOMEM. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
	    void *opaque, const char *name);
/* Removes the range registered exactly at base; -ENOENT if none. */
int bus_remove(struct bus *b, uint64_t base);
/* Dispatches one access. Returns 0 if a device handled it, -ENOENT if no
 * device covers [addr, addr+len) (reads are then filled with 0xff). An
 * access straddling a device boundary counts as unhandled. */
int bus_access(struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write);

/* Little-endian helpers for device callbacks. */
static inline uint64_t bus_get_le(const void *data, uint32_t len)
{
	const uint8_t *p = data;
	uint64_t v = 0;
	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static inline void bus_put_le(void *data, uint32_t len, uint64_t v)
{
	uint8_t *p = data;
	for (uint32_t i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
#endif
