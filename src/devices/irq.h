/* An interrupt line handed to a device. The device never sees struct vm: in
 * production set() raises/lowers a KVM GSI, in unit tests it records levels. */
#ifndef MYVMM_IRQ_H
#define MYVMM_IRQ_H
#include <stdint.h>

struct irq_line {
	/* level: 1 asserted, 0 deasserted. Must be callable from any thread. */
	void (*set)(void *opaque, uint32_t gsi, int level);
	void *opaque;
	uint32_t gsi;
};

static inline void irq_set(const struct irq_line *l, int level)
{
	if (l && l->set)
		l->set(l->opaque, l->gsi, level);
}
#endif
