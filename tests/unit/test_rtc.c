/* Unit tests for the MC146818 RTC with a fake clock. */
#include "check_util.h"
#include <stdlib.h>
#include <string.h>

#include "devices/rtc.h"
#include "fakes.h"

/* 2024-02-29 13:45:56 UTC, a Thursday. */
#define T0 ((time_t)1709214356)

static time_t fake_now_val;
static struct fake_irq firq;
static struct rtc *r;

static time_t fake_now(void *opaque)
{
	return *(time_t *)opaque;
}

static void setup(void)
{
	struct irq_line irq = { fake_irq_set, &firq, 8 };

	memset(&firq, 0, sizeof(firq));
	fake_now_val = T0;
	r = rtc_create(&irq, fake_now, &fake_now_val, NULL);
	ck_assert_ptr_nonnull(r);
}

static void teardown(void)
{
	rtc_destroy(r);
	r = NULL;
}

static uint8_t cmos_rd(uint8_t idx)
{
	uint8_t v = 0;

	rtc_bus_ops.write(r, 0, &idx, 1);
	rtc_bus_ops.read(r, 1, &v, 1);
	return v;
}

static void cmos_wr(uint8_t idx, uint8_t v)
{
	rtc_bus_ops.write(r, 0, &idx, 1);
	rtc_bus_ops.write(r, 1, &v, 1);
}

START_TEST(test_bcd_default)
{
	ck_assert_uint_eq(cmos_rd(0x00), 0x56);
	ck_assert_uint_eq(cmos_rd(0x02), 0x45);
	ck_assert_uint_eq(cmos_rd(0x04), 0x13);
	ck_assert_uint_eq(cmos_rd(0x06), 0x05); /* Thursday, Sunday = 1 */
	ck_assert_uint_eq(cmos_rd(0x07), 0x29);
	ck_assert_uint_eq(cmos_rd(0x08), 0x02);
	ck_assert_uint_eq(cmos_rd(0x09), 0x24);
	ck_assert_uint_eq(cmos_rd(0x32), 0x20);
	ck_assert_uint_eq(cmos_rd(0x0d), 0x80);
	ck_assert_uint_eq(cmos_rd(0x0b), 0x02);
}
END_TEST

START_TEST(test_binary_12h)
{
	cmos_wr(0x0b, 0x04 | 0x02); /* binary, 24h */
	ck_assert_uint_eq(cmos_rd(0x00), 56);
	ck_assert_uint_eq(cmos_rd(0x04), 13);
	ck_assert_uint_eq(cmos_rd(0x09), 24);
	ck_assert_uint_eq(cmos_rd(0x32), 20);
	cmos_wr(0x0b, 0x04); /* binary, 12h */
	ck_assert_uint_eq(cmos_rd(0x04), 0x80 | 1); /* 1 PM */
	cmos_wr(0x0b, 0x00); /* BCD, 12h */
	ck_assert_uint_eq(cmos_rd(0x04), 0x81);
	fake_now_val = T0 - 13 * 3600; /* 00:45 -> 12 AM */
	ck_assert_uint_eq(cmos_rd(0x04), 0x12);
	fake_now_val = T0 - 3600; /* 12:45 -> 12 PM */
	ck_assert_uint_eq(cmos_rd(0x04), 0x92);
}
END_TEST

START_TEST(test_set_time)
{
	cmos_wr(0x0b, 0x82); /* SET, BCD, 24h */
	ck_assert_uint_eq(cmos_rd(0x00), 0x56); /* snapshot readable */
	cmos_wr(0x00, 0x30);
	cmos_wr(0x02, 0x15);
	cmos_wr(0x04, 0x08);
	cmos_wr(0x07, 0x01);
	cmos_wr(0x08, 0x12);
	cmos_wr(0x09, 0x99);
	cmos_wr(0x32, 0x19);
	fake_now_val += 100; /* frozen while SET */
	ck_assert_uint_eq(cmos_rd(0x00), 0x30);
	cmos_wr(0x0b, 0x02);
	ck_assert_uint_eq(cmos_rd(0x00), 0x30);
	fake_now_val += 75;
	ck_assert_uint_eq(cmos_rd(0x00), 0x45);
	ck_assert_uint_eq(cmos_rd(0x02), 0x16);
	ck_assert_uint_eq(cmos_rd(0x04), 0x08);
	ck_assert_uint_eq(cmos_rd(0x07), 0x01);
	ck_assert_uint_eq(cmos_rd(0x08), 0x12);
	ck_assert_uint_eq(cmos_rd(0x09), 0x99);
	ck_assert_uint_eq(cmos_rd(0x32), 0x19);
	/* offset survives a reset */
	rtc_reset(r);
	ck_assert_uint_eq(cmos_rd(0x09), 0x99);
	/* 12h set: 11 PM */
	cmos_wr(0x0b, 0x80);
	cmos_wr(0x04, 0x91);
	cmos_wr(0x0b, 0x02);
	ck_assert_uint_eq(cmos_rd(0x04), 0x23);
	/* write to a running clock changes only that field */
	cmos_wr(0x02, 0x59);
	ck_assert_uint_eq(cmos_rd(0x02), 0x59);
	ck_assert_uint_eq(cmos_rd(0x04), 0x23);
	/* garbage values do not crash */
	cmos_wr(0x0b, 0x80);
	for (uint8_t i = 0; i < 10; i++)
		cmos_wr(i, 0xff);
	cmos_wr(0x32, 0xff);
	cmos_wr(0x0b, 0x02);
	cmos_rd(0x00);
}
END_TEST

