/* virtio 1.x modern PCI transport (virtio 1.2 spec 4.1): interrupts, status
 * and reset, queue configuration, the common config and BAR0. The PCI
 * function itself (capabilities, BARs, eventfds) is virtio_pci_dev.c. */
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_pci_int.h"

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

static uint64_t offered(const struct virtio_pci *vp)
{
	return vp->vd->ops->features | VIRTIO_PCI_TRANSPORT_FEATURES;
}

unsigned vp_nq(const struct virtio_pci *vp)
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
	if (q >= vp_nq(vp) || !vq_need_interrupt(&vd->vq[q]))
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

/* The transport ops take no lock of ours: a device may call them from any
 * thread (virtio.h). */
static void vp_config_changed(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->transport;
	__atomic_add_fetch(&vp->generation, 1, __ATOMIC_ACQ_REL);
	config_irq(vp);
}

/* vd->needs_reset was just set (once per reset cycle, virtio_fail): the
 * status register shows DEVICE_NEEDS_RESET from now on (2.1.2). */
static void vp_needs_reset(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->transport;
	pr_guest("virtio %s: device needs reset", vd->ops->name);
	config_irq(vp);
}

/* A device's work budget ran out: queue the kick again behind whatever else
 * the event loop has to do (signals, stop requests, other devices). */
static bool vp_rekick(struct virtio_dev *vd, unsigned q)
{
	struct virtio_pci *vp = vd->transport;
	uint64_t one = 1;

	if (q >= vp_nq(vp) || vp->q[q].efd < 0)
		return false;
	/* EAGAIN: the counter is saturated, a kick is pending anyway. */
	return write(vp->q[q].efd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN;
}

static int vp_kick_fd(struct virtio_dev *vd, unsigned q)
{
	struct virtio_pci *vp = vd->transport;
	return q < vp_nq(vp) ? vp->q[q].efd : -1;
}

static void vp_signal(struct virtio_dev *vd, unsigned q)
{
	struct virtio_pci *vp = vd->transport;
	if (q >= vp_nq(vp))
		return;
	if (msix_enabled(&vp->msix)) {
		uint16_t vec = __atomic_load_n(&vp->q[q].msix_vector, __ATOMIC_RELAXED);
		if (vec != VIRTIO_MSI_NO_VECTOR)
			msix_notify(&vp->msix, vec);
		return;
	}
	raise_intx(vp, VIRTIO_PCI_ISR_QUEUE);
}

const struct virtio_transport_ops vp_tops = {
	.kick_fd = vp_kick_fd,
	.signal = vp_signal,
	.set_call_fd = vp_set_call_fd,
	.notify_used = vp_notify_used,
	.config_changed = vp_config_changed,
	.needs_reset = vp_needs_reset,
	.rekick = vp_rekick,
};

/* ---- reset / status ---- */

void vp_queue_defaults(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct vp_queue *q = &vp->q[i];
		q->size = i < vp_nq(vp) ? vp->vd->ops->queue_max : 0;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enable = 0;
		q->desc = q->driver = q->device = 0;
	}
}

/* vp->lock held. 4.1.4.3.1: writing 0 to device_status resets the device.
 * Clearing vd->active under vd->lock waits out a running device callback
 * and stops new ones; the device's reset (which may wait for its I/O) runs
 * without vd->lock, so its own threads never block on it. */
static void device_reset(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;

	virtio_dev_lock(vd);
	vd->active = false;
	pthread_mutex_unlock(&vd->lock);
	if (vd->ops->reset)
		vd->ops->reset(vd);
	virtio_dev_lock(vd);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&vd->vq[i]);
	vd->driver_features = 0;
	__atomic_store_n(&vd->needs_reset, false, __ATOMIC_RELEASE);
	vd->report_reset = false;
	pthread_mutex_unlock(&vd->lock);
	vp->drv_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->qsel = 0;
	vp->status = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp_queue_defaults(vp);
	vp_sync_calls(vp);   /* vectors are NO_VECTOR again: relay */
	__atomic_store_n(&vp->isr, 0, __ATOMIC_RELEASE);
	pci_dev_intx(&vp->pci, 0);
}

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
			virtio_dev_lock(vd);
			vd->driver_features = vp->drv_features;
			pthread_mutex_unlock(&vd->lock);
		}
	}
	/* NEEDS_RESET is the device's to set (vd->needs_reset), never the driver's. */
	v &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;
	vp->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		int r = 0;

		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			pr_guest("virtio %s: DRIVER_OK without FEATURES_OK", vd->ops->name);
			r = -EINVAL;
		} else if (vd->ops->activate) {
			r = vd->ops->activate(vd);
		}
		virtio_dev_lock(vd);
		if (r == 0 && !vd->needs_reset)
			vd->active = true;
		else
			virtio_fail(vd);
		virtio_dev_unlock(vd);
		vp_sync_ioeventfds(vp);
	}
}

