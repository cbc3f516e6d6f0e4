/* PCI bus 0 with type-1 configuration access (0xCF8 address, 0xCFC data)
 * and the reset control register at 0xCF9 that shares that port range.
 * Each function has a 256-byte config space with a write mask; a device may
 * hook config writes (BAR moves, command register) through its ops. */
#ifndef MYVMM_PCI_H
#define MYVMM_PCI_H
#include <pthread.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/vmctl.h"

#define PCI_CFG_SIZE 256
#define PCI_MAX_DEVS 32

#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d

struct pci_dev;
struct pci_dev_ops {
	/* Called after the masked write landed in cfg[] (bus lock held). */
	void (*cfg_written)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* Called before a read to refresh dynamic registers (may be NULL). */
	void (*cfg_read)(struct pci_dev *d, uint32_t off, uint32_t len);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* bits the guest may change */
	uint8_t w1cmask[PCI_CFG_SIZE];/* write-1-to-clear bits (status) */
	uint8_t devfn;
	const struct pci_dev_ops *ops;
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t cfg_addr;
	struct pci_dev *devs[PCI_MAX_DEVS]; /* function 0 of each slot */
	struct vmctl ctl;
	uint8_t rcr;                        /* 0xCF9 reset control */
	struct pci_dev host;                /* 00:00.0 host bridge */
};

int pci_bus_init(struct pci_bus *b, const struct vmctl *ctl);
void pci_bus_destroy(struct pci_bus *b);
extern const struct bus_ops pci_cfg_ops; /* 8 ports at PORT_PCI_CONFIG */
/* Puts d at slot (1..31; 0 is the host bridge). -EBUSY if taken. */
int pci_bus_add(struct pci_bus *b, unsigned slot, struct pci_dev *d);
/* Clears d, fills ids/class and makes the standard header fields writable;
 * set d->ops/opaque afterwards. */
void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision);
/* Raw config accessors (no mask), for device code and tests. */
uint32_t pci_cfg_read(const struct pci_dev *d, uint32_t off, uint32_t len);
void pci_cfg_set(struct pci_dev *d, uint32_t off, uint32_t len, uint32_t v);
/* A guest config access by (devfn, reg) as the type-1 mechanism performs it. */
uint32_t pci_bus_cfg_read(struct pci_bus *b, uint8_t devfn, uint32_t off, uint32_t len);
void pci_bus_cfg_write(struct pci_bus *b, uint8_t devfn, uint32_t off, uint32_t len, uint32_t v);
#endif
