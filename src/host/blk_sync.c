/* The disk backend's sync thread: the blocking work a request may need --
 * DISCARD and WRITE_ZEROES (fallocate, or plain writes of zeroes over up to
 * 32 x 2 GiB) and fdatasync when the kernel has no AIO fsync -- runs here,
 * never on the event loop (issue 10 finding 4). One thread per disk; its
 * queue holds at most the backend's slots. It only touches the image fd and
 * the ranges copied into the slot, never guest memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/blk_backend_int.h"
#include "host/log.h"

static bool stopping(struct blk_backend *b)
{
	return __atomic_load_n(&b->sync_stop, __ATOMIC_ACQUIRE);
}

/* Zeroes [off, off+len) with plain writes (no ZERO_RANGE support). */
static int write_zeros(struct blk_backend *b, uint64_t off, uint64_t len)
{
	const size_t chunk = 1 << 16;
	void *z;
	int r = 0;

	if (posix_memalign(&z, 4096, chunk))
		return -ENOMEM;
	memset(z, 0, chunk);
	while (len && !r && !stopping(b)) {
		size_t n = len < chunk ? len : chunk;
		ssize_t w = pwrite(b->fd, z, n, off);
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else {
			off += w;
			len -= w;
		}
	}
	free(z);
	return r;
}

/* DISCARD / WRITE_ZEROES, on the sync thread. */
static uint8_t do_ranges(struct blk_backend *b, const struct blk_req *r)
{
	for (unsigned i = 0; i < r->nranges; i++) {
		off_t off = r->range[i].sector * BLK_SECTOR;
		off_t len = (off_t)r->range[i].num_sectors * BLK_SECTOR;
		bool unmap = r->type == VIRTIO_BLK_T_DISCARD ||
			     (r->range[i].flags & VIRTIO_BLK_WZ_F_UNMAP);

		if (!len)
			continue;
		if (unmap &&
		    fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
			continue;
		if (r->type == VIRTIO_BLK_T_DISCARD) {
			/* Discard is a hint: unsupported means nothing to do. */
			if (errno == EOPNOTSUPP || errno == ENOSYS)
				continue;
			return VIRTIO_BLK_S_IOERR;
		}
		if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
			continue;
		if ((errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) ||
		    write_zeros(b, off, len))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t run_job(struct blk_backend *b, const struct be_slot *s)
{
	if (s->req.type == VIRTIO_BLK_T_FLUSH)
		return fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	return do_ranges(b, &s->req);
}

static void *sync_main(void *opaque)
{
	struct blk_backend *b = opaque;
	uint64_t one = 1;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct be_slot *s;

		while (!b->job_head && !b->sync_stop)
			pthread_cond_wait(&b->sync_cond, &b->lock);
		if (!b->job_head)
			break;
		s = b->job_head;
		b->job_head = s->next_job;
		if (!b->job_head)
			b->job_tail = NULL;
		pthread_mutex_unlock(&b->lock);
		uint8_t st = stopping(b) ? VIRTIO_BLK_S_IOERR : run_job(b, s);
		pthread_mutex_lock(&b->lock);
		s->status = st;
		s->next_job = b->done_head;
		b->done_head = s;
		if (write(b->efd, &one, sizeof(one)) < 0) { /* saturated: pending anyway */ }
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

void blk_sync_queue(struct blk_backend *b, struct be_slot *s)
{
	s->next_job = NULL;
	if (b->job_tail)
		b->job_tail->next_job = s;
	else
		b->job_head = s;
	b->job_tail = s;
	pthread_cond_signal(&b->sync_cond);
}

unsigned blk_sync_reap(struct blk_backend *b)
{
	unsigned n = 0;

	while (b->done_head) {
		struct be_slot *s = b->done_head;
		b->done_head = s->next_job;
		slot_done(b, s, s->status);
		n++;
	}
	return n;
}

int blk_sync_start(struct blk_backend *b)
{
	int r;

	pthread_cond_init(&b->sync_cond, NULL);
	r = pthread_create(&b->sync_thread, NULL, sync_main, b);
	if (r) {
		pthread_cond_destroy(&b->sync_cond);
		return -r;
	}
	b->sync_started = true;
	return 0;
}

void blk_sync_stop(struct blk_backend *b)
{
	if (!b->sync_started)
		return;
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->sync_stop, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&b->sync_cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->sync_thread, NULL);
	pthread_cond_destroy(&b->sync_cond);
	b->sync_started = false;
	/* Jobs it finished or skipped: complete them (IOERR if skipped). */
	pthread_mutex_lock(&b->lock);
	blk_sync_reap(b);
	pthread_mutex_unlock(&b->lock);
}
