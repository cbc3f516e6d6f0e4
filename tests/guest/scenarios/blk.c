/* The blk-read, blk-write, blk-reboot, blk-ro, blk-two, blk-disks and blk-indirect scenarios
 * (driver: drivers/blk.c). */
#include "virtio.h"

static uint32_t clamp_count(uint32_t n)
{
	return n > TK_DATABUF_SIZE / 512 ? TK_DATABUF_SIZE / 512 : n;
}

int scen_blk_read(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b[4];
	int n = 0;
	pci_scan(&(struct pci_dev *){ 0 }, true);
	for (; n < 4 && !blk_open(&b[n], n, 0); n++)
		blk_describe(&b[n], n);
	if (!n)
		tk_fail(NULL, "no virtio-blk");
	uint32_t s = opt_u32(bi, "tk.sector", 0), cnt = clamp_count(opt_u32(bi, "tk.count", 8));
	int st = blk_rw(&b[0], VIRTIO_BLK_T_IN, s, (uintptr_t)tk_databuf, cnt * 512);
	if (st)
		tk_fail(NULL, "read status %d", st);
	kprintf("TK: blk read %u %u sum %08x\n", s, cnt, byte_sum(tk_databuf, cnt * 512));
	return 0;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed + i * 7 + (i >> 9));
}

