/* virtio entropy device (virtio 1.2 spec 5.4). */
#include "devices/virtio/rng.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "host/evloop.h"
#include "host/log.h"

struct virtio_rng {
	struct virtio_dev vd;        /* vd.lock guards everything below */
	struct evloop *loop;
	int tfd;                     /* deferral timerfd, -1 without a loop */
	uint64_t tokens, last_ns;
	uint64_t (*now_ns)(void *);
	void *clock_opaque;
	struct vq_chain chain;       /* big: kept off the stack */
};

static uint64_t mono_ns(void *opaque)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* vd.lock held. */
static void refill(struct virtio_rng *r)
{
	uint64_t now = r->now_ns(r->clock_opaque);
	if (now > r->last_ns) {
		uint64_t add = (now - r->last_ns) * RNG_RATE / 1000000000ull;
		if (add) {
			r->tokens = r->tokens + add > RNG_BURST ? RNG_BURST : r->tokens + add;
			r->last_ns = now;
		}
	}
}

static void arm_timer(struct virtio_rng *r, uint64_t ns)
{
	struct itimerspec it = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ull),
					       .tv_nsec = (long)(ns % 1000000000ull) } };
	if (r->tfd >= 0)
		timerfd_settime(r->tfd, 0, &it, NULL);
}

/* Fills up to `budget` bytes of the chain's device-writable segments. */
static uint32_t fill(const struct vq_chain *c, uint32_t budget)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < c->nseg && done < budget; i++) {
		if (!c->seg[i].device_writes)
			continue;
		uint32_t n = c->seg[i].len < budget - done ? c->seg[i].len : budget - done;
		uint32_t got = 0;
		while (got < n) {
			ssize_t k = getrandom(c->seg[i].hva + got, n - got, 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return done + got;
			}
			got += (uint32_t)k;
		}
		done += got;
	}
	return done;
}

/* vd.lock held, device active. Serves requests until the ring is empty,
 * the token bucket is (timer re-arms) or RNG_BUDGET chains were served (then
 * it re-kicks itself through the event loop, virtio_budget_spent). Every chain costs at least
 * one token, so zero-length buffers are paced too. Returns 0 or the ring
 * error (NEEDS_RESET). */
static int process(struct virtio_rng *r)
{
	struct virtqueue *q = &r->vd.vq[0];
	unsigned served = 0;
	int ret = 0;

	while (q->ready) {
		refill(r);
		if (r->tokens == 0) {
			/* Over budget: come back once 4 KiB worth has accrued. */
			arm_timer(r, 4096ull * 1000000000ull / RNG_RATE);
			break;
		}
		if (virtio_budget_spent(&r->vd, 0, served, RNG_BUDGET))
			break;
		ret = vq_pop(q, &r->chain);
		if (ret <= 0)
			break;
		uint32_t want = r->chain.in_bytes;
		if (want > RNG_MAX_REQUEST)
			want = RNG_MAX_REQUEST;
		if (want > r->tokens)
			want = (uint32_t)r->tokens;
		uint32_t n = fill(&r->chain, want);
		r->tokens -= n ? n : 1;
		vq_push(q, r->chain.head, n);
		served++;
	}
	if (served)
		virtio_notify_used(&r->vd, 0);
	if (ret < 0)
		pr_guest("virtio-rng: bad queue: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

static void on_timer(void *opaque, int fd, uint32_t events)
{
	struct virtio_rng *r = opaque;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) { /* spurious */ }
	virtio_dev_lock(&r->vd);
	if (r->vd.active && process(r) < 0)
		virtio_fail(&r->vd);
	virtio_dev_unlock(&r->vd);
}

static int rng_notify(struct virtio_dev *vd, unsigned q)
{
	return q == 0 ? process(vd->priv) : 0;
}

static void rng_destroy(struct virtio_dev *vd);

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 0,
	.num_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.config_size = 0,
	.queue_notify = rng_notify,
	.destroy = rng_destroy,
	/* No activate/reset: the transport gates processing with vd.active; a
	 * deferral timer firing after a reset finds the device inactive. */
};

int virtio_rng_create(struct evloop *loop, struct virtio_dev **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	virtio_dev_init(&r->vd, &rng_ops, r);
	r->now_ns = mono_ns;
	r->tokens = RNG_BURST;
	r->last_ns = mono_ns(NULL);
	r->tfd = -1;
	r->loop = loop;
	if (loop) {
		r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (r->tfd < 0) {
			ret = -errno;
			goto fail;
		}
		if ((ret = evloop_add_fd(loop, r->tfd, EPOLLIN, on_timer, r)))
			goto fail;
	}
	*out = &r->vd;
	return 0;
fail:
	if (r->tfd >= 0)
		close(r->tfd);
	virtio_dev_cleanup(&r->vd);
	free(r);
	return ret;
}

static void rng_destroy(struct virtio_dev *vd)
{
	struct virtio_rng *r = vd->priv;
	if (r->tfd >= 0) {
		evloop_del_fd(r->loop, r->tfd);
		close(r->tfd);
	}
	virtio_dev_cleanup(&r->vd);
	free(r);
}

void virtio_rng_set_clock(struct virtio_dev *vd, uint64_t (*now_ns)(void *), void *opaque)
{
	struct virtio_rng *r = vd->priv;
	virtio_dev_lock(vd);
	r->now_ns = now_ns;
	r->clock_opaque = opaque;
	r->last_ns = now_ns(opaque);
	virtio_dev_unlock(vd);
}

uint64_t virtio_rng_tokens(struct virtio_dev *vd)
{
	struct virtio_rng *r = vd->priv;
	virtio_dev_lock(vd);
	refill(r);
	uint64_t t = r->tokens;
	virtio_dev_unlock(vd);
	return t;
}
