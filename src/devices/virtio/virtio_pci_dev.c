/* The virtio-pci function (virtio 1.2 spec 4.1.2-4.1.4): the MSI-X BAR,
 * vendor capabilities, notify eventfds and KVM ioeventfds, create and
 * destroy. The register state machine is virtio_pci.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_pci_int.h"
#include "host/evloop.h"
#include "host/log.h"

static uint32_t vp_class_for(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NET:     return 0x020000;
	case VIRTIO_ID_BLOCK:   return 0x010000;
	case VIRTIO_ID_CONSOLE: return 0x078000;
	default:                return 0x00ff00;
	}
}

static void msix_bar_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	if (off < VP_MSIX_PBA_OFF)
		msix_table_read(&vp->msix, off, data, len);
	else
		msix_pba_read(&vp->msix, off - VP_MSIX_PBA_OFF, data, len);
}

static void msix_bar_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	if (off >= VP_MSIX_PBA_OFF)
		return;
	/* A write to a vector control word may mask it: KVM must stop
	 * raising it from a back-end's call fd first (virtio_pci_call.c). */
	if ((off % MSIX_ENTRY_SIZE) + len > 12)
		vp_calls_unbind(vp);
	msix_table_write(&vp->msix, off, data, len);
	vp_sync_calls(vp);
}

const struct bus_ops virtio_pci_msix_ops = { .read = msix_bar_read, .write = msix_bar_write };

/* ---- PCI glue ---- */

/* Setting Function Mask or clearing MSI-X Enable must stop KVM raising a
 * vector from a back-end's call fd before it lands, like a table write
 * that may mask a vector (msix_bar_write); vp_cfg_written rebinds. */
static void vp_cfg_will_write(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = d->opaque;
	if (msix_cfg_touches_control(&vp->msix, off, len))
		vp_calls_unbind(vp);
}

static void vp_cfg_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = d->opaque;
	msix_cfg_written(&vp->msix, off, len);
	vp_sync_calls(vp);   /* MSI-X enable / function mask */
}

/* Registers the queues' notify ioeventfds while the driver runs the device
 * (DRIVER_OK) and BAR0 decodes, and drops them otherwise. KVM's ioeventfd
 * (de)registration waits for an SRCU grace period (milliseconds here), so a
 * guest that never drives the device pays nothing; kicks without an
 * ioeventfd trap to the vCPU, which forwards them to the same eventfd
 * (bar0_write). */
void vp_sync_ioeventfds(struct virtio_pci *vp)
{
	bool want = vp->bar0_mapped && (vp->status & VIRTIO_STATUS_DRIVER_OK);

	if (vp->vm_fd < 0)
		return;
	for (unsigned i = 0; i < vp_nq(vp); i++) {
		struct vp_queue *q = &vp->q[i];
		uint64_t a = vp->bar0_addr + VP_NOTIFY_OFF + VP_NOTIFY_MULT * i;
		if (q->efd < 0 || (want && q->ioeventfd_addr == a) || (!want && !q->ioeventfd_addr))
			continue;
		if (q->ioeventfd_addr) {
			kvm_ioeventfd(vp->vm_fd, q->efd, q->ioeventfd_addr, 2, true, -1, false);
			q->ioeventfd_addr = 0;
		}
		if (want) {
			int r = kvm_ioeventfd(vp->vm_fd, q->efd, a, 2, true, -1, true);
			if (r == 0)
				q->ioeventfd_addr = a;
			else
				pr_debug("ioeventfd at 0x%llx: %s (kicks trap instead)",
					 (unsigned long long)a, strerror(-r));
		}
	}
}

/* BAR0 moved or its decoding changed (PCI bus lock held; bus lock ->
 * vp->lock). vp->lock also covers set_status, so the ioeventfds always
 * match the latest BAR address and status (issue 10 finding 10). */
static void vp_bar_mapped(struct pci_dev *d, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = d->opaque;
	if (bar != VP_BAR_CFG)
		return;
	pthread_mutex_lock(&vp->lock);
	vp->bar0_addr = addr;
	vp->bar0_mapped = mapped;
	vp_sync_ioeventfds(vp);
	pthread_mutex_unlock(&vp->lock);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_will_write = vp_cfg_will_write,
	.cfg_written = vp_cfg_written,
	.bar_mapped = vp_bar_mapped,
};

static void on_kick(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci *vp = opaque;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	for (unsigned i = 0; i < vp_nq(vp); i++)
		if (vp->q[i].efd == fd)
			vp_do_notify(vp, i);
}

