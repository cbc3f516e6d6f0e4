/* One vCPU's architectural state as KVM holds it, saved to and restored from
 * a byte blob (a snapshot section): registers, segment/control registers,
 * FPU/SSE/AVX (XSAVE), XCR0, the MSRs KVM says it can save, the local APIC,
 * pending exceptions/interrupts/NMIs (vcpu events), debug registers and the
 * multiprocessing state. Works on a vCPU fd; knows nothing of struct vm. */
#ifndef MYVMM_VCPU_STATE_H
#define MYVMM_VCPU_STATE_H
#include <stddef.h>
#include <stdint.h>

#define VCPU_STATE_VERSION 1

/* The MSR indices to save (KVM_GET_MSR_INDEX_LIST on the /dev/kvm fd),
 * filtered to those this vCPU can read. malloc'd into *idx. -errno. */
int vcpu_state_msr_list(int kvm_fd, int vcpu_fd, uint32_t **idx, uint32_t *n);
/* Saves the state of vcpu_fd (stopped: not in KVM_RUN) into a malloc'd blob.
 * msrs: the list from vcpu_state_msr_list. -errno. */
int vcpu_state_save(int vcpu_fd, const uint32_t *msrs, uint32_t nmsrs, uint8_t **blob,
		    size_t *len);
/* Restores a blob into vcpu_fd (created, CPUID set, never run). -EINVAL for a
 * blob of another version or layout, -errno from KVM. */
int vcpu_state_restore(int vcpu_fd, const uint8_t *blob, size_t len);
#endif
