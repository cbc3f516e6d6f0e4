/* The front-end side of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst): myvmm hands a virtio device's rings and
 * guest memory to a back-end process (virtiofsd, qemu-storage-daemon) over
 * a unix socket. This file is the message layer only: typed requests,
 * replies checked like guest input (reply flag, version, request, size, no
 * stray fds), REPLY_ACK when negotiated, and a deadline on every reply so a
 * stuck back-end cannot hang the VMM. Not thread-safe: one caller at a time. */
#ifndef MYVMM_VHOST_USER_H
#define MYVMM_VHOST_USER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
	VHU_RESET_DEVICE = 34,
};

#define VHU_F_PROTOCOL_FEATURES 30        /* virtio feature bit */
#define VHU_PROTO_F_MQ          0
#define VHU_PROTO_F_REPLY_ACK   3
#define VHU_PROTO_F_CONFIG      9
#define VHU_PROTO_F_RESET_DEVICE 13
/* What this front end can use of the protocol features. */
#define VHU_PROTO_SUPPORTED ((1ull << VHU_PROTO_F_MQ) | (1ull << VHU_PROTO_F_REPLY_ACK) | \
			     (1ull << VHU_PROTO_F_CONFIG) | (1ull << VHU_PROTO_F_RESET_DEVICE))

#define VHU_FLAG_VERSION    0x1
#define VHU_FLAG_REPLY      (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHU_VRING_NOFD      (1u << 8)     /* in KICK/CALL/ERR: no fd attached */
#define VHU_MAX_REGIONS     8
#define VHU_MAX_CONFIG      256
#define VHU_MAX_QUEUES      64
#define VHU_REPLY_TIMEOUT_MS 5000

struct vhu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
	int fd;
};

struct vhu_vring_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;   /* front-end virtual addresses */
};

struct vhu {
	int fd;                /* the socket, -1 once the back-end is gone */
	uint64_t proto;        /* negotiated protocol features */
	unsigned timeout_ms;   /* per reply */
};

/* Connects to a back-end listening on path. -errno. */
int vhu_connect(struct vhu *v, const char *path);
/* Takes an already connected socket (tests, socketpair). */
void vhu_init_fd(struct vhu *v, int fd);
void vhu_close(struct vhu *v);

/* Every call returns 0 or -errno: -EPIPE/-ECONNRESET when the back-end is
 * gone, -ETIMEDOUT when it did not answer in time, -EPROTO for a malformed
 * reply (after which the connection is closed: a back-end that lies once is
 * not trusted again), -EIO when it NACKed a request. */
int vhu_get_u64(struct vhu *v, enum vhu_request req, uint64_t *out);   /* GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM */
int vhu_set_u64(struct vhu *v, enum vhu_request req, uint64_t val);    /* SET_FEATURES, SET_PROTOCOL_FEATURES */
int vhu_set_owner(struct vhu *v);
/* GET_PROTOCOL_FEATURES/SET_PROTOCOL_FEATURES with what both sides support;
 * fills v->proto. Call only when the back-end offered VHU_F_PROTOCOL_FEATURES. */
int vhu_negotiate_protocol(struct vhu *v, uint64_t want);
int vhu_set_mem_table(struct vhu *v, const struct vhu_region *r, unsigned n);
int vhu_set_vring(struct vhu *v, enum vhu_request req, uint32_t index, uint32_t num); /* NUM, BASE, ENABLE */
int vhu_set_vring_addr(struct vhu *v, const struct vhu_vring_addr *a);
/* GET_VRING_BASE: stops the ring; *base is where the back-end stopped. */
int vhu_get_vring_base(struct vhu *v, uint32_t index, uint32_t *base);
/* KICK/CALL/ERR with fd (or fd < 0: VHU_VRING_NOFD). */
int vhu_set_vring_fd(struct vhu *v, enum vhu_request req, uint32_t index, int fd);
int vhu_get_config(struct vhu *v, uint32_t off, void *buf, uint32_t len);
int vhu_set_config(struct vhu *v, uint32_t off, const void *buf, uint32_t len);
/* RESET_DEVICE when negotiated, else RESET_OWNER. */
int vhu_reset(struct vhu *v);
#endif
