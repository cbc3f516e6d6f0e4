/* PVH boot: Xen's HVM direct boot ABI (xen/include/public/arch-x86/hvm/
 * start_info.h), as used by Linux CONFIG_PVH and QEMU/Firecracker. */
#include <errno.h>
#include "loader/elf_kernel.h"
#include "loader/place.h"
#include "machine/pc_map.h"

/* The PVH entry must be inside a loaded segment (it is a physical address). */
static int pvh_entry_check(const struct elf_info *info, char *err)
{
	for (int i = 0; i < info->nr_loads; i++)
		if (info->pvh_entry >= info->loads[i].paddr &&
		    info->pvh_entry - info->loads[i].paddr < info->loads[i].memsz)
			return 0;
	loader_err(err, "ELF PVH entry 0x%x is not inside any loaded segment; the kernel is misbuilt",
		   info->pvh_entry);
	return -EINVAL;
}

int pvh_place(struct guest_mem *m, const uint8_t *buf, const struct elf_info *info,
	      const struct boot_args *a, struct boot_entry *e, char *err)
{
	struct hvm_memmap_table_entry mm[PVH_MEMMAP_MAX];
	struct hvm_start_info si = { 0 };
	struct gpa_range avoid[ELF_MAX_LOADS];
	uint64_t cmd_gpa;
	int n, ret;

	ret = pvh_entry_check(info, err);
	if (ret < 0)
		return ret;
	ret = elf_load_segments(m, buf, info, err);
	if (ret < 0)
		return ret;
	ret = loader_write_cmdline(m, a->cmdline, LAYOUT_CMDLINE_MAX - 1, &cmd_gpa, err);
	if (ret < 0)
		return ret;

	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = cmd_gpa;
	si.rsdp_paddr = a->rsdp_gpa;

	if (a->initrd && a->initrd_len) {
		struct hvm_modlist_entry mod = { 0 };

		for (int i = 0; i < info->nr_loads; i++)
			avoid[i] = (struct gpa_range){ info->loads[i].paddr,
						       info->loads[i].paddr + info->loads[i].memsz };
		ret = loader_place_initrd(m, a->initrd, a->initrd_len, LAYOUT_MMIO_HOLE_START,
					  avoid, info->nr_loads, &mod.paddr, err);
		if (ret < 0)
			return ret;
		mod.size = a->initrd_len;
		if (gmem_write(m, LAYOUT_PVH_MODLIST, &mod, sizeof(mod)) < 0)
			goto fault;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST;
	}

	n = a->e820_nr < PVH_MEMMAP_MAX ? a->e820_nr : PVH_MEMMAP_MAX;
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ a->e820[i].addr, a->e820[i].size,
							 a->e820[i].type, 0 };
	if (n > 0) {
		if (gmem_write(m, LAYOUT_PVH_MEMMAP, mm, n * sizeof(mm[0])) < 0)
			goto fault;
		si.memmap_paddr = LAYOUT_PVH_MEMMAP;
		si.memmap_entries = n;
	}
	if (gmem_write(m, LAYOUT_PVH_START_INFO, &si, sizeof(si)) < 0)
		goto fault;
	if (boot_write_gdt(m) < 0)
		goto fault;

	memset(e, 0, sizeof(*e));
	e->mode = BOOT_PVH32;
	e->rip = info->pvh_entry;
	e->rbx = LAYOUT_PVH_START_INFO;
	return 0;
fault:
	loader_err(err, "guest RAM does not cover the low boot area (start_info, GDT); give the VM more memory");
	return -ENOSPC;
}
