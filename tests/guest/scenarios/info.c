/* The default scenario: print what the loader and the platform tell us. */
#include "tk.h"

int scen_info(const struct bootinfo *bi, const struct acpi_info *ai_unused)
{
	static struct acpi_info ai;
	uint64_t ram = 0;

	kprintf("TK: cmdline %s\n", bi->cmdline);
	for (int i = 0; i < bi->e820_nr; i++) {
		const struct e820 *e = &bi->e820[i];
		kprintf("TK: e820 %d %016llx %016llx %u\n", i, (unsigned long long)e->start,
			(unsigned long long)(e->start + e->size), e->type);
		if (e->type == 1)
			ram += e->size;
	}
	kprintf("TK: ram %llu\n", (unsigned long long)(ram >> 20));
	if (bi->initrd_size) {
		uint32_t sum = 0;
		if (bi->initrd_addr + bi->initrd_size <= 0x100000000ULL) {
			const uint8_t *p = phys(bi->initrd_addr);
			for (uint64_t i = 0; i < bi->initrd_size; i++)
				sum += p[i];
		}
		kprintf("TK: initrd 0x%llx %llu sum %08x\n", (unsigned long long)bi->initrd_addr,
			(unsigned long long)bi->initrd_size, sum);
	}
	kprintf("TK: boot rsdp 0x%llx\n", (unsigned long long)bi->rsdp); /* 0: loader gave none */
	acpi_scan(bi, &ai, true);
	struct rtc_time t;
	if (rtc_present()) {
		rtc_read(&t);
		rtc_print(&t);
	} else {
		kprintf("TK: rtc none\n");
	}
	if (!ai.rsdp)
		tk_fail("info", "no RSDP");
	if (!ai.all_ok)
		tk_fail("info", "bad ACPI checksum");
	return 0;
}
