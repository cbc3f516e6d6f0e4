/* bzImage loader: Linux x86 boot protocol (Documentation/arch/x86/boot.rst),
 * 64-bit entry ("64-bit Boot Protocol" section). */
#include <errno.h>
#include <stdlib.h>
#include "loader/bootparam.h"
#include "loader/bzimage.h"
#include "loader/place.h"
#include "machine/pc_map.h"

#define SECTOR 512
#define HDR(f) (BP_OFF(hdr.f))

bool bzimage_probe(const uint8_t *buf, size_t len)
{
	return buf && len >= HDR(version) &&
	       ld_le16(buf + HDR(boot_flag)) == BZ_BOOT_FLAG &&
	       ld_le32(buf + HDR(header)) == BZ_HDRS_MAGIC;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *info, char *err)
{
	uint64_t need;

	memset(info, 0, sizeof(*info));
	if (!buf || len < BP_OFF(hdr) + sizeof(struct setup_header)) {
		loader_err(err, "file is only %zu bytes, too short for a bzImage setup header; is it a complete kernel image?",
			   buf ? len : 0);
		return -EINVAL;
	}
	if (!bzimage_probe(buf, len)) {
		loader_err(err, "not a bzImage (no 0xAA55 boot flag / 'HdrS' header)");
		return -ENOEXEC;
	}
	info->version = ld_le16(buf + HDR(version));
	if (info->version < 0x0206) {
		loader_err(err, "bzImage boot protocol %u.%02u is too old (need 2.06 or newer); use a newer kernel",
			   info->version >> 8, info->version & 0xff);
		return -EPROTONOSUPPORT;
	}
	/* xloadflags exists from protocol 2.12 on; before that there is no 64-bit entry. */
	info->xloadflags = info->version >= 0x020c ? ld_le16(buf + HDR(xloadflags)) : 0;
	if (!(info->xloadflags & BZ_XLF_KERNEL_64)) {
		loader_err(err, "bzImage has no 64-bit entry (XLF_KERNEL_64 not set, protocol %u.%02u); use a 64-bit x86_64 kernel",
			   info->version >> 8, info->version & 0xff);
		return -EPROTONOSUPPORT;
	}
	info->setup_sects = buf[HDR(setup_sects)] ? buf[HDR(setup_sects)] : 4;
	info->setup_size = (size_t)(info->setup_sects + 1) * SECTOR;
	info->syssize = ld_le32(buf + HDR(syssize));
	need = (uint64_t)info->setup_size + (uint64_t)info->syssize * 16;
	if (len < info->setup_size || len < need || info->syssize == 0) {
		loader_err(err, "bzImage is truncated: %zu bytes, header says %llu (setup %zu + payload %llu); re-copy the kernel file",
			   len, (unsigned long long)need, info->setup_size,
			   (unsigned long long)info->syssize * 16);
		return -EINVAL;
	}
	info->pm_size = len - info->setup_size;
	info->hdr_end = 0x202 + (size_t)buf[0x201];
	if (info->hdr_end > BP_OFF(edd_mbr_sig_buffer))
		info->hdr_end = BP_OFF(edd_mbr_sig_buffer);
	if (info->hdr_end > info->setup_size)
		info->hdr_end = info->setup_size;
	info->relocatable = buf[HDR(relocatable_kernel)] != 0;
	info->kernel_alignment = ld_le32(buf + HDR(kernel_alignment));
	info->cmdline_size = ld_le32(buf + HDR(cmdline_size));
	info->initrd_addr_max = ld_le32(buf + HDR(initrd_addr_max));
	if (info->version >= 0x020a) {
		info->pref_address = ld_le64(buf + HDR(pref_address));
		info->init_size = ld_le32(buf + HDR(init_size));
	}
	if (info->relocatable &&
	    (info->kernel_alignment == 0 || (info->kernel_alignment & (info->kernel_alignment - 1)))) {
		loader_err(err, "bzImage kernel_alignment 0x%x is not a power of two; the image is corrupt",
			   info->kernel_alignment);
		return -EINVAL;
	}
	return 0;
}

