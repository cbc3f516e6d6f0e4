/* Unit tests for the ACPI table builder (src/devices/acpi.c). */
#include "check_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "machine/legacy.h"
#include "machine/pc_map.h"

#define BASE   LAYOUT_ACPI_BASE
#define CAP    LAYOUT_ACPI_SIZE
#define CANARY 0x5a

static uint8_t region[CAP];

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static struct acpi_config default_cfg(unsigned ncpus)
{
	struct acpi_config c = {
		.ncpus = ncpus,
		.pm_base = PORT_PM_BASE,
		.sci_irq = IRQ_SCI,
		.reset_port = PORT_RESET_CTRL,
		.pci_mmio_start = LAYOUT_PCI_MMIO_START,
		.pci_mmio_end = LAYOUT_PCI_MMIO_END,
		.pci_mmio64_start = 0x8000000000ULL,
		.pci_mmio64_end = 0x10000000000ULL,
		.pci_io_start = 0x1000,
		.pci_io_end = 0x10000,
		.ecam_base = LAYOUT_PCIE_ECAM,
		.ecam_bus_end = 255,
	};
	legacy_acpi_describe(&c); /* the machine's COM1, RTC, KBD, MOU */
	return c;
}

static const uint8_t *build(const struct acpi_config *c, struct acpi_result *r)
{
	memset(region, 0xee, sizeof(region));
	ck_assert_int_eq(acpi_build(c, region, CAP, BASE, r), 0);
	ck_assert_uint_le(r->used, CAP);
	return region;
}

static const uint8_t *find(const char *sig)
{
	return acpi_find_table(region, CAP, BASE, sig);
}

static const uint8_t *mem_find(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
	return memmem(h, hl, n, nl);
}

START_TEST(rsdp_and_checksums)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	build(&c, &r);

	ck_assert_uint_eq(r.rsdp_gpa, BASE);
	ck_assert_uint_eq(r.rsdp_gpa % 16, 0);
	const uint8_t *rsdp = region;
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(acpi_checksum(rsdp, 20), 0);
	ck_assert_uint_eq(acpi_checksum(rsdp, 36), 0);
	ck_assert_uint_eq(rsdp[15], 2);
	ck_assert_uint_eq(rd32(rsdp + 20), 36);
	ck_assert_mem_eq(rsdp + 9, "MYVMM ", 6);
	ck_assert_uint_eq(rd64(rsdp + 24), BASE + r.off_xsdt);
	ck_assert_uint_eq(rd32(rsdp + 16), BASE + r.off_rsdt);

	static const char *sigs[] = { "XSDT", "RSDT", "FACP", "APIC", "MCFG", "DSDT" };
	for (size_t i = 0; i < 6; i++) {
		const uint8_t *t = find(sigs[i]);
		ck_assert_msg(t != NULL, "%s missing", sigs[i]);
		ck_assert_mem_eq(t, sigs[i], 4);
		ck_assert_uint_eq(acpi_checksum(t, rd32(t + 4)), 0);
		ck_assert_mem_eq(t + 10, "MYVMM ", 6);
		ck_assert_mem_eq(t + 16, "MYVMMPC ", 8);
		ck_assert_uint_le((size_t)(t - region) + rd32(t + 4), r.used);
	}
	const uint8_t *facs = find("FACS");
	ck_assert_ptr_nonnull(facs);
	ck_assert_uint_eq(rd32(facs + 4), 64);
}
END_TEST

START_TEST(xsdt_rsdt_entries)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	build(&c, &r);

	const uint8_t *x = region + r.off_xsdt, *rs = region + r.off_rsdt;
	static const char *want[] = { "FACP", "APIC", "MCFG" };
	const size_t offs[] = { r.off_fadt, r.off_madt, r.off_mcfg };
	ck_assert_uint_eq(rd32(x + 4), 36 + 3 * 8);
	ck_assert_uint_eq(rd32(rs + 4), 36 + 3 * 4);
	for (int i = 0; i < 3; i++) {
		uint64_t gpa = rd64(x + 36 + 8 * i);
		ck_assert_uint_eq(gpa, BASE + offs[i]);
		ck_assert_uint_eq(rd32(rs + 36 + 4 * i), gpa);
		ck_assert_uint_ge(gpa, BASE);
		ck_assert_uint_lt(gpa - BASE, r.used);
		ck_assert_mem_eq(region + (gpa - BASE), want[i], 4);
		ck_assert_uint_eq(gpa % 8, 0);
	}

	/* Without ECAM there is no MCFG. */
	c.ecam_base = 0;
	build(&c, &r);
	ck_assert_uint_eq(r.off_mcfg, 0);
	ck_assert_ptr_null(find("MCFG"));
	ck_assert_uint_eq(rd32(region + r.off_xsdt + 4), 36 + 2 * 8);
}
END_TEST

