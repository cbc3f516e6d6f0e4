/* The io_uring engine: readv/writev (buffered or O_DIRECT), fdatasync and
 * fallocate (DISCARD: PUNCH_HOLE, WRITE_ZEROES: ZERO_RANGE or PUNCH_HOLE
 * with UNMAP) all asynchronous in the kernel (it punts what would block to
 * its own workers); completions signalled on the backend's eventfd
 * (io_uring_register_eventfd).
 *
 * The ring is locked down before use: only the four opcodes above are
 * allowed, so it cannot open, connect or send anything even though io_uring
 * operations bypass seccomp. The image is NOT a registered file: the ring
 * would then hold it (and its OFD lock) until the kernel's deferred ring
 * teardown after myvmm dies, and a VM restarted right after a crash found
 * its own image "in use" (3 of 10 restarts after SIGKILL here). Each SQE
 * names the fd; a request holds the file only while it is in flight.
 *
 * Bounded: one SQE per slot for I/O, up to BLK_MAX_RANGES for a range
 * request, never more SQEs in flight than CQ entries (a range request that
 * would exceed that goes to the worker threads). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/blk_backend_int.h"
#include "host/log.h"

#define ERR(...) snprintf(err, 256, __VA_ARGS__)

#ifndef HAVE_LIBURING

static int ur_setup(struct blk_backend *b, char err[256])
{
	ERR("disk %s: aio=io_uring: this myvmm was built without liburing (install "
	    "liburing-dev and rebuild, or use aio=native)", b->path);
	return -ENOSYS;
}

static int ur_queue(struct blk_backend *b, struct be_slot *s) { return -EOPNOTSUPP; }

const struct blk_engine blk_engine_uring = {
	.name = "io_uring",
	.setup = ur_setup,
	.queue = ur_queue,
};

#else

#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

struct blk_uring {
	struct io_uring ring;
	unsigned cq_cap;       /* CQ entries */
	unsigned sqes;         /* SQEs submitted or queued, not yet completed */
	bool pending;          /* SQEs queued, not yet submitted */
};

static const struct io_uring_restriction ur_allowed[] = {
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FALLOCATE },
};

/* Debian's liburing 2.3 declares io_uring_register_restrictions and
 * io_uring_enable_rings but does not export them: the raw syscall. */
static int ur_register(struct io_uring *ring, unsigned op, const void *arg, unsigned n)
{
	long r = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n);
	return r < 0 ? -errno : (int)r;
}

/* Test hook: MYVMM_TEST_URING_FAIL=1 makes the probe fail as a container's
 * seccomp policy would (EPERM), to test the fallback without one. */
static int probe_allowed(void)
{
	const char *t = getenv("MYVMM_TEST_URING_FAIL");
	return t && *t == '1' ? -EPERM : 0;
}

static int ur_setup(struct blk_backend *b, char err[256])
{
	struct io_uring_params p;
	struct blk_uring *u = calloc(1, sizeof(*u));
	const char *step = "io_uring_queue_init";
	int r;

	if (!u) {
		ERR("disk %s: out of memory", b->path);
		return -ENOMEM;
	}
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED;
	p.cq_entries = 2 * b->nslots;
	if ((r = probe_allowed()) || (r = io_uring_queue_init_params(b->nslots, &u->ring, &p))) {
		ERR("disk %s: io_uring unavailable (%s: %s; containers and kernel.io_uring_disabled "
		    "forbid it): use aio=native or aio=threads", b->path, step, strerror(-r));
		free(u);
		return r;
	}
	u->cq_cap = p.cq_entries;
	if (!(p.features & IORING_FEAT_NODROP)) {
		step = "IORING_FEAT_NODROP";
		r = -ENOSYS;
	} else if ((step = "io_uring_register_eventfd"),
		   (r = io_uring_register_eventfd(&u->ring, b->efd)) < 0) {
	} else if ((step = "IORING_REGISTER_RESTRICTIONS"),
		   (r = ur_register(&u->ring, IORING_REGISTER_RESTRICTIONS, ur_allowed,
					 sizeof(ur_allowed) / sizeof(ur_allowed[0]))) < 0) {
	} else if ((step = "IORING_REGISTER_ENABLE_RINGS"),
		   (r = ur_register(&u->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0)) < 0) {
	} else {
		b->ur = u;
		return 0;
	}
	ERR("disk %s: io_uring unusable (%s: %s): use aio=native or aio=threads", b->path, step,
	    strerror(r < 0 ? -r : EINVAL));
	io_uring_queue_exit(&u->ring);
	free(u);
	return r < 0 ? r : -EINVAL;
}

static void ur_teardown(struct blk_backend *b)
{
	if (!b->ur)
		return;
	io_uring_queue_exit(&b->ur->ring);
	free(b->ur);
	b->ur = NULL;
}

