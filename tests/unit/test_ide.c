/* Unit tests for the legacy IDE controller, driven through its port ops with
 * a temporary disk image. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "devices/ide.h"
#include "devices/pci.h"
#include "fakes.h"

#define NSECT 64

static struct fake_irq irq14, irq15;
static struct ide *ide;
static int fd = -1;
static char path[] = "/tmp/test_ide_XXXXXX";

static void setup(void)
{
	struct irq_line l14 = { fake_irq_set, &irq14, 14 }, l15 = { fake_irq_set, &irq15, 15 };
	uint8_t sec[512];

	memset(&irq14, 0, sizeof(irq14));
	memset(&irq15, 0, sizeof(irq15));
	strcpy(path, "/tmp/test_ide_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (unsigned i = 0; i < NSECT; i++) {
		memset(sec, (int)i, sizeof(sec));
		ck_assert_int_eq(pwrite(fd, sec, 512, (off_t)i * 512), 512);
	}
	ide = ide_create(&l14, &l15);
	ck_assert_ptr_nonnull(ide);
	ck_assert_int_eq(ide_attach(ide, 0, 0, fd, NSECT * 512, false), 0);
}

static void teardown(void)
{
	ide_destroy(ide);
	close(fd);
}

static uint8_t inb(unsigned ch, unsigned off)
{
	uint8_t v = 0;
	ide_cmd_ops[ch].read(ide, off, &v, 1);
	return v;
}

static void outb(unsigned ch, unsigned off, uint8_t v)
{
	ide_cmd_ops[ch].write(ide, off, &v, 1);
}

static uint8_t alt(unsigned ch)
{
	uint8_t v = 0;
	ide_ctl_ops[ch].read(ide, 0, &v, 1);
	return v;
}

static void ctl(unsigned ch, uint8_t v)
{
	ide_ctl_ops[ch].write(ide, 0, &v, 1);
}

static uint16_t inw(unsigned ch)
{
	uint8_t b[2];
	ide_cmd_ops[ch].read(ide, 0, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static void read_data(unsigned ch, uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2) {
		uint16_t w = inw(ch);
		buf[i] = (uint8_t)w;
		buf[i + 1] = (uint8_t)(w >> 8);
	}
}

static void write_data(unsigned ch, const uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i += 4)
		ide_cmd_ops[ch].write(ide, 0, buf + i, 4); /* 32-bit PIO */
}

static void lba28(uint32_t lba, uint8_t count, uint8_t cmd)
{
	outb(0, 6, (uint8_t)(0xe0 | (lba >> 24)));
	outb(0, 2, count);
	outb(0, 3, (uint8_t)lba);
	outb(0, 4, (uint8_t)(lba >> 8));
	outb(0, 5, (uint8_t)(lba >> 16));
	outb(0, 7, cmd);
}

START_TEST(test_identify)
{
	uint8_t id[512];
	char model[41] = { 0 };

	outb(0, 6, 0xa0);
	outb(0, 7, 0xec);
	ck_assert_int_eq(irq14.level, 1);
	ck_assert_uint_eq(alt(0) & (IDE_ST_BSY | IDE_ST_DRQ | IDE_ST_DRDY), IDE_ST_DRQ | IDE_ST_DRDY);
	ck_assert_int_eq(irq14.level, 1); /* alt status does not ack */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_DRQ, IDE_ST_DRQ);
	ck_assert_int_eq(irq14.level, 0);
	read_data(0, id, 512);
	for (int i = 0; i < 20; i++) {
		model[2 * i] = (char)id[54 + 2 * i + 1];
		model[2 * i + 1] = (char)id[54 + 2 * i];
	}
	ck_assert_int_eq(strncmp(model, "MYVMM HARDDISK ", 15), 0);
	ck_assert_uint_eq(id[120] | id[121] << 8, NSECT);          /* word 60 */
	ck_assert_uint_eq(id[200] | id[201] << 8, NSECT);          /* word 100 */
	ck_assert_uint_eq((id[166] | id[167] << 8) & 0x0400, 0x0400); /* LBA48 */
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_DRQ | IDE_ST_ERR), 0);
}
END_TEST

