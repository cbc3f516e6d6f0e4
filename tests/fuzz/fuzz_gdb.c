/* libFuzzer: the gdb stub's pure input paths, driven by what a debugger (or
 * anyone who reaches the socket) sends. Byte 0 picks:
 *   0: the byte stream through rsp_rx_feed; every packet through
 *      gdb_cmd_parse, its result checked for the bounds the stub relies on;
 *   1: a page-table walk over a fuzzed 64 KiB "guest RAM" with fuzzed
 *      CR0/CR3/CR4/EFER (the walk must stay inside it and terminate);
 *   2: --gdb SPEC parsing;  3: breakpoint insert/remove sequences. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdb/bp.h"
#include "gdb/cmd.h"
#include "gdb/mmu.h"
#include "gdb/rsp.h"
#include "gdb/spec.h"

#define RAM 65536

static void check_cmd(const char *pkt)
{
	struct gdb_cmd c;
	char framed[2 * RSP_MAX_PACKET + 8];

	gdb_cmd_parse(pkt, &c);
	switch (c.kind) {
	case GC_READ_MEM:
		if (c.len > GDB_MAX_MEM_XFER)
			abort();
		break;
	case GC_WRITE_MEM:
	case GC_WRITE_REGS:
	case GC_WRITE_REG:
		if (c.data_len > GDB_MAX_MEM_XFER || strlen(c.data) != 2 * c.data_len)
			abort();
		if (c.kind == GC_WRITE_MEM && c.data_len != c.len)
			abort();
		break;
	case GC_VCONT:
		if (c.nvc == 0 || c.nvc > GDB_VCONT_MAX)
			abort();
		for (unsigned i = 0; i < c.nvc; i++)
			if (c.vc[i].action != 'c' && c.vc[i].action != 's')
				abort();
		break;
	case GC_INSERT_BP:
	case GC_REMOVE_BP:
		if (c.bp_type > 4)
			abort();
		break;
	case GC_XFER_FEATURES:
		if (strlen(c.annex) >= sizeof(c.annex))
			abort();
		break;
	default:
		break;
	}
	/* Our reply framing must round-trip through our own parser. */
	size_t n = rsp_frame(framed, sizeof(framed), pkt, strlen(pkt));
	if (!n)
		abort();
	struct rsp_rx rx;
	rsp_rx_init(&rx);
	enum rsp_event e = RSP_NONE;
	for (size_t i = 0; i < n; i++)
		e = rsp_rx_feed(&rx, (uint8_t)framed[i]);
	if (e != RSP_PACKET)
		abort();
}

static uint8_t ram[RAM];

static int rd(void *opaque, uint64_t gpa, void *buf, unsigned len)
{
	if (gpa >= RAM || len > RAM - gpa)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 4;
	data++;
	size--;
	if (mode == 0) {
		static struct rsp_rx rx;
		rsp_rx_init(&rx);
		for (size_t i = 0; i < size; i++)
			if (rsp_rx_feed(&rx, data[i]) == RSP_PACKET) {
				if (strlen(rx.buf) != rx.len || rx.len > RSP_MAX_PACKET)
					abort();
				check_cmd(rx.buf);
			}
	} else if (mode == 1) {
		struct gdb_mmu m;
		uint64_t va, gpa, left;
		if (size < 40)
			return 0;
		memcpy(&m, data, 32);
		memcpy(&va, data + 32, 8);
		memset(ram, 0, sizeof(ram));
		memcpy(ram, data + 40, size - 40 < RAM ? size - 40 : RAM);
		if (gdb_mmu_translate(&m, va, rd, NULL, &gpa, &left) == 0 && left == 0)
			abort();
	} else if (mode == 2) {
		char *s = malloc(size + 1), err[256];
		struct gdb_spec sp;
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = 0;
		err[0] = 0;
		int r = gdb_spec_parse(s, &sp, err, sizeof(err));
		if (r && !err[0])
			abort();
		if (!r && sp.is_unix && !sp.path[0])
			abort();
		free(s);
	} else {
		struct gdb_bps b;
		memset(&b, 0, sizeof(b));
		for (size_t i = 0; i + 3 <= size; i += 3) {
			uint64_t dr[8];
			enum gdb_bp_type t = (enum gdb_bp_type)(data[i] % 5);
			unsigned len = data[i + 1] % 10;
			uint64_t addr = (uint64_t)data[i + 2] << (data[i] & 0x38);
			if (data[i] & 0x80)
				gdb_bp_remove(&b, t, addr, len);
			else
				gdb_bp_insert(&b, t, addr, len);
			gdb_bp_debugregs(&b, dr);
			for (int k = 0; k < GDB_NUM_DR; k++)
				if (!b.dr[k].used && (dr[7] & (3ULL << (2 * k))))
					abort();
		}
	}
	return 0;
}
