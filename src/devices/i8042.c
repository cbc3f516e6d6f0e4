/* i8042 keyboard controller: ports 0x60/0x64, the command byte, the output
 * queue and its IRQ lines, CPU reset and snapshots. From the 8042
 * controller command list; the keyboard and mouse behind it are
 * devices/ps2.c; see i8042.h for the model. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042_int.h"
#include "snapshot/format.h"
#include "host/log.h"

/* Status register (port 0x64 read). */
#define ST_OBF    0x01
#define ST_SYS    0x04
#define ST_A2     0x08 /* last write was a command */
#define ST_UNLOCK 0x10 /* keyboard not inhibited by the key lock */
#define ST_AUXB   0x20

#define OUT_RESET 0x01 /* output port bit 0: 0 = pulse CPU reset */
#define OUT_A20   0x02

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
void i8042_q_put(struct i8042 *k, bool aux, const uint8_t *b, unsigned n)
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
		i8042_q_put1(k, false, k->ctr);
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
		i8042_q_put1(k, false, 0x00);
		break;
	case 0xaa: /* controller self-test */
		k->status_flags |= ST_SYS;
		i8042_q_put1(k, false, 0x55);
		break;
	case 0xad:
		k->ctr |= CTR_KBDDIS;
		break;
	case 0xae:
		k->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case 0xc0: /* input port */
		i8042_q_put1(k, false, 0x80);
		break;
	case 0xd0:
		i8042_q_put1(k, false, k->outport);
		break;
	case 0xe0: /* test inputs */
		i8042_q_put1(k, false, 0x00);
		break;
	default:
		if (c >= 0xf0) /* pulse output bits whose command bit is 0 */
			return !(c & OUT_RESET);
		if (c > 0x20 && c < 0x40) { /* read controller RAM */
			i8042_q_put1(k, false, 0x00);
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
		i8042_q_put1(k, false, v);
		break;
	case 0xd3:
		i8042_q_put1(k, true, v);
		break;
	case 0xd4:
		ps2_mouse_command(k, v);
		break;
	case 0:
		ps2_kbd_command(k, v);
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
	ps2_kbd_defaults(&k->kbd);
	k->kbd.scanning = true;
	ps2_mouse_defaults(&k->mouse);
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
