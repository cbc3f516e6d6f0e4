/* The ATA command set of the IDE model (ATA8-ACS): IDENTIFY DEVICE,
 * READ/WRITE SECTORS (EXT), READ/WRITE MULTIPLE (EXT), SET MULTIPLE MODE,
 * READ VERIFY (EXT), SET FEATURES, INITIALIZE DEVICE PARAMETERS, FLUSH CACHE
 * (EXT), EXECUTE DEVICE DIAGNOSTIC, RECALIBRATE; everything else (including
 * IDENTIFY PACKET DEVICE: no ATAPI) aborts. Data moves by PIO, one DRQ block
 * at a time, through the drive's image fd. The registers are devices/ide.c. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices/ide_int.h"

static void raise_irq(struct ide_chan *c)
{
	c->irq_pending = true;
	update_irq(c);
}

static void cmd_done(struct ide_chan *c)
{
	c->xfer = XFER_NONE;
	c->status = IDE_ST_DRDY | IDE_ST_DSC;
	raise_irq(c);
}

static void cmd_error(struct ide_chan *c, uint8_t err)
{
	c->xfer = XFER_NONE;
	c->error = err;
	c->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_ERR;
	raise_irq(c);
}

/* Device signature (ATA8-ACS 9.12): ATA device, diagnostics passed. */
static void set_signature(struct ide_chan *c)
{
	c->nsect[0] = 1;
	c->lbal[0] = 1;
	c->lbam[0] = 0;
	c->lbah[0] = 0;
	c->error = 0x01;
	c->select &= 0xf0; /* keep DEV; head 0 */
}

void ide_ata_reset(struct ide_chan *c)
{
	c->xfer = XFER_NONE;
	c->pos = c->end = 0;
	set_signature(c);
	c->status = IDE_ST_DRDY | IDE_ST_DSC;
	for (int i = 0; i < 2; i++) {
		c->d[i].mult = 0;
		c->d[i].cur_heads = c->d[i].heads;
		c->d[i].cur_spt = c->d[i].spt;
	}
}

static void put_str(uint16_t *w, unsigned words, const char *s)
{
	size_t n = strlen(s);
	for (unsigned i = 0; i < words * 2; i++) {
		char ch = i < n ? s[i] : ' ';
		if (i & 1)
			w[i / 2] |= (uint8_t)ch;
		else
			w[i / 2] = (uint16_t)((uint8_t)ch << 8);
	}
}

