/* virtio 1.x modern PCI transport (virtio 1.2 spec 4.1). */
#include "devices/virtio/virtio_pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/evloop.h"
#include "host/log.h"

#define VIRTIO_PCI_ISR_QUEUE  1
#define VIRTIO_PCI_ISR_CONFIG 2

static uint32_t class_for(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NET:     return 0x020000;
	case VIRTIO_ID_BLOCK:   return 0x010000;
	case VIRTIO_ID_CONSOLE: return 0x078000;
	default:                return 0x00ff00;
	}
}

static uint64_t offered(const struct virtio_pci *vp)
{
	return vp->vd->ops->features | VIRTIO_PCI_TRANSPORT_FEATURES;
}

static unsigned nq(const struct virtio_pci *vp)
{
	unsigned n = vp->vd->ops->num_queues;
	return n < VIRTIO_MAX_QUEUES ? n : VIRTIO_MAX_QUEUES;
}

/* ---- interrupts ---- */

static void raise_intx(struct virtio_pci *vp, uint8_t bit)
{
	__atomic_or_fetch(&vp->isr, bit, __ATOMIC_ACQ_REL);
	pci_dev_intx(&vp->pci, 1);
}

static void vp_notify_used(struct virtio_dev *vd, unsigned q)
{
	struct virtio_pci *vp = vd->transport;
	if (q >= nq(vp) || !vq_need_interrupt(&vd->vq[q]))
		return;
	if (msix_enabled(&vp->msix)) {
		uint16_t vec = __atomic_load_n(&vp->q[q].msix_vector, __ATOMIC_RELAXED);
		if (vec != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vec);
		return;
	}
	raise_intx(vp, VIRTIO_PCI_ISR_QUEUE);
}

static void config_irq(struct virtio_pci *vp)
{
	if (msix_enabled(&vp->msix)) {
		uint16_t vec = __atomic_load_n(&vp->msix_config, __ATOMIC_RELAXED);
		__atomic_or_fetch(&vp->isr, VIRTIO_PCI_ISR_CONFIG, __ATOMIC_ACQ_REL);
		if (vec != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vec);
		return;
	}
	raise_intx(vp, VIRTIO_PCI_ISR_CONFIG);
}

static void vp_config_changed(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->transport;
	pthread_mutex_lock(&vp->lock);
	vp->generation++;
	pthread_mutex_unlock(&vp->lock);
	config_irq(vp);
}

static void vp_needs_reset(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->transport;
	pthread_mutex_lock(&vp->lock);
	bool was = vp->status & VIRTIO_STATUS_NEEDS_RESET;
	/* 2.1.2: only meaningful once the driver is using the device. */
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&vp->lock);
	if (!was) {
		pr_guest("virtio %s: device needs reset", vd->ops->name);
		config_irq(vp);
	}
}

static const struct virtio_transport_ops vp_tops = {
	.notify_used = vp_notify_used,
	.config_changed = vp_config_changed,
	.needs_reset = vp_needs_reset,
};

/* ---- reset / status ---- */

static void queue_defaults(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct vp_queue *q = &vp->q[i];
		q->size = i < nq(vp) ? vp->vd->ops->queue_max : 0;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enable = 0;
		q->desc = q->driver = q->device = 0;
	}
}

/* Lock held. 4.1.4.3.1: writing 0 to device_status resets the device. */
static void device_reset(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;
	if (vd->ops->reset)
		vd->ops->reset(vd);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&vd->vq[i]);
	vd->driver_features = 0;
	vd->broken = false;
	vp->drv_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->qsel = 0;
	vp->status = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	queue_defaults(vp);
	__atomic_store_n(&vp->isr, 0, __ATOMIC_RELEASE);
	pci_dev_intx(&vp->pci, 0);
}

static void vp_sync_ioeventfds(struct virtio_pci *vp);

