/* Unit tests for the firmware-mode pieces: PCI multi-function config access
 * (PIIX at 00:01.x), the expansion ROM BAR (the display's VGA BIOS) and the
 * 8237 DMA port stubs. */
#include "../unit/check_util.h"
#include <errno.h>
#include <stdlib.h>

#include "devices/bus.h"
#include "devices/dma8237.h"
#include "devices/pci.h"

static void no_stop(void *o, enum stop_reason why, int v) {}

START_TEST(multifunction_visible_behind_fn0)
{
	struct pci_bus b;
	struct vmctl ctl = { .stop = no_stop };
	struct pci_dev f0, f1, f3;

	pci_bus_init(&b, &ctl);
	pci_dev_init(&f0, 0x8086, 0x7000, 0x060100, 0);
	pci_dev_init(&f1, 0x8086, 0x7010, 0x010180, 0);
	pci_dev_init(&f3, 0x8086, 0x7113, 0x068000, 3);
	/* Function 3 before function 0: hidden until function 0 exists. */
	ck_assert_int_eq(pci_bus_add_fn(&b, 1, 3, &f3), 0);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 3), 0, 4), 0xffffffffu);
	ck_assert_int_eq(pci_bus_add_fn(&b, 1, 0, &f0), 0);
	ck_assert_int_eq(pci_bus_add_fn(&b, 1, 1, &f1), 0);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 0), 0, 4), 0x70008086u);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 1), 0, 4), 0x70108086u);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 3), 0, 4), 0x71138086u);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 2), 0, 2), 0xffffu);
	/* Multi-function bit set on function 0 (PCI 3.0 6.2.1). */
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1) & 0x80, 0x80);
	/* Slot taken, bad function, bad slot. */
	ck_assert_int_eq(pci_bus_add_fn(&b, 1, 1, &f1), -EBUSY);
	ck_assert_int_eq(pci_bus_add_fn(&b, 1, 8, &f1), -EINVAL);
	ck_assert_int_eq(pci_bus_add_fn(&b, 32, 0, &f1), -EINVAL);
	/* Writes reach the right function. */
	pci_bus_cfg_write(&b, PCI_DEVFN(1, 3), PCI_INTERRUPT_LINE, 1, 9);
	ck_assert_uint_eq(f3.cfg[PCI_INTERRUPT_LINE], 9);
	ck_assert_uint_eq(f0.cfg[PCI_INTERRUPT_LINE], 0);
	/* A single-function slot keeps header type 0. */
	struct pci_dev s;
	pci_dev_init(&s, 0x1af4, 0x1044, 0x00ff00, 1);
	ck_assert_int_eq(pci_bus_add(&b, 5, &s), 0);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), 0);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, PCI_DEVFN(5, 1), 0, 4), 0xffffffffu);
	pci_bus_destroy(&b);
}
END_TEST

