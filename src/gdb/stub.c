/* gdb stub: sockets, sessions, stopping and resuming the vCPUs (see stub.h).
 * The packet handlers are in stub_cmd.c. */
#include "gdb/stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gdb/stub_int.h"
#include "host/evloop.h"
#include "host/log.h"
#include "kvm/kvm_host.h"
#include "machine/machine.h"
#include "vcpu/pause.h"
#include "vcpu/vcpu.h"

#define SEND_TIMEOUT_MS 2000
#define DR6_BS (1ULL << 14)

const char *gdb_host_support(const struct kvm_host *kvm)
{
	if (kvm_host_cap(kvm, KVM_CAP_SET_GUEST_DEBUG) <= 0)
		return "not available: this KVM lacks guest debugging (KVM_CAP_SET_GUEST_DEBUG); --gdb is refused";
	if (kvm->backend == KVM_BACKEND_PVM)
		return "available: hardware breakpoints, single-step, Ctrl-C, memory and registers; "
		       "software breakpoints use debug registers (int3 fails under PVM, 4 in all); "
		       "watchpoints unavailable (PVM's emulator ignores data breakpoints)";
	return "available: breakpoints and watchpoints (4 debug registers), single-step, Ctrl-C";
}

/* ---- output ---- */

static bool send_raw(struct gdb_stub *s, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len && s->client_fd >= 0) {
		ssize_t n = send(s->client_fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = s->client_fd, .events = POLLOUT };
			if (poll(&p, 1, SEND_TIMEOUT_MS) > 0)
				continue;
			pr_warn("gdb: the debugger stopped reading; closing the connection");
		}
		s->drop = true;
		return false;
	}
	return true;
}

void stub_send(struct gdb_stub *s, const char *payload, size_t len)
{
	size_t n = rsp_frame(s->out, sizeof(s->out), payload, len);
	if (!n) { /* cannot happen for our replies; never send a cut packet */
		n = rsp_frame(s->out, sizeof(s->out), "E01", 3);
	}
	s->out_len = n;
	send_raw(s, s->out, n);
}

void stub_reply(struct gdb_stub *s, const char *payload)
{
	stub_send(s, payload, strlen(payload));
}

/* ---- stopping and resuming ---- */

static struct vcpu_gate *gate(struct gdb_stub *s)
{
	return vm_vcpu_gate(s->vm);
}

int stub_pause(struct gdb_stub *s)
{
	int r;

	if (!s->vm)
		return -ENODEV;
	r = vcpu_pause_all(gate(s), vm_vcpus(s->vm), vm_ncpus(s->vm));
	if (r)
		pr_warn("gdb: vCPUs did not stop within 5 s");
	s->parked = true;
	return r;
}

/* KVM_SET_GUEST_DEBUG for every vCPU from the breakpoint table and the
 * per-vCPU step flags (0 control = guest debugging off). */
static void apply_debug(struct gdb_stub *s, bool session)
{
	for (unsigned i = 0; i < vm_ncpus(s->vm); i++) {
		struct kvm_guest_debug d;
		memset(&d, 0, sizeof(d));
		if (session && (gdb_bp_any(&s->bps) || s->step[i])) {
			d.control = KVM_GUESTDBG_ENABLE;
			if (gdb_bp_any(&s->bps)) {
				d.control |= KVM_GUESTDBG_USE_HW_BP;
				uint64_t dr[8];
				gdb_bp_debugregs(&s->bps, dr);
				for (int k = 0; k < 8; k++)
					d.arch.debugreg[k] = dr[k];
			}
			if (s->step[i])
				d.control |= KVM_GUESTDBG_SINGLESTEP |
					     (s->blockirq ? KVM_GUESTDBG_BLOCKIRQ : 0);
		}
		if (ioctl(vm_vcpus(s->vm)[i]->fd, KVM_SET_GUEST_DEBUG, &d) < 0)
			pr_warn("gdb: vcpu%u: KVM_SET_GUEST_DEBUG: %s", i, strerror(errno));
	}
}

