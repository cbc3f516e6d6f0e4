/* i8042 keyboard controller, AT keyboard and PS/2 mouse. Command sets from
 * the IBM PS/2 Technical Reference (keyboard/auxiliary device chapters) and
 * the 8042 controller command list; see i8042.h for the model. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "snapshot/format.h"
#include "host/log.h"

/* Status register (port 0x64 read). */
#define ST_OBF    0x01
#define ST_SYS    0x04
#define ST_A2     0x08 /* last write was a command */
#define ST_UNLOCK 0x10 /* keyboard not inhibited by the key lock */
#define ST_AUXB   0x20

/* Controller configuration byte (CTR). */
#define CTR_KBDINT  0x01
#define CTR_AUXINT  0x02
#define CTR_SYS     0x04
#define CTR_KBDDIS  0x10
#define CTR_AUXDIS  0x20
#define CTR_XLATE   0x40

#define OUT_RESET 0x01 /* output port bit 0: 0 = pulse CPU reset */
#define OUT_A20   0x02

#define ACK    0xfa
#define RESEND 0xfe

/* Set-2 to set-1 translation (the 8042's table), written per key. Entries
 * left at 0 have no set-1 equivalent and are dropped. */
static const uint8_t xlate_set2[256] = {
	[0x76] = 0x01, /* Esc */
	[0x16] = 0x02, [0x1e] = 0x03, [0x26] = 0x04, [0x25] = 0x05, /* 1-4 */
	[0x2e] = 0x06, [0x36] = 0x07, [0x3d] = 0x08, [0x3e] = 0x09, /* 5-8 */
	[0x46] = 0x0a, [0x45] = 0x0b, [0x4e] = 0x0c, [0x55] = 0x0d, /* 9 0 - = */
	[0x66] = 0x0e, [0x0d] = 0x0f, /* Backspace, Tab */
	[0x15] = 0x10, [0x1d] = 0x11, [0x24] = 0x12, [0x2d] = 0x13, /* Q W E R */
	[0x2c] = 0x14, [0x35] = 0x15, [0x3c] = 0x16, [0x43] = 0x17, /* T Y U I */
	[0x44] = 0x18, [0x4d] = 0x19, [0x54] = 0x1a, [0x5b] = 0x1b, /* O P [ ] */
	[0x5a] = 0x1c, [0x14] = 0x1d, /* Enter, LCtrl */
	[0x1c] = 0x1e, [0x1b] = 0x1f, [0x23] = 0x20, [0x2b] = 0x21, /* A S D F */
	[0x34] = 0x22, [0x33] = 0x23, [0x3b] = 0x24, [0x42] = 0x25, /* G H J K */
	[0x4b] = 0x26, [0x4c] = 0x27, [0x52] = 0x28, [0x0e] = 0x29, /* L ; ' ` */
	[0x12] = 0x2a, [0x5d] = 0x2b, /* LShift, backslash */
	[0x1a] = 0x2c, [0x22] = 0x2d, [0x21] = 0x2e, [0x2a] = 0x2f, /* Z X C V */
	[0x32] = 0x30, [0x31] = 0x31, [0x3a] = 0x32, [0x41] = 0x33, /* B N M , */
	[0x49] = 0x34, [0x4a] = 0x35, [0x59] = 0x36, [0x7c] = 0x37, /* . / RShift KP* */
	[0x11] = 0x38, [0x29] = 0x39, [0x58] = 0x3a, /* LAlt, Space, CapsLock */
	[0x05] = 0x3b, [0x06] = 0x3c, [0x04] = 0x3d, [0x0c] = 0x3e, /* F1-F4 */
	[0x03] = 0x3f, [0x0b] = 0x40, [0x83] = 0x41, [0x0a] = 0x42, /* F5-F8 */
	[0x01] = 0x43, [0x09] = 0x44, /* F9, F10 */
	[0x77] = 0x45, [0x7e] = 0x46, /* NumLock, ScrollLock */
	[0x6c] = 0x47, [0x75] = 0x48, [0x7d] = 0x49, [0x7b] = 0x4a, /* KP7 8 9 - */
	[0x6b] = 0x4b, [0x73] = 0x4c, [0x74] = 0x4d, [0x79] = 0x4e, /* KP4 5 6 + */
	[0x69] = 0x4f, [0x72] = 0x50, [0x7a] = 0x51, /* KP1 2 3 */
	[0x70] = 0x52, [0x71] = 0x53, /* KP0 KP. */
	[0x84] = 0x54, /* Alt+SysRq */
	[0x61] = 0x56, /* 102nd key */
	[0x78] = 0x57, [0x07] = 0x58, /* F11, F12 */
	[0x1f] = 0x5b, [0x27] = 0x5c, [0x2f] = 0x5d, /* (E0) LGUI RGUI Menu */
	[0x37] = 0x5e, [0x3f] = 0x5f, [0x5e] = 0x63, /* (E0) Power Sleep Wake */
	[0x08] = 0x64, [0x10] = 0x65, [0x18] = 0x66, [0x20] = 0x67, /* F13-F16 */
	[0x28] = 0x68, [0x30] = 0x69, [0x38] = 0x6a, [0x40] = 0x6b, /* F17-F20 */
	[0x48] = 0x6c, [0x50] = 0x6d, [0x57] = 0x76, /* F21 F22 F24 */
	[0x13] = 0x70, [0x51] = 0x73, [0x64] = 0x79, [0x67] = 0x7b, /* JIS keys */
	[0x6a] = 0x7d,
};