static void set_status(struct virtio_pci *vp, uint8_t v)
{
	struct virtio_dev *vd = vp->vd;
	uint8_t old = vp->status;

	if (v == 0) {
		device_reset(vp);
		vp_sync_ioeventfds(vp);
		return;
	}
	/* 2.2.2: FEATURES_OK only for a subset of what we offer, with VERSION_1. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if ((vp->drv_features & ~offered(vp)) ||
		    !(vp->drv_features & (1ull << VIRTIO_F_VERSION_1))) {
			pr_guest("virtio %s: driver features 0x%llx refused", vd->ops->name,
				 (unsigned long long)vp->drv_features);
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		} else {
			vd->driver_features = vp->drv_features;
		}
	}
	v = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	vp->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			pr_guest("virtio %s: DRIVER_OK without FEATURES_OK", vd->ops->name);
			virtio_needs_reset(vd);
		} else if (vd->ops->activate && vd->ops->activate(vd) < 0) {
			virtio_needs_reset(vd);
		}
		vp_sync_ioeventfds(vp);
	}
}

/* Lock held: 4.1.4.3.2 queue_enable. */
static void queue_enable(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_dev *vd = vp->vd;
	struct vp_queue *q = &vp->q[qi];
	int r = vq_init(&vd->vq[qi], vd->mem, q->size, q->desc, q->driver, q->device,
			virtio_has_feature(vd, VIRTIO_F_RING_EVENT_IDX),
			virtio_has_feature(vd, VIRTIO_F_RING_INDIRECT_DESC));
	if (r) {
		pr_guest("virtio %s: queue %u rejected: %s", vd->ops->name, qi, strerror(-r));
		virtio_needs_reset(vd);
		return;
	}
	q->enable = 1;
}

/* ---- common config ---- */

static uint64_t common_read(struct virtio_pci *vp, uint32_t off)
{
	const struct vp_queue *q = vp->qsel < nq(vp) ? &vp->q[vp->qsel] : NULL;
	uint64_t f = offered(vp);

	switch (off) {
	case 0x00: return vp->dfselect;
	case 0x04: return vp->dfselect < 2 ? (uint32_t)(f >> (32 * vp->dfselect)) : 0;
	case 0x08: return vp->gfselect;
	case 0x0c: return vp->gfselect < 2 ? (uint32_t)(vp->drv_features >> (32 * vp->gfselect)) : 0;
	case 0x10: return vp->msix_config;
	case 0x12: return nq(vp);
	case 0x14: return vp->status;
	case 0x15: return vp->generation;
	case 0x16: return vp->qsel;
	case 0x18: return q ? q->size : 0;
	case 0x1a: return q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR;
	case 0x1c: return q ? q->enable : 0;
	case 0x1e: return q ? vp->qsel : 0;  /* queue_notify_off */
	case 0x20: return q ? (uint32_t)q->desc : 0;
	case 0x24: return q ? (uint32_t)(q->desc >> 32) : 0;
	case 0x28: return q ? (uint32_t)q->driver : 0;
	case 0x2c: return q ? (uint32_t)(q->driver >> 32) : 0;
	case 0x30: return q ? (uint32_t)q->device : 0;
	case 0x34: return q ? (uint32_t)(q->device >> 32) : 0;
	default:   return 0;
	}
}

static void set_half(uint64_t *p, bool hi, uint32_t v)
{
	*p = hi ? ((*p & 0xffffffffull) | ((uint64_t)v << 32)) : ((*p & ~0xffffffffull) | v);
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint64_t v)
{
	struct vp_queue *q = vp->qsel < nq(vp) ? &vp->q[vp->qsel] : NULL;
	bool features_locked = vp->status & VIRTIO_STATUS_FEATURES_OK;

	switch (off) {
	case 0x00: vp->dfselect = (uint32_t)v; return;
	case 0x08: vp->gfselect = (uint32_t)v; return;
	case 0x0c:
		if (vp->gfselect < 2 && !features_locked)
			set_half(&vp->drv_features, vp->gfselect == 1, (uint32_t)v);
		return;
	case 0x10:
		vp->msix_config = (uint16_t)v < vp->msix.nvec ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
		return;
	case 0x14: set_status(vp, (uint8_t)v); return;
	case 0x16: vp->qsel = (uint16_t)v; return;
	case 0x1a:
		/* Linux sets vectors before enabling; allow later changes too. */
		if (q)
			__atomic_store_n(&q->msix_vector, (uint16_t)v < vp->msix.nvec ?
					 (uint16_t)v : VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
		return;
	}
	/* Queue registers: ignored for a nonexistent or already enabled queue
	 * (4.1.4.3.2: the driver must not change an enabled queue). */
	if (!q || q->enable)
		return;
	switch (off) {
	case 0x18: {
		/* Kept as written: an invalid size (0, not a power of two, above
		 * the maximum) is refused when the queue is enabled, which puts
		 * the device in NEEDS_RESET instead of running the queue at a
		 * size the driver did not lay its rings out for. */
		q->size = (uint16_t)v;
		return;
	}
	case 0x1c:
		if ((uint16_t)v == 1)
			queue_enable(vp, vp->qsel);
		return;
	case 0x20: case 0x24: set_half(&q->desc, off & 4, (uint32_t)v); return;
	case 0x28: case 0x2c: set_half(&q->driver, off & 4, (uint32_t)v); return;
	case 0x30: case 0x34: set_half(&q->device, off & 4, (uint32_t)v); return;
	}
}

/* Field width of each common config register (0 = not a field start). */
static unsigned field_len(uint32_t off)
{
	if (off < 0x10)
		return off % 4 ? 0 : 4;
	if (off < 0x14 || (off >= 0x16 && off < 0x20))
		return off % 2 ? 0 : 2;
	if (off == 0x14 || off == 0x15)
		return 1;
	if (off >= 0x20 && off < VP_COMMON_LEN)
		return off % 4 ? 0 : 4;   /* 64-bit fields: 32-bit halves (4.1.3.1) */
	return 0;
}

/* ---- BAR0 ---- */

static void bar0_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	const struct virtio_dev_ops *ops = vp->vd->ops;
	uint64_t v = 0;

	pthread_mutex_lock(&vp->lock);
	if (off < VP_COMMON_OFF + VP_COMMON_LEN) {
		if (field_len((uint32_t)off) == len)
			v = common_read(vp, (uint32_t)off);
		else if (len == 8 && off >= 0x20 && off % 8 == 0)
			v = common_read(vp, (uint32_t)off) |
			    (common_read(vp, (uint32_t)off + 4) << 32);
	} else if (off == VP_ISR_OFF) {
		/* 4.1.4.5: reading the ISR clears it and deasserts INTx. */
		v = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL);
		pci_dev_intx(&vp->pci, 0);
	} else if (off >= VP_DEVCFG_OFF && off < VP_NOTIFY_OFF) {
		uint64_t o = off - VP_DEVCFG_OFF;
		if (ops->config_read && o < ops->config_size && len <= ops->config_size - o)
			ops->config_read(vp->vd, (uint32_t)o, data, len);
		else
			bus_put_le(data, len, 0);
		pthread_mutex_unlock(&vp->lock);
		return;
	}
	pthread_mutex_unlock(&vp->lock);
	bus_put_le(data, len, v);
}

