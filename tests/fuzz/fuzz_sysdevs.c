/* libFuzzer: the small stop-the-VM devices and the exit-status contract.
 * The PIO bus with sysdevs (debug-exit 0xf4, boot marker 0xf0, POST 0x80 /
 * 0xed, port 0x92) and the PCI config ports, and pvpanic-pci in slot 3
 * (reached through its BAR on the MMIO bus wherever the guest moved it, and
 * directly). Every stop request the devices make is turned into the
 * process exit status (status_exit_code) and a --status-file JSON report,
 * as main() does.
 *
 * Invariants: stop reasons are valid; an exit status is 0..255 and a
 * debug-exit value v gives ((v & 0x7f) << 1) | 1 (UBSan: no signed
 * overflow for any v); the JSON report is written; and the --log file (a
 * temp file; info lines included) grows by a bounded amount however many
 * messages the guest triggers: at most LOG_BUDGET bytes in one input, and
 * in all LOG_BUDGET plus LOG_PER_SEC per second of run time.
 *
 * Input: fuzz_io.h access stream. Regions: 0 the PIO bus ports 0..0xff
 * (sysdevs + PCI config at 0xcf8 are outside: region 1), 1 the PCI config
 * ports, 2 the MMIO bus from the start of the PCI window, 3 pvpanic's BAR
 * directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/status.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/sysdevs.h"
#include "fuzz_io.h"
#include "host/log.h"
#include "machine/pc_map.h"

#define LOG_BUDGET  (16u << 10)
#define LOG_PER_SEC (64u << 10)

struct ctx {
	struct bus pio, mmio;
	unsigned long stops, markers;
};

static int log_fd = -1;       /* the --log file, already unlinked */
static FILE *json_sink;
static struct timespec t_start;

static void on_stop(void *o, enum stop_reason why, int value)
{
	struct ctx *c = o;
	struct run_status st = { .reason = why, .value = value, .kernel = "k", .name = "fuzz" };

	if (why <= STOP_NONE || why > STOP_SIGNAL)
		abort();
	for (int nr = 0; nr < 2; nr++) {
		int code = status_exit_code(why, value, nr);
		if (code < 0 || code > 255)
			abort();
		if (why == STOP_DEBUG_EXIT && code != (int)((((unsigned)value & 0x7f) << 1) | 1))
			abort();
		st.exit_code = code;
	}
	if (!status_reason_name(why))
		abort();
	rewind(json_sink);
	if (status_write_json(json_sink, &st))
		abort();
	c->stops++;
}

static void on_marker(void *o, unsigned v)
{
	((struct ctx *)o)->markers++;
}

static void pio_read(void *o, uint64_t off, void *d, uint32_t len)
{
	bus_access(&((struct ctx *)o)->pio, off, d, len, false);
}
static void pio_write(void *o, uint64_t off, const void *d, uint32_t len)
{
	bus_access(&((struct ctx *)o)->pio, off, (void *)d, len, true);
}
static const struct bus_ops pio_ops = { pio_read, pio_write };
static void win_read(void *o, uint64_t off, void *d, uint32_t len)
{
	bus_access(&((struct ctx *)o)->mmio, LAYOUT_PCI_MMIO_START + off, d, len, false);
}
static void win_write(void *o, uint64_t off, const void *d, uint32_t len)
{
	bus_access(&((struct ctx *)o)->mmio, LAYOUT_PCI_MMIO_START + off, (void *)d, len, true);
}
static const struct bus_ops win_ops = { win_read, win_write };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64] = "/tmp/myvmm-fuzz-log-XXXXXX";

	log_set_level(LOG_ERR); /* stderr: errors only; the file gets info too */
	log_fd = mkstemp(path);
	if (log_fd < 0 || log_open_file(path))
		return -1;
	unlink(path);
	json_sink = fopen("/dev/null", "w");
	if (!json_sink)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	return 0;
}

static off_t log_size(void)
{
	struct stat st;
	return fstat(log_fd, &st) ? -1 : st.st_size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx c;
	struct pci_bus pb;
	struct vmctl ctl = { on_stop, &c };
	struct sysdevs *sd;
	struct pvpanic *pv;
	struct timespec now;
	off_t before = log_size();

	memset(&c, 0, sizeof(c));
	bus_init(&c.pio, "pio");
	bus_init(&c.mmio, "mmio");
	if (pci_bus_init(&pb, &ctl))
		abort();
	pci_bus_attach(&pb, &c.pio, &c.mmio, LAYOUT_PCI_MMIO_START, LAYOUT_PCI_MMIO_END, NULL);
	sd = sysdevs_create(&ctl, on_marker, &c);
	if (!sd || bus_add(&c.pio, PORT_DEBUG_EXIT, 4, &sysdevs_debug_exit_ops, sd, "debug-exit") ||
	    bus_add(&c.pio, PORT_BOOT_MARKER, 1, &sysdevs_marker_ops, sd, "boot-marker") ||
	    bus_add(&c.pio, PORT_POST, 1, &sysdevs_post_ops, sd, "post") ||
	    bus_add(&c.pio, PORT_A20_FAST, 1, &sysdevs_port92_ops, sd, "port92") ||
	    pvpanic_create(&pb, 3, &ctl, &pv))
		abort();

	const struct fio_region r[4] = {
		{ &pio_ops, &c, 0x100, 4 },
		{ &pci_cfg_ops, &pb, 8, 4 },
		{ &win_ops, &c, 0x10000, 8 },
		{ &pvpanic_bar_ops, pv, 16, 8 },
	};
	fio_run(r, 4, NULL, NULL, data, size);

	pvpanic_destroy(pv);
	sysdevs_destroy(sd);
	pci_bus_destroy(&pb);
	bus_destroy(&c.pio);
	bus_destroy(&c.mmio);

	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t secs = (uint64_t)(now.tv_sec - t_start.tv_sec) + 1;
	off_t ls = log_size();
	if (ls < 0 || before < 0 || ls - before > (off_t)LOG_BUDGET ||
	    (uint64_t)ls > LOG_BUDGET + secs * LOG_PER_SEC) {
		fprintf(stderr, "fuzz_sysdevs: --log grew to %lld bytes in %llu s\n", (long long)ls,
			(unsigned long long)secs);
		abort();
	}
	return 0;
}