struct kbd {
	bool scanning;  /* F4/F5 */
	uint8_t pending; /* command waiting for its argument byte, or 0 */
	uint8_t set;    /* 1 or 2 */
	uint8_t leds, typematic;
	bool brk;       /* translation: saw 0xF0 */
};

struct mouse {
	bool reporting, remote, scale21;
	uint8_t pending;
	uint8_t rate, resolution;
	uint8_t buttons;
};

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line kbd_irq, aux_irq;
	struct vmctl ctl;
	bool has_kbd_irq, has_aux_irq;

	uint8_t ctr, outport, status_flags; /* status_flags: SYS, A2 */
	uint8_t pending;      /* controller command awaiting a data byte */
	uint8_t last_out;     /* value read when the queue is empty */
	int kbd_level, aux_level;

	uint8_t q[I8042_QUEUE_SIZE];
	bool q_aux[I8042_QUEUE_SIZE];
	unsigned q_head, q_count;

	struct kbd kbd;
	struct mouse mouse;
};

static void update_irq(struct i8042 *k)
{
	int kl = 0, al = 0;

	if (k->q_count) {
		if (k->q_aux[k->q_head])
			al = !!(k->ctr & CTR_AUXINT);
		else
			kl = !!(k->ctr & CTR_KBDINT);
	}
	if (kl != k->kbd_level) {
		k->kbd_level = kl;
		if (k->has_kbd_irq)
			irq_set(&k->kbd_irq, kl);
	}
	if (al != k->aux_level) {
		k->aux_level = al;
		if (k->has_aux_irq)
			irq_set(&k->aux_irq, al);
	}
}

static unsigned q_space(const struct i8042 *k)
{
	return I8042_QUEUE_SIZE - k->q_count;
}

/* Queues bytes as one unit; drops all of them if they do not fit. */
static void q_put(struct i8042 *k, bool aux, const uint8_t *b, unsigned n)
{
	if (n > q_space(k)) {
		pr_guest("i8042: output queue full, %u byte(s) dropped", n);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned at = (k->q_head + k->q_count) % I8042_QUEUE_SIZE;
		k->q[at] = b[i];
		k->q_aux[at] = aux;
		k->q_count++;
	}
	update_irq(k);
}

static void q_put1(struct i8042 *k, bool aux, uint8_t b)
{
	q_put(k, aux, &b, 1);
}

