/* Multiboot v1 loader (Multiboot Specification 0.6.96, sections 3.1-3.3). */
#include <errno.h>
#include <stdlib.h>
#include "loader/elf_kernel.h"
#include "loader/multiboot.h"
#include "loader/place.h"
#include "machine/pc_map.h"

/* Flags bits 0-15 are requirements; we honour 0 (our modules are page
 * aligned), 1 (memory info always given) and treat 2 (video) as a hint. */
#define MB_KNOWN_REQ (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

static int parse_aout(const uint8_t *buf, size_t len, struct mb_header *h, char *err)
{
	const uint8_t *p = buf + h->offset;
	uint64_t back, end;

	if (len - h->offset < 32) {
		loader_err(err, "multiboot header address fields run past the end of the file; the file is truncated");
		return -EINVAL;
	}
	h->header_addr = ld_le32(p + 12);
	h->load_addr = ld_le32(p + 16);
	h->load_end_addr = ld_le32(p + 20);
	h->bss_end_addr = ld_le32(p + 24);
	h->entry_addr = ld_le32(p + 28);
	/* 3.1.3: header_addr - load_addr is the header's offset in the loaded text. */
	if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->offset)
		goto bad;
	back = h->header_addr - h->load_addr;
	h->load_offset = h->offset - back;
	if (h->load_end_addr == 0) {
		h->load_size = len - h->load_offset;
	} else {
		if (h->load_end_addr < h->load_addr)
			goto bad;
		h->load_size = h->load_end_addr - h->load_addr;
		if (h->load_size > len - h->load_offset) {
			loader_err(err, "multiboot kernel is truncated: load_end_addr needs %llu bytes from offset %zu, file has %zu; re-copy the kernel file",
				   (unsigned long long)h->load_size, h->load_offset, len);
			return -EINVAL;
		}
	}
	end = (uint64_t)h->load_addr + h->load_size;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < end)
			goto bad;
		end = h->bss_end_addr;
	}
	h->mem_size = end - h->load_addr;
	if (h->entry_addr < h->load_addr || h->entry_addr >= end)
		goto bad;
	return 0;
bad:
	loader_err(err, "multiboot header address fields are inconsistent (header 0x%x load 0x%x-0x%x bss_end 0x%x entry 0x%x); the kernel is misbuilt",
		   h->header_addr, h->load_addr, h->load_end_addr, h->bss_end_addr, h->entry_addr);
	return -EINVAL;
}

int mb_parse(const uint8_t *buf, size_t len, struct mb_header *h, char *err)
{
	size_t lim = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;
	long bad_at = -1;

	memset(h, 0, sizeof(*h));
	for (size_t off = 0; buf && off + 12 <= lim; off += 4) {
		uint32_t magic = ld_le32(buf + off), flags, sum;

		if (magic != MB_HEADER_MAGIC)
			continue;
		flags = ld_le32(buf + off + 4);
		sum = ld_le32(buf + off + 8);
		if ((uint32_t)(magic + flags + sum) != 0) {
			if (bad_at < 0)
				bad_at = (long)off;
			continue;
		}
		h->offset = off;
		h->flags = flags;
		if (flags & 0xffff & ~MB_KNOWN_REQ) {
			loader_err(err, "multiboot kernel requires features we do not provide (flags 0x%x); use an ELF/PVH or bzImage kernel",
				   flags);
			return -ENOEXEC;
		}
		if (flags & MB_FLAG_AOUT_KLUDGE)
			return parse_aout(buf, len, h, err);
		return 0;
	}
	if (bad_at >= 0) {
		loader_err(err, "multiboot header at offset 0x%lx has a bad checksum; the kernel is corrupt", bad_at);
		return -EINVAL;
	}
	loader_err(err, "no multiboot header in the first 8 KiB");
	return -ENOENT;
}

static int load_aout(struct guest_mem *m, const uint8_t *buf, const struct mb_header *h,
		     struct gpa_range *r, char *err)
{
	uint8_t *dst;

	if (!loader_range_in_low_ram(m, h->load_addr, h->mem_size)) {
		loader_err(err, "multiboot kernel at 0x%x-0x%llx is outside guest RAM below 3 GiB; give the VM more memory",
			   h->load_addr, (unsigned long long)(h->load_addr + h->mem_size));
		return -ENOSPC;
	}
	if (loader_range_hits_boot_data(h->load_addr, h->mem_size)) {
		loader_err(err, "multiboot kernel at 0x%x overlaps the VMM's boot data below 1 MiB; link it at 1 MiB or above",
			   h->load_addr);
		return -EINVAL;
	}
	dst = gmem_ptr(m, h->load_addr, h->mem_size);
	memcpy(dst, buf + h->load_offset, h->load_size);
	gmem_zero(dst + h->load_size, h->mem_size - h->load_size); /* .bss */
	*r = (struct gpa_range){ h->load_addr, h->load_addr + h->mem_size };
	return 0;
}

/* GRUB-compatible: an e_entry inside a segment's virtual range is translated
 * to the physical address; else it is taken as physical. */
