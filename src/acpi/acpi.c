/* ACPI table builder: see acpi.h. Layouts from ACPI 6.x chapter 5. */
#include "acpi/acpi.h"
#include "acpi/aml.h"

#include <errno.h>
#include <string.h>

#define FOUR_GIB 0x100000000ULL

#define MADT_LAPIC_ADDR  0xfee00000u
#define MADT_IOAPIC_ADDR 0xfec00000u
#define MADT_PCAT_COMPAT 1u
/* We use IOAPIC ID 0 (as the in-kernel IOAPIC resets to): it is a separate
 * ID space from xAPIC local APIC IDs on any xAPIC-era system, and ncpus may
 * be 255 so "ncpus" would not fit. */
#define MADT_IOAPIC_ID   0

#define GAS_SYSTEM_IO    1
#define GAS_ACCESS_BYTE  1
#define GAS_ACCESS_WORD  2
#define GAS_ACCESS_DWORD 3

#define RESET_VALUE      0x06

static void put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p, size_t off)
{
	return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
	       (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}
static uint64_t get64(const uint8_t *p, size_t off)
{
	return (uint64_t)get32(p, off) | (uint64_t)get32(p, off + 4) << 32;
}

/* 32-bit pointer field value: 0 when the address does not fit. */
static uint32_t lo32(uint64_t gpa)
{
	return gpa < FOUR_GIB ? (uint32_t)gpa : 0;
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0 - sum);
}

int acpi_config_check(const struct acpi_config *cfg)
{
	if (!cfg || cfg->ncpus < 1 || cfg->ncpus > 255)
		return -EINVAL;
	if (cfg->pm_base == 0 || cfg->pm_base > 0x10000 - 12)
		return -EINVAL;
	if (cfg->sci_irq == 0 || cfg->sci_irq == 2 || cfg->sci_irq > 15)
		return -EINVAL;
	if (cfg->pci_mmio_start >= cfg->pci_mmio_end || cfg->pci_mmio_end > FOUR_GIB)
		return -EINVAL;
	if ((cfg->pci_mmio64_start || cfg->pci_mmio64_end) &&
	    cfg->pci_mmio64_start >= cfg->pci_mmio64_end)
		return -EINVAL;
	/* The I/O window must sit above the legacy range and 0xCF8..0xCFF. */
	if ((cfg->pci_io_start || cfg->pci_io_end) &&
	    (cfg->pci_io_start < 0x0d00 || cfg->pci_io_start >= cfg->pci_io_end ||
	     cfg->pci_io_end > 0x10000))
		return -EINVAL;
	if (cfg->nisa > ACPI_ISA_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->nisa; i++)
		if (!cfg->isa[i].name || !cfg->isa[i].hid || cfg->isa[i].nports > ACPI_ISA_MAX_PORTS ||
		    cfg->isa[i].irq > 15)
			return -EINVAL;
	/* MCFG base: 1 MiB per bus, starting at bus 0 (5.2.6 / PCI FW 4.1.2). */
	if (cfg->ecam_base & ((1ULL << 20) - 1))
		return -EINVAL;
	if (cfg->ecam_base &&
	    cfg->ecam_base > UINT64_MAX - (((uint64_t)cfg->ecam_bus_end + 1) << 20))
		return -EINVAL;
	return 0;
}

/* Common 36-byte header (5.2.6); checksum filled by table_finish(). */
static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	put8(t, 9, 0);
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put32(t, 24, 1);            /* OEM revision */
	memcpy(t + 28, "MYVM", 4);  /* creator ID */
	put32(t, 32, 1);            /* creator revision */
}

static int table_finish(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
	return (int)len;
}

/* Zero the table's bytes after checking it fits. */
static int table_reserve(uint8_t *buf, size_t cap, size_t len)
{
	if (!buf || len > cap)
		return -ENOSPC;
	memset(buf, 0, len);
	return 0;
}

int acpi_build_rsdp(uint8_t *buf, size_t cap, uint64_t rsdt_gpa, uint64_t xsdt_gpa)
{
	if (table_reserve(buf, cap, ACPI_RSDP_LEN))
		return -ENOSPC;
	/* 5.2.5.3: signature, checksum of the first 20 bytes, OEM ID,
	 * revision 2, RSDT, length, XSDT, extended checksum of all 36. */
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, ACPI_OEM_ID, 6);
	put8(buf, 15, 2);
	put32(buf, 16, lo32(rsdt_gpa));
	put32(buf, 20, ACPI_RSDP_LEN);
	put64(buf, 24, xsdt_gpa);
	buf[8] = acpi_checksum(buf, 20);
	buf[32] = acpi_checksum(buf, ACPI_RSDP_LEN);
	return ACPI_RSDP_LEN;
}

