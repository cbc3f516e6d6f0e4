/* serial-irq scenario (PVH only: external interrupts are taken in 32-bit
 * protected mode): IDT, 8259 remapped to 0x20-0x2f, IRQ4 from the UART. */
#include "tk.h"

#define COM1 0x3f8

#ifdef __i386__
struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t zero, flags;
	uint16_t off_hi;
} __attribute__((packed));

/* isr32.S stubs and the C handlers they call. */
void isr_exception_stub(void), isr_pic_stub(void), isr_com1_stub(void);
void irq_exception(void), irq_pic(void), irq_com1(void);

static struct idt_entry idt[256];
static volatile uint32_t thre_irqs, last_iir, other_irqs;
static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;   /* head: ISR writes; tail: main */

void irq_exception(void)
{
	tk_fail("serial-irq", "unexpected exception");
}

void irq_pic(void)
{
	other_irqs++;
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

void irq_com1(void)
{
	for (int n = 0; n < 16; n++) {
		uint8_t iir = inb(COM1 + 2);
		if (iir & 1)
			break;
		switch (iir & 0x0e) {
		case 0x02:                    /* THR empty: seen it, stop it */
			thre_irqs++;
			last_iir = iir;
			outb(COM1 + 1, inb(COM1 + 1) & ~0x02);
			break;
		case 0x04:
		case 0x0c:
			while (inb(COM1 + 5) & 1) {
				uint8_t c = inb(COM1);
				if (rx_head - rx_tail < sizeof(rx_ring))
					rx_ring[rx_head++ & 0xff] = c;
			}
			break;
		case 0x06:
			inb(COM1 + 5);
			break;
		default:
			inb(COM1 + 6);
			break;
		}
	}
	outb(0x20, 0x20);
}

static void idt_set(int vec, void (*fn)(void))
{
	uint32_t a = (uint32_t)(uintptr_t)fn;
	idt[vec].off_lo = (uint16_t)a;
	idt[vec].sel = 0x08;
	idt[vec].zero = 0;
	idt[vec].flags = 0x8e;
	idt[vec].off_hi = (uint16_t)(a >> 16);
}

static void pic_remap(uint8_t master_mask)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, master_mask);
	outb(0xa1, 0xff);
}

int scen_serial_irq(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr;
	struct deadline d;

	for (int v = 0; v < 32; v++)
		idt_set(v, isr_exception_stub);
	for (int v = 0x20; v < 0x30; v++)
		idt_set(v, isr_pic_stub);
	idt_set(0x24, isr_com1_stub);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint32_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" :: "m"(idtr));
	lapic_virtual_wire();
	pic_remap(0xef);                      /* only IRQ4 */
	while (inb(COM1 + 5) & 1)             /* drain stale input */
		inb(COM1);
	outb(COM1 + 4, 0x0b);                 /* DTR RTS OUT2 */
	sti();
	outb(COM1 + 1, 0x02);                 /* THRE interrupt */
	deadline_start(&d, 1000);
	while (!thre_irqs && !deadline_passed(&d))
		cpu_relax();
	if (!thre_irqs)
		tk_fail("serial-irq", "no THRE interrupt on IRQ4");
	if ((last_iir & 0x0f) != 0x02)
		tk_fail("serial-irq", "IIR 0x%02x on THRE", last_iir);
	kprintf("TK: irq4 thre iir 0x%02x\n", last_iir);
	kprintf("TK: ready\n");
	outb(COM1 + 1, 0x01);                 /* RX data interrupt */
	deadline_start(&d, 10000);
	while (!deadline_passed(&d)) {
		while (rx_tail != rx_head) {
			uint8_t c = rx_ring[rx_tail++ & 0xff];
			kprintf("TK: rx %02x\n", c);
			if (c == 'q') {
				cli();
				outb(COM1 + 1, 0);
				return 0;
			}
		}
		cpu_relax();
	}
	cli();
	outb(COM1 + 1, 0);
	tk_fail("serial-irq", "timeout waiting for 'q'");
}
#else
int scen_serial_irq(const struct bootinfo *bi, const struct acpi_info *ai)
{
	tk_fail("serial-irq", "needs pvh");
}
#endif