void stub_resume(struct gdb_stub *s, const char *act)
{
	if (!s->vm)
		return;
	pthread_mutex_lock(&s->ev_lock);
	s->ev_pending = false; /* a stale second hit from the last run */
	pthread_mutex_unlock(&s->ev_lock);
	for (unsigned i = 0; i < vm_ncpus(s->vm); i++) {
		s->step[i] = act[i] == 's';
		vcpu_gate_hold(gate(s), i, act[i] == 0);
	}
	apply_debug(s, true);
	s->wait_start = false;
	s->parked = false;
	s->gdb_waits = true;
	vcpu_resume_all(gate(s));
}

void stub_end_session(struct gdb_stub *s)
{
	if (s->client_fd >= 0) {
		evloop_del_fd(s->loop, s->client_fd);
		close(s->client_fd);
		s->client_fd = -1;
	}
	memset(&s->bps, 0, sizeof(s->bps));
	memset(s->step, 0, sizeof(s->step));
	s->gdb_waits = false;
	s->drop = false;
	if (!s->vm)
		return;
	apply_debug(s, false);
	for (unsigned i = 0; i < vm_ncpus(s->vm); i++)
		vcpu_gate_hold(gate(s), i, false);
	s->wait_start = false; /* detaching from a --gdb-wait VM lets it run */
	s->parked = false;
	vcpu_resume_all(gate(s));
}

/* The stop reply for a debug exit of vCPU cpu. */
static void stop_from_debug(struct gdb_stub *s, unsigned cpu, const struct kvm_debug_exit_arch *a)
{
	char why[48] = "";
	int slot = gdb_bp_hit(&s->bps, a->dr6);

	if (slot >= 0 && !(s->step[cpu] && (a->dr6 & DR6_BS))) {
		const struct gdb_bp_slot *b = &s->bps.dr[slot];
		static const char *const names[] = { "swbreak", "hwbreak", "watch", "rwatch", "awatch" };
		if (b->type <= GDB_BP_HW)
			snprintf(why, sizeof(why), "%s:;", names[b->type]);
		else
			snprintf(why, sizeof(why), "%s:%llx;", names[b->type], (unsigned long long)b->addr);
	}
	snprintf(s->stop_reply, sizeof(s->stop_reply), "T05thread:%02x;%s", cpu + 1, why);
	s->g_cpu = cpu;
}

static void report_stop(struct gdb_stub *s)
{
	s->gdb_waits = false;
	memset(s->step, 0, sizeof(s->step));
	stub_reply(s, s->stop_reply);
}

static void on_debug(void *opaque, unsigned cpu, const struct kvm_debug_exit_arch *a)
{
	struct gdb_stub *s = opaque;
	uint64_t one = 1;

	pthread_mutex_lock(&s->ev_lock);
	if (!s->ev_pending) {
		s->ev_pending = true;
		s->ev_cpu = cpu;
		s->ev_arch = *a;
	}
	pthread_mutex_unlock(&s->ev_lock);
	if (write(s->ev_fd, &one, sizeof(one)) < 0) { /* counter saturated: already woken */ }
}

static void on_event(void *opaque, int fd, uint32_t ev)
{
	struct gdb_stub *s = opaque;
	struct kvm_debug_exit_arch a;
	uint64_t v;
	unsigned cpu;
	bool pending;

	if (read(fd, &v, sizeof(v)) < 0) { /* spurious */ }
	pthread_mutex_lock(&s->ev_lock);
	pending = s->ev_pending;
	s->ev_pending = false;
	cpu = s->ev_cpu;
	a = s->ev_arch;
	pthread_mutex_unlock(&s->ev_lock);
	if (!pending || !s->vm)
		return;
	if (!s->gdb_waits) {
		/* Nobody asked (a hit racing a detach or a Ctrl-C): let it go. */
		if (!s->parked && s->client_fd < 0)
			vcpu_resume_all(gate(s));
		return;
	}
	stub_pause(s);
	stop_from_debug(s, cpu, &a);
	report_stop(s);
}

