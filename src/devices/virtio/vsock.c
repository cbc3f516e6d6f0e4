/* virtio-vsock with a hybrid unix-socket backend (see vsock.h). */
#include "devices/virtio/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/efd.h"
#include "host/evloop.h"
#include "host/log.h"

#define RXQ 0
#define TXQ 1
#define EVQ 2

#define HOST_PORT_BASE 0x40000000u  /* local ports for host-initiated connections */
#define LINE_MAX_LEN   32           /* "CONNECT 4294967295\n" */

/* Control packets a connection owes the guest (sent as rx buffers allow). */
#define P_REQUEST  1u
#define P_RESPONSE 2u
#define P_CREDIT   4u
#define P_SHUTDOWN 8u
#define P_RST      16u

enum conn_state {
	C_FREE,
	C_LINE,      /* host client: reading "CONNECT <port>\n" */
	C_REQ,       /* REQUEST sent to the guest, waiting for RESPONSE */
	C_EST,       /* established */
	C_DEAD,      /* to be closed on the loop thread (sync) */
};

struct conn {
	enum conn_state st;
	int fd;
	bool registered;             /* fd is on the event loop (loop thread owns this) */
	uint32_t ev_cur;             /* events registered (loop thread) */
	uint32_t gport, hport;       /* guest port, host port */
	char line[LINE_MAX_LEN];
	unsigned line_len;
	/* guest -> host: bytes received, not yet written to the host socket */
	uint8_t *buf;                /* VSOCK_BUF_ALLOC bytes, a ring */
	uint32_t head, len;
	uint32_t fwd_cnt, fwd_reported;
	bool shut_wr_pending, shut_done;
	/* host -> guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	bool readable;               /* the host socket may have data (EPOLLIN seen) */
	bool host_eof;
	uint32_t pend;               /* P_* */
};

/* RSTs for packets that name no connection (bounded; dropped when full). */
#define RST_RING 16
struct rst_req { uint32_t src_port, dst_port; };

struct vsock {
	struct virtio_dev vd;        /* vd.lock guards everything below but the loop-side fields */
	uint64_t cid;
	char path[VSOCK_PATH_MAX + 1];
	struct evloop *loop;
	int listen_fd, sync_fd;
	bool bound;                  /* path is ours to unlink */
	uint32_t next_hport;
	struct conn conns[VSOCK_MAX_CONNS];
	struct rst_req rst[RST_RING];
	unsigned nrst;
	bool reset_event;            /* TRANSPORT_RESET waits for an event buffer */
	struct vq_chain chain;
	uint8_t bounce[VSOCK_MAX_PKT];
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t o[VSOCK_HDR_LEN])
{
	put64(o, h->src_cid); put64(o + 8, h->dst_cid); put32(o + 16, h->src_port);
	put32(o + 20, h->dst_port); put32(o + 24, h->len); put16(o + 28, h->type);
	put16(o + 30, h->op); put32(o + 32, h->flags); put32(o + 36, h->buf_alloc);
	put32(o + 40, h->fwd_cnt);
}

void vsock_hdr_decode(const uint8_t i[VSOCK_HDR_LEN], struct vsock_hdr *h)
{
	h->src_cid = get64(i); h->dst_cid = get64(i + 8); h->src_port = get32(i + 16);
	h->dst_port = get32(i + 20); h->len = get32(i + 24); h->type = get16(i + 28);
	h->op = get16(i + 30); h->flags = get32(i + 32); h->buf_alloc = get32(i + 36);
	h->fwd_cnt = get32(i + 40);
}

static void want_sync(struct vsock *v)
{
	if (efd_signal(v->sync_fd) < 0)
		pr_warn("virtio-vsock: sync eventfd: %s", strerror(errno));
}

static struct conn *find(struct vsock *v, uint32_t gport, uint32_t hport)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		if ((c->st == C_REQ || c->st == C_EST) && c->gport == gport && c->hport == hport)
			return c;
	}
	return NULL;
}

static struct conn *alloc_conn(struct vsock *v, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		if (c->st != C_FREE || c->registered)
			continue;
		uint8_t *buf = c->buf ? c->buf : malloc(VSOCK_BUF_ALLOC);
		if (!buf)
			return NULL;
		memset(c, 0, sizeof(*c));
		c->buf = buf;
		c->fd = fd;
		return c;
	}
	return NULL;
}

