/* GDB RSP: parsing one packet payload into a command. Pure: no state, no
 * I/O; every number is bounded (at most 16 hex digits), every field checked.
 * Data fields (G, M, P) point into the payload and are validated as hex of
 * the right length here. */
#ifndef MYVMM_GDB_CMD_H
#define MYVMM_GDB_CMD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_VCONT_MAX 16
#define GDB_TID_ALL  (-1)   /* "-1" */
#define GDB_TID_ANY  0      /* "0" */

enum gdb_cmd_kind {
	GC_UNKNOWN,        /* reply empty: not supported */
	GC_MALFORMED,      /* reply E01 */
	GC_QSUPPORTED, GC_NOACK, GC_STOP_REASON, GC_ATTACHED,
	GC_READ_REGS, GC_WRITE_REGS, GC_READ_REG, GC_WRITE_REG,
	GC_READ_MEM, GC_WRITE_MEM,
	GC_CONT, GC_STEP, GC_VCONT, GC_VCONT_QUERY,
	GC_SET_THREAD, GC_THREAD_ALIVE, GC_THREAD_FIRST, GC_THREAD_NEXT, GC_CURRENT_THREAD,
	GC_THREAD_EXTRA,
	GC_INSERT_BP, GC_REMOVE_BP,
	GC_XFER_FEATURES,
	GC_DETACH, GC_KILL,
};

struct gdb_vcont_action {
	char action;       /* 'c' or 's' (C/S are folded in, the signal ignored) */
	int64_t tid;       /* GDB_TID_ALL when no ":tid" */
};

struct gdb_cmd {
	enum gdb_cmd_kind kind;
	uint64_t addr, len;        /* m M Z z; qXfer offset,length */
	unsigned regno;            /* p P */
	unsigned bp_type;          /* Z z: 0..4 */
	char thread_op;            /* H: 'g' or 'c' */
	int64_t tid;               /* H T qThreadExtraInfo */
	bool has_addr;             /* c/s ADDR */
	const char *data;          /* G M P: hex digits (validated) */
	size_t data_len;           /* bytes they encode */
	char annex[32];            /* qXfer:features:read:ANNEX */
	struct gdb_vcont_action vc[GDB_VCONT_MAX];
	unsigned nvc;
};

/* Largest m/M length we serve: the reply must fit in RSP_MAX_PACKET. */
#define GDB_MAX_MEM_XFER 2048

/* Fills c from payload p (NUL-terminated). Never fails: malformed input is
 * kind GC_MALFORMED, unsupported input GC_UNKNOWN. */
void gdb_cmd_parse(const char *p, struct gdb_cmd *c);
/* Parses a thread id: hex, "-1", or "pPID.TID"; -1 on error. */
int gdb_parse_tid(const char **p, int64_t *tid);
#endif
