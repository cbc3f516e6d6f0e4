/* gdb's x86 register layouts over KVM's structures (see arch.h). The
 * numbering follows gdb's i386/amd64 "core" and "sse" features: general
 * registers, pc, eflags, six selectors, st0-7, eight x87 control words,
 * xmm registers, mxcsr; x86-64 adds fs_base and gs_base. */
#include "gdb/arch.h"

#include <string.h>

#define EFER_LMA (1ULL << 10)

bool gdb_arch_is64(const struct kvm_sregs *s)
{
	return (s->efer & EFER_LMA) != 0;
}

#define XML_HEAD "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target version=\"1.0\">"
#define X87_REGS \
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>" \
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>" \
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>" \
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>" \
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/><reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/><reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/><reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>" \
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/><reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
#define SEG_REGS \
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>" \
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>" \
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
#define SSE_HEAD \
	"<feature name=\"org.gnu.gdb.i386.sse\"><vector id=\"v4i32\" type=\"int32\" count=\"4\"/>" \
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/><union id=\"vec128\">" \
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>" \
	"<field name=\"uint128\" type=\"uint128\"/></union>"
#define XMM(n) "<reg name=\"xmm" #n "\" bitsize=\"128\" type=\"vec128\"/>"
#define MXCSR "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/></feature>"

static const char xml32[] = XML_HEAD "<architecture>i386</architecture>"
	"<feature name=\"org.gnu.gdb.i386.core\">"
	"<reg name=\"eax\" bitsize=\"32\" type=\"int32\"/><reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/><reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/><reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>"
	"<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/><reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/><reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>"
	SEG_REGS X87_REGS "</feature>" SSE_HEAD
	XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7) MXCSR "</target>";

#define R64(n) "<reg name=\"" n "\" bitsize=\"64\" type=\"int64\"/>"
static const char xml64[] = XML_HEAD "<architecture>i386:x86-64</architecture>"
	"<feature name=\"org.gnu.gdb.i386.core\">"
	R64("rax") R64("rbx") R64("rcx") R64("rdx") R64("rsi") R64("rdi")
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/><reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
	R64("r8") R64("r9") R64("r10") R64("r11") R64("r12") R64("r13") R64("r14") R64("r15")
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/><reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>"
	SEG_REGS X87_REGS "</feature>" SSE_HEAD
	XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7)
	XMM(8) XMM(9) XMM(10) XMM(11) XMM(12) XMM(13) XMM(14) XMM(15) MXCSR
	"<feature name=\"org.gnu.gdb.i386.segments\">"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/><reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>"
	"</feature></target>";

const char *gdb_arch_xml(bool x64)
{
	return x64 ? xml64 : xml32;
}

/* Register classes in layout order. */
enum rclass { RC_GPR, RC_PC, RC_FLAGS, RC_SEG, RC_ST, RC_FCTL, RC_XMM, RC_MXCSR, RC_SEGBASE, RC_NONE };

struct rdesc {
	enum rclass cls;
	unsigned idx;   /* index within its class */
	unsigned size;
};

static struct rdesc describe(bool x64, unsigned n)
{
	unsigned ngpr = x64 ? 16 : 8, nxmm = x64 ? 16 : 8, w = x64 ? 8 : 4;
	struct rdesc d = { RC_NONE, 0, 0 };

	if (n < ngpr)
		return (struct rdesc){ RC_GPR, n, w };
	n -= ngpr;
	if (n == 0)
		return (struct rdesc){ RC_PC, 0, w };
	if (n == 1)
		return (struct rdesc){ RC_FLAGS, 0, 4 };
	n -= 2;
	if (n < 6)
		return (struct rdesc){ RC_SEG, n, 4 };
	n -= 6;
	if (n < 8)
		return (struct rdesc){ RC_ST, n, 10 };
	n -= 8;
	if (n < 8)
		return (struct rdesc){ RC_FCTL, n, 4 };
	n -= 8;
	if (n < nxmm)
		return (struct rdesc){ RC_XMM, n, 16 };
	n -= nxmm;
	if (n == 0)
		return (struct rdesc){ RC_MXCSR, 0, 4 };
	n -= 1;
	if (x64 && n < 2)
		return (struct rdesc){ RC_SEGBASE, n, 8 };
	return d;
}

unsigned gdb_arch_nregs(bool x64)
{
	return x64 ? 16 + 2 + 6 + 8 + 8 + 16 + 1 + 2 : 8 + 2 + 6 + 8 + 8 + 8 + 1;
}

size_t gdb_arch_regs_size(bool x64)
{
	size_t sz = 0;
	for (unsigned i = 0; i < gdb_arch_nregs(x64); i++)
		sz += describe(x64, i).size;
	return sz;
}

