/* The driver side of a split virtqueue (virtio 1.2 spec 2.7), written once
 * for every virtio unit test: lays the rings out in fake guest RAM, adds
 * chains (direct or indirect), decides whether a kick is due the way Linux's
 * virtqueue_kick_prepare does (avail_event or used->flags), and reads used
 * entries. Guest RAM is one malloc'd region at gpa 0 (vqd_ram_init). */
#ifndef MYVMM_TEST_VIRTQ_DRIVER_H
#define MYVMM_TEST_VIRTQ_DRIVER_H
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtqueue.h"
#include "mem/guest_mem.h"

/* Fake guest RAM of size bytes at gpa 0 (calloc'd; free with vqd_ram_free). */
uint8_t *vqd_ram_init(struct guest_mem *mem, uint64_t size);
void vqd_ram_free(struct guest_mem *mem);

struct vqd {
	uint8_t *ram;            /* host address of gpa 0 */
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t next_desc;      /* descriptors are handed out round-robin */
	uint16_t avail_idx;      /* our avail->idx */
	uint16_t kick_old;       /* avail idx at the last vqd_kick_needed() */
	uint16_t last_used;      /* next used entry vqd_get_used() returns */
	bool event_idx;
};

struct vqd_buf {
	uint64_t gpa;
	uint32_t len;
	bool device_writes;      /* VRING_DESC_F_WRITE */
};

/* Lays out a queue of `size` entries at base (desc, then avail, then used,
 * each aligned) and zeroes the rings. Returns the first byte after them. */
uint64_t vqd_init(struct vqd *d, uint8_t *ram, uint16_t size, uint64_t base, bool event_idx);
/* The same with the rings at given addresses (a test of bad placements,
 * or rings the transport was told about). Zeroes them. */
void vqd_init_at(struct vqd *d, uint8_t *ram, uint16_t size, uint64_t desc, uint64_t avail,
		 uint64_t used, bool event_idx);
/* Device side: vq_init on the same rings. */
int vqd_attach(const struct vqd *d, struct virtqueue *q, const struct guest_mem *mem,
	       bool indirect);
/* Adds one chain of n buffers and publishes it (avail->idx). Returns head. */
uint16_t vqd_add(struct vqd *d, const struct vqd_buf *b, unsigned n);
/* One-buffer chain. */
uint16_t vqd_add1(struct vqd *d, uint64_t gpa, uint32_t len, bool device_writes);
/* A chain of one INDIRECT descriptor pointing at a table written at
 * table_gpa (n entries). Returns head. */
uint16_t vqd_add_indirect(struct vqd *d, uint64_t table_gpa, const struct vqd_buf *b, unsigned n);
/* Raw access for hand-made (also hostile) chains: descriptor i of the
 * table at table_gpa (the queue's own table: d->desc), and publishing a head
 * in the avail ring. vqd_add does both for well-formed chains. */
void vqd_set_desc(const struct vqd *d, uint64_t table_gpa, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next);
void vqd_publish(struct vqd *d, uint16_t head);
/* Whether the device asked for a kick for buffers added since the last call
 * (2.7.10: vring_need_event on avail_event, or !VRING_USED_F_NO_NOTIFY). */
bool vqd_kick_needed(struct vqd *d);
/* Next used entry: true with *id / *len, false when none is new. With
 * EVENT_IDX it then sets used_event to the next entry, as Linux does. */
bool vqd_get_used(struct vqd *d, uint32_t *id, uint32_t *len);
uint16_t vqd_used_idx(const struct vqd *d);
/* Length the device reported in used entry i (0-based, in push order). */
uint32_t vqd_used_len_at(const struct vqd *d, uint16_t i);
uint16_t vqd_used_flags(const struct vqd *d);
uint16_t vqd_avail_event(const struct vqd *d);
/* Driver-side interrupt suppression (2.7.7). */
void vqd_set_used_event(struct vqd *d, uint16_t v);
void vqd_set_avail_flags(struct vqd *d, uint16_t v);

/* A fake transport for testing a device without virtio-pci: counts used
 * notifications (and the interrupts vq_need_interrupt lets through), config
 * changes and needs-reset reports. */
struct vqd_transport {
	unsigned notified[VIRTIO_MAX_QUEUES];
	unsigned irqs[VIRTIO_MAX_QUEUES];
	unsigned rekicks[VIRTIO_MAX_QUEUES];   /* budget ran out: kick again */
	unsigned config_changed, needs_reset;
	bool can_rekick;                      /* like a transport with a loop */
};
void vqd_transport_attach(struct vqd_transport *t, struct virtio_dev *vd,
			  const struct guest_mem *mem);
/* What virtio-pci does around a device (virtio.h's rules): DRIVER_OK
 * (activate, then vd->active), a kick (queue_notify under vd->lock; an
 * error raises NEEDS_RESET) and a reset (inactive, ops->reset, queues). */
int vqd_dev_activate(struct virtio_dev *vd);
int vqd_dev_kick(struct virtio_dev *vd, unsigned q);
void vqd_dev_reset(struct virtio_dev *vd);
#endif
