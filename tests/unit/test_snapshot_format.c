/* The snapshot state file: round trip, and every kind of damage named. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "snapshot/format.h"

#define T_CPU SNAP_TAG('v', 'c', 'p', 'u')
#define T_DEV SNAP_TAG('u', 'a', 'r', 't')

static void build(struct snap_writer *w)
{
	snap_writer_init(w, 5ull << 30);
	snap_put(w, T_CPU, 0, 1, "regs-of-cpu0", 12);
	snap_put(w, T_CPU, 1, 1, "cpu1", 4);
	snap_put(w, T_DEV, 0, 2, "", 0);
	ck_assert_int_eq(snap_writer_finish(w), 0);
}

START_TEST(round_trip)
{
	struct snap_writer w;
	struct snap_reader r;
	char err[256];
	build(&w);
	ck_assert_int_eq(w.len % 8, 0);
	ck_assert_int_eq(snap_read(&r, w.buf, w.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.ram_size, 5ull << 30);
	ck_assert_uint_eq(r.nsections, 3);
	const struct snap_section *s = snap_find(&r, T_CPU, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->len, 4);
	ck_assert_mem_eq(s->data, "cpu1", 4);
	ck_assert_uint_eq(snap_find(&r, T_DEV, 0)->version, 2);
	ck_assert_ptr_null(snap_find(&r, T_DEV, 1));
	snap_reader_free(&r);
	snap_writer_free(&w);
}
END_TEST

START_TEST(damage_is_named)
{
	struct snap_writer w;
	struct snap_reader r;
	char err[256];
	build(&w);
	uint8_t *b = malloc(w.len);
	/* Every single flipped byte is caught. */
	for (size_t i = 0; i < w.len; i++) {
		memcpy(b, w.buf, w.len);
		b[i] ^= 0x40;
		ck_assert_msg(snap_read(&r, b, w.len, err, sizeof(err)) < 0, "flip at %zu accepted", i);
	}
	/* Every truncation is caught. */
	for (size_t n = 0; n < w.len; n++)
		ck_assert_msg(snap_read(&r, w.buf, n, err, sizeof(err)) < 0, "length %zu accepted", n);
	memcpy(b, "NOTASNAP", 8);
	ck_assert_int_eq(snap_read(&r, b, w.len, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a myvmm snapshot"));
	memcpy(b, w.buf, w.len);
	b[8] = 9; /* version 9 */
	ck_assert_int_eq(snap_read(&r, b, w.len, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "version 9"));
	memcpy(b, w.buf, w.len);
	b[24 + 16] ^= 1; /* first section's payload */
	ck_assert_int_eq(snap_read(&r, b, w.len, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "checksum"));
	free(b);
	snap_writer_free(&w);
}
END_TEST

START_TEST(writer_limits)
{
	struct snap_writer w;
	snap_writer_init(&w, 0);
	snap_put(&w, T_DEV, 0, 1, NULL, SNAP_MAX_SECTION + 1);
	ck_assert_int_eq(snap_writer_finish(&w), -E2BIG);
	snap_writer_free(&w);
}
END_TEST

CHECK_MAIN("snapshot_format", round_trip, damage_is_named, writer_limits)
