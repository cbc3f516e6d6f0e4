/* Disk image backend for virtio-blk: a raw image file (or block device) read
 * and written with Linux AIO (libaio). Completions are signalled on an
 * eventfd that the I/O thread watches; blk_backend_complete() reaps them.
 *
 * Thread-safe: a leaf mutex guards the backend, so blk_backend_drain() may
 * run on one thread (a vCPU resetting the device) while another submits and
 * completes. Completion callbacks run with that mutex held, inside
 * blk_backend_submit() (for requests finished synchronously),
 * blk_backend_complete() and blk_backend_drain(), on the caller's thread:
 * they must not call back into the backend.
 *
 * Blocking work -- DISCARD / WRITE_ZEROES (fallocate or written zeroes) and
 * FLUSH when the kernel refuses IOCB_CMD_FDSYNC (fdatasync) -- runs on one
 * sync thread per disk (blk_sync.c), never on the caller's thread; its
 * completions come through the same eventfd. O_DIRECT bounce buffers are
 * capped at BLK_BOUNCE_MAX bytes in flight. */
#ifndef MYVMM_BLK_BACKEND_H
#define MYVMM_BLK_BACKEND_H
#include <stdint.h>

#include "devices/virtio/blk.h"

struct blk_backend;

#define BLK_BOUNCE_MAX (16u << 20) /* O_DIRECT bounce bytes in flight (and per request) */

/* A request finished: status is VIRTIO_BLK_S_*; req is the backend's copy of
 * what was submitted (valid only during the call). */
typedef void (*blk_done_cb)(void *opaque, const struct blk_req *req, uint64_t tag,
			    uint8_t status);

/* Opens cfg->path (O_RDONLY when ro, O_DIRECT when direct), checks it is
 * a regular file or block device whose size is a multiple of 512, takes an
 * OFD lock (write lock for rw, read lock for ro) and sets up an AIO context
 * for max_inflight requests. Returns 0 or -errno with one line in err
 * naming the path and the fix. */
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
/* fdatasync of the image (snapshots: after a drain). 0 or -errno. */
int blk_backend_sync(struct blk_backend *b);
#endif
