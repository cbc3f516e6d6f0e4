/* virtio 1.x PCI transport, modern only (virtio 1.2 spec 4.1).
 *
 * BAR0 (64-bit MMIO, 16 KiB): common config at 0x0000, ISR at 0x1000,
 * device config at 0x2000, notify at 0x3000 (queue q at 0x3000 + 4*q,
 * notify_off_multiplier 4). BAR2 (32-bit MMIO, 4 KiB): MSI-X table at 0,
 * PBA at 0x800. INTx pin A. Notifications go through one eventfd per queue
 * (a KVM ioeventfd when vm_fd >= 0) to the I/O thread, which calls
 * ops->queue_notify; without an evloop they run on the vCPU thread.
 *
 * Locks: vp->lock (a plain mutex) serialises the common config, status
 * changes, resets and ioeventfd registration (also from the PCI bus, whose
 * lock comes first). Kicks take only the device lock. Order: PCI bus lock
 * -> vp->lock -> vd->lock -> device leaf locks (see virtio.h); the transport
 * ops a device calls take none of ours. */
#ifndef MYVMM_VIRTIO_PCI_H
#define MYVMM_VIRTIO_PCI_H
#include <pthread.h>
#include <stdint.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/virtio/virtio.h"
#include "kvm/irq_routing.h"
#include "snapshot/sbuf.h"

struct evloop;

#define VIRTIO_PCI_VENDOR        0x1af4
#define VIRTIO_PCI_DEVICE_BASE   0x1040
#define VIRTIO_PCI_SUBSYS_ID     0x1100
#define VIRTIO_MSI_NO_VECTOR     0xffff

/* Capability cfg_type values (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

#define VP_BAR_CFG        0
#define VP_BAR_MSIX       2
#define VP_BAR_CFG_SIZE   0x4000
#define VP_COMMON_OFF     0x0000
#define VP_COMMON_LEN     0x0038
#define VP_ISR_OFF        0x1000
#define VP_DEVCFG_OFF     0x2000
#define VP_NOTIFY_OFF     0x3000
#define VP_NOTIFY_MULT    4
#define VP_BAR_MSIX_SIZE  0x1000
#define VP_MSIX_PBA_OFF   0x800

struct virtio_pci_params {
	struct pci_bus *bus;
	unsigned slot;                 /* 1..31 */
	const struct guest_mem *mem;
	struct evloop *loop;           /* NULL: notify on the vCPU thread */
	int vm_fd;                     /* >= 0: use KVM ioeventfds */
	struct irq_routing *rt;        /* non-NULL: MSI-X through KVM routes/irqfds */
	const struct msi_sink *msi;    /* used when rt is NULL (tests) */
};

struct vp_queue {
	uint16_t size, msix_vector, enable;
	uint64_t desc, driver, device;
	int efd;                       /* notify eventfd, -1 without an evloop */
	uint64_t ioeventfd_addr;       /* 0: none registered */
	int call_fd;                   /* tops->set_call_fd's efd, -1 */
	bool call_bound;               /* a KVM irqfd on call_gsi (else relayed) */
	uint32_t call_gsi;
};

struct virtio_pci {
	struct pci_dev pci;
	struct msix msix;
	struct kvm_msi_vecs kvm_vecs;
	struct virtio_dev *vd;
	pthread_mutex_t lock;          /* plain; see the lock order above */
	struct pci_bus *bus;
	struct evloop *loop;
	int vm_fd;
	uint32_t dfselect, gfselect;
	uint64_t drv_features;         /* as written by the driver */
	uint16_t msix_config, qsel;
	uint8_t status;                /* without NEEDS_RESET (vd->needs_reset) */
	uint8_t generation;            /* atomic */
	uint8_t isr;                   /* atomic */
	uint64_t bar0_addr;            /* where BAR0 decodes, when bar0_mapped */
	bool bar0_mapped;
	struct vp_queue q[VIRTIO_MAX_QUEUES];
	/* Back-end call fds (virtio_pci_call.c): call_lock guards the q[].call_*
	 * fields; call_ep holds the relayed ones, polled by the event loop. */
	pthread_mutex_t call_lock;
	int call_ep;
	bool call_irqfd_failed;        /* KVM refused an irqfd: relay only */
	unsigned call_logs;            /* --debug lines so far (bounded) */
};

/* Features every device offers through this transport. */
#define VIRTIO_PCI_TRANSPORT_FEATURES ((1ull << VIRTIO_F_VERSION_1) | \
	(1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX))

/* Wraps vd (owned by the caller, must outlive the transport) in a PCI
 * function at p->slot and maps its BARs. Returns 0 or -errno. */
int virtio_pci_create(struct virtio_dev *vd, const struct virtio_pci_params *p,
		      struct virtio_pci **out);
/* Unmaps the BARs, drops ioeventfds/irqfds/eventfds, frees vp. NULL ok. */
void virtio_pci_destroy(struct virtio_pci *vp);
/* BAR0 accessors (also registered on the MMIO bus); exposed for tests. */
extern const struct bus_ops virtio_pci_bar0_ops;
extern const struct bus_ops virtio_pci_msix_ops;
/* Snapshots (virtio_pci_snap.c; opaque: struct virtio_pci *): the common
 * config, features, queues with their ring indices and the MSI-X table.
 * virtio_pci_quiesce first lets the device finish its in-flight requests
 * (-ENOTSUP for a vhost-user device), one line in err. */
extern const struct snap_dev_ops virtio_pci_snap_ops;
int virtio_pci_quiesce(struct virtio_pci *vp, char *err, size_t errlen);
/* Runs queue q's notification as the I/O thread would. */
void virtio_pci_queue_kick(struct virtio_pci *vp, unsigned q);
#endif
