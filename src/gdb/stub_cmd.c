/* gdb stub packet handlers: queries, registers, memory, breakpoints,
 * resume commands. Loop thread; the vCPUs are parked whenever gdb is not
 * waiting for a stop reply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gdb/arch.h"
#include "gdb/cmd.h"
#include "gdb/mmu.h"
#include "gdb/stub_int.h"
#include "host/log.h"
#include "machine/machine.h"
#include "mem/guest_mem.h"
#include "vcpu/vcpu.h"

#define ERR_GENERIC "E01"
#define ERR_FAULT   "E0e"   /* EFAULT: not mapped / not RAM */
#define ERR_NOSPC   "E1c"   /* ENOSPC: no free debug register */
#define ERR_NOTSUP  "E5f"   /* EOPNOTSUPP */

static struct vcpu *cpu_of(struct gdb_stub *s, unsigned i)
{
	return s->vm && i < vm_ncpus(s->vm) ? vm_vcpus(s->vm)[i] : NULL;
}

static int read_cpu(struct vcpu *v, struct gdb_cpu *c, bool fpu)
{
	memset(c, 0, sizeof(*c));
	if (ioctl(v->fd, KVM_GET_REGS, &c->regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &c->sregs) < 0)
		return -errno;
	if (fpu && ioctl(v->fd, KVM_GET_FPU, &c->fpu) < 0)
		return -errno;
	return 0;
}

/* A thread id names vCPU tid-1; 0 (any) and -1 (all) keep def. */
static int tid_cpu(struct gdb_stub *s, int64_t tid, unsigned def, unsigned *cpu)
{
	if (tid == GDB_TID_ANY || tid == GDB_TID_ALL) {
		*cpu = def;
		return 0;
	}
	if (tid < 1 || !s->vm || (uint64_t)tid > vm_ncpus(s->vm))
		return -1;
	*cpu = (unsigned)(tid - 1);
	return 0;
}

/* ---- queries ---- */

static void xfer_features(struct gdb_stub *s, const struct gdb_cmd *c)
{
	static char buf[RSP_MAX_PACKET + 2];
	struct gdb_cpu cpu;

	if (strcmp(c->annex, "target.xml")) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	/* The layout follows the mode of the selected vCPU when gdb starts
	 * reading the description (offset 0). */
	if (c->addr == 0 && cpu_of(s, s->g_cpu) && read_cpu(cpu_of(s, s->g_cpu), &cpu, false) == 0)
		s->x64 = gdb_arch_is64(&cpu.sregs);
	const char *xml = gdb_arch_xml(s->x64);
	size_t total = strlen(xml), n;
	if (c->addr >= total) {
		stub_reply(s, "l");
		return;
	}
	n = total - (size_t)c->addr;
	if (n > c->len)
		n = (size_t)c->len;
	if (n > RSP_MAX_PACKET - 1)
		n = RSP_MAX_PACKET - 1;
	buf[0] = c->addr + n >= total ? 'l' : 'm';
	memcpy(buf + 1, xml + c->addr, n);
	stub_send(s, buf, n + 1);
}