static void q_put2(struct i8042 *k, bool aux, uint8_t b0, uint8_t b1)
{
	uint8_t b[2] = { b0, b1 };

	q_put(k, aux, b, 2);
}

static bool translating(const struct i8042 *k)
{
	return (k->ctr & CTR_XLATE) || k->kbd.set == 1;
}

static void kbd_defaults(struct kbd *kb)
{
	kb->set = 2;
	kb->leds = 0;
	kb->typematic = 0x2b; /* 10.9 cps, 500 ms */
	kb->pending = 0;
	kb->brk = false;
}

static void mouse_defaults(struct mouse *m)
{
	m->reporting = false;
	m->remote = false;
	m->scale21 = false;
	m->rate = 100;
	m->resolution = 2; /* 4 counts/mm */
	m->pending = 0;
}

static void kbd_command(struct i8042 *k, uint8_t b)
{
	struct kbd *kb = &k->kbd;
	uint8_t cmd = kb->pending;

	if (cmd) {
		kb->pending = 0;
		switch (cmd) {
		case 0xed:
			kb->leds = b & 7;
			q_put1(k, false, ACK);
			return;
		case 0xf3:
			kb->typematic = b & 0x7f;
			q_put1(k, false, ACK);
			return;
		case 0xf0:
			if (b == 0) {
				q_put2(k, false, ACK, kb->set);
				return;
			}
			if (b == 1 || b == 2)
				kb->set = b; /* set 3 is not offered: ignored */
			kb->brk = false;
			q_put1(k, false, ACK);
			return;
		}
	}
	switch (b) {
	case 0xff: /* reset + BAT */
		kbd_defaults(kb);
		kb->scanning = true;
		q_put2(k, false, ACK, 0xaa);
		break;
	case 0xf2: /* identify: MF2 keyboard; 0x83 translates to 0x41 */
		{
			uint8_t id[3] = { ACK, 0xab, (k->ctr & CTR_XLATE) ? 0x41 : 0x83 };
			q_put(k, false, id, 3);
		}
		break;
	case 0xed:
	case 0xf3:
	case 0xf0:
		kb->pending = b;
		q_put1(k, false, ACK);
		break;
	case 0xf4:
		kb->scanning = true;
		q_put1(k, false, ACK);
		break;
	case 0xf5: /* disable: defaults, stop scanning */
		kbd_defaults(kb);
		kb->scanning = false;
		q_put1(k, false, ACK);
		break;
	case 0xf6: /* set defaults, keep scanning */
		kbd_defaults(kb);
		kb->scanning = true;
		q_put1(k, false, ACK);
		break;
	case 0xee:
		q_put1(k, false, 0xee);
		break;
	default:
		pr_guest("i8042: unknown keyboard command 0x%02x", b);
		q_put1(k, false, RESEND);
		break;
	}
}

static void mouse_packet(struct i8042 *k, int dx, int dy)
{
	struct mouse *m = &k->mouse;
	uint8_t p[3];

	p[0] = 0x08 | (m->buttons & 7);
	if (dx < -256 || dx > 255) {
		p[0] |= 0x40;
		dx = dx < 0 ? -256 : 255;
	}
	if (dy < -256 || dy > 255) {
		p[0] |= 0x80;
		dy = dy < 0 ? -256 : 255;
	}
	if (dx < 0)
		p[0] |= 0x10;
	if (dy < 0)
		p[0] |= 0x20;
	p[1] = (uint8_t)(dx & 0xff);
	p[2] = (uint8_t)(dy & 0xff);
	q_put(k, true, p, 3);
}

