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
