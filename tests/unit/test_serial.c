/* Unit tests for the 16550A UART, driven through its bus ops. */
#include "check_util.h"
#include <stdlib.h>
#include <string.h>

#include "devices/serial.h"
#include "fakes.h"

static struct fake_irq firq;
static struct fake_sink fsink;
static int rx_ready_calls;
static struct serial *s;

static void on_rx_ready(void *opaque)
{
	rx_ready_calls++;
}

static void setup(void)
{
	struct irq_line irq = { fake_irq_set, &firq, 4 };
	struct char_sink out = { fake_sink_write, &fsink };

	memset(&firq, 0, sizeof(firq));
	memset(&fsink, 0, sizeof(fsink));
	rx_ready_calls = 0;
	s = serial_create(&irq, &out, on_rx_ready, NULL);
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	serial_destroy(s);
	s = NULL;
}

static uint8_t rd(unsigned off)
{
	uint8_t v = 0;

	serial_bus_ops.read(s, off, &v, 1);
	return v;
}

static void wr(unsigned off, uint8_t v)
{
	serial_bus_ops.write(s, off, &v, 1);
}

START_TEST(test_thr_to_sink)
{
	wr(0, 'h');
	wr(0, 'i');
	ck_assert_uint_eq(fsink.len, 2);
	ck_assert_mem_eq(fsink.buf, "hi", 2);
	ck_assert_uint_eq(rd(5) & 0x60, 0x60); /* THRE | TEMT */
}
END_TEST

START_TEST(test_dlab)
{
	wr(1, 0x05); /* IER */
	wr(3, 0x80); /* DLAB */
	wr(0, 0x01); /* DLL */
	wr(1, 0x02); /* DLM */
	ck_assert_uint_eq(rd(0), 0x01);
	ck_assert_uint_eq(rd(1), 0x02);
	ck_assert_uint_eq(fsink.len, 0); /* DLL write is not output */
	wr(3, 0x03);
	ck_assert_uint_eq(rd(1), 0x05);
	ck_assert_uint_eq(rd(3), 0x03);
	wr(3, 0x83);
	ck_assert_uint_eq(rd(0), 0x01);
}
END_TEST

START_TEST(test_lsr_push_read)
{
	uint8_t b = 'x';

	ck_assert_uint_eq(rd(5) & 0x01, 0);
	ck_assert_uint_eq(serial_rx_space(s), 1); /* no FIFO: 16450 holding reg */
	ck_assert_uint_eq(serial_rx_push(s, &b, 1), 1);
	ck_assert_uint_eq(serial_rx_push(s, &b, 1), 0);
	ck_assert_uint_eq(rd(5) & 0x01, 1);
	ck_assert_uint_eq(rd(0), 'x');
	ck_assert_uint_eq(rd(5) & 0x01, 0);
	ck_assert_int_eq(rx_ready_calls, 1);
}
END_TEST

START_TEST(test_fifo_order_capacity)
{
	uint8_t in[20];

	for (int i = 0; i < 20; i++)
		in[i] = (uint8_t)('a' + i);
	wr(2, 0x07); /* enable, clear both */
	ck_assert_uint_eq(rd(2) & 0xc0, 0xc0);
	ck_assert_uint_eq(serial_rx_space(s), 16);
	ck_assert_uint_eq(serial_rx_push(s, in, 20), 16);
	ck_assert_uint_eq(serial_rx_space(s), 0);
	ck_assert_uint_eq(rd(5) & 0x02, 0); /* host input never overruns */
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(0), 'a' + i);
	ck_assert_uint_eq(rd(5) & 0x01, 0);
	ck_assert_uint_eq(serial_rx_space(s), 16);
	/* RX FIFO reset empties it */
	ck_assert_uint_eq(serial_rx_push(s, in, 3), 3);
	wr(2, 0x03);
	ck_assert_uint_eq(rd(5) & 0x01, 0);
	/* disabling FIFOs: IIR bits 7:6 clear */
	wr(2, 0x00);
	ck_assert_uint_eq(rd(2) & 0xc0, 0x00);
}
END_TEST

START_TEST(test_thre_irq)
{
	wr(4, 0x08); /* OUT2 */
	ck_assert_int_eq(firq.level, 0);
	wr(1, 0x02); /* ETBEI */
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(2), 0x02);
	ck_assert_int_eq(firq.level, 0); /* IIR read cleared THRE */
	ck_assert_uint_eq(rd(2), 0x01);
	/* a THR write raises it again, with a fresh edge */
	int raises = firq.raises;
	wr(0, 'a');
	ck_assert_int_eq(firq.level, 1);
	ck_assert_int_eq(firq.raises, raises + 1);
	wr(0, 'b');
	ck_assert_int_eq(firq.raises, raises + 2);
	/* disabling ETBEI drops it */
	wr(1, 0x00);
	ck_assert_int_eq(firq.level, 0);
}
END_TEST