/* Lock held. The fd is closed by sync on the loop thread. */
static void kill_conn(struct vsock *v, struct conn *c)
{
	c->st = C_DEAD;
	c->pend = 0;
	want_sync(v);
}

static void queue_rst(struct vsock *v, uint32_t src_port, uint32_t dst_port)
{
	if (v->nrst < RST_RING)
		v->rst[v->nrst++] = (struct rst_req){ src_port, dst_port };
}

/* How many bytes the guest can take on c now (5.10.6.3). */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t inflight = c->tx_cnt - c->peer_fwd_cnt;
	return inflight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - inflight;
}

/* Lock held: writes buffered guest bytes to the host socket. */
static void drain_to_host(struct vsock *v, struct conn *c)
{
	while (c->st == C_EST && c->len) {
		uint32_t chunk = c->len;
		if (chunk > VSOCK_BUF_ALLOC - c->head)
			chunk = VSOCK_BUF_ALLOC - c->head;
		ssize_t n = send(c->fd, c->buf + c->head, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			c->pend |= P_RST;
			return;
		}
		c->head = (c->head + (uint32_t)n) % VSOCK_BUF_ALLOC;
		c->len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (c->len == 0 && c->shut_wr_pending && !c->shut_done) {
		shutdown(c->fd, SHUT_WR);
		c->shut_done = true;
	}
	/* Tell the guest about freed space once a quarter of the buffer is free again. */
	if (c->fwd_cnt - c->fwd_reported >= VSOCK_BUF_ALLOC / 4)
		c->pend |= P_CREDIT;
	if (c->len)
		want_sync(v); /* needs EPOLLOUT */
}

static void hdr_for(const struct vsock *v, const struct conn *c, uint16_t op, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = v->cid, .src_port = c->hport,
		.dst_port = c->gport, .type = VSOCK_TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};
}

/* The control packet c owes the guest first (RST, REQUEST, RESPONSE,
 * SHUTDOWN, CREDIT_UPDATE): its P_* bit, or 0. */
static uint32_t ctrl_hdr(const struct vsock *v, const struct conn *c, struct vsock_hdr *h)
{
	static const struct { uint32_t bit; uint16_t op; } order[] = {
		{ P_RST, VSOCK_OP_RST }, { P_REQUEST, VSOCK_OP_REQUEST },
		{ P_RESPONSE, VSOCK_OP_RESPONSE }, { P_SHUTDOWN, VSOCK_OP_SHUTDOWN },
		{ P_CREDIT, VSOCK_OP_CREDIT_UPDATE },
	};
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->pend & order[i].bit))
			continue;
		hdr_for(v, c, order[i].op, h);
		if (order[i].bit == P_SHUTDOWN)
			h->flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
		return order[i].bit;
	}
	return 0;
}

/* Lock held: picks the next packet owed to the guest and, if an rx buffer
 * is there, sends it. 1: sent, 0: nothing to send or no buffer (*no_bufs),
 * < 0: broken ring. Host data is peeked first, so nothing is read from a
 * socket unless a buffer takes it. */
