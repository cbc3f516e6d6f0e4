/* ACPI table builder for the myvmm "pc" machine (ACPI 6.x chapter 5).
 *
 * Pure: every function builds into a caller buffer; no I/O, no globals.
 * The per-table builders (acpi_build_*) produce one table each with a valid
 * checksum, given the guest addresses of the tables they point at, so they
 * can be handed to a firmware table loader as separate blobs. acpi_build()
 * composes them into one region the guest sees at base_gpa. */
#ifndef MYVMM_ACPI_H
#define MYVMM_ACPI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml;

/* SLP_TYP value of \_S5: the PM1 device powers off on SLP_EN with it. */
#define ACPI_S5_SLP_TYP 5

#define ACPI_OEM_ID       "MYVMM "
#define ACPI_OEM_TABLE_ID "MYVMMPC "

/* Fixed sizes. */
#define ACPI_RSDP_LEN   36
#define ACPI_HDR_LEN    36
#define ACPI_FADT_LEN   276
#define ACPI_FACS_LEN   64

/* FADT Flags (5.2.9, table 5.10). */
#define ACPI_FADT_WBINVD        (1u << 0)
#define ACPI_FADT_PROC_C1       (1u << 2)
#define ACPI_FADT_PWR_BUTTON    (1u << 4)   /* set = NO fixed power button */
#define ACPI_FADT_SLP_BUTTON    (1u << 5)   /* set = no sleep button */
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
/* FADT IAPC_BOOT_ARCH (5.2.9.3). */
#define ACPI_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_8042           (1u << 1)
#define ACPI_BOOT_NO_CMOS_RTC    (1u << 5)

/* A legacy ISA device in \_SB: _HID, _UID 1 and a _CRS of fixed I/O ranges
 * and one IRQ (the machine's legacy-device table fills these). */
#define ACPI_ISA_MAX_PORTS 2
#define ACPI_ISA_MAX 8
struct acpi_isa_dev {
	const char *name;            /* 4-char ACPI name, e.g. "COM1" */
	const char *hid;             /* EISA id, e.g. "PNP0501" */
	uint16_t port[ACPI_ISA_MAX_PORTS];
	uint8_t len[ACPI_ISA_MAX_PORTS];
	unsigned nports;
	uint8_t irq;
};

/* Appends AML inside \_SB.PCI0's scope (e.g. a _PRT); returns 0 or -errno. */
typedef int (*acpi_aml_hook)(struct aml *a, void *opaque);

struct acpi_config {
	unsigned ncpus;              /* 1..255: Local APIC entries, APIC IDs 0..ncpus-1 */
	uint16_t pm_base;            /* PM1a_EVT +0 (4), PM1a_CNT +4 (2), PM_TMR +8 (4) */
	uint8_t sci_irq;             /* ISA IRQ (1..15, not 2), level/active-high ISO */
	uint16_t reset_port;         /* 0xCF9; reset value 0x06 */
	uint64_t pci_mmio_start, pci_mmio_end;     /* 32-bit window, end exclusive */
	uint64_t pci_mmio64_start, pci_mmio64_end; /* 0/0 = none */
	uint16_t pci_io_start;       /* I/O window [start, end), 0/0 = none */
	uint32_t pci_io_end;         /* exclusive, up to 0x10000 */
	uint64_t ecam_base;          /* 0 = no MCFG */
	uint8_t ecam_bus_end;        /* last bus decoded by ECAM */
	uint16_t boot_arch;          /* FADT IAPC_BOOT_ARCH (ACPI_BOOT_*) */
	struct acpi_isa_dev isa[ACPI_ISA_MAX]; /* legacy devices in the DSDT */
	unsigned nisa;
	acpi_aml_hook pci0_aml;      /* optional: extra AML in \_SB.PCI0 */
	void *pci0_aml_opaque;
};

/* Where acpi_build() put things: offsets into buf (guest address is
 * base_gpa + offset). off_mcfg and off_rsdt are 0 when not built. */
struct acpi_result {
	uint64_t rsdp_gpa;
	size_t used;
	size_t off_rsdp, off_xsdt, off_rsdt, off_fadt, off_facs, off_dsdt, off_madt, off_mcfg;
};

/* Checks a config: 0 or -EINVAL. */
int acpi_config_check(const struct acpi_config *cfg);

/* Returns the byte that makes the sum of p[0..len) zero when stored in a
 * zeroed checksum field; for a valid table, 0. */
uint8_t acpi_checksum(const void *p, size_t len);

/* Per-table builders: write one table at buf, return its length or -ENOSPC
 * (cap too small; nothing written past cap) / -EINVAL. 32-bit pointer
 * fields are left 0 when the target lies at or above 4 GiB. */
int acpi_build_rsdp(uint8_t *buf, size_t cap, uint64_t rsdt_gpa, uint64_t xsdt_gpa);
int acpi_build_xsdt(uint8_t *buf, size_t cap, const uint64_t *gpas, unsigned n);
int acpi_build_rsdt(uint8_t *buf, size_t cap, const uint64_t *gpas, unsigned n); /* -EINVAL if >= 4 GiB */
int acpi_build_facs(uint8_t *buf, size_t cap);
int acpi_build_fadt(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
		    uint64_t facs_gpa, uint64_t dsdt_gpa);
int acpi_build_madt(const struct acpi_config *cfg, uint8_t *buf, size_t cap);
int acpi_build_mcfg(const struct acpi_config *cfg, uint8_t *buf, size_t cap);
int acpi_build_dsdt(const struct acpi_config *cfg, uint8_t *buf, size_t cap);

/* Builds RSDP (offset 0; base_gpa must be 16-byte aligned), FACS (64-byte
 * aligned), DSDT, FADT, MADT, MCFG (if ecam_base), XSDT and RSDT into buf,
 * which the guest sees at base_gpa. Returns 0, -ENOSPC or -EINVAL. */
int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
	       uint64_t base_gpa, struct acpi_result *res);

/* For tests and debugging: finds a table in a region built at base_gpa by
 * following RSDP -> XSDT (and FADT for "DSDT"/"FACS"; "RSD PTR", "XSDT" and
 * "RSDT" name those). Validates lengths against len; NULL if not found. */
const uint8_t *acpi_find_table(const uint8_t *buf, size_t len, uint64_t base_gpa,
			       const char *sig);

#endif
