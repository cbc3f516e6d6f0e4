/* Queue interrupts a device's back-end raises itself (vhost-user: the
 * back-end writes the call eventfd it was given with SET_VRING_CALL).
 *
 * While the queue's MSI-X vector can deliver (MSI-X on, function and vector
 * unmasked, message routed to its GSI), the eventfd is a KVM irqfd on that
 * vector's GSI: completions go back-end -> KVM -> guest with no myvmm thread.
 * Otherwise (INTx, masked vector, no vector, KVM refused the irqfd) the
 * eventfd sits in call_ep, which the event loop polls, and a write is
 * relayed into the queue's interrupt (tops->signal: msix_notify sets the
 * pending bit of a masked vector; INTx raises the ISR). A message change
 * needs no re-binding (the GSI stays the vector's; its route is updated).
 *
 * Ordering: binding assigns the irqfd before leaving call_ep, unbinding
 * deassigns (KVM waits until no injection is in flight) before joining it,
 * so a write is never lost; in between, one write may take either path, and
 * either path delivers it once. A table write that may mask a vector, and a
 * config write to MSI-X Enable / Function Mask, unbind everything first
 * (vp_calls_unbind), so a masked vector is never raised by KVM. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_pci_int.h"
#include "host/evloop.h"
#include "host/log.h"

static void on_calls(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci *vp = opaque;
	struct epoll_event ev[VIRTIO_MAX_QUEUES];
	int n = epoll_wait(vp->call_ep, ev, VIRTIO_MAX_QUEUES, 0);

	for (int i = 0; i < n; i++) {
		unsigned q = ev[i].data.u32;
		uint64_t v;
		int efd;
		if (q >= vp_nq(vp))
			continue;
		pthread_mutex_lock(&vp->call_lock);
		efd = vp->q[q].call_fd;
		pthread_mutex_unlock(&vp->call_lock);
		if (efd >= 0 && read(efd, &v, sizeof(v)) == sizeof(v))
			vp->vd->tops->signal(vp->vd, q);
	}
}

int vp_calls_init(struct virtio_pci *vp)
{
	int r;

	pthread_mutex_init(&vp->call_lock, NULL);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->q[i].call_fd = -1;
	vp->call_ep = -1;
	if (!vp->loop || !vp->vd->ops->own_kicks)
		return 0;
	vp->call_ep = epoll_create1(EPOLL_CLOEXEC);
	if (vp->call_ep < 0)
		return -errno;
	if ((r = evloop_add_fd(vp->loop, vp->call_ep, EPOLLIN, on_calls, vp))) {
		close(vp->call_ep);
		vp->call_ep = -1;
	}
	return r;
}

/* call_lock held: the GSI queue q's interrupt goes to directly, or -1. */
static int64_t direct_gsi(struct virtio_pci *vp, unsigned q)
{
	uint16_t vec = __atomic_load_n(&vp->q[q].msix_vector, __ATOMIC_RELAXED);

	if (vp->call_irqfd_failed || vp->vm_fd < 0 || !vp->kvm_vecs.rt ||
	    vec == VIRTIO_MSI_NO_VECTOR || vec >= vp->kvm_vecs.nvec || vp->kvm_vecs.efd[vec] < 0 ||
	    !msix_vector_deliverable(&vp->msix, vec))
		return -1;
	return vp->kvm_vecs.gsi[vec];
}

static void relay(struct virtio_pci *vp, unsigned q, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = q };
	if (vp->call_ep >= 0 && epoll_ctl(vp->call_ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
					   vp->q[q].call_fd, &ev) && errno != EEXIST && errno != ENOENT)
		pr_warn_rl("virtio %s: queue %u call fd: epoll: %s", vp->vd->ops->name, q,
			   strerror(errno));
}

/* --debug: the first transitions (a guest may toggle a mask forever). */
static void note(struct virtio_pci *vp, unsigned q, const char *how, int64_t gsi)
{
	if (vp->call_logs < 32) {
		vp->call_logs++;
		pr_debug("virtio %s: queue %u interrupts from the back-end: %s %lld", vp->vd->ops->name,
			 q, how, (long long)gsi);
	}
}

/* call_lock held. */
static void unbind(struct virtio_pci *vp, unsigned q)
{
	struct vp_queue *vq = &vp->q[q];

	if (!vq->call_bound)
		return;
	kvm_irqfd(vp->vm_fd, vq->call_fd, vq->call_gsi, false);
	vq->call_bound = false;
	relay(vp, q, true);
	note(vp, q, "relayed by myvmm, was KVM irqfd on GSI", vq->call_gsi);
}

/* call_lock held. */
static void sync_one(struct virtio_pci *vp, unsigned q)
{
	struct vp_queue *vq = &vp->q[q];
	int64_t gsi;
	int r;

	if (vq->call_fd < 0)
		return;
	gsi = direct_gsi(vp, q);
	if (vq->call_bound && gsi != (int64_t)vq->call_gsi)
		unbind(vp, q);
	if (vq->call_bound || gsi < 0)
		return;
	if ((r = kvm_irqfd(vp->vm_fd, vq->call_fd, (uint32_t)gsi, true))) {
		/* Relaying still works: say so once per device. */
		vp->call_irqfd_failed = true;
		pr_warn("virtio %s: KVM_IRQFD for the back-end's interrupts failed (%s); relaying "
			"them through myvmm", vp->vd->ops->name, strerror(-r));
		return;
	}
	vq->call_bound = true;
	vq->call_gsi = (uint32_t)gsi;
	relay(vp, q, false);
	note(vp, q, "KVM irqfd on GSI", gsi);
}

void vp_sync_calls(struct virtio_pci *vp)
{
	if (vp->call_ep < 0)
		return;
	pthread_mutex_lock(&vp->call_lock);
	for (unsigned q = 0; q < vp_nq(vp); q++)
		sync_one(vp, q);
	pthread_mutex_unlock(&vp->call_lock);
}

void vp_calls_unbind(struct virtio_pci *vp)
{
	if (vp->call_ep < 0)
		return;
	pthread_mutex_lock(&vp->call_lock);
	for (unsigned q = 0; q < vp_nq(vp); q++)
		unbind(vp, q);
	pthread_mutex_unlock(&vp->call_lock);
}

int vp_set_call_fd(struct virtio_dev *vd, unsigned q, int efd)
{
	struct virtio_pci *vp = vd->transport;

	if (q >= vp_nq(vp) || vp->call_ep < 0)
		return -EINVAL;
	pthread_mutex_lock(&vp->call_lock);
	if (vp->q[q].call_fd != efd) {
		if (vp->q[q].call_fd >= 0) {
			unbind(vp, q);
			relay(vp, q, false);
		}
		vp->q[q].call_fd = efd;
		if (efd >= 0) {
			relay(vp, q, true);
			sync_one(vp, q);
		}
	}
	pthread_mutex_unlock(&vp->call_lock);
	return 0;
}

void vp_calls_destroy(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vp->q[q].call_fd >= 0 && vp->q[q].call_bound)
			kvm_irqfd(vp->vm_fd, vp->q[q].call_fd, vp->q[q].call_gsi, false);
	if (vp->call_ep >= 0) {
		evloop_del_fd(vp->loop, vp->call_ep);
		close(vp->call_ep);
	}
	pthread_mutex_destroy(&vp->call_lock);
}