static int rx_one(struct vsock *v, bool *no_bufs)
{
	struct virtqueue *q = &v->vd.vq[RXQ];
	struct vsock_hdr h;
	struct conn *c = NULL;
	uint32_t bit = 0, peeked = 0, payload = 0;
	bool stray = false;
	uint8_t wire[VSOCK_HDR_LEN];
	int r;

	if (v->nrst) {
		struct rst_req s = v->rst[v->nrst - 1];
		h = (struct vsock_hdr){ .src_cid = VSOCK_HOST_CID, .dst_cid = v->cid,
					.src_port = s.src_port, .dst_port = s.dst_port,
					.type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST };
		stray = true;
	}
	for (unsigned i = 0; !stray && !c && i < VSOCK_MAX_CONNS; i++) {
		struct conn *k = &v->conns[i];
		if (k->st != C_REQ && k->st != C_EST)
			continue;
		if (k->st == C_EST && !k->pend && k->readable && !k->host_eof && peer_credit(k)) {
			uint32_t want = peer_credit(k) < VSOCK_MAX_PKT ? peer_credit(k) : VSOCK_MAX_PKT;
			ssize_t n = recv(k->fd, v->bounce, want, MSG_PEEK | MSG_DONTWAIT);
			if (n > 0) {
				peeked = (uint32_t)n;
				c = k;
				break;
			}
			if (n == 0) {
				k->host_eof = true;     /* host EOF: both directions are done */
				k->pend |= P_SHUTDOWN;
			} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				k->readable = false;    /* drained: wait for EPOLLIN again */
				want_sync(v);
			} else {
				k->pend |= P_RST;
			}
		}
		if ((bit = ctrl_hdr(v, k, &h)))
			c = k;
	}
	if (!stray && !c)
		return 0;
	if (!q->ready || (r = vq_pop(q, &v->chain)) == 0) {
		*no_bufs = true;
		return 0;
	}
	if (r < 0)
		return r;
	if (v->chain.in_bytes < VSOCK_HDR_LEN) {
		pr_guest("virtio-vsock: rx buffer of %u bytes, smaller than a header", v->chain.in_bytes);
		return -EINVAL;
	}
	if (stray) {
		v->nrst--;
	} else if (bit) {
		c->pend &= ~bit;
		c->fwd_reported = c->fwd_cnt;
		if (bit == P_RST)
			kill_conn(v, c);
	} else {
		payload = v->chain.in_bytes - VSOCK_HDR_LEN;
		if (payload > peeked)
			payload = peeked;
		ssize_t n = recv(c->fd, v->bounce, payload, MSG_DONTWAIT);
		payload = n > 0 ? (uint32_t)n : 0;  /* we peeked at least payload bytes */
		hdr_for(v, c, VSOCK_OP_RW, &h);
		h.len = payload;
		c->tx_cnt += payload;
		c->fwd_reported = c->fwd_cnt;
		vq_chain_write(&v->chain, VSOCK_HDR_LEN, v->bounce, payload);
	}
	vsock_hdr_encode(&h, wire);
	vq_chain_write(&v->chain, 0, wire, VSOCK_HDR_LEN);
	vq_push(q, v->chain.head, VSOCK_HDR_LEN + payload);
	return 1;
}

