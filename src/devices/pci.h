/* PCI bus 0 with type-1 configuration access (0xCF8 address, 0xCFC data)
 * and the reset control register at 0xCF9 that shares that port range.
 * Each function has a 256-byte config space with a write mask; a device may
 * hook config writes (BAR moves, command register) through its ops. */
#ifndef MYVMM_PCI_H
#define MYVMM_PCI_H
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "devices/vmctl.h"
#include "snapshot/sbuf.h"

struct aml;

#define PCI_CFG_SIZE 256
#define PCI_MAX_DEVS 32
#define PCI_MAX_FUNCS 8
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | ((fn) & 7)))

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
#define PCI_ROM_ADDRESS    0x30  /* expansion ROM BAR (PCI 3.0 6.2.5.2) */
#define PCI_ROM_ENABLE     0x1
#define PCI_ROM_MIN_SIZE   2048u /* address bits 31:11 */
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_NUM_BARS       6

#define PCI_COMMAND_IO      0x0001
#define PCI_COMMAND_MEMORY  0x0002
#define PCI_COMMAND_MASTER  0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_CAP_ID_MSIX    0x11
#define PCI_CAP_ID_VNDR    0x09

/* Windows the BAR allocator hands out from; the machine's ACPI _CRS uses the same. */
#define PCI_IO_WINDOW_START 0x1000u
#define PCI_IO_WINDOW_END   0x10000u  /* exclusive */
/* INTx: pin INTA..INTD of slot s goes to GSI 16 + ((s + pin) % 4) (pin 0 = INTA). */
#define PCI_INTX_GSI_BASE   16
#define PCI_INTX_GSI_COUNT  4

enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

/* One BAR: the device's region, its current guest address and whether it is
 * registered on the MMIO/PIO bus (decoding enabled and address valid). */
struct pci_bar {
	enum pci_bar_kind kind;
	uint64_t size;               /* power of two; >= 16 (MMIO) or >= 4 (I/O) */
	const struct bus_ops *ops;   /* offsets are relative to the BAR base */
	void *opaque;
	const char *name;
	uint64_t mapped_addr;        /* valid when mapped */
	bool mapped;
};

struct pci_dev;
struct pci_dev_ops {
	/* Called before a guest write changes cfg[] (bus lock held; may be
	 * NULL): a device can stop something the old value allowed first. */
	void (*cfg_will_write)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* Called after the masked write landed in cfg[] (bus lock held). */
	void (*cfg_written)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* Called before a read to refresh dynamic registers (may be NULL). */
	void (*cfg_read)(struct pci_dev *d, uint32_t off, uint32_t len);
	/* A BAR was (un)registered at addr (bus lock held); may be NULL. Used to
	 * move ioeventfds along with the BAR. */
	void (*bar_mapped)(struct pci_dev *d, unsigned bar, uint64_t addr, bool mapped);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* bits the guest may change */
	uint8_t w1cmask[PCI_CFG_SIZE];/* write-1-to-clear bits (status) */
	uint8_t devfn;
	const struct pci_dev_ops *ops;
	void *opaque;
	struct pci_bar bar[PCI_NUM_BARS];
	struct pci_bar rom;           /* expansion ROM (kind MEM32 when present) */
	const uint8_t *rom_data;      /* owned by the caller; rom_len <= rom.size */
	uint32_t rom_len;
	uint8_t cap_next;             /* next free config offset for a capability */
	struct irq_line intx;         /* set by pci_bus_add() from the pin */
	int intx_level;
	struct pci_bus *bus;          /* set by pci_bus_add() */
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t cfg_addr;
	struct pci_dev *devs[PCI_MAX_DEVS * PCI_MAX_FUNCS]; /* by devfn (slot << 3 | fn) */
	struct vmctl ctl;
	uint8_t rcr;                        /* 0xCF9 reset control */
	struct pci_dev host;                /* 00:00.0 host bridge */
	struct bus *pio, *mmio;             /* where BARs are registered (may be NULL) */
	struct irq_line intx_base;          /* gsi field ignored: per-device GSIs */
	uint64_t mmio_next, mmio_end;       /* BAR allocator, 32-bit MMIO window */
	uint32_t io_next;                   /* BAR allocator, I/O window */
};

