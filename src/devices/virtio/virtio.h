/* A virtio device model, independent of the transport (virtio-pci). The
 * transport owns feature negotiation, status, queue configuration and
 * interrupts; the device owns its config space and request processing. */
#ifndef MYVMM_VIRTIO_H
#define MYVMM_VIRTIO_H
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtqueue.h"

#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_RNG      4

#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  64
#define VIRTIO_STATUS_FAILED       128

#define VIRTIO_MAX_QUEUES 8

struct virtio_dev;

/* What a device may ask of its transport. */
struct virtio_transport_ops {
	/* Used buffers were pushed on queue q: interrupt the driver if it wants. */
	void (*notify_used)(struct virtio_dev *vd, unsigned q);
	/* The device config changed (config-change interrupt). */
	void (*config_changed)(struct virtio_dev *vd);
	/* The driver broke a queue: set DEVICE_NEEDS_RESET, stop processing. */
	void (*needs_reset)(struct virtio_dev *vd);
};

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;       /* device-specific feature bits offered */
	unsigned num_queues;
	uint16_t queue_max;      /* QueueSizeMax, power of two */
	uint32_t config_size;
	/* Device config space (little-endian), offsets < config_size. */
	void (*config_read)(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len);
	/* DRIVER_OK: the queues are configured; features negotiated. */
	int (*activate)(struct virtio_dev *vd);
	/* The driver kicked queue q (called on the I/O thread). */
	void (*queue_notify)(struct virtio_dev *vd, unsigned q);
	/* Device reset by the driver (status 0): drop in-flight state. */
	void (*reset)(struct virtio_dev *vd);
};

/* Shared state between a device and its transport. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;                              /* the device's own state */
	const struct virtio_transport_ops *tops;
	void *transport;                         /* the transport's own state */
	const struct guest_mem *mem;
	uint64_t driver_features;                /* negotiated */
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	bool broken;                             /* NEEDS_RESET was raised */
};

static inline void virtio_notify_used(struct virtio_dev *vd, unsigned q)
{
	vd->tops->notify_used(vd, q);
}
static inline void virtio_needs_reset(struct virtio_dev *vd)
{
	vd->broken = true;
	vd->tops->needs_reset(vd);
}
static inline bool virtio_has_feature(const struct virtio_dev *vd, unsigned bit)
{
	return (vd->driver_features >> bit) & 1;
}
#endif
