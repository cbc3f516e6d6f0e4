/* PIIX-style legacy IDE, PIO only: the two channels' command and control
 * block registers (port ops), the drives and the PCI function. The ATA
 * commands and their data transfers are devices/ide_ata.c. */
#include "devices/ide.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ide_int.h"
#include "devices/pci.h"
#include "host/log.h"

static bool chan_empty(const struct ide_chan *c)
{
	return !c->d[0].present && !c->d[1].present;
}

static uint8_t read_status(struct ide_chan *c)
{
	if (c->ctl & IDE_CTL_SRST)
		return IDE_ST_BSY;
	return cur_disk(c) ? c->status : 0;
}

static void cmd_read(struct ide *ide, unsigned ch, uint64_t off, void *data, uint32_t len)
{
	struct ide_chan *c = &ide->ch[ch];
	uint8_t *p = data, v = 0;
	unsigned hob = (c->ctl & IDE_CTL_HOB) ? 1 : 0;

	pthread_mutex_lock(&ide->lock);
	if (chan_empty(c)) { /* floating bus with pull-down: BSY clear */
		memset(data, off == 0 ? 0xff : 0x7f, len);
		goto out;
	}
	if (off == 0) {
		if (data_disk(c))
			ide_ata_data(c, p, len, false);
		else
			memset(data, 0, len);
		goto out;
	}
	if (len != 1) {
		memset(data, 0xff, len);
		goto out;
	}
	if (!cur_disk(c) && off != 6) { /* QEMU-like: absent device reads 0 */
		*p = 0;
		goto out;
	}
	switch (off) {
	case 1: v = c->error; break;
	case 2: v = c->nsect[hob]; break;
	case 3: v = c->lbal[hob]; break;
	case 4: v = c->lbam[hob]; break;
	case 5: v = c->lbah[hob]; break;
	case 6: v = c->select; break;
	case 7:
		v = read_status(c);
		c->irq_pending = false; /* reading Status clears INTRQ */
		update_irq(c);
		break;
	}
	*p = v;
out:
	pthread_mutex_unlock(&ide->lock);
}

static void shift(uint8_t r[2], uint8_t v)
{
	r[1] = r[0];
	r[0] = v;
}

static void cmd_write(struct ide *ide, unsigned ch, uint64_t off, const void *data, uint32_t len)
{
	struct ide_chan *c = &ide->ch[ch];
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&ide->lock);
	if (off == 0) {
		if (data_disk(c))
			ide_ata_data(c, (uint8_t *)(uintptr_t)data, len, true);
		goto out;
	}
	if (len != 1)
		goto out;
	c->ctl &= (uint8_t)~IDE_CTL_HOB; /* any command-block write clears HOB */
	switch (off) {
	case 1: shift(c->feat, v); break;
	case 2: shift(c->nsect, v); break;
	case 3: shift(c->lbal, v); break;
	case 4: shift(c->lbam, v); break;
	case 5: shift(c->lbah, v); break;
	case 6:
		/* ATA8-ACS 7.1.5: the host shall not write Device while BSY or
		 * DRQ is set. Such a write is ignored: the transfer in progress
		 * stays bound to its drive (no switch to the other one). */
		if (c->xfer == XFER_NONE)
			c->select = v;
		else
			pr_guest("ide%u: Device register write 0x%02x during a data transfer "
				 "ignored", ch, v);
		break;
	case 7:
		if (!(c->ctl & IDE_CTL_SRST))
			ide_ata_command(c, v);
		break;
	}
out:
	pthread_mutex_unlock(&ide->lock);
}

static void ctl_read(struct ide *ide, unsigned ch, void *data, uint32_t len)
{
	struct ide_chan *c = &ide->ch[ch];

	pthread_mutex_lock(&ide->lock);
	/* Alternate Status: same as Status without clearing the interrupt. */
	memset(data, chan_empty(c) ? 0x7f : read_status(c), len);
	pthread_mutex_unlock(&ide->lock);
}

static void ctl_write(struct ide *ide, unsigned ch, const void *data, uint32_t len)
{
	struct ide_chan *c = &ide->ch[ch];
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&ide->lock);
	if ((c->ctl & IDE_CTL_SRST) && !(v & IDE_CTL_SRST)) {
		ide_ata_reset(c); /* SRST released: the reset completes at once */
		c->irq_pending = false;
	}
	if (v & IDE_CTL_SRST)
		c->xfer = XFER_NONE;
	c->ctl = v;
	update_irq(c);
	pthread_mutex_unlock(&ide->lock);
}

