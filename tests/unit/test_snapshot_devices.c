/* Device save/load pairs for snapshots (snapshot/sbuf.h): each device's
 * state survives a round trip into a fresh device, and a damaged or foreign
 * blob is refused (-EINVAL) without changing the device. */
#include "check_util.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/pm.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "fakes.h"
#include "snapshot/sbuf.h"

static uint8_t io_rd(const struct bus_ops *ops, void *dev, unsigned off)
{
	uint8_t v = 0;
	ops->read(dev, off, &v, 1);
	return v;
}

static void io_wr(const struct bus_ops *ops, void *dev, unsigned off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

static int load(const struct snap_dev_ops *ops, void *dev, const struct sbuf *b, size_t len)
{
	struct srd in;
	srd_init(&in, b->p, len);
	return ops->load(dev, &in);
}

START_TEST(sbuf_bounds)
{
	struct sbuf b = { 0 };
	struct srd r;

	sb_u8(&b, 1);
	sb_u16(&b, 0x0203);
	sb_u32(&b, 0x04050607);
	sb_u64(&b, 0x08090a0b0c0d0e0full);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 15);
	srd_init(&r, b.p, b.len);
	ck_assert_uint_eq(srd_u8(&r), 1);
	ck_assert_uint_eq(srd_u16(&r), 0x0203);
	ck_assert_uint_eq(srd_u32(&r), 0x04050607);
	ck_assert_uint_eq(srd_u64(&r), 0x08090a0b0c0d0e0full);
	ck_assert_int_eq(srd_end(&r), 0);
	ck_assert_uint_eq(srd_u32(&r), 0);     /* past the end: zero, and sticky */
	ck_assert_int_eq(srd_end(&r), -EINVAL);
	srd_init(&r, b.p, b.len);
	srd_u8(&r);
	ck_assert_int_eq(srd_end(&r), -EINVAL); /* bytes left over */
	sb_free(&b);
}
END_TEST

START_TEST(serial_roundtrip)
{
	struct serial *a = serial_create(NULL, NULL, NULL, NULL), *c = serial_create(NULL, NULL, NULL, NULL);
	struct sbuf b = { 0 };

	io_wr(&serial_bus_ops, a, 2, 0x01);   /* FCR: FIFO on */
	io_wr(&serial_bus_ops, a, 3, 0x03);   /* LCR 8N1 */
	io_wr(&serial_bus_ops, a, 7, 0x5a);   /* SCR */
	io_wr(&serial_bus_ops, a, 1, 0x01);   /* IER: RX data */
	ck_assert_uint_eq(serial_rx_push(a, (const uint8_t *)"hey", 3), 3);
	ck_assert_int_eq(serial_snap_ops.save(a, &b), 0);
	/* Damaged: truncated, then an RX count above the FIFO. */
	ck_assert_int_eq(load(&serial_snap_ops, c, &b, b.len - 1), -EINVAL);
	uint8_t saved = b.p[11];
	b.p[11] = 17;
	ck_assert_int_eq(load(&serial_snap_ops, c, &b, b.len), -EINVAL);
	b.p[11] = saved;
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 7), 0); /* untouched */
	ck_assert_int_eq(load(&serial_snap_ops, c, &b, b.len), 0);
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 7), 0x5a);
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 1), 0x01);
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 3), 0x03);
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 0), 'h');
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 0), 'e');
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 0), 'y');
	ck_assert_uint_eq(io_rd(&serial_bus_ops, c, 5) & 1, 0); /* FIFO empty now */
	sb_free(&b);
	serial_destroy(a);
	serial_destroy(c);
}
END_TEST

static time_t fixed_now(void *opaque) { return *(time_t *)opaque; }

START_TEST(rtc_roundtrip)
{
	time_t t = 1700000000;
	struct rtc *a = rtc_create(NULL, fixed_now, &t, NULL), *c = rtc_create(NULL, fixed_now, &t, NULL);
	struct sbuf b = { 0 };

	io_wr(&rtc_bus_ops, a, 0, 0x40);       /* CMOS byte 0x40 */
	io_wr(&rtc_bus_ops, a, 1, 0xa5);
	io_wr(&rtc_bus_ops, a, 0, 0x41);       /* index left at 0x41 */
	ck_assert_int_eq(rtc_snap_ops.save(a, &b), 0);
	b.p[128] = 0x80;                       /* index out of range */
	ck_assert_int_eq(load(&rtc_snap_ops, c, &b, b.len), -EINVAL);
	b.p[128] = 0x41;
	ck_assert_int_eq(load(&rtc_snap_ops, c, &b, b.len), 0);
	io_wr(&rtc_bus_ops, c, 0, 0x40);
	ck_assert_uint_eq(io_rd(&rtc_bus_ops, c, 1), 0xa5);
	sb_free(&b);
	rtc_destroy(a);
	rtc_destroy(c);
}
END_TEST

