/* libFuzzer: the virtio-blk disk backend (host/blk_backend.c) on a real
 * image file, driven by requests parsed from hostile chains exactly as the
 * device does (blk_parse_request + blk_check_request + blk_backend_submit).
 * Two images, one opened cache=none (O_DIRECT: the bounce-buffer path for
 * unaligned guest buffers) and one cache=writeback; READ, WRITE, FLUSH,
 * DISCARD, WRITE_ZEROES and GET_ID with up to 254 data segments anywhere in
 * a malloc'd "guest RAM" (ASan sees every byte copied past a buffer),
 * overlapping each other and unaligned. Run with -rss_limit_mb and
 * -malloc_limit_mb: a request must never make the backend allocate or hold
 * more than a bounded amount.
 *
 * Invariants checked:
 *  - every submitted request completes exactly once, with a valid status,
 *    and nothing is in flight after a drain;
 *  - the image never changes size;
 *  - a shadow copy of the image tracks every write / write-zeroes that
 *    completed OK while it was the only request in flight; after every input
 *    the image equals the shadow on all sectors not touched by overlapping
 *    (concurrent) writes or discards;
 *  - a read that ran alone returns the image bytes (when its segments do
 *    not overlap);
 *  - a failed request never changes the image.
 *
 * Input: byte 0 picks the image (low bits 11: cache=none, slower); then requests of
 *   type u8, sector u16, nseg u8, flags u8 (bit 0: leave in flight,
 *   bit 1: segment lengths in bytes, else in 512-byte units), then nseg x
 *   {off u16, len u16} into the 64 KiB guest RAM, then for DISCARD /
 *   WRITE_ZEROES up to 4 ranges {sector u16, num u16, flags u8}.
 *   Guest RAM starts with a fixed pattern; reads change it. */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "host/blk_backend.h"
#include "host/disk_format.h"
#include "host/log.h"

#define RAM_SIZE   (64u << 10)
#define IMG_SECT   128u
#define IMG_SIZE   (IMG_SECT * BLK_SECTOR)
#define MAX_INFL   32u

struct img {
	char path[64];
	struct blk_backend *be;
	int fd;                      /* a second, buffered fd to check the file */
	uint8_t shadow[IMG_SIZE];
	uint8_t unknown[IMG_SECT];   /* sector content no longer predictable */
	struct blk_limits lim;
};

static struct img imgs[2];
static uint8_t *ram;

/* Completion bookkeeping: one record per submitted request. */
struct pending {
	bool used, done, alone;
	uint8_t status;
	struct blk_req req;
	uint8_t *wdata;              /* what an OUT wrote (gathered at submit) */
};
static struct pending pend[MAX_INFL];
static unsigned long completions;
static struct img *cur;

static void apply_done(struct img *m, struct pending *p);

static void done_cb(void *opaque, const struct blk_req *req, uint64_t tag, uint8_t status)
{
	struct pending *p;

	if (tag >= MAX_INFL || !pend[tag].used || pend[tag].done)
		abort(); /* unknown tag or a second completion */
	if (status > VIRTIO_BLK_S_UNSUPP)
		abort();
	p = &pend[tag];
	p->done = true;
	p->status = status;
	completions++;
	apply_done(cur, p);
}

static void mark_unknown(struct img *m, uint64_t sector, uint64_t n)
{
	for (uint64_t s = sector; s < sector + n && s < IMG_SECT; s++)
		m->unknown[s] = 1;
}

/* Range of sectors a request may change (0 for reads/flush). */
static void apply_done(struct img *m, struct pending *p)
{
	const struct blk_req *r = &p->req;

	switch (r->type) {
	case VIRTIO_BLK_T_OUT:
		if (p->status != VIRTIO_BLK_S_OK) {
			/* a failed write may have written part of its data */
			mark_unknown(m, r->sector, r->data_len / BLK_SECTOR);
		} else if (p->alone) {
			if (r->data_len)
				memcpy(m->shadow + r->sector * BLK_SECTOR, p->wdata, r->data_len);
		} else {
			mark_unknown(m, r->sector, r->data_len / BLK_SECTOR);
		}
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
	case VIRTIO_BLK_T_DISCARD:
		for (unsigned i = 0; i < r->nranges; i++) {
			const struct blk_range *g = &r->range[i];
			bool zero = r->type == VIRTIO_BLK_T_WRITE_ZEROES && p->status == VIRTIO_BLK_S_OK &&
				    p->alone;
			if (zero)
				memset(m->shadow + g->sector * BLK_SECTOR, 0,
				       (size_t)g->num_sectors * BLK_SECTOR);
			else
				mark_unknown(m, g->sector, g->num_sectors);
		}
		break;
	default:
		break;
	}
	free(p->wdata);
	p->wdata = NULL;
}

