/* Inside the i8042 model (devices/i8042.c, the controller, and
 * devices/ps2.c, the keyboard and mouse behind it): the shared state and
 * the calls between the two. Everything here runs with k->lock held. */
#ifndef MYVMM_I8042_INT_H
#define MYVMM_I8042_INT_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/i8042.h"

/* Controller configuration byte (CTR). */
#define CTR_KBDINT  0x01
#define CTR_AUXINT  0x02
#define CTR_SYS     0x04
#define CTR_KBDDIS  0x10
#define CTR_AUXDIS  0x20
#define CTR_XLATE   0x40

#define ACK    0xfa
#define RESEND 0xfe

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

/* Controller (i8042.c): queues bytes from the keyboard (aux false) or the
 * mouse as one unit, dropping all of them if they do not fit, and updates
 * the IRQ lines. */
void i8042_q_put(struct i8042 *k, bool aux, const uint8_t *b, unsigned n);
static inline void i8042_q_put1(struct i8042 *k, bool aux, uint8_t b)
{
	i8042_q_put(k, aux, &b, 1);
}

/* Keyboard and mouse (ps2.c): power-on/default modes, and a command byte
 * the guest sent to the device (port 0x60, or 0xD4 then 0x60 for the mouse). */
void ps2_kbd_defaults(struct kbd *kb);
void ps2_mouse_defaults(struct mouse *m);
void ps2_kbd_command(struct i8042 *k, uint8_t b);
void ps2_mouse_command(struct i8042 *k, uint8_t b);
#endif
