/* virtio-blk: pure request parsing/checking, the libaio backend on a temp
 * image, and the device end to end through a virtqueue in malloc'd RAM. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "fakes.h"
#include "devices/virtio/blk.h"
#include "host/blk_backend.h"
#include "virtq_driver.h"

/* ---- parsing ---- */

static struct vq_chain ch;
static struct blk_req req;
static uint8_t hdrbuf[16 + 16 * (BLK_MAX_RANGES + 1)], data[4096], status[1];

static void hdr(uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);
	memset(hdrbuf, 0, sizeof(hdrbuf));
	memcpy(hdrbuf, &t, 4);
	memcpy(hdrbuf + 8, &s, 8);
}

static void seg(uint8_t *p, uint32_t len, bool wr)
{
	ch.seg[ch.nseg++] = (struct vq_seg){ p, len, wr };
	if (wr)
		ch.in_bytes += len;
	else
		ch.out_bytes += len;
}

static void chain3(uint32_t hdr_len, uint8_t *d, uint32_t dlen, bool dwr)
{
	memset(&ch, 0, sizeof(ch));
	seg(hdrbuf, hdr_len, false);
	if (dlen)
		seg(d, dlen, dwr);
	seg(status, 1, true);
}

static const struct blk_limits lim = { .capacity = 64, .flush = true, .discard = true,
				       .write_zeroes = true };

START_TEST(parse_in_out)
{
	hdr(VIRTIO_BLK_T_IN, 8);
	chain3(16, data, 1024, true);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.type, VIRTIO_BLK_T_IN);
	ck_assert_uint_eq(req.sector, 8);
	ck_assert_uint_eq(req.data_len, 1024);
	ck_assert_uint_eq(req.written, 1025);
	ck_assert_ptr_eq(req.status, status);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_OK);

	hdr(VIRTIO_BLK_T_OUT, 63);
	chain3(16, data, 512, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.data_len, 512);
	ck_assert_uint_eq(req.niov, 1);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_OK);
	/* header and data in one segment */
	memset(&ch, 0, sizeof(ch));
	hdr(VIRTIO_BLK_T_OUT, 0);
	seg(hdrbuf, 16 + 512, false);
	seg(status, 1, true);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.data_len, 512);
	ck_assert_ptr_eq(req.iov[0].iov_base, hdrbuf + 16);
}
END_TEST

START_TEST(parse_ranges_checked)
{
	struct blk_limits ro = lim;
	ro.ro = true;
	hdr(VIRTIO_BLK_T_OUT, 64); /* past the end */
	chain3(16, data, 512, false);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_IN, UINT64_MAX); /* sector + n overflows */
	chain3(16, data, 512, true);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_IN, 0); /* not a multiple of 512 */
	chain3(16, data, 100, true);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_OUT, 0); /* write on ro */
	chain3(16, data, 512, false);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &ro), VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_IN, 0); /* read on ro is fine */
	chain3(16, data, 512, true);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &ro), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(parse_flush_getid_unknown)
{
	hdr(VIRTIO_BLK_T_FLUSH, 0);
	chain3(16, NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_OK);
	hdr(VIRTIO_BLK_T_GET_ID, 0);
	chain3(16, data, 20, true);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.data_len, 20);
	ck_assert_uint_eq(req.written, 21);
	hdr(VIRTIO_BLK_T_GET_ID, 0);
	chain3(16, data, 100, true); /* bigger buffer: still 20 bytes */
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.data_len, 20);
	hdr(99, 0);
	chain3(16, NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_UNSUPP);
	ck_assert_ptr_eq(req.status, status);
}
END_TEST