START_TEST(test_read_write_sectors)
{
	uint8_t buf[3 * 512], wr[2 * 512];

	lba28(5, 3, 0x20);
	ck_assert_int_eq(irq14.raises, 1);
	for (int s = 0; s < 3; s++) {
		ck_assert_uint_eq(inb(0, 7) & (IDE_ST_DRQ | IDE_ST_ERR), IDE_ST_DRQ);
		read_data(0, buf + 512 * s, 512);
	}
	ck_assert_int_eq(irq14.raises, 3);
	ck_assert_uint_eq(buf[0], 5);
	ck_assert_uint_eq(buf[511], 5);
	ck_assert_uint_eq(buf[512 * 2 + 100], 7);
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_DRQ | IDE_ST_ERR | IDE_ST_BSY), 0);

	for (unsigned i = 0; i < sizeof(wr); i++)
		wr[i] = (uint8_t)(i * 3 + 1);
	lba28(10, 2, 0x30);
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_DRQ, IDE_ST_DRQ);
	write_data(0, wr, 512);
	ck_assert_int_eq(irq14.level, 1); /* next block requested */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_DRQ, IDE_ST_DRQ);
	write_data(0, wr + 512, 512);
	ck_assert_int_eq(irq14.level, 1); /* completion */
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_DRQ | IDE_ST_ERR), 0);
	ck_assert_int_eq(pread(fd, buf, 1024, 10 * 512), 1024);
	ck_assert_mem_eq(buf, wr, 1024);
	outb(0, 7, 0xe7); /* FLUSH CACHE */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
}
END_TEST

START_TEST(test_lba48_and_hob)
{
	uint8_t buf[512];

	outb(0, 6, 0x40);
	outb(0, 2, 0);    /* count high */
	outb(0, 2, 1);    /* count low */
	outb(0, 3, 0);    /* lba 24..31 */
	outb(0, 3, 40);   /* lba 0..7 */
	outb(0, 4, 0); outb(0, 4, 0);
	outb(0, 5, 0); outb(0, 5, 0);
	ctl(0, IDE_CTL_HOB);
	ck_assert_uint_eq(inb(0, 2), 0);
	ctl(0, 0);
	ck_assert_uint_eq(inb(0, 3), 40);
	outb(0, 7, 0x24);
	read_data(0, buf, 512);
	ck_assert_uint_eq(buf[0], 40);
	/* A high LBA beyond the disk: IDNF. */
	outb(0, 2, 0); outb(0, 2, 1);
	outb(0, 3, 1); outb(0, 3, 0);
	outb(0, 4, 0); outb(0, 4, 0);
	outb(0, 5, 0); outb(0, 5, 0);
	outb(0, 7, 0x24);
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_ERR | IDE_ST_DRQ), IDE_ST_ERR);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_IDNF);
}
END_TEST

START_TEST(test_out_of_range_and_abort)
{
	lba28(NSECT - 1, 2, 0x20); /* runs past the end */
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_ERR | IDE_ST_DRQ), IDE_ST_ERR);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_IDNF);
	lba28(0, 0, 0x20); /* count 0 = 256 sectors > 64 */
	ck_assert_uint_eq(inb(0, 1), IDE_ER_IDNF);
	lba28(0, 1, 0x40); /* verify ok */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
	outb(0, 7, 0xa1); /* IDENTIFY PACKET: no ATAPI */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, IDE_ST_ERR);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_ABRT);
	outb(0, 7, 0xff);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_ABRT);
	outb(0, 7, 0xc4); /* READ MULTIPLE before SET MULTIPLE */
	ck_assert_uint_eq(inb(0, 1), IDE_ER_ABRT);
	outb(0, 7, 0x10); /* RECALIBRATE */
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, NSECT * 512); /* never extended */
}
END_TEST

START_TEST(test_read_only)
{
	struct ide *ro = ide_create(NULL, NULL);
	uint8_t v;
	ck_assert_int_eq(ide_attach(ro, 1, 0, fd, NSECT * 512, true), 0);
	ck_assert_int_eq(ide_attach(ro, 1, 0, fd, NSECT * 512, true), -EBUSY);
	ck_assert_int_eq(ide_attach(ro, 2, 0, fd, NSECT * 512, true), -EINVAL);
	v = 0xe0; ide_cmd_ops[1].write(ro, 6, &v, 1);
	v = 1; ide_cmd_ops[1].write(ro, 2, &v, 1);
	v = 0x30; ide_cmd_ops[1].write(ro, 7, &v, 1);
	ide_cmd_ops[1].read(ro, 7, &v, 1);
	ck_assert_uint_eq(v & (IDE_ST_ERR | IDE_ST_DRQ), IDE_ST_ERR);
	ide_cmd_ops[1].read(ro, 1, &v, 1);
	ck_assert_uint_eq(v, IDE_ER_ABRT);
	ide_destroy(ro);
}
END_TEST

