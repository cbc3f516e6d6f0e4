/* ACPI power button (the UI's window close): arms PWRBTN_EN in PM1_EN, waits
 * for PWRBTN_STS in PM1_STS (ACPI 6.x 4.8.3.1), acknowledges it and powers
 * off through S5, as an OS would on a button press. tk.timeout=N bounds the
 * wait (seconds, default 60). */
#include "tk.h"

#define PM1_PWRBTN (1u << 8)

int scen_pwrbtn(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char buf[16];
	uint32_t secs = 60;

	if (!ai->pm1a_evt || !ai->pm1a_cnt)
		tk_fail("pwrbtn", "no PM1a event/control block in the FADT");
	if (cmdline_get(bi->cmdline, "tk.timeout", buf, sizeof(buf)))
		secs = parse_u32(buf);
	outw(ai->pm1a_evt, PM1_PWRBTN);              /* clear a stale press */
	outw((uint16_t)(ai->pm1a_evt + 2), PM1_PWRBTN); /* PM1_EN.PWRBTN_EN */
	kprintf("TK: pwrbtn armed\n");
	for (uint32_t ms = 0; ms < secs * 1000; ms += 10) {
		uint16_t sts = inw(ai->pm1a_evt);
		if (sts & PM1_PWRBTN) {
			outw(ai->pm1a_evt, PM1_PWRBTN);  /* write 1 to clear */
			kprintf("TK: pwrbtn pressed (pm1_sts 0x%x)\n", sts);
			outw(ai->pm1a_cnt, (uint16_t)((ai->s5_typ & 7) << 10 | 1u << 13));
			delay_ms(100);
			tk_fail("pwrbtn", "still running after S5");
		}
		delay_ms(10);
	}
	tk_fail("pwrbtn", "no power button press in %u s", secs);
}
