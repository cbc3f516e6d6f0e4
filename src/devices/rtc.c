/* MC146818A RTC / CMOS RAM. Register layout from the Motorola MC146818A
 * datasheet (and the compatible DS12887); see rtc.h for the model. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/rtc.h"
#include "snapshot/format.h"

enum {
	REG_SEC = 0x00, REG_SEC_ALARM = 0x01, REG_MIN = 0x02, REG_MIN_ALARM = 0x03,
	REG_HOUR = 0x04, REG_HOUR_ALARM = 0x05, REG_WDAY = 0x06, REG_MDAY = 0x07,
	REG_MON = 0x08, REG_YEAR = 0x09,
	REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
};

#define A_UIP   0x80
#define B_SET   0x80
#define B_PIE   0x40
#define B_AIE   0x20
#define B_UIE   0x10
#define B_SQWE  0x08
#define B_DM    0x04 /* 1: binary, 0: BCD */
#define B_24H   0x02
#define C_IRQF  0x80
#define C_PF    0x40
#define C_AF    0x20
#define C_UF    0x10
#define D_VRT   0x80
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xc0

struct rtc {
	pthread_mutex_t lock;
	struct irq_line irq;
	bool has_irq;
	time_t (*now)(void *);
	void *now_opaque;

	uint8_t cmos[RTC_CMOS_SIZE]; /* NVRAM, A/B/C, alarms, SET shadow */
	uint8_t index;               /* always < 128 */
	int64_t offset;              /* guest time = host time + offset */
	int64_t last_uip_sec;        /* second of the last UIP report */
	int64_t last_upd_sec;        /* second of the last UF latch */
	int irq_level;
};

static time_t wall_clock(void *opaque)
{
	return time(NULL);
}

static int64_t guest_now(struct rtc *r)
{
	return (int64_t)r->now(r->now_opaque) + r->offset;
}

static bool is_time_reg(unsigned i)
{
	return i == REG_SEC || i == REG_MIN || i == REG_HOUR || i == REG_WDAY ||
	       i == REG_MDAY || i == REG_MON || i == REG_YEAR || i == RTC_REG_CENTURY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	v %= 100;
	if (r->cmos[REG_B] & B_DM)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int dec(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_DM)
		return v;
	return ((v >> 4) & 0x0f) * 10 + (v & 0x0f);
}

static uint8_t enc_hour(const struct rtc *r, int h)
{
	int h12;

	if (r->cmos[REG_B] & B_24H)
		return enc(r, (unsigned)h);
	h12 = h % 12 ? h % 12 : 12;
	return enc(r, (unsigned)h12) | (h >= 12 ? HOUR_PM : 0);
}

static int dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, v);
	return dec(r, v & 0x7f) % 12 + ((v & HOUR_PM) ? 12 : 0);
}

/* Writes the encoding of guest time t into the clock registers of regs. */
static void fill_time_regs(const struct rtc *r, int64_t t, uint8_t *regs)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	int year = tm.tm_year + 1900;
	if (year < 0)
		year = 0;
	regs[REG_SEC] = enc(r, (unsigned)tm.tm_sec);
	regs[REG_MIN] = enc(r, (unsigned)tm.tm_min);
	regs[REG_HOUR] = enc_hour(r, tm.tm_hour);
	regs[REG_WDAY] = enc(r, (unsigned)tm.tm_wday + 1); /* Sunday = 1 */
	regs[REG_MDAY] = enc(r, (unsigned)tm.tm_mday);
	regs[REG_MON] = enc(r, (unsigned)tm.tm_mon + 1);
	regs[REG_YEAR] = enc(r, (unsigned)year % 100);
	regs[RTC_REG_CENTURY] = enc(r, (unsigned)(year / 100) % 100);
}

/* Commits the clock registers in cmos[] (written by the guest) as the new
 * guest time. Any byte values are accepted: timegm normalizes them. */
