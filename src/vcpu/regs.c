/* Boot-time register state for each entry mode, and the crash dump. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "host/log.h"
#include "machine/pc_map.h"
#include "vcpu/vcpu.h"
#include "kvm/kvm_host.h"
#include "mem/guest_mem.h"

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, int code64)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0,
		.g = 1, .avl = 0,
	};
	return s;
}

int vcpu_set_boot_regs(int fd, const struct boot_entry *e)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool lm = e->mode == BOOT_LINUX64;

	if (e->mode == BOOT_REAL_RESET)
		return 0; /* KVM's reset state: CS:IP = F000:FFF0 */
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = flat_seg(lm ? BOOT_SEL_CODE64 : BOOT_SEL_CODE32, 0xb, lm);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_seg(BOOT_SEL_DATA, 0x3, 0);
	sregs.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = BOOT_SEL_TSS,
					 .type = 0xb, .present = 1, .s = 0 };
	sregs.ldt = (struct kvm_segment){ .selector = 0, .type = 0x2, .present = 1, .unusable = 1 };
	sregs.gdt.base = LAYOUT_BOOT_GDT;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs.idt.base = LAYOUT_BOOT_IDT;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (lm) {
		sregs.cr0 |= CR0_PG;
		sregs.cr3 = e->cr3;
		sregs.cr4 |= CR4_PAE;
		sregs.efer |= EFER_LME | EFER_LMA;
	}
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = e->rip;
	regs.rsp = e->rsp;
	regs.rax = e->rax;
	regs.rbx = e->rbx;
	regs.rsi = e->rsi;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

void vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char code[16 * 3 + 1] = "unavailable";
	struct kvm_run *run = v->run;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vcpu%u: cannot read registers: %s", v->id, strerror(errno));
		return;
	}
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		pr_err("  suberror %u, %u data words%s%llx %llx", run->internal.suberror,
		       run->internal.ndata, run->internal.ndata ? ": " : "",
		       run->internal.ndata > 0 ? (unsigned long long)run->internal.data[0] : 0ULL,
		       run->internal.ndata > 1 ? (unsigned long long)run->internal.data[1] : 0ULL);
	/* The failing instruction: translate CS:RIP through the guest's own page
	 * tables, then read only what lies in guest RAM. */
	struct kvm_translation t = { .linear_address = s.cs.base + r.rip };
	if (ioctl(v->fd, KVM_TRANSLATE, &t) == 0 && t.valid) {
		uint8_t bytes[16];
		size_t n = 0;
		for (; n < sizeof(bytes); n++) {
			const uint8_t *p = gmem_ptr(v->env->mem, t.physical_address + n, 1);
			if (!p)
				break;
			bytes[n] = *p;
		}
		if (n) {
			for (size_t i = 0; i < n; i++)
				sprintf(code + 3 * i, "%02x ", bytes[i]);
			code[3 * n - 1] = 0;
		}
	}
	pr_err("  RIP %016llx  RSP %016llx  RFLAGS %08llx  CS %04x (base %llx)",
	       (unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rflags,
	       s.cs.selector, (unsigned long long)s.cs.base);
	pr_err("  RAX %016llx  RBX %016llx  RCX %016llx  RDX %016llx", (unsigned long long)r.rax,
	       (unsigned long long)r.rbx, (unsigned long long)r.rcx, (unsigned long long)r.rdx);
	pr_err("  CR0 %016llx  CR3 %016llx  CR4 %016llx  EFER %llx", (unsigned long long)s.cr0,
	       (unsigned long long)s.cr3, (unsigned long long)s.cr4, (unsigned long long)s.efer);
	pr_err("  code at RIP: %s", code);
	if (v->env->kvm->backend == KVM_BACKEND_PVM)
		pr_err("hint: this host's KVM is PVM (software virtualization); guests that are not "
		       "PVM-enabled run through KVM's instruction emulator and stop at instructions it "
		       "cannot emulate. Boot a PVM-enabled guest kernel, or use a host with VMX/SVM.");
}
