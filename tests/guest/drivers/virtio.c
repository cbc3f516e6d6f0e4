/* Virtio 1.x PCI modern transport and polled split virtqueues. No
 * interrupts: avail.flags = NO_INTERRUPT and the used ring is polled. MMIO
 * uses the width each common-config field has (64-bit fields as lo/hi). */
#include "virtio.h"

#define ARENA_SIZE (512u << 10)

/* Not cleared by the boot code (section .noinit): tk_alloc zeroes what it hands out. */
static uint8_t arena[ARENA_SIZE] __attribute__((aligned(4096), section(".noinit")));
static uint32_t arena_used;

void *tk_alloc(uint32_t size, uint32_t align)
{
	uint32_t off = (arena_used + align - 1) & ~(align - 1);
	if (off > ARENA_SIZE || size > ARENA_SIZE - off)
		tk_fail(NULL, "out of scratch memory");
	arena_used = off + size;
	memset(arena + off, 0, size);
	return arena + off;
}

int vdev_probe(struct vdev *v, struct pci_dev *d)
{
	uint8_t pos = 0;
	memset(v, 0, sizeof(*v));
	v->pci = d;
	while (pci_find_cap(d, 0x09, &pos)) {
		uint8_t type = pci_cfg_read8(d, pos + 3), bar = pci_cfg_read8(d, pos + 4);
		uint32_t off = pci_cfg_read32(d, pos + 8);
		if (bar > 5 || d->bar_io[bar] || !d->bar[bar] || d->bar[bar] + off >= 0x100000000ULL)
			continue;
		uint32_t addr = (uint32_t)d->bar[bar] + off;
		if (type == 1 && !v->common)
			v->common = addr;
		else if (type == 2 && !v->notify) {
			v->notify = addr;
			v->notify_mult = pci_cfg_read32(d, pos + 16);
		} else if (type == 3 && !v->isr)
			v->isr = addr;
		else if (type == 4 && !v->devcfg)
			v->devcfg = addr;
	}
	return v->common && v->notify ? 0 : -1;      /* device cfg is optional (rng) */
}

uint8_t vdev_status(struct vdev *v)
{
	return mmio_read8(v->common + VC_STATUS);
}

static void set_status(struct vdev *v, uint8_t bits)
{
	mmio_write8(v->common + VC_STATUS, vdev_status(v) | bits);
}

void vdev_reset(struct vdev *v)
{
	mmio_write8(v->common + VC_STATUS, 0);
	for (int i = 0; i < 100000 && vdev_status(v); i++)
		cpu_relax();
	for (int i = 0; i < VQ_MAX; i++)
		v->vq[i].size = 0;
}

int vdev_init(struct vdev *v, uint64_t want)
{
	vdev_reset(v);
	set_status(v, VIRTIO_S_ACK);
	set_status(v, VIRTIO_S_DRIVER);
	mmio_write32(v->common + VC_DFSELECT, 0);
	uint32_t lo = mmio_read32(v->common + VC_DF);
	mmio_write32(v->common + VC_DFSELECT, 1);
	uint32_t hi = mmio_read32(v->common + VC_DF);
	v->offered = (uint64_t)hi << 32 | lo;
	v->features = v->offered & (want | VIRTIO_F_VERSION_1);
	if (!(v->features & VIRTIO_F_VERSION_1))
		goto fail;
	mmio_write32(v->common + VC_GFSELECT, 0);
	mmio_write32(v->common + VC_GF, (uint32_t)v->features);
	mmio_write32(v->common + VC_GFSELECT, 1);
	mmio_write32(v->common + VC_GF, (uint32_t)(v->features >> 32));
	set_status(v, VIRTIO_S_FEATURES_OK);
	if (!(vdev_status(v) & VIRTIO_S_FEATURES_OK))
		goto fail;
	return 0;
fail:
	set_status(v, VIRTIO_S_FAILED);
	return -1;
}

static void write64(uint32_t pa, uint64_t v)
{
	mmio_write32(pa, (uint32_t)v);
	mmio_write32(pa + 4, (uint32_t)(v >> 32));
}

int vq_setup(struct vdev *v, int qi, uint16_t size)
{
	if (qi < 0 || qi >= VQ_MAX)
		return -1;
	struct vq *q = &v->vq[qi];
	mmio_write16(v->common + VC_Q_SELECT, (uint16_t)qi);
	uint16_t max = mmio_read16(v->common + VC_Q_SIZE);
	if (!max)
		return -1;
	while (size > max)
		size >>= 1;
	if (!size)
		return -1;
	/* desc (16 * size, align 16), avail (6 + 2 * size), used (6 + 8 * size, align 4) */
	uint32_t used_off = (16u * size + 6 + 2u * size + 4095) & ~4095u;
	uint8_t *mem = tk_alloc(used_off + 6 + 8u * size, 4096);
	q->index = (uint16_t)qi;
	q->size = size;
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile uint16_t *)(mem + 16u * size);
	q->used = mem + used_off;
	q->avail_idx = q->last_used = 0;
	q->avail[0] = 1;                           /* VRING_AVAIL_F_NO_INTERRUPT */
	mmio_write16(v->common + VC_Q_SIZE, size);
	mmio_write16(v->common + VC_Q_MSIX, 0xffff);
	write64(v->common + VC_Q_DESC, (uintptr_t)q->desc);
	write64(v->common + VC_Q_AVAIL, (uintptr_t)q->avail);
	write64(v->common + VC_Q_USED, (uintptr_t)q->used);
	uint16_t noff = mmio_read16(v->common + VC_Q_NOFF);
	q->notify = v->notify + (uint32_t)noff * v->notify_mult;
	mmio_write16(v->common + VC_Q_ENABLE, 1);
	return 0;
}

void vdev_driver_ok(struct vdev *v)
{
	set_status(v, VIRTIO_S_DRIVER_OK);
}

void vq_desc(struct vq *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	     uint16_t next)
{
	volatile struct vring_desc *d = &q->desc[i % q->size];
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

void vq_push(struct vq *q, uint16_t head)
{
	q->avail[2 + q->avail_idx % q->size] = head;
	barrier();                                 /* ring entry before idx (x86: stores in order) */
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
}

void vq_kick(struct vq *q)
{
	barrier();
	mmio_write16(q->notify, q->index);
}

int vq_get(struct vq *q, uint32_t *id, uint32_t *len)
{
	uint16_t uidx = *(volatile uint16_t *)(q->used + 2);
	if (uidx == q->last_used)
		return 0;
	barrier();                                 /* idx before the element */
	volatile struct vring_used_elem *e =
		(volatile struct vring_used_elem *)(q->used + 4) + q->last_used % q->size;
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return 1;
}

int vq_poll(struct vq *q, uint32_t *id, uint32_t *len, uint32_t ms)
{
	struct deadline d;
	deadline_start(&d, ms);
	do {
		for (int i = 0; i < 64; i++)
			if (vq_get(q, id, len))
				return 1;
	} while (!deadline_passed(&d));
	return 0;
}
