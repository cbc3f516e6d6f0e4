/* PM1 block, PCI config mechanism #1 with 0xCF9 reset, and system ports. */
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "devices/pci.h"
#include "devices/pm.h"
#include "devices/sysdevs.h"
#include "fakes.h"


static void w(const struct bus_ops *ops, void *dev, uint64_t off, uint64_t v, uint32_t len)
{
	uint8_t d[8];
	bus_put_le(d, len, v);
	ops->write(dev, off, d, len);
}
static uint64_t r(const struct bus_ops *ops, void *dev, uint64_t off, uint32_t len)
{
	uint8_t d[8];
	ops->read(dev, off, d, len);
	return bus_get_le(d, len);
}

START_TEST(pm_s5_and_button)
{
	struct fake_ctl c = { 0 };
	struct fake_irq i = { 0 };
	struct vmctl ctl = fake_vmctl(&c);
	struct irq_line sci = fake_irq_line(&i, 9);
	struct pm *pm = pm_create(&sci, &ctl, 5);
	ck_assert_uint_eq(r(&pm_bus_ops, pm, 4, 2) & PM1_CNT_SCI_EN, PM1_CNT_SCI_EN);
	/* Another sleep type is ignored. */
	w(&pm_bus_ops, pm, 4, (3u << 10) | PM1_CNT_SLP_EN, 2);
	ck_assert_int_eq(c.stops, 0);
	/* Power button: SCI only while enabled; write-1-to-clear. */
	pm_power_button(pm);
	ck_assert_int_eq(i.level, 0);
	w(&pm_bus_ops, pm, 2, PM1_STS_PWRBTN, 2);
	ck_assert_int_eq(i.level, 1);
	ck_assert_uint_eq(r(&pm_bus_ops, pm, 0, 2) & PM1_STS_PWRBTN, PM1_STS_PWRBTN);
	ck_assert_uint_eq(r(&pm_bus_ops, pm, 0, 4) >> 16, PM1_STS_PWRBTN); /* EN in high half */
	w(&pm_bus_ops, pm, 0, PM1_STS_PWRBTN, 2);
	ck_assert_int_eq(i.level, 0);
	/* PM timer runs. */
	uint32_t t1 = (uint32_t)r(&pm_bus_ops, pm, 8, 4);
	usleep(2000);
	uint32_t t2 = (uint32_t)r(&pm_bus_ops, pm, 8, 4);
	ck_assert_uint_gt(t2 - t1, 3579); /* >= ~1 ms of 3.58 MHz ticks */
	/* S5 powers off. */
	w(&pm_bus_ops, pm, 4, (5u << 10) | PM1_CNT_SLP_EN, 2);
	ck_assert_int_eq(c.stops, 1);
	ck_assert_int_eq(c.why, STOP_POWEROFF);
	/* Hostile offsets and widths. */
	r(&pm_bus_ops, pm, 11, 1);
	w(&pm_bus_ops, pm, 9, 0xffffffff, 4);
	pm_destroy(pm);
}
END_TEST

static uint32_t cfg_rd(struct pci_bus *b, unsigned dev, unsigned reg, uint32_t len)
{
	w(&pci_cfg_ops, b, 0, 0x80000000u | (dev << 11) | (reg & 0xfc), 4);
	return (uint32_t)r(&pci_cfg_ops, b, 4 + (reg & 3), len);
}
static void cfg_wr(struct pci_bus *b, unsigned dev, unsigned reg, uint32_t v, uint32_t len)
{
	w(&pci_cfg_ops, b, 0, 0x80000000u | (dev << 11) | (reg & 0xfc), 4);
	w(&pci_cfg_ops, b, 4 + (reg & 3), v, len);
}

