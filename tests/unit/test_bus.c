#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "devices/bus.h"

struct rec { uint64_t off; uint32_t len; uint64_t val; int reads, writes; };

static void rd(void *o, uint64_t off, void *data, uint32_t len)
{
	struct rec *r = o;
	r->reads++;
	r->off = off;
	r->len = len;
	bus_put_le(data, len, 0x1122334455667788ULL);
}
static void wr(void *o, uint64_t off, const void *data, uint32_t len)
{
	struct rec *r = o;
	r->writes++;
	r->off = off;
	r->len = len;
	r->val = bus_get_le(data, len);
}
static const struct bus_ops ops = { .read = rd, .write = wr };

START_TEST(add_rejects_bad_ranges)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b, "t");
	ck_assert_int_eq(bus_add(&b, 0x100, 0, &ops, &r, "z"), -EINVAL);
	ck_assert_int_eq(bus_add(&b, UINT64_MAX - 1, 4, &ops, &r, "wrap"), -EINVAL);
	ck_assert_int_eq(bus_add(&b, 0x100, 8, &ops, &r, "a"), 0);
	ck_assert_int_eq(bus_add(&b, 0x104, 8, &ops, &r, "overlap-tail"), -EEXIST);
	ck_assert_int_eq(bus_add(&b, 0xfc, 8, &ops, &r, "overlap-head"), -EEXIST);
	ck_assert_int_eq(bus_add(&b, 0x0, 0x1000, &ops, &r, "cover"), -EEXIST);
	ck_assert_int_eq(bus_add(&b, 0x108, 8, &ops, &r, "adjacent"), 0);
	ck_assert_int_eq(bus_add(&b, 0xf8, 8, &ops, &r, "adjacent-below"), 0);
	ck_assert_int_eq(bus_add(&b, 0x100, 8, NULL, &r, "noops"), -EINVAL);
	bus_destroy(&b);
}
END_TEST

START_TEST(dispatch_offsets_and_misses)
{
	struct bus b;
	struct rec r1 = { 0 }, r2 = { 0 };
	uint8_t data[8];
	bus_init(&b, "t");
	/* Insert out of order: the array must stay sorted. */
	ck_assert_int_eq(bus_add(&b, 0x3f8, 8, &ops, &r2, "com1"), 0);
	ck_assert_int_eq(bus_add(&b, 0x70, 2, &ops, &r1, "rtc"), 0);
	uint32_t v = 0xab;
	ck_assert_int_eq(bus_access(&b, 0x71, &v, 1, true), 0);
	ck_assert_int_eq(r1.writes, 1);
	ck_assert_uint_eq(r1.off, 1);
	ck_assert_uint_eq(r1.val, 0xab);
	ck_assert_int_eq(bus_access(&b, 0x3fd, data, 1, false), 0);
	ck_assert_uint_eq(r2.off, 5);
	ck_assert_uint_eq(data[0], 0x88);
	/* A miss reads all ones. */
	memset(data, 0, sizeof(data));
	ck_assert_int_eq(bus_access(&b, 0x80, data, 4, false), -ENOENT);
	ck_assert_uint_eq(data[0] & data[1] & data[2] & data[3], 0xff);
	/* Straddling the end of a device is a miss, not a partial access. */
	ck_assert_int_eq(bus_access(&b, 0x71, data, 2, false), -ENOENT);
	ck_assert_int_eq(bus_access(&b, 0x3fe, data, 4, true), -ENOENT);
	ck_assert_int_eq(r2.writes, 0);
	/* Bad sizes. */
	ck_assert_int_eq(bus_access(&b, 0x70, data, 0, false), -EINVAL);
	ck_assert_int_eq(bus_access(&b, 0x70, data, 9, false), -EINVAL);
	/* Top of the address space does not wrap. */
	ck_assert_int_eq(bus_access(&b, UINT64_MAX, data, 8, false), -ENOENT);
	bus_destroy(&b);
}
END_TEST

START_TEST(remove_and_many)
{
	struct bus b;
	struct rec r = { 0 };
	bus_init(&b, "t");
	for (uint64_t i = 0; i < 100; i++)
		ck_assert_int_eq(bus_add(&b, 0x1000 + i * 0x10, 0x10, &ops, &r, "d"), 0);
	for (uint64_t i = 0; i < 100; i++) {
		uint8_t d;
		ck_assert_int_eq(bus_access(&b, 0x1000 + i * 0x10 + 0xf, &d, 1, false), 0);
		ck_assert_uint_eq(r.off, 0xf);
	}
	ck_assert_int_eq(bus_remove(&b, 0x1010), 0);
	ck_assert_int_eq(bus_remove(&b, 0x1010), -ENOENT);
	uint8_t d;
	ck_assert_int_eq(bus_access(&b, 0x1015, &d, 1, false), -ENOENT);
	ck_assert_int_eq(bus_add(&b, 0x1010, 0x10, &ops, &r, "again"), 0);
	bus_destroy(&b);
}
END_TEST

CHECK_MAIN("bus", add_rejects_bad_ranges, dispatch_offsets_and_misses, remove_and_many)
