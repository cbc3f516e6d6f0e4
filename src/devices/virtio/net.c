/* virtio-net device (virtio 1.2 spec 5.1). Lock order: transport lock ->
 * vd.lock (the device lock) -> backend lock -> d->bl_lock (leaf). */
#include "devices/virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/evloop.h"
#include "host/log.h"

struct rx_frame {
	uint8_t *data;
	uint32_t len;
};

struct net_dev {
	struct virtio_dev vd;          /* vd.lock: queues, tx stats */
	struct evloop *loop;
	int efd;                       /* "backlog not empty" eventfd */
	struct net_backend be;
	uint8_t config[NET_CONFIG_SIZE];
	uint64_t tx_frames, tx_dropped, tx_bytes;

	pthread_mutex_t bl_lock;       /* leaf: the fields below */
	bool rx_open;                  /* accept frames from the backend */
	struct rx_frame backlog[NET_RX_BACKLOG];
	unsigned bl_head, bl_count;
	uint64_t rx_frames, rx_dropped, rx_bytes;

	uint8_t *txbuf;                /* NET_HDR_SIZE + NET_MAX_FRAME */
	struct vq_chain chain;         /* scratch for vq_pop (kept off the stack) */
};

static struct net_dev *to_net(struct virtio_dev *vd) { return vd->priv; }

/* ---- config space (5.1.4) ---- */

static void net_config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	struct net_dev *d = to_net(vd);

	memset(data, 0, len);
	if (off < sizeof(d->config) && len <= sizeof(d->config) - off)
		memcpy(data, d->config + off, len);
}

static void net_config_write(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len)
{
	/* 5.1.4: the mac is read-only without VIRTIO_NET_F_CTRL_MAC_ADDR (legacy only). */
}

/* ---- backlog (bl_lock) ---- */

static void backlog_clear(struct net_dev *d)
{
	while (d->bl_count) {
		free(d->backlog[d->bl_head].data);
		d->backlog[d->bl_head].data = NULL;
		d->bl_head = (d->bl_head + 1) % NET_RX_BACKLOG;
		d->bl_count--;
	}
	d->bl_head = 0;
}

int virtio_net_receive(struct virtio_dev *vd, const void *frame, size_t len)
{
	struct net_dev *d = to_net(vd);
	uint64_t one = 1;
	uint8_t *copy;
	int r = 0;

	if (len < NET_MIN_FRAME || len > NET_MAX_FRAME) {
		pthread_mutex_lock(&d->bl_lock);
		d->rx_dropped++;
		pthread_mutex_unlock(&d->bl_lock);
		return -EMSGSIZE;
	}
	copy = malloc(len);
	pthread_mutex_lock(&d->bl_lock);
	if (!d->rx_open)
		r = -ENETDOWN;
	else if (d->bl_count >= NET_RX_BACKLOG || !copy)
		r = -ENOBUFS;
	if (r) {
		d->rx_dropped++;
		pthread_mutex_unlock(&d->bl_lock);
		free(copy);
		return r;
	}
	memcpy(copy, frame, len);
	struct rx_frame *f = &d->backlog[(d->bl_head + d->bl_count) % NET_RX_BACKLOG];
	f->data = copy;
	f->len = (uint32_t)len;
	d->bl_count++;
	pthread_mutex_unlock(&d->bl_lock);
	if (write(d->efd, &one, sizeof(one)) < 0) { /* counter saturated: already pending */ }
	return 0;
}

/* Takes the oldest backlog frame (caller frees), or false. */
static bool backlog_take(struct net_dev *d, struct rx_frame *out)
{
	bool got = false;

	pthread_mutex_lock(&d->bl_lock);
	if (d->bl_count) {
		*out = d->backlog[d->bl_head];
		d->backlog[d->bl_head].data = NULL;
		d->bl_head = (d->bl_head + 1) % NET_RX_BACKLOG;
		d->bl_count--;
		got = true;
	}
	pthread_mutex_unlock(&d->bl_lock);
	return got;
}

/* Puts a frame back at the head (no rx buffer was available). */
static void backlog_untake(struct net_dev *d, struct rx_frame *f)
{
	pthread_mutex_lock(&d->bl_lock);
	if (d->bl_count < NET_RX_BACKLOG && d->rx_open) {
		d->bl_head = (d->bl_head + NET_RX_BACKLOG - 1) % NET_RX_BACKLOG;
		d->backlog[d->bl_head] = *f;
		d->bl_count++;
		f->data = NULL;
	} else {
		d->rx_dropped++;
	}
	pthread_mutex_unlock(&d->bl_lock);
	free(f->data);
}

