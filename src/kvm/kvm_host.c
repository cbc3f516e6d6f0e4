#include "kvm/kvm_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CPUID_MAX_ENTRIES 256

static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_PIT2, "PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
};

const char *kvm_backend_name(enum kvm_backend b)
{
	switch (b) {
	case KVM_BACKEND_VMX: return "VMX (Intel VT-x)";
	case KVM_BACKEND_SVM: return "SVM (AMD-V)";
	case KVM_BACKEND_PVM: return "PVM (software virtualization)";
	default: return "unknown";
	}
}

static enum kvm_backend detect_backend(void)
{
	if (access("/sys/module/kvm_intel", F_OK) == 0)
		return KVM_BACKEND_VMX;
	if (access("/sys/module/kvm_amd", F_OK) == 0)
		return KVM_BACKEND_SVM;
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return KVM_BACKEND_PVM;
	return KVM_BACKEND_UNKNOWN;
}

int kvm_host_cap(const struct kvm_host *h, long cap)
{
	int r = ioctl(h->fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

int kvm_host_open(struct kvm_host *h, struct err *err)
{
	const char *dev = getenv("MYVMM_KVM_DEV");
	int ret;

	memset(h, 0, sizeof(*h));
	if (!dev || !*dev)
		dev = "/dev/kvm";
	h->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			err_set(err, "%s does not exist: load the KVM module "
				 "(modprobe kvm_intel or kvm_amd) and enable virtualization in the firmware", dev);
		else if (ret == -EACCES || ret == -EPERM)
			err_set(err, "%s: permission denied: add yourself to the "
				 "kvm group (sudo usermod -aG kvm $USER) and log in again", dev);
		else
			err_set(err, "%s: %s", dev, strerror(-ret));
		return ret;
	}
	h->api_version = ioctl(h->fd, KVM_GET_API_VERSION, 0);
	if (h->api_version != KVM_API_VERSION) {
		err_set(err, "%s: KVM API version %d, myvmm needs %d: "
			 "update the host kernel", dev, h->api_version, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (kvm_host_cap(h, required_caps[i].cap) <= 0) {
			err_set(err, "%s: KVM lacks capability KVM_CAP_%s that "
				 "myvmm needs: update the host kernel", dev, required_caps[i].name);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	h->max_vcpus = kvm_host_cap(h, KVM_CAP_MAX_VCPUS);
	if (h->max_vcpus <= 0)
		h->max_vcpus = kvm_host_cap(h, KVM_CAP_NR_VCPUS);
	if (h->max_vcpus <= 0)
		h->max_vcpus = 4;
	h->run_size = ioctl(h->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (h->run_size <= 0) {
		ret = -errno;
		err_set(err, "%s: KVM_GET_VCPU_MMAP_SIZE failed: %s", dev, strerror(errno));
		goto fail;
	}
	h->cpuid = calloc(1, sizeof(*h->cpuid) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!h->cpuid) {
		ret = -ENOMEM;
		err_set(err, "out of memory");
		goto fail;
	}
	h->cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(h->fd, KVM_GET_SUPPORTED_CPUID, h->cpuid) < 0) {
		ret = -errno;
		err_set(err, "%s: KVM_GET_SUPPORTED_CPUID failed: %s", dev, strerror(errno));
		goto fail;
	}
	h->backend = detect_backend();
	return 0;
fail:
	kvm_host_close(h);
	return ret;
}

void kvm_host_close(struct kvm_host *h)
{
	if (h->fd > 0)
		close(h->fd);
	free(h->cpuid);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}
