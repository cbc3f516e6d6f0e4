/* i440FX/PIIX chipset config-space behaviour for SeaBIOS:
 *  - i440FX host bridge (00:00.0): PAM0..PAM6 (0x59-0x5F) and SMRAM (0x72);
 *  - PIIX3 ISA bridge 8086:7000 (00:01.0, multi-function): PIRQ route
 *    registers 0x60-0x63 and the ELCR at ports 0x4D0/0x4D1;
 *  - PIIX4 ACPI PM 8086:7113 (00:01.3): PMBA 0x40, PMREGMISC 0x80, SMBus
 *    base 0x90, DEVACTB 0x58 (APMC_EN preset: SeaBIOS then skips SMM setup).
 * Each is a struct pci_dev the VM registers on its pci_bus. Callbacks run in
 * the config-write path (pci bus lock held): they must not touch the pci bus. */
#ifndef MYVMM_PIIX_H
#define MYVMM_PIIX_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/pci.h"

#define I440FX_PAM0      0x59
#define I440FX_PAM_REGS  7
#define I440FX_SMRAM     0x72
#define PIIX_PAM_REGIONS 13     /* region 0: 0xF0000 64K; 1..12: 0xC0000 + 16K*(n-1) */

#define PAM_MODE_ROM     0      /* reads and writes go to ROM/PCI */
#define PAM_MODE_READ    1      /* reads from DRAM */
#define PAM_MODE_WRITE   2      /* writes to DRAM */
#define PAM_MODE_RW      3

#define PIIX3_PIRQRC     0x60   /* 4 registers; bit 7 = disabled, bits 3:0 IRQ */
#define PIIX4_PMBA       0x40
#define PIIX4_PMREGMISC  0x80
#define PIIX4_SMBBA      0x90
#define PIIX4_DEVACTB    0x58
#define PIIX4_DEVACTB_APMC_EN (1u << 25)

#define PIIX_ELCR_LEN    2   /* at PORT_ELCR (0x4d0) on a PC */

struct piix_callbacks {
	/* PAM region (0..12) changed to mode (PAM_MODE_*). */
	void (*pam_changed)(void *opaque, unsigned region, unsigned mode);
	/* PIRQ A..D (0..3) now routes to ISA irq (valid only if enabled). */
	void (*pirq_changed)(void *opaque, unsigned pirq, uint8_t irq, bool enabled);
	/* PIIX4 PM I/O base (64-byte block) or PMREGMISC enable changed. */
	void (*pm_base_changed)(void *opaque, uint16_t base, bool enabled);
	void *opaque;
};

struct piix {
	struct pci_dev isa;    /* 00:01.0 */
	struct pci_dev pm;     /* 00:01.3 */
	struct pci_dev *host;  /* the pci_bus's host bridge (owned by pci.c) */
	struct piix_callbacks cb;
	uint8_t pam[I440FX_PAM_REGS];  /* last values reported */
	uint8_t pirq[4];
	uint16_t pm_base;
	bool pm_enabled;
	pthread_mutex_t elcr_lock;
	uint8_t elcr[2];
};

/* Initialises p: fills p->isa and p->pm, and takes over host (sets its
 * write masks for PAM/SMRAM, its ops and opaque). cb is copied (may be NULL).
 * Register p->isa at slot 1 function 0 and p->pm at slot 1 function 3 once
 * pci.c supports functions. 0 or -EINVAL. */
int piix_init(struct piix *p, struct pci_dev *host, const struct piix_callbacks *cb);
void piix_destroy(struct piix *p);

/* Address and size of PAM region n; false if n is out of range. */
bool piix_pam_region(unsigned n, uint32_t *base, uint32_t *size);
/* Current mode of PAM region n (from the host bridge config), 0 if bad n. */
unsigned piix_pam_mode(const struct piix *p, unsigned n);
/* ELCR bits (bit n = IRQ n level-triggered), thread-safe. */
uint16_t piix_elcr(struct piix *p);

/* ELCR ports: register at the machine's PORT_ELCR, len PIIX_ELCR_LEN, opaque = p. */
extern const struct bus_ops piix_elcr_ops;
#endif
