/* Unit tests for the i8042 controller, keyboard and mouse. */
#include "check_util.h"
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "fakes.h"

static struct fake_irq kirq, airq;
static struct fake_ctl fctl;
static struct i8042 *k;

static void setup(void)
{
	struct irq_line ki = { fake_irq_set, &kirq, 1 };
	struct irq_line ai = { fake_irq_set, &airq, 12 };
	struct vmctl ctl = { fake_stop, &fctl };

	memset(&kirq, 0, sizeof(kirq));
	memset(&airq, 0, sizeof(airq));
	memset(&fctl, 0, sizeof(fctl));
	k = i8042_create(&ki, &ai, &ctl);
	ck_assert_ptr_nonnull(k);
}

static void teardown(void)
{
	i8042_destroy(k);
	k = NULL;
}

static uint8_t status(void)
{
	uint8_t v = 0;

	i8042_cmd_ops.read(k, 0, &v, 1);
	return v;
}

static uint8_t data(void)
{
	uint8_t v = 0;

	i8042_data_ops.read(k, 0, &v, 1);
	return v;
}

static void cmd(uint8_t v)
{
	i8042_cmd_ops.write(k, 0, &v, 1);
}

static void put(uint8_t v)
{
	i8042_data_ops.write(k, 0, &v, 1);
}

/* Reads everything queued into buf; returns the count. */
static unsigned drain(uint8_t *buf, unsigned max)
{
	unsigned n = 0;

	while ((status() & 0x01) && n < max)
		buf[n++] = data();
	return n;
}

static void expect(const uint8_t *want, unsigned n)
{
	uint8_t got[80];
	unsigned m = drain(got, sizeof(got));

	ck_assert_uint_eq(m, n);
	ck_assert_mem_eq(got, want, n);
}

START_TEST(test_self_test_ctr)
{
	ck_assert_uint_eq(status() & 0x01, 0);
	cmd(0xaa);
	ck_assert_uint_eq(status() & 0x05, 0x05); /* OBF | SYS */
	ck_assert_uint_eq(data(), 0x55);
	ck_assert_uint_eq(status() & 0x01, 0);
	cmd(0x20);
	ck_assert_uint_eq(data(), 0x45);
	cmd(0x60);
	ck_assert_uint_eq(status() & 0x08, 0x08); /* A2: command */
	put(0x47);
	ck_assert_uint_eq(status() & 0x08, 0x00);
	cmd(0x20);
	ck_assert_uint_eq(data(), 0x47);
	cmd(0xab);
	ck_assert_uint_eq(data(), 0x00);
	cmd(0xa9);
	ck_assert_uint_eq(data(), 0x00);
}
END_TEST

START_TEST(test_enable_disable)
{
	uint8_t a = 0x1c;

	cmd(0xad);
	cmd(0x20);
	ck_assert_uint_eq(data() & 0x10, 0x10);
	i8042_key_event(k, &a, 1);
	ck_assert_uint_eq(status() & 0x01, 0); /* dropped while disabled */
	cmd(0xae);
	cmd(0xa7);
	cmd(0x20);
	ck_assert_uint_eq(data(), 0x65);
	cmd(0xa8);
	cmd(0x20);
	ck_assert_uint_eq(data(), 0x45);
	/* F5 disables scanning too */
	put(0xf5);
	ck_assert_uint_eq(data(), 0xfa);
	i8042_key_event(k, &a, 1);
	ck_assert_uint_eq(status() & 0x01, 0);
	put(0xf4);
	ck_assert_uint_eq(data(), 0xfa);
	i8042_key_event(k, &a, 1);
	ck_assert_uint_eq(data(), 0x1e);
}
END_TEST

