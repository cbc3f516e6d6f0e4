/* libslirp backend for --net user. The stack runs on its own thread: each
 * round it asks slirp which sockets to watch (slirp_pollfds_fill), poll()s
 * them plus a wakeup eventfd with the earliest timer as the timeout, then
 * lets slirp handle the ready sockets and fires due timers. The I/O thread
 * feeds guest frames with slirp_input() under the same mutex and then wakes
 * the thread so it re-reads the socket set. */
#include "host/net_slirp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/config.h"

#ifndef HAVE_SLIRP

bool net_slirp_available(void) { return false; }
const char *net_slirp_version(void) { return NULL; }

int net_slirp_create(const struct net_config *cfg, net_slirp_rx_fn rx, void *rx_opaque,
		     struct net_slirp **out, char err[NET_SLIRP_ERR_LEN])
{
	snprintf(err, NET_SLIRP_ERR_LEN, "--net user: this myvmm was built without libslirp "
		 "(install libslirp-dev and rebuild); use --net none");
	return -ENOTSUP;
}

void net_slirp_send(void *ns, const uint8_t *frame, size_t len) {}
void net_slirp_destroy(struct net_slirp *ns) {}

#else

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>
#include <libslirp.h>

#include "host/log.h"
#include "host/sandbox.h"

/* libslirp (and the glib it needs) is loaded with dlopen() on the first
 * --net user, so VMs without networking never map it: linking it cost every
 * run ~1.2 MiB of RSS and a few ms of start-up. Types come from the header. */
#define SLIRP_SONAME "libslirp.so.0"
struct slirp_fns {
	__typeof__(&slirp_new) new_;
	__typeof__(&slirp_input) input;
	__typeof__(&slirp_cleanup) cleanup;
	__typeof__(&slirp_pollfds_fill) pollfds_fill;
	__typeof__(&slirp_pollfds_poll) pollfds_poll;
	__typeof__(&slirp_add_hostfwd) add_hostfwd;
	__typeof__(&slirp_connection_info) connection_info;
	void (*g_free)(void *);        /* glib's, for connection_info's string */
};

/* Resolves the functions; the handle stays open for the process (dlopen
 * reference counts, and glib does not support being unloaded). */
static int slirp_load(struct slirp_fns *f, char *err)
{
	void *h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: cannot load %s (%s); install "
			 "libslirp0 or use --net none", SLIRP_SONAME, dlerror());
		return -ENOENT;
	}
	void **slots[] = { (void **)&f->new_, (void **)&f->input, (void **)&f->cleanup,
			   (void **)&f->pollfds_fill, (void **)&f->pollfds_poll,
			   (void **)&f->add_hostfwd };
	static const char *const names[] = { "slirp_new", "slirp_input", "slirp_cleanup",
					     "slirp_pollfds_fill", "slirp_pollfds_poll",
					     "slirp_add_hostfwd" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = dlsym(h, names[i]);
		if (!*slots[i]) {
			snprintf(err, NET_SLIRP_ERR_LEN, "--net user: %s lacks %s; install libslirp0 "
				 ">= 4.0", SLIRP_SONAME, names[i]);
			return -ENOENT;
		}
	}
	f->connection_info = (__typeof__(f->connection_info))dlsym(h, "slirp_connection_info");
	f->g_free = (void (*)(void *))dlsym(h, "g_free");
	if (!f->connection_info || !f->g_free) {
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: %s lacks slirp_connection_info; "
			 "install libslirp0 >= 4.0", SLIRP_SONAME);
		return -ENOENT;
	}
	return 0;
}

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;             /* -1: disarmed */
};

