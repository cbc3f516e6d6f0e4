/* Shared between virtio_pci.c (registers, status, reset) and
 * virtio_pci_dev.c (the PCI function, eventfds, create/destroy). */
#ifndef MYVMM_VIRTIO_PCI_INT_H
#define MYVMM_VIRTIO_PCI_INT_H
#include "devices/virtio/virtio_pci.h"

extern const struct virtio_transport_ops vp_tops;
unsigned vp_nq(const struct virtio_pci *vp);
/* Queue registers to their reset values. */
void vp_queue_defaults(struct virtio_pci *vp);
/* A kick of queue qi (device lock only). */
void vp_do_notify(struct virtio_pci *vp, unsigned qi);
/* vp->lock held: (de)registers the notify ioeventfds to match the BAR0
 * address and DRIVER_OK. */
void vp_sync_ioeventfds(struct virtio_pci *vp);
#endif
