/* virtio-blk device (virtio 1.x section 5.2): config space, request parsing
 * and the queue loop. I/O runs asynchronously in blk_backend; the vCPU
 * threads never touch the disk.
 *
 * Threads: queue_notify and completions run on the I/O thread; reset and
 * config access come from a vCPU thread. The device lock (vd.lock)
 * serialises queue work and completions; the backend has its own leaf lock,
 * so a reset waits for in-flight I/O without holding vd.lock and the I/O
 * thread never blocks behind it. */
#include "devices/virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/blk_backend.h"
#include "host/evloop.h"
#include "host/log.h"

/* ---- request parsing (pure) ---- */

/* Builds iovecs for bytes [off, off+len) of one direction of the chain. */
static void build_iov(const struct vq_chain *c, bool writes, uint32_t off, uint32_t len,
		      struct blk_req *r)
{
	r->niov = vq_chain_iov(c, writes, off, len, r->iov, VQ_MAX_SEGS, &r->data_len);
}

int blk_parse_request(const struct vq_chain *c, struct blk_req *r)
{
	const struct vq_seg *last;
	uint8_t hdr[BLK_HDR_SIZE];
	uint32_t payload;

	memset(r, 0, offsetof(struct blk_req, iov));
	r->nranges = 0;
	/* 5.2.6: the status byte is the last byte of the device-writable part;
	 * vq_pop guarantees writable segments come last. */
	if (c->nseg == 0 || c->in_bytes == 0)
		return -EINVAL;
	last = &c->seg[c->nseg - 1];
	if (!last->device_writes || last->len == 0)
		return -EINVAL;
	r->status = last->hva + last->len - 1;
	r->written = 1;
	if (c->out_bytes < BLK_HDR_SIZE)
		return VIRTIO_BLK_S_IOERR;
	vq_chain_read(c, 0, hdr, sizeof(hdr));
	memcpy(&r->type, hdr, 4);
	memcpy(&r->sector, hdr + 8, 8);
	r->type = le32toh(r->type);
	r->sector = le64toh(r->sector);
	payload = c->out_bytes - BLK_HDR_SIZE;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		build_iov(c, true, 0, c->in_bytes - 1, r);
		r->written = r->data_len + 1;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		build_iov(c, false, BLK_HDR_SIZE, payload, r);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t n = c->in_bytes - 1;
		build_iov(c, true, 0, n < VIRTIO_BLK_ID_BYTES ? n : VIRTIO_BLK_ID_BYTES, r);
		r->written = r->data_len + 1;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		/* 5.2.6: payload is an array of 16-byte {sector, num, flags}. */
		if (payload == 0 || payload % 16 || payload / 16 > BLK_MAX_RANGES)
			return VIRTIO_BLK_S_IOERR;
		r->nranges = payload / 16;
		for (unsigned i = 0; i < r->nranges; i++) {
			uint8_t raw[16];
			struct blk_range *g = &r->range[i];

			vq_chain_read(c, BLK_HDR_SIZE + 16 * i, raw, 16);
			memcpy(&g->sector, raw, 8);
			memcpy(&g->num_sectors, raw + 8, 4);
			memcpy(&g->flags, raw + 12, 4);
			g->sector = le64toh(g->sector);
			g->num_sectors = le32toh(g->num_sectors);
			g->flags = le32toh(g->flags);
		}
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* sector + n must not overflow and must end within the image. */
static bool range_ok(uint64_t sector, uint64_t n, uint64_t capacity)
{
	return sector <= capacity && n <= capacity - sector;
}

int blk_check_request(const struct blk_req *r, const struct blk_limits *lim)
{
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->type == VIRTIO_BLK_T_OUT && lim->ro)
			return VIRTIO_BLK_S_IOERR;
		if (r->data_len % BLK_SECTOR)
			return VIRTIO_BLK_S_IOERR;
		/* What we advertise is what we accept (5.2.4 size_max, seg_max). */
		if (lim->seg_max && r->niov > lim->seg_max)
			return VIRTIO_BLK_S_IOERR;
		for (unsigned i = 0; lim->size_max && i < r->niov; i++)
			if (r->iov[i].iov_len > lim->size_max)
				return VIRTIO_BLK_S_IOERR;
		if (!range_ok(r->sector, r->data_len / BLK_SECTOR, lim->capacity))
			return VIRTIO_BLK_S_IOERR;
		if (lim->dio_align && ((r->sector * BLK_SECTOR) % lim->dio_align ||
				       r->data_len % lim->dio_align))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return lim->flush ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
	case VIRTIO_BLK_T_GET_ID:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool wz = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
		uint32_t allowed = wz ? VIRTIO_BLK_WZ_F_UNMAP : 0;

		if (!(wz ? lim->write_zeroes : lim->discard))
			return VIRTIO_BLK_S_UNSUPP;
		if (lim->ro)
			return VIRTIO_BLK_S_IOERR;
		if (r->nranges == 0 || r->nranges > BLK_MAX_RANGES)
			return VIRTIO_BLK_S_IOERR;
		for (unsigned i = 0; i < r->nranges; i++) {
			const struct blk_range *g = &r->range[i];
			/* 5.2.6.1: unknown flags (or unmap on discard) -> UNSUPP. */
			if (g->flags & ~allowed)
				return VIRTIO_BLK_S_UNSUPP;
			if (g->num_sectors > BLK_MAX_RANGE_SECTORS ||
			    !range_ok(g->sector, g->num_sectors, lim->capacity))
				return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* ---- the device ---- */

struct blk_dev {
	struct virtio_dev vd;    /* vd.lock guards the fields below */
	struct blk_backend *be;
	struct evloop *loop;
	struct blk_limits lim;
	uint8_t config[BLK_CONFIG_SIZE];
	char serial[VIRTIO_BLK_ID_BYTES];
	uint32_t generation;     /* bumped on reset: stale completions dropped (atomic) */
	unsigned reset_draining; /* resets draining d->be without vd.lock (atomic) */
	bool pushed;
	bool stalled;            /* d->req waits for the backend (start()) */
	uint16_t stalled_head;
	struct vq_chain chain;   /* scratch for vq_pop (4 KiB: not on the stack) */
	struct blk_req req;
	struct virtio_blk_stats stats; /* written under vd.lock, read atomically */
};

static struct blk_dev *to_blk(struct virtio_dev *vd) { return vd->priv; }

static void put_le16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put_le32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put_le64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

/* Config layout: 5.2.4 struct virtio_blk_config. */
static void build_config(struct blk_dev *d)
{
	uint8_t *c = d->config;
	uint32_t bs = d->lim.dio_align > BLK_SECTOR ? d->lim.dio_align : BLK_SECTOR;

	memset(c, 0, sizeof(d->config));
	put_le64(c + 0, d->lim.capacity);
	put_le32(c + 8, BLK_SIZE_MAX);
	put_le32(c + 12, BLK_SEG_MAX);
	put_le32(c + 20, bs);
	put_le16(c + 34, 1);                          /* num_queues */
	put_le32(c + 36, BLK_MAX_RANGE_SECTORS);      /* max_discard_sectors */
	put_le32(c + 40, BLK_MAX_RANGES);             /* max_discard_seg */
	put_le32(c + 44, bs / BLK_SECTOR);            /* discard_sector_alignment */
	put_le32(c + 48, BLK_MAX_RANGE_SECTORS);      /* max_write_zeroes_sectors */
	put_le32(c + 52, BLK_MAX_RANGES);             /* max_write_zeroes_seg */
	c[56] = 1;                                    /* write_zeroes_may_unmap */
}

static void blk_config_read(struct virtio_dev *vd, uint32_t off, void *data, uint32_t len)
{
	struct blk_dev *d = to_blk(vd);

	memset(data, 0, len);
	if (off < sizeof(d->config) && len <= sizeof(d->config) - off)
		memcpy(data, d->config + off, len);
}

static void blk_config_write(struct virtio_dev *vd, uint32_t off, const void *data, uint32_t len)
{
	/* Nothing writable (no CONFIG_WCE). */
}

/* Completes one request: status byte, used ring. vd.lock held. */
static void finish(struct blk_dev *d, uint16_t head, uint8_t *status_byte, uint32_t written,
		   uint8_t status)
{
	*status_byte = status;
	if (status != VIRTIO_BLK_S_OK)
		written = 1;
	if (vq_push(&d->vd.vq[0], head, written) == 0)
		d->pushed = true;
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED); /* one writer: vd.lock */
}

static void count_done(struct virtio_blk_stats *s, const struct blk_req *req, uint8_t status)
{
	if (status != VIRTIO_BLK_S_OK)
		stat_add(&s->execute_fails, 1);
	else if (req->type == VIRTIO_BLK_T_IN)
		stat_add(&s->read_count, 1), stat_add(&s->read_bytes, req->data_len);
	else if (req->type == VIRTIO_BLK_T_OUT)
		stat_add(&s->write_count, 1), stat_add(&s->write_bytes, req->data_len);
	else if (req->type == VIRTIO_BLK_T_FLUSH)
		stat_add(&s->flush_count, 1);
}

void virtio_blk_get_stats(struct virtio_dev *vd, struct virtio_blk_stats *st)
{
	const struct virtio_blk_stats *s = &to_blk(vd)->stats;

	st->read_count = __atomic_load_n(&s->read_count, __ATOMIC_RELAXED);
	st->read_bytes = __atomic_load_n(&s->read_bytes, __ATOMIC_RELAXED);
	st->write_count = __atomic_load_n(&s->write_count, __ATOMIC_RELAXED);
	st->write_bytes = __atomic_load_n(&s->write_bytes, __ATOMIC_RELAXED);
	st->flush_count = __atomic_load_n(&s->flush_count, __ATOMIC_RELAXED);
	st->invalid_reqs = __atomic_load_n(&s->invalid_reqs, __ATOMIC_RELAXED);
	st->execute_fails = __atomic_load_n(&s->execute_fails, __ATOMIC_RELAXED);
}

static void backend_done(void *opaque, const struct blk_req *req, uint64_t tag, uint8_t status)
{
	struct blk_dev *d = opaque;

	/* A stale generation: the driver reset the device meanwhile (this may
	 * run on the resetting thread, inside blk_backend_drain, without
	 * vd.lock: touch nothing then). */
	if ((uint32_t)(tag >> 32) != __atomic_load_n(&d->generation, __ATOMIC_ACQUIRE) ||
	    !d->vd.active)
		return;
	count_done(&d->stats, req, status);
	finish(d, (uint16_t)tag, req->status, req->written, status);
}

static void flush_notify(struct blk_dev *d)
{
	if (d->pushed) {
		d->pushed = false;
		virtio_notify_used(&d->vd, 0);
	}
}

static int broken(int err)
{
	pr_guest("virtio-blk: queue broken (%s), device needs reset", strerror(-err));
	return err;
}

static uint64_t tag_of(const struct blk_dev *d, uint16_t head)
{
	return (uint64_t)d->generation << 32 | head;
}

/* Hands d->req (chain head) to the backend. false: it must wait for a
 * completion (no free slot, or bounce bytes at their cap); d->stalled then
 * keeps it, and no further chain is popped until it is started. */
static bool start(struct blk_dev *d, uint16_t head)
{
	int r = blk_backend_submit(d->be, &d->req, tag_of(d, head));

	if (r == -EBUSY || r == -EAGAIN) {
		d->stalled = true;
		d->stalled_head = head;
		return false;
	}
	d->stalled = false;
	if (r) {
		stat_add(&d->stats.execute_fails, 1);
		finish(d, head, d->req.status, 1, VIRTIO_BLK_S_IOERR);
	}
	return true;
}

/* Pops and starts requests. vd.lock held, device active. At most
 * BLK_BUDGET chains per call (then a re-kick through the event loop).
 * Returns 0 or the ring error (the caller raises NEEDS_RESET). */
static int process_queue(struct blk_dev *d)
{
	struct virtqueue *q = &d->vd.vq[0];
	struct blk_req *r = &d->req;
	unsigned n = 0;

	if (d->stalled && !start(d, d->stalled_head))
		return 0; /* resumed from the completion path */
	for (;; n++) {
		int st, got;

		if (blk_backend_inflight(d->be) >= BLK_QUEUE_SIZE)
			return 0; /* resumed from the completion path */
		if (virtio_budget_spent(&d->vd, 0, n, BLK_BUDGET))
			return 0;
		got = vq_pop(q, &d->chain);
		if (got < 0)
			return broken(got);
		if (got == 0)
			return 0; /* vq_pop re-armed the driver's kicks */
		st = blk_parse_request(&d->chain, r);
		if (st < 0)
			return broken(st);
		if (st == VIRTIO_BLK_S_OK)
			st = blk_check_request(r, &d->lim);
		if (st != VIRTIO_BLK_S_OK) {
			stat_add(&d->stats.invalid_reqs, 1);
			finish(d, d->chain.head, r->status, 1, st);
			continue;
		}
		if (r->type == VIRTIO_BLK_T_GET_ID) {
			uint32_t off = 0;
			for (unsigned i = 0; i < r->niov; i++) {
				memcpy(r->iov[i].iov_base, d->serial + off, r->iov[i].iov_len);
				off += r->iov[i].iov_len;
			}
			finish(d, d->chain.head, r->status, r->written, VIRTIO_BLK_S_OK);
			continue;
		}
		if (!start(d, d->chain.head))
			return 0;
	}
}

static int blk_queue_notify(struct virtio_dev *vd, unsigned qi)
{
	struct blk_dev *d = to_blk(vd);
	int r;

	if (qi != 0)
		return 0;
	blk_backend_plug(d->be);
	r = process_queue(d);
	blk_backend_unplug(d->be); /* one io_submit / io_uring_enter per batch */
	flush_notify(d);
	return r;
}

void virtio_blk_poll(struct virtio_dev *vd)
{
	struct blk_dev *d = to_blk(vd);

	virtio_dev_lock(vd);
	blk_backend_complete(d->be);
	/* Requests may have waited for a free slot. */
	blk_backend_plug(d->be);
	if (vd->active && process_queue(d) < 0)
		virtio_fail(vd);
	blk_backend_unplug(d->be);
	flush_notify(d);
	virtio_dev_unlock(vd);
}

static void blk_event(void *opaque, int fd, uint32_t events)
{
	virtio_blk_poll(opaque);
}

/* vd.active is already false, so nothing new is submitted: every request
 * in flight belongs to the old generation. */
static void blk_reset(struct virtio_dev *vd)
{
	struct blk_dev *d = to_blk(vd);

	struct blk_backend *be;

	virtio_dev_lock(vd);
	__atomic_add_fetch(&d->generation, 1, __ATOMIC_ACQ_REL);
	d->pushed = false;
	d->stalled = false;
	be = d->be;  /* kept open until we are done: virtio_blk_swap waits */
	__atomic_add_fetch(&d->reset_draining, 1, __ATOMIC_ACQ_REL);
	virtio_dev_unlock(vd);
	/* No DMA into guest RAM after the reset completes (2.4.1): wait for
	 * the old requests, without vd.lock (the I/O thread keeps running). */
	if (blk_backend_drain(be, BLK_RESET_DRAIN_MS))
		pr_warn_rl("virtio-blk: in-flight I/O did not finish within %u ms of reset",
			   BLK_RESET_DRAIN_MS);
	__atomic_sub_fetch(&d->reset_draining, 1, __ATOMIC_ACQ_REL);
}

int virtio_blk_quiesce(struct virtio_dev *vd, unsigned timeout_ms)
{
	struct blk_dev *d = to_blk(vd);
	int r;

	/* vd.lock held throughout: completions reaped here are pushed to the
	 * used ring like the I/O thread's (which waits meanwhile). A request
	 * popped but stalled for a slot is started first. */
	virtio_dev_lock(vd);
	r = blk_backend_drain(d->be, timeout_ms);
	if (!r && vd->active && d->stalled) {
		start(d, d->stalled_head);
		r = blk_backend_drain(d->be, timeout_ms);
	}
	if (!r)
		r = blk_backend_flush_drain(d->be, timeout_ms);
	flush_notify(d);
	virtio_dev_unlock(vd);
	return r;
}

const char *virtio_blk_engine(struct virtio_dev *vd)
{
	return blk_backend_engine(to_blk(vd)->be);
}

/* The snapshot hook (virtio_dev_ops.quiesce): see virtio_blk_quiesce. */
static int blk_quiesce(struct virtio_dev *vd)
{
	return virtio_blk_quiesce(vd, BLK_RESET_DRAIN_MS);
}

static void blk_destroy(struct virtio_dev *vd);

#define BLK_FEATURES_COMMON                                                                  \
	((1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |                  \
	 (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH))

/* The read-write and read-only devices differ only in the features they
 * offer (5.2.3: RO, and no DISCARD/WRITE_ZEROES on a read-only disk). */
#define BLK_OPS(feat)                                                                        \
	{                                                                                    \
		.name = "virtio-blk", .device_id = VIRTIO_ID_BLOCK, .features = (feat),      \
		.num_queues = 1, .queue_max = BLK_QUEUE_SIZE, .config_size = BLK_CONFIG_SIZE, \
		.config_read = blk_config_read, .config_write = blk_config_write,            \
		.queue_notify = blk_queue_notify, .reset = blk_reset,                        \
		.quiesce = blk_quiesce,                                                      \
		.destroy = blk_destroy,                                                      \
	}

static const struct virtio_dev_ops blk_ops_rw =
	BLK_OPS(BLK_FEATURES_COMMON | (1ull << VIRTIO_BLK_F_DISCARD) |
		(1ull << VIRTIO_BLK_F_WRITE_ZEROES));
static const struct virtio_dev_ops blk_ops_ro =
	BLK_OPS(BLK_FEATURES_COMMON | (1ull << VIRTIO_BLK_F_RO));

int virtio_blk_create(const struct blk_params *cfg, struct evloop *io_loop,
		      struct virtio_dev **out, char err[256])
{
	struct blk_dev *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		snprintf(err, 256, "disk %s: out of memory", cfg->path);
		return -ENOMEM;
	}
	virtio_dev_init(&d->vd, cfg->ro ? &blk_ops_ro : &blk_ops_rw, d);
	r = blk_backend_open(cfg, BLK_QUEUE_SIZE, backend_done, d, &d->be, err);
	if (r)
		goto fail;
	d->lim = (struct blk_limits){
		.capacity = blk_backend_size(d->be) / BLK_SECTOR,
		.ro = cfg->ro,
		.flush = true,
		.discard = !cfg->ro,
		.write_zeroes = !cfg->ro,
		.dio_align = blk_backend_dio_align(d->be),
		.size_max = BLK_SIZE_MAX,
		.seg_max = BLK_SEG_MAX,
	};
	/* GET_ID: up to 20 bytes, NUL-padded (5.2.6). */
	memset(d->serial, 0, sizeof(d->serial));
	if (cfg->serial)
		memcpy(d->serial, cfg->serial, strnlen(cfg->serial, sizeof(d->serial)));
	build_config(d);
	d->loop = io_loop;
	if (io_loop) {
		r = evloop_add_fd(io_loop, blk_backend_event_fd(d->be), EPOLLIN, blk_event, &d->vd);
		if (r) {
			snprintf(err, 256, "disk %s: cannot watch AIO completions: %s", cfg->path,
				 strerror(-r));
			goto fail;
		}
	}
	*out = &d->vd;
	return 0;
fail:
	blk_backend_close(d->be);
	virtio_dev_cleanup(&d->vd);
	free(d);
	return r;
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The image's current size in bytes (a file that grew, a resized device). */
static int image_bytes(int fd, uint64_t *out, char err[256])
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		return snprintf(err, 256, "stat: %s", strerror(errno)), -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return snprintf(err, 256, "device size: %s", strerror(errno)), -errno;
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size == 0 || size % BLK_SECTOR) {
		snprintf(err, 256, "size %llu is not a non-zero multiple of 512 bytes",
			 (unsigned long long)size);
		return -EINVAL;
	}
	*out = size;
	return 0;
}

