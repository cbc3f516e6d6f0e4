/* ACPI S5 power-off and the reset scenarios (0xCF9, i8042, FADT RESET_REG).
 * A reset survives in CMOS NVRAM byte 0x40. */
#include "tk.h"

#define CMOS_FLAG     0x40
#define CMOS_MAGIC    0xa5

int scen_poweroff(const struct bootinfo *bi, const struct acpi_info *ai)
{
	if (!ai->pm1a_cnt)
		tk_fail("poweroff", "no PM1a_CNT in FADT");
	kprintf("TK: poweroff\n");
	outw(ai->pm1a_cnt, (uint16_t)((ai->s5_typ & 7) << 10 | 1u << 13));
	delay_ms(100);
	tk_fail("poweroff", "still running");
}

int scen_reset(const struct bootinfo *bi, const struct acpi_info *ai, const char *how)
{
	char scen[16] = "reset-";
	memcpy(scen + 6, how, kstrlen(how) + 1);

	if (cmos_read(CMOS_FLAG) == CMOS_MAGIC) {
		cmos_write(CMOS_FLAG, 0);
		kprintf("TK: rebooted\n");
		return 0;
	}
	if (!kstrncmp(how, "acpi", 5) && (!ai->has_reset || ai->reset_space != 1))
		tk_fail(scen, "no I/O RESET_REG in FADT");
	cmos_write(CMOS_FLAG, CMOS_MAGIC);
	kprintf("TK: resetting via %s\n", how);
	if (!kstrncmp(how, "cf9", 4)) {
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
	} else if (!kstrncmp(how, "kbd", 4)) {
		for (int i = 0; i < 10000 && (inb(0x64) & 0x02); i++)
			cpu_relax();
		outb(0x64, 0xfe);
	} else {
		outb((uint16_t)ai->reset_addr, ai->reset_val);
	}
	delay_ms(100);
	cmos_write(CMOS_FLAG, 0);
	tk_fail(scen, "still running");
}
