/* MSI-X (PCI 3.0 6.8.2): the capability in config space, the vector table
 * and the pending-bit array, which the owner maps in one of its BARs.
 * Delivery goes through an injected msi_sink (KVM routes + irqfds in
 * production, a recorder in tests). Thread-safe: an internal mutex guards
 * the table; the sink is called with it held. */
#ifndef MYVMM_MSIX_H
#define MYVMM_MSIX_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "snapshot/sbuf.h"

struct pci_dev;

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_MASKALL  0x4000
#define MSIX_VECTOR_MASKED 1

struct msi_sink_ops {
	/* Vector vec will deliver message (addr, data); called when it is
	 * unmasked with MSI-X enabled and whenever that message changes. 0 or -errno. */
	int (*route)(void *opaque, unsigned vec, uint64_t addr, uint32_t data);
	/* Deliver vector vec (already routed). */
	void (*fire)(void *opaque, unsigned vec);
};

struct msi_sink {
	const struct msi_sink_ops *ops;
	void *opaque;
};

struct msix {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	uint8_t cap;                 /* config offset of the capability */
	unsigned nvec;
	uint32_t table[MSIX_MAX_VECTORS][4]; /* addr lo, addr hi, data, vector control */
	uint64_t pba;
	bool routed[MSIX_MAX_VECTORS];
	uint64_t routed_addr[MSIX_MAX_VECTORS];
	uint32_t routed_data[MSIX_MAX_VECTORS];
	struct msi_sink sink;
};

/* Adds the MSI-X capability to d: table at bar/table_off, PBA at
 * bar/pba_off (both 8-byte aligned). nvec 1..MSIX_MAX_VECTORS. */
int msix_init(struct msix *m, struct pci_dev *d, unsigned nvec, unsigned bar, uint32_t table_off,
	      uint32_t pba_off, const struct msi_sink *sink);
void msix_destroy(struct msix *m);
/* The owner's cfg_written hook forwards every config write here. */
void msix_cfg_written(struct msix *m, uint32_t off, uint32_t len);
/* Whether a config write at off/len reaches the byte with MSI-X Enable and
 * Function Mask (message control, high byte). Pure. */
bool msix_cfg_touches_control(const struct msix *m, uint32_t off, uint32_t len);
/* Table / PBA accesses, off relative to the table / PBA start (len 4 or 8). */
void msix_table_read(struct msix *m, uint64_t off, void *data, uint32_t len);
void msix_table_write(struct msix *m, uint64_t off, const void *data, uint32_t len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, uint32_t len);
/* MSI-X enabled in the capability (and not function-masked is separate). */
bool msix_enabled(struct msix *m);
/* Signals vec: delivered now, or left pending while masked. Returns false
 * if MSI-X is disabled or vec is out of range (the caller may use INTx). */
bool msix_notify(struct msix *m, unsigned vec);
/* Snapshots: the vector table and PBA (the capability's enable and mask
 * bits are config space). msix_load checks the vector count (srd_reject)
 * and re-routes the live vectors. */
void msix_save(struct msix *m, struct sbuf *out);
void msix_load(struct msix *m, struct srd *in);
/* True when vec would be delivered now (MSI-X enabled, neither the function
 * nor the vector masked, its message routed): a device may then raise it
 * without msix_notify (a KVM irqfd on its GSI). */
bool msix_vector_deliverable(struct msix *m, unsigned vec);
/* Table size in bytes for nvec vectors, and PBA size. */
static inline uint32_t msix_table_size(unsigned nvec) { return nvec * MSIX_ENTRY_SIZE; }
static inline uint32_t msix_pba_size(unsigned nvec) { return ((nvec + 63) / 64) * 8; }
#endif
