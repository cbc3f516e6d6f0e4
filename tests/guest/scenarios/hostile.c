/* Hostile guests (issue 10), one per finding class: each attacks the VMM the
 * way the audit did and, where the attack never ends, prints a "running"
 * line first so the boot test can check that the VMM still honours
 * --timeout and SIGTERM, stays within a memory bound and keeps its log small.
 *   hostile-flood   keeps the blk avail ring full forever (GET_ID chains
 *                   re-posted as soon as they are used): the livelock
 *   hostile-reset   device_status = 0 while reads are in flight and the
 *                   device is finding a broken chain, forever (the reset vs
 *                   NEEDS_RESET lock-order deadlock race)
 *   hostile-bounce  cache=none: every request is 254 data descriptors onto
 *                   one small unaligned buffer (bounce memory bound), all
 *                   queue slots in flight, re-posted forever
 *   hostile-pvpanic tk.count (default 200000) pvpanic CRASH_LOADED writes,
 *                   then exit: the --log bound
 *   hostile-qsize   queue_size 1024 on a device that offers less */
#include "virtio.h"

#define BOUNCE_SEGS 254u

/* Re-arms queue 0 on the memory vq_setup gave it (no new allocation, so
 * the loop can run forever): reset, features, rings cleared, DRIVER_OK. */
static void rearm(struct blk *b, uint64_t extra)
{
	struct vdev *v = &b->v;
	struct vq *q = &v->vq[0];
	uint16_t size = q->size ? q->size : 0;
	volatile struct vring_desc *desc = q->desc;
	volatile uint16_t *avail = q->avail;
	volatile uint8_t *used = q->used;
	uint32_t notify = q->notify;

	vdev_reset(v);
	if (vdev_init(v, VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH | extra))
		tk_fail(NULL, "re-init failed");
	q->size = size;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->notify = notify;
	q->avail_idx = q->last_used = 0;
	avail[0] = 1;
	avail[1] = 0;
	used[2] = used[3] = 0;
	mmio_write16(v->common + VC_Q_SELECT, 0);
	mmio_write16(v->common + VC_Q_SIZE, size);
	mmio_write16(v->common + VC_Q_MSIX, 0xffff);
	mmio_write32(v->common + VC_Q_DESC, (uint32_t)(uintptr_t)desc);
	mmio_write32(v->common + VC_Q_DESC + 4, 0);
	mmio_write32(v->common + VC_Q_AVAIL, (uint32_t)(uintptr_t)avail);
	mmio_write32(v->common + VC_Q_AVAIL + 4, 0);
	mmio_write32(v->common + VC_Q_USED, (uint32_t)(uintptr_t)used);
	mmio_write32(v->common + VC_Q_USED + 4, 0);
	mmio_write16(v->common + VC_Q_ENABLE, 1);
	vdev_driver_ok(v);
}

static struct blk *open_blk(uint64_t extra)
{
	static struct blk b;
	if (blk_open(&b, 0, extra))
		tk_fail(NULL, "no virtio-blk");
	return &b;
}

int scen_hostile_flood(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct blk *b = open_blk(0);
	struct vq *q = &b->v.vq[0];
	uint32_t id, len;

	for (int i = 0; i < b->slots; i++)
		vq_push(q, blk_prep(b, i, VIRTIO_BLK_T_GET_ID, 0, (uintptr_t)tk_databuf + 64 * i, 20));
	vq_kick(q);
	kprintf("TK: hostile flood slots %d\n", b->slots);
	kprintf("TK: hostile flood running\n");
	for (;;) {
		while (vq_get(q, &id, &len))
			vq_push(q, (uint16_t)id);
		vq_kick(q);
	}
}

int scen_hostile_reset(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct blk *b = open_blk(0);
	struct vq *q = &b->v.vq[0];
	uint32_t per = TK_DATABUF_SIZE / BLK_MAX_SLOTS, n = 0;

	for (;;) {
		/* reads in all slots but the last, which is a descriptor loop: the
		 * device finds the queue broken (NEEDS_RESET) while the driver
		 * resets it */
		for (int i = 0; i < b->slots - 1; i++)
			vq_push(q, blk_prep(b, i, VIRTIO_BLK_T_IN, (uint64_t)i * (per / 512),
					    (uintptr_t)tk_databuf + per * i, per));
		uint16_t h = (uint16_t)(3 * (b->slots - 1));
		vq_desc(q, h, (uintptr_t)b->hdr, 16, VRING_DESC_F_NEXT, h + 1);
		vq_desc(q, h + 1, (uintptr_t)tk_databuf, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, h);
		vq_push(q, h);
		vq_kick(q);
		rearm(b, 0);    /* status 0 right behind the kick */
		if (++n == 1)
			kprintf("TK: hostile reset running\n");
	}
}