/* Issue 10 finding 7: WRITE SECTORS to the read-write master, select the
 * read-only slave while DRQ is up, push the data. The transfer belongs to
 * the master: the slave's image must stay byte-identical even though its fd
 * here is writable (the device, not the fd mode, enforces read-only). */
START_TEST(test_dev_switch_mid_transfer)
{
	char p2[] = "/tmp/test_ide_ro_XXXXXX";
	int fd2 = mkstemp(p2);
	uint8_t sec[512], got[512];

	ck_assert_int_ge(fd2, 0);
	unlink(p2);
	memset(sec, 0x77, sizeof(sec));
	for (unsigned i = 0; i < NSECT; i++)
		ck_assert_int_eq(pwrite(fd2, sec, 512, (off_t)i * 512), 512);
	ck_assert_int_eq(ide_attach(ide, 0, 1, fd2, NSECT * 512, true), 0);

	lba28(0, 1, 0x30);                        /* WRITE SECTORS to the master */
	ck_assert_uint_eq(alt(0) & IDE_ST_DRQ, IDE_ST_DRQ);
	outb(0, 6, 0xf0);                         /* select the read-only slave */
	ck_assert_uint_eq(inb(0, 6) & 0x10, 0);   /* ignored during the transfer */
	memset(sec, 0xcc, sizeof(sec));
	write_data(0, sec, 512);
	ck_assert_uint_eq(alt(0) & (IDE_ST_DRQ | IDE_ST_ERR | IDE_ST_BSY), 0);

	for (unsigned i = 0; i < NSECT; i++) {     /* the slave is untouched */
		ck_assert_int_eq(pread(fd2, got, 512, (off_t)i * 512), 512);
		for (unsigned j = 0; j < 512; j++)
			ck_assert_uint_eq(got[j], 0x77);
	}
	ck_assert_int_eq(pread(fd, got, 512, 0), 512); /* the data went to the master */
	ck_assert_uint_eq(got[0], 0xcc);
	ck_assert_uint_eq(got[511], 0xcc);

	/* after the command, selecting the slave works and its writes abort */
	outb(0, 6, 0xf0);
	ck_assert_uint_eq(inb(0, 6) & 0x10, 0x10);
	outb(0, 2, 1);
	outb(0, 7, 0x30);
	ck_assert_uint_eq(inb(0, 7) & (IDE_ST_ERR | IDE_ST_DRQ), IDE_ST_ERR);

	/* a read of the master stays bound to it when the slave is selected */
	outb(0, 6, 0xe0);
	lba28(5, 1, 0x20);
	outb(0, 6, 0xf0);
	read_data(0, got, 512);
	ck_assert_uint_eq(got[0], 5);
	ck_assert_uint_eq(got[511], 5);
	close(fd2);
}
END_TEST

START_TEST(test_multiple)
{
	uint8_t buf[4 * 512];

	outb(0, 2, 3);
	outb(0, 7, 0xc6); /* not a power of two */
	ck_assert_uint_eq(inb(0, 1), IDE_ER_ABRT);
	outb(0, 2, 4);
	outb(0, 7, 0xc6);
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
	irq14.raises = 0;
	lba28(8, 6, 0xc4); /* blocks of 4 + 2 */
	inb(0, 7); /* ack */
	read_data(0, buf, 4 * 512);
	ck_assert_uint_eq(buf[3 * 512], 11);
	inb(0, 7);
	read_data(0, buf, 2 * 512);
	ck_assert_uint_eq(buf[512], 13);
	ck_assert_int_eq(irq14.raises, 2);
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_DRQ, 0);
}
END_TEST