static void do_notify(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_dev *vd = vp->vd;
	pthread_mutex_lock(&vp->lock);
	if (qi < nq(vp) && vp->q[qi].enable && (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !vd->broken && vd->ops->queue_notify)
		vd->ops->queue_notify(vd, qi);
	pthread_mutex_unlock(&vp->lock);
}

void virtio_pci_queue_kick(struct virtio_pci *vp, unsigned q)
{
	do_notify(vp, q);
}

static void bar0_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	const struct virtio_dev_ops *ops = vp->vd->ops;
	uint64_t v = bus_get_le(data, len);

	if (off >= VP_NOTIFY_OFF && off < VP_NOTIFY_OFF + VP_NOTIFY_MULT * nq(vp)) {
		/* No ioeventfd matched (or none registered): hand the kick to the
		 * I/O thread through the queue's eventfd, or run it here. */
		unsigned qi = (unsigned)((off - VP_NOTIFY_OFF) / VP_NOTIFY_MULT);
		uint64_t one = 1;
		if (vp->q[qi].efd >= 0) {
			if (write(vp->q[qi].efd, &one, sizeof(one)) < 0)
				pr_warn("virtio notify eventfd: %s", strerror(errno));
		} else {
			do_notify(vp, qi);
		}
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < VP_COMMON_OFF + VP_COMMON_LEN) {
		if (field_len((uint32_t)off) == len) {
			common_write(vp, (uint32_t)off, v);
		} else if (len == 8 && off >= 0x20 && off % 8 == 0) {
			common_write(vp, (uint32_t)off, (uint32_t)v);
			common_write(vp, (uint32_t)off + 4, v >> 32);
		}
	} else if (off >= VP_DEVCFG_OFF && off < VP_NOTIFY_OFF) {
		uint64_t o = off - VP_DEVCFG_OFF;
		if (ops->config_write && o < ops->config_size && len <= ops->config_size - o)
			ops->config_write(vp->vd, (uint32_t)o, data, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

const struct bus_ops virtio_pci_bar0_ops = { .read = bar0_read, .write = bar0_write };

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
	if (off < VP_MSIX_PBA_OFF)
		msix_table_write(&vp->msix, off, data, len);
}

const struct bus_ops virtio_pci_msix_ops = { .read = msix_bar_read, .write = msix_bar_write };

/* ---- PCI glue ---- */

static void vp_cfg_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = d->opaque;
	msix_cfg_written(&vp->msix, off, len);
}

/* Registers the queues' notify ioeventfds while the driver runs the device
 * (DRIVER_OK) and BAR0 decodes, and drops them otherwise. KVM's ioeventfd
 * (de)registration waits for an SRCU grace period (milliseconds here), so a
 * guest that never drives the device pays nothing; kicks without an
 * ioeventfd trap to the vCPU, which forwards them to the same eventfd
 * (bar0_write). */
static void vp_sync_ioeventfds(struct virtio_pci *vp)
{
	bool want = vp->bar0_mapped && (vp->status & VIRTIO_STATUS_DRIVER_OK);

	if (vp->vm_fd < 0)
		return;
	for (unsigned i = 0; i < nq(vp); i++) {
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

/* BAR0 moved or its decoding changed (bus lock held). */
static void vp_bar_mapped(struct pci_dev *d, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = d->opaque;
	if (bar != VP_BAR_CFG)
		return;
	vp->bar0_addr = addr;
	vp->bar0_mapped = mapped;
	vp_sync_ioeventfds(vp);
}

static const struct pci_dev_ops vp_pci_ops = {
	.cfg_written = vp_cfg_written,
	.bar_mapped = vp_bar_mapped,
};

static void on_kick(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci *vp = opaque;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	for (unsigned i = 0; i < nq(vp); i++)
		if (vp->q[i].efd == fd)
			do_notify(vp, i);
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
	pthread_mutexattr_t ma;
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
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vp->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	vp->vd = vd;
	vp->bus = p->bus;
	vp->loop = p->loop;
	vp->vm_fd = p->vm_fd;
	vd->tops = &vp_tops;
	vd->transport = vp;
	vd->mem = p->mem;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vp->q[i].efd = -1;
		vq_reset(&vd->vq[i]);
	}
	queue_defaults(vp);

	/* 4.1.2: modern device id 0x1040 + virtio id, revision 1. */
	pci_dev_init(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id),
		     class_for(ops->device_id), 1);
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
			if ((r = evloop_add_fd(p->loop, vp->q[i].efd, EPOLLIN, on_kick, vp))) {
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
		if (vp->loop)
			evloop_del_fd(vp->loop, vp->q[i].efd);
		close(vp->q[i].efd);
	}
	if (vp->kvm_vecs.rt)
		kvm_msi_vecs_destroy(&vp->kvm_vecs);
	msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
