/* Debug-register allocation for gdb breakpoints (see bp.h). */
#include "gdb/bp.h"

#include <errno.h>

#define DR7_FIXED 0x400ULL /* bit 10 reads as 1 */

static bool is_watch(enum gdb_bp_type t)
{
	return t == GDB_WP_WRITE || t == GDB_WP_READ || t == GDB_WP_ACCESS;
}

static bool same(const struct gdb_bp_slot *s, enum gdb_bp_type t, uint64_t addr, unsigned len)
{
	/* Z0 and Z1 both execute at addr; gdb's kind (1 for x86) is not a length. */
	return s->used && s->type == t && s->addr == addr && (!is_watch(t) || s->len == len);
}

int gdb_bp_insert(struct gdb_bps *b, enum gdb_bp_type t, uint64_t addr, unsigned len)
{
	int free_slot = -1;

	if (t > GDB_WP_ACCESS)
		return -EINVAL;
	if (is_watch(t) && ((len != 1 && len != 2 && len != 4 && len != 8) || (addr & (len - 1))))
		return -EINVAL;
	for (int i = 0; i < GDB_NUM_DR; i++) {
		if (same(&b->dr[i], t, addr, len))
			return 0;
		if (!b->dr[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	b->dr[free_slot] = (struct gdb_bp_slot){ .used = true, .type = t, .addr = addr,
						 .len = is_watch(t) ? len : 1 };
	return 0;
}

int gdb_bp_remove(struct gdb_bps *b, enum gdb_bp_type t, uint64_t addr, unsigned len)
{
	for (int i = 0; i < GDB_NUM_DR; i++)
		if (same(&b->dr[i], t, addr, len))
			b->dr[i].used = false;
	return 0;
}

bool gdb_bp_any(const struct gdb_bps *b)
{
	for (int i = 0; i < GDB_NUM_DR; i++)
		if (b->dr[i].used)
			return true;
	return false;
}

void gdb_bp_debugregs(const struct gdb_bps *b, uint64_t debugreg[8])
{
	uint64_t dr7 = DR7_FIXED;

	for (int i = 0; i < 8; i++)
		debugreg[i] = 0;
	for (int i = 0; i < GDB_NUM_DR; i++) {
		const struct gdb_bp_slot *s = &b->dr[i];
		uint64_t rw = 0, ln = 0;
		if (!s->used)
			continue;
		debugreg[i] = s->addr;
		if (s->type == GDB_WP_WRITE)
			rw = 1;
		else if (is_watch(s->type))
			rw = 3; /* x86 has no read-only data breakpoint: read or write */
		if (is_watch(s->type))
			ln = s->len == 1 ? 0 : s->len == 2 ? 1 : s->len == 8 ? 2 : 3;
		dr7 |= 2ULL << (2 * i);  /* Gn: global enable */
		dr7 |= (rw | ln << 2) << (16 + 4 * i);
	}
	debugreg[7] = dr7;
}

int gdb_bp_hit(const struct gdb_bps *b, uint64_t dr6)
{
	for (int i = 0; i < GDB_NUM_DR; i++)
		if ((dr6 & (1ULL << i)) && b->dr[i].used)
			return i;
	return -1;
}