static void interrupt(struct gdb_stub *s)
{
	if (!s->gdb_waits || !s->vm)
		return; /* Ctrl-C while stopped: nothing to do */
	stub_pause(s);
	unsigned cpu = s->c_cpu < vm_ncpus(s->vm) ? s->c_cpu : 0;
	snprintf(s->stop_reply, sizeof(s->stop_reply), "T02thread:%02x;", cpu + 1);
	s->g_cpu = cpu;
	report_stop(s);
}

/* ---- the connection ---- */

static void on_client(void *opaque, int fd, uint32_t ev)
{
	struct gdb_stub *s = opaque;
	uint8_t buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		pr_info("gdb: debugger disconnected");
		stub_end_session(s);
		return;
	}
	for (ssize_t i = 0; i < n && s->client_fd >= 0; i++) {
		switch (rsp_rx_feed(&s->rx, buf[i])) {
		case RSP_PACKET:
			if (!s->noack)
				send_raw(s, "+", 1);
			stub_handle_packet(s, s->rx.buf);
			break;
		case RSP_BAD_PACKET:
			if (!s->noack)
				send_raw(s, "-", 1);
			else
				stub_reply(s, "E01"); /* no retransmission without acks */
			break;
		case RSP_NAK:
			if (s->out_len && !s->noack)
				send_raw(s, s->out, s->out_len);
			break;
		case RSP_INTERRUPT:
			interrupt(s);
			break;
		case RSP_ACK:
		case RSP_NONE:
			break;
		}
		if (s->drop)
			stub_end_session(s);
	}
}

static void on_accept(void *opaque, int fd, uint32_t ev)
{
	struct gdb_stub *s = opaque;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;

	if (c < 0)
		return;
	if (s->client_fd >= 0 || !s->vm) {
		close(c); /* one debugger at a time */
		return;
	}
	if (!s->spec.is_unix)
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (evloop_add_fd(s->loop, c, EPOLLIN, on_client, s)) {
		close(c);
		return;
	}
	s->client_fd = c;
	s->noack = false;
	s->out_len = 0;
	s->g_cpu = s->c_cpu = 0;
	memset(&s->bps, 0, sizeof(s->bps));
	rsp_rx_init(&s->rx);
	/* Like QEMU: a debugger that connects stops the machine. */
	stub_pause(s);
	snprintf(s->stop_reply, sizeof(s->stop_reply), "T05thread:01;");
	pr_info("gdb: debugger connected; vCPUs stopped");
}

static int listen_on(struct gdb_stub *s, char *err)
{
	int fd;

	if (s->spec.is_unix) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		struct stat st;
		memcpy(a.sun_path, s->spec.path, sizeof(s->spec.path));
		/* Replace a stale socket from an earlier run, never another file. */
		if (lstat(s->spec.path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(s->spec.path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
			snprintf(err, GDB_ERR_LEN, "--gdb unix:%s: %s; choose a writable path that does "
				 "not exist", s->spec.path, strerror(errno));
			goto fail;
		}
		fprintf(stderr, "myvmm: gdb: listening on unix:%s\n", s->spec.path);
		s->listen_fd = fd;
		return 0;
	}
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(s->spec.host, NULL, &hints, &ai) || !ai) {
		snprintf(err, GDB_ERR_LEN, "--gdb tcp:%s:%u: unknown host; use an IPv4 address such as "
			 "127.0.0.1", s->spec.host, s->spec.port);
		return -EINVAL;
	}
	struct sockaddr_in a = *(struct sockaddr_in *)ai->ai_addr;
	freeaddrinfo(ai);
	a.sin_port = htons(s->spec.port);
	int one = 1;
	socklen_t al = sizeof(a);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&a, &al)) {
		snprintf(err, GDB_ERR_LEN, "--gdb tcp:%s:%u: %s; choose another port", s->spec.host,
			 s->spec.port, strerror(errno));
		goto fail;
	}
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
	fprintf(stderr, "myvmm: gdb: listening on tcp:%s:%u\n", ip, ntohs(a.sin_port));
	s->listen_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -EINVAL;
}