struct net_slirp {
	struct slirp_fns fn;
	Slirp *slirp;
	pthread_mutex_t lock;          /* every libslirp call and the fields below */
	bool quit;
	struct slirp_timer *timers;
	net_slirp_rx_fn rx;
	void *rx_opaque;
	int wake_fd;                   /* eventfd: re-read the socket set */
	pthread_t thread;
	bool started;
	/* Owned by the thread (filled under lock, polled without it). */
	struct pollfd *pfd;
	unsigned npfd, cap;
	/* Socket cap (under lock): slirp's sockets at the last count, and
	 * guest frames since then that may have opened another one. */
	unsigned nsock, opened;
	int64_t counted_ms;
	uint16_t udp_recent[64];       /* guest UDP source ports seen (+1), by port % 64 */
	/* Host loopback policy (under lock). */
	bool host_loopback;            /* --net user,host-loopback=on */
	struct udp_back {              /* UDP from the host's loopback to the guest */
		uint32_t addr;             /* as the guest sees it (10.0.2.x) */
		uint16_t sport, gport;
	} udp_back[64];                /* by (sport ^ gport) % 64 */
};

bool net_slirp_available(void) { return true; }

const char *net_slirp_version(void)
{
	void *h = dlopen(SLIRP_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *(*ver)(void) = h ? (const char *(*)(void))dlsym(h, "slirp_version_string") : NULL;
	return ver ? ver() : NULL;
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void wake(struct net_slirp *ns)
{
	uint64_t one = 1;
	if (write(ns->wake_fd, &one, sizeof(one)) < 0) { /* already pending */ }
}

/* ---- guest frame filters (lock held) ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

/* The IPv4 header and the first 8 bytes of the transport header of frame f,
 * or NULL: not IPv4, malformed (slirp drops it) or not a first fragment. */
static const uint8_t *ipv4_l4(const uint8_t *f, size_t len)
{
	if (len < 14 + 20 || be16(f + 12) != 0x0800 || (f[14] >> 4) != 4)
		return NULL;
	size_t ihl = (size_t)(f[14] & 15) * 4;
	if (ihl < 20 || len < 14 + ihl + 8 || (be16(f + 20) & 0x1fff))
		return NULL;
	return f + 14 + ihl;
}

/* An address slirp connects to the host's loopback for: 127/8 and 0/8 as
 * such, 10.0.2.x (its aliases: the gateway and every unused address, not
 * the DNS forwarder) and the broadcasts, which slirp treats alike. */
static bool is_alias(uint32_t a)
{
	return (a & 0xffffff00u) == NET_USER_NETWORK && a != NET_USER_DNS && a != NET_USER_GUEST;
}

static bool loopback_like(uint32_t a)
{
	return (a >> 24) == 127 || (a >> 24) == 0 || a == 0xffffffffu || is_alias(a);
}

static struct udp_back *udp_back_slot(struct net_slirp *ns, uint16_t sport, uint16_t gport)
{
	return &ns->udp_back[(sport ^ gport) % 64];
}

/* A frame slirp sends the guest: UDP from the host's loopback (a host
 * client of a udp hostfwd) may be answered. */
static void note_to_guest(struct net_slirp *ns, const uint8_t *f, size_t len)
{
	const uint8_t *l4 = ipv4_l4(f, len);
	uint32_t src;
	if (!l4 || f[23] != 17 || !is_alias(src = be32(f + 26)))
		return;
	*udp_back_slot(ns, be16(l4), be16(l4 + 2)) =
		(struct udp_back){ .addr = src, .sport = be16(l4), .gport = be16(l4 + 2) };
}

/* True if the guest frame goes to the host's loopback and policy says no.
 * Without host-loopback=on the guest may only answer: TCP segments of
 * connections the host opened (hostfwd; a SYN is refused) and UDP replies
 * to a host client that wrote to it. DHCP and ICMP echo stay with slirp's
 * own gateway. 127/8 and 0/8 are never allowed: 10.0.2.2 is the way in. */
static bool blocked_loopback(struct net_slirp *ns, const uint8_t *f, size_t len)
{
	const uint8_t *l4 = ipv4_l4(f, len);
	uint32_t dst;

	if (!l4 || !loopback_like(dst = be32(f + 30)))
		return false;
	if (ns->host_loopback && is_alias(dst))
		return false;
	switch (f[23]) {
	case 1: /* ICMP: slirp answers echo for the gateway itself */
		return dst != NET_USER_GATEWAY;
	case 6: /* TCP: no new connection */
		return (l4[13] & 0x12) == 0x02 || !is_alias(dst);
	case 17: { /* UDP */
		uint16_t gport = be16(l4), dport = be16(l4 + 2);
		if (dport == 67 && (dst == NET_USER_GATEWAY || dst == 0xffffffffu))
			return false; /* DHCP, answered by slirp */
		const struct udp_back *b = udp_back_slot(ns, dport, gport);
		return !(is_alias(dst) && b->addr == dst && b->sport == dport && b->gport == gport);
	}
	default:
		return true;
	}
}

/* ---- SlirpCb (all called with ns->lock held) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *ns = opaque;
	note_to_guest(ns, buf, len);
	ns->rx(ns->rx_opaque, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	pr_guest("user network: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *ns = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = ns->timers;
	ns->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *ns = opaque;
	for (struct slirp_timer **p = &ns->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;
	t->expire_ms = expire_ms < 0 ? 0 : expire_ms;
	wake(opaque);
}

static void cb_register_poll_fd(int fd, void *opaque) { /* polled via slirp_pollfds_fill */ }
static void cb_unregister_poll_fd(int fd, void *opaque) {}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* ---- the thread ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *ns = opaque;
	short ev = 0;

	if (ns->npfd == ns->cap) {
		unsigned cap = ns->cap * 2;
		struct pollfd *p = realloc(ns->pfd, cap * sizeof(*p));
		if (!p)
			return -1; /* slirp skips this socket for one round */
		ns->pfd = p;
		ns->cap = cap;
	}
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	ns->pfd[ns->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)ns->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *ns = opaque;
	int r = 0;

	if (idx < 1 || (unsigned)idx >= ns->npfd)
		return 0;
	short ev = ns->pfd[idx].revents;
	if (ev & POLLIN)
		r |= SLIRP_POLL_IN;
	if (ev & POLLOUT)
		r |= SLIRP_POLL_OUT;
	if (ev & POLLPRI)
		r |= SLIRP_POLL_PRI;
	if (ev & (POLLERR | POLLNVAL))
		r |= SLIRP_POLL_ERR;
	if (ev & POLLHUP)
		r |= SLIRP_POLL_HUP;
	return r;
}