static void ur_kick(struct blk_backend *b)
{
	struct blk_uring *u = b->ur;
	int r;

	if (!u->pending)
		return;
	r = io_uring_submit(&u->ring);
	if (r < 0) {
		/* The SQEs stay queued; the next kick or reap retries. */
		pr_warn_rl("virtio-blk: io_uring_submit: %s", strerror(-r));
		return;
	}
	u->pending = io_uring_sq_ready(&u->ring) > 0;
}

/* An SQE, submitting what is queued when the SQ ring is full. */
static struct io_uring_sqe *get_sqe(struct blk_backend *b)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ur->ring);

	if (!sqe) {
		ur_kick(b);
		sqe = io_uring_get_sqe(&b->ur->ring);
	}
	return sqe;
}

static void prep(struct be_slot *s, struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data(sqe, s);
	s->sqes++;
}

static int ur_queue(struct blk_backend *b, struct be_slot *s)
{
	struct blk_uring *u = b->ur;
	const struct blk_req *r = &s->req;
	struct io_uring_sqe *sqe;
	unsigned need = 1;

	if (r->type == VIRTIO_BLK_T_DISCARD || r->type == VIRTIO_BLK_T_WRITE_ZEROES) {
		need = 0;
		for (unsigned i = 0; i < r->nranges; i++)
			need += r->range[i].num_sectors != 0;
		if (!need) {
			slot_done(b, s, VIRTIO_BLK_S_OK);
			return 0;
		}
	}
	if (u->sqes + need > u->cq_cap)
		return -EOPNOTSUPP;
	if (io_uring_sq_space_left(&u->ring) < need)
		ur_kick(b);
	if (io_uring_sq_space_left(&u->ring) < need)
		return -EOPNOTSUPP;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		sqe = get_sqe(b);
		if (r->type == VIRTIO_BLK_T_OUT)
			io_uring_prep_writev(sqe, b->fd, s->iov, (unsigned)s->niov, r->sector * BLK_SECTOR);
		else
			io_uring_prep_readv(sqe, b->fd, s->iov, (unsigned)s->niov, r->sector * BLK_SECTOR);
		prep(s, sqe);
		break;
	case VIRTIO_BLK_T_FLUSH:
		sqe = get_sqe(b);
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		prep(s, sqe);
		break;
	default:
		for (unsigned i = 0; i < r->nranges; i++) {
			const struct blk_range *g = &r->range[i];
			bool unmap = r->type == VIRTIO_BLK_T_DISCARD || (g->flags & VIRTIO_BLK_WZ_F_UNMAP);
			int mode = (unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) |
				   FALLOC_FL_KEEP_SIZE;

			if (!g->num_sectors)
				continue;
			sqe = get_sqe(b);
			io_uring_prep_fallocate(sqe, b->fd, mode, g->sector * BLK_SECTOR,
						(uint64_t)g->num_sectors * BLK_SECTOR);
			prep(s, sqe);
		}
	}
	u->sqes += s->sqes;
	u->pending = true;
	return 0;
}

static void ur_complete(struct blk_backend *b, struct be_slot *s, int res)
{
	switch (s->req.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		s->sqes = 0;
		slot_rw_done(b, s, res);
		return;
	case VIRTIO_BLK_T_FLUSH:
		s->sqes = 0;
		slot_done(b, s, res == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
		return;
	case VIRTIO_BLK_T_DISCARD:
		/* A hint: a file system without hole punching has nothing to do. */
		if (res < 0 && res != -EOPNOTSUPP && res != -ENOSYS)
			s->status = VIRTIO_BLK_S_IOERR;
		break;
	default:
		/* Write zeroes the file system cannot fallocate: the workers
		 * retry the whole request with their fallbacks (plain writes). */
		if (res < 0)
			s->redo = true;
	}
	if (--s->sqes)
		return;
	if (s->redo)
		blk_sync_queue(b, s);
	else
		slot_done(b, s, s->status);
}

static unsigned ur_reap(struct blk_backend *b)
{
	struct blk_uring *u = b->ur;
	struct io_uring_cqe *cqes[32];
	unsigned total = 0, n;

	do {
		n = io_uring_peek_batch_cqe(&u->ring, cqes, 32);
		for (unsigned i = 0; i < n; i++) {
			struct be_slot *s = io_uring_cqe_get_data(cqes[i]);
			int res = cqes[i]->res;

			u->sqes--;
			ur_complete(b, s, res);
		}
		io_uring_cq_advance(&u->ring, n);
		total += n;
	} while (n == 32);
	return total;
}

const struct blk_engine blk_engine_uring = {
	.name = "io_uring",
	.setup = ur_setup,
	.teardown = ur_teardown,
	.queue = ur_queue,
	.kick = ur_kick,
	.reap = ur_reap,
};
#endif
