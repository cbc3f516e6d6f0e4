/* CMOS/RTC access (index 0x70, data 0x71). The rtc scenario: scenarios/rtc.c. */
#include "tk.h"

uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx & 0x7f);
	return inb(0x71);
}

void cmos_write(uint8_t idx, uint8_t v)
{
	outb(0x70, idx & 0x7f);
	outb(0x71, v);
}

static int bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Reads a consistent time: waits for UIP clear, reads twice until stable;
 * honours register B's DM (binary) and 24h bits. */
void rtc_read(struct rtc_time *t)
{
	uint8_t r[6], again[6];
	static const uint8_t idx[6] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 };
	for (int tries = 0; tries < 10; tries++) {
		/* UIP stays set < 2 ms; a port read exits to the VMM (~4 us) */
		for (int i = 0; i < 2000 && (cmos_read(0x0a) & 0x80); i++)
			cpu_relax();
		for (int i = 0; i < 6; i++)
			r[i] = cmos_read(idx[i]);
		for (int i = 0; i < 6; i++)
			again[i] = cmos_read(idx[i]);
		if (!memcmp(r, again, sizeof(r)))
			break;
	}
	uint8_t b = cmos_read(0x0b);
	bool is_bcd = !(b & 0x04);
	bool pm = !(b & 0x02) && (r[2] & 0x80);
	t->sec = bcd(r[0], is_bcd);
	t->min = bcd(r[1], is_bcd);
	t->hour = bcd(r[2] & 0x7f, is_bcd);
	if (!(b & 0x02)) {                /* 12-hour mode: 12 AM is 0, 12 PM is 12 */
		if (t->hour == 12)
			t->hour = 0;
		if (pm)
			t->hour += 12;
	}
	t->day = bcd(r[3], is_bcd);
	t->mon = bcd(r[4], is_bcd);
	t->year = 2000 + bcd(r[5], is_bcd);
}

void rtc_print(const struct rtc_time *t)
{
	kprintf("TK: rtc %04d-%02d-%02d %02d:%02d:%02d\n", t->year, t->mon, t->day, t->hour,
		t->min, t->sec);
}

bool rtc_present(void)
{
	return cmos_read(0x0a) != 0xff;
}
