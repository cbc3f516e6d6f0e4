/* KVM's coalesced port I/O and MMIO: writes to registered ranges are queued
 * in a ring shared by all vCPUs instead of exiting, and replayed here in
 * order before any vCPU handles its next exit, as the KVM API requires
 * (Documentation/virt/kvm/api.rst, KVM_REGISTER_COALESCED_MMIO). Used for the
 * PCI CONFIG_ADDRESS port, which every config access writes before it reads
 * CONFIG_DATA: half of the exits of a PCI bus scan go away.
 *
 * Lock order: the ring lock is taken before the bus locks, on vCPU threads
 * only; a bus handler never waits for a vCPU, so replaying under it is safe. */
#ifndef MYVMM_KVM_COALESCED_H
#define MYVMM_KVM_COALESCED_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus;
struct kvm_coalesced_mmio_ring;

struct coalesced {
	struct kvm_coalesced_mmio_ring *ring;   /* NULL: not available */
	uint32_t nentries;
	size_t map_size;
	int vm_fd;
	struct bus *pio, *mmio;
	pthread_mutex_t lock;
	uint64_t replayed;                      /* statistics, under lock */
};

/* Maps the ring through VCPU_FD (any vCPU of the VM). Returns 0, or -errno
 * when the host has no coalesced I/O: the caller then just does without. */
int coalesced_init(struct coalesced *c, int vm_fd, int vcpu_fd, struct bus *pio, struct bus *mmio);
/* Queues writes of [addr, addr + len) instead of exiting (pio: ports). */
int coalesced_add(struct coalesced *c, uint64_t addr, uint32_t len, bool pio);
/* Replays what is queued, in order; cheap when the ring is empty (or C is
 * NULL). */
void coalesced_flush(struct coalesced *c);
void coalesced_destroy(struct coalesced *c);
#endif
