/* Disk image backend for virtio-blk: a raw image file (or block device).
 * One of three engines does the I/O (enum blk_aio):
 *   io_uring  readv/writev, fsync, fallocate (discard, write zeroes) all
 *             asynchronous in the kernel; probed at open (containers and
 *             kernel.io_uring_disabled forbid it);
 *   native    libaio for O_DIRECT reads/writes and fdatasync; buffered
 *             (writeback) reads/writes -- synchronous inside io_submit --
 *             and discard / write zeroes go to worker threads;
 *   threads   worker threads for everything.
 * Completions are signalled on an eventfd that the I/O thread watches;
 * blk_backend_complete() reaps them. Nothing a request needs ever blocks
 * the caller's thread (the event loop).
 *
 * Thread-safe: a leaf mutex guards the backend, so blk_backend_drain() may
 * run on one thread (a vCPU resetting the device) while another submits and
 * completes. Completion callbacks run with that mutex held, inside
 * blk_backend_submit() / blk_backend_unplug() (for requests finished
 * synchronously), blk_backend_complete() and blk_backend_drain(), on the
 * caller's thread: they must not call back into the backend.
 *
 * O_DIRECT bounce buffers are capped at BLK_BOUNCE_MAX bytes in flight. */
#ifndef MYVMM_BLK_BACKEND_H
#define MYVMM_BLK_BACKEND_H
#include <stdint.h>

#include "devices/virtio/blk.h"

struct blk_backend;

#define BLK_BOUNCE_MAX (16u << 20) /* O_DIRECT bounce bytes in flight (and per request) */
#define BLK_WORKERS_MAX 4u          /* worker threads per disk doing reads and writes */

/* A request finished: status is VIRTIO_BLK_S_*; req is the backend's copy of
 * what was submitted (valid only during the call). */
typedef void (*blk_done_cb)(void *opaque, const struct blk_req *req, uint64_t tag,
			    uint8_t status);

/* Opens cfg->path (O_RDONLY when ro, O_DIRECT when direct), checks it is
 * a regular file or block device whose size is a multiple of 512, takes an
 * OFD lock (write lock for rw, read lock for ro) and sets up the engine
 * cfg->aio names (AUTO: io_uring if the probe succeeds, else native) for
 * max_inflight requests. Returns 0 or -errno with one line in err naming
 * the path and the fix (a forced aio=io_uring the kernel refuses fails). */
int blk_backend_open(const struct blk_params *cfg, unsigned max_inflight, blk_done_cb cb,
		     void *opaque, struct blk_backend **out, char err[256]);
/* Drains in-flight I/O and closes everything. NULL is a no-op. */
void blk_backend_close(struct blk_backend *b);

uint64_t blk_backend_size(const struct blk_backend *b);      /* bytes */
uint32_t blk_backend_dio_align(const struct blk_backend *b); /* 0 unless O_DIRECT */
int blk_backend_event_fd(const struct blk_backend *b);
int blk_backend_fd(const struct blk_backend *b);             /* the image (fstat, fdatasync) */
unsigned blk_backend_inflight(const struct blk_backend *b);
uint64_t blk_backend_bounce_bytes(struct blk_backend *b);   /* tests */
/* "io_uring", "native" or "threads": the engine in use. */
const char *blk_backend_engine(const struct blk_backend *b);
/* Between plug and unplug, submissions are batched: unplug hands them to
 * the kernel in one call (io_submit / io_uring_enter). Nests. */
void blk_backend_plug(struct blk_backend *b);
void blk_backend_unplug(struct blk_backend *b);

/* Starts req (already checked with blk_check_request: IN, OUT, FLUSH,
 * DISCARD, WRITE_ZEROES). The callback runs exactly once, maybe before this
 * returns. Returns 0, or (no callback then; submit it again after a
 * completion) -EBUSY when max_inflight requests are pending, -EAGAIN when
 * its bounce buffer would exceed BLK_BOUNCE_MAX in flight. */
int blk_backend_submit(struct blk_backend *b, const struct blk_req *req, uint64_t tag);
/* Reaps finished AIO without blocking; returns how many completed. */
unsigned blk_backend_complete(struct blk_backend *b);
/* Waits (up to timeout_ms) until nothing is in flight, reaping completions
 * itself; the mutex is dropped while it sleeps. 0 or -ETIMEDOUT. */
int blk_backend_drain(struct blk_backend *b, unsigned timeout_ms);
/* For a snapshot: drain, then write the image's data to stable storage
 * (fdatasync through the engine, reaped here) and drain again. Blocks the
 * caller up to timeout_ms. 0, -ETIMEDOUT, or -EIO when the flush failed. */
int blk_backend_flush_drain(struct blk_backend *b, unsigned timeout_ms);
#endif