START_TEST(pci_config)
{
	struct fake_ctl c = { 0 };
	struct vmctl ctl = fake_vmctl(&c);
	struct pci_bus b;
	pci_bus_init(&b, &ctl);
	ck_assert_uint_eq(cfg_rd(&b, 0, 0, 4), 0x12378086);
	ck_assert_uint_eq(cfg_rd(&b, 0, 0x0a, 2), 0x0600);
	ck_assert_uint_eq(cfg_rd(&b, 0, 2, 2), 0x1237);
	/* Empty slots and other functions read all ones. */
	ck_assert_uint_eq(cfg_rd(&b, 5, 0, 4), 0xffffffff);
	w(&pci_cfg_ops, &b, 0, 0x80000100u, 4); /* 00:00.1 */
	ck_assert_uint_eq(r(&pci_cfg_ops, &b, 4, 4), 0xffffffff);
	/* Enable bit clear: no access. */
	w(&pci_cfg_ops, &b, 0, 0x00000000u, 4);
	ck_assert_uint_eq(r(&pci_cfg_ops, &b, 4, 2), 0xffff);
	/* Read-only IDs, writable command bits only. */
	cfg_wr(&b, 0, 0, 0xdeadbeef, 4);
	ck_assert_uint_eq(cfg_rd(&b, 0, 0, 4), 0x12378086);
	cfg_wr(&b, 0, 4, 0xffff, 2);
	ck_assert_uint_eq(cfg_rd(&b, 0, 4, 2), 0x0507);
	/* Address register reads back (low bits dropped). */
	w(&pci_cfg_ops, &b, 0, 0x8000f8ffu, 4);
	ck_assert_uint_eq(r(&pci_cfg_ops, &b, 0, 4), 0x8000f8fcu);
	/* A device added at a slot. */
	struct pci_dev d;
	pci_dev_init(&d, 0x1af4, 0x1042, 0x010000, 1);
	ck_assert_int_eq(pci_bus_add(&b, 3, &d), 0);
	ck_assert_int_ne(pci_bus_add(&b, 3, &d), 0);
	ck_assert_int_ne(pci_bus_add(&b, 0, &d), 0);
	ck_assert_int_ne(pci_bus_add(&b, 32, &d), 0);
	ck_assert_uint_eq(cfg_rd(&b, 3, 0, 4), 0x10421af4);
	/* Bus 1 does not exist. */
	w(&pci_cfg_ops, &b, 0, 0x80010000u | (3 << 11), 4);
	ck_assert_uint_eq(r(&pci_cfg_ops, &b, 4, 4), 0xffffffff);
	/* 0xCF9: a write without RST_CPU does nothing, 0x06 resets. */
	w(&pci_cfg_ops, &b, 1, 0x02, 1);
	ck_assert_int_eq(c.stops, 0);
	w(&pci_cfg_ops, &b, 1, 0x06, 1);
	ck_assert_int_eq(c.stops, 1);
	ck_assert_int_eq(c.why, STOP_RESET);
	pci_bus_destroy(&b);
}
END_TEST

START_TEST(system_ports)
{
	struct fake_ctl c = { 0 };
	struct vmctl ctl = fake_vmctl(&c);
	struct sysdevs *s = sysdevs_create(&ctl, NULL, NULL);
	struct bus pio;
	uint8_t d[4];
	bus_init(&pio, "pio");
	ck_assert_int_eq(bus_add(&pio, 0xf4, 4, &sysdevs_debug_exit_ops, s, "debug-exit"), 0);
	ck_assert_int_eq(bus_add(&pio, 0x80, 1, &sysdevs_post_ops, s, "post"), 0);
	ck_assert_int_eq(bus_add(&pio, 0x92, 1, &sysdevs_port92_ops, s, "port92"), 0);
	bus_put_le(d, 4, 42);
	ck_assert_int_eq(bus_access(&pio, 0xf4, d, 4, true), 0);
	ck_assert_int_eq(c.why, STOP_DEBUG_EXIT);
	ck_assert_int_eq(c.value, 42);
	bus_put_le(d, 1, 0x55);
	ck_assert_int_eq(bus_access(&pio, 0x80, d, 1, true), 0);
	ck_assert_uint_eq(sysdevs_post_code(s), 0x55);
	ck_assert_int_eq(bus_access(&pio, 0x92, d, 1, false), 0);
	ck_assert_uint_eq(d[0] & 2, 2); /* A20 on */
	c.stops = 0;
	d[0] = 0x03;
	bus_access(&pio, 0x92, d, 1, true);
	ck_assert_int_eq(c.stops, 1);
	ck_assert_int_eq(c.why, STOP_RESET);
	bus_destroy(&pio);
	sysdevs_destroy(s);
}
END_TEST

CHECK_MAIN("chipset", pm_s5_and_button, pci_config, system_ports)
