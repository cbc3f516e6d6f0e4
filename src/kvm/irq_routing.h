/* KVM interrupt plumbing: the GSI routing table (default irqchip routes for
 * GSIs 0-23 plus MSI routes), irqfds and ioeventfds, and an msi_sink that
 * gives each MSI-X vector its own GSI + irqfd. Thread-safe (one mutex). */
#ifndef MYVMM_IRQ_ROUTING_H
#define MYVMM_IRQ_ROUTING_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/msix.h"

#define IRQ_ROUTING_MAX_MSI 256
#define IRQ_ROUTING_FIRST_MSI_GSI 24

struct kvm_irq_routing;

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	struct kvm_irq_routing *table;   /* irqchip routes + MSI routes */
	unsigned nmsi;
	uint32_t msi_gsi[IRQ_ROUTING_MAX_MSI];
};

/* Installs the default routes (PIC 0-15 except 2, IOAPIC 0-23). */
int irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_destroy(struct irq_routing *r);
/* Allocates a GSI (>= 24) for an MSI route; -ENOSPC when full. */
int irq_routing_alloc_msi(struct irq_routing *r, uint32_t *gsi);
/* Points an allocated MSI GSI at (addr, data) and commits the table. */
int irq_routing_set_msi(struct irq_routing *r, uint32_t gsi, uint64_t addr, uint32_t data);

/* KVM_IRQFD: efd raises gsi when written (edge/MSI). */
int kvm_irqfd(int vm_fd, int efd, uint32_t gsi, bool assign);
/* KVM_IOEVENTFD: a guest write of len bytes (0 = any, if supported) at addr
 * signals efd instead of exiting; datamatch < 0 means any value. */
int kvm_ioeventfd(int vm_fd, int efd, uint64_t addr, uint32_t len, bool mmio, int64_t datamatch,
		  bool assign);

/* One device's MSI-X vectors in KVM: a GSI, eventfd and irqfd per vector
 * (created on first route); delivery writes the eventfd. */
struct kvm_msi_vecs {
	struct irq_routing *rt;
	unsigned nvec;
	uint32_t gsi[MSIX_MAX_VECTORS];
	int efd[MSIX_MAX_VECTORS];   /* -1 until routed */
};
extern const struct msi_sink_ops kvm_msi_sink_ops;
void kvm_msi_vecs_init(struct kvm_msi_vecs *v, struct irq_routing *rt, unsigned nvec);
/* Deassigns the irqfds and closes the eventfds. */
void kvm_msi_vecs_destroy(struct kvm_msi_vecs *v);
#endif
