/* blk-dma: guest RAM that only the device writes, for diff snapshots. Reads
 * tk.count sectors (default 8) of virtio-blk 0 into tk_databuf, which the
 * CPU never writes (the disk's DMA is the only writer: KVM's dirty log does
 * not see it), then every tk.period ms (default 100) for tk.ticks ticks
 * (default 100) prints `TK: blk-dma tick <n> sum <%08x>`, the buffer's byte
 * sum read by the CPU. When the disk's config generation changes (a host
 * PATCH /drives) it reads the same sectors into the buffer again: `TK:
 * blk-dma reread capacity <sectors>`. PASS after the last tick. A restore
 * from a diff snapshot that missed the device's writes shows the old sum.
 * tk.fill=K first has the CPU write K KiB (default 0, at most 512) at
 * tk_databuf + 512 KiB, so that a Full snapshot has more to hold. */
#include "virtio.h"

static uint64_t capacity(struct blk *b)
{
	uint8_t gen;
	uint32_t lo, hi;
	do {
		gen = mmio_read8(b->v.common + VC_GEN);
		lo = mmio_read32(b->v.devcfg);
		hi = mmio_read32(b->v.devcfg + 4);
	} while (gen != mmio_read8(b->v.common + VC_GEN));
	return (uint64_t)hi << 32 | lo;
}

static void dma_read(struct blk *b, uint32_t cnt)
{
	int st = blk_rw(b, VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, cnt * 512);
	if (st)
		tk_fail(NULL, "read status %d", st);
}

int scen_blk_dma(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	uint32_t cnt = opt_u32(bi, "tk.count", 8), ticks = opt_u32(bi, "tk.ticks", 100);
	uint32_t period = opt_u32(bi, "tk.period", 100);

	if (cnt == 0 || cnt > TK_DATABUF_SIZE / 512)
		cnt = 8;
	if (period < 10)
		period = 10;
	uint32_t fill = opt_u32(bi, "tk.fill", 0);
	if (cnt > TK_DATABUF_SIZE / 2 / 512)
		cnt = 8;
	if (fill > TK_DATABUF_SIZE / 2 / 1024)
		fill = TK_DATABUF_SIZE / 2 / 1024;
	uint64_t *f = (uint64_t *)(tk_databuf + TK_DATABUF_SIZE / 2);
	for (uint32_t i = 0; i < fill * 128; i++)
		f[i] = 0x0101010101010101ull * (i | 1);
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	dma_read(&b, cnt);
	uint8_t gen = mmio_read8(b.v.common + VC_GEN);
	kprintf("TK: blk-dma start capacity %llu\n", (unsigned long long)capacity(&b));
	for (uint32_t n = 1; n <= ticks; n++) {
		delay_ms(period);
		uint8_t g = mmio_read8(b.v.common + VC_GEN);
		if (g != gen) {
			gen = g;
			dma_read(&b, cnt);
			kprintf("TK: blk-dma reread capacity %llu\n", (unsigned long long)capacity(&b));
		}
		kprintf("TK: blk-dma tick %u sum %08x\n", n, byte_sum(tk_databuf, cnt * 512));
	}
	return 0;
}