START_TEST(test_kbd_commands)
{
	put(0xff);
	expect((const uint8_t[]){ 0xfa, 0xaa }, 2);
	put(0xf2);
	expect((const uint8_t[]){ 0xfa, 0xab, 0x41 }, 3); /* translated */
	cmd(0x60);
	put(0x05); /* no XLATE */
	put(0xf2);
	expect((const uint8_t[]){ 0xfa, 0xab, 0x83 }, 3);
	put(0xed);
	put(0x07);
	expect((const uint8_t[]){ 0xfa, 0xfa }, 2);
	put(0xf3);
	put(0x20);
	expect((const uint8_t[]){ 0xfa, 0xfa }, 2);
	put(0xf0);
	put(0x00);
	expect((const uint8_t[]){ 0xfa, 0xfa, 0x02 }, 3);
	put(0xee);
	expect((const uint8_t[]){ 0xee }, 1);
	put(0xf6);
	expect((const uint8_t[]){ 0xfa }, 1);
	put(0x42);
	expect((const uint8_t[]){ 0xfe }, 1);
}
END_TEST

START_TEST(test_translation)
{
	const uint8_t a_make = 0x1c, a_break[2] = { 0xf0, 0x1c };
	const uint8_t up_break[3] = { 0xe0, 0xf0, 0x75 };

	i8042_key_event(k, &a_make, 1);
	i8042_key_event(k, a_break, 2);
	i8042_key_event(k, up_break, 3);
	expect((const uint8_t[]){ 0x1e, 0x9e, 0xe0, 0xc8 }, 4);
	cmd(0x60);
	put(0x05); /* XLATE off: raw set 2 */
	i8042_key_event(k, &a_make, 1);
	i8042_key_event(k, a_break, 2);
	expect((const uint8_t[]){ 0x1c, 0xf0, 0x1c }, 3);
	/* keyboard switched to set 1 translates by itself */
	put(0xf0);
	put(0x01);
	expect((const uint8_t[]){ 0xfa, 0xfa }, 2);
	i8042_key_event(k, a_break, 2);
	expect((const uint8_t[]){ 0x9e }, 1);
}
END_TEST

START_TEST(test_kbd_irq)
{
	const uint8_t a = 0x1c;

	ck_assert_int_eq(kirq.level, 0);
	i8042_key_event(k, &a, 1);
	i8042_key_event(k, &a, 1);
	ck_assert_int_eq(kirq.level, 1);
	ck_assert_int_eq(kirq.raises, 1);
	data();
	ck_assert_int_eq(kirq.level, 1);
	ck_assert_int_eq(kirq.raises, 2); /* fresh edge for the second byte */
	data();
	ck_assert_int_eq(kirq.level, 0);
	ck_assert_int_eq(airq.raises, 0);
	/* CTR bit 0 off: no IRQ1 */
	cmd(0x60);
	put(0x44);
	i8042_key_event(k, &a, 1);
	ck_assert_int_eq(kirq.level, 0);
	ck_assert_uint_eq(status() & 0x21, 0x01);
}
END_TEST

START_TEST(test_mouse)
{
	cmd(0x60);
	put(0x47); /* aux interrupts on */
	cmd(0xd4);
	put(0xff);
	ck_assert_int_eq(airq.level, 1);
	ck_assert_uint_eq(status() & 0x21, 0x21); /* OBF | AUXB */
	expect((const uint8_t[]){ 0xfa, 0xaa, 0x00 }, 3);
	ck_assert_int_eq(airq.level, 0);
	ck_assert_int_eq(kirq.raises, 0);
	cmd(0xd4);
	put(0xf2);
	expect((const uint8_t[]){ 0xfa, 0x00 }, 2);
	/* not streaming yet: dropped */
	i8042_mouse_event(k, 1, 1, 0);
	ck_assert_uint_eq(status() & 0x01, 0);
	cmd(0xd4);
	put(0xf3);
	cmd(0xd4);
	put(200);
	cmd(0xd4);
	put(0xe8);
	cmd(0xd4);
	put(0x03);
	cmd(0xd4);
	put(0xe7);
	cmd(0xd4);
	put(0xf4);
	expect((const uint8_t[]){ 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa }, 6);
	cmd(0xd4);
	put(0xe9);
	expect((const uint8_t[]){ 0xfa, 0x30, 0x03, 200 }, 4);
	i8042_mouse_event(k, -5, 3, I8042_BTN_LEFT);
	expect((const uint8_t[]){ 0x19, 0xfb, 0x03 }, 3);
	i8042_mouse_event(k, 1000, -1000, I8042_BTN_RIGHT | I8042_BTN_MIDDLE);
	expect((const uint8_t[]){ 0x08 | 0x06 | 0x40 | 0x80 | 0x20, 0xff, 0x00 }, 3);
	/* aux disabled by the controller: dropped */
	cmd(0xa7);
	i8042_mouse_event(k, 1, 1, 0);
	ck_assert_uint_eq(status() & 0x01, 0);
	/* unknown mouse command */
	cmd(0xd4);
	put(0x01);
	expect((const uint8_t[]){ 0xfe }, 1);
	/* D2/D3 write the output buffer */
	cmd(0xd3);
	put(0x77);
	ck_assert_uint_eq(status() & 0x21, 0x21);
	ck_assert_uint_eq(data(), 0x77);
	cmd(0xd2);
	put(0x66);
	ck_assert_uint_eq(status() & 0x21, 0x01);
	ck_assert_uint_eq(data(), 0x66);
}
END_TEST

