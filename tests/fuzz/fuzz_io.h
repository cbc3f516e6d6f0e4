/* Shared by the device fuzz targets: interprets the input as a sequence of
 * register accesses on a few bus regions, the way a guest's IN/OUT or MMIO
 * exits reach a device.
 *
 * Each access is: byte op, byte off_lo, byte off_hi, then (writes) len
 * bytes of value. op bits 0-1: size 1/2/4/8 (clamped to the region's max),
 * bit 2: write, bits 3-5: region (mod nr), bit 6+7 set: a host "event"
 * (fio_event callback gets off_lo/off_hi instead of an access). The offset
 * is taken modulo the region length, as the bus only forwards in-range
 * offsets; an access may still run past the end, as the bus allows. */
#ifndef MYVMM_FUZZ_IO_H
#define MYVMM_FUZZ_IO_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"

struct fio_region {
	const struct bus_ops *ops;
	void *opaque;
	uint64_t len;
	unsigned max_size;    /* 4 for port I/O, 8 for MMIO */
};

/* Host-side events (RX bytes, ticks, key presses); arg is 16 bits of input. */
typedef void (*fio_event)(void *opaque, unsigned arg);

/* Fake interrupt line: counts level changes, checks the level is 0/1. */
struct fio_irq_state {
	unsigned long raises, lowers;
};
static inline void fio_irq_set(void *opaque, uint32_t gsi, int level)
{
	struct fio_irq_state *s = opaque;
	if (level != 0 && level != 1)
		abort();
	if (s) {
		if (level)
			s->raises++;
		else
			s->lowers++;
	}
}

/* Runs all accesses in data; returns the number performed. */
static inline unsigned fio_run(const struct fio_region *r, unsigned nr, fio_event ev,
			       void *ev_opaque, const uint8_t *data, size_t size)
{
	static const unsigned sizes[4] = { 1, 2, 4, 8 };
	size_t pos = 0;
	unsigned n = 0;

	while (pos + 3 <= size) {
		uint8_t op = data[pos];
		unsigned off16 = data[pos + 1] | data[pos + 2] << 8;
		pos += 3;
		if ((op & 0xc0) == 0xc0) {
			if (ev)
				ev(ev_opaque, off16);
			continue;
		}
		const struct fio_region *g = &r[((op >> 3) & 7) % nr];
		unsigned len = sizes[op & 3];
		if (len > g->max_size)
			len = g->max_size;
		uint64_t off = off16 % g->len;
		uint8_t buf[8] = { 0 };
		if (op & 4) {
			size_t c = size - pos < len ? size - pos : len;
			memcpy(buf, data + pos, c);
			pos += c;
			if (g->ops->write)
				g->ops->write(g->opaque, off, buf, len);
		} else {
			memset(buf, 0xa5, sizeof(buf));
			if (g->ops->read)
				g->ops->read(g->opaque, off, buf, len);
		}
		n++;
	}
	return n;
}
#endif
