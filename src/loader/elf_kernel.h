/* ELF kernels (ELF32/ELF64, little-endian x86): program-header parsing,
 * the Xen PVH entry note, segment loading and the PVH boot path. */
#ifndef MYVMM_LOADER_ELF_KERNEL_H
#define MYVMM_LOADER_ELF_KERNEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loader/loader.h"

#define ELF_MAX_LOADS 32
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_seg {
	uint64_t offset, filesz;   /* bytes in the file */
	uint64_t paddr, vaddr, memsz;
};

struct elf_info {
	int      bits;             /* 32 or 64 */
	uint64_t entry;            /* e_entry */
	bool     has_pvh;
	uint32_t pvh_entry;        /* XEN_ELFNOTE_PHYS32_ENTRY value */
	int      nr_loads;
	struct elf_seg loads[ELF_MAX_LOADS]; /* PT_LOAD with memsz > 0 */
};

/* True if buf starts with the ELF magic. Pure. */
bool elf_probe(const uint8_t *buf, size_t len);

/* Pure: validates the ELF header and every program header (offset+filesz
 * inside the file, memsz >= filesz, no address wrap), collects PT_LOADs and
 * looks for the PVH note in PT_NOTE segments. 0, -ENOEXEC (not an x86 LE
 * ELF), -EINVAL (truncated/malformed); one line in err (may be NULL). */
int elf_parse(const uint8_t *buf, size_t len, struct elf_info *info, char *err);

/* Copies every PT_LOAD to p_paddr and zeroes its bss. Segments must lie in
 * RAM below the MMIO hole (-ENOSPC) and avoid the VMM's low boot data (-EINVAL). */
int elf_load_segments(struct guest_mem *m, const uint8_t *buf, const struct elf_info *info,
		      char *err);

/* PVH boot (xen/include/public/arch-x86/hvm/start_info.h, version 1). */
#define HVM_START_MAGIC 0x336ec578u
#define PVH_MEMMAP_MAX  64

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1");

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

/* Loads a parsed ELF with a PVH note, the command line, initrd (module 0),
 * memmap, start_info and GDT; fills *e (BOOT_PVH32). */
int pvh_place(struct guest_mem *m, const uint8_t *buf, const struct elf_info *info,
	      const struct boot_args *a, struct boot_entry *e, char *err);
#endif
