/* A periodic workload for the control API's tests: prints "TK: tick N"
 * every tk.period ms (default 50) until tk.ticks lines (default 200), and
 * reports every keyboard byte the i8042 delivers as "TK: key 0xNN" (the
 * keyboard is left as the VMM resets it: set 2 translated to set 1). Then
 * PASS. Writes the boot marker first. Pausing the VM stops the ticks; resuming continues the count. */
#include "tk.h"

int scen_ticks(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char buf[16];
	uint32_t ticks = 200, period = 50;

	if (cmdline_get(bi->cmdline, "tk.ticks", buf, sizeof(buf)))
		ticks = parse_u32(buf);
	if (cmdline_get(bi->cmdline, "tk.period", buf, sizeof(buf)))
		period = parse_u32(buf);
	if (period < 10)
		period = 10;
	while (inb(0x64) & 1)          /* drop anything stale */
		(void)inb(0x60);
	outb(PORT_MARKER, 0x01);       /* the boot marker, for GET /myvmm/status */
	kprintf("TK: ticks start\n");
	for (uint32_t n = 1; n <= ticks; n++) {
		for (uint32_t ms = 0; ms < period; ms += 5) {
			uint8_t st = inb(0x64);
			if ((st & 1) && !(st & 0x20))
				kprintf("TK: key 0x%x\n", inb(0x60));
			delay_ms(5);
		}
		kprintf("TK: tick %u\n", n);
	}
	return 0;
}
