/* pvpanic as a PCI device (QEMU pvpanic-pci, 1b36:0011, docs/specs/pvpanic.rst):
 * BAR0 is a 16-byte MMIO region whose first byte reads the supported events
 * (bit 0 PANICKED, bit 1 CRASH_LOADED); a guest write of PANICKED stops the
 * VM with STOP_PANIC, CRASH_LOADED is only logged. */
#ifndef MYVMM_PVPANIC_H
#define MYVMM_PVPANIC_H
#include "devices/pci.h"
#include "devices/vmctl.h"

#define PVPANIC_VENDOR 0x1b36
#define PVPANIC_DEVICE 0x0011
#define PVPANIC_CLASS  0x088000    /* system peripheral, other */
#define PVPANIC_PANICKED     1
#define PVPANIC_CRASH_LOADED 2

struct pvpanic {
	struct pci_dev pci;
	struct vmctl ctl;
	struct pci_bus *bus;
};

/* Creates the device and puts it at slot on bus. 0 or -errno. */
int pvpanic_create(struct pci_bus *bus, unsigned slot, const struct vmctl *ctl,
		   struct pvpanic **out);
void pvpanic_destroy(struct pvpanic *p);
extern const struct bus_ops pvpanic_bar_ops;
#endif