static void mouse_command(struct i8042 *k, uint8_t b)
{
	struct mouse *m = &k->mouse;
	uint8_t cmd = m->pending;

	if (cmd) {
		m->pending = 0;
		if (cmd == 0xf3)
			m->rate = b;
		else
			m->resolution = b & 3;
		q_put1(k, true, ACK);
		return;
	}
	switch (b) {
	case 0xff:
		mouse_defaults(m);
		{
			uint8_t r[3] = { ACK, 0xaa, 0x00 };
			q_put(k, true, r, 3);
		}
		break;
	case 0xf2: /* identify: standard PS/2 mouse */
		q_put2(k, true, ACK, 0x00);
		break;
	case 0xf3:
	case 0xe8:
		m->pending = b;
		q_put1(k, true, ACK);
		break;
	case 0xe6:
	case 0xe7:
		m->scale21 = b == 0xe7;
		q_put1(k, true, ACK);
		break;
	case 0xe9: /* status request */
		{
			uint8_t r[4] = { ACK, 0, m->resolution, m->rate };
			r[1] = (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
					 (m->scale21 ? 0x10 : 0) |
					 ((m->buttons & I8042_BTN_LEFT) ? 0x04 : 0) |
					 ((m->buttons & I8042_BTN_MIDDLE) ? 0x02 : 0) |
					 ((m->buttons & I8042_BTN_RIGHT) ? 0x01 : 0));
			q_put(k, true, r, 4);
		}
		break;
	case 0xea:
	case 0xf0:
		m->remote = b == 0xf0;
		q_put1(k, true, ACK);
		break;
	case 0xeb: /* read data (remote mode): no motion accumulated */
		q_put1(k, true, ACK);
		mouse_packet(k, 0, 0);
		break;
	case 0xf4:
	case 0xf5:
		m->reporting = b == 0xf4;
		q_put1(k, true, ACK);
		break;
	case 0xf6:
		mouse_defaults(m);
		q_put1(k, true, ACK);
		break;
	default:
		pr_guest("i8042: unknown mouse command 0x%02x", b);
		q_put1(k, true, RESEND);
		break;
	}
}

/* Output port write; returns true if bit 0 (CPU reset) is driven low. */
static bool write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	return !(v & OUT_RESET);
}

/* Port 0x64 write. Returns true when the guest asked for a CPU reset. */
static bool controller_command(struct i8042 *k, uint8_t c)
{
	k->pending = 0;
	switch (c) {
	case 0x20:
		q_put1(k, false, k->ctr);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending = c;
		break;
	case 0xa7:
		k->ctr |= CTR_AUXDIS;
		break;
	case 0xa8:
		k->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case 0xa9: /* aux interface test: OK */
	case 0xab: /* keyboard interface test: OK */
		q_put1(k, false, 0x00);
		break;
	case 0xaa: /* controller self-test */
		k->status_flags |= ST_SYS;
		q_put1(k, false, 0x55);
		break;
	case 0xad:
		k->ctr |= CTR_KBDDIS;
		break;
	case 0xae:
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case 0xc0: /* input port */
		q_put1(k, false, 0x80);
		break;
	case 0xd0:
		q_put1(k, false, k->outport);
		break;
	case 0xe0: /* test inputs */
		q_put1(k, false, 0x00);
		break;
	default:
		if (c >= 0xf0) /* pulse output bits whose command bit is 0 */
			return !(c & OUT_RESET);
		if (c > 0x20 && c < 0x40) { /* read controller RAM */
			q_put1(k, false, 0x00);
			break;
		}
		if (c > 0x60 && c < 0x80) { /* write controller RAM: data dropped */
			k->pending = c;
			break;
		}
		pr_guest("i8042: unknown controller command 0x%02x", c);
		break;
	}
	update_irq(k);
	return false;
}

/* Port 0x60 write. Returns true when the guest asked for a CPU reset. */
static bool data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	bool reset = false;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		k->status_flags = (uint8_t)((k->status_flags & ~ST_SYS) | (v & CTR_SYS));
		break;
	case 0xd1:
		reset = write_outport(k, v);
		break;
	case 0xd2:
		q_put1(k, false, v);
		break;
	case 0xd3:
		q_put1(k, true, v);
		break;
	case 0xd4:
		mouse_command(k, v);
		break;
	case 0:
		kbd_command(k, v);
		break;
	default:
		break; /* controller RAM write */
	}
	update_irq(k);
	return reset;
}

