/* Disk image backend for virtio-blk: a raw image file (or block device) read
 * and written with Linux AIO (libaio). Completions are signalled on an
 * eventfd that the I/O thread watches; blk_backend_complete() reaps them.
 *
 * Not thread-safe: the owner serialises all calls (virtio-blk holds its
 * device lock). Completion callbacks run inside blk_backend_submit() (for
 * requests finished synchronously), blk_backend_complete() and
 * blk_backend_drain(), on the caller's thread.
 *
 * Synchronous work done on the calling (I/O) thread: DISCARD / WRITE_ZEROES
 * (fallocate) and FLUSH when the kernel refuses IOCB_CMD_FDSYNC (fdatasync). */
#ifndef MYVMM_BLK_BACKEND_H
#define MYVMM_BLK_BACKEND_H
#include <stdint.h>

#include "devices/virtio/blk.h"

struct blk_backend;
struct disk_config;

/* A request finished: status is VIRTIO_BLK_S_*; req is the backend's copy of
 * what was submitted (valid only during the call). */
typedef void (*blk_done_cb)(void *opaque, const struct blk_req *req, uint64_t tag,
			    uint8_t status);

/* Opens cfg->path (O_RDONLY when ro, O_DIRECT when cache=none), checks it is
 * a regular file or block device whose size is a multiple of 512, takes an
 * OFD lock (write lock for rw, read lock for ro) and sets up an AIO context
 * for max_inflight requests. Returns 0 or -errno with one line in err
 * naming the path and the fix. */
int blk_backend_open(const struct disk_config *cfg, unsigned max_inflight, blk_done_cb cb,
		     void *opaque, struct blk_backend **out, char err[256]);
/* Drains in-flight I/O and closes everything. NULL is a no-op. */
void blk_backend_close(struct blk_backend *b);

uint64_t blk_backend_size(const struct blk_backend *b);      /* bytes */
uint32_t blk_backend_dio_align(const struct blk_backend *b); /* 0 unless O_DIRECT */
int blk_backend_event_fd(const struct blk_backend *b);
unsigned blk_backend_inflight(const struct blk_backend *b);

/* Starts req (already checked with blk_check_request: IN, OUT, FLUSH,
 * DISCARD, WRITE_ZEROES). The callback runs exactly once, maybe before this
 * returns. Returns 0, or -EBUSY when max_inflight requests are pending (no
 * callback then). */
int blk_backend_submit(struct blk_backend *b, const struct blk_req *req, uint64_t tag);
/* Reaps finished AIO without blocking; returns how many completed. */
unsigned blk_backend_complete(struct blk_backend *b);
/* Waits (up to timeout_ms) until nothing is in flight. 0 or -ETIMEDOUT. */
int blk_backend_drain(struct blk_backend *b, unsigned timeout_ms);
#endif
