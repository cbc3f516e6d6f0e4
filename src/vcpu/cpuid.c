/* CPUID as the guest sees it: KVM's supported table with per-vCPU APIC IDs
 * and a flat topology (one package, ncpus cores, one thread each). */
#include <linux/kvm.h>
#include <stdint.h>

#include "vcpu/vcpu.h"

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

void vcpu_cpuid_patch(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	unsigned core_bits = bits_for(ncpus);

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] logical CPUs per package. */
			e->ebx = (e->ebx & 0x0000ffffu) | (id << 24) |
				 ((ncpus > 255 ? 255 : ncpus) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28; /* HTT: the count field is valid */
			e->ecx |= 1u << 31;         /* running under a hypervisor */
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1; [25:14]: sharing threads - 1. */
			e->eax &= 0x3ffu | (0x7u << 5);
			e->eax |= ((1u << core_bits) - 1) << 26;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: level 0 SMT (1 thread), level 1 core. */
			e->edx = id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = core_bits;
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		default:
			break;
		}
	}
}
