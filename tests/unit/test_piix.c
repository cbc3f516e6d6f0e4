/* Unit tests for the i440FX PAM / PIIX3 ISA / PIIX4 PM config behaviour,
 * with guest writes going through pci.c's masked config path. The ISA and PM
 * functions sit at slots 1 and 2 here because pci.c has no multi-function
 * support yet. */
#include <check.h>
#include <string.h>

#include "check_util.h"
#include "devices/piix.h"

static struct pci_bus bus;
static struct piix px;
static struct vmctl ctl;

static int pam_calls;
static unsigned last_region, last_mode;
static int pirq_calls;
static unsigned last_pirq;
static uint8_t last_irq;
static bool last_en;
static int pm_calls;
static uint16_t last_base;
static bool last_pm_en;

static void on_pam(void *o, unsigned region, unsigned mode)
{
	pam_calls++;
	last_region = region;
	last_mode = mode;
}

static void on_pirq(void *o, unsigned pirq, uint8_t irq, bool en)
{
	pirq_calls++;
	last_pirq = pirq;
	last_irq = irq;
	last_en = en;
}

static void on_pm(void *o, uint16_t base, bool en)
{
	pm_calls++;
	last_base = base;
	last_pm_en = en;
}

#define ISA_DEVFN (1 << 3)
#define PM_DEVFN  (2 << 3)

static void setup(void)
{
	struct piix_callbacks cb = { on_pam, on_pirq, on_pm, NULL };

	pam_calls = pirq_calls = pm_calls = 0;
	ck_assert_int_eq(pci_bus_init(&bus, &ctl), 0);
	ck_assert_int_eq(piix_init(&px, &bus.host, &cb), 0);
	ck_assert_int_eq(pci_bus_add(&bus, 1, &px.isa), 0);
	ck_assert_int_eq(pci_bus_add(&bus, 2, &px.pm), 0);
}

static void teardown(void)
{
	piix_destroy(&px);
	pci_bus_destroy(&bus);
}

START_TEST(test_pam)
{
	uint32_t base, size;

	ck_assert(piix_pam_region(0, &base, &size));
	ck_assert_uint_eq(base, 0xf0000);
	ck_assert_uint_eq(size, 0x10000);
	ck_assert(piix_pam_region(12, &base, &size));
	ck_assert_uint_eq(base, 0xec000);
	ck_assert(!piix_pam_region(13, &base, &size));

	/* SeaBIOS make_bios_writable: PAM0 = 0x30 (F-segment RW). */
	pci_bus_cfg_write(&bus, 0, I440FX_PAM0, 1, 0x30);
	ck_assert_int_eq(pam_calls, 1);
	ck_assert_uint_eq(last_region, 0);
	ck_assert_uint_eq(last_mode, PAM_MODE_RW);
	ck_assert_uint_eq(piix_pam_mode(&px, 0), PAM_MODE_RW);
	/* Reserved bits are masked. */
	pci_bus_cfg_write(&bus, 0, I440FX_PAM0, 1, 0xff);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, 0, I440FX_PAM0, 1), 0x30);
	ck_assert_int_eq(pam_calls, 1);
	/* Dword write over PAM1..PAM4: 0x5A low = region 1 read-only,
	 * 0x5A high = region 2 write-only. */
	pam_calls = 0;
	pci_bus_cfg_write(&bus, 0, 0x58, 4, 0x00211100);
	ck_assert_uint_eq(piix_pam_mode(&px, 1), PAM_MODE_READ);
	ck_assert_uint_eq(piix_pam_mode(&px, 2), PAM_MODE_WRITE);
	ck_assert_uint_eq(piix_pam_mode(&px, 3), PAM_MODE_ROM);
	ck_assert_uint_eq(piix_pam_mode(&px, 0), PAM_MODE_READ); /* 0x59 = 0x11 & 0x30 */
	ck_assert_int_eq(pam_calls, 3);
	/* SMRAM accepted. */
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, 0, I440FX_SMRAM, 1), 0x02);
	pci_bus_cfg_write(&bus, 0, I440FX_SMRAM, 1, 0x4a);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, 0, I440FX_SMRAM, 1), 0x4a);
}
END_TEST

