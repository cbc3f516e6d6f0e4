/* ELF kernel parsing and segment loading (System V gABI, ELF32/ELF64). */
#include <errno.h>
#include "loader/elf_kernel.h"
#include "loader/place.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffff

bool elf_probe(const uint8_t *buf, size_t len)
{
	return buf && len >= 4 && buf[0] == 0x7f && buf[1] == 'E' && buf[2] == 'L' && buf[3] == 'F';
}

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static void read_phdr(const uint8_t *p, int bits, struct phdr *ph)
{
	ph->type = ld_le32(p);
	if (bits == 64) {
		ph->offset = ld_le64(p + 8);
		ph->vaddr = ld_le64(p + 16);
		ph->paddr = ld_le64(p + 24);
		ph->filesz = ld_le64(p + 32);
		ph->memsz = ld_le64(p + 40);
		ph->align = ld_le64(p + 48);
	} else {
		ph->offset = ld_le32(p + 4);
		ph->vaddr = ld_le32(p + 8);
		ph->paddr = ld_le32(p + 12);
		ph->filesz = ld_le32(p + 16);
		ph->memsz = ld_le32(p + 20);
		ph->align = ld_le32(p + 28);
	}
}

/* Walks the notes of one PT_NOTE segment (gABI "Note Section"), looking for
 * name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY. The segment is inside the file. */
