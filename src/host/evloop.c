#include "host/evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EV_MAX_HANDLERS 64

struct handler {
	int fd;              /* -1 = free slot */
	bool is_timer;
	ev_fd_cb fd_cb;
	ev_timer_cb timer_cb;
	void *opaque;
};

struct evloop {
	int epfd, wakefd;
	volatile int quit;
	struct handler h[EV_MAX_HANDLERS];
};

struct evloop *evloop_create(void)
{
	struct evloop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	for (int i = 0; i < EV_MAX_HANDLERS; i++)
		l->h[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wakefd < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_MAX_HANDLERS };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
		goto fail;
	return l;
fail:
	evloop_destroy(l);
	return NULL;
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	for (int i = 0; i < EV_MAX_HANDLERS; i++)
		if (l->h[i].fd >= 0 && l->h[i].is_timer)
			close(l->h[i].fd);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	free(l);
}

static int add(struct evloop *l, int fd, uint32_t events, struct handler h)
{
	for (int i = 0; i < EV_MAX_HANDLERS; i++) {
		if (l->h[i].fd >= 0)
			continue;
		struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)i };
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		h.fd = fd;
		l->h[i] = h;
		return i;
	}
	return -ENOSPC;
}

int evloop_add_fd(struct evloop *l, int fd, uint32_t events, ev_fd_cb cb, void *opaque)
{
	int r = add(l, fd, events, (struct handler){ .fd_cb = cb, .opaque = opaque });
	return r < 0 ? r : 0;
}

int evloop_del_fd(struct evloop *l, int fd)
{
	for (int i = 0; i < EV_MAX_HANDLERS; i++) {
		if (l->h[i].fd == fd && !l->h[i].is_timer) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			l->h[i].fd = -1;
			return 0;
		}
	}
	return -ENOENT;
}

int evloop_add_timer(struct evloop *l, uint64_t first_ms, uint64_t interval_ms, ev_timer_cb cb,
		     void *opaque)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (first_ms == 0)
		first_ms = 1; /* zero would disarm */
	struct itimerspec its = {
		.it_value = { (time_t)(first_ms / 1000), (long)(first_ms % 1000) * 1000000 },
		.it_interval = { (time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000 },
	};
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int id = add(l, fd, EPOLLIN, (struct handler){ .is_timer = true, .timer_cb = cb, .opaque = opaque });
	if (id < 0)
		close(fd);
	return id;
}

int evloop_del_timer(struct evloop *l, int id)
{
	if (id < 0 || id >= EV_MAX_HANDLERS || l->h[id].fd < 0 || !l->h[id].is_timer)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->h[id].fd, NULL);
	close(l->h[id].fd);
	l->h[id].fd = -1;
	return 0;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[16];

	while (!__atomic_load_n(&l->quit, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(l->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->quit; i++) {
			uint32_t idx = evs[i].data.u32;
			if (idx == EV_MAX_HANDLERS) {
				uint64_t v;
				if (read(l->wakefd, &v, sizeof(v)) < 0) { /* drained */ }
				continue;
			}
			struct handler h = l->h[idx];
			if (h.fd < 0)
				continue;
			if (h.is_timer) {
				uint64_t exp;
				if (read(h.fd, &exp, sizeof(exp)) == sizeof(exp))
					h.timer_cb(h.opaque);
			} else {
				h.fd_cb(h.opaque, h.fd, evs[i].events);
			}
		}
	}
	l->quit = 0;
	return 0;
}

void evloop_quit(struct evloop *l)
{
	uint64_t one = 1;
	__atomic_store_n(&l->quit, 1, __ATOMIC_RELEASE);
	if (write(l->wakefd, &one, sizeof(one)) < 0) { /* already pending */ }
}