static void check_madt(unsigned ncpus)
{
	struct acpi_config c = default_cfg(ncpus);
	struct acpi_result r;
	build(&c, &r);

	const uint8_t *m = find("APIC");
	ck_assert_ptr_nonnull(m);
	uint32_t len = rd32(m + 4);
	ck_assert_uint_eq(rd32(m + 36), 0xfee00000);
	ck_assert_uint_eq(rd32(m + 40), 1);          /* PCAT_COMPAT */
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	bool iso0 = false, iso_sci = false;
	size_t off = 44;
	while (off < len) {
		ck_assert_uint_le(off + 2, len);
		uint8_t type = m[off], l = m[off + 1];
		ck_assert_uint_ge(l, 2);
		ck_assert_uint_le(off + l, len);
		switch (type) {
		case 0:
			ck_assert_uint_eq(l, 8);
			ck_assert_uint_eq(m[off + 2], lapics);       /* UID */
			ck_assert_uint_eq(m[off + 3], lapics);       /* APIC ID */
			ck_assert_uint_eq(rd32(m + off + 4), 1);     /* enabled */
			lapics++;
			break;
		case 1:
			ck_assert_uint_eq(l, 12);
			ck_assert_uint_eq(rd32(m + off + 4), 0xfec00000);
			ck_assert_uint_eq(rd32(m + off + 8), 0);
			ioapics++;
			break;
		case 2:
			ck_assert_uint_eq(l, 10);
			ck_assert_uint_eq(m[off + 2], 0);
			if (m[off + 3] == 0) {
				ck_assert_uint_eq(rd32(m + off + 4), 2);
				ck_assert_uint_eq(rd16(m + off + 8), 0);
				iso0 = true;
			} else if (m[off + 3] == IRQ_SCI) {
				ck_assert_uint_eq(rd32(m + off + 4), IRQ_SCI);
				ck_assert_uint_eq(rd16(m + off + 8), 0x000d);
				iso_sci = true;
			}
			isos++;
			break;
		case 4:
			ck_assert_uint_eq(l, 6);
			ck_assert_uint_eq(m[off + 2], 0xff);
			ck_assert_uint_eq(m[off + 5], 1);            /* LINT1 */
			nmis++;
			break;
		default:
			ck_abort_msg("unexpected MADT type %u", type);
		}
		off += l;
	}
	ck_assert_uint_eq(off, len);
	ck_assert_uint_eq(lapics, ncpus);
	ck_assert_uint_eq(ioapics, 1);
	ck_assert_uint_eq(isos, 2);
	ck_assert(iso0 && iso_sci);
	ck_assert_uint_eq(nmis, 1);
}

START_TEST(madt_cpu_counts)
{
	check_madt(1);
	check_madt(2);
	check_madt(64);
	check_madt(255);
}
END_TEST

START_TEST(fadt_fields)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	build(&c, &r);

	const uint8_t *f = find("FACP");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(rd32(f + 4), 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_uint_eq(rd16(f + 46), IRQ_SCI);
	ck_assert_uint_eq(rd32(f + 48), 0);                   /* SMI_CMD */
	ck_assert_uint_eq(rd32(f + 56), PORT_PM1A_EVT);
	ck_assert_uint_eq(rd32(f + 64), PORT_PM1A_CNT);
	ck_assert_uint_eq(rd32(f + 76), PORT_PM_TMR);
	ck_assert_uint_eq(f[88], 4);
	ck_assert_uint_eq(f[89], 2);
	ck_assert_uint_eq(f[91], 4);
	ck_assert_uint_le(f[45], 1);
	/* X_ blocks: system I/O, width = LEN * 8, same port. */
	ck_assert_uint_eq(f[148], 1);
	ck_assert_uint_eq(f[149], 32);
	ck_assert_uint_eq(rd64(f + 152), PORT_PM1A_EVT);
	ck_assert_uint_eq(f[172], 1);
	ck_assert_uint_eq(f[173], 16);
	ck_assert_uint_eq(rd64(f + 176), PORT_PM1A_CNT);
	ck_assert_uint_eq(f[208], 1);
	ck_assert_uint_eq(f[209], 32);
	ck_assert_uint_eq(rd64(f + 212), PORT_PM_TMR);
	/* Reset register: system I/O byte at 0xCF9, value 6. */
	ck_assert_uint_eq(f[116], 1);
	ck_assert_uint_eq(f[117], 8);
	ck_assert_uint_eq(f[119], 1);
	ck_assert_uint_eq(rd64(f + 120), 0xcf9);
	ck_assert_uint_eq(f[128], 0x06);
	/* Flags. */
	uint32_t flags = rd32(f + 112);
	ck_assert_uint_eq(flags, ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON |
			  ACPI_FADT_RESET_REG_SUP | ACPI_FADT_TMR_VAL_EXT);
	ck_assert(!(flags & ACPI_FADT_PWR_BUTTON));
	ck_assert_uint_eq(rd16(f + 109), ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042);
	/* DSDT and FACS pointers, both widths, agree with the layout. */
	ck_assert_uint_eq(rd64(f + 140), BASE + r.off_dsdt);
	ck_assert_uint_eq(rd32(f + 40), BASE + r.off_dsdt);
	ck_assert_uint_eq(rd64(f + 132), 0); /* only one FACS pointer */
	ck_assert_uint_eq(rd32(f + 36), BASE + r.off_facs);
	ck_assert_mem_eq(region + r.off_dsdt, "DSDT", 4);
	ck_assert_mem_eq(region + r.off_facs, "FACS", 4);
	ck_assert_uint_eq((BASE + r.off_facs) % 64, 0);

	/* No i8042, no RTC: the machine says so in boot_arch. */
	c.boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_NO_CMOS_RTC;
	build(&c, &r);
	f = find("FACP");
	ck_assert_uint_eq(rd16(f + 109), ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_NO_CMOS_RTC);
}
END_TEST

