/* The PS/2 devices behind the i8042 controller: the AT keyboard (command
 * set, scan code set 2 with the controller's set-1 translation) and the
 * 3-byte-packet mouse, and the host's key and mouse events. Command sets
 * from the IBM PS/2 Technical Reference (keyboard/auxiliary device
 * chapters); the controller is devices/i8042.c, the model i8042.h. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "devices/i8042_int.h"
#include "host/log.h"

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

static void q_put2(struct i8042 *k, bool aux, uint8_t b0, uint8_t b1)
{
	uint8_t b[2] = { b0, b1 };

	i8042_q_put(k, aux, b, 2);
}

static bool translating(const struct i8042 *k)
{
	return (k->ctr & CTR_XLATE) || k->kbd.set == 1;
}

void ps2_kbd_defaults(struct kbd *kb)
{
	kb->set = 2;
	kb->leds = 0;
	kb->typematic = 0x2b; /* 10.9 cps, 500 ms */
	kb->pending = 0;
	kb->brk = false;
}

void ps2_mouse_defaults(struct mouse *m)
{
	m->reporting = false;
	m->remote = false;
	m->scale21 = false;
	m->rate = 100;
	m->resolution = 2; /* 4 counts/mm */
	m->pending = 0;
}

void ps2_kbd_command(struct i8042 *k, uint8_t b)
{
	struct kbd *kb = &k->kbd;
	uint8_t cmd = kb->pending;

	if (cmd) {
		kb->pending = 0;
		switch (cmd) {
		case 0xed:
			kb->leds = b & 7;
			i8042_q_put1(k, false, ACK);
			return;
		case 0xf3:
			kb->typematic = b & 0x7f;
			i8042_q_put1(k, false, ACK);
			return;
		case 0xf0:
			if (b == 0) {
				q_put2(k, false, ACK, kb->set);
				return;
			}
			if (b == 1 || b == 2)
				kb->set = b; /* set 3 is not offered: ignored */
			kb->brk = false;
			i8042_q_put1(k, false, ACK);
			return;
		}
	}
	switch (b) {
	case 0xff: /* reset + BAT */
		ps2_kbd_defaults(kb);
		kb->scanning = true;
		q_put2(k, false, ACK, 0xaa);
		break;
	case 0xf2: /* identify: MF2 keyboard; 0x83 translates to 0x41 */
		{
			uint8_t id[3] = { ACK, 0xab, (k->ctr & CTR_XLATE) ? 0x41 : 0x83 };
			i8042_q_put(k, false, id, 3);
		}
		break;
	case 0xed:
	case 0xf3:
	case 0xf0:
		kb->pending = b;
		i8042_q_put1(k, false, ACK);
		break;
	case 0xf4:
		kb->scanning = true;
		i8042_q_put1(k, false, ACK);
		break;
	case 0xf5: /* disable: defaults, stop scanning */
		ps2_kbd_defaults(kb);
		kb->scanning = false;
		i8042_q_put1(k, false, ACK);
		break;
	case 0xf6: /* set defaults, keep scanning */
		ps2_kbd_defaults(kb);
		kb->scanning = true;
		i8042_q_put1(k, false, ACK);
		break;
	case 0xee:
		i8042_q_put1(k, false, 0xee);
		break;
	default:
		pr_guest("i8042: unknown keyboard command 0x%02x", b);
		i8042_q_put1(k, false, RESEND);
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
	i8042_q_put(k, true, p, 3);
}

void ps2_mouse_command(struct i8042 *k, uint8_t b)
{
	struct mouse *m = &k->mouse;
	uint8_t cmd = m->pending;

	if (cmd) {
		m->pending = 0;
		if (cmd == 0xf3)
			m->rate = b;
		else
			m->resolution = b & 3;
		i8042_q_put1(k, true, ACK);
		return;
	}
	switch (b) {
	case 0xff:
		ps2_mouse_defaults(m);
		{
			uint8_t r[3] = { ACK, 0xaa, 0x00 };
			i8042_q_put(k, true, r, 3);
		}
		break;
	case 0xf2: /* identify: standard PS/2 mouse */
		q_put2(k, true, ACK, 0x00);
		break;
	case 0xf3:
	case 0xe8:
		m->pending = b;
		i8042_q_put1(k, true, ACK);
		break;
	case 0xe6:
	case 0xe7:
		m->scale21 = b == 0xe7;
		i8042_q_put1(k, true, ACK);
		break;
	case 0xe9: /* status request */
		{
			uint8_t r[4] = { ACK, 0, m->resolution, m->rate };
			r[1] = (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
					 (m->scale21 ? 0x10 : 0) |
					 ((m->buttons & I8042_BTN_LEFT) ? 0x04 : 0) |
					 ((m->buttons & I8042_BTN_MIDDLE) ? 0x02 : 0) |
					 ((m->buttons & I8042_BTN_RIGHT) ? 0x01 : 0));
			i8042_q_put(k, true, r, 4);
		}
		break;
	case 0xea:
	case 0xf0:
		m->remote = b == 0xf0;
		i8042_q_put1(k, true, ACK);
		break;
	case 0xeb: /* read data (remote mode): no motion accumulated */
		i8042_q_put1(k, true, ACK);
		mouse_packet(k, 0, 0);
		break;
	case 0xf4:
	case 0xf5:
		m->reporting = b == 0xf4;
		i8042_q_put1(k, true, ACK);
		break;
	case 0xf6:
		ps2_mouse_defaults(m);
		i8042_q_put1(k, true, ACK);
		break;
	default:
		pr_guest("i8042: unknown mouse command 0x%02x", b);
		i8042_q_put1(k, true, RESEND);
		break;
	}
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
		i8042_q_put(k, false, out, m);
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