/* IDENTIFY DEVICE data (ATA8-ACS 7.16, table 20), little-endian words. */
static void identify(struct ide_chan *c, const struct ide_disk *d)
{
	uint16_t w[256] = { 0 };
	uint64_t lba28 = d->nsect > 0x0fffffff ? 0x0fffffff : d->nsect;
	uint32_t chs = (uint32_t)d->cyls * d->cur_heads * d->cur_spt;

	w[0] = 0x0040;                    /* fixed, non-removable ATA device */
	w[1] = d->cyls;
	w[3] = d->heads;
	w[6] = d->spt;
	put_str(&w[10], 10, d->serial);
	put_str(&w[23], 4, "1.0");
	put_str(&w[27], 20, "MYVMM HARDDISK");
	w[47] = 0x8000 | IDE_MAX_MULT;
	w[49] = 0x0200;                   /* LBA supported (no DMA) */
	w[50] = 0x4000;
	w[51] = 0x0200;                   /* PIO mode 2 timing */
	w[53] = 0x0003;                   /* words 54-58 and 64-70 valid */
	w[54] = d->cyls;
	w[55] = d->cur_heads;
	w[56] = d->cur_spt;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[59] = d->mult ? (uint16_t)(0x0100 | d->mult) : 0;
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	w[64] = 0x0003;                   /* PIO modes 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120;
	w[80] = 0x01f0;                   /* ATA/ATAPI-4 .. ATA8-ACS */
	w[82] = 0x4020;                   /* NOP bit set as required, write cache */
	w[83] = 0x7400;                   /* FLUSH CACHE (EXT), LBA48 */
	w[84] = 0x4000;
	w[85] = d->wcache ? 0x0020 : 0;
	w[86] = 0x3400;
	w[87] = 0x4000;
	w[93] = 0x4001;                   /* hardware reset result: valid */
	for (int i = 0; i < 4; i++)
		w[100 + i] = (uint16_t)(d->nsect >> (16 * i));
	for (int i = 0; i < 256; i++) {
		c->buf[2 * i] = (uint8_t)w[i];
		c->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
}

static int disk_io(const struct ide_disk *d, uint64_t lba, uint32_t n, uint8_t *buf, bool wr)
{
	size_t len = (size_t)n * IDE_SECTOR, done = 0;
	off_t off = (off_t)(lba * IDE_SECTOR);

	if (lba > d->nsect || n > d->nsect - lba) /* checked by callers too */
		return -EINVAL;
	while (done < len) {
		ssize_t r = wr ? pwrite(d->fd, buf + done, len - done, off + (off_t)done)
			       : pread(d->fd, buf + done, len - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (wr)
				return -EIO;
			memset(buf + done, 0, len - done); /* sparse tail past EOF */
			break;
		}
		done += (size_t)r;
	}
	return 0;
}

/* Loads the next read block and raises DRQ. */
static void read_block(struct ide_chan *c, struct ide_disk *d)
{
	uint32_t n = c->remaining < c->block ? c->remaining : c->block;

	if (disk_io(d, c->lba, n, c->buf, false)) {
		cmd_error(c, IDE_ER_UNC);
		return;
	}
	c->pos = 0;
	c->end = n * IDE_SECTOR;
	c->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
	raise_irq(c);
}

static void write_block_ready(struct ide_chan *c)
{
	uint32_t n = c->remaining < c->block ? c->remaining : c->block;
	c->pos = 0;
	c->end = n * IDE_SECTOR;
	c->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
}

/* Decodes the address of a read/write/verify command; false on IDNF. */
static bool decode_addr(struct ide_chan *c, struct ide_disk *d, bool ext)
{
	uint64_t lba;
	uint32_t count;

	if (ext) {
		lba = (uint64_t)c->lbal[0] | (uint64_t)c->lbam[0] << 8 | (uint64_t)c->lbah[0] << 16 |
		      (uint64_t)c->lbal[1] << 24 | (uint64_t)c->lbam[1] << 32 |
		      (uint64_t)c->lbah[1] << 40;
		count = (uint32_t)c->nsect[1] << 8 | c->nsect[0];
		if (!count)
			count = 65536;
	} else {
		count = c->nsect[0] ? c->nsect[0] : 256;
		if (c->select & 0x40) {
			lba = (uint64_t)(c->select & 0x0f) << 24 | (uint64_t)c->lbah[0] << 16 |
			      (uint64_t)c->lbam[0] << 8 | c->lbal[0];
		} else { /* CHS */
			uint32_t cyl = (uint32_t)c->lbah[0] << 8 | c->lbam[0];
			uint32_t head = c->select & 0x0f, sec = c->lbal[0];
			if (!sec || sec > d->cur_spt || head >= d->cur_heads)
				return false;
			lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + sec - 1;
		}
	}
	if (lba > d->nsect || count > d->nsect - lba)
		return false;
	c->lba = lba;
	c->remaining = count;
	return true;
}

static void rw_cmd(struct ide_chan *c, struct ide_disk *d, bool wr, bool ext, bool multiple)
{
	if (multiple && !d->mult) {
		cmd_error(c, IDE_ER_ABRT);
		return;
	}
	if (wr && d->ro) {
		cmd_error(c, IDE_ER_ABRT);
		return;
	}
	if (!decode_addr(c, d, ext)) {
		cmd_error(c, IDE_ER_IDNF);
		return;
	}
	c->block = multiple ? d->mult : 1;
	c->xfer = wr ? XFER_WRITE : XFER_READ;
	if (wr)
		write_block_ready(c); /* PIO data-out: no interrupt for the first block */
	else
		read_block(c, d);
}

void ide_ata_command(struct ide_chan *c, uint8_t cmd)
{
	struct ide_disk *d = cur_disk(c);

	c->irq_pending = false;
	update_irq(c);
	c->xfer = XFER_NONE;
	c->pos = c->end = 0;
	if (!d) /* commands to an absent device are ignored */
		return;
	c->xdev = (c->select >> 4) & 1; /* the transfer is bound to this drive */
	if (cmd == 0x90) { /* EXECUTE DEVICE DIAGNOSTIC */
		set_signature(c);
		c->status = IDE_ST_DRDY | IDE_ST_DSC;
		raise_irq(c);
		return;
	}
	c->error = 0;
	switch (cmd) {
	case 0xec: /* IDENTIFY DEVICE */
		identify(c, d);
		c->xfer = XFER_IDENTIFY;
		c->pos = 0;
		c->end = IDE_SECTOR;
		c->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
		raise_irq(c);
		break;
	case 0x20: case 0x21: rw_cmd(c, d, false, false, false); break;
	case 0x24:            rw_cmd(c, d, false, true, false); break;
	case 0xc4:            rw_cmd(c, d, false, false, true); break;
	case 0x29:            rw_cmd(c, d, false, true, true); break;
	case 0x30: case 0x31: rw_cmd(c, d, true, false, false); break;
	case 0x34:            rw_cmd(c, d, true, true, false); break;
	case 0xc5:            rw_cmd(c, d, true, false, true); break;
	case 0x39:            rw_cmd(c, d, true, true, true); break;
	case 0x40: case 0x41: case 0x42: /* READ VERIFY SECTORS (EXT) */
		if (decode_addr(c, d, cmd == 0x42))
			cmd_done(c);
		else
			cmd_error(c, IDE_ER_IDNF);
		break;
	case 0xc6: { /* SET MULTIPLE MODE: 0 disables, else a power of two <= max */
		uint8_t n = c->nsect[0];
		if (n > IDE_MAX_MULT || (n & (n - 1))) {
			cmd_error(c, IDE_ER_ABRT);
		} else {
			d->mult = n;
			cmd_done(c);
		}
		break;
	}
	case 0xef: /* SET FEATURES */
		switch (c->feat[0]) {
		case 0x02: d->wcache = true; cmd_done(c); break;
		case 0x82: d->wcache = false; cmd_done(c); break;
		case 0x03: case 0x55: case 0xaa: case 0x66: case 0xcc: cmd_done(c); break;
		default: cmd_error(c, IDE_ER_ABRT); break;
		}
		break;
	case 0x91: /* INITIALIZE DEVICE PARAMETERS */
		if (!c->nsect[0]) {
			cmd_error(c, IDE_ER_ABRT);
		} else {
			d->cur_spt = c->nsect[0];
			d->cur_heads = (uint16_t)((c->select & 0x0f) + 1);
			cmd_done(c);
		}
		break;
	case 0xe7: case 0xea: /* FLUSH CACHE (EXT) */
		if (fdatasync(d->fd) && errno != EINVAL && errno != EROFS)
			cmd_error(c, IDE_ER_ABRT);
		else
			cmd_done(c);
		break;
	default:
		if (cmd >= 0x10 && cmd <= 0x1f) { /* RECALIBRATE */
			cmd_done(c);
			break;
		}
		cmd_error(c, IDE_ER_ABRT); /* includes 0xa1 IDENTIFY PACKET, 0xa0 PACKET */
		break;
	}
}

/* A DRQ block was fully transferred. */
static void block_done(struct ide_chan *c)
{
	struct ide_disk *d = data_disk(c);
	uint32_t n = c->end / IDE_SECTOR;

	c->pos = c->end = 0;
	if (!d || c->xfer == XFER_IDENTIFY) {
		c->xfer = XFER_NONE;
		c->status = IDE_ST_DRDY | IDE_ST_DSC;
		return;
	}
	/* Read-only is checked on the drive the data goes to, not only when
	 * the command started. */
	if (c->xfer == XFER_WRITE && (d->ro || disk_io(d, c->lba, n, c->buf, true))) {
		cmd_error(c, IDE_ER_ABRT);
		return;
	}
	c->lba += n;
	c->remaining -= n;
	if (!c->remaining) {
		if (c->xfer == XFER_WRITE) {
			cmd_done(c);
		} else { /* reads: no interrupt after the last block */
			c->xfer = XFER_NONE;
			c->status = IDE_ST_DRDY | IDE_ST_DSC;
		}
	} else if (c->xfer == XFER_READ) {
		read_block(c, d);
	} else {
		write_block_ready(c);
		raise_irq(c);
	}
}

void ide_ata_data(struct ide_chan *c, uint8_t *data, uint32_t len, bool wr)
{
	for (uint32_t i = 0; i < len; i++) {
		if (!(c->status & IDE_ST_DRQ) || c->pos >= c->end) {
			if (!wr)
				data[i] = 0xff;
			continue;
		}
		if (wr && c->xfer == XFER_WRITE)
			c->buf[c->pos] = data[i];
		else if (!wr)
			data[i] = c->buf[c->pos];
		if (++c->pos == c->end)
			block_done(c);
	}
}

