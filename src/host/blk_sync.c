/* The disk backend's worker threads: the blocking work a request may need
 * runs here, never on the event loop (issue 10 finding 4). That is every
 * request with aio=threads; with libaio, buffered reads/writes, DISCARD and
 * WRITE_ZEROES (fallocate, or plain writes of zeroes over up to 32 x 2 GiB)
 * and fdatasync when the kernel has no AIO fsync; with io_uring, the
 * fallbacks (a write-zeroes the filesystem cannot fallocate, a short
 * transfer). One to BLK_WORKERS_MAX threads per disk share one queue that
 * holds at most the backend's slots. Reads and writes touch only the
 * iovecs of the slot (guest RAM checked by the device, or a bounce buffer). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
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

/* IN / OUT: preadv / pwritev until all s->expect bytes moved (the kernel
 * may move fewer per call). Bytes moved (short only at end of file) or
 * -errno. */
static long do_rw(struct blk_backend *b, const struct be_slot *s)
{
	struct iovec v[VQ_MAX_SEGS];
	bool wr = s->req.type == VIRTIO_BLK_T_OUT;
	off_t off = (off_t)(s->req.sector * BLK_SECTOR);
	int n = s->niov, i = 0;
	uint64_t total = 0;

	if (n <= 0 || n > VQ_MAX_SEGS)
		return -EINVAL;
	memcpy(v, s->iov, (size_t)n * sizeof(v[0]));
	while (total < s->expect && i < n && !stopping(b)) {
		ssize_t r = wr ? pwritev(b->fd, v + i, n - i, off + (off_t)total)
			       : preadv(b->fd, v + i, n - i, off + (off_t)total);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		total += (uint64_t)r;
		while (r > 0 && i < n) {
			if ((size_t)r >= v[i].iov_len) {
				r -= (ssize_t)v[i].iov_len;
				i++;
			} else {
				v[i].iov_base = (uint8_t *)v[i].iov_base + r;
				v[i].iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
	return stopping(b) && total < s->expect ? -EIO : (long)total;
}

static void run_job(struct blk_backend *b, struct be_slot *s)
{
	switch (s->req.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		s->res = do_rw(b, s);
		break;
	case VIRTIO_BLK_T_FLUSH:
		s->status = fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	default:
		s->status = do_ranges(b, &s->req);
	}
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
		if (stopping(b)) {
			s->status = VIRTIO_BLK_S_IOERR;
			s->res = -EIO;
		} else {
			run_job(b, s);
		}
		pthread_mutex_lock(&b->lock);
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
		if (s->req.type == VIRTIO_BLK_T_IN || s->req.type == VIRTIO_BLK_T_OUT) {
			s->redo = true; /* no second redo of a short transfer */
			slot_rw_done(b, s, s->res);
		} else {
			slot_done(b, s, s->status);
		}
		n++;
	}
	return n;
}

int blk_sync_start(struct blk_backend *b, unsigned n)
{
	int r = 0;

	if (n > BLK_WORKERS_MAX)
		n = BLK_WORKERS_MAX;
	pthread_cond_init(&b->sync_cond, NULL);
	for (b->nworkers = 0; b->nworkers < n; b->nworkers++)
		if ((r = pthread_create(&b->workers[b->nworkers], NULL, sync_main, b)))
			break;
	if (r && !b->nworkers) {
		pthread_cond_destroy(&b->sync_cond);
		return -r;
	}
	return 0; /* fewer workers than asked is still correct */
}

void blk_sync_stop(struct blk_backend *b)
{
	if (!b->nworkers)
		return;
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->sync_stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&b->sync_cond);
	pthread_mutex_unlock(&b->lock);
	for (unsigned i = 0; i < b->nworkers; i++)
		pthread_join(b->workers[i], NULL);
	pthread_cond_destroy(&b->sync_cond);
	b->nworkers = 0;
	/* Jobs they finished or skipped: complete them (IOERR if skipped). */
	pthread_mutex_lock(&b->lock);
	blk_sync_reap(b);
	pthread_mutex_unlock(&b->lock);
}

/* aio=threads: everything goes to the workers. */
static int threads_queue(struct blk_backend *b, struct be_slot *s) { return -EOPNOTSUPP; }

const struct blk_engine blk_engine_threads = {
	.name = "threads",
	.queue = threads_queue,
};
