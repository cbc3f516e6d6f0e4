/* CPUID as the guest sees it: KVM's supported table with per-vCPU APIC IDs
 * and a flat topology (one package, ncpus cores, one thread each). */
#include <cpuid.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>

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

void vcpu_cpuid_host_brand(uint32_t brand[12])
{
	unsigned a, b, c, d;

	memset(brand, 0, 12 * sizeof(brand[0]));
	if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000004u)
		return;
	for (unsigned i = 0; i < 3; i++) {
		__cpuid(0x80000002u + i, a, b, c, d);
		brand[i * 4 + 0] = a;
		brand[i * 4 + 1] = b;
		brand[i * 4 + 2] = c;
		brand[i * 4 + 3] = d;
	}
}

void vcpu_cpuid_fill_brand(struct kvm_cpuid2 *c, const uint32_t brand[12])
{
	struct kvm_cpuid_entry2 *e[3] = { 0 };

	for (uint32_t i = 0; i < c->nent; i++) {
		uint32_t f = c->entries[i].function;
		if (f >= 0x80000002u && f <= 0x80000004u)
			e[f - 0x80000002u] = &c->entries[i];
	}
	for (unsigned i = 0; i < 3; i++)
		if (!e[i] || e[i]->eax || e[i]->ebx || e[i]->ecx || e[i]->edx)
			return; /* absent, or KVM already gave a brand string */
	for (unsigned i = 0; i < 3; i++) {
		e[i]->eax = brand[i * 4 + 0];
		e[i]->ebx = brand[i * 4 + 1];
		e[i]->ecx = brand[i * 4 + 2];
		e[i]->edx = brand[i * 4 + 3];
	}
}
