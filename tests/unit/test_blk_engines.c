/* The disk backend's three engines (io_uring, native = libaio, threads)
 * against real temporary files: bytes on disk, flush, discard and write
 * zeroes reading back zeroes, batched submission, errors surfacing as
 * VIRTIO_BLK_S_IOERR, and the io_uring probe failing (a seccomp filter
 * refusing io_uring_setup, as container runtimes do) falling back to
 * libaio -- or failing with one line when aio=io_uring was forced.
 * CK_FORK=yes (ctest): each test runs in its own process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "fakes.h"
#include "host/blk_backend.h"

static struct fake_img im;
static struct fake_blk done;

static struct blk_req req;
static const char *const names[] = { "auto", "io_uring", "native", "threads" };

static struct blk_backend *open_eng(enum blk_aio aio, bool direct, unsigned n)
{
	struct blk_params p = { .path = im.path, .direct = direct, .aio = aio };
	struct blk_backend *b = NULL;
	char err[256] = "";

	ck_assert_msg(blk_backend_open(&p, n, fake_blk_done, &done, &b, err) == 0, "open: %s", err);
	ck_assert_str_eq(blk_backend_engine(b), names[aio]);
	return b;
}

static void rw(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.sector = sector;
	req.niov = 1;
	req.iov[0] = (struct iovec){ buf, len };
	req.data_len = len;
}

static void ranges(uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.nranges = 1;
	req.range[0] = (struct blk_range){ sector, n, flags };
}

/* Write, flush, read back (aligned and not), write zeroes (with and without
 * UNMAP), discard: checked through the backend and through the file. */
static void roundtrip(enum blk_aio aio, bool direct)
{
	static uint8_t w[3][16384] __attribute__((aligned(4096)));
	static uint8_t r[16384 + 1] __attribute__((aligned(4096)));
	static uint8_t f[16384];
	int fd = fake_img_create(&im, 4 << 20);
	struct blk_backend *b = open_eng(aio, direct, 16);

	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < sizeof(w[k]); i++)
			w[k][i] = (uint8_t)(i * 7 + k * 31 + 1);
	/* three 16 KiB writes, two segments each */
	for (unsigned k = 0; k < 3; k++) {
		memset(&req, 0, sizeof(req));
		req.type = VIRTIO_BLK_T_OUT;
		req.sector = 64 + k * 32;
		req.niov = 2;
		req.iov[0] = (struct iovec){ w[k], 4096 };
		req.iov[1] = (struct iovec){ w[k] + 4096, 12288 };
		req.data_len = 16384;
		ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	}
	memset(&req, 0, sizeof(req));
	req.type = VIRTIO_BLK_T_FLUSH;
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	for (unsigned k = 0; k < 3; k++) {
		ck_assert_int_eq(pread(fd, f, sizeof(f), (64 + k * 32) * 512), sizeof(f));
		ck_assert_mem_eq(f, w[k], sizeof(f));
	}
	/* read back, into a misaligned buffer too (bounce under O_DIRECT) */
	rw(VIRTIO_BLK_T_IN, 96, r, 16384);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(r, w[1], 16384);
	rw(VIRTIO_BLK_T_IN, 128, r + 1, 16384);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(r + 1, w[2], 16384);
	/* zeroes: write-zeroes plain, write-zeroes UNMAP, discard */
	ranges(VIRTIO_BLK_T_WRITE_ZEROES, 64, 32, 0);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	ranges(VIRTIO_BLK_T_WRITE_ZEROES, 96, 32, VIRTIO_BLK_WZ_F_UNMAP);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	ranges(VIRTIO_BLK_T_DISCARD, 128, 32, 0);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	for (unsigned k = 0; k < 3; k++) {
		memset(r, 0xff, sizeof(r));
		rw(VIRTIO_BLK_T_IN, 64 + k * 32, r, 16384);
		ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
		ck_assert_int_eq(pread(fd, f, sizeof(f), (64 + k * 32) * 512), sizeof(f));
		for (unsigned i = 0; i < 16384; i++) {
			ck_assert_uint_eq(r[i], 0);
			ck_assert_uint_eq(f[i], 0);
		}
	}
	ck_assert_int_eq(blk_backend_flush_drain(b, 5000), 0);
	blk_backend_close(b);
	struct stat st;
	ck_assert_int_eq(stat(im.path, &st), 0);
	ck_assert_int_eq(st.st_size, 4 << 20); /* never resized */
	fake_img_remove(&im, fd);
}

