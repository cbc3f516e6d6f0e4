/* virtio-blk (virtio 1.x section 5.2): device model and request parsing.
 * Parsing is pure (blk_parse_request + blk_check_request) so it can be unit
 * tested and fuzzed; I/O goes to blk_backend (libaio). */
#ifndef MYVMM_VIRTIO_BLK_H
#define MYVMM_VIRTIO_BLK_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/virtio/virtio.h"

struct evloop;

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WZ_F_UNMAP 1u

#define BLK_SECTOR 512u
#define BLK_HDR_SIZE 16u
#define BLK_MAX_RANGES 32u        /* max_discard_seg / max_write_zeroes_seg */
#define BLK_MAX_RANGE_SECTORS (1u << 22)   /* 2 GiB per discard/write-zeroes range */
#define BLK_QUEUE_SIZE 256u       /* QueueSizeMax we offer */
#define BLK_SIZE_MAX (1u << 20)   /* size_max: largest segment */
#define BLK_SEG_MAX (VQ_MAX_SEGS - 2) /* seg_max: data segments (header + status) */
#define BLK_CONFIG_SIZE 60u       /* up to write_zeroes_may_unmap + padding */
#define BLK_RESET_DRAIN_MS 10000u /* a reset waits this long for in-flight I/O */
#define BLK_BUDGET 64u            /* chains per callback, then a re-kick */

/* Which engine does a raw image's I/O (--disk ...,aio=, QEMU's names).
 * AUTO: io_uring when the kernel allows it (probed at open), else libaio
 * (native) for O_DIRECT reads and writes and worker threads for the rest. */
enum blk_aio { BLK_AIO_AUTO, BLK_AIO_IO_URING, BLK_AIO_NATIVE, BLK_AIO_THREADS };

/* What a virtio-blk device is made of (the machine converts its options). */
struct blk_params {
	const char *path;
	bool ro;
	bool direct;              /* O_DIRECT, no host page cache (cache=none) */
	int format;               /* enum disk_format (host/disk_format.h): 0 = probe */
	const char *serial;       /* GET_ID, up to 20 bytes used; NULL: none */
	enum blk_aio aio;
};

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* One parsed request. iov points into guest RAM (from the vq_chain). */
struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;        /* the guest's status byte */
	uint32_t data_len;      /* bytes in iov */
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS];
	unsigned nranges;       /* DISCARD / WRITE_ZEROES */
	struct blk_range range[BLK_MAX_RANGES];
	uint32_t written;       /* bytes the device writes on success (data + status) */
};

/* What the device allows, for blk_check_request. */
struct blk_limits {
	uint64_t capacity;      /* 512-byte sectors */
	bool ro;
	bool flush, discard, write_zeroes;
	uint32_t dio_align;     /* 0 or the O_DIRECT offset/length alignment */
	uint32_t size_max;      /* 0 or the largest data segment (5.2.4) */
	uint32_t seg_max;       /* 0 or the most data segments */
};

/* Pure: splits a chain into header / payload / status (5.2.6). Returns
 * VIRTIO_BLK_S_OK with *out filled, VIRTIO_BLK_S_IOERR / _UNSUPP when the
 * request must complete with that status (out->status is then valid), or
 * -EINVAL when there is no device-writable status byte (the driver broke the
 * queue: the caller raises NEEDS_RESET). */
int blk_parse_request(const struct vq_chain *c, struct blk_req *out);
/* Pure: checks a parsed request against the image (ranges, ro, features).
 * Returns a VIRTIO_BLK_S_* status. */
int blk_check_request(const struct blk_req *r, const struct blk_limits *lim);

/* Creates a virtio-blk device for cfg; completions are watched on io_loop
 * (NULL: the caller polls virtio_blk_poll_fd()). *out has ops/priv set; the
 * transport fills tops/transport/mem. Returns 0 or -errno with one line in
 * err naming the image and the fix. virtio_dev_destroy waits for in-flight
 * I/O, closes the image and frees the device. */
int virtio_blk_create(const struct blk_params *cfg, struct evloop *io_loop,
		      struct virtio_dev **out, char err[256]);
/* PATCH /drives (I/O thread): serves cfg->path from now on (cfg->ro and
 * serial as at create; the format probed like at create, so a non-raw
 * image is refused). The new image is opened and locked first (an error
 * leaves the old one serving); then in-flight I/O on the old image is
 * drained and flushed, the capacity updated, the old image closed (its
 * lock released) and a config-change interrupt sent. The same file again
 * re-reads its size. Returns 0 or -errno with one line in err. */
int virtio_blk_swap(struct virtio_dev *vd, const struct blk_params *cfg, char err[256]);
/* The completion eventfd (for tests / loops other than io_loop). */
int virtio_blk_poll_fd(struct virtio_dev *vd);
/* Reaps completions (what the evloop callback does). */
void virtio_blk_poll(struct virtio_dev *vd);
/* For a snapshot (vCPUs stopped): waits up to timeout_ms per step until no
 * request is in flight or stalled, every completion is in the used ring,
 * and the image's data is on stable storage (fdatasync). Any thread may
 * call it, the event loop's too: it takes the device lock and reaps
 * completions itself. 0, -ETIMEDOUT or -EIO (the flush failed). */
int virtio_blk_quiesce(struct virtio_dev *vd, unsigned timeout_ms);
/* Requests this device completed (metrics; Firecracker's block fields).
 * Bytes count the data of successful reads and writes. */
struct virtio_blk_stats {
	uint64_t read_count, read_bytes, write_count, write_bytes, flush_count;
	uint64_t invalid_reqs;    /* refused by parsing/checks (IOERR/UNSUPP at once) */
	uint64_t execute_fails;   /* the backend failed them (IOERR) */
};
/* Any thread: the counters so far (relaxed atomic reads). */
void virtio_blk_get_stats(struct virtio_dev *vd, struct virtio_blk_stats *st);
/* "io_uring", "native" or "threads" (for status output). */
const char *virtio_blk_engine(struct virtio_dev *vd);
#endif
