/* A virtio device served by a vhost-user back-end (see vhost_user_dev.h). */
#include "devices/virtio/vhost_user_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/daemon.h"
#include "host/evloop.h"
#include "host/log.h"
#include "host/vhost_user.h"
#include "mem/guest_mem.h"

struct vud;
struct vud_q {
	struct vud *u;
	unsigned index;
	int call_fd;             /* the back-end signals it: tops->set_call_fd delivers it */
	bool started;            /* rings handed over */
};

struct vud {
	struct virtio_dev vd;
	struct virtio_dev_ops ops;   /* per instance: features/config from the back-end */
	struct vhu vhu;
	struct evloop *loop;
	struct daemon *daemon;
	char what[300], sock[128], daemon_name[32];
	unsigned nq;
	bool own_config;             /* config from the front end, read-only */
	uint64_t backend_features;
	uint8_t config[VHU_MAX_CONFIG];
	int watch_fd;                /* dup of the socket, polled for hang-up; -1 */
	bool dead;                   /* atomic: the back-end hung up */
	bool reported;               /* atomic: the one line to the user was printed */
	struct vud_q q[VIRTIO_MAX_QUEUES];
};

/* One line to the user per device, then NEEDS_RESET for the guest. */
static void backend_failed(struct vud *u, const char *why)
{
	if (!__atomic_exchange_n(&u->reported, true, __ATOMIC_ACQ_REL))
		pr_err("%s: the vhost-user back-end (%s) %s; the guest's device needs a reset",
		       u->what, u->daemon ? u->daemon_name : u->sock, why);
}

static void on_hangup(void *opaque, int fd, uint32_t events)
{
	struct vud *u = opaque;

	if (!(events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
		return;
	evloop_del_fd(u->loop, fd);
	__atomic_store_n(&u->dead, true, __ATOMIC_RELEASE);
	backend_failed(u, "went away");
	virtio_dev_lock(&u->vd);
	virtio_fail(&u->vd);
	virtio_dev_unlock(&u->vd);
}

static void vud_config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	struct vud *u = vd->priv;
	memcpy(data, u->config + off, len);   /* the transport bounds off/len */
}

static void vud_config_write(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len)
{
	struct vud *u = vd->priv;
	int r;

	if (u->own_config || __atomic_load_n(&u->dead, __ATOMIC_ACQUIRE) || u->vhu.fd < 0)
		return;
	if ((r = vhu_set_config(&u->vhu, off, data, len)) == 0)
		memcpy(u->config + off, data, len);
	else if (r != -EIO)
		backend_failed(u, "failed a config write");
}

static int start_queue(struct vud *u, unsigned i)
{
	struct virtio_dev *vd = &u->vd;
	const struct virtqueue *vq = &vd->vq[i];
	uint64_t n = vq->size;
	void *desc = gmem_ptr(vd->mem, vq->desc_gpa, 16 * n);
	void *avail = gmem_ptr(vd->mem, vq->avail_gpa, 6 + 2 * n);
	void *used = gmem_ptr(vd->mem, vq->used_gpa, 6 + 8 * n);
	struct vhu_vring_addr a = { .index = i };
	int kick = vd->tops && vd->tops->kick_fd ? vd->tops->kick_fd(vd, i) : -1;
	int r;

	if (!desc || !avail || !used)
		return -EFAULT;   /* vq_init checked these; never hand out a wild address */
	if (!vd->tops || !vd->tops->set_call_fd || u->q[i].call_fd < 0 ||
	    (r = vd->tops->set_call_fd(vd, i, u->q[i].call_fd)))
		return -ENOTSUP;  /* the transport cannot take the back-end's interrupts */
	a.desc = (uint64_t)(uintptr_t)desc;
	a.avail = (uint64_t)(uintptr_t)avail;
	a.used = (uint64_t)(uintptr_t)used;
	if ((r = vhu_set_vring(&u->vhu, VHU_SET_VRING_NUM, i, vq->size)) ||
	    (r = vhu_set_vring(&u->vhu, VHU_SET_VRING_BASE, i, 0)) ||
	    (r = vhu_set_vring_addr(&u->vhu, &a)) ||
	    (r = vhu_set_vring_fd(&u->vhu, VHU_SET_VRING_CALL, i, u->q[i].call_fd)) ||
	    (r = vhu_set_vring_fd(&u->vhu, VHU_SET_VRING_KICK, i, kick)))
		return r;
	u->q[i].started = true;
	if (u->backend_features & (1ull << VHU_F_PROTOCOL_FEATURES))
		r = vhu_set_vring(&u->vhu, VHU_SET_VRING_ENABLE, i, 1);
	return r;
}

static int vud_activate(struct virtio_dev *vd)
{
	struct vud *u = vd->priv;
	const struct guest_mem *m = vd->mem;
	struct vhu_region reg[VHU_MAX_REGIONS];
	uint64_t f;
	int r;

	if (__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE) || u->vhu.fd < 0) {
		backend_failed(u, "is gone");
		return -EPIPE;
	}
	if (m->fd < 0 || m->nr > VHU_MAX_REGIONS) {
		backend_failed(u, "cannot map guest RAM (not shared)");
		return -EINVAL;
	}
	for (int i = 0; i < m->nr; i++)
		reg[i] = (struct vhu_region){ .gpa = m->r[i].gpa, .size = m->r[i].size,
					      .uaddr = (uint64_t)(uintptr_t)m->r[i].hva,
					      .mmap_offset = m->fd_offset[i], .fd = m->fd };
	f = vd->driver_features | (u->backend_features & (1ull << VHU_F_PROTOCOL_FEATURES));
	if ((r = vhu_set_u64(&u->vhu, VHU_SET_FEATURES, f)) ||
	    (r = vhu_set_mem_table(&u->vhu, reg, (unsigned)m->nr)))
		goto fail;
	for (unsigned i = 0; i < u->nq; i++)
		if (vd->vq[i].ready && (r = start_queue(u, i)))
			goto fail;
	return 0;
fail:
	backend_failed(u, r == -ETIMEDOUT ? "did not answer" : r == -EPROTO ? "sent a malformed reply" :
		       r == -EIO ? "refused the rings" : "failed");
	return r;
}

