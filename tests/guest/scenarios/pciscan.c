/* A PCI bus scan as Linux's AGP aperture probe does it on an AMD family 0xf
 * CPU (arch/x86/kernel/aperture_64.c): the vendor/device dword of every
 * function on tk.buses buses (default 256) through CONFIG_ADDRESS/CONFIG_DATA.
 * Prints the functions found and the time taken, for bench/pciscan.sh: each
 * read is a CONFIG_ADDRESS write and a CONFIG_DATA read, so it measures the
 * cost of port I/O exits. */
#include "tk.h"

static uint32_t pm_ticks(const struct acpi_info *ai, uint32_t from)
{
	uint32_t mask = (ai->fadt_flags & (1u << 8)) ? 0xffffffffu : 0xffffffu;
	return ((inl(ai->pm_tmr) & mask) - from) & mask;
}

int scen_pci_scan(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char buf[16];
	uint32_t buses = 256, found = 0;
	uint32_t us = 0;

	if (cmdline_get(bi->cmdline, "tk.buses", buf, sizeof(buf)))
		buses = parse_u32(buf);
	if (buses < 1 || buses > 256)
		buses = 256;
	for (uint32_t bus = 0; bus < buses; bus++) {
		/* per bus (256 reads), so the 24-bit PM timer cannot wrap unseen */
		uint32_t t0 = pm_ticks(ai, 0);
		for (uint32_t devfn = 0; devfn < 256; devfn++) {
			outl(0xcf8, 0x80000000u | bus << 16 | devfn << 8);
			if (inl(0xcfc) != 0xffffffffu)
				found++;
		}
		/* ticks / 3.579545 MHz, without a 64-bit division */
		us += (uint32_t)(((uint64_t)pm_ticks(ai, t0) * 1199864539u) >> 32);
	}
	kprintf("TK: pciscan reads %u found %u us %u\n", buses * 256, found, us);
	return found ? 0 : -1;
}