START_TEST(facs_alignment_odd_base)
{
	struct acpi_config c = default_cfg(4);
	struct acpi_result r;
	static uint8_t buf[8192];

	/* 16-aligned but not 64-aligned base. */
	for (uint64_t base = 0xe0010; base < 0xe0040; base += 16) {
		ck_assert_int_eq(acpi_build(&c, buf, sizeof(buf), base, &r), 0);
		ck_assert_uint_eq((base + r.off_facs) % 64, 0);
		const uint8_t *f = acpi_find_table(buf, sizeof(buf), base, "FACS");
		ck_assert_ptr_eq(f, buf + r.off_facs);
	}
	ck_assert_int_eq(acpi_build(&c, buf, sizeof(buf), 0xe0008, &r), -EINVAL);
}
END_TEST

START_TEST(mcfg_fields)
{
	struct acpi_config c = default_cfg(1);
	struct acpi_result r;
	build(&c, &r);
	const uint8_t *m = find("MCFG");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(rd32(m + 4), 60);
	ck_assert_uint_eq(rd64(m + 44), LAYOUT_PCIE_ECAM);
	ck_assert_uint_eq(rd16(m + 52), 0);
	ck_assert_uint_eq(m[54], 0);
	ck_assert_uint_eq(m[55], 255);
}
END_TEST

static uint8_t eisa_bytes[4];
static const uint8_t *eisa(const char *id)
{
	uint32_t v;
	ck_assert_int_eq(aml_eisaid_value(id, &v), 0);
	for (int i = 0; i < 4; i++)
		eisa_bytes[i] = (uint8_t)(v >> (8 * i));
	return eisa_bytes;
}