/* Lock held. Fires due timers; a callback may re-arm or free timers, so the
 * scan restarts after each one. */
static void run_timers(struct net_slirp *ns)
{
	bool again = true;
	while (again) {
		int64_t now = now_ns() / 1000000;
		again = false;
		for (struct slirp_timer *t = ns->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				again = true;
				break;
			}
		}
	}
}

/* Lock held. Recounts slirp's sockets (one line each in its connection
 * table; not every socket is polled) after guest frames may have opened
 * some, at most every 20 ms, and every second to notice closed ones. */
static void recount_sockets(struct net_slirp *ns, int64_t now)
{
	int64_t age = now - ns->counted_ms;
	unsigned lines = 0;

	if (age < 20 || (!ns->opened && age < 1000))
		return;
	char *s = ns->fn.connection_info(ns->slirp);
	if (!s)
		return;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	ns->fn.g_free(s);
	ns->nsock = lines ? lines - 1 : 0; /* minus the header line */
	ns->opened = 0;
	ns->counted_ms = now;
}

static void *slirp_thread(void *opaque)
{
	struct net_slirp *ns = opaque;
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGSYS); /* the sandbox's: a blocked SIGSYS would kill silently */
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the main thread */
	sandbox_thread(SANDBOX_SLIRP);
	pthread_mutex_lock(&ns->lock);
	while (!ns->quit) {
		uint32_t timeout = UINT32_MAX;
		int64_t now = now_ns() / 1000000;

		ns->pfd[0] = (struct pollfd){ .fd = ns->wake_fd, .events = POLLIN };
		ns->npfd = 1;
		ns->fn.pollfds_fill(ns->slirp, &timeout, add_poll, ns);
		recount_sockets(ns, now);
		for (struct slirp_timer *t = ns->timers; t; t = t->next) {
			if (t->expire_ms < 0)
				continue;
			int64_t left = t->expire_ms > now ? t->expire_ms - now : 0;
			if (left < (int64_t)timeout)
				timeout = (uint32_t)left;
		}
		if (timeout > 1000)
			timeout = 1000; /* belt and braces: never sleep forever */
		pthread_mutex_unlock(&ns->lock);

		int n = poll(ns->pfd, ns->npfd, (int)timeout);
		if (n > 0 && (ns->pfd[0].revents & POLLIN)) {
			uint64_t v;
			if (read(ns->wake_fd, &v, sizeof(v)) < 0) { /* drained */ }
		}

		pthread_mutex_lock(&ns->lock);
		if (ns->quit)
			break;
		ns->fn.pollfds_poll(ns->slirp, n < 0, get_revents, ns);
		run_timers(ns);
	}
	pthread_mutex_unlock(&ns->lock);
	return NULL;
}