static void vud_reset(struct virtio_dev *vd)
{
	struct vud *u = vd->priv;
	bool any = false;

	for (unsigned i = 0; i < u->nq; i++) {
		uint32_t base;
		if (!u->q[i].started)
			continue;
		u->q[i].started = false;
		any = true;
		if (u->vhu.fd >= 0 && !__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE))
			vhu_get_vring_base(&u->vhu, i, &base);
	}
	if (any && u->vhu.fd >= 0 && !__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE))
		vhu_reset(&u->vhu);
}

static void vud_destroy(struct virtio_dev *vd)
{
	struct vud *u = vd->priv;

	/* The transport, destroyed first, dropped the call fds (irqfd, relay). */
	for (unsigned i = 0; i < u->nq; i++)
		if (u->q[i].call_fd >= 0)
			close(u->q[i].call_fd);
	if (u->watch_fd >= 0) {
		if (u->loop && !__atomic_load_n(&u->dead, __ATOMIC_ACQUIRE))
			evloop_del_fd(u->loop, u->watch_fd);
		close(u->watch_fd);
	}
	vhu_close(&u->vhu);
	if (u->daemon) {
		daemon_stop(u->daemon);
		free(u->daemon);
	}
	virtio_dev_cleanup(vd);
	free(u);
}

static const struct virtio_dev_ops vud_template = {
	.own_kicks = true,
	.config_read = vud_config_read,
	.config_write = vud_config_write,
	.activate = vud_activate,
	.reset = vud_reset,
	.destroy = vud_destroy,
};

#define TRANSPORT_NEEDS ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) | \
			 (1ull << VIRTIO_F_RING_EVENT_IDX))