/* Lock held, active: sends what is owed, within a budget. */
static int flush_rx(struct vsock *v)
{
	unsigned done = 0;
	bool no_bufs = false;
	int r = 0;

	while (done < VSOCK_RX_BUDGET && (r = rx_one(v, &no_bufs)) > 0)
		done++;
	if (done)
		virtio_notify_used(&v->vd, RXQ);
	if (done == VSOCK_RX_BUDGET)
		want_sync(v); /* more later, behind the loop's other work */
	if (r < 0) {
		pr_guest("virtio-vsock: bad receive queue: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* "PATH_<port>": a guest connection to host port `port`. */
static int connect_port(struct vsock *v, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v->path, port) >=
	    sizeof(a.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Lock held: one packet from the guest, already read into h (+ payload in chain). */
static void tx_packet(struct vsock *v, const struct vsock_hdr *h, uint32_t payload_off)
{
	struct conn *c;

	if (h->src_cid != v->cid || h->dst_cid != VSOCK_HOST_CID) {
		pr_guest("virtio-vsock: packet from cid %llu to cid %llu dropped",
			 (unsigned long long)h->src_cid, (unsigned long long)h->dst_cid);
		return;
	}
	c = find(v, h->src_port, h->dst_port);
	if (h->type != VSOCK_TYPE_STREAM) {
		if (h->op != VSOCK_OP_RST)
			queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	if (c) {
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
	}
	switch (h->op) {
	case VSOCK_OP_REQUEST: {
		if (c) {                        /* a duplicate: reset both */
			c->pend |= P_RST;
			return;
		}
		int fd = connect_port(v, h->dst_port);
		struct conn *n = fd >= 0 ? alloc_conn(v, fd) : NULL;
		if (!n) {
			if (fd >= 0)
				close(fd);
			queue_rst(v, h->dst_port, h->src_port);
			return;
		}
		n->st = C_EST;
		n->gport = h->src_port;
		n->hport = h->dst_port;
		n->peer_buf_alloc = h->buf_alloc;
		n->peer_fwd_cnt = h->fwd_cnt;
		n->pend = P_RESPONSE;
		want_sync(v);                   /* register the fd */
		return;
	}
	case VSOCK_OP_RESPONSE:
		if (!c || c->st != C_REQ) {
			queue_rst(v, h->dst_port, h->src_port);
			return;
		}
		c->st = C_EST;
		{
			char ok[LINE_MAX_LEN];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->hport);
			if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
				c->pend |= P_RST; /* a fresh socket always takes a dozen bytes */
		}
		c->readable = true;
		return;
	case VSOCK_OP_RW:
		if (!c || c->st != C_EST) {
			queue_rst(v, h->dst_port, h->src_port);
			return;
		}
		if (c->shut_wr_pending || h->len > VSOCK_BUF_ALLOC - c->len) {
			pr_guest("virtio-vsock: port %u sent %u bytes beyond its credit; resetting",
				 h->src_port, h->len);
			c->pend |= P_RST;
			return;
		}
		for (uint32_t got = 0; got < h->len;) {
			uint32_t tail = (c->head + c->len) % VSOCK_BUF_ALLOC;
			uint32_t room = VSOCK_BUF_ALLOC - tail, want = h->len - got;
			uint32_t n = vq_chain_read(&v->chain, payload_off + got, c->buf + tail,
						   want < room ? want : room);
			if (!n)
				break;
			c->len += n;
			got += n;
		}
		drain_to_host(v, c);
		return;
	case VSOCK_OP_CREDIT_UPDATE:
		if (!c)
			queue_rst(v, h->dst_port, h->src_port);
		return;                         /* credit already taken from the header */
	case VSOCK_OP_CREDIT_REQUEST:
		if (c)
			c->pend |= P_CREDIT;
		else
			queue_rst(v, h->dst_port, h->src_port);
		return;
	case VSOCK_OP_SHUTDOWN:
		if (!c)
			return;
		if ((h->flags & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) ==
		    (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) {
			c->pend |= P_RST;               /* the guest closes: acknowledge with RST */
			return;
		}
		if (h->flags & VSOCK_SHUTDOWN_SEND) {
			c->shut_wr_pending = true;
			drain_to_host(v, c);
		}
		return;
	case VSOCK_OP_RST:
		if (c)
			kill_conn(v, c);
		return;
	default:
		pr_guest("virtio-vsock: unknown op %u from port %u", h->op, h->src_port);
		if (c)
			c->pend |= P_RST;
		else
			queue_rst(v, h->dst_port, h->src_port);
	}
}

static int drain_tx(struct vsock *v)
{
	struct virtqueue *q = &v->vd.vq[TXQ];
	unsigned chains = 0;
	int r = 0;

	while (q->ready) {
		if (virtio_budget_spent(&v->vd, TXQ, chains, VSOCK_TX_BUDGET))
			break;
		if ((r = vq_pop(q, &v->chain)) <= 0)
			break;
		uint8_t wire[VSOCK_HDR_LEN];
		struct vsock_hdr h;
		if (vq_chain_read(&v->chain, 0, wire, VSOCK_HDR_LEN) != VSOCK_HDR_LEN) {
			pr_guest("virtio-vsock: tx chain of %u bytes, shorter than a header",
				 v->chain.out_bytes);
			r = -EINVAL;
			break;
		}
		vsock_hdr_decode(wire, &h);
		if (h.len > VSOCK_MAX_PKT || h.len > v->chain.out_bytes - VSOCK_HDR_LEN) {
			pr_guest("virtio-vsock: packet len %u but %u payload bytes (max %u)", h.len,
				 v->chain.out_bytes - VSOCK_HDR_LEN, VSOCK_MAX_PKT);
			r = -EINVAL;
			break;
		}
		tx_packet(v, &h, VSOCK_HDR_LEN);
		vq_push(q, v->chain.head, 0);
		chains++;
	}
	if (chains)
		virtio_notify_used(&v->vd, TXQ);
	if (r < 0) {
		pr_guest("virtio-vsock: bad transmit queue: %s", strerror(-r));
		return r;
	}
	return flush_rx(v); /* responses, credit updates */
}

/* Lock held: a pending TRANSPORT_RESET into the guest's next event buffer
 * (5.10.6.6: struct virtio_vsock_event, le32 id 0). */
static int send_event(struct vsock *v)
{
	static const uint8_t ev[4] = { 0 }; /* VIRTIO_VSOCK_EVENT_TRANSPORT_RESET */
	struct virtqueue *q = &v->vd.vq[EVQ];
	int got;

	if (!v->reset_event || !v->vd.active)
		return 0;
	got = vq_pop(q, &v->chain);
	if (got <= 0) {
		if (got < 0)
			pr_guest("virtio-vsock: bad event queue: %s", strerror(-got));
		return got; /* 0: no buffer yet, sent when the guest adds one */
	}
	if (v->chain.in_bytes < sizeof(ev)) {
		pr_guest("virtio-vsock: event buffer of %u bytes (needs 4)", v->chain.in_bytes);
		vq_push(q, v->chain.head, 0);
	} else {
		vq_chain_write(&v->chain, 0, ev, sizeof(ev));
		vq_push(q, v->chain.head, sizeof(ev));
		v->reset_event = false;
	}
	virtio_notify_used(&v->vd, EVQ);
	return 0;
}

static int vs_notify(struct virtio_dev *vd, unsigned q)
{
	struct vsock *v = vd->priv;
	if (q == TXQ)
		return drain_tx(v);
	if (q == RXQ)
		return flush_rx(v);
	return send_event(v);
}

int virtio_vsock_transport_reset(struct virtio_dev *vd)
{
	struct vsock *v = vd->priv;
	int r;

	virtio_dev_lock(vd);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i].st != C_FREE)
			v->conns[i].st = C_DEAD;
	v->nrst = 0;
	v->reset_event = true;
	want_sync(v);
	r = send_event(v);
	if (r < 0)
		virtio_fail(vd);
	virtio_dev_unlock(vd);
	return r < 0 ? r : 0;
}

/* ---- loop thread ---- */

static void on_conn(void *opaque, int fd, uint32_t ev);

/* Host client on a C_LINE connection: "CONNECT <port>\n". Lock held. */
static void read_line(struct vsock *v, struct conn *c)
{
	while (c->line_len < sizeof(c->line) - 1) {
		ssize_t n = recv(c->fd, c->line + c->line_len, 1, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			kill_conn(v, c);
			return;
		}
		if (c->line[c->line_len++] != '\n')
			continue;
		c->line[c->line_len - 1] = 0;
		char *end;
		unsigned long port = 0;
		bool ok = !strncmp(c->line, "CONNECT ", 8) && c->line[8] >= '0' && c->line[8] <= '9';
		if (ok) {
			errno = 0;
			port = strtoul(c->line + 8, &end, 10);
			ok = !errno && !*end && port <= UINT32_MAX;
		}
		if (!ok || !v->vd.active) {
			kill_conn(v, c);
			return;
		}
		c->gport = (uint32_t)port;
		do
			c->hport = v->next_hport++;
		while (find(v, c->gport, c->hport));
		c->st = C_REQ;
		c->pend = P_REQUEST;
		return;
	}
	kill_conn(v, c); /* no newline within LINE_MAX_LEN */
}

/* Brings every fd's event-loop registration in line with its connection
 * (and closes dead ones). Loop thread; vd.lock is taken only to read. */
static void sync_conns(struct vsock *v)
{
	struct { int fd; uint32_t ev; bool close; unsigned i; } ch[VSOCK_MAX_CONNS];
	unsigned n = 0;

	virtio_dev_lock(&v->vd);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		uint32_t ev = 0;
		if (c->st == C_FREE && !c->registered)
			continue;
		if (c->st == C_DEAD || c->st == C_FREE) {
			ch[n++] = (typeof(ch[0])){ c->fd, 0, true, i };
			continue;
		}
		if (c->st == C_LINE || (c->st == C_EST && !c->readable && !c->host_eof))
			ev |= EPOLLIN;
		if (c->st == C_EST && c->len)
			ev |= EPOLLOUT;
		if (ev != c->ev_cur || !c->registered)
			ch[n++] = (typeof(ch[0])){ c->fd, ev, false, i };
	}
	if (v->vd.active && flush_rx(v))
		virtio_fail(&v->vd);
	virtio_dev_unlock(&v->vd);
	for (unsigned k = 0; k < n; k++) {
		struct conn *c = &v->conns[ch[k].i];
		/* registered/ev_cur are loop-thread fields: no lock needed. */
		if (c->registered)
			evloop_del_fd(v->loop, ch[k].fd);
		c->registered = false;
		c->ev_cur = 0;
		if (ch[k].close) {
			close(ch[k].fd);
			virtio_dev_lock(&v->vd);
			c->st = C_FREE;         /* the slot may be reused now */
			virtio_dev_unlock(&v->vd);
			continue;
		}
		if (ch[k].ev && evloop_add_fd(v->loop, ch[k].fd, ch[k].ev, on_conn, v) == 0) {
			c->registered = true;
			c->ev_cur = ch[k].ev;
		} else if (!ch[k].ev) {
			c->registered = false;
		}
	}
}

static void on_sync(void *opaque, int fd, uint32_t ev)
{
	struct vsock *v = opaque;
	efd_drain(fd);
	sync_conns(v);
}

static void on_conn(void *opaque, int fd, uint32_t ev)
{
	struct vsock *v = opaque;

	virtio_dev_lock(&v->vd);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		if (c->fd != fd || c->st == C_FREE || c->st == C_DEAD)
			continue;
		if (c->st == C_LINE)
			read_line(v, c);
		else if (c->st == C_EST) {
			if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
				c->readable = true;
			if (ev & EPOLLOUT)
				drain_to_host(v, c);
		}
		break;
	}
	virtio_dev_unlock(&v->vd);
	sync_conns(v); /* registrations, and rx for what became readable */
}

static void on_accept(void *opaque, int fd, uint32_t ev)
{
	struct vsock *v = opaque;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	if (cfd < 0)
		return;
	virtio_dev_lock(&v->vd);
	c = alloc_conn(v, cfd);
	if (c)
		c->st = C_LINE;
	virtio_dev_unlock(&v->vd);
	if (!c) {
		pr_warn("virtio-vsock: %u connections already open; refusing one", VSOCK_MAX_CONNS);
		close(cfd);
		return;
	}
	sync_conns(v);
}

static void vs_reset(struct virtio_dev *vd)
{
	struct vsock *v = vd->priv;
	virtio_dev_lock(vd);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i].st != C_FREE)
			v->conns[i].st = C_DEAD;
	v->nrst = 0;
	v->reset_event = false;
	want_sync(v);
	virtio_dev_unlock(vd);
}

