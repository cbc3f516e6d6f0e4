/* Inside the IDE model: the state shared by devices/ide.c (the channel
 * registers, port ops, drives and PCI function) and devices/ide_ata.c (the
 * ATA command set and its PIO data transfers), and the calls between them.
 * Everything here runs with struct ide's lock held. */
#ifndef MYVMM_IDE_INT_H
#define MYVMM_IDE_INT_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/ide.h"

enum xfer { XFER_NONE, XFER_READ, XFER_WRITE, XFER_IDENTIFY };

struct ide_disk {
	bool present, ro, wcache;
	int fd;
	uint64_t nsect;
	uint16_t cyls, heads, spt;    /* default geometry */
	uint16_t cur_heads, cur_spt;  /* INITIALIZE DEVICE PARAMETERS */
	uint8_t mult;                 /* 0 = READ/WRITE MULTIPLE disabled */
	char serial[21];
};

struct ide_chan {
	struct ide_disk d[2];
	struct irq_line irq;
	/* Task file: [0] current, [1] previous ("HOB") for LBA48. */
	uint8_t feat[2], nsect[2], lbal[2], lbam[2], lbah[2];
	uint8_t select, status, error, ctl;
	bool irq_pending;
	enum xfer xfer;
	uint8_t xdev;                 /* drive (0/1) the transfer belongs to */
	uint64_t lba;                 /* next sector of the transfer */
	uint32_t remaining;           /* sectors left, including the buffered block */
	uint32_t block;               /* sectors per DRQ block */
	uint32_t pos, end;            /* bytes within buf */
	uint8_t buf[IDE_MAX_MULT * IDE_SECTOR];
};

struct ide {
	pthread_mutex_t lock;
	struct ide_chan ch[2];
};

static inline struct ide_disk *cur_disk(struct ide_chan *c)
{
	struct ide_disk *d = &c->d[(c->select >> 4) & 1];
	return d->present ? d : NULL;
}

/* The drive the data port talks to: while a command transfers data, the
 * drive that started it (whatever DEV says), else the selected one. */
static inline struct ide_disk *data_disk(struct ide_chan *c)
{
	if (c->xfer == XFER_NONE)
		return cur_disk(c);
	return c->d[c->xdev].present ? &c->d[c->xdev] : NULL;
}

static inline void update_irq(struct ide_chan *c)
{
	irq_set(&c->irq, c->irq_pending && !(c->ctl & IDE_CTL_NIEN));
}

/* ATA (ide_ata.c): runs command cmd (a Command register write) on the
 * selected drive; moves len bytes through the Data register (wr: from the
 * guest), finishing DRQ blocks; and a channel's reset state (signature,
 * drive modes back to their defaults). */
void ide_ata_command(struct ide_chan *c, uint8_t cmd);
void ide_ata_data(struct ide_chan *c, uint8_t *data, uint32_t len, bool wr);
void ide_ata_reset(struct ide_chan *c);
#endif
