/* blk-swap: the first virtio-blk disk changes under the guest (PATCH
 * /drives on the host). Prints `TK: blk-swap before capacity <sectors> sum
 * <%08x of the first tk.count (8) sectors>`, `TK: blk-swap waiting`, then
 * polls the config generation (the config-change the swap sends) for
 * tk.wait seconds (default 30), re-reads the capacity and the same sectors:
 * `TK: blk-swap after capacity <sectors> sum <%08x>`, waits tk.hold ms
 * (default 0), PASS. */
#include "virtio.h"

static uint64_t read_capacity(struct blk *b)
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

static void report(struct blk *b, const char *when, uint32_t cnt)
{
	int st = blk_rw(b, VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, cnt * 512);
	if (st)
		tk_fail(NULL, "read %s the swap: status %d", when, st);
	kprintf("TK: blk-swap %s capacity %llu sum %08x\n", when,
		(unsigned long long)read_capacity(b), byte_sum(tk_databuf, cnt * 512));
}

int scen_blk_swap(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	struct deadline dl;
	uint32_t cnt = opt_u32(bi, "tk.count", 8);

	if (cnt == 0 || cnt > TK_DATABUF_SIZE / 512)
		cnt = 8;
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	report(&b, "before", cnt);
	uint8_t gen = mmio_read8(b.v.common + VC_GEN);
	kprintf("TK: blk-swap waiting\n");
	deadline_start(&dl, opt_u32(bi, "tk.wait", 30) * 1000);
	while (mmio_read8(b.v.common + VC_GEN) == gen) {
		if (deadline_passed(&dl))
			tk_fail(NULL, "no config change within tk.wait seconds");
		delay_ms(5);
	}
	report(&b, "after", cnt);
	delay_ms(opt_u32(bi, "tk.hold", 0));
	return 0;
}