static int scan_notes(const uint8_t *p, uint64_t size, uint64_t align, struct elf_info *info,
		      char *err)
{
	uint64_t off = 0, a = align == 8 ? 8 : 4;

	while (size - off >= 12) {
		uint64_t namesz = ld_le32(p + off), descsz = ld_le32(p + off + 4);
		uint32_t type = ld_le32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + ((namesz + a - 1) & ~(a - 1));
		uint64_t next = desc_off + ((descsz + a - 1) & ~(a - 1));

		if (desc_off > size || next > size || desc_off + descsz > size) {
			loader_err(err, "ELF note at segment offset 0x%llx runs past its PT_NOTE segment; the file is corrupt",
				   (unsigned long long)off);
			return -EINVAL;
		}
		if (namesz == 4 && memcmp(p + name_off, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			uint64_t v;

			if (descsz == 4) {
				v = ld_le32(p + desc_off);
			} else if (descsz == 8) {
				v = ld_le64(p + desc_off);
			} else {
				loader_err(err, "ELF PVH entry note has a %llu-byte value (expected 4 or 8); the file is corrupt",
					   (unsigned long long)descsz);
				return -EINVAL;
			}
			if (v > UINT32_MAX) {
				loader_err(err, "ELF PVH entry 0x%llx is above 4 GiB; the kernel is misbuilt",
					   (unsigned long long)v);
				return -EINVAL;
			}
			info->has_pvh = true;
			info->pvh_entry = (uint32_t)v;
		}
		off = next;
	}
	return 0;
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_info *info, char *err)
{
	uint64_t phoff, phentsize, phnum, ehsize, minent;
	uint16_t machine;
	int ret;

	memset(info, 0, sizeof(*info));
	if (!elf_probe(buf, len)) {
		loader_err(err, "not an ELF file (no ELF magic)");
		return -ENOEXEC;
	}
	if (len < 20) {
		loader_err(err, "ELF header truncated (%zu bytes); re-copy the kernel file", len);
		return -EINVAL;
	}
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64) {
		loader_err(err, "ELF class %u is neither ELF32 nor ELF64", buf[EI_CLASS]);
		return -ENOEXEC;
	}
	if (buf[EI_DATA] != ELFDATA2LSB) {
		loader_err(err, "ELF is not little-endian; build the kernel for x86");
		return -ENOEXEC;
	}
	info->bits = buf[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	machine = ld_le16(buf + 18);
	if (machine != EM_386 && machine != EM_X86_64) {
		loader_err(err, "ELF machine %u is not x86 (EM_386/EM_X86_64); build the kernel for x86", machine);
		return -ENOEXEC;
	}
	ehsize = info->bits == 64 ? 64 : 52;
	minent = info->bits == 64 ? 56 : 32;
	if (len < ehsize) {
		loader_err(err, "ELF header truncated (%zu of %llu bytes); re-copy the kernel file",
			   len, (unsigned long long)ehsize);
		return -EINVAL;
	}
	if (info->bits == 64) {
		info->entry = ld_le64(buf + 24);
		phoff = ld_le64(buf + 32);
		phentsize = ld_le16(buf + 54);
		phnum = ld_le16(buf + 56);
	} else {
		info->entry = ld_le32(buf + 24);
		phoff = ld_le32(buf + 28);
		phentsize = ld_le16(buf + 42);
		phnum = ld_le16(buf + 44);
	}
	if (phnum == 0 || phnum == PN_XNUM || phentsize < minent) {
		loader_err(err, "ELF has no usable program headers (phnum %llu, phentsize %llu); link the kernel as an executable",
			   (unsigned long long)phnum, (unsigned long long)phentsize);
		return -EINVAL;
	}
	/* phnum < 0xffff and phentsize < 0x10000: the product cannot overflow. */
	if (phoff > len || phnum * phentsize > len - phoff) {
		loader_err(err, "ELF program headers (offset 0x%llx, %llu x %llu bytes) lie outside the %zu-byte file; the file is truncated",
			   (unsigned long long)phoff, (unsigned long long)phnum,
			   (unsigned long long)phentsize, len);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		struct phdr ph;

		read_phdr(buf + phoff + i * phentsize, info->bits, &ph);
		if (ph.offset > len || ph.filesz > len - ph.offset) {
			loader_err(err, "ELF program header %llu: file range 0x%llx+0x%llx lies outside the %zu-byte file; the file is truncated or corrupt",
				   (unsigned long long)i, (unsigned long long)ph.offset,
				   (unsigned long long)ph.filesz, len);
			return -EINVAL;
		}
		if (ph.type == PT_NOTE) {
			ret = scan_notes(buf + ph.offset, ph.filesz, ph.align, info, err);
			if (ret < 0)
				return ret;
			continue;
		}
		if (ph.type != PT_LOAD)
			continue;
		if (ph.memsz < ph.filesz || ph.paddr + ph.memsz < ph.paddr ||
		    ph.vaddr + ph.memsz < ph.vaddr) {
			loader_err(err, "ELF program header %llu: bad sizes (p_paddr 0x%llx, filesz 0x%llx, memsz 0x%llx); the file is corrupt",
				   (unsigned long long)i, (unsigned long long)ph.paddr,
				   (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
			return -EINVAL;
		}
		if (ph.memsz == 0)
			continue;
		if (info->nr_loads == ELF_MAX_LOADS) {
			loader_err(err, "ELF has more than %d PT_LOAD segments; not a kernel we can load",
				   ELF_MAX_LOADS);
			return -EINVAL;
		}
		info->loads[info->nr_loads++] = (struct elf_seg){
			.offset = ph.offset, .filesz = ph.filesz,
			.paddr = ph.paddr, .vaddr = ph.vaddr, .memsz = ph.memsz,
		};
	}
	if (info->nr_loads == 0) {
		loader_err(err, "ELF has no PT_LOAD segments; link the kernel as an executable");
		return -EINVAL;
	}
	return 0;
}

int elf_load_segments(struct guest_mem *m, const uint8_t *buf, const struct elf_info *info,
		      char *err)
{
	for (int i = 0; i < info->nr_loads; i++) {
		const struct elf_seg *s = &info->loads[i];
		uint8_t *dst;

		if (!loader_range_in_low_ram(m, s->paddr, s->memsz)) {
			loader_err(err, "ELF segment at 0x%llx-0x%llx is outside guest RAM below 3 GiB (RAM ends at 0x%llx); give the VM more memory or relink the kernel",
				   (unsigned long long)s->paddr,
				   (unsigned long long)(s->paddr + s->memsz),
				   (unsigned long long)loader_low_ram_top(m));
			return -ENOSPC;
		}
		if (loader_range_hits_boot_data(s->paddr, s->memsz)) {
			loader_err(err, "ELF segment at 0x%llx-0x%llx overlaps the VMM's boot data below 1 MiB; link the kernel at 1 MiB or above",
				   (unsigned long long)s->paddr,
				   (unsigned long long)(s->paddr + s->memsz));
			return -EINVAL;
		}
		dst = gmem_ptr(m, s->paddr, s->memsz);
		memcpy(dst, buf + s->offset, s->filesz);
		gmem_zero(dst + s->filesz, s->memsz - s->filesz); /* .bss */
	}
	return 0;
}
