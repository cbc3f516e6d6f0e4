/* libFuzzer: PIIX IDE (PIO) with two drives on one channel: channel 0 has
 * a read-write master and a read-only slave, channel 1 a read-write slave
 * only (no master). Drive select (DEV) may change at any point, also in the
 * middle of a command's data transfer: the transfer must stay with the drive
 * that started it, and the read-only drive is never written whatever the
 * order of commands, selects, resets and data. Both ro and rw images are
 * opened read-write here, so only the device model protects the ro one.
 *
 * Invariants after every input: the ro image is byte-identical, no image
 * changed size, and the rw image on the other channel changed only if a
 * command ran there (its content is checked against a copy when channel 1
 * saw no write command).
 *
 * Input: fuzz_io.h access stream; regions 0/1 channel 0 command/control
 * block, 2/3 channel 1. seeds/ide/ has a WRITE SECTORS to the master that
 * selects the slave before pushing the data (finding 7). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/ide.h"
#include "fuzz_io.h"
#include "host/log.h"

#define IMG_SIZE (64u << 10)

static int img[3] = { -1, -1, -1 };   /* ch0 master rw, ch0 slave ro, ch1 slave rw */
static uint8_t orig[3][IMG_SIZE];

static int make_image(unsigned k)
{
	char name[64] = "/tmp/myvmm-fuzz-ide2-XXXXXX";
	int fd = mkstemp(name);
	if (fd < 0)
		return -1;
	unlink(name);
	for (unsigned i = 0; i < IMG_SIZE; i++)
		orig[k][i] = (uint8_t)(i * 11 + k * 3 + 1);
	if (pwrite(fd, orig[k], IMG_SIZE, 0) != IMG_SIZE)
		return -1;
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	for (unsigned k = 0; k < 3; k++)
		if ((img[k] = make_image(k)) < 0)
			return -1;
	return 0;
}

static off_t fsize(int fd)
{
	struct stat st;
	return fstat(fd, &st) ? -1 : st.st_size;
}

static void same_or_die(unsigned k)
{
	static uint8_t now[IMG_SIZE];
	if (pread(img[k], now, IMG_SIZE, 0) != IMG_SIZE || memcmp(now, orig[k], IMG_SIZE)) {
		fprintf(stderr, "fuzz_ide: image %u changed\n", k);
		abort();
	}
}

/* Watches channel 1's command register for write commands. */
static bool ch1_wrote;
static void ch1_cmd_read(void *o, uint64_t off, void *d, uint32_t len)
{
	ide_cmd_ops[1].read(o, off, d, len);
}
static void ch1_cmd_write(void *o, uint64_t off, const void *d, uint32_t len)
{
	if (off <= 7 && off + len > 7) {
		uint8_t cmd = ((const uint8_t *)d)[7 - off];
		/* WRITE SECTORS (EXT), WRITE MULTIPLE (EXT), WRITE VERIFY, ... */
		if (cmd == 0x30 || cmd == 0x31 || cmd == 0x34 || cmd == 0x39 || cmd == 0xc5 ||
		    cmd == 0x3c || cmd == 0xce || cmd == 0x3f || cmd == 0x3b || cmd == 0x3d)
			ch1_wrote = true;
	}
	ide_cmd_ops[1].write(o, off, d, len);
}
static const struct bus_ops ch1_ops = { ch1_cmd_read, ch1_cmd_write };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fio_irq_state st = { 0 };
	struct irq_line i14 = { fio_irq_set, &st, 14 }, i15 = { fio_irq_set, &st, 15 };
	struct ide *ide = ide_create(&i14, &i15);

	if (!ide || ide_attach(ide, 0, 0, img[0], IMG_SIZE, false) ||
	    ide_attach(ide, 0, 1, img[1], IMG_SIZE, true) ||
	    ide_attach(ide, 1, 1, img[2], IMG_SIZE, false))
		abort();
	ch1_wrote = false;
	const struct fio_region r[4] = {
		{ &ide_cmd_ops[0], ide, IDE_CMD_LEN, 4 },
		{ &ide_ctl_ops[0], ide, IDE_CTL_LEN, 4 },
		{ &ch1_ops, ide, IDE_CMD_LEN, 4 },
		{ &ide_ctl_ops[1], ide, IDE_CTL_LEN, 4 },
	};
	fio_run(r, 4, NULL, NULL, data, size);
	ide_destroy(ide);
	for (unsigned k = 0; k < 3; k++)
		if (fsize(img[k]) != IMG_SIZE)
			abort();
	same_or_die(1);
	if (!ch1_wrote)
		same_or_die(2);
	else if (pread(img[2], orig[2], IMG_SIZE, 0) != IMG_SIZE)
		abort(); /* the new reference content */
	return 0;
}
