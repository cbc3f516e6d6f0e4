/* KVM GSI routing, irqfd, ioeventfd and the per-vector MSI sink. */
#include "kvm/irq_routing.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host/log.h"

#define NDEFAULT (15 + 24) /* PIC pins 0-15 except 2, IOAPIC pins 0-23 */

static int commit(struct irq_routing *r)
{
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0)
		return -errno;
	return 0;
}

int irq_routing_init(struct irq_routing *r, int vm_fd)
{
	size_t sz = sizeof(struct kvm_irq_routing) +
		    (NDEFAULT + IRQ_ROUTING_MAX_MSI) * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing_entry *e;
	unsigned n = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	r->table = calloc(1, sz);
	if (!r->table)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	e = r->table->entries;
	/* KVM's default table (kvm_setup_default_irq_routing): replacing the
	 * table replaces these too, so they must be repeated. */
	for (unsigned i = 0; i < 16; i++) {
		if (i == 2)
			continue; /* cascade */
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = i % 8 } };
	}
	for (unsigned i = 0; i < 24; i++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i } };
	r->table->nr = n;
	if ((ret = commit(r))) {
		irq_routing_destroy(r);
		return ret;
	}
	return 0;
}

void irq_routing_destroy(struct irq_routing *r)
{
	if (!r->table)
		return;
	free(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
}

int irq_routing_alloc_msi(struct irq_routing *r, uint32_t *gsi)
{
	int ret = 0;
	pthread_mutex_lock(&r->lock);
	if (r->nmsi >= IRQ_ROUTING_MAX_MSI) {
		ret = -ENOSPC;
	} else {
		uint32_t g = IRQ_ROUTING_FIRST_MSI_GSI + r->nmsi;
		struct kvm_irq_routing_entry *e = &r->table->entries[r->table->nr];
		/* Placeholder MSI until the guest programs the vector. */
		*e = (struct kvm_irq_routing_entry){ .gsi = g, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = 0xfee00000u } };
		r->msi_gsi[r->nmsi++] = g;
		r->table->nr++;
		*gsi = g;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_routing_set_msi(struct irq_routing *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = NDEFAULT; i < r->table->nr; i++) {
		struct kvm_irq_routing_entry *e = &r->table->entries[i];
		if (e->gsi != gsi)
			continue;
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		ret = commit(r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int kvm_irqfd(int vm_fd, int efd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi,
			       .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };
	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_ioeventfd(int vm_fd, int efd, uint64_t addr, uint32_t len, bool mmio, int64_t datamatch,
		  bool assign)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = efd };
	if (!mmio)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch >= 0) {
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		io.datamatch = (uint64_t)datamatch;
	}
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

void kvm_msi_vecs_init(struct kvm_msi_vecs *v, struct irq_routing *rt, unsigned nvec)
{
	memset(v, 0, sizeof(*v));
	v->rt = rt;
	v->nvec = nvec < MSIX_MAX_VECTORS ? nvec : MSIX_MAX_VECTORS;
	for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++)
		v->efd[i] = -1;
}

void kvm_msi_vecs_destroy(struct kvm_msi_vecs *v)
{
	for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++) {
		if (v->efd[i] < 0)
			continue;
		kvm_irqfd(v->rt->vm_fd, v->efd[i], v->gsi[i], false);
		close(v->efd[i]);
		v->efd[i] = -1;
	}
}

static int msi_route(void *opaque, unsigned vec, uint64_t addr, uint32_t data)
{
	struct kvm_msi_vecs *v = opaque;
	int r;

	if (vec >= v->nvec)
		return -EINVAL;
	if (v->efd[vec] < 0) {
		int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0)
			return -errno;
		if ((r = irq_routing_alloc_msi(v->rt, &v->gsi[vec])) ||
		    (r = irq_routing_set_msi(v->rt, v->gsi[vec], addr, data)) ||
		    (r = kvm_irqfd(v->rt->vm_fd, efd, v->gsi[vec], true))) {
			pr_warn_rl("MSI-X vector %u: %s", vec, strerror(-r));
			close(efd);
			return r;
		}
		v->efd[vec] = efd;
		return 0;
	}
	return irq_routing_set_msi(v->rt, v->gsi[vec], addr, data);
}

static void msi_fire(void *opaque, unsigned vec)
{
	struct kvm_msi_vecs *v = opaque;
	uint64_t one = 1;
	if (vec < v->nvec && v->efd[vec] >= 0 && write(v->efd[vec], &one, sizeof(one)) < 0)
		pr_warn_rl("MSI irqfd write: %s", strerror(errno));
}

const struct msi_sink_ops kvm_msi_sink_ops = { .route = msi_route, .fire = msi_fire };
