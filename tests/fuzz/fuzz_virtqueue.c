/* libFuzzer: the virtqueue walk over hostile guest RAM. Input = 8 bytes of
 * queue parameters followed by guest RAM contents (the rings, descriptors and
 * indirect tables the "driver" wrote). Every popped chain is also parsed as a
 * virtio-blk request, so chains reach blk_parse_request as a guest makes them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/virtqueue.h"

#define RAM_GPA 0x1000u
#define RAM_SIZE 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain ch;
	static struct blk_req req;
	struct guest_mem mem = { .nr = 1 };
	struct virtqueue q;
	uint8_t *ram;
	uint16_t qsize, avail_idx;
	const struct blk_limits lim = { .capacity = 1u << 20, .flush = true, .discard = true,
					.write_zeroes = true };

	if (size < 8)
		return 0;
	/* 2 bytes log2 size + flags, 2 bytes avail idx start, 4 bytes ring placement */
	qsize = (uint16_t)(1u << (data[0] % 12)); /* 1..2048: 2048 must be refused */
	memcpy(&avail_idx, data + 2, 2);
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	memcpy(ram, data + 8, size - 8 < RAM_SIZE ? size - 8 : RAM_SIZE);
	mem.r[0] = (struct gmem_region){ RAM_GPA, RAM_SIZE, ram };
	uint64_t desc = RAM_GPA + (data[4] & 0x3f) * 0x400u;
	uint64_t avail = RAM_GPA + (data[5] & 0x3f) * 0x400u + (data[1] & 0x20 ? 1 : 0);
	uint64_t used = RAM_GPA + (data[6] & 0x3f) * 0x400u;
	memset(&q, 0, sizeof(q));
	if (vq_init(&q, &mem, qsize, desc, avail, used, data[1] & 1, data[1] & 2) == 0) {
		q.last_avail = q.used_idx = avail_idx;
		for (int i = 0; i < 64; i++) {
			uint8_t buf[64];
			int r = vq_pop(&q, &ch);
			if (r <= 0)
				break;
			vq_chain_read(&ch, data[7], buf, sizeof(buf));
			vq_chain_write(&ch, data[7], buf, sizeof(buf));
			if (blk_parse_request(&ch, &req) == VIRTIO_BLK_S_OK)
				blk_check_request(&req, &lim);
			vq_push(&q, ch.head, ch.in_bytes);
			if (data[1] & 4)
				vq_need_interrupt(&q);
		}
		vq_has_avail(&q);
	}
	free(ram);
	return 0;
}