START_TEST(dsdt_content)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	build(&c, &r);

	const uint8_t *d = find("DSDT");
	ck_assert_ptr_nonnull(d);
	uint32_t len = rd32(d + 4);
	ck_assert_uint_eq(d[8], 2);

	/* Name(\_S5, Package(4) { 5, 5, 0, 0 }) */
	const uint8_t *s5 = mem_find(d, len, "_S5_", 4);
	ck_assert_ptr_nonnull(s5);
	ck_assert_uint_eq(s5[4], 0x12);                 /* PackageOp */
	ck_assert_uint_eq(s5[5], 0x08);                 /* PkgLength */
	ck_assert_uint_eq(s5[6], 4);                    /* NumElements */
	ck_assert_uint_eq(s5[7], 0x0a);                 /* BytePrefix */
	ck_assert_uint_eq(s5[8], ACPI_S5_SLP_TYP);
	ck_assert_uint_eq(ACPI_S5_SLP_TYP, 5);

	static const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	ck_assert_ptr_nonnull(mem_find(d, len, pnp0a03, sizeof(pnp0a03)));
	ck_assert_ptr_nonnull(mem_find(d, len, "PCI0", 4));
	ck_assert_ptr_nonnull(mem_find(d, len, eisa("PNP0501"), 4));
	ck_assert_ptr_nonnull(mem_find(d, len, eisa("PNP0B00"), 4));
	ck_assert_ptr_nonnull(mem_find(d, len, eisa("PNP0303"), 4));
	ck_assert_ptr_nonnull(mem_find(d, len, eisa("PNP0F13"), 4));
	/* COM1 _CRS: IO(Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags{4}. */
	static const uint8_t com1[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00 };
	ck_assert_ptr_nonnull(mem_find(d, len, com1, sizeof(com1)));
	/* PCI0 _CRS: bus numbers 0..255 and the 0xCF8 config ports. */
	static const uint8_t bus[] = { 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0xff, 0 };
	ck_assert_ptr_nonnull(mem_find(d, len, bus, sizeof(bus)));
	static const uint8_t cf8[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	ck_assert_ptr_nonnull(mem_find(d, len, cf8, sizeof(cf8)));
	ck_assert_ptr_nonnull(mem_find(d, len, "\x8a\x2b\x00", 3));   /* QWordMemory */

	/* Devices disabled: their ids vanish; no 64-bit window: no QWord. */
	size_t full_len = len;
	c.nisa = 0;
	c.pci_mmio64_start = c.pci_mmio64_end = 0;
	build(&c, &r);
	d = find("DSDT");
	len = rd32(d + 4);
	ck_assert_uint_lt(len, full_len);
	ck_assert_uint_eq(acpi_checksum(d, len), 0);
	ck_assert_ptr_null(mem_find(d, len, eisa("PNP0501"), 4));
	ck_assert_ptr_null(mem_find(d, len, eisa("PNP0B00"), 4));
	ck_assert_ptr_null(mem_find(d, len, eisa("PNP0303"), 4));
	ck_assert_ptr_null(mem_find(d, len, eisa("PNP0F13"), 4));
	ck_assert_ptr_null(mem_find(d, len, "\x8a\x2b\x00", 3));
	ck_assert_ptr_nonnull(mem_find(d, len, pnp0a03, sizeof(pnp0a03)));
}
END_TEST

static int prt_hook(struct aml *a, void *opaque)
{
	int *calls = opaque;
	(*calls)++;
	aml_name(a, "_PRT");
	size_t p = aml_package_open(a, 0);
	aml_close(a, p);
	return aml_error(a);
}

static int failing_hook(struct aml *a, void *opaque)
{
	return -EIO;
}

START_TEST(pci0_hook)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	int calls = 0;

	c.pci0_aml = prt_hook;
	c.pci0_aml_opaque = &calls;
	build(&c, &r);
	ck_assert_int_eq(calls, 1);
	const uint8_t *d = find("DSDT");
	ck_assert_uint_eq(acpi_checksum(d, rd32(d + 4)), 0);
	ck_assert_ptr_nonnull(mem_find(d, rd32(d + 4), "\x08_PRT\x12\x02\x00", 8));

	c.pci0_aml = failing_hook;
	ck_assert_int_eq(acpi_build(&c, region, CAP, BASE, &r), -EIO);
}
END_TEST

START_TEST(enospc_no_overflow)
{
	struct acpi_config c = default_cfg(255);
	struct acpi_result r;
	build(&c, &r);
	size_t need = r.used;
	ck_assert_uint_gt(need, 255 * 8);

	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *buf = malloc(cap + 64);
		ck_assert_ptr_nonnull(buf);
		memset(buf, CANARY, cap + 64);
		ck_assert_int_eq(acpi_build(&c, buf, cap, BASE, &r), -ENOSPC);
		for (size_t i = cap; i < cap + 64; i++)
			ck_assert_msg(buf[i] == CANARY, "overflow at cap %zu", cap);
		free(buf);
	}
	uint8_t *buf = malloc(need + 64);
	memset(buf, CANARY, need + 64);
	ck_assert_int_eq(acpi_build(&c, buf, need, BASE, &r), 0);
	ck_assert_uint_eq(r.used, need);
	for (size_t i = need; i < need + 64; i++)
		ck_assert_uint_eq(buf[i], CANARY);
	free(buf);

	/* Per-table builders too. */
	uint8_t small[300];
	memset(small, CANARY, sizeof(small));
	ck_assert_int_eq(acpi_build_fadt(&c, small, 275, 0, 0), -ENOSPC);
	ck_assert_int_eq(acpi_build_madt(&c, small, 100), -ENOSPC);
	ck_assert_int_eq(acpi_build_dsdt(&c, small, 200), -ENOSPC);
	ck_assert_int_eq(acpi_build_rsdp(small, 35, 0, 0), -ENOSPC);
	ck_assert_int_eq(acpi_build_facs(small, 63), -ENOSPC);
	for (size_t i = 275; i < sizeof(small); i++)
		ck_assert_uint_eq(small[i], CANARY);
	ck_assert_int_eq(acpi_build_fadt(&c, small, 276, 0, 0), 276);
}
END_TEST