START_TEST(test_reset)
{
	cmd(0xfe);
	ck_assert_int_eq(fctl.stops, 1);
	ck_assert_int_eq(fctl.why, STOP_RESET);
	cmd(0xff); /* no bit pulsed */
	cmd(0xfd); /* bit 1 pulsed only */
	ck_assert_int_eq(fctl.stops, 1);
	cmd(0xf0);
	ck_assert_int_eq(fctl.stops, 2);
	cmd(0xd1);
	put(0x03); /* A20 + not reset */
	ck_assert_int_eq(fctl.stops, 2);
	cmd(0xd0);
	ck_assert_uint_eq(data(), 0x03);
	cmd(0xd1);
	put(0x02);
	ck_assert_int_eq(fctl.stops, 3);
}
END_TEST

START_TEST(test_overflow_hostile)
{
	const uint8_t a = 0x1c;
	uint8_t buf[8];

	for (int i = 0; i < 200; i++)
		i8042_key_event(k, &a, 1);
	for (int i = 0; i < 200; i++)
		put(0xee);
	for (int i = 0; i < 200; i++)
		cmd(0x20);
	unsigned n = 0;
	while ((status() & 0x01) && n < 1000) {
		data();
		n++;
	}
	ck_assert_uint_eq(n, I8042_QUEUE_SIZE);
	/* empty queue reads the last byte again */
	data();
	/* oversized / hostile inputs */
	uint8_t big[64];
	memset(big, 0x1c, sizeof(big));
	i8042_key_event(k, big, sizeof(big));
	i8042_key_event(k, NULL, 3);
	memset(buf, 0, sizeof(buf));
	i8042_data_ops.read(k, 1, buf, 4);
	ck_assert_uint_eq(buf[0], 0xff);
	i8042_cmd_ops.write(k, UINT64_MAX, buf, 4);
	i8042_data_ops.read(k, 0, buf, 8);
	i8042_cmd_ops.read(k, 0, buf, 4);
	ck_assert_uint_eq(buf[1], 0xff);
	for (unsigned c = 0; c < 256; c++) {
		if (c == 0xd1 || c >= 0xf0)
			continue;
		cmd((uint8_t)c);
		put(0x5a);
	}
	/* no CPU reset from anything above */
	ck_assert_int_eq(fctl.stops, 0);
	/* NULL lines and ctl are fine */
	struct i8042 *t = i8042_create(NULL, NULL, NULL);
	ck_assert_ptr_nonnull(t);
	uint8_t v = 0xfe;
	i8042_cmd_ops.write(t, 0, &v, 1);
	i8042_reset(t);
	i8042_destroy(t);
}
END_TEST

CHECK_MAIN_FIXTURE("i8042", setup, teardown, test_self_test_ctr, test_enable_disable,
	test_kbd_commands, test_translation, test_kbd_irq, test_mouse, test_reset,
	test_overflow_hostile)