static void add_vcap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len, uint8_t caplen)
{
	int c = pci_dev_add_cap(d, PCI_CAP_ID_VNDR, caplen);
	if (c < 0)
		return;
	/* struct virtio_pci_cap (4.1.4): len, cfg_type, bar, id, pad, offset, length. */
	pci_cfg_set(d, c + 2, 1, caplen);
	pci_cfg_set(d, c + 3, 1, type);
	pci_cfg_set(d, c + 4, 1, VP_BAR_CFG);
	pci_cfg_set(d, c + 8, 4, off);
	pci_cfg_set(d, c + 12, 4, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		pci_cfg_set(d, c + 16, 4, VP_NOTIFY_MULT);
}

int virtio_pci_create(struct virtio_dev *vd, const struct virtio_pci_params *p,
		      struct virtio_pci **out)
{
	const struct virtio_dev_ops *ops = vd->ops;
	struct virtio_pci *vp;
	struct msi_sink sink;
	int r;

	if (ops->num_queues == 0 || ops->num_queues > VIRTIO_MAX_QUEUES ||
	    ops->config_size > VP_NOTIFY_OFF - VP_DEVCFG_OFF || !ops->queue_max ||
	    (ops->queue_max & (ops->queue_max - 1)) || ops->queue_max > VQ_MAX_SIZE ||
	    (!p->rt && !p->msi))
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	pthread_mutex_init(&vp->lock, NULL);
	vp->vd = vd;
	vp->bus = p->bus;
	vp->loop = p->loop;
	vp->vm_fd = p->vm_fd;
	vd->tops = &vp_tops;
	vd->transport = vp;
	vd->mem = p->mem;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->q[i].efd = -1;
	vp_queue_defaults(vp);
	if ((r = vp_calls_init(vp))) {
		vp->bus = NULL;
		virtio_pci_destroy(vp);
		return r;
	}

	/* 4.1.2: modern device id 0x1040 + virtio id, revision 1. */
	pci_dev_init(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id),
		     vp_class_for(ops->device_id), 1);
	pci_cfg_set(&vp->pci, PCI_SUBSYSTEM_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
	pci_cfg_set(&vp->pci, PCI_SUBSYSTEM_ID, 2, VIRTIO_PCI_SUBSYS_ID);
	pci_dev_set_pin(&vp->pci, 1);
	vp->pci.ops = &vp_pci_ops;
	vp->pci.opaque = vp;
	if ((r = pci_dev_set_bar(&vp->pci, VP_BAR_CFG, PCI_BAR_MEM64, VP_BAR_CFG_SIZE,
				 &virtio_pci_bar0_ops, vp, ops->name)) ||
	    (r = pci_dev_set_bar(&vp->pci, VP_BAR_MSIX, PCI_BAR_MEM32, VP_BAR_MSIX_SIZE,
				 &virtio_pci_msix_ops, vp, "virtio-msix")))
		goto fail;
	add_vcap(&vp->pci, VIRTIO_PCI_CAP_COMMON_CFG, VP_COMMON_OFF, VP_COMMON_LEN, 16);
	add_vcap(&vp->pci, VIRTIO_PCI_CAP_NOTIFY_CFG, VP_NOTIFY_OFF,
		 VP_NOTIFY_MULT * ops->num_queues, 20);
	add_vcap(&vp->pci, VIRTIO_PCI_CAP_ISR_CFG, VP_ISR_OFF, 1, 16);
	if (ops->config_size)
		add_vcap(&vp->pci, VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVCFG_OFF, ops->config_size, 16);
	if (p->rt) {
		kvm_msi_vecs_init(&vp->kvm_vecs, p->rt, ops->num_queues + 1);
		sink = (struct msi_sink){ .ops = &kvm_msi_sink_ops, .opaque = &vp->kvm_vecs };
	} else {
		vp->kvm_vecs.rt = NULL;
		sink = *p->msi;
	}
	if ((r = msix_init(&vp->msix, &vp->pci, ops->num_queues + 1, VP_BAR_MSIX, 0,
			   VP_MSIX_PBA_OFF, &sink)))
		goto fail;
	if (p->loop) {
		for (unsigned i = 0; i < ops->num_queues; i++) {
			vp->q[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (vp->q[i].efd < 0) {
				r = -errno;
				goto fail;
			}
			if (!ops->own_kicks &&
			    (r = evloop_add_fd(p->loop, vp->q[i].efd, EPOLLIN, on_kick, vp))) {
				close(vp->q[i].efd);
				vp->q[i].efd = -1;
				goto fail;
			}
		}
	}
	if ((r = pci_bus_add(p->bus, p->slot, &vp->pci)))
		goto fail;
	*out = vp;
	return 0;
fail:
	vp->bus = NULL; /* not on the bus */
	virtio_pci_destroy(vp);
	return r;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->bus)
		pci_bus_unmap_dev(vp->bus, &vp->pci);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vp->q[i].efd < 0)
			continue;
		if (vp->loop && !vp->vd->ops->own_kicks)
			evloop_del_fd(vp->loop, vp->q[i].efd);
		close(vp->q[i].efd);
	}
	vp_calls_destroy(vp);
	if (vp->kvm_vecs.rt)
		kvm_msi_vecs_destroy(&vp->kvm_vecs);
	msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
