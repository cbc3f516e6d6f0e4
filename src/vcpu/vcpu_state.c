/* vCPU state blobs (see vcpu_state.h). The blob is a header of sizes then
 * KVM's own structs back to back: restore refuses any size that differs
 * from this build's, so a snapshot never restores into a different layout. */
#include "vcpu/vcpu_state.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_MSRS 512

struct blob_hdr {
	uint32_t version;
	uint32_t nmsrs;
	uint32_t sz_regs, sz_sregs, sz_xsave, sz_xcrs, sz_lapic, sz_events, sz_debug, sz_mp;
};

struct fixed {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debug;
	struct kvm_mp_state mp;
};

static void fill_hdr(struct blob_hdr *h, uint32_t nmsrs)
{
	*h = (struct blob_hdr){
		.version = VCPU_STATE_VERSION, .nmsrs = nmsrs,
		.sz_regs = sizeof(struct kvm_regs), .sz_sregs = sizeof(struct kvm_sregs),
		.sz_xsave = sizeof(struct kvm_xsave), .sz_xcrs = sizeof(struct kvm_xcrs),
		.sz_lapic = sizeof(struct kvm_lapic_state),
		.sz_events = sizeof(struct kvm_vcpu_events),
		.sz_debug = sizeof(struct kvm_debugregs), .sz_mp = sizeof(struct kvm_mp_state),
	};
}

static struct kvm_msrs *msrs_alloc(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
	if (m)
		m->nmsrs = n;
	return m;
}

int vcpu_state_msr_list(int kvm_fd, int vcpu_fd, uint32_t **idx, uint32_t *n)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	uint32_t *out, k = 0;
	int r = 0;

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	if (probe.nmsrs == 0 || probe.nmsrs > 4 * MAX_MSRS)
		return -EINVAL;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	out = calloc(probe.nmsrs, sizeof(uint32_t));
	if (!list || !out) {
		r = -ENOMEM;
		goto out;
	}
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		r = -errno;
		goto out;
	}
	/* Keep the MSRs this vCPU actually answers for (KVM_GET_MSRS returns
	 * how many it read, stopping at the first it cannot). */
	for (uint32_t i = 0; i < list->nmsrs && k < MAX_MSRS; i++) {
		struct kvm_msrs *one = msrs_alloc(1);
		if (!one) {
			r = -ENOMEM;
			goto out;
		}
		one->entries[0].index = list->indices[i];
		if (ioctl(vcpu_fd, KVM_GET_MSRS, one) == 1)
			out[k++] = list->indices[i];
		free(one);
	}
	*idx = out;
	*n = k;
	out = NULL;
out:
	free(list);
	free(out);
	return r;
}

int vcpu_state_save(int vcpu_fd, const uint32_t *msrs, uint32_t nmsrs, uint8_t **blob,
		    size_t *len)
{
	struct blob_hdr h;
	struct fixed *f = calloc(1, sizeof(*f));
	struct kvm_msrs *m = NULL;
	uint8_t *b = NULL;
	size_t msr_bytes = (size_t)nmsrs * sizeof(struct kvm_msr_entry);
	int r = 0;

	if (!f)
		return -ENOMEM;
	if (nmsrs > MAX_MSRS) {
		r = -EINVAL;
		goto out;
	}
	if (ioctl(vcpu_fd, KVM_GET_REGS, &f->regs) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_SREGS, &f->sregs) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_XSAVE, &f->xsave) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_LAPIC, &f->lapic) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &f->events) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_MP_STATE, &f->mp) < 0) {
		r = -errno;
		goto out;
	}
	/* Optional on some hosts: zeroed when missing, skipped on restore. */
	if (ioctl(vcpu_fd, KVM_GET_XCRS, &f->xcrs) < 0)
		memset(&f->xcrs, 0, sizeof(f->xcrs));
	if (ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &f->debug) < 0)
		memset(&f->debug, 0, sizeof(f->debug));
	m = msrs_alloc(nmsrs);
	if (!m) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < nmsrs; i++)
		m->entries[i].index = msrs[i];
	if (nmsrs && ioctl(vcpu_fd, KVM_GET_MSRS, m) != (int)nmsrs) {
		r = -EIO;
		goto out;
	}
	fill_hdr(&h, nmsrs);
	*len = sizeof(h) + sizeof(*f) + msr_bytes;
	b = malloc(*len);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), f, sizeof(*f));
	memcpy(b + sizeof(h) + sizeof(*f), m->entries, msr_bytes);
	*blob = b;
out:
	free(f);
	free(m);
	return r;
}

/* KVM_SET_MSRS stops at the first MSR it refuses and returns how many it
 * set. An MSR this host's KVM listed and read but will not take back (a
 * performance counter on some nested hosts) is skipped, and the rest are
 * set; at most MAX_MSRS refusals. */
static int set_msrs(int vcpu_fd, struct kvm_msrs *m)
{
	uint32_t done = 0, total = m->nmsrs, skipped = 0;

	while (done < total) {
		m->nmsrs = total - done;
		int n = ioctl(vcpu_fd, KVM_SET_MSRS, m);
		if (n < 0)
			return -errno;
		if ((uint32_t)n >= m->nmsrs)
			break;
		/* entries[n] was refused: drop it and go on after it. */
		memmove(m->entries, m->entries + n + 1,
			(m->nmsrs - (uint32_t)n - 1) * sizeof(m->entries[0]));
		done += (uint32_t)n + 1;
		if (++skipped > MAX_MSRS)
			return -EIO;
	}
	m->nmsrs = total;
	return 0;
}

int vcpu_state_restore(int vcpu_fd, const uint8_t *blob, size_t len)
{
	struct blob_hdr h, want;
	struct fixed f;
	struct kvm_msrs *m;
	size_t msr_bytes;
	int r = 0;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, blob, sizeof(h));
	fill_hdr(&want, h.nmsrs);
	if (memcmp(&h, &want, sizeof(h)) || h.nmsrs > MAX_MSRS)
		return -EINVAL;
	msr_bytes = (size_t)h.nmsrs * sizeof(struct kvm_msr_entry);
	if (len != sizeof(h) + sizeof(f) + msr_bytes)
		return -EINVAL;
	memcpy(&f, blob + sizeof(h), sizeof(f));
	m = msrs_alloc(h.nmsrs);
	if (!m)
		return -ENOMEM;
	memcpy(m->entries, blob + sizeof(h) + sizeof(f), msr_bytes);
	/* Order: control state before the registers and MSRs that depend on it,
	 * the APIC before pending events that may target it. */
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &f.sregs) < 0 ||
	    ioctl(vcpu_fd, KVM_SET_REGS, &f.regs) < 0 ||
	    ioctl(vcpu_fd, KVM_SET_XSAVE, &f.xsave) < 0 ||
	    (f.xcrs.nr_xcrs && ioctl(vcpu_fd, KVM_SET_XCRS, &f.xcrs) < 0) ||
	    ioctl(vcpu_fd, KVM_SET_LAPIC, &f.lapic) < 0 ||
	    ioctl(vcpu_fd, KVM_SET_MP_STATE, &f.mp) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = set_msrs(vcpu_fd, m)))
		goto out;
	ioctl(vcpu_fd, KVM_SET_DEBUGREGS, &f.debug); /* optional, see save */
	if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &f.events) < 0)
		r = -errno;
out:
	free(m);
	return r;
}
