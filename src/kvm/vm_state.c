/* VM-wide state blobs (see vm_state.h). */
#include "kvm/vm_state.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct vm_blob {
	uint32_t version, has_pit, sz_chip, sz_pit, sz_clock, pad;
	struct kvm_irqchip chip[3];   /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

static void fill_hdr(struct vm_blob *b, bool has_pit)
{
	b->version = VM_STATE_VERSION;
	b->has_pit = has_pit;
	b->sz_chip = sizeof(struct kvm_irqchip);
	b->sz_pit = sizeof(struct kvm_pit_state2);
	b->sz_clock = sizeof(struct kvm_clock_data);
	b->pad = 0;
}

int vm_state_save(int vm_fd, bool has_pit, uint8_t **blob, size_t *len)
{
	struct vm_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	fill_hdr(b, has_pit);
	for (unsigned i = 0; i < 3; i++) {
		b->chip[i].chip_id = i;
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &b->chip[i]) < 0)
			goto fail;
	}
	if (has_pit && ioctl(vm_fd, KVM_GET_PIT2, &b->pit) < 0)
		goto fail;
	if (ioctl(vm_fd, KVM_GET_CLOCK, &b->clock) < 0)
		goto fail;
	*blob = (uint8_t *)b;
	*len = sizeof(*b);
	return 0;
fail:;
	int r = -errno;
	free(b);
	return r;
}

int vm_state_restore(int vm_fd, bool has_pit, const uint8_t *blob, size_t len)
{
	struct vm_blob b, want;

	if (len != sizeof(b))
		return -EINVAL;
	memcpy(&b, blob, sizeof(b));
	fill_hdr(&want, has_pit);
	if (memcmp(&b, &want, offsetof(struct vm_blob, chip)))
		return -EINVAL;
	for (unsigned i = 0; i < 3; i++)
		if (b.chip[i].chip_id != i || ioctl(vm_fd, KVM_SET_IRQCHIP, &b.chip[i]) < 0)
			return b.chip[i].chip_id != i ? -EINVAL : -errno;
	if (has_pit && ioctl(vm_fd, KVM_SET_PIT2, &b.pit) < 0)
		return -errno;
	/* Only the clock value: the flags say how it was read, not how to set it. */
	b.clock.flags = 0;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &b.clock) < 0)
		return -errno;
	return 0;
}