static void vs_config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	struct vsock *v = vd->priv;
	uint8_t cfg[8];
	put64(cfg, v->cid);
	memcpy(data, cfg + off, len); /* transport checked off + len <= size */
}

static void vs_config_write(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len)
{
	/* guest_cid is read-only (5.10.4) */
}

static void vs_destroy(struct virtio_dev *vd)
{
	struct vsock *v = vd->priv;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		if (c->registered)
			evloop_del_fd(v->loop, c->fd);
		if (c->st != C_FREE || c->registered)
			close(c->fd);
		free(c->buf);
	}
	if (v->listen_fd >= 0) {
		evloop_del_fd(v->loop, v->listen_fd);
		close(v->listen_fd);
	}
	if (v->bound)
		unlink(v->path);
	if (v->sync_fd >= 0) {
		evloop_del_fd(v->loop, v->sync_fd);
		close(v->sync_fd);
	}
	virtio_dev_cleanup(vd);
	free(v);
}

static const struct virtio_dev_ops vs_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,              /* stream only (5.10.3: no feature bit needed) */
	.num_queues = 3,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_size = 8,
	.config_read = vs_config_read,
	.config_write = vs_config_write,
	.queue_notify = vs_notify,
	.reset = vs_reset,
	.destroy = vs_destroy,
};