static void range(unsigned i, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint8_t *p = hdrbuf + 16 + 16 * i;
	sector = htole64(sector);
	n = htole32(n);
	flags = htole32(flags);
	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

START_TEST(parse_discard_wz)
{
	struct blk_limits ro = lim, nodisc = lim;
	ro.ro = true;
	nodisc.discard = false;
	hdr(VIRTIO_BLK_T_DISCARD, 0);
	range(0, 0, 8, 0);
	range(1, 60, 4, 0);
	chain3(48, NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(req.nranges, 2);
	ck_assert_uint_eq(req.range[1].sector, 60);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(blk_check_request(&req, &ro), VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(blk_check_request(&req, &nodisc), VIRTIO_BLK_S_UNSUPP);
	range(1, 61, 4, 0); /* past the end */
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_IOERR);
	range(1, 0, 4, VIRTIO_BLK_WZ_F_UNMAP); /* unmap on discard */
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_UNSUPP);
	hdr(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	range(0, 0, 8, VIRTIO_BLK_WZ_F_UNMAP);
	chain3(32, NULL, 0, false);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_OK);
	range(0, 0, 8, 2); /* unknown flag */
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &lim), VIRTIO_BLK_S_UNSUPP);
	/* payload not a multiple of 16, empty, too many ranges */
	chain3(40, NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_IOERR);
	chain3(16, NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_IOERR);
	chain3(16 + 16 * (BLK_MAX_RANGES + 1), NULL, 0, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(parse_malformed)
{
	hdr(VIRTIO_BLK_T_IN, 0);
	chain3(8, NULL, 0, false); /* header too short, status present */
	ck_assert_int_eq(blk_parse_request(&ch, &req), VIRTIO_BLK_S_IOERR);
	ck_assert_ptr_eq(req.status, status);
	memset(&ch, 0, sizeof(ch)); /* no status byte */
	seg(hdrbuf, 16, false);
	ck_assert_int_eq(blk_parse_request(&ch, &req), -EINVAL);
	memset(&ch, 0, sizeof(ch)); /* empty chain */
	ck_assert_int_eq(blk_parse_request(&ch, &req), -EINVAL);
}
END_TEST

/* ---- backend ---- */

static struct fake_img im;
static struct fake_blk done;

static void backend_roundtrip(bool direct)
{
	struct blk_params dc = { .direct = direct };
	struct blk_backend *b;
	char err[256];
	static uint8_t wbuf[8192] __attribute__((aligned(4096)));
	static uint8_t rbuf[8192 + 1] __attribute__((aligned(4096)));
	struct blk_limits l = lim;

	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), 0);
	ck_assert_uint_eq(blk_backend_size(b), 1 << 20);
	l.capacity = 2048;
	l.dio_align = blk_backend_dio_align(b);
	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = i * 7 + 1;
	/* write 8 KiB at sector 8 */
	memset(&req, 0, sizeof(req));
	req.type = VIRTIO_BLK_T_OUT;
	req.sector = 8;
	req.niov = 2;
	req.iov[0] = (struct iovec){ wbuf, 4096 };
	req.iov[1] = (struct iovec){ wbuf + 4096, 4096 };
	req.data_len = 8192;
	ck_assert_int_eq(blk_check_request(&req, &l), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	req.type = VIRTIO_BLK_T_FLUSH;
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	/* read back into a deliberately misaligned buffer (bounce for O_DIRECT) */
	memset(rbuf, 0, sizeof(rbuf));
	req.type = VIRTIO_BLK_T_IN;
	req.niov = 1;
	req.iov[0] = (struct iovec){ rbuf + 1, 8192 };
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(rbuf + 1, wbuf, 8192);
	/* write zeroes over the first 4 KiB of it, discard the second */
	req.type = VIRTIO_BLK_T_WRITE_ZEROES;
	req.nranges = 1;
	req.range[0] = (struct blk_range){ 8, 8, 0 };
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	req.type = VIRTIO_BLK_T_DISCARD;
	req.range[0] = (struct blk_range){ 16, 8, 0 };
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	req.type = VIRTIO_BLK_T_IN;
	memset(rbuf, 0xff, sizeof(rbuf));
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		ck_assert_uint_eq(rbuf[1 + i], 0);
	blk_backend_close(b);
	struct stat st;
	ck_assert_int_eq(stat(im.path, &st), 0);
	ck_assert_int_eq(st.st_size, 1 << 20);
	fake_img_remove(&im, -1);
}

/* Many requests in flight, slots reused across rounds: every request must
 * complete exactly once, into its own buffer (a broken free list once handed
 * one slot to two requests, so completions carried another request's data). */
static unsigned seen[64];
static void cb_many(void *opaque, const struct blk_req *r, uint64_t tag, uint8_t st)
{
	ck_assert_uint_lt(tag, 64);
	ck_assert_uint_eq(st, VIRTIO_BLK_S_OK);
	seen[tag]++;
	/* The request handed back is the one submitted with this tag. */
	ck_assert_uint_eq(r->sector, tag * 8);
}