static void thread_list(struct gdb_stub *s)
{
	char buf[RSP_MAX_PACKET];
	size_t o = 0;

	buf[o++] = 'm';
	for (unsigned i = 0; s->vm && i < vm_ncpus(s->vm) && o + 12 < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%x", i ? "," : "", i + 1);
	buf[o] = 0;
	stub_reply(s, buf);
}

static void thread_extra(struct gdb_stub *s, const struct gdb_cmd *c)
{
	char text[32], hex[2 * sizeof(text) + 1];
	unsigned cpu;

	if (tid_cpu(s, c->tid, s->g_cpu, &cpu)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	snprintf(text, sizeof(text), "vCPU %u", cpu);
	rsp_hex_encode((const uint8_t *)text, strlen(text), hex);
	stub_reply(s, hex);
}

/* ---- registers ---- */

static void read_regs(struct gdb_stub *s)
{
	static char hex[2 * RSP_MAX_PACKET];
	uint8_t blob[1024];
	struct gdb_cpu c;
	size_t o = 0;

	if (!cpu_of(s, s->g_cpu) || read_cpu(cpu_of(s, s->g_cpu), &c, true)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	for (unsigned i = 0; i < gdb_arch_nregs(s->x64); i++) {
		int n = gdb_arch_get(&c, s->x64, i, blob + o);
		if (n > 0)
			o += (size_t)n;
	}
	rsp_hex_encode(blob, o, hex);
	stub_reply(s, hex);
}

static int write_cpu(struct vcpu *v, const struct gdb_cpu *c, bool fpu)
{
	if (ioctl(v->fd, KVM_SET_REGS, &c->regs) < 0)
		return -errno;
	if (fpu && ioctl(v->fd, KVM_SET_FPU, &c->fpu) < 0)
		return -errno;
	return 0;
}

static void write_regs(struct gdb_stub *s, const struct gdb_cmd *c)
{
	uint8_t blob[1024];
	struct gdb_cpu cpu;
	bool fpu = false;
	size_t o = 0;
	struct vcpu *v = cpu_of(s, s->g_cpu);

	if (!v || c->data_len != gdb_arch_regs_size(s->x64) || c->data_len > sizeof(blob) ||
	    rsp_hex_decode(c->data, c->data_len, blob) || read_cpu(v, &cpu, true)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	for (unsigned i = 0; i < gdb_arch_nregs(s->x64); i++) {
		uint8_t tmp[GDB_REG_MAX_BYTES];
		int n = gdb_arch_get(&cpu, s->x64, i, tmp); /* its size */
		if (n <= 0)
			continue;
		gdb_arch_set(&cpu, s->x64, i, blob + o, (size_t)n, &fpu);
		o += (size_t)n;
	}
	stub_reply(s, write_cpu(v, &cpu, fpu) ? ERR_GENERIC : "OK");
}

static void read_reg(struct gdb_stub *s, const struct gdb_cmd *c)
{
	uint8_t b[GDB_REG_MAX_BYTES];
	char hex[2 * GDB_REG_MAX_BYTES + 1];
	struct gdb_cpu cpu;
	int n;

	if (!cpu_of(s, s->g_cpu) || read_cpu(cpu_of(s, s->g_cpu), &cpu, true) ||
	    (n = gdb_arch_get(&cpu, s->x64, c->regno, b)) < 0) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	rsp_hex_encode(b, (size_t)n, hex);
	stub_reply(s, hex);
}

static void write_reg(struct gdb_stub *s, const struct gdb_cmd *c)
{
	uint8_t b[GDB_REG_MAX_BYTES];
	struct gdb_cpu cpu;
	bool fpu = false;
	struct vcpu *v = cpu_of(s, s->g_cpu);

	if (!v || c->data_len > sizeof(b) || rsp_hex_decode(c->data, c->data_len, b) ||
	    read_cpu(v, &cpu, true) || gdb_arch_set(&cpu, s->x64, c->regno, b, c->data_len, &fpu)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	stub_reply(s, write_cpu(v, &cpu, fpu) ? ERR_GENERIC : "OK");
}

/* ---- memory (guest-virtual, through the selected vCPU's page tables) ---- */

static int phys_read(void *opaque, uint64_t gpa, void *buf, unsigned len)
{
	return gmem_read(opaque, gpa, buf, len);
}

/* Copies up to len bytes at va; returns the bytes done (stops at the first
 * unmapped page or non-RAM address), or -errno if none. */
static long mem_xfer(struct gdb_stub *s, uint64_t va, uint8_t *buf, uint64_t len, bool write)
{
	struct vcpu *v = cpu_of(s, s->g_cpu);
	struct gdb_cpu c;
	uint64_t done = 0;

	if (!v || read_cpu(v, &c, false))
		return -EIO;
	struct gdb_mmu m = { .cr0 = c.sregs.cr0, .cr3 = c.sregs.cr3, .cr4 = c.sregs.cr4,
			     .efer = c.sregs.efer };
	while (done < len) {
		uint64_t gpa, left;
		if (gdb_mmu_translate(&m, va + done, phys_read, vm_guest_mem(s->vm), &gpa, &left))
			break;
		uint64_t n = len - done < left ? len - done : left;
		int r = write ? gmem_write(vm_guest_mem(s->vm), gpa, buf + done, n)
			      : gmem_read(vm_guest_mem(s->vm), gpa, buf + done, n);
		if (r)
			break;
		done += n;
	}
	return done ? (long)done : len ? -EFAULT : 0;
}

static void read_mem(struct gdb_stub *s, const struct gdb_cmd *c)
{
	static uint8_t buf[GDB_MAX_MEM_XFER];
	static char hex[2 * GDB_MAX_MEM_XFER + 1];
	long n = mem_xfer(s, c->addr, buf, c->len, false);

	if (n < 0) {
		stub_reply(s, ERR_FAULT);
		return;
	}
	rsp_hex_encode(buf, (size_t)n, hex);
	stub_reply(s, hex);
}

static void write_mem(struct gdb_stub *s, const struct gdb_cmd *c)
{
	static uint8_t buf[GDB_MAX_MEM_XFER];

	if (rsp_hex_decode(c->data, c->data_len, buf)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	long n = mem_xfer(s, c->addr, buf, c->len, true);
	stub_reply(s, n == (long)c->len ? "OK" : ERR_FAULT);
}

/* ---- breakpoints ---- */

static void breakpoint(struct gdb_stub *s, const struct gdb_cmd *c, bool insert)
{
	enum gdb_bp_type t = (enum gdb_bp_type)c->bp_type;

	if (!insert) {
		gdb_bp_remove(&s->bps, t, c->addr, (unsigned)c->len);
		stub_reply(s, "OK");
		return;
	}
	if (t >= GDB_WP_WRITE && s->pvm) {
		if (!s->warned_watch)
			pr_warn("gdb: watchpoints are unavailable on this PVM host (KVM's instruction "
				"emulator ignores data breakpoints); in gdb, 'set can-use-hw-watchpoints 0' "
				"gives slow software watchpoints");
		s->warned_watch = true;
		stub_reply(s, ERR_NOTSUP);
		return;
	}
	/* Z0 is served by a debug register too: an int3 planted in guest
	 * memory ends in an emulation failure on PVM hosts. */
	if (c->len > 8) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	int r = gdb_bp_insert(&s->bps, t, c->addr, (unsigned)c->len);
	stub_reply(s, r == -ENOSPC ? ERR_NOSPC : r ? ERR_GENERIC : "OK");
}

/* ---- resume ---- */

static void resume_vcont(struct gdb_stub *s, const struct gdb_cmd *c)
{
	char act[VMM_MAX_CPUS] = { 0 };

	for (unsigned i = 0; i < vm_ncpus(s->vm); i++) {
		for (unsigned k = 0; k < c->nvc; k++) {
			int64_t tid = c->vc[k].tid;
			if (tid == GDB_TID_ALL || tid == GDB_TID_ANY || tid == (int64_t)i + 1) {
				act[i] = c->vc[k].action;
				break;
			}
		}
	}
	stub_resume(s, act);
}

static void resume_legacy(struct gdb_stub *s, const struct gdb_cmd *c, bool step)
{
	char act[VMM_MAX_CPUS] = { 0 };
	unsigned cpu = s->c_cpu < vm_ncpus(s->vm) ? s->c_cpu : s->g_cpu;

	if (c->has_addr) {
		struct gdb_cpu st;
		struct vcpu *v = cpu_of(s, cpu);
		if (!v || read_cpu(v, &st, false)) {
			stub_reply(s, ERR_GENERIC);
			return;
		}
		st.regs.rip = c->addr;
		if (write_cpu(v, &st, false)) {
			stub_reply(s, ERR_GENERIC);
			return;
		}
	}
	for (unsigned i = 0; i < vm_ncpus(s->vm); i++)
		act[i] = step ? (i == cpu ? 's' : 0) : 'c';
	stub_resume(s, act);
}

static bool needs_parked(enum gdb_cmd_kind k)
{
	switch (k) {
	case GC_READ_REGS: case GC_WRITE_REGS: case GC_READ_REG: case GC_WRITE_REG:
	case GC_READ_MEM: case GC_WRITE_MEM: case GC_XFER_FEATURES:
	case GC_CONT: case GC_STEP: case GC_VCONT:
		return true;
	default:
		return false;
	}
}

void stub_handle_packet(struct gdb_stub *s, const char *pkt)
{
	struct gdb_cmd c;
	unsigned cpu;
	char buf[160];

	gdb_cmd_parse(pkt, &c);
	if (!s->vm && c.kind != GC_QSUPPORTED && c.kind != GC_NOACK) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	/* vCPU state is only read while every vCPU is parked: an ioctl on a
	 * vCPU inside KVM_RUN would block this (the event loop) thread. gdb
	 * sends nothing but 0x03 while the guest runs; anyone else gets E01. */
	if (!s->parked && needs_parked(c.kind)) {
		stub_reply(s, ERR_GENERIC);
		return;
	}
	switch (c.kind) {
	case GC_UNKNOWN:
		stub_reply(s, "");
		break;
	case GC_MALFORMED:
		stub_reply(s, ERR_GENERIC);
		break;
	case GC_QSUPPORTED:
		snprintf(buf, sizeof(buf), "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
			 "swbreak+;hwbreak+;vContSupported+", RSP_MAX_PACKET);
		stub_reply(s, buf);
		break;
	case GC_NOACK:
		stub_reply(s, "OK");
		s->noack = true;
		break;
	case GC_STOP_REASON:
		stub_reply(s, s->stop_reply);
		break;
	case GC_ATTACHED:
		stub_reply(s, "1");
		break;
	case GC_XFER_FEATURES:
		xfer_features(s, &c);
		break;
	case GC_THREAD_FIRST:
		thread_list(s);
		break;
	case GC_THREAD_NEXT:
		stub_reply(s, "l");
		break;
	case GC_CURRENT_THREAD:
		snprintf(buf, sizeof(buf), "QC%x", s->g_cpu + 1);
		stub_reply(s, buf);
		break;
	case GC_THREAD_EXTRA:
		thread_extra(s, &c);
		break;
	case GC_SET_THREAD:
		if (tid_cpu(s, c.tid, c.thread_op == 'g' ? s->g_cpu : 0, &cpu)) {
			stub_reply(s, ERR_GENERIC);
			break;
		}
		if (c.thread_op == 'g')
			s->g_cpu = cpu;
		else /* Hc-1 / Hc0: every vCPU resumes; c_cpu past the end means "all" */
			s->c_cpu = c.tid == GDB_TID_ALL || c.tid == GDB_TID_ANY ? VMM_MAX_CPUS : cpu;
		stub_reply(s, "OK");
		break;
	case GC_THREAD_ALIVE:
		stub_reply(s, tid_cpu(s, c.tid, 0, &cpu) ? ERR_GENERIC : "OK");
		break;
	case GC_READ_REGS:
		read_regs(s);
		break;
	case GC_WRITE_REGS:
		write_regs(s, &c);
		break;
	case GC_READ_REG:
		read_reg(s, &c);
		break;
	case GC_WRITE_REG:
		write_reg(s, &c);
		break;
	case GC_READ_MEM:
		read_mem(s, &c);
		break;
	case GC_WRITE_MEM:
		write_mem(s, &c);
		break;
	case GC_INSERT_BP:
	case GC_REMOVE_BP:
		breakpoint(s, &c, c.kind == GC_INSERT_BP);
		break;
	case GC_VCONT_QUERY:
		stub_reply(s, "vCont;c;C;s;S");
		break;
	case GC_VCONT:
		resume_vcont(s, &c);
		break;
	case GC_CONT:
	case GC_STEP:
		resume_legacy(s, &c, c.kind == GC_STEP);
		break;
	case GC_DETACH:
		stub_reply(s, "OK");
		pr_info("gdb: debugger detached; the guest runs on");
		s->drop = true; /* stub_end_session resumes the vCPUs */
		break;
	case GC_KILL:
		pr_info("gdb: kill requested: stopping the VM");
		vm_request_stop(s->vm, STOP_QUIT, 0);
		s->drop = true;
		break;
	}
}