/* ---- receive: backlog -> receiveq (vd.lock held, device active) ---- */

/* Copies frames into rx buffers while both exist, at most NET_RX_BUDGET per
 * call (the backend may refill the backlog meanwhile); more left: the
 * eventfd is signalled again. Returns a negative errno if the driver broke
 * the queue, else 0. */
static int rx_deliver(struct net_dev *d)
{
	struct virtqueue *q = &d->vd.vq[NET_RXQ];
	unsigned n = 0;
	bool pushed = false;
	struct rx_frame f;
	int ret = 0;

	while (n < NET_RX_BUDGET && backlog_take(d, &f)) {
		uint8_t hdr[NET_HDR_SIZE] = { 0 };
		int got = vq_pop(q, &d->chain);

		if (got <= 0) {
			backlog_untake(d, &f);
			ret = got;
			break;
		}
		/* 5.1.6.3.1: without MRG_RXBUF one buffer holds header + frame. */
		if (d->chain.in_bytes < NET_HDR_SIZE + f.len) {
			pr_guest("virtio-net: rx buffer of %u bytes too small for a %u-byte frame",
				 d->chain.in_bytes, f.len);
			pthread_mutex_lock(&d->bl_lock);
			d->rx_dropped++;
			pthread_mutex_unlock(&d->bl_lock);
			vq_push(q, d->chain.head, 0);
		} else {
			/* flags 0, gso_type NONE, num_buffers = 1 (little-endian, 5.1.6). */
			hdr[10] = 1;
			vq_chain_write(&d->chain, 0, hdr, NET_HDR_SIZE);
			vq_chain_write(&d->chain, NET_HDR_SIZE, f.data, f.len);
			vq_push(q, d->chain.head, NET_HDR_SIZE + f.len);
			pthread_mutex_lock(&d->bl_lock);
			d->rx_frames++;
			d->rx_bytes += f.len;
			pthread_mutex_unlock(&d->bl_lock);
		}
		free(f.data);
		pushed = true;
		n++;
	}
	if (pushed)
		virtio_notify_used(&d->vd, NET_RXQ);
	if (n == NET_RX_BUDGET) {
		uint64_t one = 1;
		if (write(d->efd, &one, sizeof(one)) < 0) { /* saturated: pending anyway */ }
	}
	return ret;
}

/* ---- transmit: transmitq -> backend (vd.lock held, device active) ---- */

/* At most NET_TX_BUDGET chains per call, then a re-kick through the event
 * loop if more wait. */
static int tx_process(struct net_dev *d)
{
	struct virtqueue *q = &d->vd.vq[NET_TXQ];
	unsigned n = 0;
	int ret = 0;

	for (;;) {
		if (virtio_budget_spent(&d->vd, NET_TXQ, n, NET_TX_BUDGET))
			break;
		int got = vq_pop(q, &d->chain);
		if (got <= 0) {
			ret = got; /* 0: empty, vq_pop re-armed the driver's kicks */
			break;
		}
		uint32_t out = d->chain.out_bytes;
		/* 5.1.6.2: header then the frame, all driver-readable. */
		if (out < NET_HDR_SIZE + NET_MIN_FRAME || out - NET_HDR_SIZE > NET_MAX_FRAME) {
			pr_guest("virtio-net: dropping a %u-byte tx buffer (frame must be %u..%u bytes)",
				 out, NET_MIN_FRAME, NET_MAX_FRAME);
			d->tx_dropped++;
		} else {
			uint32_t n = vq_chain_read(&d->chain, NET_HDR_SIZE, d->txbuf, out - NET_HDR_SIZE);
			if (d->be.send) {
				d->be.send(d->be.opaque, d->txbuf, n);
				d->tx_frames++;
				d->tx_bytes += n;
			} else {
				d->tx_dropped++;
			}
		}
		vq_push(q, d->chain.head, 0);
		n++;
	}
	if (n)
		virtio_notify_used(&d->vd, NET_TXQ);
	return ret;
}

static void rx_close(struct net_dev *d)
{
	pthread_mutex_lock(&d->bl_lock);
	d->rx_open = false;
	backlog_clear(d);
	pthread_mutex_unlock(&d->bl_lock);
}

/* A ring error: no more frames in; the caller hands r to the transport. */
static int broken(struct net_dev *d, int r)
{
	if (r < 0) {
		pr_guest("virtio-net: queue broken (%s), device needs reset", strerror(-r));
		rx_close(d);
	}
	return r;
}

