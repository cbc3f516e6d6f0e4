#include "devices/sysdevs.h"

#include <errno.h>
#include <stdlib.h>


struct sysdevs {
	struct vmctl ctl;
	void (*on_marker)(void *opaque, unsigned value);
	void *marker_opaque;
	unsigned post;
	unsigned port92;
};

/* Debug exit: any write of v (1, 2 or 4 bytes) exits with (v << 1) | 1. */
static void debug_exit_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct sysdevs *s = opaque;
	vmctl_stop(&s->ctl, STOP_DEBUG_EXIT, (int)(bus_get_le(data, len) & 0x7fffffff));
}

const struct bus_ops sysdevs_debug_exit_ops = { .write = debug_exit_write };

static void marker_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct sysdevs *s = opaque;
	if (s->on_marker)
		s->on_marker(s->marker_opaque, (unsigned)bus_get_le(data, len));
}

const struct bus_ops sysdevs_marker_ops = { .write = marker_write };

static void post_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	bus_put_le(data, len, 0);
}

static void post_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct sysdevs *s = opaque;
	__atomic_store_n(&s->post, (unsigned)bus_get_le(data, 1), __ATOMIC_RELAXED);
}

const struct bus_ops sysdevs_post_ops = { .read = post_read, .write = post_write };

/* Port 0x92 (System Control Port A): bit 1 = A20 enabled (always on here),
 * bit 0 written 1 = fast reset. */
static void port92_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct sysdevs *s = opaque;
	bus_put_le(data, len, (__atomic_load_n(&s->port92, __ATOMIC_RELAXED) & ~1u) | 0x02);
}

static void port92_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct sysdevs *s = opaque;
	unsigned v = (unsigned)bus_get_le(data, 1);
	__atomic_store_n(&s->port92, v, __ATOMIC_RELAXED);
	if (v & 1)
		vmctl_stop(&s->ctl, STOP_RESET, 0);
}

const struct bus_ops sysdevs_port92_ops = { .read = port92_read, .write = port92_write };

struct sysdevs *sysdevs_create(const struct vmctl *ctl,
			       void (*on_marker)(void *opaque, unsigned value), void *opaque)
{
	struct sysdevs *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ctl = *ctl;
	s->on_marker = on_marker;
	s->marker_opaque = opaque;
	return s;
}

void sysdevs_destroy(struct sysdevs *s) { free(s); }

unsigned sysdevs_post_code(const struct sysdevs *s)
{
	return __atomic_load_n(&s->post, __ATOMIC_RELAXED);
}