int acpi_build_xsdt(uint8_t *buf, size_t cap, const uint64_t *gpas, unsigned n)
{
	size_t len = ACPI_HDR_LEN + 8 * (size_t)n;

	if (n && !gpas)
		return -EINVAL;
	if (table_reserve(buf, cap, len))
		return -ENOSPC;
	table_header(buf, "XSDT", (uint32_t)len, 1);
	for (unsigned i = 0; i < n; i++)
		put64(buf, ACPI_HDR_LEN + 8 * (size_t)i, gpas[i]);
	return table_finish(buf, len);
}

int acpi_build_rsdt(uint8_t *buf, size_t cap, const uint64_t *gpas, unsigned n)
{
	size_t len = ACPI_HDR_LEN + 4 * (size_t)n;

	if (n && !gpas)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (gpas[i] >= FOUR_GIB)
			return -EINVAL;
	if (table_reserve(buf, cap, len))
		return -ENOSPC;
	table_header(buf, "RSDT", (uint32_t)len, 1);
	for (unsigned i = 0; i < n; i++)
		put32(buf, ACPI_HDR_LEN + 4 * (size_t)i, (uint32_t)gpas[i]);
	return table_finish(buf, len);
}

int acpi_build_facs(uint8_t *buf, size_t cap)
{
	if (table_reserve(buf, cap, ACPI_FACS_LEN))
		return -ENOSPC;
	/* 5.2.10: no checksum; no S4BIOS, no 64-bit wake support. */
	memcpy(buf, "FACS", 4);
	put32(buf, 4, ACPI_FACS_LEN);
	put8(buf, 32, 2);                /* version */
	return ACPI_FACS_LEN;
}

/* Generic Address Structure (5.2.3.2), 12 bytes. */
static void put_gas(uint8_t *p, size_t off, uint8_t space, uint8_t bits,
		    uint8_t access, uint64_t addr)
{
	put8(p, off, space);
	put8(p, off + 1, bits);
	put8(p, off + 2, 0);
	put8(p, off + 3, access);
	put64(p, off + 4, addr);
}

int acpi_build_fadt(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
		    uint64_t facs_gpa, uint64_t dsdt_gpa)
{
	uint16_t evt, cnt, tmr, boot;
	uint32_t flags;

	if (acpi_config_check(cfg))
		return -EINVAL;
	if (table_reserve(buf, cap, ACPI_FADT_LEN))
		return -ENOSPC;
	evt = cfg->pm_base;
	cnt = (uint16_t)(cfg->pm_base + 4);
	tmr = (uint16_t)(cfg->pm_base + 8);

	table_header(buf, "FACP", ACPI_FADT_LEN, 6);
	/* ACPI 6.x 5.2.9: only one of FIRMWARE_CTRL / X_FIRMWARE_CTRL may be
	 * set (Linux lists the FACS twice otherwise). The 32-bit one when the
	 * FACS is below 4 GiB, as QEMU does. */
	if (facs_gpa <= UINT32_MAX)
		put32(buf, 36, (uint32_t)facs_gpa); /* FIRMWARE_CTRL */
	put32(buf, 40, lo32(dsdt_gpa));         /* DSDT */
	put8(buf, 45, 0);                       /* Preferred_PM_Profile: unspecified */
	put16(buf, 46, cfg->sci_irq);           /* SCI_INT */
	put32(buf, 48, 0);                      /* SMI_CMD 0: ACPI always enabled */
	put32(buf, 56, evt);                    /* PM1a_EVT_BLK */
	put32(buf, 64, cnt);                    /* PM1a_CNT_BLK */
	put32(buf, 76, tmr);                    /* PM_TMR_BLK */
	put8(buf, 88, 4);                       /* PM1_EVT_LEN */
	put8(buf, 89, 2);                       /* PM1_CNT_LEN */
	put8(buf, 91, 4);                       /* PM_TMR_LEN */
	put16(buf, 96, 0x0fff);                 /* P_LVL2_LAT > 100: no C2 */
	put16(buf, 98, 0x0fff);                 /* P_LVL3_LAT > 1000: no C3 */

	boot = cfg->boot_arch;
	put16(buf, 109, boot);                  /* IAPC_BOOT_ARCH */

	/* PWR_BUTTON clear: the fixed-feature power button is present. */
	flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON |
		ACPI_FADT_RESET_REG_SUP | ACPI_FADT_TMR_VAL_EXT;
	put32(buf, 112, flags);
	put_gas(buf, 116, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, cfg->reset_port); /* RESET_REG */
	put8(buf, 128, RESET_VALUE);
	put8(buf, 131, 0);                      /* FADT minor version */
	if (facs_gpa > UINT32_MAX)
		put64(buf, 132, facs_gpa);      /* X_FIRMWARE_CTRL */
	put64(buf, 140, dsdt_gpa);              /* X_DSDT */
	put_gas(buf, 148, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD, evt);  /* X_PM1a_EVT_BLK */
	put_gas(buf, 172, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD, cnt);  /* X_PM1a_CNT_BLK */
	put_gas(buf, 208, GAS_SYSTEM_IO, 32, GAS_ACCESS_DWORD, tmr); /* X_PM_TMR_BLK */
	return table_finish(buf, ACPI_FADT_LEN);
}

