/* virtio-blk driver (polled): open, synchronous requests, GET_ID. The
 * scenarios that use it are in scenarios/blk.c and scenarios/blkx.c. */
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
		/* OUT data and DISCARD / WRITE_ZEROES ranges are read by the device. */
		uint16_t f = type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
			     type == VIRTIO_BLK_T_WRITE_ZEROES ? 0 : VRING_DESC_F_WRITE;
		vq_desc(q, h + 1, addr, len, f | VRING_DESC_F_NEXT, h + 2);
		vq_desc(q, h + 2, (uintptr_t)&b->status[slot], 1, VRING_DESC_F_WRITE, 0);
	} else {
		vq_desc(q, h + 1, (uintptr_t)&b->status[slot], 1, VRING_DESC_F_WRITE, 0);
	}
	return h;
}

int blk_wait(struct blk *b, uint16_t head)
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

void blk_describe(struct blk *b, int i)
{
	char serial[21];
	blk_serial(b, serial);
	kprintf("TK: blk%d capacity %llu ro %d serial %s\n", i, (unsigned long long)b->capacity,
		b->ro, serial);
}