int pci_bus_init(struct pci_bus *b, const struct vmctl *ctl);
void pci_bus_destroy(struct pci_bus *b);
extern const struct bus_ops pci_cfg_ops; /* 8 ports at PORT_PCI_CONFIG */
/* Puts d at slot (1..31; 0 is the host bridge), function 0. -EBUSY if taken. */
int pci_bus_add(struct pci_bus *b, unsigned slot, struct pci_dev *d);
/* Puts d at slot.fn (fn 0..7). Functions other than 0 are only visible once
 * function 0 of the slot exists and has the multi-function bit (header type
 * bit 7, PCI 3.0 6.2.1), which this sets on function 0 when fn != 0 is added
 * (and on d when it is function 0 of a slot that has others). -EINVAL for a
 * bad slot/fn, -EBUSY if taken, -ENOSPC if its BARs do not fit. */
int pci_bus_add_fn(struct pci_bus *b, unsigned slot, unsigned fn, struct pci_dev *d);
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

/* Gives the bus the MMIO/PIO buses BARs are registered on, the MMIO window
 * [mmio_start, mmio_end) the allocator uses, and the INTx line factory
 * (irq->set is called with a GSI 16..19). Call before pci_bus_add(). */
void pci_bus_attach(struct pci_bus *b, struct bus *pio, struct bus *mmio, uint64_t mmio_start,
		    uint64_t mmio_end, const struct irq_line *intx);
/* Declares BAR idx (a 64-bit BAR also takes idx+1) before pci_bus_add().
 * size is rounded up to a power of two (min 16 MMIO / 4 I/O). -EINVAL on a
 * bad index/kind/size. */
int pci_dev_set_bar(struct pci_dev *d, unsigned idx, enum pci_bar_kind kind, uint64_t size,
		    const struct bus_ops *ops, void *opaque, const char *name);
/* Gives d an expansion ROM of len bytes (read-only; the caller keeps data
 * alive until the device is unmapped). Call before pci_bus_add(); the BAR
 * size is len rounded up to a power of two (>= 2 KiB). It decodes while its
 * enable bit and COMMAND.MEMORY are set; firmware assigns its address.
 * -EINVAL for an empty or > 16 MiB image. */
int pci_dev_set_rom(struct pci_dev *d, const void *data, uint32_t len, const char *name);
/* Appends a capability of len bytes (id at +0, next at +1) to the list;
 * returns its config offset or -ENOSPC. The caller fills the body. */
int pci_dev_add_cap(struct pci_dev *d, uint8_t id, uint8_t len);
/* Finds capability id starting the walk at 0x34; 0 if absent. */
uint8_t pci_dev_find_cap(const struct pci_dev *d, uint8_t id);
/* Sets the interrupt pin (1 = INTA .. 4 = INTD) before pci_bus_add(). */
void pci_dev_set_pin(struct pci_dev *d, uint8_t pin);
/* Drives the device's INTx (honours COMMAND.INTX_DISABLE, sets STATUS.INT).
 * Thread-safe (any thread; takes no bus lock). */
void pci_dev_intx(struct pci_dev *d, int level);
/* Guest address of a BAR as currently programmed (no decode check). */
uint64_t pci_dev_bar_addr(const struct pci_dev *d, unsigned idx);
/* GSI for (slot, pin 1..4) per the swizzle above. */
unsigned pci_intx_gsi(unsigned slot, unsigned pin);
/* acpi_aml_hook: emits Name(_PRT, ...) for every slot and pin. */
int pci_prt_aml(struct aml *a, void *opaque);
/* Unregisters every mapped BAR (before the device is freed; bus lock taken). */
void pci_bus_unmap_dev(struct pci_bus *b, struct pci_dev *d);
/* Snapshots: every function's config space and INTx level, the config
 * address latch; loading maps the BARs again (opaque: struct pci_bus *). */
extern const struct snap_dev_ops pci_bus_snap_ops;
#endif