int acpi_build_madt(const struct acpi_config *cfg, uint8_t *buf, size_t cap)
{
	size_t len, off;

	if (acpi_config_check(cfg))
		return -EINVAL;
	/* 5.2.12: header, LAPIC address, flags, then the structures. */
	len = ACPI_HDR_LEN + 8 + 8 * (size_t)cfg->ncpus + 12 + 2 * 10 + 6;
	if (table_reserve(buf, cap, len))
		return -ENOSPC;
	table_header(buf, "APIC", (uint32_t)len, 4);
	put32(buf, 36, MADT_LAPIC_ADDR);
	put32(buf, 40, MADT_PCAT_COMPAT);
	off = 44;
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		/* Processor Local APIC (type 0): UID, APIC ID, flags (enabled). */
		put8(buf, off, 0);
		put8(buf, off + 1, 8);
		put8(buf, off + 2, (uint8_t)i);
		put8(buf, off + 3, (uint8_t)i);
		put32(buf, off + 4, 1);
		off += 8;
	}
	/* I/O APIC (type 1). */
	put8(buf, off, 1);
	put8(buf, off + 1, 12);
	put8(buf, off + 2, MADT_IOAPIC_ID);
	put32(buf, off + 4, MADT_IOAPIC_ADDR);
	put32(buf, off + 8, 0);                 /* GSI base */
	off += 12;
	/* Interrupt Source Overrides (type 2): ISA IRQ0 -> GSI2, conforming. */
	put8(buf, off, 2);
	put8(buf, off + 1, 10);
	put8(buf, off + 2, 0);                  /* bus ISA */
	put8(buf, off + 3, 0);
	put32(buf, off + 4, 2);
	put16(buf, off + 8, 0);
	off += 10;
	/* SCI: level-triggered (bits 3:2 = 11), active high (bits 1:0 = 01). */
	put8(buf, off, 2);
	put8(buf, off + 1, 10);
	put8(buf, off + 2, 0);
	put8(buf, off + 3, cfg->sci_irq);
	put32(buf, off + 4, cfg->sci_irq);
	put16(buf, off + 8, 0x000d);
	off += 10;
	/* Local APIC NMI (type 4): all processors, LINT1. */
	put8(buf, off, 4);
	put8(buf, off + 1, 6);
	put8(buf, off + 2, 0xff);
	put16(buf, off + 3, 0);
	put8(buf, off + 5, 1);
	off += 6;
	return table_finish(buf, off);
}

int acpi_build_mcfg(const struct acpi_config *cfg, uint8_t *buf, size_t cap)
{
	const size_t len = ACPI_HDR_LEN + 8 + 16;

	if (acpi_config_check(cfg) || !cfg->ecam_base)
		return -EINVAL;
	if (table_reserve(buf, cap, len))
		return -ENOSPC;
	/* PCI Firmware spec 4.1.2: 8 reserved bytes, then one allocation. */
	table_header(buf, "MCFG", (uint32_t)len, 1);
	put64(buf, 44, cfg->ecam_base);
	put16(buf, 52, 0);                      /* segment */
	put8(buf, 54, 0);                       /* start bus */
	put8(buf, 55, cfg->ecam_bus_end);
	return table_finish(buf, len);
}