static int open_img(struct img *m, bool direct, uint8_t fill)
{
	struct blk_params cfg = { .direct = direct, .format = DISK_FMT_RAW };
	char err[256];
	int fd;

	strcpy(m->path, "/tmp/myvmm-fuzz-blkbe-XXXXXX");
	fd = mkstemp(m->path);
	if (fd < 0)
		return -1;
	for (unsigned i = 0; i < IMG_SIZE; i++)
		m->shadow[i] = (uint8_t)(i * 13 + fill);
	if (pwrite(fd, m->shadow, IMG_SIZE, 0) != IMG_SIZE)
		return -1;
	m->fd = fd;
	cfg.path = m->path;
	if (blk_backend_open(&cfg, MAX_INFL, done_cb, m, &m->be, err)) {
		fprintf(stderr, "fuzz_blk_backend: %s\n", err);
		return -1;
	}
	unlink(m->path); /* the fds keep it; nothing left behind */
	m->lim = (struct blk_limits){ .capacity = blk_backend_size(m->be) / BLK_SECTOR,
				      .flush = true, .discard = true, .write_zeroes = true,
				      .dio_align = blk_backend_dio_align(m->be) };
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	ram = malloc(RAM_SIZE);
	for (unsigned i = 0; ram && i < RAM_SIZE; i++)
		ram[i] = (uint8_t)(i * 7);
	if (!ram || open_img(&imgs[0], false, 1) || open_img(&imgs[1], true, 2))
		abort();
	if (blk_backend_dio_align(imgs[1].be) == 0)
		abort(); /* cache=none must be O_DIRECT */
	return 0;
}

static void drain(struct img *m)
{
	if (blk_backend_drain(m->be, 10000) || blk_backend_inflight(m->be))
		abort();
	for (unsigned i = 0; i < MAX_INFL; i++) {
		if (pend[i].used && !pend[i].done)
			abort(); /* a request that never completed */
		pend[i].used = false;
	}
}

static void check_image(struct img *m)
{
	static uint8_t now[IMG_SIZE];
	struct stat st;

	if (fstat(m->fd, &st) || st.st_size != IMG_SIZE)
		abort();
	if (pread(m->fd, now, IMG_SIZE, 0) != IMG_SIZE)
		abort();
	for (unsigned s = 0; s < IMG_SECT; s++) {
		if (m->unknown[s]) {
			/* re-learn it: from now on it is predictable again */
			memcpy(m->shadow + s * BLK_SECTOR, now + s * BLK_SECTOR, BLK_SECTOR);
			m->unknown[s] = 0;
		} else if (memcmp(m->shadow + s * BLK_SECTOR, now + s * BLK_SECTOR, BLK_SECTOR)) {
			fprintf(stderr, "sector %u differs from the shadow\n", s);
			abort();
		}
	}
}

