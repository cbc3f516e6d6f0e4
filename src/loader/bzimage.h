/* Linux bzImage (x86 boot protocol >= 2.06 with a 64-bit entry point). */
#ifndef MYVMM_LOADER_BZIMAGE_H
#define MYVMM_LOADER_BZIMAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loader/loader.h"

struct bzimage_info {
	uint16_t version;          /* boot protocol, e.g. 0x020f */
	unsigned setup_sects;      /* effective (0 in the header means 4) */
	size_t   setup_size;       /* (setup_sects + 1) * 512 = offset of the pm kernel */
	size_t   pm_size;          /* bytes of protected-mode kernel in the file */
	size_t   hdr_end;          /* end offset of the setup header to copy (0x202 + jump) */
	uint32_t syssize;          /* pm kernel size in 16-byte units */
	bool     relocatable;
	uint32_t kernel_alignment; /* power of two */
	uint64_t pref_address;
	uint32_t init_size;        /* linear memory the kernel needs from its load address */
	uint32_t cmdline_size;     /* longest command line, without the NUL */
	uint32_t initrd_addr_max;  /* highest address the initrd may occupy */
	uint16_t xloadflags;
};

/* True if buf starts like a bzImage (boot flag 0xAA55 and "HdrS"). Pure. */
bool bzimage_probe(const uint8_t *buf, size_t len);

/* Pure: validates the setup header of buf and fills *info. Returns 0 or
 * -ENOEXEC (no boot flag / "HdrS"), -EINVAL (too short, truncated, bad
 * field), -EPROTONOSUPPORT (protocol < 2.06 or no XLF_KERNEL_64). err
 * (LOADER_ERR_LEN bytes, may be NULL) gets one line on failure. */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *info, char *err);

/* Load address chosen for the protected-mode kernel: pref_address aligned up
 * to kernel_alignment (at least 1 MiB) when relocatable, else 1 MiB. Pure. */
uint64_t bzimage_load_addr(const struct bzimage_info *info);

/* Places the pm kernel, zero page, command line, initrd, GDT and page tables;
 * fills *e for the 64-bit entry. -ENOSPC / -E2BIG / -EINVAL with a line in err. */
int bzimage_place(struct guest_mem *m, const struct bzimage_info *info,
		  const struct boot_args *a, struct boot_entry *e, char *err);
#endif