static void commit_time_regs(struct rtc *r)
{
	struct tm tm = { 0 };
	time_t t;

	tm.tm_sec = dec(r, r->cmos[REG_SEC]);
	tm.tm_min = dec(r, r->cmos[REG_MIN]);
	tm.tm_hour = dec_hour(r, r->cmos[REG_HOUR]);
	tm.tm_mday = dec(r, r->cmos[REG_MDAY]);
	tm.tm_mon = dec(r, r->cmos[REG_MON]) - 1;
	tm.tm_year = dec(r, r->cmos[RTC_REG_CENTURY]) * 100 + dec(r, r->cmos[REG_YEAR]) - 1900;
	t = timegm(&tm);
	r->offset = (int64_t)t - (int64_t)r->now(r->now_opaque);
}

/* Called with the lock held; irq_set is non-blocking. */
static void update_irq(struct rtc *r)
{
	int level;

	if (r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF))
		r->cmos[REG_C] |= C_IRQF;
	level = !!(r->cmos[REG_C] & C_IRQF);
	if (level != r->irq_level) {
		r->irq_level = level;
		if (r->has_irq)
			irq_set(&r->irq, level);
	}
}

static bool alarm_match(uint8_t alarm, uint8_t cur)
{
	return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == cur;
}

/* Latches UF (and AF on an alarm match) once per new second, unless the
 * clock is stopped by B.SET. */
static void update_flags(struct rtc *r)
{
	int64_t t = guest_now(r);
	uint8_t cur[RTC_CMOS_SIZE];

	if (t == r->last_upd_sec)
		return;
	r->last_upd_sec = t;
	if (r->cmos[REG_B] & B_SET)
		return;
	r->cmos[REG_C] |= C_UF;
	fill_time_regs(r, t, cur);
	if (alarm_match(r->cmos[REG_SEC_ALARM], cur[REG_SEC]) &&
	    alarm_match(r->cmos[REG_MIN_ALARM], cur[REG_MIN]) &&
	    alarm_match(r->cmos[REG_HOUR_ALARM], cur[REG_HOUR]))
		r->cmos[REG_C] |= C_AF;
}

static uint8_t data_read(struct rtc *r)
{
	unsigned i = r->index & 0x7f;
	uint8_t regs[RTC_CMOS_SIZE], v;
	int64_t t;

	if (is_time_reg(i) && !(r->cmos[REG_B] & B_SET)) {
		fill_time_regs(r, guest_now(r), regs);
		return regs[i];
	}
	switch (i) {
	case REG_A:
		v = r->cmos[REG_A] & 0x7f;
		t = guest_now(r);
		if (t != r->last_uip_sec) {
			r->last_uip_sec = t;
			v |= A_UIP;
		}
		return v;
	case REG_C:
		update_flags(r);
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		update_irq(r);
		return v;
	case REG_D:
		return D_VRT;
	default:
		return r->cmos[i];
	}
}

static void data_write(struct rtc *r, uint8_t v)
{
	unsigned i = r->index & 0x7f;
	uint8_t old;

	if (is_time_reg(i)) {
		if (r->cmos[REG_B] & B_SET) {
			r->cmos[i] = v;
		} else {
			/* Writing a running clock: change just that field. */
			fill_time_regs(r, guest_now(r), r->cmos);
			r->cmos[i] = v;
			commit_time_regs(r);
		}
		return;
	}
	switch (i) {
	case REG_A:
		r->cmos[REG_A] = v & 0x7f; /* UIP is read-only */
		break;
	case REG_B:
		old = r->cmos[REG_B];
		if ((v & B_SET) && !(old & B_SET)) {
			/* Freeze: the guest edits a snapshot of the time,
			 * encoded in the new data mode. */
			v &= (uint8_t)~B_UIE; /* SET clears UIE (datasheet) */
			r->cmos[REG_B] = v;
			fill_time_regs(r, guest_now(r), r->cmos);
		}
		if (!(v & B_SET) && (old & B_SET)) {
			/* Decode in the mode the registers were written in. */
			commit_time_regs(r);
			r->last_upd_sec = guest_now(r);
		}
		r->cmos[REG_B] = v;
		update_irq(r);
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	default:
		r->cmos[i] = v;
		break;
	}
}

static void rtc_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct rtc *r = opaque;
	uint8_t v = 0xff;

	if (len < 1)
		return;
	if (off == 1) {
		pthread_mutex_lock(&r->lock);
		v = data_read(r);
		pthread_mutex_unlock(&r->lock);
	}
	/* Port 0x70 is write-only; wider accesses only use the low byte. */
	memset(data, 0xff, len > 8 ? 8 : len);
	*(uint8_t *)data = v;
}

