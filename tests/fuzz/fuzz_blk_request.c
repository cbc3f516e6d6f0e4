/* libFuzzer: blk_parse_request + blk_check_request on arbitrary chains.
 * Input: a segment count, then per segment {len u16, flags u8} and the bytes
 * of all segments; device-writable segments must come last (vq_pop enforces
 * that), so the harness sorts readable before writable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain ch;
	static struct blk_req req;
	static uint8_t arena[1 << 16];
	size_t pos, used = 0;
	unsigned n;

	if (size < 2)
		return 0;
	n = data[0] % 8 + 1;
	pos = 1 + 3 * n;
	if (size < pos)
		return 0;
	memset(&ch, 0, offsetof(struct vq_chain, seg));
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *d = data + 1 + 3 * i;
			uint32_t len = (uint32_t)(d[0] | d[1] << 8) % 2048;
			bool wr = d[2] & 1;
			if (wr != (pass == 1) || len == 0 || used + len > sizeof(arena))
				continue;
			memset(arena + used, 0, len);
			if (pos < size) {
				size_t c = size - pos < len ? size - pos : len;
				memcpy(arena + used, data + pos, c);
				pos += c;
			}
			ch.seg[ch.nseg++] = (struct vq_seg){ arena + used, len, wr };
			if (wr)
				ch.in_bytes += len;
			else
				ch.out_bytes += len;
			used += len;
		}
	}
	int st = blk_parse_request(&ch, &req);
	if (st >= 0) {
		/* The status byte must be inside the chain's last writable segment. */
		const struct vq_seg *last = &ch.seg[ch.nseg - 1];
		if (req.status != last->hva + last->len - 1)
			abort();
	}
	if (st == VIRTIO_BLK_S_OK) {
		struct blk_limits lim = { .capacity = data[1], .ro = data[0] & 0x80, .flush = true,
					  .discard = true, .write_zeroes = true,
					  .dio_align = data[0] & 0x40 ? 4096 : 0 };
		uint64_t total = 0;
		for (unsigned i = 0; i < req.niov; i++) {
			/* every iovec lies inside the arena */
			uint8_t *b = req.iov[i].iov_base;
			if (b < arena || b + req.iov[i].iov_len > arena + used)
				abort();
			total += req.iov[i].iov_len;
		}
		if (total != req.data_len)
			abort();
		if (blk_check_request(&req, &lim) == VIRTIO_BLK_S_OK &&
		    (req.type == VIRTIO_BLK_T_IN || req.type == VIRTIO_BLK_T_OUT) &&
		    (req.sector + req.data_len / 512 > lim.capacity || req.data_len % 512))
			abort();
	}
	return 0;
}