START_TEST(expansion_rom_bar)
{
	struct pci_bus b;
	struct bus pio, mmio;
	struct vmctl ctl = { .stop = no_stop };
	struct pci_dev d;
	uint8_t rom[3000], out[4];
	const uint8_t devfn = PCI_DEVFN(4, 0);

	for (unsigned i = 0; i < sizeof(rom); i++)
		rom[i] = (uint8_t)(i * 7);
	rom[0] = 0x55;
	rom[1] = 0xaa;
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	pci_bus_init(&b, &ctl);
	pci_bus_attach(&b, &pio, &mmio, 0xc0000000u, 0xfec00000u, NULL);
	pci_dev_init(&d, 0x1234, 0x1111, 0x038000, 2);
	ck_assert_int_eq(pci_dev_set_rom(&d, rom, 0, "rom"), -EINVAL);
	ck_assert_int_eq(pci_dev_set_rom(&d, rom, sizeof(rom), "rom"), 0);
	ck_assert_int_eq(pci_bus_add(&b, 4, &d), 0);
	/* Sizing (PCI 3.0 6.2.5.2): 3000 bytes -> 4 KiB, enable bit writable. */
	ck_assert_uint_eq(pci_bus_cfg_read(&b, devfn, PCI_ROM_ADDRESS, 4), 0);
	pci_bus_cfg_write(&b, devfn, PCI_ROM_ADDRESS, 4, 0xfffffffeu);
	ck_assert_uint_eq(pci_bus_cfg_read(&b, devfn, PCI_ROM_ADDRESS, 4), 0xfffff000u);
	ck_assert_int_eq(bus_access(&mmio, 0xfffff000u, out, 4, false), -ENOENT);
	/* Address without the enable bit: not decoded. */
	pci_bus_cfg_write(&b, devfn, PCI_ROM_ADDRESS, 4, 0xfeb00000u);
	ck_assert_int_ne(bus_access(&mmio, 0xfeb00000u, out, 4, false), 0);
	/* Enabled with memory decoding: reads return the image, 0xff past it. */
	pci_bus_cfg_write(&b, devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	pci_bus_cfg_write(&b, devfn, PCI_ROM_ADDRESS, 4, 0xfeb00000u | PCI_ROM_ENABLE);
	ck_assert_int_eq(bus_access(&mmio, 0xfeb00000u, out, 4, false), 0);
	ck_assert_uint_eq(out[0], 0x55);
	ck_assert_uint_eq(out[1], 0xaa);
	ck_assert_uint_eq(out[2], rom[2]);
	ck_assert_int_eq(bus_access(&mmio, 0xfeb00000u + 2998, out, 4, false), 0);
	ck_assert_uint_eq(out[0], rom[2998]);
	ck_assert_uint_eq(out[1], rom[2999]);
	ck_assert_uint_eq(out[2], 0xff);
	ck_assert_uint_eq(out[3], 0xff);
	/* Writes are dropped. */
	uint8_t v = 0;
	ck_assert_int_eq(bus_access(&mmio, 0xfeb00000u, &v, 1, true), 0);
	ck_assert_int_eq(bus_access(&mmio, 0xfeb00000u, out, 1, false), 0);
	ck_assert_uint_eq(out[0], 0x55);
	/* Memory decoding off: gone; unmap_dev leaves nothing behind. */
	pci_bus_cfg_write(&b, devfn, PCI_COMMAND, 2, 0);
	ck_assert_int_ne(bus_access(&mmio, 0xfeb00000u, out, 1, false), 0);
	pci_bus_cfg_write(&b, devfn, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_int_eq(bus_access(&mmio, 0xfeb00000u, out, 1, false), 0);
	pci_bus_unmap_dev(&b, &d);
	ck_assert_int_ne(bus_access(&mmio, 0xfeb00000u, out, 1, false), 0);
	pci_bus_destroy(&b);
	bus_destroy(&mmio);
	bus_destroy(&pio);
}
END_TEST

START_TEST(dma_ports_accept_and_read_back)
{
	struct bus pio;
	struct dma8237 *d = dma8237_create();
	uint8_t v = 0x5a, out = 0;

	ck_assert_ptr_nonnull(d);
	bus_init(&pio, "pio");
	ck_assert_int_eq(dma8237_register(d, &pio), 0);
	/* 0x80 (POST) is left for sysdevs. */
	static const struct bus_ops none = { 0 };
	ck_assert_int_eq(bus_add(&pio, 0x80, 1, &none, NULL, "post"), 0);
	ck_assert_int_eq(bus_access(&pio, 0x0b, &v, 1, true), 0);
	ck_assert_int_eq(bus_access(&pio, 0x0b, &out, 1, false), 0);
	ck_assert_uint_eq(out, 0x5a);
	v = 0x12;
	ck_assert_int_eq(bus_access(&pio, 0xd6, &v, 1, true), 0);
	ck_assert_int_eq(bus_access(&pio, 0xd6, &out, 1, false), 0);
	ck_assert_uint_eq(out, 0x12);
	ck_assert_int_eq(bus_access(&pio, 0x8f, &v, 1, true), 0);
	bus_destroy(&pio);
	dma8237_destroy(d);
}
END_TEST

CHECK_MAIN("fw_devices", multifunction_visible_behind_fn0, expansion_rom_bar,
	dma_ports_accept_and_read_back)
