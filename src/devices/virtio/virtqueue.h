/* Split virtqueue (virtio 1.x, 2.7) walked on the device side. Every value
 * read from guest memory is distrusted (see ../shared/DESIGN.md): a bad ring
 * makes vq_pop() return an error, never crash or read outside guest RAM.
 * Not thread-safe: one queue is serviced by one thread at a time. */
#ifndef MYVMM_VIRTQUEUE_H
#define MYVMM_VIRTQUEUE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/guest_mem.h"

#define VQ_MAX_SIZE 1024       /* largest queue we offer (QueueSizeMax) */
#define VQ_MAX_SEGS 256        /* most descriptors in one chain we accept */

#define VRING_DESC_F_NEXT      1
#define VRING_DESC_F_WRITE     2
#define VRING_DESC_F_INDIRECT  4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vq_seg {
	uint8_t *hva;          /* host pointer, wholly inside one RAM region */
	uint32_t len;
	bool device_writes;    /* VRING_DESC_F_WRITE: device-writable (in) */
};

struct vq_chain {
	uint16_t head;         /* to hand back with vq_push() */
	unsigned nseg;
	uint32_t out_bytes;    /* driver -> device */
	uint32_t in_bytes;     /* device -> driver */
	struct vq_seg seg[VQ_MAX_SEGS];
};

struct virtqueue {
	const struct guest_mem *mem;
	uint16_t size;         /* power of two, <= VQ_MAX_SIZE */
	bool ready;
	bool event_idx;        /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;         /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;   /* next avail ring entry we will consume */
	uint16_t used_idx;     /* our shadow of used->idx */
	uint16_t signalled_used; /* used_idx when we last interrupted (event idx) */
	bool signalled_valid;
	bool kicks_off;        /* we set VRING_USED_F_NO_NOTIFY (no event idx) */
};

/* Validates and enables a queue (spec 2.7 alignment: desc 16, avail 2,
 * used 4; each ring wholly in RAM). -EINVAL if size is 0, not a power of two
 * or above VQ_MAX_SIZE, or a ring is misaligned or outside guest RAM. */
int vq_init(struct virtqueue *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	    uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect);
void vq_reset(struct virtqueue *q);

/* Takes the next available chain. Returns 1 with *c filled, 0 if the ring is
 * empty, or a negative errno if the driver broke the ring. Notification
 * suppression is done here (spec 2.7.10): an empty ring re-enables the
 * driver's kicks (avail_event or used->flags) and is re-checked after a
 * barrier; a non-empty one suppresses them. So a device that returns
 * without emptying the ring must come back by itself (budgets). Errors:
 *   -EINVAL  avail idx ran more than size ahead, head or next >= size,
 *            a write-only segment before a read-only one, bad indirect table
 *   -ELOOP   a chain longer than the queue (a loop), nested indirect
 *   -EFAULT  a buffer (addr+len) wraps or is not wholly inside guest RAM
 *   -E2BIG   more than VQ_MAX_SEGS segments */
int vq_pop(struct virtqueue *q, struct vq_chain *c);
/* Returns a chain to the driver with `written` bytes produced. */
int vq_push(struct virtqueue *q, uint16_t head, uint32_t written);
/* After one or more pushes: does the driver want an interrupt (event idx /
 * VRING_AVAIL_F_NO_INTERRUPT)? Updates the event-idx bookkeeping. */
bool vq_need_interrupt(struct virtqueue *q);
/* Any chains waiting? (e.g. after a work budget ran out: re-kick itself) */
bool vq_has_avail(struct virtqueue *q);

/* Describes bytes [off, off+len) of the chain's device-writable (or
 * driver-readable) segments as at most max iovecs; *total = bytes covered. */
unsigned vq_chain_iov(const struct vq_chain *c, bool device_writes, uint32_t off, uint32_t len,
		      struct iovec *iov, unsigned max, uint32_t *total);
/* Copy helpers over a chain's segments: bytes copied. */
uint32_t vq_chain_read(const struct vq_chain *c, uint32_t off, void *dst, uint32_t len);
uint32_t vq_chain_write(const struct vq_chain *c, uint32_t off, const void *src, uint32_t len);
#endif