#define CHAN_OPS(n)                                                                      \
	static void cmd_read##n(void *o, uint64_t off, void *d, uint32_t l) { cmd_read(o, n, off, d, l); } \
	static void cmd_write##n(void *o, uint64_t off, const void *d, uint32_t l) { cmd_write(o, n, off, d, l); } \
	static void ctl_read##n(void *o, uint64_t off, void *d, uint32_t l) { ctl_read(o, n, d, l); } \
	static void ctl_write##n(void *o, uint64_t off, const void *d, uint32_t l) { ctl_write(o, n, d, l); }
CHAN_OPS(0)
CHAN_OPS(1)

const struct bus_ops ide_cmd_ops[2] = {
	{ .read = cmd_read0, .write = cmd_write0 },
	{ .read = cmd_read1, .write = cmd_write1 },
};
const struct bus_ops ide_ctl_ops[2] = {
	{ .read = ctl_read0, .write = ctl_write0 },
	{ .read = ctl_read1, .write = ctl_write1 },
};

struct ide *ide_create(const struct irq_line *irq14, const struct irq_line *irq15)
{
	struct ide *ide = calloc(1, sizeof(*ide));

	if (!ide)
		return NULL;
	if (pthread_mutex_init(&ide->lock, NULL)) {
		free(ide);
		return NULL;
	}
	if (irq14)
		ide->ch[0].irq = *irq14;
	if (irq15)
		ide->ch[1].irq = *irq15;
	for (int i = 0; i < 2; i++) {
		ide->ch[i].select = 0xa0;
		ide_ata_reset(&ide->ch[i]);
	}
	return ide;
}

void ide_destroy(struct ide *ide)
{
	if (!ide)
		return;
	pthread_mutex_destroy(&ide->lock);
	free(ide);
}

int ide_attach(struct ide *ide, unsigned channel, unsigned unit, int fd, uint64_t size_bytes,
	       bool ro)
{
	struct ide_disk *d;
	uint64_t cyl;

	if (!ide || channel > 1 || unit > 1 || fd < 0 || size_bytes < IDE_SECTOR ||
	    size_bytes / IDE_SECTOR > (1ull << 48))
		return -EINVAL;
	pthread_mutex_lock(&ide->lock);
	d = &ide->ch[channel].d[unit];
	if (d->present) {
		pthread_mutex_unlock(&ide->lock);
		return -EBUSY;
	}
	memset(d, 0, sizeof(*d));
	d->present = true;
	d->fd = fd;
	d->ro = ro;
	d->wcache = true;
	d->nsect = size_bytes / IDE_SECTOR;
	d->heads = 16;
	d->spt = 63;
	cyl = d->nsect / (16 * 63);
	d->cyls = (uint16_t)(cyl > 16383 ? 16383 : cyl ? cyl : 1);
	d->cur_heads = d->heads;
	d->cur_spt = d->spt;
	snprintf(d->serial, sizeof(d->serial), "MYVMM-IDE-%u%u", channel, unit);
	pthread_mutex_unlock(&ide->lock);
	return 0;
}

int ide_set_serial(struct ide *ide, unsigned channel, unsigned unit, const char *serial)
{
	if (!ide || channel > 1 || unit > 1 || !serial || strlen(serial) > 20)
		return -EINVAL;
	pthread_mutex_lock(&ide->lock);
	snprintf(ide->ch[channel].d[unit].serial, 21, "%s", serial);
	pthread_mutex_unlock(&ide->lock);
	return 0;
}

void ide_pci_init(struct pci_dev *d)
{
	pci_dev_init(d, 0x8086, 0x7010, 0x010180, 0x00);
	/* IDETIM primary/secondary (0x40/0x42): bit 15 = IDE decode enable. */
	pci_cfg_set(d, 0x40, 2, 0x8000);
	pci_cfg_set(d, 0x42, 2, 0x8000);
	for (unsigned i = 0x40; i < 0x44; i++)
		d->wmask[i] = 0xff;
}