START_TEST(backend_many_inflight)
{
	struct blk_params dc = { 0 };
	struct blk_backend *b;
	char err[256];
	static uint8_t bufs[64][4096];
	struct blk_req rq[64];

	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 8, cb_many, NULL, &b, err), 0);
	memset(seen, 0, sizeof(seen));
	for (unsigned round = 0; round < 8; round++) {
		for (unsigned i = round * 8; i < round * 8 + 8; i++) {
			memset(&rq[i], 0, sizeof(rq[i]));
			rq[i].type = VIRTIO_BLK_T_IN;
			rq[i].sector = i * 8;
			rq[i].niov = 1;
			rq[i].iov[0] = (struct iovec){ bufs[i], 4096 };
			rq[i].data_len = 4096;
			ck_assert_int_eq(blk_backend_submit(b, &rq[i], i), 0);
		}
		/* A ninth request finds no free slot. */
		ck_assert_int_eq(blk_backend_submit(b, &rq[0], 0), -EBUSY);
		ck_assert_int_eq(blk_backend_drain(b, 5000), 0);
		ck_assert_uint_eq(blk_backend_inflight(b), 0);
	}
	for (unsigned i = 0; i < 64; i++)
		ck_assert_uint_eq(seen[i], 1);
	blk_backend_close(b);
	fake_img_remove(&im, -1);
}
END_TEST

START_TEST(backend_writeback) { backend_roundtrip(false); }
END_TEST
START_TEST(backend_direct) { backend_roundtrip(true); }
END_TEST

START_TEST(backend_open_errors)
{
	struct blk_params dc = { 0 };
	struct blk_backend *b, *b2;
	char err[256];

	close(fake_img_create(&im, 1000));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "multiple of 512"));
	dc.path = im.dir;
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), -EISDIR);
	ck_assert_ptr_nonnull(strstr(err, "directory"));
	dc.path = "/nonexistent/disk.img";
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/disk.img"));
	fake_img_remove(&im, -1);

	close(fake_img_create(&im, 4096));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), 0);
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b2, err), -EAGAIN);
	ck_assert_ptr_nonnull(strstr(err, "in use by another VM"));
	dc.ro = true; /* read lock also conflicts with a writer */
	ck_assert_int_lt(blk_backend_open(&dc, 8, fake_blk_done, &done, &b2, err), 0);
	blk_backend_close(b);
	/* two readers are fine; a writer is refused */
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), 0);
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b2, err), 0);
	/* ro backend refuses writes even if asked */
	memset(&req, 0, sizeof(req));
	req.type = VIRTIO_BLK_T_OUT;
	req.niov = 1;
	req.iov[0] = (struct iovec){ data, 512 };
	req.data_len = 512;
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_IOERR);
	dc.ro = false;
	ck_assert_int_lt(blk_backend_open(&dc, 8, fake_blk_done, &done, &b2, err), 0);
	blk_backend_close(b);
	blk_backend_close(b2);
	fake_img_remove(&im, -1);
}
END_TEST

/* ---- device end to end ---- */

#define RAM_SIZE (1u << 20)
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
static struct vqd_transport tp;

static struct vqd BQ;     /* device_e2e's queue, driver side */

static void d_desc(uint8_t *ram, unsigned i, uint64_t addr, uint32_t len, uint16_t fl, uint16_t nx)
{
	vqd_set_desc(&BQ, BQ.desc, i, addr, len, fl, nx);
}

static void d_kick(struct virtio_dev *vd, uint8_t *ram, uint16_t head)
{
	vqd_publish(&BQ, head);
	vqd_dev_kick(vd, 0);
}

static uint16_t used_idx(uint8_t *ram)
{
	return vqd_used_idx(&BQ);
}

static void wait_used(struct virtio_dev *vd, uint8_t *ram, uint16_t want)
{
	for (int i = 0; i < 500 && used_idx(ram) != want; i++) {
		struct pollfd p = { virtio_blk_poll_fd(vd), POLLIN, 0 };
		poll(&p, 1, 10);
		virtio_blk_poll(vd);
	}
	ck_assert_uint_eq(used_idx(ram), want);
}

