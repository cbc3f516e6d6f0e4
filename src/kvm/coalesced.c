#include "kvm/coalesced.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/bus.h"

int coalesced_init(struct coalesced *c, int vm_fd, int vcpu_fd, struct bus *pio, struct bus *mmio)
{
	long page = sysconf(_SC_PAGESIZE);

	memset(c, 0, sizeof(*c));
	c->vm_fd = vm_fd;
	c->pio = pio;
	c->mmio = mmio;
	pthread_mutex_init(&c->lock, NULL);
	/* The answer is the ring's page offset in the vCPU mapping. */
	int off = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (off <= 0 || ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 || page <= 0)
		return -ENOTSUP;
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd,
		       (off_t)off * page);
	if (p == MAP_FAILED)
		return -errno;
	c->ring = p;
	c->map_size = (size_t)page;
	c->nentries = (uint32_t)(((size_t)page - sizeof(struct kvm_coalesced_mmio_ring)) /
				 sizeof(struct kvm_coalesced_mmio));
	return 0;
}

int coalesced_add(struct coalesced *c, uint64_t addr, uint32_t len, bool pio)
{
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = len, .pio = pio ? 1 : 0 };

	if (!c->ring)
		return -ENOTSUP;
	return ioctl(c->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0 ? -errno : 0;
}

void coalesced_flush(struct coalesced *c)
{
	struct kvm_coalesced_mmio_ring *r = c ? c->ring : NULL;

	if (!r)
		return;
	/* first advances only after an entry was replayed, so an empty ring
	 * seen here means every queued write has taken effect. */
	if (__atomic_load_n(&r->first, __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	for (uint32_t n = 0; n < c->nentries; n++) { /* bounded: one lap at most */
		uint32_t first = __atomic_load_n(&r->first, __ATOMIC_RELAXED);
		if (first == __atomic_load_n(&r->last, __ATOMIC_ACQUIRE) || first >= c->nentries)
			break;
		struct kvm_coalesced_mmio e = r->coalesced_mmio[first];
		if (e.len >= 1 && e.len <= sizeof(e.data))
			bus_access(e.pio ? c->pio : c->mmio, e.phys_addr, e.data, e.len, true);
		c->replayed++;
		__atomic_store_n(&r->first, (first + 1) % c->nentries, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&c->lock);
}

void coalesced_destroy(struct coalesced *c)
{
	if (c->ring)
		munmap(c->ring, c->map_size);
	c->ring = NULL;
	pthread_mutex_destroy(&c->lock);
}
