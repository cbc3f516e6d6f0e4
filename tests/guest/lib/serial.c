/* COM1 at 0x3f8, 115200 8N1, polled transmit. A spinlock serialises lines
 * printed by several CPUs. */
#include "tk.h"

#define COM1 0x3f8
#define THR 0
#define IER 1
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define DLL 0
#define DLM 1

static volatile uint32_t serial_spin;

void serial_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80);   /* DLAB */
	outb(COM1 + DLL, 0x01);   /* 115200 */
	outb(COM1 + DLM, 0x00);
	outb(COM1 + LCR, 0x03);   /* 8N1 */
	outb(COM1 + FCR, 0x07);   /* FIFO on, clear */
	outb(COM1 + MCR, 0x03);   /* DTR RTS */
}

void serial_putc(char c)
{
	/* Bounded wait: a missing UART reads 0xff, so bit 5 is set anyway. */
	for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & 0x20); i++)
		cpu_relax();
	outb(COM1 + THR, (uint8_t)c);
}

void serial_lock(void)
{
	while (__atomic_exchange_n(&serial_spin, 1, __ATOMIC_ACQUIRE))
		while (serial_spin)
			cpu_relax();
}

void serial_unlock(void)
{
	__atomic_store_n(&serial_spin, 0, __ATOMIC_RELEASE);
}