int gdb_stub_create(const char *spec, bool wait, struct evloop *loop, const struct kvm_host *kvm,
		    struct gdb_stub **out, char err[GDB_ERR_LEN])
{
	struct gdb_stub *s;
	int r;

	if (kvm_host_cap(kvm, KVM_CAP_SET_GUEST_DEBUG) <= 0) {
		snprintf(err, GDB_ERR_LEN, "--gdb: this host's KVM lacks guest debugging "
			 "(KVM_CAP_SET_GUEST_DEBUG); run without --gdb or use a newer host kernel");
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, GDB_ERR_LEN, "out of memory");
		return -ENOMEM;
	}
	s->loop = loop;
	s->listen_fd = s->client_fd = s->ev_fd = -1;
	s->wait_start = wait;
	s->pvm = kvm->backend == KVM_BACKEND_PVM;
	int dbg2 = kvm_host_cap(kvm, KVM_CAP_SET_GUEST_DEBUG2);
	s->blockirq = dbg2 > 0 && (dbg2 & KVM_GUESTDBG_BLOCKIRQ);
	pthread_mutex_init(&s->ev_lock, NULL);
	if ((r = gdb_spec_parse(spec, &s->spec, err, GDB_ERR_LEN)) || (r = listen_on(s, err)))
		goto fail;
	s->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->ev_fd < 0 || evloop_add_fd(loop, s->ev_fd, EPOLLIN, on_event, s) ||
	    evloop_add_fd(loop, s->listen_fd, EPOLLIN, on_accept, s)) {
		snprintf(err, GDB_ERR_LEN, "--gdb: cannot set up the stub: %s", strerror(errno));
		r = -EIO;
		goto fail;
	}
	if (wait)
		fprintf(stderr, "myvmm: gdb: --gdb-wait: the guest starts when gdb continues\n");
	*out = s;
	return 0;
fail:
	gdb_stub_destroy(s);
	return r;
}

void gdb_stub_destroy(struct gdb_stub *s)
{
	if (!s)
		return;
	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->listen_fd >= 0) {
		evloop_del_fd(s->loop, s->listen_fd);
		close(s->listen_fd);
		if (s->spec.is_unix)
			unlink(s->spec.path);
	}
	if (s->ev_fd >= 0) {
		evloop_del_fd(s->loop, s->ev_fd);
		close(s->ev_fd);
	}
	pthread_mutex_destroy(&s->ev_lock);
	free(s);
}

void gdb_stub_attach(struct gdb_stub *s, struct vm *vm)
{
	if (!s)
		return;
	s->vm = vm;
	vcpu_gate_set_debug(vm_vcpu_gate(vm), on_debug, s);
	if (s->g_cpu >= vm_ncpus(vm))
		s->g_cpu = 0;
	if (s->c_cpu >= vm_ncpus(vm))
		s->c_cpu = 0;
	/* After a reset the new vCPUs get the session's breakpoints. */
	if (s->client_fd >= 0)
		apply_debug(s, true);
	if (s->wait_start || (s->client_fd >= 0 && !s->gdb_waits))
		stub_pause(s); /* the threads park before their first instruction */
}

void gdb_stub_detach(struct gdb_stub *s, bool final, int exit_code)
{
	char w[8];

	if (!s || !s->vm)
		return;
	vcpu_gate_set_debug(vm_vcpu_gate(s->vm), NULL, NULL);
	if (final && s->client_fd >= 0) {
		snprintf(w, sizeof(w), "W%02x", exit_code & 0xff);
		stub_reply(s, w);
		stub_end_session(s);
	}
	s->vm = NULL;
	s->parked = false;
}
