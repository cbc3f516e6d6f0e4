/* The four x86 debug registers as gdb's breakpoints and watchpoints: Z0/Z1
 * become execute breakpoints, Z2/Z3/Z4 write/read/access watchpoints. Pure:
 * computes DR0-3 and DR7 for KVM_SET_GUEST_DEBUG, and which slot a DR6 names. */
#ifndef MYVMM_GDB_BP_H
#define MYVMM_GDB_BP_H
#include <stdbool.h>
#include <stdint.h>

#define GDB_NUM_DR 4

enum gdb_bp_type { GDB_BP_SW = 0, GDB_BP_HW = 1, GDB_WP_WRITE = 2, GDB_WP_READ = 3, GDB_WP_ACCESS = 4 };

struct gdb_bp_slot {
	bool used;
	enum gdb_bp_type type;
	uint64_t addr;
	unsigned len;
};

struct gdb_bps {
	struct gdb_bp_slot dr[GDB_NUM_DR];
};

/* 0; -EINVAL for a bad length/alignment; -ENOSPC when all four are in use.
 * Inserting one that exists is a no-op. */
int gdb_bp_insert(struct gdb_bps *b, enum gdb_bp_type t, uint64_t addr, unsigned len);
/* 0 (also when absent). */
int gdb_bp_remove(struct gdb_bps *b, enum gdb_bp_type t, uint64_t addr, unsigned len);
bool gdb_bp_any(const struct gdb_bps *b);
/* Fills debugreg[0..7] (DR0-3 addresses, DR7 enables/types/lengths). */
void gdb_bp_debugregs(const struct gdb_bps *b, uint64_t debugreg[8]);
/* The slot a DR6 value reports as hit (B0-B3), or -1. */
int gdb_bp_hit(const struct gdb_bps *b, uint64_t dr6);
#endif
