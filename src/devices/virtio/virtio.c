/* The device side of the virtio lifecycle shared by every device and
 * transport (see virtio.h for the rules and the lock order). */
#include "devices/virtio/virtio.h"

#include <string.h>

void virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *priv)
{
	vd->ops = ops;
	vd->priv = priv;
	pthread_mutex_init(&vd->lock, NULL);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&vd->vq[i]);
}

void virtio_dev_cleanup(struct virtio_dev *vd)
{
	pthread_mutex_destroy(&vd->lock);
}

void virtio_fail(struct virtio_dev *vd)
{
	vd->active = false;
	if (!__atomic_load_n(&vd->needs_reset, __ATOMIC_RELAXED)) {
		__atomic_store_n(&vd->needs_reset, true, __ATOMIC_RELEASE);
		vd->report_reset = true;
	}
}

void virtio_dev_unlock(struct virtio_dev *vd)
{
	bool report = vd->report_reset;

	vd->report_reset = false;
	pthread_mutex_unlock(&vd->lock);
	/* Outside the device lock: the transport may take its own. */
	if (report && vd->tops && vd->tops->needs_reset)
		vd->tops->needs_reset(vd);
}

bool virtio_dev_rekick(struct virtio_dev *vd, unsigned q)
{
	return vd->tops && vd->tops->rekick && vd->tops->rekick(vd, q);
}