static bool segs_overlap(const struct blk_req *r)
{
	for (unsigned i = 0; i < r->niov; i++)
		for (unsigned j = i + 1; j < r->niov; j++) {
			uint8_t *a = r->iov[i].iov_base, *b = r->iov[j].iov_base;
			if (a < b + r->iov[j].iov_len && b < a + r->iov[i].iov_len)
				return true;
		}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain ch;
	static uint8_t hdr[BLK_HDR_SIZE + 16 * 4];
	static uint8_t status[MAX_INFL];
	size_t pos = 1;
	unsigned nreq = 0;

	if (size < 1)
		return 0;
	cur = &imgs[(data[0] & 3) == 3];

	while (pos + 5 <= size && nreq < 64) {
		uint8_t type = data[pos];
		uint16_t sector = data[pos + 1] | data[pos + 2] << 8;
		unsigned nseg = data[pos + 3] % 255;        /* up to 254 data segments */
		uint8_t fl = data[pos + 4];
		uint32_t tval;
		unsigned slot;
		pos += 5;

		static const uint32_t types[8] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
			VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
			VIRTIO_BLK_T_IN, 0x7fffffff };
		/* FLUSH is a real fdatasync: keep it rare (1 in 64) */
		if ((type & 7) == 2 && (type >> 3) != 0)
			type = 1;
		tval = types[type & 7];
		bool in_dir = tval == VIRTIO_BLK_T_IN || tval == VIRTIO_BLK_T_GET_ID;
		bool ranges = tval == VIRTIO_BLK_T_DISCARD || tval == VIRTIO_BLK_T_WRITE_ZEROES;

		/* a free slot: wait for everything when all are taken */
		for (slot = 0; slot < MAX_INFL && pend[slot].used; slot++)
			;
		if (slot == MAX_INFL) {
			drain(cur);
			slot = 0;
		}

		/* header: type, reserved, sector; ranges follow in the same segment */
		memset(hdr, 0, sizeof(hdr));
		uint32_t le_t = htole32(tval);
		uint64_t le_s = htole64((uint64_t)sector % (IMG_SECT + 8));
		memcpy(hdr, &le_t, 4);
		memcpy(hdr + 8, &le_s, 8);
		unsigned nr = 0;
		if (ranges) {
			nr = (type >> 3) % 4 + 1;
			for (unsigned i = 0; i < nr && pos + 5 <= size; i++, pos += 5) {
				uint64_t rs = htole64((uint64_t)(data[pos] | data[pos + 1] << 8) % (IMG_SECT + 8));
				uint32_t rn = htole32((uint32_t)(data[pos + 2] | data[pos + 3] << 8) % 600);
				uint32_t rf = htole32(data[pos + 4] & 3);
				uint8_t *g = hdr + BLK_HDR_SIZE + 16 * i;
				memcpy(g, &rs, 8);
				memcpy(g + 8, &rn, 4);
				memcpy(g + 12, &rf, 4);
			}
		}
		memset(&ch, 0, offsetof(struct vq_chain, seg));
		ch.seg[ch.nseg++] = (struct vq_seg){ hdr, BLK_HDR_SIZE + 16 * nr, false };
		ch.out_bytes = BLK_HDR_SIZE + 16 * nr;
		for (unsigned i = 0; i < nseg && pos + 4 <= size; i++, pos += 4) {
			uint32_t off = (data[pos] | data[pos + 1] << 8) % RAM_SIZE;
			uint32_t len = data[pos + 2] | data[pos + 3] << 8;
			len = fl & 2 ? len % 4097 : (len % 9) * BLK_SECTOR;
			if (len == 0)
				len = BLK_SECTOR;
			if (len > RAM_SIZE - off)
				len = RAM_SIZE - off;
			if (ranges)
				continue; /* a discard's payload is its ranges only */
			ch.seg[ch.nseg++] = (struct vq_seg){ ram + off, len, in_dir };
			if (in_dir)
				ch.in_bytes += len;
			else
				ch.out_bytes += len;
		}
		ch.seg[ch.nseg++] = (struct vq_seg){ &status[slot], 1, true };
		ch.in_bytes += 1;

		struct blk_req *r = &pend[slot].req;
		int st = blk_parse_request(&ch, r);
		if (st < 0)
			abort(); /* the harness always supplies a status byte */
		if (st == VIRTIO_BLK_S_OK)
			st = blk_check_request(r, &cur->lim);
		nreq++;
		if (st != VIRTIO_BLK_S_OK || r->type == VIRTIO_BLK_T_GET_ID)
			continue; /* the device completes these itself */

		bool alone = blk_backend_inflight(cur->be) == 0;
		struct pending *p = &pend[slot];
		p->used = true;
		p->done = false;
		p->wdata = NULL;
		if (r->type == VIRTIO_BLK_T_OUT && r->data_len) {
			p->wdata = malloc(r->data_len);
			if (!p->wdata)
				abort();
			uint32_t o = 0;
			for (unsigned i = 0; i < r->niov; i++) {
				memcpy(p->wdata + o, r->iov[i].iov_base, r->iov[i].iov_len);
				o += r->iov[i].iov_len;
			}
		}
		/* a request started while others are in flight races with them,
		 * and they with it */
		p->alone = alone;
		if (!alone)
			for (unsigned i = 0; i < MAX_INFL; i++)
				if (i != slot && pend[i].used && !pend[i].done)
					pend[i].alone = false;
		bool read_check = r->type == VIRTIO_BLK_T_IN && alone && !(fl & 1) && !segs_overlap(r);
		for (uint64_t s = r->sector; read_check && s < r->sector + r->data_len / BLK_SECTOR; s++)
			if (cur->unknown[s])
				read_check = false;
		struct blk_req rc = *r;
		if (blk_backend_submit(cur->be, r, slot))
			abort(); /* -EBUSY: we never exceed MAX_INFL */
		if (!(fl & 1) || read_check) {
			drain(cur);
			if (read_check && p->status == VIRTIO_BLK_S_OK) {
				uint64_t o = rc.sector * BLK_SECTOR;
				for (unsigned i = 0; i < rc.niov; i++) {
					if (memcmp(rc.iov[i].iov_base, cur->shadow + o, rc.iov[i].iov_len))
						abort(); /* read returned other bytes than the image's */
					o += rc.iov[i].iov_len;
				}
			}
		}
		/* the completion may already have run (synchronous requests) */
		blk_backend_complete(cur->be);
	}
	drain(cur);
	check_image(cur);
	return 0;
}