int virtio_blk_swap(struct virtio_dev *vd, const struct blk_params *cfg, char err[256])
{
	struct blk_dev *d = to_blk(vd);
	struct blk_backend *old = d->be, *nb = NULL;
	bool same = same_file(blk_backend_fd(old), cfg->path);
	uint64_t bytes = 0;
	int r;

	/* A different image is opened (checked, probed, locked) before the old
	 * one is touched; the same image (already locked by us) is re-sized. */
	if (same)
		r = image_bytes(blk_backend_fd(old), &bytes, err);
	else if (!(r = blk_backend_open(cfg, BLK_QUEUE_SIZE, backend_done, d, &nb, err)))
		bytes = blk_backend_size(nb);
	if (r)
		return r;
	virtio_dev_lock(vd);
	/* Completions run here, under vd.lock, like virtio_blk_poll's. */
	if (blk_backend_drain(old, BLK_RESET_DRAIN_MS)) {
		virtio_dev_unlock(vd);
		blk_backend_close(nb);
		snprintf(err, 256, "disk I/O in flight did not finish within %u ms; retry",
			 BLK_RESET_DRAIN_MS);
		return -ETIMEDOUT;
	}
	if (!d->lim.ro && fdatasync(blk_backend_fd(old))) {
		r = -errno;
		virtio_dev_unlock(vd);
		blk_backend_close(nb);
		snprintf(err, 256, "flushing the current image: %s", strerror(-r));
		return r;
	}
	if (nb) {
		d->be = nb;
		d->lim.dio_align = blk_backend_dio_align(nb);
	}
	d->lim.capacity = bytes / BLK_SECTOR;
	build_config(d);
	/* A request waiting for the backend was checked against the old size. */
	if (d->stalled && blk_check_request(&d->req, &d->lim) != VIRTIO_BLK_S_OK) {
		d->stalled = false;
		finish(d, d->stalled_head, d->req.status, 1, VIRTIO_BLK_S_IOERR);
		flush_notify(d);
	}
	bool active = vd->active;
	virtio_dev_unlock(vd);
	if (nb) {
		if (d->loop) {
			evloop_del_fd(d->loop, blk_backend_event_fd(old));
			if (evloop_add_fd(d->loop, blk_backend_event_fd(nb), EPOLLIN, blk_event,
					  &d->vd))
				pr_err("virtio-blk %s: cannot watch AIO completions", cfg->path);
		}
		/* A reset on a vCPU may still be draining it (nothing in flight). */
		while (__atomic_load_n(&d->reset_draining, __ATOMIC_ACQUIRE))
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		blk_backend_close(old);  /* releases its lock */
	}
	if (active && vd->tops && vd->tops->config_changed)
		vd->tops->config_changed(vd);
	virtio_blk_poll(vd);
	return 0;
}

int virtio_blk_poll_fd(struct virtio_dev *vd)
{
	return blk_backend_event_fd(to_blk(vd)->be);
}

static void blk_destroy(struct virtio_dev *vd)
{
	struct blk_dev *d = to_blk(vd);

	if (d->loop)
		evloop_del_fd(d->loop, blk_backend_event_fd(d->be));
	/* No transport left: completions of the old generation are dropped. */
	__atomic_add_fetch(&d->generation, 1, __ATOMIC_ACQ_REL);
	blk_backend_close(d->be);
	virtio_dev_cleanup(vd);
	free(d);
}
