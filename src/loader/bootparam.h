/* Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst and
 * zero-page.rst): the setup header found at offset 0x1F1 of a bzImage and the
 * 4 KiB "zero page" (struct boot_params) the loader hands to the kernel.
 * Our own definitions; offsets are checked below against the spec tables. */
#ifndef MYVMM_LOADER_BOOTPARAM_H
#define MYVMM_LOADER_BOOTPARAM_H
#include <stddef.h>
#include <stdint.h>

#define BZ_SETUP_HDR_OFF   0x1f1
#define BZ_BOOT_FLAG       0xaa55
#define BZ_HDRS_MAGIC      0x53726448u /* "HdrS" */
#define BZ_LOADED_HIGH     0x01        /* loadflags bit 0 */
#define BZ_CAN_USE_HEAP    0x80
#define BZ_XLF_KERNEL_64   0x0001      /* xloadflags bit 0: 64-bit entry at +0x200 */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BZ_LOADER_UNDEFINED 0xff       /* type_of_loader: no assigned ID */
#define BZ_VID_NORMAL      0xffff
#define BZ_E820_MAX        128         /* zero-page e820_table entries */

struct setup_header {
	uint8_t  setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;
	uint8_t  loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t  relocatable_kernel;
	uint8_t  min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t  screen_info[0x40];
	uint8_t  apm_bios_info[0x14];
	uint8_t  _pad2[4];
	uint64_t tboot_addr;
	uint8_t  ist_info[0x10];
	uint64_t acpi_rsdp_addr;
	uint8_t  _pad3[8];
	uint8_t  hd0_info[16];
	uint8_t  hd1_info[16];
	uint8_t  sys_desc_table[0x10];
	uint8_t  olpc_ofw_header[0x10];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t  _pad4[112];
	uint32_t cc_blob_address;
	uint8_t  edid_info[0x80];
	uint8_t  efi_info[0x20];
	uint32_t alt_mem_k;
	uint32_t scratch;
	uint8_t  e820_entries;
	uint8_t  eddbuf_entries;
	uint8_t  edd_mbr_sig_buf_entries;
	uint8_t  kbd_status;
	uint8_t  secure_boot;
	uint8_t  _pad5[2];
	uint8_t  sentinel;
	uint8_t  _pad6[1];
	struct setup_header hdr;
	uint8_t  _pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];
	struct boot_e820_entry e820_table[BZ_E820_MAX];
	uint8_t  _pad8[48];
	uint8_t  eddbuf[492];
	uint8_t  _pad9[276];
} __attribute__((packed));

#define BP_OFF(f) offsetof(struct boot_params, f)
_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header size");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");
_Static_assert(BP_OFF(acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(BP_OFF(ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(BP_OFF(ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(BP_OFF(cc_blob_address) == 0x13c, "cc_blob_address");
_Static_assert(BP_OFF(edid_info) == 0x140, "edid_info");
_Static_assert(BP_OFF(efi_info) == 0x1c0, "efi_info");
_Static_assert(BP_OFF(alt_mem_k) == 0x1e0, "alt_mem_k");
_Static_assert(BP_OFF(e820_entries) == 0x1e8, "e820_entries");
_Static_assert(BP_OFF(sentinel) == 0x1ef, "sentinel");
_Static_assert(BP_OFF(hdr) == 0x1f1, "hdr");
_Static_assert(BP_OFF(hdr.syssize) == 0x1f4, "syssize");
_Static_assert(BP_OFF(hdr.vid_mode) == 0x1fa, "vid_mode");
_Static_assert(BP_OFF(hdr.boot_flag) == 0x1fe, "boot_flag");
_Static_assert(BP_OFF(hdr.jump) == 0x200, "jump");
_Static_assert(BP_OFF(hdr.header) == 0x202, "header");
_Static_assert(BP_OFF(hdr.version) == 0x206, "version");
_Static_assert(BP_OFF(hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(BP_OFF(hdr.loadflags) == 0x211, "loadflags");
_Static_assert(BP_OFF(hdr.code32_start) == 0x214, "code32_start");
_Static_assert(BP_OFF(hdr.ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(BP_OFF(hdr.ramdisk_size) == 0x21c, "ramdisk_size");
_Static_assert(BP_OFF(hdr.heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(BP_OFF(hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(BP_OFF(hdr.initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(BP_OFF(hdr.kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(BP_OFF(hdr.relocatable_kernel) == 0x234, "relocatable_kernel");
_Static_assert(BP_OFF(hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(BP_OFF(hdr.cmdline_size) == 0x238, "cmdline_size");
_Static_assert(BP_OFF(hdr.payload_offset) == 0x248, "payload_offset");
_Static_assert(BP_OFF(hdr.setup_data) == 0x250, "setup_data");
_Static_assert(BP_OFF(hdr.pref_address) == 0x258, "pref_address");
_Static_assert(BP_OFF(hdr.init_size) == 0x260, "init_size");
_Static_assert(BP_OFF(hdr.kernel_info_offset) == 0x268, "kernel_info_offset");
_Static_assert(BP_OFF(edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig_buffer");
_Static_assert(BP_OFF(e820_table) == 0x2d0, "e820_table");
_Static_assert(BP_OFF(eddbuf) == 0xd00, "eddbuf");
#endif