int scen_hostile_bounce(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct blk *b = open_blk(VIRTIO_F_INDIRECT_DESC);
	struct vq *q = &b->v.vq[0];
	uint32_t seg = opt_u32(bi, "tk.seg", 65536), id, len;
	int n = b->slots;

	if (!(b->v.features & VIRTIO_F_INDIRECT_DESC))
		tk_fail(NULL, "INDIRECT_DESC not offered");
	/* one indirect table per request: header, 254 x seg bytes all onto
	 * tk_databuf + 1 (unaligned), status */
	volatile struct vring_desc *t = tk_alloc(n * (BOUNCE_SEGS + 2) * 16, 16);
	for (int r = 0; r < n; r++) {
		volatile struct vring_desc *e = t + r * (BOUNCE_SEGS + 2);
		uint32_t type = VIRTIO_BLK_T_IN;
		uint64_t sector = 0;
		memcpy(b->hdr + 16 * r, &type, 4);
		memset(b->hdr + 16 * r + 4, 0, 4);
		memcpy(b->hdr + 16 * r + 8, &sector, 8);
		e[0].addr = (uintptr_t)(b->hdr + 16 * r);
		e[0].len = 16;
		e[0].flags = VRING_DESC_F_NEXT;
		e[0].next = 1;
		for (uint32_t i = 1; i <= BOUNCE_SEGS; i++) {
			e[i].addr = (uintptr_t)tk_databuf + 1;
			e[i].len = seg;
			e[i].flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT;
			e[i].next = (uint16_t)(i + 1);
		}
		e[BOUNCE_SEGS + 1].addr = (uintptr_t)&b->status[r];
		e[BOUNCE_SEGS + 1].len = 1;
		e[BOUNCE_SEGS + 1].flags = VRING_DESC_F_WRITE;
		e[BOUNCE_SEGS + 1].next = 0;
		vq_desc(q, (uint16_t)r, (uintptr_t)e, (BOUNCE_SEGS + 2) * 16, VRING_DESC_F_INDIRECT, 0);
		vq_push(q, (uint16_t)r);
	}
	vq_kick(q);
	kprintf("TK: hostile bounce requests %d bytes %u\n", n, BOUNCE_SEGS * seg);
	kprintf("TK: hostile bounce running\n");
	for (;;) {
		while (vq_get(q, &id, &len))
			vq_push(q, (uint16_t)id);
		vq_kick(q);
	}
}

int scen_hostile_pvpanic(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct pci_dev *d = pci_find(0x1b36, 0x0011, 0);
	uint32_t n = opt_u32(bi, "tk.count", 200000);

	if (!d || d->bar_io[0] || !d->bar[0] || d->bar[0] >= 0x100000000ULL)
		tk_fail(NULL, "no usable pvpanic-pci");
	kprintf("TK: hostile pvpanic writes %u\n", n);
	for (uint32_t i = 0; i < n; i++)
		mmio_write8((uint32_t)d->bar[0], 2);   /* CRASH_LOADED: logged, VM left running */
	kprintf("TK: hostile pvpanic done %u\n", n);
	return 0;
}

int scen_hostile_qsize(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(2), 0);
	static struct vdev v;
	if (!d || vdev_probe(&v, d) || vdev_init(&v, 0))
		tk_fail(NULL, "no virtio-blk");
	uint32_t c = v.common;
	mmio_write16(c + VC_Q_SELECT, 0);
	uint16_t max = mmio_read16(c + VC_Q_SIZE);
	uint8_t *mem = tk_alloc(16 * 1024 + 4096 + 8 * 1024 + 4096, 4096);
	mmio_write16(c + VC_Q_SIZE, 1024);
	uint16_t size = mmio_read16(c + VC_Q_SIZE);
	mmio_write32(c + VC_Q_DESC, (uintptr_t)mem);
	mmio_write32(c + VC_Q_DESC + 4, 0);
	mmio_write32(c + VC_Q_AVAIL, (uintptr_t)mem + 16 * 1024);
	mmio_write32(c + VC_Q_AVAIL + 4, 0);
	mmio_write32(c + VC_Q_USED, (uintptr_t)mem + 16 * 1024 + 4096);
	mmio_write32(c + VC_Q_USED + 4, 0);
	mmio_write16(c + VC_Q_ENABLE, 1);
	uint16_t en = mmio_read16(c + VC_Q_ENABLE);
	vdev_driver_ok(&v);
	uint8_t st = vdev_status(&v);
	kprintf("TK: hostile qsize max %u size %u enable %u status 0x%x\n", max, size, en, st);
	return 0;
}
