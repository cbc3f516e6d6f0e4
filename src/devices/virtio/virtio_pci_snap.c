/* Snapshots of the virtio-pci transport: the common config registers, the
 * negotiated features, every queue's configuration and ring indices, and the
 * MSI-X table. Loading rebuilds the queues with vq_init at their saved
 * addresses, re-registers ioeventfds and MSI routes, and re-activates the
 * device as DRIVER_OK would. The PCI config space (BARs) is the PCI bus's
 * section, loaded first. */
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_pci_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/log.h"
#include "snapshot/format.h"

static void save_vq(struct sbuf *out, const struct virtqueue *q)
{
	sb_u8(out, q->ready);
	sb_u8(out, q->event_idx);
	sb_u8(out, q->indirect);
	sb_u8(out, q->signalled_valid);
	sb_u8(out, q->kicks_off);
	sb_u16(out, q->size);
	sb_u64(out, q->desc_gpa);
	sb_u64(out, q->avail_gpa);
	sb_u64(out, q->used_gpa);
	sb_u16(out, q->last_avail);
	sb_u16(out, q->used_idx);
	sb_u16(out, q->signalled_used);
}

int virtio_pci_quiesce(struct virtio_pci *vp, char *err, size_t errlen)
{
	struct virtio_dev *vd = vp->vd;
	int r;

	if (vd->ops->own_kicks) {
		snprintf(err, errlen, "%s: its rings are served by a vhost-user back-end, whose "
			 "state myvmm cannot save; snapshots need in-process devices", vd->ops->name);
		return -ENOTSUP;
	}
	if (vd->ops->quiesce && (r = vd->ops->quiesce(vd))) {
		snprintf(err, errlen, "%s: cannot finish its in-flight requests: %s", vd->ops->name,
			 strerror(-r));
		return r;
	}
	return 0;
}

static int vp_save(void *dev, struct sbuf *out)
{
	struct virtio_pci *vp = dev;
	struct virtio_dev *vd = vp->vd;
	unsigned nq = vp_nq(vp);

	pthread_mutex_lock(&vp->lock);
	virtio_dev_lock(vd);
	sb_u32(out, vd->ops->device_id);
	sb_u8(out, (uint8_t)nq);
	sb_u32(out, vp->dfselect);
	sb_u32(out, vp->gfselect);
	sb_u64(out, vp->drv_features);
	sb_u16(out, vp->msix_config);
	sb_u16(out, vp->qsel);
	sb_u8(out, vp->status);
	sb_u8(out, __atomic_load_n(&vp->generation, __ATOMIC_ACQUIRE));
	sb_u8(out, __atomic_load_n(&vp->isr, __ATOMIC_ACQUIRE));
	sb_u64(out, vd->driver_features);
	sb_u8(out, vd->active);
	sb_u8(out, __atomic_load_n(&vd->needs_reset, __ATOMIC_ACQUIRE));
	for (unsigned i = 0; i < nq; i++) {
		const struct vp_queue *q = &vp->q[i];
		sb_u16(out, q->size);
		sb_u16(out, __atomic_load_n(&q->msix_vector, __ATOMIC_RELAXED));
		sb_u16(out, q->enable);
		sb_u64(out, q->desc);
		sb_u64(out, q->driver);
		sb_u64(out, q->device);
		save_vq(out, &vd->vq[i]);
	}
	virtio_dev_unlock(vd);
	pthread_mutex_unlock(&vp->lock);
	msix_save(&vp->msix, out);
	return out->err;
}

struct saved_vq {
	uint8_t ready, event_idx, indirect, signalled_valid, kicks_off;
	uint16_t size, last_avail, used_idx, signalled_used;
	uint64_t desc, avail, used;
};

static void load_vq(struct srd *in, struct saved_vq *s)
{
	s->ready = srd_u8(in);
	s->event_idx = srd_u8(in);
	s->indirect = srd_u8(in);
	s->signalled_valid = srd_u8(in);
	s->kicks_off = srd_u8(in);
	s->size = srd_u16(in);
	s->desc = srd_u64(in);
	s->avail = srd_u64(in);
	s->used = srd_u64(in);
	s->last_avail = srd_u16(in);
	s->used_idx = srd_u16(in);
	s->signalled_used = srd_u16(in);
}

/* A fresh device (reset state, never driven) takes the saved state. Every
 * ring is checked again by vq_init, as when the driver enabled it. */
