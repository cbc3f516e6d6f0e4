/* A small event loop (epoll): fd callbacks, interval/one-shot timers on
 * timerfds, and a wakeup eventfd so other threads can make it re-check. */
#ifndef MYVMM_EVLOOP_H
#define MYVMM_EVLOOP_H
#include <stdbool.h>
#include <stdint.h>

struct evloop;
typedef void (*ev_fd_cb)(void *opaque, int fd, uint32_t events);
typedef void (*ev_timer_cb)(void *opaque);

struct evloop *evloop_create(void);
void evloop_destroy(struct evloop *l);
/* events: EPOLLIN/EPOLLOUT... Returns 0 or -errno. */
int evloop_add_fd(struct evloop *l, int fd, uint32_t events, ev_fd_cb cb, void *opaque);
int evloop_del_fd(struct evloop *l, int fd);
/* A timer firing after first_ms, then every interval_ms (0 = once). Returns
 * a timer id >= 0 or -errno. */
int evloop_add_timer(struct evloop *l, uint64_t first_ms, uint64_t interval_ms, ev_timer_cb cb,
		     void *opaque);
int evloop_del_timer(struct evloop *l, int id);
/* Runs until evloop_quit(). Returns 0 or -errno. */
int evloop_run(struct evloop *l);
/* Thread-safe. */
void evloop_quit(struct evloop *l);
#endif