/* ---- public ---- */

/* Lock held. True if this guest frame may make slirp open a host socket: a
 * TCP SYN, a UDP datagram from a source port not seen lately (slirp keeps
 * one socket per guest UDP source port), an ICMP echo beyond the gateway. */
static bool may_open_socket(struct net_slirp *ns, const uint8_t *f, size_t len)
{
	const uint8_t *l4 = ipv4_l4(f, len);
	if (!l4)
		return false;
	switch (f[23]) {
	case 6:  /* TCP */
		return (size_t)(l4 - f) + 14 <= len && (l4[13] & 0x12) == 0x02;
	case 17: { /* UDP */
		uint16_t port = be16(l4), *slot = &ns->udp_recent[port % 64];
		if (*slot == (uint16_t)(port + 1))
			return false;
		*slot = (uint16_t)(port + 1);
		return true;
	}
	case 1:  /* ICMP echo request to a host beyond 10.0.2.2 */
		return l4[0] == 8 && be32(f + 30) != NET_USER_GATEWAY;
	default:
		return false;
	}
}

void net_slirp_send(void *opaque, const uint8_t *frame, size_t len)
{
	struct net_slirp *ns = opaque;

	if (len > INT32_MAX)
		return;
	pthread_mutex_lock(&ns->lock);
	if (blocked_loopback(ns, frame, len)) {
		pthread_mutex_unlock(&ns->lock);
		pr_guest("user network: packet to the host's loopback dropped (allow with --net "
			 "user,host-loopback=on)");
		return;
	}
	if (may_open_socket(ns, frame, len)) {
		if (ns->nsock + ns->opened >= NET_SLIRP_MAX_SOCKETS) {
			/* At the cap: what would open another socket is dropped (TCP
			 * retries, UDP is unreliable anyway) until some close. */
			pthread_mutex_unlock(&ns->lock);
			pr_guest("user network: %u host sockets open (the cap): new connection "
				 "dropped", NET_SLIRP_MAX_SOCKETS);
			return;
		}
		ns->opened++;
	}
	ns->fn.input(ns->slirp, frame, (int)len);
	pthread_mutex_unlock(&ns->lock);
	wake(ns); /* the input may have opened sockets: re-read the set */
}

static struct in_addr ip4(uint32_t be)
{
	return (struct in_addr){ .s_addr = be };
}

