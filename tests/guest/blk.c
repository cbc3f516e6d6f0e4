/* virtio-blk driver (polled) and the blk-read, blk-write, blk-ro, blk-two
 * and blk-indirect scenarios. */
#include "virtio.h"

#define REQ_TIMEOUT_MS 5000

uint8_t tk_databuf[TK_DATABUF_SIZE] __attribute__((aligned(4096), section(".noinit")));

uint32_t byte_sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

uint32_t opt_u32(const struct bootinfo *bi, const char *key, uint32_t def)
{
	char buf[24];
	return cmdline_get(bi->cmdline, key, buf, sizeof(buf)) ? parse_u32(buf) : def;
}

int blk_open(struct blk *b, int nth, uint64_t extra)
{
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(2), nth);
	if (!d || vdev_probe(&b->v, d) || !b->v.devcfg)
		return -1;
	if (vdev_init(&b->v, VIRTIO_BLK_F_RO | VIRTIO_BLK_F_FLUSH | extra))
		return -1;
	if (vq_setup(&b->v, 0, 128))
		return -1;
	vdev_driver_ok(&b->v);
	uint8_t gen;
	uint32_t lo, hi;
	do {
		gen = mmio_read8(b->v.common + VC_GEN);
		lo = mmio_read32(b->v.devcfg);
		hi = mmio_read32(b->v.devcfg + 4);
	} while (gen != mmio_read8(b->v.common + VC_GEN));
	b->capacity = (uint64_t)hi << 32 | lo;
	b->ro = !!(b->v.offered & VIRTIO_BLK_F_RO);
	b->slots = b->v.vq[0].size / 3;
	if (b->slots > BLK_MAX_SLOTS)
		b->slots = BLK_MAX_SLOTS;
	b->hdr = tk_alloc(16 * BLK_MAX_SLOTS, 16);
	b->status = tk_alloc(BLK_MAX_SLOTS, 16);
	b->itable = tk_alloc(3 * 16, 16);
	return b->slots ? 0 : -1;
}

uint16_t blk_prep(struct blk *b, int slot, uint32_t type, uint64_t sector, uint64_t addr,
		  uint32_t len)
{
	struct vq *q = &b->v.vq[0];
	uint16_t h = (uint16_t)(3 * slot);
	uint8_t *hdr = b->hdr + 16 * slot;
	memcpy(hdr, &type, 4);
	memset(hdr + 4, 0, 4);
	memcpy(hdr + 8, &sector, 8);
	b->status[slot] = 0xff;
	vq_desc(q, h, (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, h + 1);
	if (len) {
		uint16_t f = type == VIRTIO_BLK_T_OUT ? 0 : VRING_DESC_F_WRITE;
		vq_desc(q, h + 1, addr, len, f | VRING_DESC_F_NEXT, h + 2);
		vq_desc(q, h + 2, (uintptr_t)&b->status[slot], 1, VRING_DESC_F_WRITE, 0);
	} else {
		vq_desc(q, h + 1, (uintptr_t)&b->status[slot], 1, VRING_DESC_F_WRITE, 0);
	}
	return h;
}

static int blk_wait(struct blk *b, uint16_t head)
{
	uint32_t id, len;
	vq_push(&b->v.vq[0], head);
	vq_kick(&b->v.vq[0]);
	if (!vq_poll(&b->v.vq[0], &id, &len, REQ_TIMEOUT_MS))
		return -1;
	return b->status[id / 3];
}

int blk_rw(struct blk *b, uint32_t type, uint64_t sector, uint64_t addr, uint32_t len)
{
	return blk_wait(b, blk_prep(b, 0, type, sector, addr, len));
}

/* Serial number via GET_ID (20 bytes, NUL-padded if shorter). */
static void blk_serial(struct blk *b, char out[21])
{
	uint8_t *id = tk_alloc(20, 16);
	memset(out, 0, 21);
	if (blk_rw(b, VIRTIO_BLK_T_GET_ID, 0, (uintptr_t)id, 20) != 0)
		return;
	for (int i = 0; i < 20 && id[i]; i++)
		out[i] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
}

static void blk_describe(struct blk *b, int i)
{
	char serial[21];
	blk_serial(b, serial);
	kprintf("TK: blk%d capacity %llu ro %d serial %s\n", i, (unsigned long long)b->capacity,
		b->ro, serial);
}

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