static uint8_t status_read(struct i8042 *k)
{
	uint8_t st = k->status_flags | ST_UNLOCK;

	if (k->q_count) {
		st |= ST_OBF;
		if (k->q_aux[k->q_head])
			st |= ST_AUXB;
	}
	return st;
}

static uint8_t data_read(struct i8042 *k)
{
	if (k->q_count) {
		k->last_out = k->q[k->q_head];
		k->q_head = (k->q_head + 1) % I8042_QUEUE_SIZE;
		k->q_count--;
	}
	/* Drop both lines so the next byte gives a new edge. */
	if (k->kbd_level && k->has_kbd_irq)
		irq_set(&k->kbd_irq, 0);
	if (k->aux_level && k->has_aux_irq)
		irq_set(&k->aux_irq, 0);
	k->kbd_level = k->aux_level = 0;
	update_irq(k);
	return k->last_out;
}

static void io_read(struct i8042 *k, bool cmd_port, uint64_t off, void *data, uint32_t len)
{
	uint8_t v = 0xff;

	if (off == 0 && len >= 1) {
		pthread_mutex_lock(&k->lock);
		v = cmd_port ? status_read(k) : data_read(k);
		pthread_mutex_unlock(&k->lock);
	}
	memset(data, 0xff, len > 8 ? 8 : len);
	if (len >= 1)
		*(uint8_t *)data = v;
}

