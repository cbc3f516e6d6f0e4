/* Kernel loaders. Each format has a pure parser (validate a buffer, fill an
 * info struct, no side effects) and a place step that writes the kernel and
 * its boot structures into guest RAM and says how to enter it. */
#ifndef MYVMM_LOADER_H
#define MYVMM_LOADER_H
#include <stddef.h>
#include <stdint.h>
#include "mem/guest_mem.h"

/* GDT written by boot_write_gdt() at LAYOUT_BOOT_GDT. */
#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA   0x18
#define BOOT_SEL_TSS    0x20
#define BOOT_GDT_ENTRIES 6 /* TSS descriptor is 16 bytes (2 entries) */

enum boot_mode {
	BOOT_LINUX64,     /* 64-bit Linux boot protocol entry: long mode, RSI = zero page */
	BOOT_PVH32,       /* PVH: 32-bit flat protected mode, paging off, EBX = start_info */
	BOOT_MULTIBOOT32, /* Multiboot v1: 32-bit flat, EAX = 0x2BADB002, EBX = mbi */
	BOOT_REAL_RESET,  /* firmware: real mode at the reset vector */
};

/* How the bootstrap processor starts. Filled by loader_load(). */
struct boot_entry {
	enum boot_mode mode;
	uint64_t rip, rsp;
	uint64_t rax, rbx, rsi;
	uint64_t cr3;            /* BOOT_LINUX64 only: LAYOUT_PML4 */
};

/* Kernel formats detected by loader_detect(). */
enum kernel_format { KFMT_UNKNOWN, KFMT_BZIMAGE, KFMT_ELF_PVH, KFMT_ELF_NOPVH, KFMT_MULTIBOOT };

struct boot_args {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;   /* may be NULL */
	size_t initrd_len;
	const char *cmdline;     /* may be NULL or "" */
	uint64_t rsdp_gpa;       /* 0 if no ACPI */
	const struct e820_entry *e820;
	int e820_nr;
};

#define LOADER_ERR_LEN 256

/* Which format is buf? Pure. */
enum kernel_format loader_detect(const uint8_t *buf, size_t len);

/* Places the kernel (any supported format), the initrd, the command line and
 * the boot structures into guest RAM and fills *entry. On failure returns
 * -errno and writes one human line (problem + fix) into err:
 *   -ENOEXEC     not a kernel we can boot (neither bzImage nor ELF/PVH/multiboot)
 *   -EPROTONOSUPPORT  bzImage protocol < 2.06, or no 64-bit entry (XLF_KERNEL_64)
 *   -EINVAL      truncated / malformed image
 *   -ENOSPC      kernel or initrd does not fit in guest RAM
 *   -E2BIG       command line longer than the kernel accepts */
int loader_load(struct guest_mem *m, const struct boot_args *a, struct boot_entry *entry,
		char err[LOADER_ERR_LEN]);

/* Writes the boot GDT (selectors above) at LAYOUT_BOOT_GDT and, for long mode,
 * identity page tables for the low 4 GiB at LAYOUT_PML4. */
int boot_write_gdt(struct guest_mem *m);
int boot_write_pagetables(struct guest_mem *m);
#endif