START_TEST(test_nvram)
{
	uint8_t nv[128], nv2[128];

	cmos_wr(0x40, 0xab);
	cmos_wr(0x7f, 0xcd);
	cmos_wr(0x0e, 0x11);
	ck_assert_uint_eq(cmos_rd(0x40), 0xab);
	rtc_set_cmos(r, 0x34, 0x77);
	rtc_set_cmos(r, 0xb5, 0x66); /* masked to 0x35 */
	ck_assert_uint_eq(cmos_rd(0x34), 0x77);
	ck_assert_uint_eq(cmos_rd(0x35), 0x66);
	rtc_get_nvram(r, nv);
	ck_assert_uint_eq(nv[0x40], 0xab);
	ck_assert_uint_eq(nv[0x7f], 0xcd);
	ck_assert_uint_eq(nv[0x0e], 0x11);
	ck_assert_uint_eq(nv[0x00], 0x56);
	/* a new instance from the saved NVRAM keeps the bytes */
	struct rtc *r2 = rtc_create(NULL, fake_now, &fake_now_val, nv);
	ck_assert_ptr_nonnull(r2);
	rtc_get_nvram(r2, nv2);
	ck_assert_mem_eq(nv + 0x0e, nv2 + 0x0e, 128 - 0x0e);
	rtc_destroy(r2);
}
END_TEST

START_TEST(test_reg_c_uie)
{
	cmos_wr(0x0b, 0x02 | 0x10); /* UIE */
	ck_assert_int_eq(firq.level, 0);
	rtc_tick(r); /* same second: nothing */
	ck_assert_int_eq(firq.level, 0);
	fake_now_val++;
	rtc_tick(r);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(cmos_rd(0x0c), 0x90);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(cmos_rd(0x0c), 0x00); /* read clears */
	/* without UIE: UF latches lazily on read, no IRQF */
	cmos_wr(0x0b, 0x02);
	fake_now_val++;
	ck_assert_uint_eq(cmos_rd(0x0c), 0x10);
	ck_assert_int_eq(firq.raises, 1);
	/* alarm: hour/minute don't care, second = now + 1 */
	cmos_wr(0x01, 0x59);
	cmos_wr(0x03, 0xc0);
	cmos_wr(0x05, 0xff);
	cmos_wr(0x0b, 0x02 | 0x20);
	fake_now_val = T0 + 3; /* :59 */
	rtc_tick(r);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(cmos_rd(0x0c), 0x80 | 0x20 | 0x10);
	/* writes to C and D are ignored */
	cmos_wr(0x0c, 0xff);
	cmos_wr(0x0d, 0x00);
	ck_assert_uint_eq(cmos_rd(0x0c), 0x00);
	ck_assert_uint_eq(cmos_rd(0x0d), 0x80);
	/* reset clears enables and flags */
	cmos_wr(0x0b, 0x12);
	fake_now_val++;
	rtc_tick(r);
	ck_assert_int_eq(firq.level, 1);
	rtc_reset(r);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(cmos_rd(0x0b), 0x02);
}
END_TEST

START_TEST(test_uip)
{
	ck_assert_uint_eq(cmos_rd(0x0a), 0x26);
	ck_assert_uint_eq(cmos_rd(0x0a), 0x26);
	fake_now_val++;
	ck_assert_uint_eq(cmos_rd(0x0a), 0xa6); /* edge after the update */
	ck_assert_uint_eq(cmos_rd(0x0a), 0x26);
	/* a guest waiting for the rising then the falling edge finishes */
	int n = 0;
	fake_now_val++;
	while (!(cmos_rd(0x0a) & 0x80) && n < 10)
		n++;
	while ((cmos_rd(0x0a) & 0x80) && n < 10)
		n++;
	ck_assert_int_lt(n, 10);
	/* UIP is read-only */
	cmos_wr(0x0a, 0xa0);
	ck_assert_uint_eq(cmos_rd(0x0a), 0x20);
}
END_TEST

START_TEST(test_index_hostile)
{
	uint8_t v = 0x80 | 0x09, buf[8];

	/* NMI bit ignored: 0x89 selects register 9 */
	rtc_bus_ops.write(r, 0, &v, 1);
	rtc_bus_ops.read(r, 1, &v, 1);
	ck_assert_uint_eq(v, 0x24);
	v = 0xff; /* index 0x7f */
	rtc_bus_ops.write(r, 0, &v, 1);
	v = 0x42;
	rtc_bus_ops.write(r, 1, &v, 1);
	ck_assert_uint_eq(cmos_rd(0x7f), 0x42);
	/* port 0x70 reads 0xff; offsets beyond the device are ignored */
	rtc_bus_ops.read(r, 0, &v, 1);
	ck_assert_uint_eq(v, 0xff);
	memset(buf, 0, sizeof(buf));
	rtc_bus_ops.read(r, 2, buf, 4);
	ck_assert_uint_eq(buf[0], 0xff);
	rtc_bus_ops.write(r, UINT64_MAX, buf, 4);
	rtc_bus_ops.read(r, UINT64_MAX, buf, 8);
	buf[0] = 0x09;
	rtc_bus_ops.write(r, 0, buf, 4);
	rtc_bus_ops.read(r, 1, buf, 4);
	ck_assert_uint_eq(buf[0], 0x24);
	ck_assert_uint_eq(buf[1], 0xff);
	/* default wall clock works */
	struct rtc *w = rtc_create(NULL, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(w);
	rtc_tick(w);
	rtc_destroy(w);
}
END_TEST

CHECK_MAIN_FIXTURE("rtc", setup, teardown, test_bcd_default, test_binary_12h, test_set_time,
	test_nvram, test_reg_c_uie, test_uip, test_index_hostile)