/* Lock held: 4.1.4.3.2 queue_enable. */
static void queue_enable(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_dev *vd = vp->vd;
	struct vp_queue *q = &vp->q[qi];
	int r = -EINVAL;

	virtio_dev_lock(vd);
	/* 4.1.4.3.2: queue_size is at most the QueueSizeMax we offered. */
	if (q->size <= vd->ops->queue_max)
		r = vq_init(&vd->vq[qi], vd->mem, q->size, q->desc, q->driver, q->device,
			    virtio_has_feature(vd, VIRTIO_F_RING_EVENT_IDX),
			    virtio_has_feature(vd, VIRTIO_F_RING_INDIRECT_DESC));
	if (r) {
		pr_guest("virtio %s: queue %u (size %u, max %u) rejected: %s", vd->ops->name, qi,
			 q->size, vd->ops->queue_max, strerror(-r));
		virtio_fail(vd);
	} else {
		q->enable = 1;
	}
	virtio_dev_unlock(vd);
}

/* ---- common config ---- */

static uint64_t common_read(struct virtio_pci *vp, uint32_t off)
{
	const struct vp_queue *q = vp->qsel < vp_nq(vp) ? &vp->q[vp->qsel] : NULL;
	uint64_t f = offered(vp);

	switch (off) {
	case 0x00: return vp->dfselect;
	case 0x04: return vp->dfselect < 2 ? (uint32_t)(f >> (32 * vp->dfselect)) : 0;
	case 0x08: return vp->gfselect;
	case 0x0c: return vp->gfselect < 2 ? (uint32_t)(vp->drv_features >> (32 * vp->gfselect)) : 0;
	case 0x10: return vp->msix_config;
	case 0x12: return vp_nq(vp);
	case 0x14:
		return vp->status | (__atomic_load_n(&vp->vd->needs_reset, __ATOMIC_ACQUIRE) ?
				     VIRTIO_STATUS_NEEDS_RESET : 0);
	case 0x15: return __atomic_load_n(&vp->generation, __ATOMIC_ACQUIRE);
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
	struct vp_queue *q = vp->qsel < vp_nq(vp) ? &vp->q[vp->qsel] : NULL;
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
		if (q) {
			__atomic_store_n(&q->msix_vector, (uint16_t)v < vp->msix.nvec ?
					 (uint16_t)v : VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
			vp_sync_calls(vp);   /* a back-end's irqfd follows the vector */
		}
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

/* A kick, on the I/O thread (or the vCPU without a loop). Only the device
 * lock: vd->active and the queue's readiness say all the transport state
 * would, so a kick never waits for a vCPU inside the transport (a device
 * reset draining I/O, say). */
void vp_do_notify(struct virtio_pci *vp, unsigned qi)
{
	struct virtio_dev *vd = vp->vd;

	if (qi >= vp_nq(vp) || !vd->ops->queue_notify)
		return;
	virtio_dev_lock(vd);
	if (vd->active && vd->vq[qi].ready && vd->ops->queue_notify(vd, qi) < 0)
		virtio_fail(vd);
	virtio_dev_unlock(vd);
}

void virtio_pci_queue_kick(struct virtio_pci *vp, unsigned q)
{
	vp_do_notify(vp, q);
}

static void bar0_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	const struct virtio_dev_ops *ops = vp->vd->ops;
	uint64_t v = bus_get_le(data, len);

	if (off >= VP_NOTIFY_OFF && off < VP_NOTIFY_OFF + VP_NOTIFY_MULT * vp_nq(vp)) {
		/* No ioeventfd matched (or none registered): hand the kick to the
		 * I/O thread through the queue's eventfd, or run it here. */
		unsigned qi = (unsigned)((off - VP_NOTIFY_OFF) / VP_NOTIFY_MULT);
		uint64_t one = 1;
		if (vp->q[qi].efd >= 0) {
			if (write(vp->q[qi].efd, &one, sizeof(one)) < 0)
				pr_warn_rl("virtio notify eventfd: %s", strerror(errno));
		} else {
			vp_do_notify(vp, qi);
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