START_TEST(test_isa_bridge)
{
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, ISA_DEVFN, 0, 4), 0x70008086);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, ISA_DEVFN, PCI_HEADER_TYPE, 1), 0x80);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, ISA_DEVFN, PCI_CLASS_DEVICE, 2), 0x0601);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, ISA_DEVFN, PIIX3_PIRQRC, 4), 0x80808080);
	pci_bus_cfg_write(&bus, ISA_DEVFN, PIIX3_PIRQRC + 2, 1, 11);
	ck_assert_int_eq(pirq_calls, 1);
	ck_assert_uint_eq(last_pirq, 2);
	ck_assert_uint_eq(last_irq, 11);
	ck_assert(last_en);
	pci_bus_cfg_write(&bus, ISA_DEVFN, PIIX3_PIRQRC + 2, 1, 11); /* no change */
	ck_assert_int_eq(pirq_calls, 1);
	pci_bus_cfg_write(&bus, ISA_DEVFN, PIIX3_PIRQRC + 2, 1, 0xff); /* masked to 0x8f */
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, ISA_DEVFN, PIIX3_PIRQRC + 2, 1), 0x8f);
	ck_assert(!last_en);
}
END_TEST

START_TEST(test_elcr)
{
	uint8_t b[2] = { 0xff, 0xff };

	piix_elcr_ops.write(&px, 0, b, 2);
	ck_assert_uint_eq(piix_elcr(&px), 0xdef8);
	b[0] = 0x20; /* IRQ5 */
	piix_elcr_ops.write(&px, 0, b, 1);
	b[0] = 0x0e; /* IRQ 9, 10, 11 */
	piix_elcr_ops.write(&px, 1, b, 1);
	ck_assert_uint_eq(piix_elcr(&px), 0x0e20);
	piix_elcr_ops.read(&px, 0, b, 2);
	ck_assert_uint_eq(b[0], 0x20);
	ck_assert_uint_eq(b[1], 0x0e);
}
END_TEST

START_TEST(test_pm)
{
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, PM_DEVFN, 0, 4), 0x71138086);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, PM_DEVFN, PIIX4_PMBA, 4), 1);
	ck_assert_uint_ne(pci_bus_cfg_read(&bus, PM_DEVFN, PIIX4_DEVACTB, 4) &
			  PIIX4_DEVACTB_APMC_EN, 0);
	/* SeaBIOS piix4_pm_setup. */
	pci_bus_cfg_write(&bus, PM_DEVFN, PIIX4_PMBA, 4, 0xb000 | 1);
	ck_assert_int_eq(pm_calls, 1);
	ck_assert_uint_eq(last_base, 0xb000);
	ck_assert(!last_pm_en);
	pci_bus_cfg_write(&bus, PM_DEVFN, PIIX4_PMREGMISC, 1, 0x01);
	ck_assert_int_eq(pm_calls, 2);
	ck_assert(last_pm_en);
	ck_assert_uint_eq(last_base, 0xb000);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, PM_DEVFN, PIIX4_PMBA, 4), 0xb001);
	pci_bus_cfg_write(&bus, PM_DEVFN, PIIX4_SMBBA, 4, 0xb100 | 1);
	ck_assert_uint_eq(pci_bus_cfg_read(&bus, PM_DEVFN, PIIX4_SMBBA, 4), 0xb101);
	ck_assert_int_eq(pm_calls, 2);
	/* Unaligned base bits are masked to the 64-byte block. */
	pci_bus_cfg_write(&bus, PM_DEVFN, PIIX4_PMBA, 4, 0x0633);
	ck_assert_uint_eq(last_base, 0x0600);
}
END_TEST

CHECK_MAIN_FIXTURE("piix", setup, teardown, test_pam, test_isa_bridge, test_elcr, test_pm)