/* gdb's order of the general registers, as pointers into kvm_regs. */
static __u64 *gpr(struct kvm_regs *r, bool x64, unsigned i)
{
	__u64 *const o32[8] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi };
	__u64 *const o64[16] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp, &r->rsp,
				    &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
	return x64 ? o64[i] : o32[i];
}

static struct kvm_segment *seg(struct kvm_sregs *s, unsigned i)
{
	struct kvm_segment *const o[6] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs };
	return o[i];
}

static void put_le(uint8_t *out, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *in, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)in[i] << (8 * i);
	return v;
}

/* x87 control words: fctrl fstat ftag fiseg fioff foseg fooff fop. KVM keeps
 * the abridged (FXSAVE) tag: bit set = valid; gdb wants the full tag word
 * (00 valid, 11 empty per register). */
static uint32_t fctl_get(const struct kvm_fpu *f, unsigned i)
{
	switch (i) {
	case 0: return f->fcw;
	case 1: return f->fsw;
	case 2: {
		uint32_t tag = 0;
		for (unsigned r = 0; r < 8; r++)
			if (!(f->ftwx & (1u << r)))
				tag |= 3u << (2 * r);
		return tag;
	}
	case 4: return (uint32_t)f->last_ip;
	case 6: return (uint32_t)f->last_dp;
	case 7: return f->last_opcode;
	default: return 0; /* fiseg, foseg: not kept by FXSAVE in 64-bit format */
	}
}

static void fctl_set(struct kvm_fpu *f, unsigned i, uint32_t v)
{
	switch (i) {
	case 0: f->fcw = (uint16_t)v; break;
	case 1: f->fsw = (uint16_t)v; break;
	case 2: {
		uint8_t t = 0;
		for (unsigned r = 0; r < 8; r++)
			if (((v >> (2 * r)) & 3) != 3)
				t |= (uint8_t)(1u << r);
		f->ftwx = t;
		break;
	}
	case 4: f->last_ip = v; break;
	case 6: f->last_dp = v; break;
	case 7: f->last_opcode = (uint16_t)v; break;
	default: break;
	}
}

int gdb_arch_get(const struct gdb_cpu *cc, bool x64, unsigned n, uint8_t *out)
{
	struct gdb_cpu *c = (struct gdb_cpu *)cc; /* the accessors are shared with set */
	struct rdesc d = describe(x64, n);

	switch (d.cls) {
	case RC_GPR: put_le(out, *gpr(&c->regs, x64, d.idx), d.size); break;
	case RC_PC: put_le(out, c->regs.rip, d.size); break;
	case RC_FLAGS: put_le(out, c->regs.rflags, 4); break;
	case RC_SEG: put_le(out, seg(&c->sregs, d.idx)->selector, 4); break;
	case RC_ST: memcpy(out, c->fpu.fpr[d.idx], 10); break;
	case RC_FCTL: put_le(out, fctl_get(&c->fpu, d.idx), 4); break;
	case RC_XMM: memcpy(out, c->fpu.xmm[d.idx], 16); break;
	case RC_MXCSR: put_le(out, c->fpu.mxcsr, 4); break;
	case RC_SEGBASE: put_le(out, d.idx ? c->sregs.gs.base : c->sregs.fs.base, 8); break;
	case RC_NONE: return -1;
	}
	return (int)d.size;
}

int gdb_arch_set(struct gdb_cpu *c, bool x64, unsigned n, const uint8_t *in, size_t len,
		 bool *fpu_dirty)
{
	struct rdesc d = describe(x64, n);
	uint64_t v;

	if (d.cls == RC_NONE || len != d.size)
		return -1;
	v = d.size <= 8 ? get_le(in, d.size) : 0;
	switch (d.cls) {
	case RC_GPR: {
		__u64 *r = gpr(&c->regs, x64, d.idx);
		*r = x64 ? v : (*r & ~0xffffffffULL) | v;
		break;
	}
	case RC_PC: c->regs.rip = x64 ? v : (c->regs.rip & ~0xffffffffULL) | v; break;
	case RC_FLAGS: c->regs.rflags = (c->regs.rflags & ~0xffffffffULL) | v | 0x2; break;
	case RC_SEG: break;
	case RC_ST: memcpy(c->fpu.fpr[d.idx], in, 10); *fpu_dirty = true; break;
	case RC_FCTL: fctl_set(&c->fpu, d.idx, (uint32_t)v); *fpu_dirty = true; break;
	case RC_XMM: memcpy(c->fpu.xmm[d.idx], in, 16); *fpu_dirty = true; break;
	case RC_MXCSR: c->fpu.mxcsr = (uint32_t)v; *fpu_dirty = true; break;
	case RC_SEGBASE: break; /* needs the segment cache: left alone */
	case RC_NONE: return -1;
	}
	return 0;
}