START_TEST(device_e2e)
{
	struct blk_params dc = { .serial = "SERIAL-1" };
	struct guest_mem mem = { .nr = 1 };
	struct virtio_dev *vd;
	uint8_t *ram = calloc(1, RAM_SIZE), cfg[8];
	char err[256];

	mem.r[0] = (struct gmem_region){ 0, RAM_SIZE, ram };
	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(virtio_blk_create(&dc, NULL, &vd, err), 0);
	vqd_transport_attach(&tp, vd, &mem);
	ck_assert_uint_eq(vd->ops->device_id, VIRTIO_ID_BLOCK);
	vd->ops->config_read(vd, 0, cfg, 8);
	ck_assert_uint_eq(le64toh(*(uint64_t *)cfg), 2048);
	vqd_init_at(&BQ, ram, 16, DESC, AVAIL, USED, false);
	ck_assert_int_eq(vqd_attach(&BQ, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);

	/* OUT: header at 0x10000, data at 0x11000, status at 0x12000 */
	hdr(VIRTIO_BLK_T_OUT, 4);
	memcpy(ram + 0x10000, hdrbuf, 16);
	memset(ram + 0x11000, 0xab, 1024);
	d_desc(ram, 0, 0x10000, 16, VRING_DESC_F_NEXT, 1);
	d_desc(ram, 1, 0x11000, 1024, VRING_DESC_F_NEXT, 2);
	d_desc(ram, 2, 0x12000, 1, VRING_DESC_F_WRITE, 0);
	ram[0x12000] = 0xff;
	d_kick(vd, ram, 0);
	wait_used(vd, ram, 1);
	ck_assert_uint_eq(ram[0x12000], VIRTIO_BLK_S_OK);
	ck_assert_uint_ge(tp.notified[0], 1);
	/* IN back into 0x14000 */
	hdr(VIRTIO_BLK_T_IN, 4);
	memcpy(ram + 0x10000, hdrbuf, 16);
	d_desc(ram, 3, 0x10000, 16, VRING_DESC_F_NEXT, 4);
	d_desc(ram, 4, 0x14000, 1024, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	d_desc(ram, 5, 0x12000, 1, VRING_DESC_F_WRITE, 0);
	d_kick(vd, ram, 3);
	wait_used(vd, ram, 2);
	ck_assert_uint_eq(ram[0x12000], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ram[0x14000 + 1023], 0xab);
	/* out of range -> IOERR */
	hdr(VIRTIO_BLK_T_IN, 2047);
	memcpy(ram + 0x10000, hdrbuf, 16);
	d_kick(vd, ram, 3);
	wait_used(vd, ram, 3);
	ck_assert_uint_eq(ram[0x12000], VIRTIO_BLK_S_IOERR);
	/* GET_ID */
	hdr(VIRTIO_BLK_T_GET_ID, 0);
	memcpy(ram + 0x10000, hdrbuf, 16);
	d_desc(ram, 4, 0x14000, 20, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	d_kick(vd, ram, 3);
	wait_used(vd, ram, 4);
	ck_assert_uint_eq(ram[0x12000], VIRTIO_BLK_S_OK);
	ck_assert_str_eq((char *)ram + 0x14000, "SERIAL-1");
	/* a loop: device needs reset, no crash */
	d_desc(ram, 6, 0x10000, 16, VRING_DESC_F_NEXT, 6);
	d_kick(vd, ram, 6);
	ck_assert_uint_eq(tp.needs_reset, 1);
	ck_assert(vd->needs_reset);
	vqd_dev_reset(vd);
	virtio_dev_destroy(vd);
	fake_img_remove(&im, -1);
	free(ram);
}
END_TEST

/* EVENT_IDX negotiated: request after request is kicked (avail_event
 * published when the device drained the ring) and completed. */
START_TEST(device_event_idx)
{
	struct blk_params dc = { .serial = "S" };
	struct guest_mem mem;
	struct virtio_dev *vd;
	struct vqd dq;
	char err[256];
	uint8_t *ram = vqd_ram_init(&mem, RAM_SIZE);

	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(virtio_blk_create(&dc, NULL, &vd, err), 0);
	vqd_transport_attach(&tp, vd, &mem);
	vqd_init(&dq, ram, 16, DESC, true);
	ck_assert_int_eq(vqd_attach(&dq, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
	for (unsigned i = 0; i < 6; i++) {
		struct vqd_buf b[3] = { { 0x10000, 16, false }, { 0x11000, 512, false },
					{ 0x12000, 1, true } };
		hdr(VIRTIO_BLK_T_OUT, i);
		memcpy(ram + 0x10000, hdrbuf, 16);
		ram[0x12000] = 0xff;
		vqd_add(&dq, b, 3);
		ck_assert_msg(vqd_kick_needed(&dq), "request %u: the driver would not kick", i);
		vqd_dev_kick(vd, 0);
		for (int k = 0; k < 500 && vqd_used_idx(&dq) != i + 1; k++) {
			struct pollfd p = { virtio_blk_poll_fd(vd), POLLIN, 0 };
			poll(&p, 1, 10);
			virtio_blk_poll(vd);
		}
		ck_assert_uint_eq(vqd_used_idx(&dq), i + 1);
		ck_assert_uint_eq(ram[0x12000], VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(vqd_avail_event(&dq), i + 1);
	}
	vqd_dev_reset(vd);
	virtio_dev_destroy(vd);
	fake_img_remove(&im, -1);
	vqd_ram_free(&mem);
}
END_TEST

/* Issue 10 finding 4: BLK_BUDGET chains per callback, then a re-kick. The
 * requests fail their range check, so they complete without any I/O. */
START_TEST(device_budget_returns_control)
{
	struct blk_params dc = { 0 };
	struct guest_mem mem;
	struct virtio_dev *vd;
	struct vqd dq;
	char err[256];
	uint8_t *ram = vqd_ram_init(&mem, RAM_SIZE);

	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(virtio_blk_create(&dc, NULL, &vd, err), 0);
	vqd_transport_attach(&tp, vd, &mem);
	tp.can_rekick = true;
	vqd_init(&dq, ram, 256, DESC, false); /* 2 descriptors per chain */
	ck_assert_int_eq(vqd_attach(&dq, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
	hdr(VIRTIO_BLK_T_IN, 1u << 30);
	memcpy(ram + 0x40000, hdrbuf, 16);
	for (unsigned i = 0; i < BLK_BUDGET + 7; i++) {
		struct vqd_buf b[2] = { { 0x40000, 16, false }, { 0x41000 + i, 1, true } };
		vqd_add(&dq, b, 2);
	}
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), BLK_BUDGET);
	ck_assert_uint_eq(tp.rekicks[0], 1);
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), BLK_BUDGET + 7);
	ck_assert_uint_eq(ram[0x41000], VIRTIO_BLK_S_IOERR);
	vqd_dev_reset(vd);
	virtio_dev_destroy(vd);
	fake_img_remove(&im, -1);
	vqd_ram_free(&mem);
}
END_TEST

/* seg_max / size_max as advertised (issue 10 finding 3). */
START_TEST(limits_enforced)
{
	struct blk_limits l = lim;
	l.seg_max = 2;
	l.size_max = 1024;
	hdr(VIRTIO_BLK_T_IN, 0);
	chain3(16, data, 1024, true);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &l), VIRTIO_BLK_S_OK);
	chain3(16, data, 2048, true);                   /* a segment above size_max */
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &l), VIRTIO_BLK_S_IOERR);
	memset(&ch, 0, sizeof(ch));                     /* three data segments */
	seg(hdrbuf, 16, false);
	for (int i = 0; i < 3; i++)
		seg(data + 512 * i, 512, true);
	seg(status, 1, true);
	blk_parse_request(&ch, &req);
	ck_assert_int_eq(blk_check_request(&req, &l), VIRTIO_BLK_S_IOERR);
}
END_TEST

