/* i8042 PS/2 controller with a keyboard (scan code set 2 internally, set 1
 * via the controller's translation when CTR.XLATE is set) and a 3-byte-packet
 * mouse on the aux port. Registered as two 1-byte ranges: i8042_data_ops at
 * PORT_I8042_DATA (0x60) and i8042_cmd_ops at PORT_I8042_CMD (0x64), both
 * with the struct i8042 as opaque.
 *
 * Output: one bounded queue (64 bytes) of bytes tagged kbd or aux; its head
 * is the controller's output buffer. IRQ1 follows "head is a kbd byte and
 * CTR bit 0", IRQ12 "head is an aux byte and CTR bit 1"; each read of 0x60
 * lowers the line and raises it again if more data is queued (a fresh edge).
 * Bytes that do not fit are dropped (whole events/packets, never halves).
 *
 * Locking: one mutex. irq_set() is called with it held (non-blocking);
 * vmctl_stop() (reset requests) is called after it is released. */
#ifndef MYVMM_I8042_H
#define MYVMM_I8042_H
#include <stddef.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "snapshot/sbuf.h"

#define I8042_QUEUE_SIZE 64

/* Mouse buttons for i8042_mouse_event (same bits as the PS/2 packet). */
#define I8042_BTN_LEFT   0x1
#define I8042_BTN_RIGHT  0x2
#define I8042_BTN_MIDDLE 0x4

struct i8042;

/* Creates the controller in its power-on state (CTR 0x45: kbd interrupt,
 * SYS, XLATE). The irq lines and ctl are copied; any may be NULL. Returns
 * NULL on allocation failure. */
struct i8042 *i8042_create(const struct irq_line *kbd_irq, const struct irq_line *aux_irq,
			   const struct vmctl *ctl);
/* Frees the device (after removal from the bus). */
void i8042_destroy(struct i8042 *k);
/* Power-on state again (VM reset): queue emptied, lines lowered. */
void i8042_reset(struct i8042 *k);

/* Host key event as set-2 make/break bytes, e.g. {0x1c} press 'A',
 * {0xf0, 0x1c} release, {0xe0, 0x75} press Up. Dropped while the keyboard
 * is disabled (F5 or CTR bit 4) or when the queue cannot hold it. */
void i8042_key_event(struct i8042 *k, const uint8_t *set2_bytes, size_t n);
/* Host mouse motion in PS/2 convention: dx > 0 right, dy > 0 UP (callers
 * with screen coordinates pass -dy). buttons: I8042_BTN_* bits. Sent as one
 * 3-byte packet when reporting is enabled in stream mode and the aux port
 * is enabled; deltas beyond -256..255 are clamped and flag overflow. */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, unsigned buttons);

extern const struct bus_ops i8042_data_ops; /* port 0x60, len 1 */
extern const struct bus_ops i8042_cmd_ops;  /* port 0x64, len 1 */
/* Snapshots: Controller, keyboard and mouse modes and the output queue (opaque: struct i8042 *). */
extern const struct snap_dev_ops i8042_snap_ops;
#endif
