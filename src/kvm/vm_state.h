/* VM-wide KVM state for snapshots: the in-kernel irqchips (both 8259 PICs and
 * the IOAPIC), the i8254 PIT when the VM has one, and kvmclock. Works on a VM
 * fd; a blob of another layout is refused. */
#ifndef MYVMM_VM_STATE_H
#define MYVMM_VM_STATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_STATE_VERSION 1

/* Saves into a malloc'd blob; has_pit: the VM was made with KVM_CREATE_PIT2. */
int vm_state_save(int vm_fd, bool has_pit, uint8_t **blob, size_t *len);
/* Restores into a VM created the same way (irqchip, PIT iff has_pit), before
 * its vCPUs run. -EINVAL for a foreign or damaged blob. */
int vm_state_restore(int vm_fd, bool has_pit, const uint8_t *blob, size_t len);
#endif
