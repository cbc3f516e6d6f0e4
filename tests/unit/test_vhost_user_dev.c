/* The vhost-user virtio device (devices/virtio/vhost_user_dev.c) against a
 * scripted back-end thread on a unix socket, with a fake transport: feature
 * masking, config from GET_CONFIG, the memory table (region fds that map the
 * guest's RAM, addresses), ring hand-over (NUM/BASE/ADDR/CALL/KICK/ENABLE
 * with the transport's fds), GET_VRING_BASE + reset on stop, REPLY_ACK
 * NACKs, a back-end that dies mid-set-up or hangs up later, and malformed,
 * oversized and mismatched replies: each an error code and no crash. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_util.h"
#include "devices/virtio/vhost_user_dev.h"
#include "host/evloop.h"
#include "host/vhost_user.h"
#include "mem/guest_mem.h"

#define F_BASE ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) | \
		(1ull << VIRTIO_F_RING_EVENT_IDX) | (1ull << VHU_F_PROTOCOL_FEATURES))
#define BLK_F_MQ 12
#define BLK_F_FLUSH 9

enum fault {
	NONE,
	BAD_CONFIG_SIZE,    /* GET_CONFIG reply 4 bytes short */
	HUGE_SIZE,          /* GET_CONFIG reply header claims 0xffffffff bytes */
	WRONG_REQUEST,      /* GET_FEATURES answered as GET_PROTOCOL_FEATURES */
	CONFIG_OFFSET,      /* GET_CONFIG reply for another offset */
	NO_VERSION_1,       /* features without VERSION_1 */
	NACK_MEM_TABLE,     /* REPLY_ACK status 1 for SET_MEM_TABLE */
	DIE_AT_ADDR,        /* closes the socket on SET_VRING_ADDR */
	WRONG_BASE_INDEX,   /* GET_VRING_BASE reply for ring 5 */
};

struct msg {
	uint32_t req, flags, size;
	uint8_t p[512];
	int fd;             /* first fd that came with it, -1 */
	unsigned nfds;
};

#define MAX_MSGS 64

static struct backend {
	int lfd, fd;
	enum fault fault;
	uint64_t features;
	uint8_t config[VHU_MAX_CONFIG];
	pthread_mutex_t lock;
	struct msg m[MAX_MSGS];
	unsigned n;
	bool gone;
	pthread_t t;
	char dir[64], path[96];
} be;

struct hdr { uint32_t req, flags, size; };

static void send_reply(uint32_t req, const void *p, uint32_t size, uint32_t claimed)
{
	struct hdr h = { req, VHU_FLAG_VERSION | VHU_FLAG_REPLY, claimed };
	(void)!send(be.fd, &h, sizeof(h), MSG_NOSIGNAL);
	if (size)
		(void)!send(be.fd, p, size, MSG_NOSIGNAL);
}

static ssize_t recv_fds(void *buf, size_t len, int *fds, unsigned *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)] = { 0 };
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(be.fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += k;
	}
	return n;
}