/* An O_DIRECT open drops the image's clean page-cache pages (with them,
 * io_uring punts every O_DIRECT read to a kernel worker). */
START_TEST(direct_open_drops_cache)
{
	static uint8_t buf[1 << 16];
	int fd = fake_img_create(&im, 1 << 20);
	unsigned char vec[256];
	void *map;
	unsigned cached = 0;

	memset(buf, 3, sizeof(buf));
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), i * (off_t)sizeof(buf)), sizeof(buf));
	ck_assert_int_eq(fdatasync(fd), 0);
	map = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(mincore(map, 1 << 20, vec), 0);
	for (int i = 0; i < 256; i++)
		cached += vec[i] & 1;
	ck_assert_uint_gt(cached, 0); /* written buffered: in the page cache */
	struct blk_backend *b = open_eng(BLK_AIO_NATIVE, true, 8);
	ck_assert_int_eq(mincore(map, 1 << 20, vec), 0);
	cached = 0;
	for (int i = 0; i < 256; i++)
		cached += vec[i] & 1;
	ck_assert_uint_eq(cached, 0);
	blk_backend_close(b);
	munmap(map, 1 << 20);
	fake_img_remove(&im, fd);
}
END_TEST

START_TEST(uring_buffered) { roundtrip(BLK_AIO_IO_URING, false); }
END_TEST
START_TEST(uring_direct) { roundtrip(BLK_AIO_IO_URING, true); }
END_TEST
START_TEST(native_buffered) { roundtrip(BLK_AIO_NATIVE, false); }
END_TEST
START_TEST(native_direct) { roundtrip(BLK_AIO_NATIVE, true); }
END_TEST
START_TEST(threads_buffered) { roundtrip(BLK_AIO_THREADS, false); }
END_TEST
START_TEST(threads_direct) { roundtrip(BLK_AIO_THREADS, true); }
END_TEST

/* 64 requests batched between plug and unplug (one kernel call), each
 * completing once with its own data, slots reused over 4 rounds; a
 * 32-range write-zeroes among them. Every engine. */
static unsigned seen[65];
static void cb_many(void *opaque, const struct blk_req *r, uint64_t tag, uint8_t st)
{
	ck_assert_uint_lt(tag, 65);
	ck_assert_uint_eq(st, VIRTIO_BLK_S_OK);
	seen[tag]++;
	if (tag < 64)
		ck_assert_uint_eq(r->sector, tag * 8);
	done.n++;
}

