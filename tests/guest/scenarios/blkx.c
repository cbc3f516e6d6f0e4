/* virtio-blk stress: the "hostile" driver scenario and blk-bench. */
#include "virtio.h"

#define BAD_ADDR 0xffff000000000000ULL   /* no RAM there in any machine */

static uint8_t wait_status(struct vdev *v, uint8_t bit, uint32_t ms)
{
	struct deadline d;
	deadline_start(&d, ms);
	uint8_t st;
	while (!((st = vdev_status(v)) & bit) && !deadline_passed(&d))
		cpu_relax();
	return st;
}

static void reopen(struct blk *b)
{
	vdev_reset(&b->v);
	if (blk_open(b, 0, 0))
		tk_fail(NULL, "reopen after reset failed");
}

int scen_blk_hostile(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	uint32_t id, len;
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	struct vq *q = &b.v.vq[0];

	/* (a) descriptor loop 0 -> 1 -> 0 */
	vq_desc(q, 0, (uintptr_t)b.hdr, 16, VRING_DESC_F_NEXT, 1);
	vq_desc(q, 1, (uintptr_t)tk_databuf, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
	memset(b.hdr, 0, 16);
	vq_push(q, 0);
	vq_kick(q);
	uint8_t st = wait_status(&b.v, VIRTIO_S_NEEDS_RESET, 500);
	kprintf("TK: hostile loop status 0x%x used %d\n", st, vq_get(q, &id, &len));
	reopen(&b);

	/* (b) data buffer far outside RAM */
	uint16_t h = blk_prep(&b, 0, VIRTIO_BLK_T_IN, 0, BAD_ADDR, 512);
	vq_push(q, h);
	vq_kick(q);
	int used = vq_poll(q, &id, &len, 500);
	st = vdev_status(&b.v);
	const char *what = st & VIRTIO_S_NEEDS_RESET ? "needs_reset"
		: !used ? "no_completion" : b.status[0] == 1 ? "ioerr"
		: b.status[0] == 0 ? "ok" : "other";
	kprintf("TK: hostile badaddr %s status 0x%x blk %u\n", what, st, b.status[0]);
	reopen(&b);

	/* (c) queue size 3 (not a power of two) */
	vdev_reset(&b.v);
	if (vdev_init(&b.v, 0))
		tk_fail(NULL, "re-init failed");
	uint32_t c = b.v.common;
	uint8_t *mem = tk_alloc(8192, 4096);
	mmio_write16(c + VC_Q_SELECT, 0);
	mmio_write16(c + VC_Q_SIZE, 3);
	uint16_t size = mmio_read16(c + VC_Q_SIZE);
	mmio_write32(c + VC_Q_DESC, (uintptr_t)mem);
	mmio_write32(c + VC_Q_DESC + 4, 0);
	mmio_write32(c + VC_Q_AVAIL, (uintptr_t)mem + 64);
	mmio_write32(c + VC_Q_AVAIL + 4, 0);
	mmio_write32(c + VC_Q_USED, (uintptr_t)mem + 4096);
	mmio_write32(c + VC_Q_USED + 4, 0);
	mmio_write16(c + VC_Q_ENABLE, 1);
	uint16_t en = mmio_read16(c + VC_Q_ENABLE);
	vdev_driver_ok(&b.v);
	st = vdev_status(&b.v);
	if (!(st & VIRTIO_S_NEEDS_RESET) && en == 1 && size == 3) {
		/* accepted: kick an empty queue once, then see what the device thinks */
		mmio_write16(b.v.notify + (uint32_t)mmio_read16(c + VC_Q_NOFF) * b.v.notify_mult, 0);
		delay_ms(50);
		st = vdev_status(&b.v);
	}
	what = st & VIRTIO_S_NEEDS_RESET ? "needs_reset" : size != 3 || en != 1 ? "rejected"
		: "accepted";
	kprintf("TK: hostile qsize3 %s size %u enable %u status 0x%x\n", what, size, en, st);
	reopen(&b);

	/* (d) a normal read still works */
	int r = blk_rw(&b, VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, 512);
	if (r)
		tk_fail(NULL, "read after reset status %d", r);
	kprintf("TK: hostile read 0 1 sum %08x\n", byte_sum(tk_databuf, 512));
	return 0;
}

static uint32_t pm_now(const struct acpi_info *ai)
{
	return inl(ai->pm_tmr) & ((ai->fadt_flags & (1u << 8)) ? 0xffffffffu : 0xffffffu);
}

int scen_blk_bench(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	char mode[16] = "seqread";
	cmdline_get(bi->cmdline, "tk.mode", mode, sizeof(mode));
	int m = !kstrncmp(mode, "seqread", 16) ? 0 : !kstrncmp(mode, "seqwrite", 16) ? 1
		: !kstrncmp(mode, "randread", 16) ? 2 : -1;
	if (m < 0)
		tk_fail(NULL, "unknown mode %s", mode);
	uint32_t mib = opt_u32(bi, "tk.mib", 16), qd = opt_u32(bi, "tk.qd", 1);
	if (!ai->pm_tmr)
		tk_fail(NULL, "no ACPI PM timer");
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	if (qd < 1)
		qd = 1;
	if (qd > (uint32_t)b.slots)
		qd = (uint32_t)b.slots;
	uint32_t reqlen = m == 2 ? 4096 : TK_DATABUF_SIZE;
	uint32_t nreq = m == 2 ? mib * 256 : mib, per = reqlen / 512;
	uint64_t cap = b.capacity;
	if (cap < per)
		tk_fail(NULL, "disk too small");
	uint64_t blocks = cap >> (m == 2 ? 3 : 11), mask = 1;          /* randread: power-of-two range */
	while (mask * 2 <= blocks)
		mask *= 2;
	mask--;
	uint32_t rnd = 0x12345678, type = m == 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	uint64_t next = 0;
	uint32_t sent = 0, done = 0, id, len;
	int free_slots[BLK_MAX_SLOTS], nfree = 0;
	for (uint32_t i = 0; i < qd; i++)
		free_slots[nfree++] = (int)i;
	struct vq *q = &b.v.vq[0];
	uint32_t t0 = pm_now(ai);
	while (done < nreq) {
		bool pushed = false;
		while (sent < nreq && nfree) {
			int s = free_slots[--nfree];
			uint64_t sector;
			if (m == 2) {
				rnd = rnd * 1103515245u + 12345u;
				sector = ((uint64_t)(rnd >> 4) & mask) * per;
			} else {
				if (next + per > cap)
					next = 0;
				sector = next;
				next += per;
			}
			uint64_t addr = (uintptr_t)tk_databuf + (m == 2 ? (uint32_t)s * 4096 : 0);
			vq_push(q, blk_prep(&b, s, type, sector, addr, reqlen));
			sent++;
			pushed = true;
		}
		if (pushed)
			vq_kick(q);
		if (!vq_poll(q, &id, &len, 10000))
			tk_fail(NULL, "request timed out (%u done)", done);
		if (id % 3 || id / 3 >= qd || b.status[id / 3] != 0) {
			uint8_t st = id / 3 < qd ? b.status[id / 3] : 0xff;
			delay_ms(20);   /* tell "status written late" from "wrong id" */
			tk_fail(NULL, "bad completion id %u len %u status %u (20 ms later %u) after %u done;"
				" avail %u used %u taken %u", id, len, st,
				id / 3 < qd ? b.status[id / 3] : 0xff, done, q->avail_idx,
				*(volatile uint16_t *)(q->used + 2), q->last_used);
		}
		free_slots[nfree++] = (int)(id / 3);
		done++;
	}
	uint32_t mask_t = (ai->fadt_flags & (1u << 8)) ? 0xffffffffu : 0xffffffu;
	uint32_t ticks = (pm_now(ai) - t0) & mask_t;
	uint32_t us = (uint32_t)(((uint64_t)ticks * 1199864539u) >> 32); /* ticks / 3.579545 */
	kprintf("TK: bench %s bytes %llu ticks %u us %u\n", mode,
		(unsigned long long)nreq * reqlen, ticks, us);
	return 0;
}
