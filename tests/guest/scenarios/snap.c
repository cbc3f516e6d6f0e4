/* snap-count: a counting workload for snapshot/restore tests. Prints
 * "TK: tick N" every tk.period ms (default 50) for tk.ticks lines (default
 * 100), adding N*N to a running sum kept in RAM and registers, then
 * "TK: count sum S" (S = ticks*(ticks+1)*(2*ticks+1)/6 when no tick was lost
 * or repeated) and PASS. With tk.disk=1 it first writes 8 sectors of a
 * pattern (seed tk.seed) to virtio-blk 0 without a flush ("TK: disk wrote"),
 * and at the end reads them back and verifies them, then writes sectors
 * 8-15 with the pattern of seed+1 and flushes ("TK: disk verified"): a
 * snapshot in between must carry the first write into the image and leave
 * the device usable after the restore. */
#include "virtio.h"

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 13 + i * 7 + (i >> 9));
}

static void disk_write(struct blk *b, uint32_t sector, uint32_t seed, bool flush)
{
	for (uint32_t i = 0; i < 8 * 512; i++)
		tk_databuf[i] = pattern(seed, i);
	int st = blk_rw(b, VIRTIO_BLK_T_OUT, sector, (uintptr_t)tk_databuf, 8 * 512);
	if (st)
		tk_fail(NULL, "disk write status %d", st);
	if (flush && (st = blk_rw(b, VIRTIO_BLK_T_FLUSH, 0, 0, 0)))
		tk_fail(NULL, "disk flush status %d", st);
}

int scen_snap_count(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	uint32_t ticks = opt_u32(bi, "tk.ticks", 100), period = opt_u32(bi, "tk.period", 50);
	uint32_t seed = opt_u32(bi, "tk.seed", 1);
	bool disk = opt_u32(bi, "tk.disk", 0) != 0;
	volatile uint64_t sum = 0;

	if (period < 10)
		period = 10;
	if (disk) {
		if (blk_open(&b, 0, 0))
			tk_fail(NULL, "no virtio-blk");
		disk_write(&b, 0, seed, false);
		kprintf("TK: disk wrote\n");
	}
	outb(PORT_MARKER, 0x01);
	kprintf("TK: count start\n");
	for (uint32_t n = 1; n <= ticks; n++) {
		delay_ms(period);
		sum += (uint64_t)n * n;
		kprintf("TK: tick %u\n", n);
	}
	kprintf("TK: count sum %u\n", (uint32_t)sum);
	if (disk) {
		memset(tk_databuf, 0, 8 * 512);
		int st = blk_rw(&b, VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, 8 * 512);
		if (st)
			tk_fail(NULL, "disk read status %d", st);
		for (uint32_t i = 0; i < 8 * 512; i++)
			if (tk_databuf[i] != pattern(seed, i))
				tk_fail(NULL, "disk mismatch at byte %u", i);
		disk_write(&b, 8, seed + 1, true);
		kprintf("TK: disk verified\n");
	}
	return 0;
}