START_TEST(test_absent_and_reset)
{
	/* Secondary channel is empty: floating bus reads 0x7f, BSY clear. */
	ck_assert_uint_eq(inb(1, 7), 0x7f);
	ck_assert_uint_eq(alt(1), 0x7f);
	outb(1, 6, 0xa0);
	ck_assert_uint_ne(inb(1, 6), 0xa0);
	/* Primary slave absent: status 0, scratch registers don't stick. */
	outb(0, 6, 0xb0);
	ck_assert_uint_eq(inb(0, 6), 0xb0);
	ck_assert_uint_eq(inb(0, 7), 0);
	outb(0, 2, 0x55);
	ck_assert_uint_ne(inb(0, 2), 0x55);
	outb(0, 7, 0xec); /* ignored */
	ck_assert_int_eq(irq14.level, 0);
	/* Master: scratch registers stick (SeaBIOS probe). */
	outb(0, 6, 0xa0);
	outb(0, 2, 0x55);
	outb(0, 3, 0xaa);
	ck_assert_uint_eq(inb(0, 2), 0x55);
	ck_assert_uint_eq(inb(0, 3), 0xaa);
	/* SRST: BSY while asserted, signature after release. */
	lba28(0, 1, 0x20);
	ctl(0, IDE_CTL_SRST | IDE_CTL_NIEN);
	ck_assert_uint_eq(alt(0) & IDE_ST_BSY, IDE_ST_BSY);
	ctl(0, IDE_CTL_NIEN);
	ck_assert_uint_eq(alt(0) & (IDE_ST_BSY | IDE_ST_DRQ | IDE_ST_DRDY), IDE_ST_DRDY);
	ck_assert_uint_eq(inb(0, 2), 1);
	ck_assert_uint_eq(inb(0, 3), 1);
	ck_assert_uint_eq(inb(0, 4), 0);
	ck_assert_uint_eq(inb(0, 5), 0);
	/* nIEN masks the line; clearing it reveals a pending interrupt. */
	outb(0, 7, 0x10);
	ck_assert_int_eq(irq14.level, 0);
	ctl(0, 0);
	ck_assert_int_eq(irq14.level, 1);
	inb(0, 7);
	ck_assert_int_eq(irq14.level, 0);
	/* EXECUTE DEVICE DIAGNOSTIC. */
	outb(0, 7, 0x90);
	ck_assert_uint_eq(inb(0, 1), 0x01);
}
END_TEST

START_TEST(test_chs_and_set_features)
{
	uint8_t buf[512];
	/* CHS sector 1 of head 1 cyl 0 with default 16/63 geometry = LBA 63 > 64? */
	outb(0, 6, 0xa0);   /* CHS, head 0 */
	outb(0, 2, 1);
	outb(0, 3, 3);      /* sector 3 -> LBA 2 */
	outb(0, 4, 0);
	outb(0, 5, 0);
	outb(0, 7, 0x20);
	read_data(0, buf, 512);
	ck_assert_uint_eq(buf[0], 2);
	outb(0, 3, 0);      /* sector 0 is invalid */
	outb(0, 7, 0x20);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_IDNF);
	outb(0, 6, 0xa1);   /* heads = 2 */
	outb(0, 2, 8);      /* spt 8 */
	outb(0, 7, 0x91);
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
	outb(0, 6, 0xa1);   /* head 1 */
	outb(0, 2, 1);
	outb(0, 3, 1);      /* -> LBA 8 */
	outb(0, 7, 0x20);
	read_data(0, buf, 512);
	ck_assert_uint_eq(buf[0], 8);
	outb(0, 1, 0x02);
	outb(0, 7, 0xef);
	ck_assert_uint_eq(inb(0, 7) & IDE_ST_ERR, 0);
	outb(0, 1, 0x77);
	outb(0, 7, 0xef);
	ck_assert_uint_eq(inb(0, 1), IDE_ER_ABRT);
}
END_TEST

START_TEST(test_pci_function)
{
	struct pci_dev d;
	ide_pci_init(&d);
	ck_assert_uint_eq(pci_cfg_read(&d, 0, 4), 0x70108086);
	ck_assert_uint_eq(pci_cfg_read(&d, PCI_CLASS_PROG, 1), 0x80);
	ck_assert_uint_eq(pci_cfg_read(&d, PCI_CLASS_DEVICE, 2), 0x0101);
	ck_assert_uint_eq(pci_cfg_read(&d, 0x41, 1) & 0x80, 0x80);
}
END_TEST

CHECK_MAIN_FIXTURE("ide", setup, teardown, test_identify, test_read_write_sectors,
	test_lba48_and_hob, test_out_of_range_and_abort, test_read_only, test_multiple,
	test_dev_switch_mid_transfer, test_absent_and_reset, test_chs_and_set_features,
	test_pci_function)
