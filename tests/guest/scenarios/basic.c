/* The scenarios that need no driver: hang, exit, int3, marker and the three
 * reset-* wrappers around scen_reset() (power.c). */
#include "tk.h"

int scen_hang(const struct bootinfo *bi, const struct acpi_info *ai)
{
	kprintf("TK: hanging\n");
	tk_halt();
}

int scen_exit(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char buf[16];
	uint32_t code = 0;
	if (cmdline_get(bi->cmdline, "tk.code", buf, sizeof(buf)))
		code = parse_u32(buf);
	kprintf("TK: exit %u\n", code);
	tk_exit(code);
}

int scen_int3(const struct bootinfo *bi, const struct acpi_info *ai)
{
	kprintf("TK: int3\n");
	__asm__ volatile("int3");
	tk_fail(NULL, "int3 returned");
}

int scen_marker(const struct bootinfo *bi, const struct acpi_info *ai)
{
	outb(PORT_MARKER, 0x01);
	kprintf("TK: marker\n");
	return 0;
}

int scen_reset_cf9(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "cf9");
}

int scen_reset_kbd(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "kbd");
}

int scen_reset_acpi(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "acpi");
}
