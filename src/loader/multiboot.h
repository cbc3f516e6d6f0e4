/* Multiboot v1 kernels (Multiboot Specification 0.6.96). */
#ifndef MYVMM_LOADER_MULTIBOOT_H
#define MYVMM_LOADER_MULTIBOOT_H
#include <stddef.h>
#include <stdint.h>
#include "loader/loader.h"

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define MB_SEARCH_LEN       8192
#define MB_FLAG_PAGE_ALIGN  (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE  (1u << 2)
#define MB_FLAG_AOUT_KLUDGE (1u << 16)

/* multiboot_info.flags bits */
#define MBI_MEMORY     (1u << 0)
#define MBI_CMDLINE    (1u << 2)
#define MBI_MODS       (1u << 3)
#define MBI_MMAP       (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name, apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};
_Static_assert(sizeof(struct multiboot_info) == 88, "multiboot_info");

struct multiboot_mod {
	uint32_t mod_start, mod_end, string, reserved;
};

struct multiboot_mmap_entry {
	uint32_t size;             /* 20: bytes after this field */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "multiboot mmap entry");

/* A validated multiboot header. */
struct mb_header {
	size_t   offset;           /* of the magic in the file */
	uint32_t flags;
	/* with MB_FLAG_AOUT_KLUDGE: */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	size_t   load_offset;      /* file offset that goes to load_addr */
	uint64_t load_size;        /* bytes copied from the file */
	uint64_t mem_size;         /* load_size + bss */
};

/* Pure: finds and validates the multiboot header in the first 8 KiB (4-byte
 * aligned, magic + flags + checksum == 0). 0, -ENOENT (none), -EINVAL (bad
 * checksum or address fields), -ENOEXEC (required feature unsupported). */
int mb_parse(const uint8_t *buf, size_t len, struct mb_header *h, char *err);

/* Loads the kernel (address fields or ELF PT_LOADs), command line, initrd
 * (module 0), memory map and info block at LAYOUT_MB_INFO; fills *e. */
int mb_place(struct guest_mem *m, const uint8_t *buf, size_t len, const struct mb_header *h,
	     const struct boot_args *a, struct boot_entry *e, char *err);
#endif