static void batched(enum blk_aio aio)
{
	static uint8_t bufs[64][4096] __attribute__((aligned(4096)));
	static struct blk_req rq[64];
	int fd = fake_img_create(&im, 1 << 20);
	struct blk_params p = { .path = im.path, .direct = true, .aio = aio };
	struct blk_backend *b;
	char err[256];

	for (unsigned i = 0; i < 64; i++) {
		memset(bufs[i], (int)i + 1, 4096);
		ck_assert_int_eq(pwrite(fd, bufs[i], 4096, i * 4096), 4096);
	}
	fsync(fd);
	ck_assert_int_eq(blk_backend_open(&p, 17, cb_many, NULL, &b, err), 0);
	memset(seen, 0, sizeof(seen));
	for (unsigned round = 0; round < 4; round++) {
		blk_backend_plug(b);
		for (unsigned i = round * 16; i < round * 16 + 16; i++) {
			memset(&rq[i], 0, sizeof(rq[i]));
			rq[i].type = VIRTIO_BLK_T_IN;
			rq[i].sector = i * 8;
			rq[i].niov = 1;
			memset(bufs[i], 0, 4096);
			rq[i].iov[0] = (struct iovec){ bufs[i], 4096 };
			rq[i].data_len = 4096;
			ck_assert_int_eq(blk_backend_submit(b, &rq[i], i), 0);
		}
		ck_assert_int_eq(done.n, (int)round * 16); /* nothing ran yet */
		blk_backend_unplug(b);
		ck_assert_int_eq(blk_backend_drain(b, 5000), 0);
		ck_assert_int_eq(done.n, (int)(round + 1) * 16);
	}
	for (unsigned i = 0; i < 64; i++) {
		ck_assert_uint_eq(seen[i], 1);
		ck_assert_uint_eq(bufs[i][0], i + 1);
		ck_assert_uint_eq(bufs[i][4095], i + 1);
	}
	/* 32 ranges in one request: sectors 0, 16, 32, ... (every other 4 KiB) */
	memset(&req, 0, sizeof(req));
	req.type = VIRTIO_BLK_T_WRITE_ZEROES;
	req.nranges = 32;
	for (unsigned i = 0; i < 32; i++)
		req.range[i] = (struct blk_range){ i * 16, 8, i & 1 ? VIRTIO_BLK_WZ_F_UNMAP : 0 };
	ck_assert_int_eq(blk_backend_submit(b, &req, 64), 0);
	ck_assert_int_eq(blk_backend_drain(b, 5000), 0);
	ck_assert_uint_eq(seen[64], 1);
	blk_backend_close(b);
	for (unsigned i = 0; i < 64; i++) {
		uint8_t c;
		ck_assert_int_eq(pread(fd, &c, 1, i * 4096 + 100), 1);
		ck_assert_uint_eq(c, i % 2 ? i + 1 : 0);
	}
	fake_img_remove(&im, fd);
}

START_TEST(batched_uring) { batched(BLK_AIO_IO_URING); }
END_TEST
START_TEST(batched_native) { batched(BLK_AIO_NATIVE); }
END_TEST
START_TEST(batched_threads) { batched(BLK_AIO_THREADS); }
END_TEST

/* Errors from the kernel come back as IOERR: reads past the end of an
 * image that shrank under the VM (short transfer, retried, still short),
 * and an O_DIRECT transfer the kernel refuses (EINVAL: misaligned). */
static void errors(enum blk_aio aio)
{
	static uint8_t buf[8192] __attribute__((aligned(4096)));
	int fd = fake_img_create(&im, 1 << 20);
	struct blk_backend *b = open_eng(aio, false, 8);

	ck_assert_int_eq(ftruncate(fd, 512 * 1024), 0);
	rw(VIRTIO_BLK_T_IN, 1020, buf, 8192); /* straddles the new end */
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_IOERR);
	rw(VIRTIO_BLK_T_IN, 2000, buf, 4096); /* wholly beyond it */
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_IOERR);
	rw(VIRTIO_BLK_T_IN, 8, buf, 4096); /* still fine before it */
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	blk_backend_close(b);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	/* allocated blocks: O_DIRECT reads of a hole are not checked */
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(pwrite(fd, buf, 8192, 4096), 8192);
	ck_assert_int_eq(fsync(fd), 0);
	b = open_eng(aio, true, 8);
	rw(VIRTIO_BLK_T_IN, 8, buf, 100); /* 100 bytes: O_DIRECT refuses it */
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_IOERR);
	rw(VIRTIO_BLK_T_OUT, 8, buf, 100);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_IOERR);
	blk_backend_close(b);
	fake_img_remove(&im, fd);
}

