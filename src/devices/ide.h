/* Legacy (ISA-compatible) PIIX IDE controller, PIO only: two channels with a
 * master and a slave each, ATA disks backed by host fds (ATA8-ACS commands
 * listed in ide.c). Register on the PIO bus, opaque = the struct ide:
 *   ide_cmd_ops[c] (len IDE_CMD_LEN) and ide_ctl_ops[c] (len IDE_CTL_LEN) for
 *   channel c, at the machine's ports (PC: 0x1f0/0x3f6 IRQ 14, 0x170/0x376 IRQ 15)
 * (0x3F7/0x377 belong to the floppy controller and are not claimed.)
 * Thread-safe: one mutex per controller; disk I/O is synchronous pread/pwrite
 * in the calling vCPU thread. */
#ifndef MYVMM_IDE_H
#define MYVMM_IDE_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/bus.h"
#include "devices/irq.h"

struct pci_dev;

#define IDE_CMD_LEN        8
#define IDE_CTL_LEN        1

#define IDE_SECTOR         512
#define IDE_MAX_MULT       16    /* sectors per DRQ block for READ/WRITE MULTIPLE */

/* Status register (ATA8-ACS 6.1). */
#define IDE_ST_ERR   0x01
#define IDE_ST_DRQ   0x08
#define IDE_ST_DSC   0x10
#define IDE_ST_DF    0x20
#define IDE_ST_DRDY  0x40
#define IDE_ST_BSY   0x80
/* Error register. */
#define IDE_ER_ABRT  0x04
#define IDE_ER_IDNF  0x10
#define IDE_ER_UNC   0x40
/* Device control register. */
#define IDE_CTL_NIEN 0x02
#define IDE_CTL_SRST 0x04
#define IDE_CTL_HOB  0x80

struct ide;

/* Creates a controller with no disks; irq14/irq15 are copied (either may be
 * NULL). Returns NULL on allocation failure. */
struct ide *ide_create(const struct irq_line *irq14, const struct irq_line *irq15);
/* Does not close the attached fds (the caller owns them). */
void ide_destroy(struct ide *ide);
/* Attaches an ATA disk at channel (0/1) unit (0 master, 1 slave). The disk
 * has size_bytes / 512 sectors; I/O never goes past that (the image is never
 * extended). ro disks abort writes. 0, -EINVAL (bad slot/fd/size < 512),
 * -EBUSY (slot taken). */
int ide_attach(struct ide *ide, unsigned channel, unsigned unit, int fd, uint64_t size_bytes,
	       bool ro);
/* Sets the IDENTIFY serial number (<= 20 chars, default "MYVMM-IDE-<ch><unit>"). */
int ide_set_serial(struct ide *ide, unsigned channel, unsigned unit, const char *serial);

/* Fills d as the PIIX3 IDE function (8086:7010, class 0x0101, prog-if 0x80:
 * both channels in legacy mode, no bus-master BAR) with IDETIM decode enabled,
 * so SeaBIOS and Linux ata_piix find the legacy ports. No ops needed. */
void ide_pci_init(struct pci_dev *d);

extern const struct bus_ops ide_cmd_ops[2];
extern const struct bus_ops ide_ctl_ops[2];
#endif
