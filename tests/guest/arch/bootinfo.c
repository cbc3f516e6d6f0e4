/* Boot information: PVH start_info (32-bit entry) or the Linux zero page
 * (64-bit entry), normalised into struct bootinfo for kmain(). */
#include "tk.h"

#define PVH_MAGIC 0x336ec578u

static struct bootinfo bi;

static void rd(void *dst, uint64_t pa, size_t n)
{
	memcpy(dst, phys(pa), n);
}

/* Called by head32.S with EBX. */
void pvh_main(uint32_t start_info)
{
	uint32_t magic = 0, version = 0, nr_modules = 0, nmap = 0;
	uint64_t modlist = 0, cmdline = 0, rsdp = 0, memmap = 0;

	bi.mode = "pvh";
	bi.cmdline = "";
	rd(&magic, start_info, 4);
	if (magic == PVH_MAGIC) {
		rd(&version, start_info + 4, 4);
		rd(&nr_modules, start_info + 12, 4);
		rd(&modlist, start_info + 16, 8);
		rd(&cmdline, start_info + 24, 8);
		rd(&rsdp, start_info + 32, 8);
		if (version >= 1) {
			rd(&memmap, start_info + 40, 8);
			rd(&nmap, start_info + 48, 4);
		}
	}
	if (cmdline && cmdline < 0x100000000ULL)
		bi.cmdline = phys(cmdline);
	bi.rsdp = rsdp;
	if (nr_modules && modlist && modlist < 0x100000000ULL) {
		rd(&bi.initrd_addr, modlist, 8);
		rd(&bi.initrd_size, modlist + 8, 8);
	}
	if (memmap && memmap < 0x100000000ULL) {
		for (uint32_t i = 0; i < nmap && bi.e820_nr < TK_MAX_E820; i++) {
			struct e820 *e = &bi.e820[bi.e820_nr++];
			rd(&e->start, memmap + i * 24, 8);
			rd(&e->size, memmap + i * 24 + 8, 8);
			rd(&e->type, memmap + i * 24 + 16, 4);
		}
	}
	kmain(&bi);
}

#define MB_BOOT_MAGIC 0x2badb002u

/* Multiboot v1 info (EBX): cmdline (flag 2), mods (3) = initrd, mmap (6). */
static void mb_main(uint32_t info)
{
	uint32_t flags, cmdline, mods_count, mods_addr, mmap_len, mmap_addr;

	bi.mode = "multiboot";
	bi.cmdline = "";
	rd(&flags, info, 4);
	if (flags & (1u << 2)) {
		rd(&cmdline, info + 16, 4);
		if (cmdline)
			bi.cmdline = phys(cmdline);
	}
	if (flags & (1u << 3)) {
		rd(&mods_count, info + 20, 4);
		rd(&mods_addr, info + 24, 4);
		if (mods_count && mods_addr) {
			uint32_t start, end;
			rd(&start, mods_addr, 4);
			rd(&end, mods_addr + 4, 4);
			if (end > start) {
				bi.initrd_addr = start;
				bi.initrd_size = end - start;
			}
		}
	}
	if (flags & (1u << 6)) {
		rd(&mmap_len, info + 44, 4);
		rd(&mmap_addr, info + 48, 4);
		/* entries: u32 size (not counting itself), u64 base, u64 len, u32 type */
		for (uint32_t off = 0; off + 24 <= mmap_len && bi.e820_nr < TK_MAX_E820;) {
			uint32_t size;
			rd(&size, mmap_addr + off, 4);
			struct e820 *e = &bi.e820[bi.e820_nr++];
			rd(&e->start, mmap_addr + off + 4, 8);
			rd(&e->size, mmap_addr + off + 12, 8);
			rd(&e->type, mmap_addr + off + 20, 4);
			if (size < 20)
				break;
			off += size + 4;
		}
	}
	kmain(&bi);
}

/* Called by head32.S: ESI = EAX at entry (multiboot magic or 0), EBX. */
void boot32_main(uint32_t magic, uint32_t info)
{
	if (magic == MB_BOOT_MAGIC)
		mb_main(info);
	else
		pvh_main(info);
}

/* Called by head64.S with RSI (the zero page). */
void linux_main(uintptr_t zp)
{
	const uint8_t *z = phys(zp);
	uint32_t lo, hi;

	bi.mode = "linux64";
	bi.cmdline = "";
	memcpy(&lo, z + 0x228, 4);
	memcpy(&hi, z + 0x0c8, 4);
	uint64_t cl = (uint64_t)hi << 32 | lo;
	if (cl && cl < 0x100000000ULL)
		bi.cmdline = phys(cl);
	memcpy(&lo, z + 0x218, 4);
	memcpy(&hi, z + 0x0c0, 4);
	bi.initrd_addr = (uint64_t)hi << 32 | lo;
	memcpy(&lo, z + 0x21c, 4);
	memcpy(&hi, z + 0x0c4, 4);
	bi.initrd_size = (uint64_t)hi << 32 | lo;
	if (!bi.initrd_addr)
		bi.initrd_size = 0;
	memcpy(&bi.rsdp, z + 0x070, 8);
	int n = z[0x1e8];
	if (n > 128)
		n = 128;
	for (int i = 0; i < n; i++) {
		struct e820 *e = &bi.e820[bi.e820_nr++];
		memcpy(&e->start, z + 0x2d0 + i * 20, 8);
		memcpy(&e->size, z + 0x2d0 + i * 20 + 8, 8);
		memcpy(&e->type, z + 0x2d0 + i * 20 + 16, 4);
	}
	kmain(&bi);
}
