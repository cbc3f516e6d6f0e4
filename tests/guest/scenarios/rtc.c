/* The rtc scenario: the same time read in BCD and in binary mode. */
#include "tk.h"

static int secs_of_day(const struct rtc_time *t)
{
	return (t->hour * 60 + t->min) * 60 + t->sec;
}

int scen_rtc(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct rtc_time a, b;
	uint8_t regb = cmos_read(0x0b);

	if (!rtc_present())
		tk_fail("rtc", "no RTC (register A reads 0xff)");

	cmos_write(0x0b, regb & ~0x04);   /* BCD */
	rtc_read(&a);
	rtc_print(&a);
	cmos_write(0x0b, regb | 0x04);    /* binary */
	rtc_read(&b);
	rtc_print(&b);
	cmos_write(0x0b, regb);
	int d = secs_of_day(&b) - secs_of_day(&a);
	if (d < 0)
		d += 86400;
	if (d > 1 || (d == 0 && (a.year != b.year || a.mon != b.mon || a.day != b.day)))
		tk_fail("rtc", "BCD and binary reads differ");
	return 0;
}