static int vp_load(void *dev, struct srd *in)
{
	struct virtio_pci *vp = dev;
	struct virtio_dev *vd = vp->vd;
	unsigned nq = vp_nq(vp);
	struct vp_queue q[VIRTIO_MAX_QUEUES];
	struct saved_vq sq[VIRTIO_MAX_QUEUES];
	bool active;
	int r = 0;

	if (srd_u32(in) != vd->ops->device_id || srd_u8(in) != nq)
		return -EINVAL;
	uint32_t dfselect = srd_u32(in), gfselect = srd_u32(in);
	uint64_t drv_features = srd_u64(in);
	uint16_t msix_config = srd_u16(in), qsel = srd_u16(in);
	uint8_t status = srd_u8(in), generation = srd_u8(in), isr = srd_u8(in);
	uint64_t negotiated = srd_u64(in);
	active = srd_u8(in) != 0;
	bool needs_reset = srd_u8(in) != 0;
	memset(q, 0, sizeof(q));
	for (unsigned i = 0; i < nq && !in->bad; i++) {
		q[i].size = srd_u16(in);
		q[i].msix_vector = srd_u16(in);
		q[i].enable = srd_u16(in);
		q[i].desc = srd_u64(in);
		q[i].driver = srd_u64(in);
		q[i].device = srd_u64(in);
		load_vq(in, &sq[i]);
		if (q[i].size > vd->ops->queue_max || (q[i].msix_vector >= vp->msix.nvec &&
						       q[i].msix_vector != VIRTIO_MSI_NO_VECTOR))
			srd_reject(in);
	}
	if (in->bad)
		return -EINVAL;

	pthread_mutex_lock(&vp->lock);
	virtio_dev_lock(vd);
	for (unsigned i = 0; i < nq; i++) {
		struct virtqueue *v = &vd->vq[i];
		vq_reset(v);
		vp->q[i].size = q[i].size;
		vp->q[i].msix_vector = q[i].msix_vector;
		vp->q[i].enable = q[i].enable ? 1 : 0;
		vp->q[i].desc = q[i].desc;
		vp->q[i].driver = q[i].driver;
		vp->q[i].device = q[i].device;
		if (!sq[i].ready)
			continue;
		if ((r = vq_init(v, vd->mem, sq[i].size, sq[i].desc, sq[i].avail, sq[i].used,
				 sq[i].event_idx, sq[i].indirect))) {
			pr_err("snapshot: virtio %s queue %u: saved ring does not fit guest RAM",
			       vd->ops->name, i);
			break;
		}
		v->last_avail = sq[i].last_avail;
		v->used_idx = sq[i].used_idx;
		v->signalled_used = sq[i].signalled_used;
		v->signalled_valid = sq[i].signalled_valid;
		v->kicks_off = sq[i].kicks_off;
	}
	vd->driver_features = negotiated;
	__atomic_store_n(&vd->needs_reset, needs_reset, __ATOMIC_RELEASE);
	vd->active = false; /* set below, after activate */
	virtio_dev_unlock(vd);
	vp->dfselect = dfselect;
	vp->gfselect = gfselect;
	vp->drv_features = drv_features;
	vp->msix_config = msix_config < vp->msix.nvec ? msix_config : VIRTIO_MSI_NO_VECTOR;
	vp->qsel = qsel;
	vp->status = status & (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;
	__atomic_store_n(&vp->generation, generation, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->isr, isr, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vp->lock);
	if (r)
		return -EINVAL;
	msix_load(&vp->msix, in);
	if ((r = srd_end(in)))
		return r;

	/* What DRIVER_OK did when the driver set it. */
	if (active && vd->ops->activate && (r = vd->ops->activate(vd)) < 0)
		return r;
	virtio_dev_lock(vd);
	vd->active = active;
	virtio_dev_unlock(vd);
	pthread_mutex_lock(&vp->lock);
	vp_sync_ioeventfds(vp);
	pthread_mutex_unlock(&vp->lock);
	if (active && vd->ops->restored)
		vd->ops->restored(vd);
	/* Buffers the driver made available before the snapshot (a deferred
	 * rng request, say): look at every live queue once. */
	for (unsigned i = 0; active && i < nq; i++) {
		uint64_t one = 1;
		if (vd->vq[i].ready && vp->q[i].efd >= 0 && !vd->ops->own_kicks &&
		    write(vp->q[i].efd, &one, sizeof(one)) < 0)
			pr_debug("virtio %s: re-kick after restore: %s", vd->ops->name,
				 strerror(errno));
	}
	return 0;
}

const struct snap_dev_ops virtio_pci_snap_ops = {
	.name = "virtio-pci", .tag = SNAP_TAG('v', 'p', 'c', 'i'), .version = 1,
	.save = vp_save, .load = vp_load,
};
