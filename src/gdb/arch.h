/* The register file gdb sees, for i386 and i386:x86-64: the target
 * description XML and the mapping between gdb register numbers and KVM's
 * register structures. Pure. */
#ifndef MYVMM_GDB_ARCH_H
#define MYVMM_GDB_ARCH_H
#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gdb_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
};

#define GDB_REG_MAX_BYTES 16

/* True when the vCPU runs in long mode (EFER.LMA): serve i386:x86-64. */
bool gdb_arch_is64(const struct kvm_sregs *s);
/* target.xml for that layout (NUL-terminated, static). */
const char *gdb_arch_xml(bool x64);
unsigned gdb_arch_nregs(bool x64);
/* Size of the whole 'g' block in bytes. */
size_t gdb_arch_regs_size(bool x64);
/* Register n as little-endian bytes into out: its size, or -1 if n is not
 * a register of this layout. */
int gdb_arch_get(const struct gdb_cpu *c, bool x64, unsigned n, uint8_t *out);
/* Sets register n from len bytes; -1 if n is unknown or len is not its size.
 * Segment selectors are accepted and ignored (they need a descriptor load);
 * *fpu_dirty is set when an FPU/SSE register changed. */
int gdb_arch_set(struct gdb_cpu *c, bool x64, unsigned n, const uint8_t *in, size_t len,
		 bool *fpu_dirty);
#endif
