/* The image format probe, on real images made by qemu-img, and the refusal
 * to serve a non-raw image as raw (blk backend and the decision helper). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "cli/config.h"
#include "host/blk_backend.h"
#include "host/disk_format.h"

static char dir[64];

static void make_dir(void)
{
	strcpy(dir, "/tmp/myvmm-fmt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Creates DIR/img.FMT with qemu-img; returns its path (static buffer). */
static const char *qemu_img(const char *fmt, const char *opts)
{
	static char path[128];
	char cmd[512];
	snprintf(path, sizeof(path), "%s/img.%s", dir, fmt);
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f %s %s %s 16M", fmt, opts, path);
	/* Up to 3 tries: for luks, qemu-img times its key derivation on this
	 * thread's CPU clock and on a loaded host sometimes gives up ("Unable
	 * to get accurate CPU usage"); the image it makes is then absent. */
	int rc = -1;
	for (int i = 0; i < 3 && rc != 0; i++)
		rc = system(cmd);
	ck_assert_msg(rc == 0, "'%s' failed: qemu-img is in qemu-utils", cmd);
	return path;
}

static enum disk_format probe_path(const char *path)
{
	enum disk_format f = DISK_FMT_AUTO;
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(disk_format_probe_fd(fd, &f), 0);
	close(fd);
	return f;
}

static const struct {
	const char *fmt, *opts;
	enum disk_format want;
} cases[] = {
	{ "raw", "", DISK_FMT_RAW },
	{ "qcow2", "", DISK_FMT_QCOW2 },
	{ "qcow", "", DISK_FMT_QCOW },
	{ "qed", "", DISK_FMT_QED },
	{ "vmdk", "", DISK_FMT_VMDK },
	{ "vdi", "", DISK_FMT_VDI },
	{ "vhdx", "", DISK_FMT_VHDX },
	{ "vpc", "", DISK_FMT_VPC },
	{ "parallels", "", DISK_FMT_PARALLELS },
	{ "luks", "--object secret,id=s0,data=pw -o key-secret=s0,iter-time=100", DISK_FMT_LUKS },
};

START_TEST(probe_real_images)
{
	make_dir();
	const char *path = qemu_img(cases[_i].fmt, cases[_i].opts);
	ck_assert_msg(probe_path(path) == cases[_i].want, "%s probed as %s", cases[_i].fmt,
		      disk_format_name(probe_path(path)));
	rm_dir();
}
END_TEST

START_TEST(probe_buffers)
{
	uint8_t b[DISK_PROBE_LEN] = { 0 };
	ck_assert_int_eq(disk_format_probe(b, sizeof(b)), DISK_FMT_RAW);
	ck_assert_int_eq(disk_format_probe(b, 0), DISK_FMT_RAW);
	memcpy(b, "QFI\xfb\0\0\0\3", 8);
	ck_assert_int_eq(disk_format_probe(b, sizeof(b)), DISK_FMT_QCOW2);
	ck_assert_int_eq(disk_format_probe(b, 4), DISK_FMT_RAW); /* too short to tell */
	memset(b, 0, sizeof(b));
	memcpy(b + 0x40, "\x7f\x10\xda\xbe", 4);
	ck_assert_int_eq(disk_format_probe(b, sizeof(b)), DISK_FMT_VDI);
	ck_assert_int_eq(disk_format_probe(b, 0x43), DISK_FMT_RAW);
	/* An MBR is raw. */
	memset(b, 0, sizeof(b));
	b[510] = 0x55, b[511] = 0xaa;
	ck_assert_int_eq(disk_format_probe(b, sizeof(b)), DISK_FMT_RAW);
}
END_TEST

START_TEST(names_round_trip)
{
	for (int f = DISK_FMT_RAW; f < DISK_FMT_COUNT; f++)
		ck_assert_int_eq(disk_format_parse(disk_format_name(f)), f);
	ck_assert_int_eq(disk_format_parse("qcow3"), -1);
}
END_TEST

START_TEST(check_raw_decision)
{
	char err[512] = "";
	make_dir();
	const char *q = qemu_img("qcow2", "");
	int fd = open(q, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(disk_format_check_raw(fd, q, DISK_FMT_AUTO, err, sizeof(err)),
			 -EMEDIUMTYPE);
	ck_assert_ptr_nonnull(strstr(err, "qcow2 image"));
	ck_assert_ptr_nonnull(strstr(err, "qemu-img convert -O raw"));
	ck_assert_int_eq(disk_format_check_raw(fd, q, DISK_FMT_RAW, err, sizeof(err)), 0);
	ck_assert_int_eq(disk_format_check_raw(fd, q, DISK_FMT_QCOW2, err, sizeof(err)),
			 -EMEDIUMTYPE);
	close(fd);
	rm_dir();
}
END_TEST

static void done_cb(void *opaque, const struct blk_req *req, uint64_t tag, uint8_t status) { }

/* The virtio-blk backend refuses a qcow2 image, leaves it byte-identical, and
 * serves it with format=raw. */
START_TEST(backend_refuses_qcow2)
{
	struct blk_params d = { 0 };
	struct blk_backend *b = NULL;
	char err[256] = "", cmd[256];
	make_dir();
	const char *q = qemu_img("qcow2", "");
	d.path = q;
	ck_assert_int_eq(blk_backend_open(&d, 8, done_cb, NULL, &b, err), -EMEDIUMTYPE);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "is a qcow2 image"));
	snprintf(cmd, sizeof(cmd), "qemu-img check -q %s", q);
	ck_assert_int_eq(system(cmd), 0);
	/* format=raw serves the bytes unprobed: a 1 MiB file that starts with
	 * the qcow2 header (a qcow2 file itself is no whole number of sectors). */
	snprintf(cmd, sizeof(cmd), "cp %s %s/hdr.img && truncate -s 1M %s/hdr.img", q, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	char hdr[96];
	snprintf(hdr, sizeof(hdr), "%s/hdr.img", dir);
	d.path = hdr;
	ck_assert_int_eq(blk_backend_open(&d, 8, done_cb, NULL, &b, err), -EMEDIUMTYPE);
	d.format = DISK_FMT_RAW;
	ck_assert_msg(blk_backend_open(&d, 8, done_cb, NULL, &b, err) == 0, "%s", err);
	blk_backend_close(b);
	rm_dir();
}
END_TEST

START_TEST(parse_disk_format)
{
	struct disk_config d;
	char err[CONFIG_ERR_LEN];
	ck_assert_int_eq(parse_disk("a.img,format=raw", &d, err), 0);
	ck_assert_int_eq(d.format, DISK_FMT_RAW);
	free(d.path);
	ck_assert_int_eq(parse_disk("a.img,ro", &d, err), 0);
	ck_assert_int_eq(d.format, DISK_FMT_AUTO);
	free(d.path);
	ck_assert_int_ne(parse_disk("a.img,format=qcow3", &d, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "unknown format 'qcow3'"));
	ck_assert_int_ne(parse_disk("a.img,format=auto", &d, err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("disk_format");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, probe_real_images, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, probe_buffers);
	tcase_add_test(tc, names_round_trip);
	tcase_add_test(tc, check_raw_decision);
	tcase_add_test(tc, backend_refuses_qcow2);
	tcase_add_test(tc, parse_disk_format);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
