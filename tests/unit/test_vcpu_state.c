/* vCPU state blobs on real KVM (needs /dev/kvm, fails without): registers,
 * segment state, an MSR and the LAPIC survive a save into one VM and a
 * restore into a fresh one; damaged blobs are refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "check_util.h"
#include "kvm/vm_state.h"
#include "vcpu/vcpu_state.h"

#define MSR_KERNEL_GS_BASE 0xc0000102

static int kvm;

struct vmv {
	int vm, cpu;
};

static struct vmv make_vm(void)
{
	struct vmv v;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	v.vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ck_assert_int_ge(v.vm, 0);
	ck_assert_int_eq(ioctl(v.vm, KVM_CREATE_IRQCHIP, 0), 0);
	v.cpu = ioctl(v.vm, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(v.cpu, 0);
	c->nent = 256;
	ck_assert_int_eq(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c), 0);
	ck_assert_int_eq(ioctl(v.cpu, KVM_SET_CPUID2, c), 0);
	free(c);
	return v;
}

static void drop_vm(struct vmv v)
{
	close(v.cpu);
	close(v.vm);
}

static uint64_t get_msr(int cpu, uint32_t idx)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = { .h.nmsrs = 1, .e.index = idx };
	ck_assert_int_eq(ioctl(cpu, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

START_TEST(save_restore_round_trip)
{
	uint32_t *msrs, n;
	uint8_t *blob;
	size_t len;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_msg(kvm >= 0, "/dev/kvm: %s (KVM tests need it)", strerror(errno));
	struct vmv a = make_vm();

	struct kvm_regs regs;
	ck_assert_int_eq(ioctl(a.cpu, KVM_GET_REGS, &regs), 0);
	regs.rax = 0x1122334455667788ull;
	regs.rip = 0xfff0;
	regs.rflags = 0x2 | 0x200;
	ck_assert_int_eq(ioctl(a.cpu, KVM_SET_REGS, &regs), 0);
	struct kvm_sregs sregs;
	ck_assert_int_eq(ioctl(a.cpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0xf0000;
	sregs.cs.selector = 0xf000;
	ck_assert_int_eq(ioctl(a.cpu, KVM_SET_SREGS, &sregs), 0);
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {
		.h.nmsrs = 1, .e = { .index = MSR_KERNEL_GS_BASE, .data = 0xdeadbeef000ull } };
	ck_assert_int_eq(ioctl(a.cpu, KVM_SET_MSRS, &m), 1);
	struct kvm_lapic_state lapic;
	ck_assert_int_eq(ioctl(a.cpu, KVM_GET_LAPIC, &lapic), 0);
	lapic.regs[0x80] = 0x30; /* TPR */
	ck_assert_int_eq(ioctl(a.cpu, KVM_SET_LAPIC, &lapic), 0);

	ck_assert_int_eq(vcpu_state_msr_list(kvm, a.cpu, &msrs, &n), 0);
	ck_assert_uint_gt(n, 5);
	ck_assert_int_eq(vcpu_state_save(a.cpu, msrs, n, &blob, &len), 0);
	drop_vm(a);

	struct vmv b = make_vm();
	ck_assert_int_eq(vcpu_state_restore(b.cpu, blob, len), 0);
	ck_assert_int_eq(ioctl(b.cpu, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rax, 0x1122334455667788ull);
	ck_assert_uint_eq(regs.rip, 0xfff0);
	ck_assert_int_eq(ioctl(b.cpu, KVM_GET_SREGS, &sregs), 0);
	ck_assert_uint_eq(sregs.cs.base, 0xf0000);
	ck_assert_uint_eq(get_msr(b.cpu, MSR_KERNEL_GS_BASE), 0xdeadbeef000ull);
	ck_assert_int_eq(ioctl(b.cpu, KVM_GET_LAPIC, &lapic), 0);
	ck_assert_uint_eq((uint8_t)lapic.regs[0x80], 0x30);

	/* Damaged or foreign blobs are refused before KVM sees them. */
	ck_assert_int_eq(vcpu_state_restore(b.cpu, blob, len - 1), -EINVAL);
	ck_assert_int_eq(vcpu_state_restore(b.cpu, blob, 8), -EINVAL);
	blob[0] ^= 0xff; /* version */
	ck_assert_int_eq(vcpu_state_restore(b.cpu, blob, len), -EINVAL);
	blob[0] ^= 0xff;
	blob[12] ^= 1;   /* a struct size */
	ck_assert_int_eq(vcpu_state_restore(b.cpu, blob, len), -EINVAL);
	drop_vm(b);
	free(blob);
	free(msrs);
	close(kvm);
}
END_TEST

/* The IOAPIC's redirection table and the clock survive into a fresh VM. */
START_TEST(vm_state_round_trip)
{
	uint8_t *blob;
	size_t len;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_msg(kvm >= 0, "/dev/kvm: %s (KVM tests need it)", strerror(errno));
	struct vmv a = make_vm();
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	ck_assert_int_eq(ioctl(a.vm, KVM_CREATE_PIT2, &pit), 0);
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	ck_assert_int_eq(ioctl(a.vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[5].bits = 0x0000000000008035ull; /* level, vector 0x35, unmasked */
	ck_assert_int_eq(ioctl(a.vm, KVM_SET_IRQCHIP, &chip), 0);
	ck_assert_int_eq(vm_state_save(a.vm, true, &blob, &len), 0);
	drop_vm(a);

	struct vmv b = make_vm();
	ck_assert_int_eq(vm_state_restore(b.vm, false, blob, len), -EINVAL); /* no PIT there */
	ck_assert_int_eq(ioctl(b.vm, KVM_CREATE_PIT2, &pit), 0);
	ck_assert_int_eq(vm_state_restore(b.vm, true, blob, len), 0);
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	ck_assert_int_eq(ioctl(b.vm, KVM_GET_IRQCHIP, &chip), 0);
	ck_assert_uint_eq(chip.chip.ioapic.redirtbl[5].bits & 0xffff, 0x8035);
	ck_assert_int_eq(vm_state_restore(b.vm, true, blob, len - 1), -EINVAL);
	drop_vm(b);
	free(blob);
	close(kvm);
}
END_TEST

CHECK_MAIN_TIMEOUT("vcpu_state", 30, save_restore_round_trip, vm_state_round_trip)