START_TEST(invalid_configs)
{
	struct acpi_config c;
	struct acpi_result r;

	c = default_cfg(0);
	ck_assert_int_eq(acpi_build(&c, region, CAP, BASE, &r), -EINVAL);
	c = default_cfg(256);
	ck_assert_int_eq(acpi_build(&c, region, CAP, BASE, &r), -EINVAL);
	ck_assert_int_eq(acpi_build_madt(&c, region, CAP), -EINVAL);
	c = default_cfg(1);
	c.pci_mmio_end = c.pci_mmio_start;
	ck_assert_int_eq(acpi_build(&c, region, CAP, BASE, &r), -EINVAL);
	c = default_cfg(1);
	c.pci_mmio_end = 0x100000001ULL;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	c = default_cfg(1);
	c.sci_irq = 16;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	c = default_cfg(1);
	c.pci_io_start = 0x800;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	c = default_cfg(1);
	c.pci_io_end = 0x10001;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	c = default_cfg(1);
	c.ecam_base = 0xe0001000;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	c = default_cfg(1);
	c.pm_base = 0;
	ck_assert_int_eq(acpi_config_check(&c), -EINVAL);
	ck_assert_int_eq(acpi_config_check(NULL), -EINVAL);
	c = default_cfg(1);
	ck_assert_int_eq(acpi_build(&c, region, CAP, BASE, NULL), -EINVAL);
	ck_assert_int_eq(acpi_build_mcfg(&(struct acpi_config){ .ncpus = 1 }, region, CAP), -EINVAL);
}
END_TEST

START_TEST(tables_above_4g)
{
	struct acpi_config c = default_cfg(2);
	struct acpi_result r;
	static uint8_t buf[8192];
	const uint64_t base = 0x100000000ULL;

	ck_assert_int_eq(acpi_build(&c, buf, sizeof(buf), base, &r), 0);
	ck_assert_uint_eq(r.off_rsdt, 0);
	ck_assert_uint_eq(rd32(buf + 16), 0);                 /* RSDP RsdtAddress */
	ck_assert_uint_eq(acpi_checksum(buf, 20), 0);
	const uint8_t *f = acpi_find_table(buf, sizeof(buf), base, "FACP");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(rd32(f + 36), 0);
	ck_assert_uint_eq(rd32(f + 40), 0);
	ck_assert_uint_eq(rd64(f + 140), base + r.off_dsdt);
	ck_assert_ptr_nonnull(acpi_find_table(buf, sizeof(buf), base, "DSDT"));
	uint64_t e = 0x100000000ULL;
	ck_assert_int_eq(acpi_build_rsdt(buf, sizeof(buf), &e, 1), -EINVAL);
}
END_TEST

START_TEST(find_table_rejects_garbage)
{
	static uint8_t junk[256];
	memset(junk, 0, sizeof(junk));
	ck_assert_ptr_null(acpi_find_table(junk, sizeof(junk), BASE, "FACP"));
	/* An RSDP whose XSDT points outside the buffer. */
	ck_assert_int_eq(acpi_build_rsdp(junk, sizeof(junk), 0, BASE + 0x10000), 36);
	ck_assert_ptr_nonnull(acpi_find_table(junk, sizeof(junk), BASE, "RSD PTR"));
	ck_assert_ptr_null(acpi_find_table(junk, sizeof(junk), BASE, "XSDT"));
	ck_assert_ptr_null(acpi_find_table(junk, sizeof(junk), BASE, "FACP"));
	/* An XSDT with a lying length. */
	uint64_t bogus = BASE + 0x80;
	ck_assert_int_eq(acpi_build_rsdp(junk, sizeof(junk), 0, BASE + 0x40), 36);
	ck_assert_int_eq(acpi_build_xsdt(junk + 0x40, 64, &bogus, 1), 44);
	junk[0x44] = 0xff;
	junk[0x45] = 0xff;
	ck_assert_ptr_null(acpi_find_table(junk, sizeof(junk), BASE, "XSDT"));
}
END_TEST

CHECK_MAIN_TIMEOUT("acpi", 60, rsdp_and_checksums, xsdt_rsdt_entries, madt_cpu_counts,
	fadt_fields, facs_alignment_odd_base, mcfg_fields, dsdt_content, pci0_hook,
	enospc_no_overflow, invalid_configs, tables_above_4g, find_table_rejects_garbage)
