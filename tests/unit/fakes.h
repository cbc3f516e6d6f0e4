/* Recording fakes for what devices are injected with, shared by the unit
 * tests: an IRQ line, a char sink, a vmctl and an MSI sink. Each fake is a
 * plain struct the test inspects; fake_*() builds the interface around it. */
#ifndef MYVMM_TEST_FAKES_H
#define MYVMM_TEST_FAKES_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/irq.h"
#include "devices/msix.h"
#include "devices/vmctl.h"

/* IRQ line: current level, rising edges, last gsi set. */
struct fake_irq {
	int level;
	int raises;
	uint32_t gsi;
};

static inline void fake_irq_set(void *opaque, uint32_t gsi, int level)
{
	struct fake_irq *f = opaque;

	if (level && !f->level)
		f->raises++;
	f->level = level;
	f->gsi = gsi;
}

static inline struct irq_line fake_irq_line(struct fake_irq *f, uint32_t gsi)
{
	return (struct irq_line){ .set = fake_irq_set, .opaque = f, .gsi = gsi };
}

/* Char sink: the first FAKE_SINK_SIZE bytes written, and the total. */
#define FAKE_SINK_SIZE 4096
struct fake_sink {
	char buf[FAKE_SINK_SIZE];
	size_t len;             /* bytes kept in buf */
	size_t total;           /* bytes written */
};

static inline void fake_sink_write(void *opaque, const void *buf, unsigned long len)
{
	struct fake_sink *k = opaque;

	for (unsigned long i = 0; i < len && k->len < sizeof(k->buf); i++)
		k->buf[k->len++] = ((const char *)buf)[i];
	k->total += len;
}

static inline struct char_sink fake_char_sink(struct fake_sink *k)
{
	return (struct char_sink){ .write = fake_sink_write, .opaque = k };
}

/* vmctl: stop requests and the last one's reason and value. */
struct fake_ctl {
	int stops;
	enum stop_reason why;
	int value;
};

static inline void fake_stop(void *opaque, enum stop_reason why, int value)
{
	struct fake_ctl *c = opaque;

	c->stops++;
	c->why = why;
	c->value = value;
}

static inline struct vmctl fake_vmctl(struct fake_ctl *c)
{
	return (struct vmctl){ .stop = fake_stop, .opaque = c };
}

/* MSI sink: per vector, routes (with the last message) and deliveries. */
#define FAKE_MSI_VECS 32
struct fake_msi {
	unsigned routed[FAKE_MSI_VECS], fired[FAKE_MSI_VECS];
	uint64_t addr[FAKE_MSI_VECS];
	uint32_t data[FAKE_MSI_VECS];
};

static inline int fake_msi_route(void *opaque, unsigned vec, uint64_t addr, uint32_t data)
{
	struct fake_msi *m = opaque;

	if (vec < FAKE_MSI_VECS) {
		m->routed[vec]++;
		m->addr[vec] = addr;
		m->data[vec] = data;
	}
	return 0;
}

static inline void fake_msi_fire(void *opaque, unsigned vec)
{
	struct fake_msi *m = opaque;

	if (vec < FAKE_MSI_VECS)
		m->fired[vec]++;
}

static inline struct msi_sink fake_msi_sink(struct fake_msi *m)
{
	static const struct msi_sink_ops ops = { .route = fake_msi_route, .fire = fake_msi_fire };
	return (struct msi_sink){ .ops = &ops, .opaque = m };
}
#endif
