/* virtio-vsock (virtio 1.2 spec 5.10) with a userspace backend in
 * Firecracker's hybrid convention: the host connects to the unix socket
 * PATH and writes "CONNECT <port>\n" (answered "OK <host port>\n" once the
 * guest accepts); a guest connection to host port P goes to PATH_P.
 *
 * Stream sockets only. Credit-based flow control (5.10.6.3): the guest may
 * have at most VSOCK_BUF_ALLOC bytes in flight towards a host socket (more
 * is a protocol violation and resets the connection); the device sends the
 * guest at most what the guest's last buf_alloc/fwd_cnt allow.
 *
 * Threads and locks: the connection table is under vd->lock. Host sockets
 * are non-blocking and served on the event loop; event-loop registrations
 * and closes happen on the loop thread with no lock held (a sync eventfd
 * asks for them). */
#ifndef MYVMM_VIRTIO_VSOCK_H
#define MYVMM_VIRTIO_VSOCK_H
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"

#define VIRTIO_ID_VSOCK      19
#define VSOCK_HOST_CID       2
#define VSOCK_HDR_LEN        44
#define VSOCK_QUEUE_SIZE     256
#define VSOCK_MAX_CONNS      64          /* connections at once */
#define VSOCK_BUF_ALLOC      (64u * 1024) /* our receive buffer, per connection */
#define VSOCK_MAX_PKT        (64u * 1024) /* largest payload in one packet */
#define VSOCK_TX_BUDGET      64          /* guest packets per kick */
#define VSOCK_RX_BUDGET      64          /* packets to the guest per pass */
#define VSOCK_PATH_MAX       100         /* PATH_<port> must fit sun_path */

enum vsock_op {
	VSOCK_OP_REQUEST = 1, VSOCK_OP_RESPONSE = 2, VSOCK_OP_RST = 3, VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5, VSOCK_OP_CREDIT_UPDATE = 6, VSOCK_OP_CREDIT_REQUEST = 7,
};
#define VSOCK_TYPE_STREAM     1
#define VSOCK_SHUTDOWN_RCV    1
#define VSOCK_SHUTDOWN_SEND   2

/* The packet header, host byte order (the wire is little-endian). */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_LEN]);
void vsock_hdr_decode(const uint8_t in[VSOCK_HDR_LEN], struct vsock_hdr *h);

struct evloop;

/* Listens on path (created; an existing file is an error). cid >= 3. */
int virtio_vsock_create(uint64_t cid, const char *path, struct evloop *loop,
			struct virtio_dev **out, char *err, size_t errlen);
/* After a snapshot restore (any thread but under no device lock): every
 * connection is dropped (host sockets closed) and the guest gets
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET on the event queue, now or as soon as
 * it posts an event buffer (5.10.6.6). 0 or the queue error. */
int virtio_vsock_transport_reset(struct virtio_dev *vd);
#endif
