/* A virtio device whose rings a vhost-user back-end serves (virtio-blk from
 * qemu-storage-daemon today). Config space and features come from the
 * back-end; on DRIVER_OK the memory table and rings are handed over. Kicks
 * go from the queue's KVM ioeventfd straight to the back-end (the transport
 * hands the device the fd, ops->own_kicks); the back-end's call eventfd goes
 * to the transport (tops->set_call_fd), which makes it a KVM irqfd on the
 * queue's MSI-X vector while that vector can deliver (no myvmm thread on
 * completions either) and relays it otherwise. A back-end that dies
 * or misbehaves sets NEEDS_RESET with one line to the user. */
#ifndef MYVMM_VHOST_USER_DEV_H
#define MYVMM_VHOST_USER_DEV_H
#include <stdint.h>

#include "devices/virtio/virtio.h"

struct evloop;
struct daemon;

struct vhost_user_dev_params {
	const char *socket;       /* back-end's listening socket */
	const char *what;         /* for messages: "--disk IMG" */
	const char *name;         /* "vhost-user-blk" */
	uint32_t device_id;       /* VIRTIO_ID_BLOCK */
	uint64_t feature_mask;    /* device feature bits we may pass through */
	uint32_t config_size;     /* bytes of config space fetched (GET_CONFIG) */
	uint16_t queue_max;
	unsigned num_queues;      /* 0: 1; at most VIRTIO_MAX_QUEUES */
	/* Non-NULL: the config space is the front end's (config_size bytes,
	 * read-only to the guest; virtio-fs's tag), not fetched with
	 * GET_CONFIG, so the back-end need not offer protocol feature CONFIG. */
	const void *config;
	struct daemon *daemon;    /* owned (stopped at destroy) or NULL */
	const char *daemon_name;  /* for messages when daemon is set: "virtiofsd" */
};

#define VIRTIO_BLK_VHOST_FEATURES ((1ull << 1) | (1ull << 2) | (1ull << 4) | (1ull << 5) | \
	(1ull << 6) | (1ull << 9) | (1ull << 10) | (1ull << 11) | (1ull << 13) | (1ull << 14))
#define VIRTIO_BLK_CONFIG_SIZE 60

/* Connects and negotiates. Returns 0 or -errno with one line in err. */
int vhost_user_dev_create(const struct vhost_user_dev_params *p, struct evloop *loop,
			  struct virtio_dev **out, char *err, size_t errlen);
#endif
