/* Test kernel: common declarations. Freestanding; built both -m32 (PVH) and
 * -m64 (Linux 64-bit boot protocol) from the same sources. */
#ifndef TK_H
#define TK_H
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>

#define TK_MAX_E820   128
#define TK_MAX_CPUS   32
#define TK_TRAMP_BASE 0x10000 /* AP trampoline page (below 1 MiB, SIPI vector 0x10) */

#define PORT_DEBUG_EXIT 0xf4
#define PORT_MARKER     0xf0
#define LAPIC_BASE      0xfee00000u

struct e820 {
	uint64_t start, size;
	uint32_t type;
};

/* What the loader told us, normalised across PVH and the Linux zero page. */
struct bootinfo {
	const char *mode;          /* "pvh" or "linux64" */
	const char *cmdline;       /* never NULL */
	struct e820 e820[TK_MAX_E820];
	int e820_nr;
	uint64_t initrd_addr, initrd_size; /* size 0: none */
	uint64_t rsdp;             /* 0: not given, scan */
};

/* ACPI facts gathered by acpi_scan(). */
struct acpi_info {
	uint64_t rsdp;
	bool all_ok;               /* every checksum good */
	int ncpus;
	uint8_t apic_ids[TK_MAX_CPUS];
	uint32_t lapic, ioapic;
	uint16_t pm1a_evt, pm1a_cnt, pm_tmr;
	uint16_t sci;
	uint32_t fadt_flags;
	bool has_reset;
	uint8_t reset_space, reset_val;
	uint64_t reset_addr;
	bool has_s5;
	uint8_t s5_typ;
	bool pci0;
};

/* printf.c */
void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);
size_t kstrlen(const char *s);
int kstrncmp(const char *a, const char *b, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* serial.c: polled COM1 */
void serial_init(void);
void serial_putc(char c);
void serial_lock(void);
void serial_unlock(void);

/* main.c */
void kmain(const struct bootinfo *bi);
void tk_pass(const char *scen) __attribute__((noreturn));
void tk_fail(const char *scen, const char *fmt, ...) __attribute__((noreturn));
void tk_exit(uint32_t v) __attribute__((noreturn));
void tk_halt(void) __attribute__((noreturn));
/* scenarios/table.c (from scenarios/list.h): what tk=<name> runs. */
struct scenario {
	const char *name;
	int (*run)(const struct bootinfo *bi, const struct acpi_info *ai);
	bool needs_acpi;  /* scan ACPI (quietly) and set up the timer first */
};
extern const struct scenario tk_scenarios[];
extern const size_t tk_nscenarios;
/* Value of "key=" token in the command line copied into buf; false if absent. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);
/* True if the command line has the token key or key=... */
bool cmdline_has(const char *cmdline, const char *key);

/* acpi.c */
void acpi_scan(const struct bootinfo *bi, struct acpi_info *ai, bool verbose);

/* timer.c: deadlines using the ACPI PM timer, else the PIT, else the RTC */
void timer_init(const struct acpi_info *ai);
struct deadline { uint64_t left; uint32_t last; };
void deadline_start(struct deadline *d, uint32_t ms);
bool deadline_passed(struct deadline *d);
void delay_ms(uint32_t ms);
const char *timer_name(void);

/* rtc.c */
struct rtc_time { int year, mon, day, hour, min, sec; };
uint8_t cmos_read(uint8_t idx);
void cmos_write(uint8_t idx, uint8_t v);
bool rtc_present(void);
void rtc_read(struct rtc_time *t);
void rtc_print(const struct rtc_time *t);
int scen_rtc(const struct bootinfo *bi, const struct acpi_info *ai);

/* smp.c */
int scen_smp(const struct bootinfo *bi, const struct acpi_info *ai);
void ap_main(void);                  /* called by the AP entry code */
void lapic_virtual_wire(void);

/* irq.c */
int scen_serial_irq(const struct bootinfo *bi, const struct acpi_info *ai);

/* power.c */
int scen_poweroff(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_reset(const struct bootinfo *bi, const struct acpi_info *ai, const char *how);

/* pci.c: bus 0, type-1 config access (0xCF8/0xCFC) */
#define PCI_MAX_DEVS 32
struct pci_dev {
	uint8_t slot, func;
	uint16_t vendor, device;
	uint32_t class;            /* class << 16 | subclass << 8 | prog-if */
	uint64_t bar[6];           /* MMIO or I/O base; 0 = none */
	uint64_t bar_size[6];
	bool bar_io[6];
};
uint32_t pci_cfg_read32(const struct pci_dev *d, uint8_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint8_t off);
uint8_t pci_cfg_read8(const struct pci_dev *d, uint8_t off);
void pci_cfg_write32(const struct pci_dev *d, uint8_t off, uint32_t v);
void pci_cfg_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
/* Scans bus 0 once (prints a "pci" line per function when verbose), sizes
 * and if needed assigns the BARs, enables decoding + bus mastering.
 * Returns the number of functions; *devs points at the static table. */
int pci_scan(struct pci_dev **devs, bool verbose);
/* Next capability at or after config offset *pos with id cap_id (0 = any);
 * returns its offset or 0. Start with *pos = 0. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t *pos);
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth);

/* virtio.c and blk.c scenarios */
int scen_blk_read(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_write(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_reboot(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_ro(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_two(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_indirect(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_disks(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_hostile(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_blk_bench(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_rng(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_vcons(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_panic(const struct bootinfo *bi, const struct acpi_info *ai);
uint32_t parse_u32(const char *s);

/* head*.S / trampoline.S */
extern char tramp_start[], tramp_end[];

#include "x86.h"
#endif