static void dsdt_pci0(const struct acpi_config *cfg, struct aml *a)
{
	size_t dev = aml_device_open(a, "PCI0");
	size_t rt;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_ADR");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	rt = aml_restemplate_open(a);
	aml_res_word_bus(a, 0, cfg->ecam_base ? cfg->ecam_bus_end : 0xff);
	aml_res_io(a, 0x0cf8, 0x0cf8, 1, 8);
	aml_res_word_io(a, 0x0000, 0x0cf7);
	if (cfg->pci_io_end)
		aml_res_word_io(a, cfg->pci_io_start, (uint16_t)(cfg->pci_io_end - 1));
	aml_res_dword_mem(a, 0x000a0000, 0x000bffff, true);
	aml_res_dword_mem(a, (uint32_t)cfg->pci_mmio_start,
			  (uint32_t)(cfg->pci_mmio_end - 1), false);
	if (cfg->pci_mmio64_end)
		aml_res_qword_mem(a, cfg->pci_mmio64_start, cfg->pci_mmio64_end - 1, false);
	aml_restemplate_close(a, rt);
	if (cfg->pci0_aml && !aml_error(a)) {
		int r = cfg->pci0_aml(a, cfg->pci0_aml_opaque);
		if (r < 0 && !a->err)
			a->err = r;
	}
	aml_close(a, dev);
}

/* A legacy ISA device: _HID, _UID and a _CRS of ports and one IRQ. */
static void dsdt_isa_dev(struct aml *a, const struct acpi_isa_dev *d)
{
	size_t dev = aml_device_open(a, d->name);
	size_t rt;

	aml_name(a, "_HID");
	aml_eisaid(a, d->hid);
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	rt = aml_restemplate_open(a);
	for (unsigned i = 0; i < d->nports && i < ACPI_ISA_MAX_PORTS; i++)
		aml_res_io(a, d->port[i], d->port[i], 1, d->len[i]);
	aml_res_irq_noflags(a, d->irq);
	aml_restemplate_close(a, rt);
	aml_close(a, dev);
}

int acpi_build_dsdt(const struct acpi_config *cfg, uint8_t *buf, size_t cap)
{
	struct aml a;
	size_t pkg, sb;

	if (acpi_config_check(cfg))
		return -EINVAL;
	if (table_reserve(buf, cap, ACPI_HDR_LEN))
		return -ENOSPC;
	aml_init(&a, buf + ACPI_HDR_LEN, cap - ACPI_HDR_LEN);

	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved (7.4.2). */
	aml_name(&a, "\\_S5");
	pkg = aml_package_open(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a, pkg);

	sb = aml_scope_open(&a, "\\_SB");
	dsdt_pci0(cfg, &a);
	for (unsigned i = 0; i < cfg->nisa && i < ACPI_ISA_MAX; i++)
		dsdt_isa_dev(&a, &cfg->isa[i]);
	if (cfg->ecam_base && cfg->ecam_base + ((uint64_t)cfg->ecam_bus_end + 1) * (1 << 20) <= FOUR_GIB) {
		/* Motherboard resource reserving ECAM, which Linux wants to see
		 * before trusting MCFG. */
		size_t dev = aml_device_open(&a, "MRES");
		size_t rt;

		aml_name(&a, "_HID");
		aml_eisaid(&a, "PNP0C02");
		aml_name(&a, "_UID");
		aml_integer(&a, 2);
		aml_name(&a, "_CRS");
		rt = aml_restemplate_open(&a);
		aml_res_mem32_fixed(&a, (uint32_t)cfg->ecam_base,
				    ((uint32_t)cfg->ecam_bus_end + 1) << 20, false);
		aml_restemplate_close(&a, rt);
		aml_close(&a, dev);
	}
	aml_close(&a, sb);

	if (a.err)
		return a.err;
	if (a.len > UINT32_MAX - ACPI_HDR_LEN)
		return -ENOSPC;
	/* Revision 2: 64-bit integers. */
	table_header(buf, "DSDT", (uint32_t)(ACPI_HDR_LEN + a.len), 2);
	return table_finish(buf, ACPI_HDR_LEN + a.len);
}

/* Next offset >= off whose guest address is a multiple of align (power of 2). */
static size_t align_gpa(uint64_t base_gpa, size_t off, uint64_t align)
{
	uint64_t gpa = base_gpa + off;

	return off + (size_t)(((gpa + align - 1) & ~(align - 1)) - gpa);
}

int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
	       uint64_t base_gpa, struct acpi_result *res)
{
	struct acpi_result r = { 0 };
	uint64_t entries[3];
	unsigned n = 0;
	size_t off;
	int len;

	if (!res || acpi_config_check(cfg) || (base_gpa & 15))
		return -EINVAL;
	if (!buf || base_gpa + cap < base_gpa)
		return -EINVAL;

#define PLACE(field, align, call) do {                                   \
		off = align_gpa(base_gpa, off, (align));                 \
		if (off > cap)                                           \
			return -ENOSPC;                                  \
		r.field = off;                                           \
		len = (call);                                            \
		if (len < 0)                                             \
			return len;                                      \
		off += (size_t)len;                                      \
	} while (0)
