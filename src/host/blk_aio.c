/* The libaio ("native") engine: O_DIRECT reads/writes and fdatasync
 * (IOCB_CMD_FDSYNC, run by the kernel on a workqueue) through io_submit,
 * completions signalled on the backend's eventfd. Buffered reads/writes
 * are not asynchronous in io_submit (the copy, page-cache misses and
 * writeback throttling happen inside the call), so without O_DIRECT they go
 * to the worker threads, as do DISCARD and WRITE_ZEROES. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/blk_backend_int.h"
#include "host/log.h"

#define ERR(...) snprintf(err, 256, __VA_ARGS__)

static int aio_setup(struct blk_backend *b, char err[256])
{
	int r = io_setup((int)b->nslots, &b->ctx);

	if (r < 0) {
		b->ctx = 0;
		ERR("disk %s: io_setup: %s (raise /proc/sys/fs/aio-max-nr, or use aio=threads)",
		    b->path, strerror(-r));
		return r;
	}
	b->aio_batch = calloc(b->nslots, sizeof(*b->aio_batch));
	if (!b->aio_batch) {
		io_destroy(b->ctx);
		b->ctx = 0;
		ERR("disk %s: out of memory", b->path);
		return -ENOMEM;
	}
	b->aio_fsync = true;
	b->aio_rw = b->direct;
	return 0;
}

static void aio_teardown(struct blk_backend *b)
{
	if (b->ctx)
		io_destroy(b->ctx);
	b->ctx = 0;
	free(b->aio_batch);
	b->aio_batch = NULL;
}

static int aio_queue(struct blk_backend *b, struct be_slot *s)
{
	struct iocb *io = &s->iocb;

	switch (s->req.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (!b->aio_rw)
			return -EOPNOTSUPP;
		if (s->req.type == VIRTIO_BLK_T_OUT)
			io_prep_pwritev(io, b->fd, s->iov, s->niov, (long long)(s->req.sector * BLK_SECTOR));
		else
			io_prep_preadv(io, b->fd, s->iov, s->niov, (long long)(s->req.sector * BLK_SECTOR));
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->aio_fsync)
			return -EOPNOTSUPP;
		io_prep_fdsync(io, b->fd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	io->data = s;
	io_set_eventfd(io, b->efd);
	b->aio_batch[b->aio_nbatch++] = io; /* at most one per slot */
	return 0;
}

static void aio_kick(struct blk_backend *b)
{
	unsigned done = 0;

	while (done < b->aio_nbatch) {
		int r = io_submit(b->ctx, (long)(b->aio_nbatch - done), b->aio_batch + done);
		struct be_slot *s;

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		/* The first one was refused: complete it, go on with the rest. */
		s = b->aio_batch[done++]->data;
		if (s->req.type == VIRTIO_BLK_T_FLUSH && r == -EINVAL) {
			/* No IOCB_CMD_FDSYNC for this file: workers from now on. */
			b->aio_fsync = false;
			blk_sync_queue(b, s);
			continue;
		}
		pr_warn_rl("virtio-blk: io_submit failed: %s", strerror(r < 0 ? -r : EIO));
		slot_done(b, s, VIRTIO_BLK_S_IOERR);
	}
	b->aio_nbatch = 0;
}

static unsigned aio_reap(struct blk_backend *b)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev[32];
	unsigned total = 0;
	int n;

	do {
		n = io_getevents(b->ctx, 0, 32, ev, &zero);
		for (int i = 0; i < n; i++) {
			struct be_slot *s = ev[i].data;
			long res = (long)ev[i].res;

			if (s->req.type == VIRTIO_BLK_T_FLUSH)
				slot_done(b, s, res == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
			else
				slot_rw_done(b, s, res);
		}
		if (n > 0)
			total += (unsigned)n;
	} while (n == 32);
	return total;
}

const struct blk_engine blk_engine_aio = {
	.name = "native",
	.setup = aio_setup,
	.teardown = aio_teardown,
	.queue = aio_queue,
	.kick = aio_kick,
	.reap = aio_reap,
};
