/* vhost-user front-end messages (see vhost_user.h). Numbers are in host byte
 * order, as the protocol says ("machine native byte order"). */
#include "host/vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct vhu_hdr {
	uint32_t request, flags, size;
};

#define VHU_MAX_PAYLOAD (8 + VHU_MAX_REGIONS * 32)   /* the largest we send */

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void vhu_init_fd(struct vhu *v, int fd)
{
	v->fd = fd;
	v->proto = 0;
	v->timeout_ms = VHU_REPLY_TIMEOUT_MS;
}

int vhu_connect(struct vhu *v, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	vhu_init_fd(v, fd);
	return 0;
}

void vhu_close(struct vhu *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

/* A broken or lying back-end: drop the connection, report err. */
static int fail(struct vhu *v, int err)
{
	vhu_close(v);
	return err;
}

static int send_msg(struct vhu *v, uint32_t req, uint32_t flags, const void *payload,
		    uint32_t size, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct vhu_hdr h = { .request = req, .flags = VHU_FLAG_VERSION | flags, .size = size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	size_t total = sizeof(h) + size;
	ssize_t n;

	if (v->fd < 0)
		return -EPIPE;
	if (nfds > VHU_MAX_REGIONS)
		return -EINVAL;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(v->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(v, -errno);
	if ((size_t)n != total) /* a unix stream takes a small message whole or not at all */
		return fail(v, -EPROTO);
	return 0;
}

/* Reads exactly len bytes before the deadline; any fds that ride along are
 * closed (replies never carry fds). */
static int recv_exact(struct vhu *v, void *buf, size_t len, int64_t deadline)
{
	char *p = buf;
	while (len) {
		union {
			char b[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { p, len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b) };
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
		ssize_t n;
		int pr;

		if (left <= 0)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		n = recvmsg(v->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				int fds[VHU_MAX_REGIONS];
				/* The kernel truncates to our buffer (MSG_CTRUNC);
				 * never trust a length from a peer's message. */
				if (nfd > VHU_MAX_REGIONS)
					nfd = VHU_MAX_REGIONS;
				memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
				for (size_t i = 0; i < nfd; i++)
					close(fds[i]);
			}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the reply to req: header checked (reply flag, version 1, same
 * request, exactly size bytes of payload), then the payload. */
static int recv_reply(struct vhu *v, uint32_t req, void *payload, uint32_t size)
{
	int64_t deadline = now_ms() + v->timeout_ms;
	struct vhu_hdr h;
	int r;

	if (v->fd < 0)
		return -EPIPE;
	if ((r = recv_exact(v, &h, sizeof(h), deadline)))
		return fail(v, r);
	if (h.request != req || (h.flags & 0x3) != VHU_FLAG_VERSION || !(h.flags & VHU_FLAG_REPLY) ||
	    h.size != size)
		return fail(v, -EPROTO);
	if ((r = recv_exact(v, payload, size, deadline)))
		return fail(v, r);
	return 0;
}

/* A request without a reply of its own: with REPLY_ACK, ask for the ack and
 * check it (0 = success). */
static int request(struct vhu *v, uint32_t req, const void *payload, uint32_t size,
		   const int *fds, unsigned nfds)
{
	bool ack = v->proto & (1ull << VHU_PROTO_F_REPLY_ACK);
	uint64_t status;
	int r = send_msg(v, req, ack ? VHU_FLAG_NEED_REPLY : 0, payload, size, fds, nfds);
	if (r || !ack)
		return r;
	if ((r = recv_reply(v, req, &status, sizeof(status))))
		return r;
	return status ? -EIO : 0;
}

int vhu_get_u64(struct vhu *v, enum vhu_request req, uint64_t *out)
{
	int r = send_msg(v, req, 0, NULL, 0, NULL, 0);
	return r ? r : recv_reply(v, req, out, sizeof(*out));
}

int vhu_set_u64(struct vhu *v, enum vhu_request req, uint64_t val)
{
	return request(v, req, &val, sizeof(val), NULL, 0);
}

int vhu_set_owner(struct vhu *v)
{
	return request(v, VHU_SET_OWNER, NULL, 0, NULL, 0);
}

int vhu_negotiate_protocol(struct vhu *v, uint64_t want)
{
	uint64_t offered;
	int r = vhu_get_u64(v, VHU_GET_PROTOCOL_FEATURES, &offered);
	if (r)
		return r;
	/* Set before proto is updated: SET_PROTOCOL_FEATURES itself is never acked
	 * by a back-end that has not seen it yet. */
	uint64_t use = offered & want & VHU_PROTO_SUPPORTED;
	if ((r = vhu_set_u64(v, VHU_SET_PROTOCOL_FEATURES, use)))
		return r;
	v->proto = use;
	return 0;
}

int vhu_set_mem_table(struct vhu *v, const struct vhu_region *r, unsigned n)
{
	uint64_t p[1 + VHU_MAX_REGIONS * 4] = { 0 };
	int fds[VHU_MAX_REGIONS];

	if (n == 0 || n > VHU_MAX_REGIONS)
		return -EINVAL;
	p[0] = n; /* u32 nregions, u32 padding */
	for (unsigned i = 0; i < n; i++) {
		if (r[i].fd < 0 || !r[i].size)
			return -EINVAL;
		p[1 + i * 4] = r[i].gpa;
		p[2 + i * 4] = r[i].size;
		p[3 + i * 4] = r[i].uaddr;
		p[4 + i * 4] = r[i].mmap_offset;
		fds[i] = r[i].fd;
	}
	/* The payload is always the full 8-region table, as the spec lays it out. */
	return request(v, VHU_SET_MEM_TABLE, p, sizeof(p), fds, n);
}

int vhu_set_vring(struct vhu *v, enum vhu_request req, uint32_t index, uint32_t num)
{
	uint32_t s[2] = { index, num };
	if (index >= VHU_MAX_QUEUES)
		return -EINVAL;
	return request(v, req, s, sizeof(s), NULL, 0);
}

int vhu_set_vring_addr(struct vhu *v, const struct vhu_vring_addr *a)
{
	uint64_t p[5];
	if (a->index >= VHU_MAX_QUEUES)
		return -EINVAL;
	p[0] = (uint64_t)a->flags << 32 | a->index;
	p[1] = a->desc;
	p[2] = a->used;
	p[3] = a->avail;
	p[4] = a->log;
	return request(v, VHU_SET_VRING_ADDR, p, sizeof(p), NULL, 0);
}

int vhu_get_vring_base(struct vhu *v, uint32_t index, uint32_t *base)
{
	uint32_t s[2] = { index, 0 };
	int r;
	if (index >= VHU_MAX_QUEUES)
		return -EINVAL;
	if ((r = send_msg(v, VHU_GET_VRING_BASE, 0, s, sizeof(s), NULL, 0)) ||
	    (r = recv_reply(v, VHU_GET_VRING_BASE, s, sizeof(s))))
		return r;
	if (s[0] != index)
		return fail(v, -EPROTO);
	*base = s[1];
	return 0;
}

int vhu_set_vring_fd(struct vhu *v, enum vhu_request req, uint32_t index, int fd)
{
	uint64_t p = index | (fd < 0 ? VHU_VRING_NOFD : 0);
	if (index >= VHU_MAX_QUEUES)
		return -EINVAL;
	return request(v, req, &p, sizeof(p), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

struct vhu_config {
	uint32_t off, size, flags;
	uint8_t data[VHU_MAX_CONFIG];
};

int vhu_get_config(struct vhu *v, uint32_t off, void *buf, uint32_t len)
{
	struct vhu_config c = { .off = off, .size = len };
	uint32_t sz = 12 + len;
	int r;

	if (!(v->proto & (1ull << VHU_PROTO_F_CONFIG)))
		return -ENOTSUP;
	if (len > VHU_MAX_CONFIG || off > VHU_MAX_CONFIG - len)
		return -EINVAL;
	if ((r = send_msg(v, VHU_GET_CONFIG, 0, &c, sz, NULL, 0)) ||
	    (r = recv_reply(v, VHU_GET_CONFIG, &c, sz)))
		return r;
	if (c.off != off || c.size != len)
		return fail(v, -EPROTO);
	memcpy(buf, c.data, len);
	return 0;
}

int vhu_set_config(struct vhu *v, uint32_t off, const void *buf, uint32_t len)
{
	struct vhu_config c = { .off = off, .size = len };
	if (!(v->proto & (1ull << VHU_PROTO_F_CONFIG)))
		return -ENOTSUP;
	if (len > VHU_MAX_CONFIG || off > VHU_MAX_CONFIG - len)
		return -EINVAL;
	memcpy(c.data, buf, len);
	return request(v, VHU_SET_CONFIG, &c, 12 + len, NULL, 0);
}

int vhu_reset(struct vhu *v)
{
	if (v->proto & (1ull << VHU_PROTO_F_RESET_DEVICE))
		return request(v, VHU_RESET_DEVICE, NULL, 0, NULL, 0);
	return request(v, VHU_RESET_OWNER, NULL, 0, NULL, 0);
}
