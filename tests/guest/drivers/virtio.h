/* Virtio 1.x over PCI (modern only), polled split virtqueues. */
#ifndef TK_VIRTIO_H
#define TK_VIRTIO_H
#include "tk.h"

#define VIRTIO_VENDOR        0x1af4
#define VIRTIO_PCI_DEV(id)   (0x1040 + (id))

#define VIRTIO_S_ACK         0x01
#define VIRTIO_S_DRIVER      0x02
#define VIRTIO_S_DRIVER_OK   0x04
#define VIRTIO_S_FEATURES_OK 0x08
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED      0x80

#define VIRTIO_F_INDIRECT_DESC (1ULL << 28)
#define VIRTIO_F_EVENT_IDX     (1ULL << 29)
#define VIRTIO_F_VERSION_1     (1ULL << 32)

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

/* common configuration structure offsets (virtio 1.x, 4.1.4.3) */
#define VC_DFSELECT   0x00
#define VC_DF         0x04
#define VC_GFSELECT   0x08
#define VC_GF         0x0c
#define VC_NUMQ       0x12
#define VC_STATUS     0x14
#define VC_GEN        0x15
#define VC_Q_SELECT   0x16
#define VC_Q_SIZE     0x18
#define VC_Q_MSIX     0x1a
#define VC_Q_ENABLE   0x1c
#define VC_Q_NOFF     0x1e
#define VC_Q_DESC     0x20
#define VC_Q_AVAIL    0x28
#define VC_Q_USED     0x30

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_used_elem {
	uint32_t id, len;
};

struct vq {
	uint16_t index, size;          /* size 0: not set up */
	volatile struct vring_desc *desc;
	volatile uint16_t *avail;      /* flags, idx, ring[size] */
	volatile uint8_t *used;        /* flags, idx, ring[size] of used_elem */
	uint32_t notify;               /* MMIO address of this queue's doorbell */
	uint16_t avail_idx, last_used;
};

#define VQ_MAX 2

struct vdev {
	struct pci_dev *pci;
	uint32_t common, notify, isr, devcfg;
	uint32_t notify_mult;
	uint64_t offered, features;
	struct vq vq[VQ_MAX];
};

/* Finds the vendor capabilities of a modern virtio PCI function; -1 if any
 * of common/notify is missing or outside 4 GiB (devcfg may stay 0). */
int vdev_probe(struct vdev *v, struct pci_dev *d);
/* Reset, ACK|DRIVER, accept (offered & want), FEATURES_OK (re-read);
 * VERSION_1 required. Returns 0 or -1 (FAILED set). */
int vdev_init(struct vdev *v, uint64_t want);
/* Sets up queue qi with min(size, device max) entries; 0 or -1. */
int vq_setup(struct vdev *v, int qi, uint16_t size);
void vdev_driver_ok(struct vdev *v);
/* Writes 0 to device_status and waits until it reads back 0. */
void vdev_reset(struct vdev *v);
uint8_t vdev_status(struct vdev *v);
/* Publishes chain head in the avail ring (no kick). */
void vq_push(struct vq *q, uint16_t head);
void vq_kick(struct vq *q);
/* Waits up to ms for a used entry; returns 1 (id/len filled) or 0. */
int vq_poll(struct vq *q, uint32_t *id, uint32_t *len, uint32_t ms);
/* Non-blocking: 1 if a used entry was taken. */
int vq_get(struct vq *q, uint32_t *id, uint32_t *len);
void vq_desc(struct vq *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	     uint16_t next);
/* Identity-mapped, never-cleared scratch memory; zeroed on allocation. */
void *tk_alloc(uint32_t size, uint32_t align);

/* blk.c: virtio-blk on top of the above */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_F_DISCARD (1ULL << 13)
#define VIRTIO_BLK_F_WRITE_ZEROES (1ULL << 14)
#define VIRTIO_BLK_F_RO     (1ULL << 5)
#define VIRTIO_BLK_F_FLUSH  (1ULL << 9)
#define BLK_MAX_SLOTS       32
#define TK_DATABUF_SIZE     (1u << 20)

struct blk {
	struct vdev v;
	uint64_t capacity;         /* 512-byte sectors */
	bool ro;                   /* F_RO offered */
	uint8_t *hdr;              /* 16 bytes per slot */
	volatile uint8_t *status;  /* 1 byte per slot */
	volatile struct vring_desc *itable; /* indirect table, 3 entries */
	int slots;                 /* requests that fit in the queue */
};

extern uint8_t tk_databuf[TK_DATABUF_SIZE];
/* Opens the nth virtio-blk (features: VERSION_1, RO, FLUSH + extra); 0 or -1. */
int blk_open(struct blk *b, int nth, uint64_t extra);
/* Builds request slot's chain (descs 3*slot..) without publishing it;
 * len 0 = no data descriptor. Returns the head. */
uint16_t blk_prep(struct blk *b, int slot, uint32_t type, uint64_t sector, uint64_t addr,
		  uint32_t len);
/* Synchronous request in slot 0: the status byte, or -1 on timeout. */
int blk_rw(struct blk *b, uint32_t type, uint64_t sector, uint64_t addr, uint32_t len);
/* Publishes the chain at head, kicks and polls: the completed slot's status
 * byte, or -1 on timeout. */
int blk_wait(struct blk *b, uint16_t head);
/* Prints `TK: blk<i> capacity <sectors> ro <0|1> serial <GET_ID>`. */
void blk_describe(struct blk *b, int i);
uint32_t byte_sum(const uint8_t *p, uint32_t n);
/* tk.key as a number, or def. */
uint32_t opt_u32(const struct bootinfo *bi, const char *key, uint32_t def);
#endif