static void io_write(struct i8042 *k, bool cmd_port, uint64_t off, const void *data,
		     uint32_t len)
{
	uint8_t v;
	bool reset;

	if (off != 0 || len < 1)
		return;
	v = *(const uint8_t *)data;
	pthread_mutex_lock(&k->lock);
	if (cmd_port) {
		k->status_flags |= ST_A2;
		reset = controller_command(k, v);
	} else {
		k->status_flags &= (uint8_t)~ST_A2;
		reset = data_write(k, v);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vmctl_stop(&k->ctl, STOP_RESET, 0);
}

static void data_rd(void *o, uint64_t off, void *d, uint32_t len) { io_read(o, false, off, d, len); }
static void cmd_rd(void *o, uint64_t off, void *d, uint32_t len) { io_read(o, true, off, d, len); }
static void data_wr(void *o, uint64_t off, const void *d, uint32_t len) { io_write(o, false, off, d, len); }
static void cmd_wr(void *o, uint64_t off, const void *d, uint32_t len) { io_write(o, true, off, d, len); }

const struct bus_ops i8042_data_ops = { .read = data_rd, .write = data_wr };
const struct bus_ops i8042_cmd_ops = { .read = cmd_rd, .write = cmd_wr };

static void reset_locked(struct i8042 *k)
{
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	k->outport = OUT_RESET | OUT_A20;
	k->status_flags = ST_SYS;
	k->pending = 0;
	k->last_out = 0;
	k->q_head = k->q_count = 0;
	kbd_defaults(&k->kbd);
	k->kbd.scanning = true;
	mouse_defaults(&k->mouse);
	k->mouse.buttons = 0;
	update_irq(k);
}

struct i8042 *i8042_create(const struct irq_line *kbd_irq, const struct irq_line *aux_irq,
			   const struct vmctl *ctl)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	if (pthread_mutex_init(&k->lock, NULL)) {
		free(k);
		return NULL;
	}
	if (kbd_irq) {
		k->kbd_irq = *kbd_irq;
		k->has_kbd_irq = true;
	}
	if (aux_irq) {
		k->aux_irq = *aux_irq;
		k->has_aux_irq = true;
	}
	if (ctl)
		k->ctl = *ctl;
	reset_locked(k);
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void i8042_reset(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	reset_locked(k);
	pthread_mutex_unlock(&k->lock);
}

void i8042_key_event(struct i8042 *k, const uint8_t *set2, size_t n)
{
	uint8_t out[16];
	unsigned m = 0;

	if (!set2 || !n || n > sizeof(out))
		return;
	pthread_mutex_lock(&k->lock);
	if (!k->kbd.scanning || (k->ctr & CTR_KBDDIS))
		goto out;
	if (!translating(k)) {
		memcpy(out, set2, n);
		m = (unsigned)n;
	} else {
		for (size_t i = 0; i < n; i++) {
			uint8_t b = set2[i], t;

			if (b == 0xf0) {
				k->kbd.brk = true;
				continue;
			}
			if (b == 0xe0 || b == 0xe1) {
				out[m++] = b;
				continue;
			}
			t = xlate_set2[b];
			if (t)
				out[m++] = (uint8_t)(t | (k->kbd.brk ? 0x80 : 0));
			k->kbd.brk = false;
		}
	}
	if (m)
		q_put(k, false, out, m);
out:
	pthread_mutex_unlock(&k->lock);
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, unsigned buttons)
{
	pthread_mutex_lock(&k->lock);
	k->mouse.buttons = (uint8_t)(buttons & 7);
	if (k->mouse.reporting && !k->mouse.remote && !(k->ctr & CTR_AUXDIS))
		mouse_packet(k, dx, dy);
	pthread_mutex_unlock(&k->lock);
}

/* ---- snapshot (snapshot/sbuf.h) ---- */

static int i8042_save(void *dev, struct sbuf *out)
{
	struct i8042 *k = dev;

	pthread_mutex_lock(&k->lock);
	const uint8_t regs[] = {
		k->ctr, k->outport, k->status_flags, k->pending, k->last_out,
		(uint8_t)k->kbd_level, (uint8_t)k->aux_level,
		k->kbd.scanning, k->kbd.pending, k->kbd.set, k->kbd.leds, k->kbd.typematic,
		k->kbd.brk,
		k->mouse.reporting, k->mouse.remote, k->mouse.scale21, k->mouse.pending,
		k->mouse.rate, k->mouse.resolution, k->mouse.buttons,
	};
	sb_bytes(out, regs, sizeof(regs));
	sb_u8(out, (uint8_t)k->q_count);
	for (unsigned i = 0; i < k->q_count; i++) {
		unsigned j = (k->q_head + i) % I8042_QUEUE_SIZE;
		sb_u8(out, k->q[j]);
		sb_u8(out, k->q_aux[j]);
	}
	pthread_mutex_unlock(&k->lock);
	return out->err;
}

static int i8042_load(void *dev, struct srd *in)
{
	struct i8042 *k = dev;
	uint8_t r[20], q[I8042_QUEUE_SIZE], n;
	bool aux[I8042_QUEUE_SIZE];

	srd_bytes(in, r, sizeof(r));
	n = srd_u8(in);
	if (n > I8042_QUEUE_SIZE)
		srd_reject(in);
	for (unsigned i = 0; !in->bad && i < n; i++) {
		q[i] = srd_u8(in);
		aux[i] = srd_u8(in) != 0;
	}
	if (r[9] != 1 && r[9] != 2)
		srd_reject(in);
	if (srd_end(in))
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	k->ctr = r[0];
	k->outport = r[1];
	k->status_flags = r[2];
	k->pending = r[3];
	k->last_out = r[4];
	k->kbd_level = r[5] != 0;
	k->aux_level = r[6] != 0;
	k->kbd = (struct kbd){ .scanning = r[7], .pending = r[8], .set = r[9], .leds = r[10],
			       .typematic = r[11], .brk = r[12] };
	k->mouse = (struct mouse){ .reporting = r[13], .remote = r[14], .scale21 = r[15],
				   .pending = r[16], .rate = r[17], .resolution = r[18],
				   .buttons = r[19] };
	k->q_head = 0;
	k->q_count = n;
	memcpy(k->q, q, n);
	memcpy(k->q_aux, aux, n * sizeof(bool));
	pthread_mutex_unlock(&k->lock);
	return 0;
}

const struct snap_dev_ops i8042_snap_ops = {
	.name = "i8042", .tag = SNAP_TAG('k', 'b', 'c', ' '), .version = 1,
	.save = i8042_save, .load = i8042_load,
};