static int net_queue_notify(struct virtio_dev *vd, unsigned qi)
{
	struct net_dev *d = to_net(vd);
	int r = 0;

	if (qi == NET_TXQ)
		r = tx_process(d);
	/* A kick on either queue: the backend may have answered, or the
	 * driver added rx buffers. */
	if (!r)
		r = rx_deliver(d);
	return broken(d, r);
}

void virtio_net_poll(struct virtio_dev *vd)
{
	struct net_dev *d = to_net(vd);
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0) { /* nothing pending */ }
	virtio_dev_lock(vd);
	if (vd->active && broken(d, rx_deliver(d)) < 0)
		virtio_fail(vd);
	virtio_dev_unlock(vd);
}

static void net_event(void *opaque, int fd, uint32_t events)
{
	virtio_net_poll(opaque);
}

/* DRIVER_OK: frames from the backend are accepted from now on. */
static int net_activate(struct virtio_dev *vd)
{
	struct net_dev *d = to_net(vd);
	bool ok;

	virtio_dev_lock(vd);
	ok = vd->vq[NET_RXQ].ready && vd->vq[NET_TXQ].ready;
	pthread_mutex_lock(&d->bl_lock);
	d->rx_open = ok;
	pthread_mutex_unlock(&d->bl_lock);
	virtio_dev_unlock(vd);
	if (!ok)
		pr_guest("virtio-net: DRIVER_OK without both queues enabled");
	return ok ? 0 : -EINVAL;
}

static void net_reset(struct virtio_dev *vd)
{
	rx_close(to_net(vd));
}

static void net_destroy(struct virtio_dev *vd);

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
	.num_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.config_size = NET_CONFIG_SIZE,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.activate = net_activate,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.destroy = net_destroy,
};

int virtio_net_create(const uint8_t mac[6], struct evloop *loop, struct virtio_dev **out)
{
	struct net_dev *d = calloc(1, sizeof(*d));
	uint16_t v;
	int r;

	if (!d)
		return -ENOMEM;
	d->efd = -1;
	virtio_dev_init(&d->vd, &net_ops, d);
	pthread_mutex_init(&d->bl_lock, NULL);
	d->txbuf = malloc(NET_MAX_FRAME);
	if (!d->txbuf) {
		r = -ENOMEM;
		goto fail;
	}
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0) {
		r = -errno;
		goto fail;
	}
	/* 5.1.4 struct virtio_net_config: mac, status, max_virtqueue_pairs, mtu. */
	memcpy(d->config, mac, 6);
	v = htole16(VIRTIO_NET_S_LINK_UP);
	memcpy(d->config + 6, &v, 2);
	v = htole16(1);
	memcpy(d->config + 8, &v, 2);
	v = htole16(1500);
	memcpy(d->config + 10, &v, 2);
	d->loop = loop;
	if (loop && (r = evloop_add_fd(loop, d->efd, EPOLLIN, net_event, &d->vd)))
		goto fail;
	*out = &d->vd;
	return 0;
fail:
	if (d->efd >= 0)
		close(d->efd);
	free(d->txbuf);
	pthread_mutex_destroy(&d->bl_lock);
	virtio_dev_cleanup(&d->vd);
	free(d);
	return r;
}

void virtio_net_set_backend(struct virtio_dev *vd, const struct net_backend *be)
{
	struct net_dev *d = to_net(vd);

	virtio_dev_lock(vd);
	d->be = be ? *be : (struct net_backend){ 0 };
	virtio_dev_unlock(vd);
}

int virtio_net_poll_fd(struct virtio_dev *vd)
{
	return to_net(vd)->efd;
}

void virtio_net_get_stats(struct virtio_dev *vd, struct virtio_net_stats *st)
{
	struct net_dev *d = to_net(vd);

	virtio_dev_lock(vd);
	st->tx_frames = d->tx_frames;
	st->tx_dropped = d->tx_dropped;
	st->tx_bytes = d->tx_bytes;
	pthread_mutex_lock(&d->bl_lock);
	st->rx_frames = d->rx_frames;
	st->rx_dropped = d->rx_dropped;
	st->rx_bytes = d->rx_bytes;
	st->rx_queued = d->bl_count;
	pthread_mutex_unlock(&d->bl_lock);
	virtio_dev_unlock(vd);
}

static void net_destroy(struct virtio_dev *vd)
{
	struct net_dev *d = to_net(vd);

	if (d->loop)
		evloop_del_fd(d->loop, d->efd);
	close(d->efd);
	backlog_clear(d);
	free(d->txbuf);
	pthread_mutex_destroy(&d->bl_lock);
	virtio_dev_cleanup(&d->vd);
	free(d);
}