/* Never asserts (the front end may hang up at any point): records, answers. */
static void *backend_main(void *arg)
{
	be.fd = accept4(be.lfd, NULL, NULL, SOCK_CLOEXEC);
	while (be.fd >= 0) {
		struct msg m = { .fd = -1 };
		int fds[16];
		unsigned nfds = 0;
		if (recv_fds(&m.req, 12, fds, &nfds) != 12)
			break;
		if (m.size > sizeof(m.p) || (m.size && recv_fds(m.p, m.size, fds, &nfds) != m.size))
			break;
		m.nfds = nfds;
		m.fd = nfds ? fds[0] : -1;
		for (unsigned i = 1; i < nfds; i++)
			close(fds[i]);
		pthread_mutex_lock(&be.lock);
		if (be.n < MAX_MSGS)
			be.m[be.n++] = m;
		else if (m.fd >= 0)
			close(m.fd);
		pthread_mutex_unlock(&be.lock);
		if (be.fault == DIE_AT_ADDR && m.req == VHU_SET_VRING_ADDR)
			break;
		uint64_t u;
		switch (m.req) {
		case VHU_GET_FEATURES:
			u = be.features;
			send_reply(be.fault == WRONG_REQUEST ? VHU_GET_PROTOCOL_FEATURES : m.req, &u, 8, 8);
			continue;
		case VHU_GET_PROTOCOL_FEATURES:
			u = (1ull << VHU_PROTO_F_REPLY_ACK) | (1ull << VHU_PROTO_F_CONFIG) | (1ull << 5);
			send_reply(m.req, &u, 8, 8);
			continue;
		case VHU_GET_VRING_BASE: {
			uint32_t s[2] = { be.fault == WRONG_BASE_INDEX ? 5 : ((uint32_t *)m.p)[0], 3 };
			send_reply(m.req, s, 8, 8);
			continue;
		}
		case VHU_GET_CONFIG: {
			uint32_t off = ((uint32_t *)m.p)[0], sz = ((uint32_t *)m.p)[1];
			if (sz > VHU_MAX_CONFIG || off > VHU_MAX_CONFIG - sz)
				sz = off = 0;
			memcpy(m.p + 12, be.config + off, sz);
			if (be.fault == CONFIG_OFFSET)
				((uint32_t *)m.p)[0] = off + 4;
			if (be.fault == BAD_CONFIG_SIZE)
				send_reply(m.req, m.p, 12 + sz - 4, 12 + sz - 4);
			else if (be.fault == HUGE_SIZE)
				send_reply(m.req, m.p, 12 + sz, 0xffffffffu);
			else
				send_reply(m.req, m.p, 12 + sz, 12 + sz);
			continue;
		}
		}
		if (m.flags & VHU_FLAG_NEED_REPLY) {
			u = be.fault == NACK_MEM_TABLE && m.req == VHU_SET_MEM_TABLE;
			send_reply(m.req, &u, 8, 8);
		}
	}
	if (be.fd >= 0)
		close(be.fd);
	be.gone = true;
	return NULL;
}

static void backend_start(enum fault f, uint64_t features)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(&be, 0, sizeof(be));
	pthread_mutex_init(&be.lock, NULL);
	be.fault = f;
	be.features = features;
	for (unsigned i = 0; i < VHU_MAX_CONFIG; i++)
		be.config[i] = (uint8_t)(0x40 + i);
	snprintf(be.dir, sizeof(be.dir), "/tmp/myvmm-vudtest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(be.dir));
	snprintf(be.path, sizeof(be.path), "%s/s", be.dir);
	strcpy(sa.sun_path, be.path);
	be.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(be.lfd, 0);
	ck_assert_int_eq(bind(be.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(be.lfd, 1), 0);
	ck_assert_int_eq(pthread_create(&be.t, NULL, backend_main, NULL), 0);
}

static void backend_join(void)
{
	pthread_join(be.t, NULL);
	close(be.lfd);
	unlink(be.path);
	rmdir(be.dir);
	for (unsigned i = 0; i < be.n; i++)
		if (be.m[i].fd >= 0)
			close(be.m[i].fd);
}

/* The i-th recorded message with request req (-1: none). */
static int find(uint32_t req, unsigned nth)
{
	pthread_mutex_lock(&be.lock);
	for (unsigned i = 0; i < be.n; i++)
		if (be.m[i].req == req && nth-- == 0) {
			pthread_mutex_unlock(&be.lock);
			return (int)i;
		}
	pthread_mutex_unlock(&be.lock);
	return -1;
}

/* ---- a fake transport ---- */

static int kick_efd = -1, given_call = -1, needs_resets;

static void t_notify(struct virtio_dev *vd, unsigned q) {}
static void t_config(struct virtio_dev *vd) {}
static void t_needs_reset(struct virtio_dev *vd) { needs_resets++; }
static int t_kick_fd(struct virtio_dev *vd, unsigned q) { return q == 0 ? kick_efd : -1; }
static void t_signal(struct virtio_dev *vd, unsigned q) {}
static int t_set_call(struct virtio_dev *vd, unsigned q, int efd)
{
	given_call = efd;
	return 0;
}

static const struct virtio_transport_ops fake_tops = {
	.notify_used = t_notify, .config_changed = t_config, .needs_reset = t_needs_reset,
	.kick_fd = t_kick_fd, .signal = t_signal, .set_call_fd = t_set_call,
};

static struct guest_mem mem;

static const struct vhost_user_dev_params params = {
	.what = "--disk test.qcow2", .name = "vhost-user-blk", .device_id = VIRTIO_ID_BLOCK,
	.feature_mask = VIRTIO_BLK_VHOST_FEATURES, .config_size = VIRTIO_BLK_CONFIG_SIZE,
	.queue_max = 256,
};

static struct virtio_dev *create(enum fault f, uint64_t features, struct evloop *loop, int *rc,
				 char *err, size_t errlen)
{
	struct vhost_user_dev_params p = params;
	struct virtio_dev *vd = NULL;

	backend_start(f, features);
	p.socket = be.path;
	*rc = vhost_user_dev_create(&p, loop, &vd, err, errlen);
	if (*rc == 0) {
		vd->tops = &fake_tops;
		vd->mem = &mem;
	}
	return vd;
}

static void setup(void)
{
	ck_assert_int_eq(gmem_alloc_shared(&mem, 16 << 20), 0);
	kick_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	given_call = -1;
	needs_resets = 0;
}

static void teardown(void)
{
	close(kick_efd);
	gmem_free(&mem);
}

/* A driver's rings at 0x10000 (size 8), DRIVER_OK-ready. */
#define DESC 0x10000
#define AVAIL 0x10100
#define USED 0x10200
static void ready_queue(struct virtio_dev *vd)
{
	vd->driver_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << BLK_F_FLUSH);
	ck_assert_int_eq(vq_init(&vd->vq[0], &mem, 8, DESC, AVAIL, USED, false, false), 0);
}