uint64_t bzimage_load_addr(const struct bzimage_info *info)
{
	uint64_t a, align;

	if (!info->relocatable)
		return LAYOUT_HIGHMEM_START;
	a = info->pref_address;
	if (a < LAYOUT_HIGHMEM_START)
		a = LAYOUT_HIGHMEM_START;
	align = info->kernel_alignment;
	if (a > UINT64_MAX - align)
		return UINT64_MAX & ~(align - 1);
	return (a + align - 1) & ~(align - 1);
}

static void fill_e820(struct boot_params *bp, const struct boot_args *a)
{
	int n = a->e820_nr < BZ_E820_MAX ? a->e820_nr : BZ_E820_MAX;

	for (int i = 0; i < n; i++) {
		bp->e820_table[i].addr = a->e820[i].addr;
		bp->e820_table[i].size = a->e820[i].size;
		bp->e820_table[i].type = a->e820[i].type;
	}
	bp->e820_entries = (uint8_t)n;
}

int bzimage_place(struct guest_mem *m, const struct bzimage_info *info,
		  const struct boot_args *a, struct boot_entry *e, char *err)
{
	struct boot_params *bp;
	uint64_t load, extent, cmd_gpa, initrd_gpa = 0, max_end;
	int ret;

	load = bzimage_load_addr(info);
	extent = info->init_size > info->pm_size ? info->init_size : info->pm_size;
	if (!loader_range_in_low_ram(m, load, extent)) {
		loader_err(err, "kernel needs 0x%llx bytes at 0x%llx but guest RAM below 3 GiB ends at 0x%llx; give the VM more memory (--mem)",
			   (unsigned long long)extent, (unsigned long long)load,
			   (unsigned long long)loader_low_ram_top(m));
		return -ENOSPC;
	}
	bp = calloc(1, sizeof(*bp));
	if (!bp) {
		loader_err(err, "out of host memory building the zero page");
		return -ENOMEM;
	}
	ret = gmem_write(m, load, a->kernel + info->setup_size, info->pm_size);
	if (ret < 0)
		goto fault;

	ret = loader_write_cmdline(m, a->cmdline, info->cmdline_size, &cmd_gpa, err);
	if (ret < 0)
		goto out;

	if (a->initrd && a->initrd_len) {
		struct gpa_range kr = { load, load + extent };

		max_end = (uint64_t)info->initrd_addr_max + 1;
		ret = loader_place_initrd(m, a->initrd, a->initrd_len, max_end, &kr, 1,
					  &initrd_gpa, err);
		if (ret < 0)
			goto out;
	}

	/* Zero page: zeroed, then the image's setup header (boot.rst "Details
	 * of header fields": copy from 0x1F1 to the end given by the jump). */
	memcpy((uint8_t *)bp + BZ_SETUP_HDR_OFF, a->kernel + BZ_SETUP_HDR_OFF,
	       info->hdr_end - BZ_SETUP_HDR_OFF);
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.vid_mode = BZ_VID_NORMAL;
	bp->hdr.loadflags |= BZ_LOADED_HIGH;
	bp->hdr.code32_start = (uint32_t)load;
	bp->hdr.cmd_line_ptr = (uint32_t)cmd_gpa;
	bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
	bp->hdr.ramdisk_size = initrd_gpa ? (uint32_t)a->initrd_len : 0;
	if (info->version >= 0x020e)
		bp->acpi_rsdp_addr = a->rsdp_gpa;
	fill_e820(bp, a);
	ret = gmem_write(m, LAYOUT_ZERO_PAGE, bp, sizeof(*bp));
	if (ret < 0)
		goto fault;

	ret = boot_write_gdt(m);
	if (ret < 0)
		goto fault;
	ret = boot_write_pagetables(m);
	if (ret < 0)
		goto fault;

	memset(e, 0, sizeof(*e));
	e->mode = BOOT_LINUX64;
	e->rip = load + 0x200;
	e->rsi = LAYOUT_ZERO_PAGE;
	e->rsp = LAYOUT_BOOT_STACK;
	e->cr3 = LAYOUT_PML4;
	ret = 0;
	goto out;
fault:
	loader_err(err, "guest RAM does not cover the low boot area (zero page, GDT, page tables); give the VM more memory");
	ret = -ENOSPC;
out:
	free(bp);
	return ret;
}
