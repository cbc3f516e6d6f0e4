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
/* Value of "key=" token in the command line copied into buf; false if absent. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);

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

/* head*.S / trampoline.S */
extern char tramp_start[], tramp_end[];

#include "x86.h"
#endif
