/* libFuzzer: the legacy port-I/O devices' register state machines, driven
 * by a stream of accesses (see fuzz_io.h). Byte 0 picks the device:
 * 0 16550 UART (serial.c), 1 MC146818 RTC (rtc.c), 2 i8042 (i8042.c),
 * 3 ACPI PM block (pm.c). Host events: UART receive bytes, RTC clock steps
 * and ticks, key and mouse events, the power button. IRQ lines, the stop
 * request and the output sink are fakes that only check their arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/i8042.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "fuzz_io.h"
#include "host/log.h"
#include "machine/pc_map.h"

struct ctx {
	struct fio_irq_state irq;
	unsigned long bytes_out, stops;
	time_t now;
	struct serial *ser;
	struct rtc *rtc;
	struct i8042 *kbd;
	struct pm *pm;
};

static void sink_write(void *o, const void *buf, unsigned long len)
{
	struct ctx *c = o;
	const volatile uint8_t *p = buf;
	for (unsigned long i = 0; i < len; i++)
		(void)p[i]; /* the whole buffer must be readable */
	c->bytes_out += len;
}
static void stop(void *o, enum stop_reason why, int value)
{
	struct ctx *c = o;
	if (why <= STOP_NONE || why > STOP_SIGNAL)
		abort();
	c->stops++;
}
static time_t fake_now(void *o) { return ((struct ctx *)o)->now; }
static void rx_ready(void *o) { }

static void ev_serial(void *o, unsigned arg)
{
	struct ctx *c = o;
	uint8_t b[32];
	size_t n = arg % sizeof(b), space = serial_rx_space(c->ser);
	memset(b, arg >> 8, sizeof(b));
	size_t got = serial_rx_push(c->ser, b, n);
	if (got > n || got > space)
		abort();
	if (arg == 0xffff)
		serial_reset(c->ser);
}
static void ev_rtc(void *o, unsigned arg)
{
	struct ctx *c = o;
	c->now += arg & 0xfff; /* host time moves forward */
	if (arg & 0x8000)
		rtc_tick(c->rtc);
	if (arg == 0xffff)
		rtc_reset(c->rtc);
	if (arg & 0x4000) {
		uint8_t nv[RTC_CMOS_SIZE];
		rtc_get_nvram(c->rtc, nv);
	}
}
static void ev_kbd(void *o, unsigned arg)
{
	struct ctx *c = o;
	uint8_t b[3] = { arg & 0xff, 0xf0, arg >> 8 };
	if (arg & 0x8000)
		i8042_mouse_event(c->kbd, (int8_t)arg, (int8_t)(arg >> 4), arg >> 12);
	else
		i8042_key_event(c->kbd, b, (arg >> 8) % 4);
	if (arg == 0x7fff)
		i8042_reset(c->kbd);
}
static void ev_pm(void *o, unsigned arg)
{
	struct ctx *c = o;
	pm_power_button(c->pm);
	(void)pm_timer_value(c->pm);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { .now = 1700000000 };
	struct irq_line irq = { fio_irq_set, &c.irq, 4 };
	struct irq_line irq2 = { fio_irq_set, &c.irq, 12 };
	struct char_sink out = { sink_write, &c };
	struct vmctl ctl = { stop, &c };
	struct fio_region r[2];
	unsigned nr = 1;
	fio_event ev = NULL;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		c.ser = serial_create(&irq, &out, (data[0] & 4) ? rx_ready : NULL, &c);
		if (!c.ser)
			return 0;
		r[0] = (struct fio_region){ &serial_bus_ops, c.ser, SERIAL_NR_PORTS, 4 };
		ev = ev_serial;
		break;
	case 1: {
		uint8_t nv[RTC_CMOS_SIZE];
		memset(nv, data[0], sizeof(nv));
		c.rtc = rtc_create(&irq, fake_now, &c, (data[0] & 4) ? nv : NULL);
		if (!c.rtc)
			return 0;
		r[0] = (struct fio_region){ &rtc_bus_ops, c.rtc, RTC_NR_PORTS, 4 };
		ev = ev_rtc;
		break;
	}
	case 2:
		c.kbd = i8042_create(&irq, (data[0] & 4) ? &irq2 : NULL, &ctl);
		if (!c.kbd)
			return 0;
		r[0] = (struct fio_region){ &i8042_data_ops, c.kbd, 1, 4 };
		r[1] = (struct fio_region){ &i8042_cmd_ops, c.kbd, 1, 4 };
		nr = 2;
		ev = ev_kbd;
		break;
	case 3:
		c.pm = pm_create(&irq, &ctl, data[0] >> 2 & 7);
		if (!c.pm)
			return 0;
		r[0] = (struct fio_region){ &pm_bus_ops, c.pm, PORT_PM_LEN, 4 };
		ev = ev_pm;
		break;
	}
	fio_run(r, nr, ev, &c, data + 1, size - 1);
	if (c.ser)
		serial_destroy(c.ser);
	if (c.rtc)
		rtc_destroy(c.rtc);
	if (c.kbd)
		i8042_destroy(c.kbd);
	if (c.pm)
		pm_destroy(c.pm);
	return 0;
}