START_TEST(negotiation_masks_features)
{
	char err[256] = "";
	int rc;
	uint64_t offered = F_BASE | (1ull << BLK_F_MQ) | (1ull << BLK_F_FLUSH) | (1ull << 1) |
			   (1ull << 45);
	struct virtio_dev *vd = create(NONE, offered, NULL, &rc, err, sizeof(err));
	uint8_t cfg[8];

	ck_assert_msg(rc == 0, "create: %d %s", rc, err);
	/* Only what the blk mask allows: no MQ (one queue), no unknown bit 45,
	 * no PROTOCOL_FEATURES (the transport adds its own ring bits). */
	ck_assert_uint_eq(vd->ops->features, (1ull << BLK_F_FLUSH) | (1ull << 1));
	ck_assert_uint_eq(vd->ops->num_queues, 1);
	ck_assert_int_ge(find(VHU_SET_OWNER, 0), 0);
	int i = find(VHU_SET_PROTOCOL_FEATURES, 0);
	ck_assert_int_ge(i, 0);
	/* Offered bit 5 is not ours to accept. */
	ck_assert_uint_eq(*(uint64_t *)be.m[i].p,
			  (1ull << VHU_PROTO_F_REPLY_ACK) | (1ull << VHU_PROTO_F_CONFIG));
	/* Config space is the back-end's. */
	vd->ops->config_read(vd, 4, cfg, sizeof(cfg));
	for (unsigned k = 0; k < sizeof(cfg); k++)
		ck_assert_uint_eq(cfg[k], 0x44 + k);
	virtio_dev_destroy(vd);
	backend_join();
}
END_TEST

