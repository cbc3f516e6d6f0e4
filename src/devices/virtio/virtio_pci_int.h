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
/* virtio_pci_call.c: back-end call fds (tops->set_call_fd). */
int vp_calls_init(struct virtio_pci *vp);
void vp_calls_destroy(struct virtio_pci *vp);
int vp_set_call_fd(struct virtio_dev *vd, unsigned q, int efd);
/* Re-decides irqfd vs relay for every call fd (after an MSI-X or vector
 * change); vp_calls_unbind first relays them all (before a change that may
 * mask a vector, so KVM never delivers a masked one). No vp lock needed. */
void vp_sync_calls(struct virtio_pci *vp);
void vp_calls_unbind(struct virtio_pci *vp);
#endif