START_TEST(errors_uring) { errors(BLK_AIO_IO_URING); }
END_TEST
START_TEST(errors_native) { errors(BLK_AIO_NATIVE); }
END_TEST
START_TEST(errors_threads) { errors(BLK_AIO_THREADS); }
END_TEST

/* A seccomp filter refusing io_uring_setup with EPERM (what Docker's
 * default profile does): auto falls back to libaio, which works; a forced
 * aio=io_uring fails with one line naming the cause and the fix. */
START_TEST(uring_probe_refused)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct blk_params p = { .aio = BLK_AIO_IO_URING };
	struct blk_backend *b;
	char err[256] = "";
	int fd = fake_img_create(&im, 1 << 20);

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0), 0);
	ck_assert_int_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
	p.path = im.path;
	ck_assert_int_eq(blk_backend_open(&p, 8, fake_blk_done, &done, &b, err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, im.path));
	ck_assert_ptr_nonnull(strstr(err, "io_uring unavailable"));
	ck_assert_ptr_nonnull(strstr(err, "aio=native"));
	ck_assert_ptr_null(strchr(err, '\n'));
	/* the image is not left locked by the failed open */
	b = open_eng(BLK_AIO_NATIVE, false, 8);
	blk_backend_close(b);
	p.aio = BLK_AIO_AUTO;
	ck_assert_int_eq(blk_backend_open(&p, 8, fake_blk_done, &done, &b, err), 0);
	ck_assert_str_eq(blk_backend_engine(b), "native");
	memset(buf, 0x5a, sizeof(buf));
	rw(VIRTIO_BLK_T_OUT, 8, buf, 4096);
	ck_assert_uint_eq(fake_blk_run(b, &done, &req), VIRTIO_BLK_S_OK);
	blk_backend_close(b);
	uint8_t c;
	ck_assert_int_eq(pread(fd, &c, 1, 4096 + 7), 1);
	ck_assert_uint_eq(c, 0x5a);
	fake_img_remove(&im, fd);
}
END_TEST

/* Without a filter, auto picks io_uring on this kernel (the CI host
 * allows it: kernel.io_uring_disabled = 0); the test hook the boot tests
 * use makes the probe fail the same way as the filter. */
START_TEST(uring_auto_and_hook)
{
	int fd = fake_img_create(&im, 1 << 20);
	struct blk_params p = { .path = im.path };
	struct blk_backend *b;
	char err[256];

	ck_assert_int_eq(blk_backend_open(&p, 8, fake_blk_done, &done, &b, err), 0);
#ifdef HAVE_LIBURING
	ck_assert_str_eq(blk_backend_engine(b), "io_uring");
#else
	ck_assert_str_eq(blk_backend_engine(b), "native");
#endif
	blk_backend_close(b);
	setenv("MYVMM_TEST_URING_FAIL", "1", 1);
	ck_assert_int_eq(blk_backend_open(&p, 8, fake_blk_done, &done, &b, err), 0);
	ck_assert_str_eq(blk_backend_engine(b), "native");
	blk_backend_close(b);
	unsetenv("MYVMM_TEST_URING_FAIL");
	fake_img_remove(&im, fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk_engines");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
#ifdef HAVE_LIBURING
	tcase_add_test(tc, uring_buffered);
	tcase_add_test(tc, uring_direct);
	tcase_add_test(tc, batched_uring);
	tcase_add_test(tc, errors_uring);
	tcase_add_test(tc, uring_probe_refused);
#endif
	tcase_add_test(tc, native_buffered);
	tcase_add_test(tc, native_direct);
	tcase_add_test(tc, threads_buffered);
	tcase_add_test(tc, threads_direct);
	tcase_add_test(tc, batched_native);
	tcase_add_test(tc, batched_threads);
	tcase_add_test(tc, errors_native);
	tcase_add_test(tc, errors_threads);
	tcase_add_test(tc, uring_auto_and_hook);
	tcase_add_test(tc, direct_open_drops_cache);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