START_TEST(pm_timer_continues)
{
	struct vmctl ctl = { 0 };
	struct fake_irq fi = { 0 };
	struct irq_line sci = { fake_irq_set, &fi, 9 };
	struct pm *a = pm_create(&sci, &ctl, 5), *c;
	struct sbuf b = { 0 };

	usleep(30000);
	uint32_t before = pm_timer_value(a);
	ck_assert_int_eq(pm_snap_ops.save(a, &b), 0);
	c = pm_create(&sci, &ctl, 5);          /* a fresh timer starts at 0 */
	ck_assert_int_eq(load(&pm_snap_ops, c, &b, b.len), 0);
	uint32_t after = pm_timer_value(c);
	/* ~100 k ticks in 30 ms: the restored timer goes on from there. */
	ck_assert_uint_ge(after, before);
	ck_assert_uint_lt(after - before, 3579545u / 10);
	ck_assert_int_eq(load(&pm_snap_ops, c, &b, b.len - 8), -EINVAL);
	sb_free(&b);
	pm_destroy(a);
	pm_destroy(c);
}
END_TEST

START_TEST(i8042_roundtrip)
{
	struct vmctl ctl = { 0 };
	struct i8042 *a = i8042_create(NULL, NULL, &ctl), *c = i8042_create(NULL, NULL, &ctl);
	struct sbuf b = { 0 };

	i8042_key_event(a, (const uint8_t *)"\x1c", 1); /* 'A' make: set 1 0x1e */
	ck_assert_int_eq(i8042_snap_ops.save(a, &b), 0);
	b.p[9] = 3;                            /* keyboard scan code set 3: refused */
	ck_assert_int_eq(load(&i8042_snap_ops, c, &b, b.len), -EINVAL);
	b.p[9] = 2;
	ck_assert_int_eq(load(&i8042_snap_ops, c, &b, b.len), 0);
	ck_assert_uint_eq(io_rd(&i8042_cmd_ops, c, 0) & 1, 1); /* output full */
	ck_assert_uint_eq(io_rd(&i8042_data_ops, c, 0), io_rd(&i8042_data_ops, a, 0));
	sb_free(&b);
	i8042_destroy(a);
	i8042_destroy(c);
}
END_TEST

START_TEST(pci_bus_roundtrip)
{
	struct vmctl ctl = { 0 };
	struct pci_bus a, c;
	struct pci_dev da, dc;
	struct sbuf b = { 0 };

	pci_bus_init(&a, &ctl);
	pci_bus_init(&c, &ctl);
	pci_dev_init(&da, 0x1af4, 0x1005, 0x00ff00, 1);
	pci_dev_init(&dc, 0x1af4, 0x1005, 0x00ff00, 1);
	ck_assert_int_eq(pci_bus_add(&a, 3, &da), 0);
	ck_assert_int_eq(pci_bus_add(&c, 3, &dc), 0);
	pci_bus_cfg_write(&a, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1, 11);
	pci_bus_cfg_write(&a, PCI_DEVFN(3, 0), PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	ck_assert_int_eq(pci_bus_snap_ops.save(&a, &b), 0);
	ck_assert_int_eq(load(&pci_bus_snap_ops, &c, &b, b.len), 0);
	ck_assert_uint_eq(pci_bus_cfg_read(&c, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1), 11);
	ck_assert_uint_eq(pci_bus_cfg_read(&c, PCI_DEVFN(3, 0), PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	/* Another device at that address: not this machine. */
	pci_cfg_set(&dc, PCI_DEVICE_ID, 2, 0x1001);
	ck_assert_int_eq(load(&pci_bus_snap_ops, &c, &b, b.len), -EINVAL);
	sb_free(&b);
	pci_bus_unmap_dev(&a, &da);
	pci_bus_unmap_dev(&c, &dc);
	pci_bus_destroy(&a);
	pci_bus_destroy(&c);
}
END_TEST

CHECK_MAIN("snapshot_devices", sbuf_bounds, serial_roundtrip, rtc_roundtrip, pm_timer_continues,
	   i8042_roundtrip, pci_bus_roundtrip)