static int negotiate(struct vud *u, const struct vhost_user_dev_params *p, char *err, size_t n)
{
	int r;

	if ((r = vhu_connect(&u->vhu, p->socket))) {
		snprintf(err, n, "cannot connect to the vhost-user back-end at %s: %s", p->socket,
			 strerror(-r));
		return r;
	}
	if ((r = vhu_get_u64(&u->vhu, VHU_GET_FEATURES, &u->backend_features)) ||
	    (r = vhu_set_owner(&u->vhu)))
		goto proto;
	if ((u->backend_features & TRANSPORT_NEEDS) != TRANSPORT_NEEDS) {
		snprintf(err, n, "the vhost-user back-end at %s lacks virtio 1 / indirect / event-idx "
			 "rings (features 0x%llx)", p->socket, (unsigned long long)u->backend_features);
		return -ENOTSUP;
	}
	if (u->backend_features & (1ull << VHU_F_PROTOCOL_FEATURES))
		r = vhu_negotiate_protocol(&u->vhu, VHU_PROTO_SUPPORTED);
	if (u->own_config && r)
		goto proto;
	if (u->own_config)  /* nothing more to fetch */
		return 0;
	if (r || !(u->backend_features & (1ull << VHU_F_PROTOCOL_FEATURES)))
		goto noconfig;
	if (!(u->vhu.proto & (1ull << VHU_PROTO_F_CONFIG)))
		goto noconfig;
	if ((r = vhu_get_config(&u->vhu, 0, u->config, p->config_size)))
		goto proto;
	return 0;
noconfig:
	snprintf(err, n, "the vhost-user back-end at %s does not offer its config space "
		 "(protocol feature CONFIG)%s%s", p->socket, r ? ": " : "", r ? strerror(-r) : "");
	return r ? r : -ENOTSUP;
proto:
	snprintf(err, n, "the vhost-user back-end at %s failed the handshake: %s", p->socket,
		 strerror(-r));
	return r;
}

int vhost_user_dev_create(const struct vhost_user_dev_params *p, struct evloop *loop,
			  struct virtio_dev **out, char *err, size_t errlen)
{
	struct vud *u;
	int r;

	unsigned nq = p->num_queues ? p->num_queues : 1;

	if (p->config_size > VHU_MAX_CONFIG || nq > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->vhu.fd = -1;
	u->watch_fd = -1;
	u->loop = loop;
	snprintf(u->what, sizeof(u->what), "%s", p->what);
	snprintf(u->sock, sizeof(u->sock), "%s", p->socket);
	snprintf(u->daemon_name, sizeof(u->daemon_name), "%s",
		 p->daemon_name ? p->daemon_name : DAEMON_QSD);
	u->nq = nq;
	if (p->config) {
		u->own_config = true;
		memcpy(u->config, p->config, p->config_size);
	}
	for (unsigned i = 0; i < u->nq; i++)
		u->q[i] = (struct vud_q){ .u = u, .index = i, .call_fd = -1 };
	u->ops = vud_template;
	u->ops.name = p->name;
	u->ops.device_id = p->device_id;
	u->ops.num_queues = nq;
	u->ops.queue_max = p->queue_max;
	u->ops.config_size = p->config_size;
	virtio_dev_init(&u->vd, &u->ops, u);
	if ((r = negotiate(u, p, err, errlen)))
		goto fail;
	u->ops.features = u->backend_features & p->feature_mask;
	for (unsigned i = 0; i < u->nq; i++) {
		u->q[i].call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (u->q[i].call_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "call eventfd: %s", strerror(-r));
			goto fail;
		}
	}
	if (loop) {
		u->watch_fd = dup(u->vhu.fd);
		if (u->watch_fd < 0 || (r = evloop_add_fd(loop, u->watch_fd, EPOLLRDHUP, on_hangup, u))) {
			r = u->watch_fd < 0 ? -errno : r;
			if (u->watch_fd >= 0)
				close(u->watch_fd);
			u->watch_fd = -1;
			snprintf(err, errlen, "watching the back-end socket: %s", strerror(-r));
			goto fail;
		}
	}
	u->daemon = p->daemon;  /* owned from here */
	*out = &u->vd;
	return 0;
fail:
	vud_destroy(&u->vd);
	return r;
}