int virtio_vsock_create(uint64_t cid, const char *path, struct evloop *loop,
			struct virtio_dev **out, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct vsock *v;
	int r;

	if (cid < 3 || cid > 0xffffffffu) {
		snprintf(err, errlen, "guest CID %llu: use 3 .. 4294967295", (unsigned long long)cid);
		return -EINVAL;
	}
	if (!path || !*path || strlen(path) > VSOCK_PATH_MAX - 11) {
		snprintf(err, errlen, "socket path must be 1-%d characters (PATH_<port> must fit)",
			 VSOCK_PATH_MAX - 11);
		return -EINVAL;
	}
	if (!loop) {
		snprintf(err, errlen, "needs an event loop");
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	virtio_dev_init(&v->vd, &vs_ops, v);
	v->cid = cid;
	v->loop = loop;
	v->next_hport = HOST_PORT_BASE;
	snprintf(v->path, sizeof(v->path), "%s", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	v->sync_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->sync_fd < 0 || v->listen_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	mode_t old = umask(0077);
	r = bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	umask(old);
	v->bound = !r;
	if (r) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(-r),
			 r == -EADDRINUSE ? " (the file exists; remove it or pick another path)" : "");
		close(v->listen_fd);
		v->listen_fd = -1;
		goto fail;
	}
	if (listen(v->listen_fd, 16) ||
	    evloop_add_fd(loop, v->listen_fd, EPOLLIN, on_accept, v) ||
	    evloop_add_fd(loop, v->sync_fd, EPOLLIN, on_sync, v)) {
		r = -EIO;
		snprintf(err, errlen, "%s: cannot listen", path);
		goto fail;
	}
	*out = &v->vd;
	return 0;
fail:
	vs_destroy(&v->vd);
	return r;
}