/* Issue 10 finding 3: with cache=none, 16 segments on one small unaligned
 * buffer make a 1 MiB request that needs a 1 MiB bounce buffer. At most
 * BLK_BOUNCE_MAX bytes of bounce are in flight: beyond that a request waits
 * (-EAGAIN) and a single request above it fails. */
START_TEST(backend_bounce_capped)
{
	struct blk_params dc = { .direct = true };
	struct blk_backend *b;
	char err[256];
	static uint8_t buf[64 * 1024 + 1] __attribute__((aligned(4096)));
	static struct blk_req rq;
	unsigned n = 0;
	int r;

	close(fake_img_create(&im, 64 << 20));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 256, fake_blk_done, &done, &b, err), 0);
	memset(&rq, 0, sizeof(rq));
	rq.type = VIRTIO_BLK_T_IN;
	rq.niov = 16;
	for (unsigned i = 0; i < 16; i++)
		rq.iov[i] = (struct iovec){ buf + 1, 64 * 1024 };
	rq.data_len = 1 << 20;
	while ((r = blk_backend_submit(b, &rq, n)) == 0 && n < 256) {
		n++;
		rq.sector = (n % 32) * 2048;
	}
	ck_assert_int_eq(r, -EAGAIN);
	ck_assert_uint_eq(n, BLK_BOUNCE_MAX >> 20);
	ck_assert_uint_le(blk_backend_bounce_bytes(b), BLK_BOUNCE_MAX);
	ck_assert_int_eq(blk_backend_drain(b, 5000), 0);
	ck_assert_uint_eq(blk_backend_bounce_bytes(b), 0);
	ck_assert_int_eq(blk_backend_submit(b, &rq, 1), 0); /* room again */
	ck_assert_int_eq(blk_backend_drain(b, 5000), 0);
	/* One request above the cap: an error, not a huge allocation. */
	rq.niov = 1;
	rq.iov[0] = (struct iovec){ buf + 1, BLK_BOUNCE_MAX + 512 };
	rq.data_len = BLK_BOUNCE_MAX + 512;
	rq.sector = 0;
	int n0 = done.n;
	ck_assert_int_eq(blk_backend_submit(b, &rq, 7), 0);
	ck_assert_int_eq(done.n, n0 + 1);
	ck_assert_uint_eq(done.st, VIRTIO_BLK_S_IOERR);
	blk_backend_close(b);
	fake_img_remove(&im, -1);
}
END_TEST