int scen_blk_write(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	uint32_t s = opt_u32(bi, "tk.sector", 0), cnt = clamp_count(opt_u32(bi, "tk.count", 8));
	uint32_t seed = opt_u32(bi, "tk.seed", 0), len = cnt * 512;
	for (uint32_t i = 0; i < len; i++)
		tk_databuf[i] = pattern(seed, i);
	int st = blk_rw(&b, VIRTIO_BLK_T_OUT, s, (uintptr_t)tk_databuf, len);
	kprintf("TK: blk write %u %u status %d\n", s, cnt, st);
	int fst = blk_rw(&b, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	kprintf("TK: blk flush status %d\n", fst);
	if (st || fst)
		tk_fail(NULL, "write/flush failed");
	memset(tk_databuf, 0, len);
	st = blk_rw(&b, VIRTIO_BLK_T_IN, s, (uintptr_t)tk_databuf, len);
	if (st)
		tk_fail(NULL, "read back status %d", st);
	for (uint32_t i = 0; i < len; i++)
		if (tk_databuf[i] != pattern(seed, i))
			tk_fail(NULL, "mismatch at byte %u", i);
	kprintf("TK: blk verify ok\n");
	if (cmdline_has(bi->cmdline, "tk.nopoweroff"))
		return 0;
	return scen_poweroff(bi, ai);
}

/* Writes the pattern, flushes, resets through 0xCF9 (CMOS byte 0x40
 * remembers it); after the reboot, reads it back (a disk whose back-end is
 * restarted or reconnected on reset keeps the data) and powers off. */
int scen_blk_reboot(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	uint32_t s = opt_u32(bi, "tk.sector", 0), cnt = clamp_count(opt_u32(bi, "tk.count", 8));
	uint32_t seed = opt_u32(bi, "tk.seed", 0), len = cnt * 512;
	bool again = cmos_read(0x40) == 0xa5;
	int st;

	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	if (again) {
		cmos_write(0x40, 0);
		memset(tk_databuf, 0, len);
		if ((st = blk_rw(&b, VIRTIO_BLK_T_IN, s, (uintptr_t)tk_databuf, len)))
			tk_fail(NULL, "read after reboot status %d", st);
		for (uint32_t i = 0; i < len; i++)
			if (tk_databuf[i] != pattern(seed, i))
				tk_fail(NULL, "after reboot: mismatch at byte %u", i);
		kprintf("TK: blk after reboot verify ok\n");
		return scen_poweroff(bi, ai);
	}
	for (uint32_t i = 0; i < len; i++)
		tk_databuf[i] = pattern(seed, i);
	st = blk_rw(&b, VIRTIO_BLK_T_OUT, s, (uintptr_t)tk_databuf, len);
	kprintf("TK: blk write %u %u status %d\n", s, cnt, st);
	if (st || blk_rw(&b, VIRTIO_BLK_T_FLUSH, 0, 0, 0))
		tk_fail(NULL, "write/flush failed");
	cmos_write(0x40, 0xa5);
	kprintf("TK: blk rebooting\n");
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	delay_ms(100);
	cmos_write(0x40, 0);
	tk_fail(NULL, "still running after the reset");
}

int scen_blk_ro(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	if (blk_open(&b, 0, 0))
		tk_fail(NULL, "no virtio-blk");
	if (!b.ro)
		tk_fail(NULL, "F_RO not offered (not writing)");
	memset(tk_databuf, 0x5a, 512);
	int st = blk_rw(&b, VIRTIO_BLK_T_OUT, 0, (uintptr_t)tk_databuf, 512);
	kprintf("TK: blk ro write status %d\n", st);
	if (st != 1)
		tk_fail(NULL, "expected IOERR (1)");
	return 0;
}

int scen_blk_two(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b[2];
	for (int i = 0; i < 2; i++) {
		if (blk_open(&b[i], i, 0))
			tk_fail(NULL, "virtio-blk %d missing", i);
		blk_describe(&b[i], i);
		int st = blk_rw(&b[i], VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, 512);
		if (st)
			tk_fail(NULL, "blk%d read status %d", i, st);
		kprintf("TK: blk%d read 0 1 sum %08x\n", i, byte_sum(tk_databuf, 512));
	}
	return 0;
}

int scen_blk_indirect(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b;
	if (blk_open(&b, 0, VIRTIO_F_INDIRECT_DESC))
		tk_fail(NULL, "no virtio-blk");
	if (!(b.v.features & VIRTIO_F_INDIRECT_DESC))
		tk_fail(NULL, "INDIRECT_DESC not offered");
	uint32_t s = opt_u32(bi, "tk.sector", 0), cnt = clamp_count(opt_u32(bi, "tk.count", 8));
	uint32_t type = VIRTIO_BLK_T_IN;
	uint64_t sector = s;
	volatile struct vring_desc *t = b.itable;
	memcpy(b.hdr, &type, 4);
	memset(b.hdr + 4, 0, 4);
	memcpy(b.hdr + 8, &sector, 8);
	b.status[0] = 0xff;
	t[0].addr = (uintptr_t)b.hdr; t[0].len = 16; t[0].flags = VRING_DESC_F_NEXT; t[0].next = 1;
	t[1].addr = (uintptr_t)tk_databuf; t[1].len = cnt * 512;
	t[1].flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT; t[1].next = 2;
	t[2].addr = (uintptr_t)b.status; t[2].len = 1; t[2].flags = VRING_DESC_F_WRITE; t[2].next = 0;
	vq_desc(&b.v.vq[0], 0, (uintptr_t)t, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	int st = blk_wait(&b, 0);
	if (st)
		tk_fail(NULL, "indirect read status %d", st);
	kprintf("TK: blk indirect read %u %u sum %08x\n", s, cnt, byte_sum(tk_databuf, cnt * 512));
	return 0;
}

/* One range request (16-byte {sector, num_sectors, flags}). */
static int blk_range(struct blk *b, uint32_t type, uint64_t sector, uint32_t n)
{
	static uint8_t r[16] __attribute__((aligned(16)));
	memcpy(r, &sector, 8);
	memcpy(r + 8, &n, 4);
	memset(r + 12, 0, 4);
	return blk_rw(b, type, 0, (uintptr_t)r, 16);
}

/* Every disk (up to 4; the host gives each a different I/O engine): read
 * sectors 0..7 (sum), write a per-disk pattern at tk.sector (tk.count
 * sectors), flush, read it back; then write zeroes over the first half and
 * discard the second half of it and read back zeroes. Then power off. */
int scen_blk_disks(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct blk b[4];
	uint32_t s = opt_u32(bi, "tk.sector", 64), cnt = clamp_count(opt_u32(bi, "tk.count", 16));
	uint32_t len = cnt * 512, half = cnt / 2;
	int n = 0;

	pci_scan(&(struct pci_dev *){ 0 }, true);
	for (; n < 4 && !blk_open(&b[n], n, VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES); n++)
		blk_describe(&b[n], n);
	if (!n)
		tk_fail(NULL, "no virtio-blk");
	for (int d = 0; d < n; d++) {
		int st = blk_rw(&b[d], VIRTIO_BLK_T_IN, 0, (uintptr_t)tk_databuf, 8 * 512);
		if (st)
			tk_fail(NULL, "blk%d read status %d", d, st);
		kprintf("TK: blk%d read 0 8 sum %08x\n", d, byte_sum(tk_databuf, 8 * 512));
		for (uint32_t i = 0; i < len; i++)
			tk_databuf[i] = pattern((uint32_t)d + 1, i);
		st = blk_rw(&b[d], VIRTIO_BLK_T_OUT, s, (uintptr_t)tk_databuf, len);
		int fst = blk_rw(&b[d], VIRTIO_BLK_T_FLUSH, 0, 0, 0);
		memset(tk_databuf, 0, len);
		int rst = blk_rw(&b[d], VIRTIO_BLK_T_IN, s, (uintptr_t)tk_databuf, len);
		if (st || fst || rst)
			tk_fail(NULL, "blk%d write %d flush %d read %d", d, st, fst, rst);
		for (uint32_t i = 0; i < len; i++)
			if (tk_databuf[i] != pattern((uint32_t)d + 1, i))
				tk_fail(NULL, "blk%d mismatch at byte %u", d, i);
		kprintf("TK: blk%d write %u %u verify ok\n", d, s, cnt);
		if (!(b[d].v.features & VIRTIO_BLK_F_WRITE_ZEROES) ||
		    !(b[d].v.features & VIRTIO_BLK_F_DISCARD))
			tk_fail(NULL, "blk%d: DISCARD / WRITE_ZEROES not offered", d);
		int zst = blk_range(&b[d], VIRTIO_BLK_T_WRITE_ZEROES, s, half);
		int dst = blk_range(&b[d], VIRTIO_BLK_T_DISCARD, s + half, cnt - half);
		memset(tk_databuf, 0xff, len);
		rst = blk_rw(&b[d], VIRTIO_BLK_T_IN, s, (uintptr_t)tk_databuf, len);
		kprintf("TK: blk%d zeroes %d discard %d read %d sum %08x\n", d, zst, dst, rst,
			byte_sum(tk_databuf, len));
		if (zst || dst || rst)
			tk_fail(NULL, "blk%d zeroes/discard failed", d);
	}
	return scen_poweroff(bi, ai);
}
