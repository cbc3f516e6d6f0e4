/* virtio-net (virtio 1.2 spec 5.1): one receiveq/transmitq pair, MAC and
 * link status in config space, no offloads, no mergeable rx buffers.
 *
 * Threads: queue_notify and virtio_net_poll() run on the I/O thread;
 * activate/reset/config come from a vCPU thread (under the transport lock);
 * the device lock is vd->lock;
 * virtio_net_receive() may be called from any thread (the backend's) and
 * only touches a small bounded backlog under its own leaf lock, so the
 * backend never waits for the device or the transport. */
#ifndef MYVMM_VIRTIO_NET_H
#define MYVMM_VIRTIO_NET_H
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"

struct evloop;

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_HDR_SIZE     12u       /* struct virtio_net_hdr_v1 (5.1.6) */
#define NET_MAX_FRAME    65550u    /* largest Ethernet frame we move, header excluded */
#define NET_MIN_FRAME    14u       /* an Ethernet header */
#define NET_QUEUE_SIZE   256u
#define NET_RX_BACKLOG   64u       /* frames waiting for guest rx buffers */
#define NET_TX_BUDGET    64u       /* tx chains per callback, then a re-kick */
#define NET_RX_BUDGET    64u       /* rx frames per callback */
#define NET_CONFIG_SIZE  12u       /* mac[6], status, max_virtqueue_pairs, mtu */
#define NET_RXQ 0u
#define NET_TXQ 1u

/* Where guest frames go. send() is called on the I/O thread with the device
 * lock held; it must not call back into this device except through
 * virtio_net_receive(). */
struct net_backend {
	void (*send)(void *opaque, const uint8_t *frame, size_t len);
	void *opaque;
};

struct virtio_net_stats {
	uint64_t tx_frames, tx_dropped;       /* dropped: malformed or oversize */
	uint64_t tx_bytes, rx_bytes;          /* frame bytes (no virtio-net header) */
	uint64_t rx_frames, rx_dropped;       /* dropped: backlog full, inactive, too big */
	uint64_t rx_queued;                   /* frames in the backlog right now */
};

/* Creates the device with MAC mac. loop may be NULL (tests: call
 * virtio_net_poll() to deliver queued frames). Returns 0 or -errno. */
int virtio_net_create(const uint8_t mac[6], struct evloop *loop, struct virtio_dev **out);
/* Sets where transmitted frames go (NULL: dropped). Call before the guest
 * runs. */
void virtio_net_set_backend(struct virtio_dev *vd, const struct net_backend *be);
/* Thread-safe: copies one frame for the guest into the backlog and wakes
 * the I/O thread. Returns 0, -EMSGSIZE (bad length), -ENOBUFS (backlog
 * full) or -ENETDOWN (driver not ready); the frame is dropped on error. */
int virtio_net_receive(struct virtio_dev *vd, const void *frame, size_t len);
/* Delivers backlog frames into available rx buffers (what the loop's
 * eventfd callback does). I/O thread. */
void virtio_net_poll(struct virtio_dev *vd);
/* The eventfd signalled by virtio_net_receive (for tests / other loops). */
int virtio_net_poll_fd(struct virtio_dev *vd);
void virtio_net_get_stats(struct virtio_dev *vd, struct virtio_net_stats *st);
/* Free with virtio_dev_destroy (the backend must no longer call
 * virtio_net_receive). */
#endif
