/* 16550A UART (the PC's COM1), 8 I/O ports. Output goes straight to a
 * char_sink (the line is infinitely fast: THRE and TEMT are always set);
 * input is pushed by the I/O thread into a 16-byte RX FIFO.
 *
 * Interrupt line: level = (IIR reports a pending source) && MCR.OUT2, as on
 * the PC where OUT2 gates the UART's INTR pin onto the ISA IRQ.
 *
 * Locking: one mutex per device. Bus callbacks (vCPU threads) and
 * serial_rx_push() (I/O thread) take it. irq_set() and the output sink are
 * called WITH the mutex held (both are non-blocking and never call back into
 * the device; holding it keeps output ordered between vCPUs). rx_ready is
 * called WITHOUT the mutex held, so it may call serial_rx_push(). */
#ifndef MYVMM_SERIAL_H
#define MYVMM_SERIAL_H
#include <stddef.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "snapshot/sbuf.h"

#define SERIAL_NR_PORTS  8
#define SERIAL_FIFO_SIZE 16

struct serial;

/* Creates a UART in its power-on state. irq and out are copied (may be
 * NULL: no interrupts / output discarded). rx_ready(rx_opaque), if not NULL,
 * is called without the device lock when the guest has emptied the RX FIFO
 * (or the FIFO was reset), so the caller can push more input. Returns NULL
 * on allocation failure. */
struct serial *serial_create(const struct irq_line *irq, const struct char_sink *out,
			     void (*rx_ready)(void *), void *rx_opaque);
/* Frees the device. The caller must have unregistered it from the bus. */
void serial_destroy(struct serial *s);
/* Back to power-on state (VM reset): registers, FIFO emptied, IRQ lowered. */
void serial_reset(struct serial *s);

/* Input from the host. Accepts at most serial_rx_space() bytes and returns
 * how many were taken; the rest stays with the caller (flow control: input
 * pushed by the host is never overrun, the caller waits for rx_ready).
 * Capacity is 16 bytes with FIFOs enabled (FCR bit 0), 1 byte (a 16450
 * holding register) without. LSR.OE is only raised by loopback writes into
 * a full receiver, where the byte is lost as on real hardware. */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receiver right now (see serial_rx_push). */
size_t serial_rx_space(struct serial *s);

/* Bus ops; register with base PORT_COM1, len SERIAL_NR_PORTS and the
 * struct serial as opaque. Multi-byte accesses are split into byte accesses
 * at consecutive offsets (as the ISA bus does); offsets >= 8 read 0xff. */
extern const struct bus_ops serial_bus_ops;
/* Registers, FIFO contents and interrupt state for snapshots (opaque: struct serial *). */
extern const struct snap_dev_ops serial_snap_ops;
#endif
