/* virtio console device, one port (virtio 1.2 spec 5.3). */
#include "devices/virtio/console.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "host/log.h"

#define RXQ 0
#define TXQ 1

struct vcon {
	struct virtio_dev vd;        /* vd.lock guards the device */
	struct char_sink out;
	struct vq_chain chain;
};

/* vd.lock held, device active. Writes out at most VCON_TX_BUDGET chains or
 * VCON_TX_BYTES bytes (zero-length chains count as one byte), then re-kicks
 * itself if more wait. Returns 0 or the ring error (NEEDS_RESET). */
static int drain_tx(struct vcon *c)
{
	struct virtqueue *q = &c->vd.vq[TXQ];
	unsigned chains = 0;
	uint64_t bytes = 0;
	int r = 0;

	while (q->ready) {
		/* Chains or bytes: whichever budget runs out first. */
		if (virtio_budget_spent(&c->vd, TXQ, bytes >= VCON_TX_BYTES ? VCON_TX_BUDGET : chains,
					VCON_TX_BUDGET))
			break;
		if ((r = vq_pop(q, &c->chain)) <= 0)
			break;
		for (unsigned i = 0; i < c->chain.nseg; i++)
			if (!c->chain.seg[i].device_writes && c->out.write)
				c->out.write(c->out.opaque, c->chain.seg[i].hva, c->chain.seg[i].len);
		vq_push(q, c->chain.head, 0);
		chains++;
		bytes += c->chain.out_bytes ? c->chain.out_bytes : 1;
	}
	if (chains)
		virtio_notify_used(&c->vd, TXQ);
	if (r < 0)
		pr_guest("virtio-console: bad transmit queue: %s", strerror(-r));
	return r < 0 ? r : 0;
}

static int con_notify(struct virtio_dev *vd, unsigned q)
{
	/* RXQ kicks mean new buffers: input is pushed by virtio_console_input. */
	return q == TXQ ? drain_tx(vd->priv) : 0;
}

size_t virtio_console_input(struct virtio_dev *vd, const uint8_t *buf, size_t len)
{
	struct vcon *c = vd->priv;
	struct virtqueue *q = &vd->vq[RXQ];
	size_t done = 0;
	bool pushed = false;

	virtio_dev_lock(vd);
	/* Bounded by len: each chain takes at least one byte or ends the loop. */
	while (done < len && vd->active && q->ready) {
		int r = vq_pop(q, &c->chain);
		if (r < 0) {
			pr_guest("virtio-console: bad receive queue: %s", strerror(-r));
			virtio_fail(vd);
			break;
		}
		if (r == 0)
			break;
		size_t n = len - done;
		if (n > c->chain.in_bytes)
			n = c->chain.in_bytes;
		uint32_t w = vq_chain_write(&c->chain, 0, buf + done, (uint32_t)n);
		vq_push(q, c->chain.head, w);
		pushed = true;
		done += w;
		if (w == 0)
			break;
	}
	if (pushed)
		virtio_notify_used(vd, RXQ);
	virtio_dev_unlock(vd);
	return done;
}

static void con_config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	/* cols/rows 0 (no F_SIZE), max_nr_ports 1 (ignored without MULTIPORT). */
	uint8_t cfg[VCON_CONFIG_SIZE] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	memcpy(data, cfg + off, len); /* transport checked off + len <= size */
}

static void con_config_write(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len)
{
	struct vcon *c = vd->priv;
	/* emerg_wr (5.3.4): one character, usable before the queues are. */
	if (off == 8 && virtio_has_feature(vd, VIRTIO_CONSOLE_F_EMERG_WRITE) && c->out.write) {
		uint8_t ch = (uint8_t)bus_get_le(data, len);
		c->out.write(c->out.opaque, &ch, 1);
	}
}

static void con_destroy(struct virtio_dev *vd)
{
	struct vcon *c = vd->priv;
	virtio_dev_cleanup(vd);
	free(c);
}

static const struct virtio_dev_ops con_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE,
	.num_queues = 2,
	.queue_max = VCON_QUEUE_SIZE,
	.config_size = VCON_CONFIG_SIZE,
	.config_read = con_config_read,
	.config_write = con_config_write,
	.queue_notify = con_notify,
	.destroy = con_destroy,
};

int virtio_console_create(const struct char_sink *out, struct virtio_dev **vd)
{
	struct vcon *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	virtio_dev_init(&c->vd, &con_ops, c);
	if (out)
		c->out = *out;
	*vd = &c->vd;
	return 0;
}