START_TEST(activate_hands_over_memory_and_rings)
{
	char err[256] = "";
	int rc;
	struct virtio_dev *vd = create(NONE, F_BASE | (1ull << BLK_F_FLUSH), NULL, &rc, err,
				       sizeof(err));
	uint64_t v = 1;

	ck_assert_msg(rc == 0, "create: %s", err);
	ready_queue(vd);
	ck_assert_int_eq(gmem_write(&mem, 0x123000, "marker!", 8), 0);
	ck_assert_int_eq(vd->ops->activate(vd), 0);

	int i = find(VHU_SET_FEATURES, 0);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(*(uint64_t *)be.m[i].p, vd->driver_features | (1ull << VHU_F_PROTOCOL_FEATURES));
	ck_assert(be.m[i].flags & VHU_FLAG_NEED_REPLY);   /* REPLY_ACK negotiated */

	/* The memory table: every region, with the memfd; mapping it at the
	 * region's offset shows the guest's bytes. */
	i = find(VHU_SET_MEM_TABLE, 0);
	ck_assert_int_ge(i, 0);
	const struct msg *m = &be.m[i];
	ck_assert_uint_eq(*(uint32_t *)m->p, (uint32_t)mem.nr);
	ck_assert_uint_eq(m->nfds, (unsigned)mem.nr);
	const uint64_t *r = (const uint64_t *)(m->p + 8);
	ck_assert_uint_eq(r[0], mem.r[0].gpa);
	ck_assert_uint_eq(r[1], mem.r[0].size);
	ck_assert_uint_eq(r[2], (uint64_t)(uintptr_t)mem.r[0].hva);
	ck_assert_uint_eq(r[3], mem.fd_offset[0]);
	uint8_t *map = mmap(NULL, r[1], PROT_READ, MAP_SHARED, m->fd, (off_t)r[3]);
	ck_assert(map != MAP_FAILED);
	ck_assert_str_eq((const char *)map + 0x123000 - r[0], "marker!");
	munmap(map, r[1]);

	/* The ring: size, base 0, the rings' host addresses in our mapping. */
	i = find(VHU_SET_VRING_NUM, 0);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(((uint32_t *)be.m[i].p)[0], 0);
	ck_assert_uint_eq(((uint32_t *)be.m[i].p)[1], 8);
	i = find(VHU_SET_VRING_BASE, 0);
	ck_assert_uint_eq(((uint32_t *)be.m[i].p)[1], 0);
	i = find(VHU_SET_VRING_ADDR, 0);
	const uint64_t *a = (const uint64_t *)be.m[i].p;
	ck_assert_uint_eq(a[1], (uint64_t)(uintptr_t)gmem_ptr(&mem, DESC, 1));
	ck_assert_uint_eq(a[2], (uint64_t)(uintptr_t)gmem_ptr(&mem, USED, 1));
	ck_assert_uint_eq(a[3], (uint64_t)(uintptr_t)gmem_ptr(&mem, AVAIL, 1));

	/* KICK carries the transport's notify eventfd: a write by the
	 * back-end's copy is seen on ours. */
	i = find(VHU_SET_VRING_KICK, 0);
	ck_assert_int_ge(be.m[i].fd, 0);
	ck_assert_int_eq(write(be.m[i].fd, &v, 8), 8);
	ck_assert_int_eq(read(kick_efd, &v, 8), 8);
	/* CALL carries the eventfd the transport was given to deliver. */
	i = find(VHU_SET_VRING_CALL, 0);
	ck_assert_int_ge(be.m[i].fd, 0);
	ck_assert_int_ge(given_call, 0);
	ck_assert_int_eq(write(be.m[i].fd, &v, 8), 8);
	ck_assert_int_eq(read(given_call, &v, 8), 8);
	/* Then enabled (PROTOCOL_FEATURES: rings start disabled). */
	i = find(VHU_SET_VRING_ENABLE, 0);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(((uint32_t *)be.m[i].p)[1], 1);
	ck_assert_int_lt(find(VHU_SET_VRING_CALL, 0), find(VHU_SET_VRING_ENABLE, 0));

	/* Stop: GET_VRING_BASE for the started ring, then a reset. */
	vd->ops->reset(vd);
	ck_assert_int_ge(find(VHU_GET_VRING_BASE, 0), 0);
	ck_assert_int_gt(find(VHU_RESET_OWNER, 0), find(VHU_GET_VRING_BASE, 0));
	/* A second reset with nothing started sends nothing more. */
	unsigned before = be.n;
	vd->ops->reset(vd);
	ck_assert_uint_eq(be.n, before);
	virtio_dev_destroy(vd);
	backend_join();
}
END_TEST

