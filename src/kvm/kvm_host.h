/* The host side of KVM: /dev/kvm, API version, capabilities, backend. */
#ifndef MYVMM_KVM_HOST_H
#define MYVMM_KVM_HOST_H
#include <stdbool.h>
#include <stddef.h>

#include "host/err.h"

enum kvm_backend { KVM_BACKEND_UNKNOWN, KVM_BACKEND_VMX, KVM_BACKEND_SVM, KVM_BACKEND_PVM };

struct kvm_host {
	int fd;
	int api_version;
	int max_vcpus;
	int run_size;            /* KVM_GET_VCPU_MMAP_SIZE */
	enum kvm_backend backend;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, owned */
};

/* Opens /dev/kvm (or $MYVMM_KVM_DEV) and checks everything myvmm needs.
 * On failure returns -errno and one line (problem + fix) in err. */
int kvm_host_open(struct kvm_host *h, struct err *err);
void kvm_host_close(struct kvm_host *h);
const char *kvm_backend_name(enum kvm_backend b);
/* One capability, >0 supported. */
int kvm_host_cap(const struct kvm_host *h, long cap);
#endif
