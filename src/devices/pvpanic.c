/* pvpanic-pci: the guest reports a panic with one byte write. */
#include "devices/pvpanic.h"

#include <errno.h>
#include <stdlib.h>

#include "host/log.h"

static void pv_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	bus_put_le(data, len, off == 0 ? (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED) : 0);
}

static void pv_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pvpanic *p = opaque;
	uint8_t v = (uint8_t)bus_get_le(data, len);

	if (off != 0)
		return;
	/* Unknown bits are ignored (pvpanic.rst). */
	if (v & PVPANIC_PANICKED)
		vmctl_stop(&p->ctl, STOP_PANIC, 0);
	else if (v & PVPANIC_CRASH_LOADED)
		pr_info_rl("pvpanic: guest panicked, crash kernel loaded (VM left running)");
}

const struct bus_ops pvpanic_bar_ops = { .read = pv_read, .write = pv_write };

int pvpanic_create(struct pci_bus *bus, unsigned slot, const struct vmctl *ctl,
		   struct pvpanic **out)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->ctl = *ctl;
	pci_dev_init(&p->pci, PVPANIC_VENDOR, PVPANIC_DEVICE, PVPANIC_CLASS, 1);
	pci_cfg_set(&p->pci, PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1af4);
	pci_cfg_set(&p->pci, PCI_SUBSYSTEM_ID, 2, 0x1100);
	if ((r = pci_dev_set_bar(&p->pci, 0, PCI_BAR_MEM32, 16, &pvpanic_bar_ops, p, "pvpanic")) ||
	    (r = pci_bus_add(bus, slot, &p->pci))) {
		free(p);
		return r;
	}
	p->bus = bus;
	*out = p;
	return 0;
}

void pvpanic_destroy(struct pvpanic *p)
{
	if (!p)
		return;
	pci_bus_unmap_dev(p->bus, &p->pci);
	free(p);
}