START_TEST(test_rx_irq)
{
	uint8_t b[4] = { 1, 2, 3, 4 };

	wr(4, 0x08);
	wr(1, 0x01); /* ERBFI */
	ck_assert_int_eq(firq.level, 0);
	serial_rx_push(s, b, 1);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(rd(2), 0x04);
	rd(0);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(rd(2), 0x01);
	/* FIFO trigger 4: below it a timeout (0xCC), at it data (0xC4) */
	wr(2, 0x41);
	serial_rx_push(s, b, 1);
	ck_assert_uint_eq(rd(2), 0xcc);
	ck_assert_int_eq(firq.level, 1);
	serial_rx_push(s, b, 3);
	ck_assert_uint_eq(rd(2), 0xc4);
}
END_TEST

START_TEST(test_priorities)
{
	uint8_t b = 1;

	wr(2, 0x01);
	wr(4, 0x08 | 0x10); /* OUT2 + loopback */
	wr(1, 0x0f);
	/* only THRE pending -> MSI lower priority. MCR change made deltas. */
	ck_assert_uint_eq(rd(2), 0xc2);
	ck_assert_uint_eq(rd(2), 0xc0); /* modem status next */
	rd(6);
	ck_assert_uint_eq(rd(2), 0xc1);
	/* overrun in loopback: fill the FIFO then one more */
	for (int i = 0; i < 17; i++)
		wr(0, (uint8_t)i);
	ck_assert_uint_eq(rd(2), 0xc6); /* line status beats data and THRE */
	ck_assert_uint_eq(rd(5) & 0x03, 0x03);
	ck_assert_uint_eq(rd(2), 0xc4); /* data available beats THRE */
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(0), i);
	ck_assert_uint_eq(rd(2), 0xc2);
	(void)b;
}
END_TEST

START_TEST(test_loopback)
{
	wr(4, 0x10 | 0x0a); /* LOOP | OUT2 | RTS: Linux's autoconfig probe */
	ck_assert_uint_eq(rd(6) & 0xf0, 0x90);
	wr(4, 0x10 | 0x05); /* LOOP | OUT1 | DTR */
	ck_assert_uint_eq(rd(6) & 0xf0, 0x60);
	wr(0, 'Z');
	ck_assert_uint_eq(fsink.len, 0);
	ck_assert_uint_eq(rd(5) & 0x01, 1);
	ck_assert_uint_eq(rd(0), 'Z');
	wr(4, 0x00);
	ck_assert_uint_eq(rd(6) & 0xf0, 0xb0); /* CTS DSR DCD from the cable */
	wr(0, 'Y');
	ck_assert_uint_eq(fsink.len, 1);
}
END_TEST

START_TEST(test_out2_gating)
{
	uint8_t b = 7;

	wr(1, 0x01);
	serial_rx_push(s, &b, 1);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(rd(2), 0x04); /* pending, but OUT2 off */
	wr(4, 0x08);
	ck_assert_int_eq(firq.level, 1);
	wr(4, 0x00);
	ck_assert_int_eq(firq.level, 0);
}
END_TEST

START_TEST(test_scr_reset)
{
	uint8_t b = 1;

	wr(7, 0x5a);
	ck_assert_uint_eq(rd(7), 0x5a);
	wr(4, 0x08);
	wr(1, 0x02);
	serial_rx_push(s, &b, 1);
	ck_assert_int_eq(firq.level, 1);
	serial_reset(s);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(rd(7), 0);
	ck_assert_uint_eq(rd(5), 0x60);
	ck_assert_uint_eq(rd(2), 0x01);
}
END_TEST

START_TEST(test_hostile)
{
	uint8_t buf[8];

	memset(buf, 0, sizeof(buf));
	serial_bus_ops.read(s, 8, buf, 1);
	ck_assert_uint_eq(buf[0], 0xff);
	serial_bus_ops.read(s, 1000000, buf, 4);
	serial_bus_ops.write(s, 8, buf, 1);
	serial_bus_ops.write(s, UINT64_MAX, buf, 4);
	serial_bus_ops.read(s, UINT64_MAX - 1, buf, 4);
	/* len 2 at offset 6: MSR then SCR, then nothing */
	wr(7, 0x33);
	serial_bus_ops.read(s, 6, buf, 4);
	ck_assert_uint_eq(buf[1], 0x33);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
	/* len 4 write at 0 writes THR, IER, FCR, LCR */
	memcpy(buf, "A\0\0\0", 4);
	serial_bus_ops.write(s, 0, buf, 4);
	ck_assert_uint_eq(fsink.len, 1);
	/* NULL sink/irq work */
	struct serial *t = serial_create(NULL, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(t);
	serial_bus_ops.write(t, 0, buf, 1);
	serial_reset(t);
	serial_destroy(t);
}
END_TEST

CHECK_MAIN_FIXTURE("serial", setup, teardown, test_thr_to_sink, test_dlab,
	test_lsr_push_read, test_fifo_order_capacity, test_thre_irq, test_rx_irq, test_priorities,
	test_loopback, test_out2_gating, test_scr_reset, test_hostile)
