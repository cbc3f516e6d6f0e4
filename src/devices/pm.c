/* ACPI PM1 event/control registers and the PM timer (see pm.h). */
#include "devices/pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "host/log.h"
#include "snapshot/format.h"

struct pm {
	pthread_mutex_t lock;
	struct irq_line sci;
	struct vmctl ctl;
	unsigned s5_typ;
	uint16_t sts, en, cnt;
	struct timespec t0;
	int sci_level;
};

static uint64_t ns_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000000ULL + (uint64_t)t.tv_nsec -
	       (uint64_t)t0->tv_nsec;
}

uint32_t pm_timer_value(const struct pm *pm)
{
	uint64_t ns = ns_since(&pm->t0);
	/* ticks = ns * 3579545 / 1e9, split to avoid overflow for long uptimes. */
	uint64_t ticks = (ns / 1000000000ULL) * PM_TIMER_HZ +
			 (ns % 1000000000ULL) * PM_TIMER_HZ / 1000000000ULL;
	return (uint32_t)ticks;
}

/* Called with the lock held: the SCI follows (STS & EN) while SCI_EN is set. */
static void update_sci(struct pm *pm)
{
	int level = (pm->sts & pm->en & PM1_STS_PWRBTN) && (pm->cnt & PM1_CNT_SCI_EN);
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
}

static void pm_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint64_t v = 0;

	pthread_mutex_lock(&pm->lock);
	/* A 4-byte event-block read returns STS | EN << 16. */
	uint8_t regs[8] = { pm->sts & 0xff, pm->sts >> 8, pm->en & 0xff, pm->en >> 8,
			    pm->cnt & 0xff, pm->cnt >> 8, 0, 0 };
	pthread_mutex_unlock(&pm->lock);
	if (off >= 8) {
		uint32_t t = pm_timer_value(pm);
		v = off - 8 < 4 ? (uint64_t)t >> (8 * (off - 8)) : 0;
	} else {
		for (uint32_t i = 0; i < len && off + i < 8; i++)
			v |= (uint64_t)regs[off + i] << (8 * i);
	}
	bus_put_le(data, len, v);
}

static void pm_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pm *pm = opaque;
	uint64_t v = bus_get_le(data, len);
	bool poweroff = false;

	pthread_mutex_lock(&pm->lock);
	for (uint32_t i = 0; i < len; i++, v >>= 8) {
		uint64_t o = off + i;
		uint8_t b = v & 0xff;
		switch (o) {
		case 0: pm->sts &= (uint16_t)~b; break;          /* write 1 to clear */
		case 1: pm->sts &= (uint16_t)~(b << 8); break;
		case 2: pm->en = (pm->en & 0xff00) | b; break;
		case 3: pm->en = (pm->en & 0x00ff) | (uint16_t)(b << 8); break;
		case 4: pm->cnt = (pm->cnt & 0xff00) | b | PM1_CNT_SCI_EN; break;
		case 5:
			pm->cnt = (pm->cnt & 0x00ff) | (uint16_t)((b << 8) & ~PM1_CNT_SLP_EN);
			if ((b << 8) & PM1_CNT_SLP_EN) {
				unsigned typ = (b >> 2) & 7;
				if (typ == pm->s5_typ)
					poweroff = true;
				else
					pr_guest("sleep state SLP_TYP=%u not supported, ignored", typ);
			}
			break;
		default: break; /* PM timer is read-only */
		}
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (poweroff)
		vmctl_stop(&pm->ctl, STOP_POWEROFF, 0);
}

const struct bus_ops pm_bus_ops = { .read = pm_read, .write = pm_write };

struct pm *pm_create(const struct irq_line *sci, const struct vmctl *ctl, unsigned s5_typ)
{
	struct pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = *sci;
	pm->ctl = *ctl;
	pm->s5_typ = s5_typ;
	pm->cnt = PM1_CNT_SCI_EN; /* no SMI_CMD: ACPI mode from the start */
	clock_gettime(CLOCK_MONOTONIC, &pm->t0);
	return pm;
}

void pm_destroy(struct pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void pm_power_button(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_STS_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* ---- snapshot (snapshot/sbuf.h) ---- */

/* The PM timer continues from the value it had (the guest measures
 * intervals with it: a jump back would stall its delay loops). */
static int pm_save(void *dev, struct sbuf *out)
{
	struct pm *pm = dev;

	pthread_mutex_lock(&pm->lock);
	sb_u16(out, pm->sts);
	sb_u16(out, pm->en);
	sb_u16(out, pm->cnt);
	sb_u8(out, (uint8_t)pm->sci_level);
	sb_u64(out, ns_since(&pm->t0));
	pthread_mutex_unlock(&pm->lock);
	return out->err;
}

static int pm_load(void *dev, struct srd *in)
{
	struct pm *pm = dev;
	uint16_t sts = srd_u16(in), en = srd_u16(in), cnt = srd_u16(in);
	uint8_t level = srd_u8(in);
	uint64_t ns = srd_u64(in);
	struct timespec now;

	if (srd_end(in))
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* t0 = now - ns, kept a valid timespec (ns may exceed now's uptime:
	 * the snapshot came from a host that was up longer). */
	int64_t t = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - (int64_t)ns;
	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt | PM1_CNT_SCI_EN;
	pm->sci_level = level != 0;
	pm->t0.tv_sec = (time_t)(t >= 0 ? t / 1000000000LL : -((-t + 999999999LL) / 1000000000LL));
	pm->t0.tv_nsec = (long)(t - (int64_t)pm->t0.tv_sec * 1000000000LL);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

const struct snap_dev_ops pm_snap_ops = {
	.name = "acpi-pm", .tag = SNAP_TAG('p', 'm', '1', ' '), .version = 1,
	.save = pm_save, .load = pm_load,
};
