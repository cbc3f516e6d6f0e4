/* virtio-rng / entropy device (virtio 1.2 spec 5.4): one request queue whose
 * device-writable buffers are filled from getrandom(). At most
 * RNG_MAX_REQUEST bytes per request and a token bucket of RNG_RATE bytes/s
 * (burst RNG_BURST); requests over budget wait for a timerfd on the I/O
 * loop; every request costs at least one byte of budget, and one callback
 * serves at most RNG_BUDGET requests before re-kicking itself. The device
 * lock (vd->lock) guards it; the transport may call in from any thread. */
#ifndef MYVMM_VIRTIO_RNG_H
#define MYVMM_VIRTIO_RNG_H
#include <stdint.h>

#include "devices/virtio/virtio.h"

struct evloop;

#define RNG_MAX_REQUEST (64u * 1024)
#define RNG_RATE        (1024u * 1024)   /* bytes per second */
#define RNG_BURST       (256u * 1024)
#define RNG_QUEUE_SIZE  64
#define RNG_BUDGET      32                /* requests per callback */

/* Creates the device (not yet on a transport; free it with
 * virtio_dev_destroy). loop may be NULL (tests: requests over budget then
 * wait for the next kick). */
int virtio_rng_create(struct evloop *loop, struct virtio_dev **out);
/* Tests: replace the monotonic clock (nanoseconds). */
void virtio_rng_set_clock(struct virtio_dev *vd, uint64_t (*now_ns)(void *), void *opaque);
/* Tests: bytes of budget left right now. */
uint64_t virtio_rng_tokens(struct virtio_dev *vd);
#endif
