/* Elapsed-time deadlines without calibrated spin loops. Sources, first that
 * ticks wins: ACPI PM timer (3.579545 MHz, port from the FADT), PIT channel 2
 * (1.193182 MHz, gated through port 0x61), RTC seconds (coarse). */
#include "tk.h"

enum tsrc { SRC_NONE, SRC_PM, SRC_PIT, SRC_RTC };

/* Set once by the BSP before any AP runs; read-only afterwards. */
static enum tsrc src;
static uint16_t pm_port;
static uint32_t pm_mask;

static uint32_t pit_read(void)
{
	outb(0x43, 0x80);                 /* latch channel 2 */
	uint32_t lo = inb(0x42);
	return lo | ((uint32_t)inb(0x42) << 8);
}

static uint32_t raw_now(void)
{
	switch (src) {
	case SRC_PM:
		return inl(pm_port) & pm_mask;
	case SRC_PIT:
		return pit_read();
	case SRC_RTC:
		return cmos_read(0x00);
	default:
		return 0;
	}
}

/* True if the source changes within a few dozen port reads. */
static bool ticks(void)
{
	uint32_t a = raw_now();
	for (int i = 0; i < 64; i++)
		if (raw_now() != a)
			return true;
	return false;
}

void timer_init(const struct acpi_info *ai)
{
	if (ai->pm_tmr) {
		src = SRC_PM;
		pm_port = ai->pm_tmr;
		pm_mask = (ai->fadt_flags & (1u << 8)) ? 0xffffffffu : 0xffffffu;
		if (raw_now() != pm_mask && ticks())
			return;
	}
	src = SRC_PIT;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb4);                 /* ch2, lo/hi, mode 2, binary */
	outb(0x42, 0x00);
	outb(0x42, 0x00);                 /* count 65536 */
	if (ticks())
		return;
	src = SRC_RTC;                    /* ticks once a second at best */
}

const char *timer_name(void)
{
	static const char *const names[] = { "none", "pmtimer", "pit", "rtc" };
	return names[src];
}

void deadline_start(struct deadline *d, uint32_t ms)
{
	switch (src) {
	case SRC_PM:
		d->left = (uint64_t)ms * 3580;
		break;
	case SRC_PIT:
		d->left = (uint64_t)ms * 1193;
		break;
	default:
		d->left = ms / 1000 + 2;  /* whole seconds, rounded up, plus a partial one */
		break;
	}
	if (!d->left)
		d->left = 1;
	d->last = raw_now();
}

bool deadline_passed(struct deadline *d)
{
	uint32_t now = raw_now(), delta;
	switch (src) {
	case SRC_PM:
		delta = (now - d->last) & pm_mask;
		break;
	case SRC_PIT:
		delta = (d->last - now) & 0xffff;  /* counts down */
		break;
	default:
		delta = now != d->last;
		break;
	}
	d->last = now;
	d->left = delta >= d->left ? 0 : d->left - delta;
	return d->left == 0;
}

void delay_ms(uint32_t ms)
{
	struct deadline d;
	deadline_start(&d, ms);
	while (!deadline_passed(&d))
		cpu_relax();
}
