/* ACPI PM1a event/control blocks and the PM timer (PIIX4-style, in I/O
 * space at PORT_PM_BASE). S5 (SLP_TYP = ACPI_S5_SLP_TYP with SLP_EN) powers
 * off; the power button sets PWRBTN_STS and raises the SCI while enabled. */
#ifndef MYVMM_PM_H
#define MYVMM_PM_H
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "snapshot/sbuf.h"

#define PM1_STS_TMR     (1u << 0)
#define PM1_STS_PWRBTN  (1u << 8)
#define PM1_STS_WAK     (1u << 15)
#define PM1_CNT_SCI_EN  (1u << 0)
#define PM1_CNT_SLP_EN  (1u << 13)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM_TIMER_HZ     3579545ULL

struct pm;
/* s5_typ: the SLP_TYP value the DSDT's \_S5 package announces. */
struct pm *pm_create(const struct irq_line *sci, const struct vmctl *ctl, unsigned s5_typ);
void pm_destroy(struct pm *pm);
extern const struct bus_ops pm_bus_ops; /* PORT_PM_LEN bytes at PORT_PM_BASE */
/* Snapshots: PM1 registers and the PM timer's count (opaque: struct pm *). */
extern const struct snap_dev_ops pm_snap_ops;
/* Presses the power button (from the UI thread). */
void pm_power_button(struct pm *pm);
/* The PM timer value now (24... here 32-bit, TMR_VAL_EXT). Exposed for tests. */
uint32_t pm_timer_value(const struct pm *pm);
#endif