START_TEST(nack_fails_activation)
{
	char err[256] = "";
	int rc;
	struct virtio_dev *vd = create(NACK_MEM_TABLE, F_BASE, NULL, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, 0);
	ready_queue(vd);
	ck_assert_int_eq(vd->ops->activate(vd), -EIO);
	ck_assert_int_lt(find(VHU_SET_VRING_NUM, 0), 0);   /* stopped at the NACK */
	virtio_dev_destroy(vd);
	backend_join();
}
END_TEST

START_TEST(death_mid_setup)
{
	char err[256] = "";
	int rc;
	struct virtio_dev *vd = create(DIE_AT_ADDR, F_BASE, NULL, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, 0);
	ready_queue(vd);
	rc = vd->ops->activate(vd);
	ck_assert_msg(rc == -ECONNRESET || rc == -EPIPE, "activate: %d", rc);
	/* Gone for good: the next activation fails at once, reset sends nothing. */
	ck_assert_int_eq(vd->ops->activate(vd), -EPIPE);
	vd->ops->reset(vd);
	virtio_dev_destroy(vd);
	backend_join();
}
END_TEST

static void quit_loop(void *opaque) { evloop_quit(opaque); }

START_TEST(hangup_sets_needs_reset)
{
	char err[256] = "";
	int rc;
	struct evloop *loop = evloop_create();
	struct virtio_dev *vd = create(NONE, F_BASE, loop, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, 0);
	ready_queue(vd);
	ck_assert_int_eq(vd->ops->activate(vd), 0);
	vd->active = true;
	shutdown(be.fd, SHUT_RDWR);   /* the back-end dies after set-up */
	backend_join();
	evloop_add_timer(loop, 300, 0, quit_loop, loop);
	evloop_run(loop);
	ck_assert(vd->needs_reset);
	ck_assert(!vd->active);
	ck_assert_int_eq(needs_resets, 1);
	ck_assert_int_eq(vd->ops->activate(vd), -EPIPE);
	virtio_dev_destroy(vd);
	evloop_destroy(loop);
}
END_TEST

START_TEST(malformed_replies)
{
	static const struct { enum fault f; int rc; const char *word; } c[] = {
		{ BAD_CONFIG_SIZE, -EPROTO, "handshake" },
		{ HUGE_SIZE, -EPROTO, "handshake" },
		{ CONFIG_OFFSET, -EPROTO, "handshake" },
		{ WRONG_REQUEST, -EPROTO, "handshake" },
		{ NO_VERSION_1, -ENOTSUP, "virtio 1" },
	};
	char err[256] = "";
	int rc;
	uint64_t f = c[_i].f == NO_VERSION_1 ? F_BASE & ~(1ull << VIRTIO_F_VERSION_1) : F_BASE;
	struct virtio_dev *vd = create(c[_i].f, f, NULL, &rc, err, sizeof(err));

	ck_assert_ptr_null(vd);
	ck_assert_msg(rc == c[_i].rc, "fault %d: rc %d (%s)", c[_i].f, rc, err);
	ck_assert_msg(strstr(err, c[_i].word), "fault %d: %s", c[_i].f, err);
	ck_assert(!strchr(err, '\n'));
	backend_join();
}
END_TEST

START_TEST(wrong_vring_base_index)
{
	char err[256] = "";
	int rc;
	struct virtio_dev *vd = create(WRONG_BASE_INDEX, F_BASE, NULL, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, 0);
	ready_queue(vd);
	ck_assert_int_eq(vd->ops->activate(vd), 0);
	vd->ops->reset(vd);     /* the lie closes the connection: no reset sent after */
	ck_assert_int_lt(find(VHU_RESET_OWNER, 0), 0);
	ck_assert_int_eq(vd->ops->activate(vd), -EPIPE);
	virtio_dev_destroy(vd);
	backend_join();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vhost_user_dev");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, negotiation_masks_features);
	tcase_add_test(tc, activate_hands_over_memory_and_rings);
	tcase_add_test(tc, nack_fails_activation);
	tcase_add_test(tc, death_mid_setup);
	tcase_add_test(tc, hangup_sets_needs_reset);
	tcase_add_loop_test(tc, malformed_replies, 0, 5);
	tcase_add_test(tc, wrong_vring_base_index);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