#define GPA(field) (base_gpa + r.field)

	off = ACPI_RSDP_LEN;   /* RSDP written last, once the XSDT is placed */
	if (cap < ACPI_RSDP_LEN)
		return -ENOSPC;
	PLACE(off_facs, 64, acpi_build_facs(buf + off, cap - off));
	PLACE(off_dsdt, 16, acpi_build_dsdt(cfg, buf + off, cap - off));
	PLACE(off_fadt, 16, acpi_build_fadt(cfg, buf + off, cap - off,
					    GPA(off_facs), GPA(off_dsdt)));
	entries[n++] = GPA(off_fadt);
	PLACE(off_madt, 16, acpi_build_madt(cfg, buf + off, cap - off));
	entries[n++] = GPA(off_madt);
	if (cfg->ecam_base) {
		PLACE(off_mcfg, 16, acpi_build_mcfg(cfg, buf + off, cap - off));
		entries[n++] = GPA(off_mcfg);
	}
	PLACE(off_xsdt, 16, acpi_build_xsdt(buf + off, cap - off, entries, n));
	if (base_gpa + off < FOUR_GIB)
		PLACE(off_rsdt, 16, acpi_build_rsdt(buf + off, cap - off, entries, n));
	len = acpi_build_rsdp(buf, cap, r.off_rsdt ? GPA(off_rsdt) : 0, GPA(off_xsdt));
	if (len < 0)
		return len;
#undef PLACE
#undef GPA
	r.off_rsdp = 0;
	r.rsdp_gpa = base_gpa;
	r.used = off;
	*res = r;
	return 0;
}

/* Bounds-checked view of a table at guest address gpa; NULL if outside. */
static const uint8_t *table_at(const uint8_t *buf, size_t len, uint64_t base_gpa,
			       uint64_t gpa, size_t *tlen)
{
	if (gpa < base_gpa || gpa - base_gpa > len || len - (gpa - base_gpa) < ACPI_HDR_LEN)
		return NULL;
	const uint8_t *t = buf + (gpa - base_gpa);
	uint32_t l = get32(t, 4);
	if (l < 8 || l > len - (gpa - base_gpa))
		return NULL;
	*tlen = l;
	return t;
}

const uint8_t *acpi_find_table(const uint8_t *buf, size_t len, uint64_t base_gpa,
			       const char *sig)
{
	const uint8_t *rsdp = NULL, *xsdt, *fadt = NULL;
	size_t xlen, tlen;

	if (!buf || !sig)
		return NULL;
	for (size_t off = 0; off + ACPI_RSDP_LEN <= len; off += 16) {
		if (!memcmp(buf + off, "RSD PTR ", 8) && !acpi_checksum(buf + off, 20) &&
		    !acpi_checksum(buf + off, ACPI_RSDP_LEN)) {
			rsdp = buf + off;
			break;
		}
	}
	if (!rsdp)
		return NULL;
	if (!strcmp(sig, "RSD PTR"))
		return rsdp;
	if (!strcmp(sig, "RSDT"))
		return table_at(buf, len, base_gpa, get32(rsdp, 16), &tlen);
	xsdt = table_at(buf, len, base_gpa, get64(rsdp, 24), &xlen);
	if (!xsdt || memcmp(xsdt, "XSDT", 4) || xlen < ACPI_HDR_LEN)
		return NULL;
	if (!strcmp(sig, "XSDT"))
		return xsdt;
	for (size_t e = ACPI_HDR_LEN; e + 8 <= xlen; e += 8) {
		const uint8_t *t = table_at(buf, len, base_gpa, get64(xsdt, e), &tlen);
		if (!t)
			continue;
		if (!memcmp(t, "FACP", 4) && tlen >= ACPI_FADT_LEN)
			fadt = t;
		if (strlen(sig) == 4 && !memcmp(t, sig, 4))
			return t;
	}
	if (!fadt)
		return NULL;
	if (!strcmp(sig, "DSDT"))
		return table_at(buf, len, base_gpa, get64(fadt, 140), &tlen);
	if (!strcmp(sig, "FACS")) /* X_FIRMWARE_CTRL, else FIRMWARE_CTRL */
		return table_at(buf, len, base_gpa,
				get64(fadt, 132) ? get64(fadt, 132) : get32(fadt, 36), &tlen);
	return NULL;
}
