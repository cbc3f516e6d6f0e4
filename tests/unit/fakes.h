/* Recording fakes for what devices are injected with, shared by the unit
 * tests: an IRQ line, a char sink, a vmctl and an MSI sink. Each fake is a
 * plain struct the test inspects; fake_*() builds the interface around it.
 * And for the disk backend's tests: a temporary image file and a recorder
 * of blk_backend completions. */
#ifndef MYVMM_TEST_FAKES_H
#define MYVMM_TEST_FAKES_H
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "devices/irq.h"
#include "devices/msix.h"
#include "devices/vmctl.h"
#include "host/blk_backend.h"

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

/* A temporary disk image, dir/disk.img in a new directory under /tmp. */
struct fake_img {
	char dir[64];
	char path[128];
};

/* Creates it with size bytes (sparse); returns it open read-write. */
static inline int fake_img_create(struct fake_img *m, uint64_t size)
{
	strcpy(m->dir, "/tmp/myvmm-utXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(m->dir));
	snprintf(m->path, sizeof(m->path), "%s/disk.img", m->dir);
	int fd = open(m->path, O_CREAT | O_RDWR, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* Closes fd (unless < 0) and removes the image and its directory. */
static inline void fake_img_remove(struct fake_img *m, int fd)
{
	if (fd >= 0)
		close(fd);
	unlink(m->path);
	rmdir(m->dir);
}

/* blk_backend completions: how many, and the last one's tag and status.
 * fake_blk_done is the backend's callback, with the recorder as opaque. */
struct fake_blk {
	uint64_t tag;
	uint8_t st;
	int n;
};

static inline void fake_blk_done(void *opaque, const struct blk_req *r, uint64_t tag, uint8_t st)
{
	struct fake_blk *f = opaque;

	(void)r;
	f->tag = tag;
	f->st = st;
	f->n++;
}

/* Until f has seen n completions (each wait for the event fd bounded: 5 s). */
static inline void fake_blk_wait(struct blk_backend *b, struct fake_blk *f, int n)
{
	while (f->n < n) {
		struct pollfd p = { blk_backend_event_fd(b), POLLIN, 0 };
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		blk_backend_complete(b);
	}
}

/* Submits r (tag 42), waits for exactly its completion; its status. */
static inline uint8_t fake_blk_run(struct blk_backend *b, struct fake_blk *f,
				   const struct blk_req *r)
{
	int n0 = f->n;

	ck_assert_int_eq(blk_backend_submit(b, r, 42), 0);
	fake_blk_wait(b, f, n0 + 1);
	ck_assert_int_eq(f->n, n0 + 1);
	ck_assert_uint_eq(f->tag, 42);
	return f->st;
}
#endif