/* Issue 10 finding 4: DISCARD / WRITE_ZEROES (up to 32 x 2 GiB) run on the
 * backend's sync thread: submit returns before the work is done and the
 * completion comes through the eventfd like any AIO. */
START_TEST(backend_ranges_off_thread)
{
	struct blk_params dc = { 0 };
	struct blk_backend *b;
	char err[256];

	close(fake_img_create(&im, 1 << 20));
	dc.path = im.path;
	ck_assert_int_eq(blk_backend_open(&dc, 8, fake_blk_done, &done, &b, err), 0);
	for (unsigned t = 0; t < 2; t++) {
		memset(&req, 0, sizeof(req));
		req.type = t ? VIRTIO_BLK_T_DISCARD : VIRTIO_BLK_T_WRITE_ZEROES;
		req.nranges = 1;
		req.range[0] = (struct blk_range){ 0, 2048, 0 };
		int n0 = done.n;
		ck_assert_int_eq(blk_backend_submit(b, &req, 42), 0);
		ck_assert_int_eq(done.n, n0); /* not run inside submit */
		while (done.n == n0) {
			struct pollfd p = { blk_backend_event_fd(b), POLLIN, 0 };
			ck_assert_int_eq(poll(&p, 1, 5000), 1);
			blk_backend_complete(b);
		}
		ck_assert_uint_eq(done.st, VIRTIO_BLK_S_OK);
	}
	blk_backend_close(b);
	fake_img_remove(&im, -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tp_ = tcase_create("parse");
	tcase_add_test(tp_, parse_in_out);
	tcase_add_test(tp_, parse_ranges_checked);
	tcase_add_test(tp_, parse_flush_getid_unknown);
	tcase_add_test(tp_, parse_discard_wz);
	tcase_add_test(tp_, parse_malformed);
	tcase_add_test(tp_, limits_enforced);
	suite_add_tcase(s, tp_);
	TCase *tb = tcase_create("backend");
	tcase_set_timeout(tb, 30);
	tcase_add_test(tb, backend_writeback);
	tcase_add_test(tb, backend_direct);
	tcase_add_test(tb, backend_many_inflight);
	tcase_add_test(tb, backend_open_errors);
	tcase_add_test(tb, device_e2e);
	tcase_add_test(tb, device_event_idx);
	tcase_add_test(tb, device_budget_returns_control);
	tcase_add_test(tb, backend_bounce_capped);
	tcase_add_test(tb, backend_ranges_off_thread);
	suite_add_tcase(s, tb);
	return run_suite(s);
}
