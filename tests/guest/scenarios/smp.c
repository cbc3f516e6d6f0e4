/* SMP bring-up: INIT-SIPI-SIPI through the xAPIC to every MADT CPU other
 * than the BSP; each AP enters through the trampoline and ap_main(). */
#include "tk.h"

#define LAPIC_ID     0x020
#define LAPIC_SVR    0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT0   0x350
#define LAPIC_LVT1   0x360

/* Read by head*.S: next AP stack index; AP stacks (4 KiB each). */
volatile uint32_t ap_next;
/* Stacks need no zeroing: .noinit keeps the boot code from clearing them. */
__attribute__((aligned(16), section(".noinit"))) uint8_t ap_stacks[TK_MAX_CPUS][4096];
static volatile uint32_t ap_online;

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(LAPIC_BASE + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }

static unsigned lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/* Software-enables the local APIC and routes the 8259 through LINT0
 * (ExtINT) and NMI through LINT1, as firmware would. */
void lapic_virtual_wire(void)
{
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1ff);
	lapic_write(LAPIC_LVT0, 0x700);
	lapic_write(LAPIC_LVT1, 0x400);
}

static void ipi(unsigned apic_id, uint32_t lo)
{
	lapic_write(LAPIC_ICR_HI, (uint32_t)apic_id << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	for (int i = 0; i < 1000 && (lapic_read(LAPIC_ICR_LO) & (1u << 12)); i++)
		cpu_relax();
}

void ap_main(void)
{
	kprintf("TK: ap %u up\n", lapic_id());
	__atomic_fetch_add(&ap_online, 1, __ATOMIC_SEQ_CST);
	tk_halt();
}

int scen_smp(const struct bootinfo *bi, const struct acpi_info *ai)
{
	unsigned bsp;
	struct deadline d;

	if (ai->ncpus < 1)
		tk_fail("smp", "no CPUs in MADT");
	memcpy(phys(TK_TRAMP_BASE), tramp_start, (size_t)(tramp_end - tramp_start));
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1ff);
	bsp = lapic_id();
	for (int i = 0; i < ai->ncpus; i++)
		if (ai->apic_ids[i] != bsp)
			ipi(ai->apic_ids[i], 0x4500);            /* INIT, assert */
	delay_ms(10);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < ai->ncpus; i++)
			if (ai->apic_ids[i] != bsp)
				ipi(ai->apic_ids[i], 0x4600 | (TK_TRAMP_BASE >> 12)); /* SIPI */
		delay_ms(1);
	}
	deadline_start(&d, 2000);
	while (ap_online + 1 < (uint32_t)ai->ncpus && !deadline_passed(&d))
		cpu_relax();
	unsigned n = ap_online + 1;
	kprintf("TK: cpus online %u\n", n);
	if (n != (unsigned)ai->ncpus)
		tk_fail("smp", "%u of %d CPUs online", n, ai->ncpus);
	return 0;
}