static int elf_entry(const struct elf_info *info, uint64_t *entry, char *err)
{
	uint64_t v = info->entry;

	for (int i = 0; i < info->nr_loads; i++) {
		const struct elf_seg *s = &info->loads[i];

		if (v >= s->vaddr && v - s->vaddr < s->memsz) {
			v = s->paddr + (v - s->vaddr);
			break;
		}
	}
	if (v > UINT32_MAX) {
		loader_err(err, "multiboot ELF entry 0x%llx is above 4 GiB; the kernel is misbuilt",
			   (unsigned long long)v);
		return -EINVAL;
	}
	*entry = v;
	return 0;
}

static int write_mmap(struct guest_mem *m, const struct boot_args *a, struct multiboot_info *mbi)
{
	const int max = (LAYOUT_MB_MMAP_END - LAYOUT_MB_MMAP) / sizeof(struct multiboot_mmap_entry);
	int n = a->e820_nr < max ? a->e820_nr : max;

	for (int i = 0; i < n; i++) {
		struct multiboot_mmap_entry me = {
			.size = sizeof(me) - 4, .addr = a->e820[i].addr,
			.len = a->e820[i].size, .type = a->e820[i].type,
		};
		if (gmem_write(m, LAYOUT_MB_MMAP + i * sizeof(me), &me, sizeof(me)) < 0)
			return -EFAULT;
	}
	if (n > 0) {
		mbi->flags |= MBI_MMAP;
		mbi->mmap_addr = LAYOUT_MB_MMAP;
		mbi->mmap_length = n * sizeof(struct multiboot_mmap_entry);
	}
	return 0;
}

int mb_place(struct guest_mem *m, const uint8_t *buf, size_t len, const struct mb_header *h,
	     const struct boot_args *a, struct boot_entry *e, char *err)
{
	static const char names[] = "myvmm\0initrd";
	struct multiboot_info mbi = { 0 };
	struct gpa_range avoid[ELF_MAX_LOADS];
	int n_avoid = 0, ret;
	uint64_t entry, cmd_gpa, low_top = loader_low_ram_top(m);
	struct elf_info *ei = NULL;

	if (h->flags & MB_FLAG_AOUT_KLUDGE) {
		ret = load_aout(m, buf, h, &avoid[0], err);
		if (ret < 0)
			return ret;
		n_avoid = 1;
		entry = h->entry_addr;
	} else {
		ei = malloc(sizeof(*ei));
		if (!ei)
			return -ENOMEM;
		ret = elf_parse(buf, len, ei, err);
		if (ret == -ENOEXEC)
			loader_err(err, "multiboot kernel without address fields (flag 16) must be an ELF file; rebuild it as ELF");
		if (ret < 0)
			goto out;
		ret = elf_entry(ei, &entry, err);
		if (ret < 0)
			goto out;
		ret = elf_load_segments(m, buf, ei, err);
		if (ret < 0)
			goto out;
		for (int i = 0; i < ei->nr_loads; i++)
			avoid[n_avoid++] = (struct gpa_range){ ei->loads[i].paddr,
							       ei->loads[i].paddr + ei->loads[i].memsz };
	}

	ret = loader_write_cmdline(m, a->cmdline, LAYOUT_CMDLINE_MAX - 1, &cmd_gpa, err);
	if (ret < 0)
		goto out;
	mbi.flags = MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_LOADER_NAME;
	mbi.mem_lower = (uint32_t)((gmem_ptr(m, 0, LAYOUT_EBDA_START) ? LAYOUT_EBDA_START : 0) / 1024);
	mbi.mem_upper = low_top > LAYOUT_HIGHMEM_START ?
			(uint32_t)((low_top - LAYOUT_HIGHMEM_START) / 1024) : 0;
	mbi.cmdline = (uint32_t)cmd_gpa;
	mbi.boot_loader_name = LAYOUT_MB_STRINGS;
	if (gmem_write(m, LAYOUT_MB_STRINGS, names, sizeof(names)) < 0)
		goto fault;

	if (a->initrd && a->initrd_len) {
		struct multiboot_mod mod = { 0 };
		uint64_t gpa;

		ret = loader_place_initrd(m, a->initrd, a->initrd_len, LAYOUT_MMIO_HOLE_START,
					  avoid, n_avoid, &gpa, err);
		if (ret < 0)
			goto out;
		mod.mod_start = (uint32_t)gpa;
		mod.mod_end = (uint32_t)(gpa + a->initrd_len);
		mod.string = LAYOUT_MB_STRINGS + 6; /* "initrd" */
		if (gmem_write(m, LAYOUT_MB_MODS, &mod, sizeof(mod)) < 0)
			goto fault;
		mbi.mods_count = 1;
		mbi.mods_addr = LAYOUT_MB_MODS;
	}
	if (write_mmap(m, a, &mbi) < 0)
		goto fault;
	if (gmem_write(m, LAYOUT_MB_INFO, &mbi, sizeof(mbi)) < 0 || boot_write_gdt(m) < 0)
		goto fault;

	memset(e, 0, sizeof(*e));
	e->mode = BOOT_MULTIBOOT32;
	e->rip = entry;
	e->rax = MB_BOOTLOADER_MAGIC;
	e->rbx = LAYOUT_MB_INFO;
	ret = 0;
	goto out;
fault:
	loader_err(err, "guest RAM does not cover the low boot area (multiboot info, GDT); give the VM more memory");
	ret = -ENOSPC;
out:
	free(ei);
	return ret;
}
