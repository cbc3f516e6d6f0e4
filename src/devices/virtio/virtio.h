/* A virtio device model, independent of the transport (virtio-pci). The
 * transport owns feature negotiation, status, queue configuration and
 * interrupts; the device owns its config space and request processing. */
#ifndef MYVMM_VIRTIO_H
#define MYVMM_VIRTIO_H
#include <pthread.h>
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

/* What a device may ask of its transport. Both are lock-free on the
 * transport side (callable from any thread, with or without the device
 * lock); devices call them through virtio_notify_used(),
 * virtio_dev_unlock() and virtio_dev_rekick(). */
struct virtio_transport_ops {
	/* Used buffers were pushed on queue q: interrupt the driver if it wants
	 * (vq_need_interrupt decides, spec 2.7.7). */
	void (*notify_used)(struct virtio_dev *vd, unsigned q);
	/* The device config changed (config-change interrupt). */
	void (*config_changed)(struct virtio_dev *vd);
	/* NEEDS_RESET was raised (vd->needs_reset set): tell the driver. */
	void (*needs_reset)(struct virtio_dev *vd);
	/* Optional: call queue_notify(q) again later from the event loop (the
	 * device's work budget ran out). false: cannot (no loop). */
	bool (*rekick)(struct virtio_dev *vd, unsigned q);
	/* For a device with ops->own_kicks (vhost-user): queue q's notify
	 * eventfd (the KVM ioeventfd), or -1; and an interrupt for queue q
	 * whatever the ring says (the back-end already decided). */
	int (*kick_fd)(struct virtio_dev *vd, unsigned q);
	void (*signal)(struct virtio_dev *vd, unsigned q);
	/* For such a device: efd (owned by the device, open until it is
	 * destroyed; -1 to drop) is written by the back-end to raise queue q's
	 * interrupt. The transport delivers it: straight from KVM (an irqfd on
	 * the queue's MSI-X vector) while that vector can deliver, else
	 * relayed on the event loop (masked vector: pending bit; INTx). 0 or
	 * -errno. */
	int (*set_call_fd)(struct virtio_dev *vd, unsigned q, int efd);
};

/* A device model. The transport owns the lifecycle: it sets vd->active on
 * DRIVER_OK and clears it on reset and NEEDS_RESET, resets the queues, and
 * serialises everything with vd->lock, so a simple device needs neither
 * activate nor reset.
 *
 * Locks (outermost first): PCI bus lock -> transport lock (virtio_pci
 * vp->lock) -> vd->lock (the device lock) -> device leaf locks (net
 * backlog, blk backend). The transport takes vd->lock around queue_notify
 * and around every change to vd->active / vd->vq[]; a device takes it on its
 * own threads (completions, timers, host input) with virtio_dev_lock(). No
 * device calls into the transport under vd->lock: it reports a broken queue
 * by returning an error from queue_notify, or with virtio_fail() (which
 * only marks vd), and virtio_dev_unlock() tells the transport afterwards. */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;       /* device-specific feature bits offered */
	unsigned num_queues;
	uint16_t queue_max;      /* QueueSizeMax, power of two */
	uint32_t config_size;
	/* The rings are served outside this process (vhost-user): the transport
	 * does not poll the notify eventfds (queue_notify is unused); the
	 * device hands them on (tops->kick_fd). */
	bool own_kicks;
	/* Device config space (little-endian), offsets < config_size. Called
	 * under the transport lock, without vd->lock. */
	void (*config_read)(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len);
	/* Optional. DRIVER_OK: queues configured, features negotiated; vd->lock
	 * not held, vd->active still false. < 0: NEEDS_RESET instead. */
	int (*activate)(struct virtio_dev *vd);
	/* The driver kicked queue q. vd->lock held, vd->active true. Returns 0,
	 * or < 0 when the driver broke the queue (the transport raises
	 * NEEDS_RESET). A work budget is the device's: it may return with
	 * buffers left and re-kick itself (virtio_dev_rekick). */
	int (*queue_notify)(struct virtio_dev *vd, unsigned q);
	/* Optional. Reset by the driver: vd->active already false and no
	 * callback of this device is running under vd->lock; vd->lock not
	 * held. Drop in-flight state; no DMA into guest RAM afterwards (2.4.1).
	 * The transport then resets the queues. */
	void (*reset)(struct virtio_dev *vd);
	/* Frees the device (after its transport is gone). */
	void (*destroy)(struct virtio_dev *vd);
	/* Optional, snapshots (the vCPUs are paused; I/O thread; vd->lock not
	 * held). quiesce: finish or rewind every request in flight so that the
	 * rings describe all the device's state, and make written data durable
	 * (a disk's fdatasync); -errno when it cannot. restored: the transport
	 * state is back and vd->active set as saved; host-side state was not
	 * kept, so tell the driver what it lost (vsock's TRANSPORT_RESET). */
	int (*quiesce)(struct virtio_dev *vd);
	void (*restored)(struct virtio_dev *vd);
};

/* Shared state between a device and its transport. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;                              /* the device's own state */
	const struct virtio_transport_ops *tops;
	void *transport;                         /* the transport's own state */
	const struct guest_mem *mem;
	pthread_mutex_t lock;                    /* the device lock, see above */
	/* Under lock: */
	uint64_t driver_features;                /* negotiated */
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	bool active;                             /* DRIVER_OK and not broken/reset */
	bool report_reset;                       /* virtio_fail() since the last unlock */
	bool needs_reset;                        /* NEEDS_RESET raised (atomic reads) */
};

/* For a device's create(): ops/priv set, the lock initialised. */
void virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *priv);
/* For a device's destroy(). */
void virtio_dev_cleanup(struct virtio_dev *vd);
/* Frees any device through its ops. NULL ok. */
static inline void virtio_dev_destroy(struct virtio_dev *vd)
{
	if (vd)
		vd->ops->destroy(vd);
}

static inline void virtio_dev_lock(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
}
/* Drops vd->lock, then reports a virtio_fail() made under it. */
void virtio_dev_unlock(struct virtio_dev *vd);
/* vd->lock held: the driver broke a queue. Stops the device (vd->active
 * false) and raises NEEDS_RESET once virtio_dev_unlock() runs. */
void virtio_fail(struct virtio_dev *vd);
/* Asks the transport to call queue_notify(q) again from the event loop (a
 * work budget ran out with buffers left). Lock-free; any thread. Returns
 * false when there is no loop (the caller then just returns). */
bool virtio_dev_rekick(struct virtio_dev *vd, unsigned q);

/* Work budgets (issue 10: a guest that keeps a ring full must not starve
 * the event loop). A device loop that has served `done` chains of queue q
 * calls this before each further pop: true means stop now, a re-kick is
 * queued behind the loop's other work. Without a loop to re-kick through it
 * says false, and the device carries on (it must never stop with kicks
 * suppressed and nobody to come back). */
static inline bool virtio_budget_spent(struct virtio_dev *vd, unsigned q, unsigned done,
				       unsigned budget)
{
	return done >= budget && virtio_dev_rekick(vd, q);
}

static inline void virtio_notify_used(struct virtio_dev *vd, unsigned q)
{
	vd->tops->notify_used(vd, q);
}
static inline bool virtio_has_feature(const struct virtio_dev *vd, unsigned bit)
{
	return (vd->driver_features >> bit) & 1;
}
#endif
