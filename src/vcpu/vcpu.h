/* One vCPU: a thread in KVM_RUN that forwards port-I/O and MMIO exits to the
 * VM's buses and turns stop conditions into a stop request. A vCPU knows the
 * machine only through its environment (struct vcpu_env), not struct vm. */
#ifndef MYVMM_VCPU_H
#define MYVMM_VCPU_H
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/vmctl.h"
#include "loader/loader.h"

struct bus;
struct coalesced;
struct guest_mem;
struct kvm_host;
struct vcpu_gate;

/* What every vCPU of one VM shares; owned by the machine and valid for the
 * vCPUs' lifetime. */
struct vcpu_env {
	int vm_fd;
	const struct kvm_host *kvm;      /* supported CPUID, kvm_run size, backend */
	struct bus *pio, *mmio;          /* where exits go */
	struct coalesced *coalesced;     /* queued writes, replayed before each exit */
	const struct guest_mem *mem;     /* for the crash dump's code bytes */
	unsigned ncpus;
	const struct boot_entry *entry;  /* boot registers of vCPU 0 */
	const volatile int *stopping;    /* non-zero: leave the run loop */
	struct vcpu_gate *gate;          /* passed before each KVM_RUN (pause.h, gdb) */
	struct vmctl ctl;                /* stop requests (first one wins) */
	bool debug;                      /* log unhandled port/MMIO accesses */
};

/* Exits handled by this vCPU's thread (metrics); written only by that
 * thread, read by others with __atomic loads. */
struct vcpu_stats {
	uint64_t io_in, io_out;          /* KVM_EXIT_IO exits (one per exit, rep included) */
	uint64_t mmio_read, mmio_write;  /* KVM_EXIT_MMIO */
	uint64_t other;                  /* every other exit KVM_RUN returned with */
	uint64_t failures;               /* KVM_RUN errors and internal-error exits */
};

struct vcpu {
	const struct vcpu_env *env;
	struct vcpu_stats stats;
	unsigned id;
	int fd;
	struct kvm_run *run;
	uint32_t run_size;
	pthread_t thread;
	bool thread_started;
	/* Set when the guest lost time it did not run (parked by a pause,
	 * restored from a snapshot): before its next KVM_RUN the vCPU thread
	 * tells the guest's kvmclock (KVM_KVMCLOCK_CTRL), so Linux does not
	 * take the gap for a soft lockup. Touched only by the vCPU thread
	 * once it runs. */
	bool clock_stopped;
};

int vcpu_create(const struct vcpu_env *env, unsigned id, struct vcpu **out);
void vcpu_destroy(struct vcpu *v);
int vcpu_start(struct vcpu *v);
/* Makes KVM_RUN return promptly (immediate_exit + signal). */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
/* Adds v's exit counters to *sum (any thread). */
void vcpu_stats_add(const struct vcpu *v, struct vcpu_stats *sum);

/* CPUID for vCPU `id` of `ncpus`: APIC IDs and topology patched into KVM's
 * supported table, everything else (incl. 0x4000000x) passed through. Pure. */
void vcpu_cpuid_patch(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus);
/* The host CPU's brand string (CPUID 0x80000002-4 EAX..EDX; zeros if none). */
void vcpu_cpuid_host_brand(uint32_t brand[12]);
/* Fills leaves 0x80000002-4 with `brand` when KVM left all three zero (it
 * does under nested SVM, and Linux then shows no model name). Pure. */
void vcpu_cpuid_fill_brand(struct kvm_cpuid2 *c, const uint32_t brand[12]);
/* Registers for the boot entry (BSP only). */
int vcpu_set_boot_regs(int fd, const struct boot_entry *e);
/* Writes a short register dump (RIP, RSP, CR0/3/4, EFER, code bytes) via pr_err. */
void vcpu_dump(struct vcpu *v);
/* Signal used to kick vCPU threads; installed once by the process. */
#define VCPU_KICK_SIGNAL SIGUSR1
void vcpu_install_kick_handler(void);
#endif
