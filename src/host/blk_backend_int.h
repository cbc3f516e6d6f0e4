/* Internals shared by the disk backend's files: blk_backend.c (open, AIO,
 * bounce buffers) and blk_sync.c (the thread for blocking work). */
#ifndef MYVMM_BLK_BACKEND_INT_H
#define MYVMM_BLK_BACKEND_INT_H
#include <libaio.h>
#include <pthread.h>
#include <stdbool.h>

#include "host/blk_backend.h"

struct be_slot {
	struct iocb iocb;
	struct blk_req req;      /* copy: iov points into guest RAM */
	uint64_t tag;
	void *bounce;            /* O_DIRECT with an unaligned guest buffer */
	struct iovec biov;
	uint32_t expect;         /* bytes the AIO must transfer */
	int next_free;
	struct be_slot *next_job; /* sync thread queue / done list */
	uint8_t status;          /* sync job result */
};

struct blk_backend {
	pthread_mutex_t lock;        /* leaf: everything below */
	int fd, efd;
	io_context_t ctx;
	bool ro, direct, aio_fsync;
	uint64_t size;
	uint32_t align, mem_align;   /* O_DIRECT alignment (0 when buffered) */
	unsigned nslots, inflight;
	int free_head;
	struct be_slot *slots;
	uint64_t bounce_bytes;       /* O_DIRECT bounce buffers in flight */
	blk_done_cb cb;
	void *opaque;
	/* The sync thread (blk_sync.c): DISCARD, WRITE_ZEROES, fdatasync. */
	pthread_t sync_thread;
	bool sync_started, sync_stop; /* sync_stop also read atomically */
	pthread_cond_t sync_cond;
	struct be_slot *job_head, *job_tail, *done_head;
};

/* b->lock held for all of these. */
void slot_put(struct blk_backend *b, struct be_slot *s);        /* no callback */
void slot_done(struct blk_backend *b, struct be_slot *s, uint8_t status);
/* Hands a DISCARD / WRITE_ZEROES / FLUSH slot to the sync thread; its
 * completion is reaped by blk_sync_reap() (after an eventfd signal). */
void blk_sync_queue(struct blk_backend *b, struct be_slot *s);
unsigned blk_sync_reap(struct blk_backend *b);
/* Without b->lock: start (0 or -errno) / stop and join the thread. */
int blk_sync_start(struct blk_backend *b);
void blk_sync_stop(struct blk_backend *b);
#endif