int net_slirp_create(const struct net_config *cfg, net_slirp_rx_fn rx, void *rx_opaque,
		     struct net_slirp **out, char err[NET_SLIRP_ERR_LEN])
{
	struct net_slirp *ns = calloc(1, sizeof(*ns));
	int r;

	if (!ns) {
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&ns->lock, NULL);
	ns->rx = rx;
	ns->rx_opaque = rx_opaque;
	ns->host_loopback = cfg->host_loopback;
	ns->cap = 16;
	ns->wake_fd = -1;
	ns->pfd = calloc(ns->cap, sizeof(*ns->pfd));
	ns->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!ns->pfd || ns->wake_fd < 0) {
		r = ns->pfd ? -errno : -ENOMEM;
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: %s", strerror(-r));
		goto fail;
	}

	if ((r = slirp_load(&ns->fn, err)))
		goto fail;

	SlirpConfig sc = {
		.version = 1,
		.restricted = 0,
		.in_enabled = true,
		.vnetwork = ip4(htonl(NET_USER_NETWORK)),
		.vnetmask = ip4(htonl(0xffffff00)),
		.vhost = ip4(htonl(NET_USER_GATEWAY)),
		.in6_enabled = false,
		.vhostname = "myvmm",
		.vdhcp_start = ip4(htonl(NET_USER_GUEST)),
		.vnameserver = ip4(htonl(NET_USER_DNS)),
		.if_mtu = 0,   /* defaults: 1500 */
		.if_mru = 0,
		/* slirp's own switch would also refuse the replies of udp
		 * hostfwd flows (they go to 10.0.2.2): blocked_loopback()
		 * enforces the policy instead. */
		.disable_host_loopback = false,
		.enable_emu = false,
	};
	ns->slirp = ns->fn.new_(&sc, &slirp_cbs, ns);
	if (!ns->slirp) {
		r = -ENOMEM;
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: libslirp failed to start");
		goto fail;
	}
	for (unsigned i = 0; i < cfg->nfwd; i++) {
		const struct net_hostfwd *f = &cfg->fwd[i];
		char ha[INET_ADDRSTRLEN], ga[INET_ADDRSTRLEN];

		errno = 0;
		if (ns->fn.add_hostfwd(ns->slirp, f->udp, ip4(f->host_addr), f->host_port,
				      ip4(f->guest_addr), f->guest_port) < 0) {
			r = errno ? -errno : -EADDRINUSE;
			inet_ntop(AF_INET, &f->host_addr, ha, sizeof(ha));
			inet_ntop(AF_INET, &f->guest_addr, ga, sizeof(ga));
			snprintf(err, NET_SLIRP_ERR_LEN, "--net user,hostfwd=%s:%s:%u-%s:%u: cannot "
				 "listen on the host port (%s); pick another HOSTPORT",
				 f->udp ? "udp" : "tcp", ha, f->host_port, ga, f->guest_port,
				 strerror(-r));
			goto fail;
		}
	}
	if ((r = -pthread_create(&ns->thread, NULL, slirp_thread, ns))) {
		snprintf(err, NET_SLIRP_ERR_LEN, "--net user: cannot start its thread: %s",
			 strerror(-r));
		goto fail;
	}
	ns->started = true;
	*out = ns;
	return 0;
fail:
	net_slirp_destroy(ns);
	return r;
}

void net_slirp_destroy(struct net_slirp *ns)
{
	if (!ns)
		return;
	if (ns->started) {
		pthread_mutex_lock(&ns->lock);
		ns->quit = true;
		pthread_mutex_unlock(&ns->lock);
		wake(ns);
		pthread_join(ns->thread, NULL);
	}
	if (ns->slirp)
		ns->fn.cleanup(ns->slirp); /* frees its timers through cb_timer_free */
	while (ns->timers) {
		struct slirp_timer *t = ns->timers;
		ns->timers = t->next;
		free(t);
	}
	if (ns->wake_fd >= 0)
		close(ns->wake_fd);
	free(ns->pfd);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}
#endif
