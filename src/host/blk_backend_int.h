/* Internals shared by the disk backend's files: blk_backend.c (open, slots,
 * bounce buffers, dispatch), the I/O engines blk_aio.c (libaio),
 * blk_uring.c (io_uring) and blk_sync.c (worker threads for what an engine
 * cannot do without blocking). */
#ifndef MYVMM_BLK_BACKEND_INT_H
#define MYVMM_BLK_BACKEND_INT_H
#include <libaio.h>
#include <pthread.h>
#include <stdbool.h>

#include "host/blk_backend.h"

struct be_slot {
	struct iocb iocb;        /* libaio */
	struct blk_req req;      /* copy: iov points into guest RAM */
	uint64_t tag;
	void *bounce;            /* O_DIRECT with an unaligned guest buffer */
	struct iovec biov;
	const struct iovec *iov; /* what the I/O reads/writes: req.iov or &biov */
	int niov;
	uint32_t expect;         /* bytes the I/O must transfer */
	int next_free;
	struct be_slot *next_job; /* worker queue / done list */
	uint8_t status;          /* worker / io_uring result */
	long res;                /* worker: bytes moved or -errno (IN / OUT) */
	bool internal;           /* blk_backend_flush_drain's flush: no callback */
	unsigned sqes;           /* io_uring: completions still expected */
	bool redo;               /* io_uring: a range op needs the worker's fallbacks */
};

/* An I/O engine. queue() takes a prepared slot (IN/OUT with iov/niov/expect
 * set, FLUSH, DISCARD, WRITE_ZEROES) and returns 0 (a completion follows
 * later, through the backend's eventfd) or -EOPNOTSUPP (the caller hands it
 * to the worker threads). kick() submits what queue() batched; reap()
 * completes finished work without blocking. All with b->lock held. */
struct blk_engine {
	const char *name;
	int (*setup)(struct blk_backend *b, char err[256]);
	void (*teardown)(struct blk_backend *b);
	int (*queue)(struct blk_backend *b, struct be_slot *s);
	void (*kick)(struct blk_backend *b);
	unsigned (*reap)(struct blk_backend *b);
};
extern const struct blk_engine blk_engine_aio, blk_engine_uring, blk_engine_threads;

struct blk_uring; /* blk_uring.c */

struct blk_backend {
	pthread_mutex_t lock;        /* leaf: everything below */
	int fd, efd;
	const char *path;            /* for messages, valid during open only */
	const struct blk_engine *eng;
	enum blk_aio aio;            /* what was asked for */
	bool ro, direct;
	uint64_t size;
	uint32_t align, mem_align;   /* O_DIRECT alignment (0 when buffered) */
	unsigned nslots, inflight, plugged;
	int free_head;
	struct be_slot *slots;
	uint64_t bounce_bytes;       /* O_DIRECT bounce buffers in flight */
	blk_done_cb cb;
	void *opaque;
	uint8_t internal_status;     /* blk_backend_flush_drain's flush */
	/* libaio (blk_aio.c) */
	io_context_t ctx;
	bool aio_fsync, aio_rw;      /* FDSYNC / reads and writes through libaio */
	struct iocb **aio_batch;
	unsigned aio_nbatch;
	/* io_uring (blk_uring.c) */
	struct blk_uring *ur;
	/* Worker threads (blk_sync.c) */
	pthread_t workers[BLK_WORKERS_MAX];
	unsigned nworkers;
	bool sync_stop;              /* also read atomically */
	pthread_cond_t sync_cond;
	struct be_slot *job_head, *job_tail, *done_head;
};

/* b->lock held for all of these. */
void slot_put(struct blk_backend *b, struct be_slot *s);        /* no callback */
void slot_done(struct blk_backend *b, struct be_slot *s, uint8_t status);
/* Completes a read/write slot from the bytes moved (or -errno). */
void slot_rw_done(struct blk_backend *b, struct be_slot *s, long res);
/* Hands a slot to the worker threads; its completion is reaped by
 * blk_sync_reap() (after an eventfd signal). */
void blk_sync_queue(struct blk_backend *b, struct be_slot *s);
unsigned blk_sync_reap(struct blk_backend *b);
/* Without b->lock: start n workers (0 or -errno) / stop and join them. */
int blk_sync_start(struct blk_backend *b, unsigned n);
void blk_sync_stop(struct blk_backend *b);
#endif