static void rtc_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct rtc *r = opaque;
	uint8_t v;

	if (len < 1 || off >= RTC_NR_PORTS)
		return;
	v = *(const uint8_t *)data;
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = v & 0x7f; /* bit 7: NMI mask, not modelled */
	else
		data_write(r, v);
	pthread_mutex_unlock(&r->lock);
}

const struct bus_ops rtc_bus_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

struct rtc *rtc_create(const struct irq_line *irq, time_t (*now)(void *), void *now_opaque,
		       const uint8_t nvram[RTC_CMOS_SIZE])
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		return NULL;
	}
	if (irq) {
		r->irq = *irq;
		r->has_irq = true;
	}
	r->now = now ? now : wall_clock;
	r->now_opaque = now_opaque;
	if (nvram) {
		memcpy(r->cmos, nvram, RTC_CMOS_SIZE);
		r->cmos[REG_A] &= 0x7f;
		r->cmos[REG_B] &= (uint8_t)~B_SET;
	} else {
		r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
		r->cmos[REG_B] = B_24H; /* BCD, 24 h */
	}
	r->cmos[REG_C] = 0;
	r->cmos[REG_D] = D_VRT;
	r->last_uip_sec = guest_now(r);
	r->last_upd_sec = r->last_uip_sec;
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void rtc_reset(struct rtc *r)
{
	pthread_mutex_lock(&r->lock);
	r->cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[REG_C] = 0;
	r->index = 0;
	update_irq(r);
	pthread_mutex_unlock(&r->lock);
}

void rtc_tick(struct rtc *r)
{
	pthread_mutex_lock(&r->lock);
	update_flags(r);
	update_irq(r);
	pthread_mutex_unlock(&r->lock);
}

void rtc_get_nvram(struct rtc *r, uint8_t out[RTC_CMOS_SIZE])
{
	pthread_mutex_lock(&r->lock);
	memcpy(out, r->cmos, RTC_CMOS_SIZE);
	if (!(r->cmos[REG_B] & B_SET))
		fill_time_regs(r, guest_now(r), out);
	out[REG_D] = D_VRT;
	pthread_mutex_unlock(&r->lock);
}

void rtc_set_cmos(struct rtc *r, uint8_t index, uint8_t value)
{
	index &= 0x7f;
	if (index == REG_C || index == REG_D)
		return;
	pthread_mutex_lock(&r->lock);
	r->cmos[index] = index == REG_A ? (value & 0x7f) : value;
	pthread_mutex_unlock(&r->lock);
}

/* ---- snapshot (snapshot/sbuf.h) ---- */

/* The guest's clock keeps its offset from the host's wall clock, so a
 * restored guest sees the time that passed meanwhile, as after a suspend. */
static int rtc_save(void *dev, struct sbuf *out)
{
	struct rtc *r = dev;

	pthread_mutex_lock(&r->lock);
	sb_bytes(out, r->cmos, RTC_CMOS_SIZE);
	sb_u8(out, r->index);
	sb_u64(out, (uint64_t)r->offset);
	sb_u64(out, (uint64_t)r->last_uip_sec);
	sb_u64(out, (uint64_t)r->last_upd_sec);
	sb_u8(out, (uint8_t)r->irq_level);
	pthread_mutex_unlock(&r->lock);
	return out->err;
}

static int rtc_load(void *dev, struct srd *in)
{
	struct rtc *r = dev;
	uint8_t cmos[RTC_CMOS_SIZE], index, level;
	int64_t offset, uip, upd;

	srd_bytes(in, cmos, sizeof(cmos));
	index = srd_u8(in);
	offset = (int64_t)srd_u64(in);
	uip = (int64_t)srd_u64(in);
	upd = (int64_t)srd_u64(in);
	level = srd_u8(in);
	if (index >= RTC_CMOS_SIZE)
		srd_reject(in);
	if (srd_end(in))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->index = index;
	r->offset = offset;
	r->last_uip_sec = uip;
	r->last_upd_sec = upd;
	r->irq_level = level != 0;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct snap_dev_ops rtc_snap_ops = {
	.name = "rtc", .tag = SNAP_TAG('r', 't', 'c', ' '), .version = 1,
	.save = rtc_save, .load = rtc_load,
};
