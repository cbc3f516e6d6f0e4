/* Parking vCPU threads: every vCPU thread passes a gate before each KVM_RUN.
 * A controller (the gdb stub today, a control API later) pauses all vCPUs
 * (kick out of KVM_RUN, wait until each is parked or gone), inspects or
 * changes their state through their fds, and resumes them. A vCPU may be
 * held (stays parked across a resume) so that one vCPU can step alone.
 *
 * Locking: gate.lock guards every field; it is never held while calling out
 * (the debug callback runs unlocked on the vCPU thread). */
#ifndef MYVMM_VCPU_PAUSE_H
#define MYVMM_VCPU_PAUSE_H
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "machine/pc_map.h"

struct vcpu;

/* Called on the vCPU thread on KVM_EXIT_DEBUG, before that vCPU parks. */
typedef void (*vcpu_debug_cb)(void *opaque, unsigned cpu, const struct kvm_debug_exit_arch *a);

struct vcpu_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* parked threads and pausers wait here */
	bool pause;                 /* every vCPU must park */
	bool hold[VMM_MAX_CPUS];    /* this vCPU stays parked even when not paused */
	unsigned running;           /* threads started, not parked, not exited */
	const volatile int *stopping; /* the VM is stopping: parked threads leave */
	vcpu_debug_cb on_debug;     /* NULL: debug exits are ignored */
	void *debug_opaque;
};

void vcpu_gate_init(struct vcpu_gate *g, const volatile int *stopping);
void vcpu_gate_destroy(struct vcpu_gate *g);
/* Wakes parked threads so that they see `stopping` (after setting it). */
void vcpu_gate_wake(struct vcpu_gate *g);
/* Installs (or with NULL removes) the debug-exit callback. */
void vcpu_gate_set_debug(struct vcpu_gate *g, vcpu_debug_cb cb, void *opaque);

/* Controller side. pause_all returns once no vCPU runs guest code (0), or
 * -ETIMEDOUT after 5 s. Safe before the threads start: they park at once. */
int vcpu_pause_all(struct vcpu_gate *g, struct vcpu *const *v, unsigned n);
/* Marks vCPU id held (true) or free to run on the next resume. */
void vcpu_gate_hold(struct vcpu_gate *g, unsigned id, bool hold);
void vcpu_resume_all(struct vcpu_gate *g);
bool vcpu_gate_paused(struct vcpu_gate *g);

/* vCPU-thread side. */
void vcpu_gate_enter(struct vcpu_gate *g);          /* thread start */
void vcpu_gate_leave(struct vcpu_gate *g);          /* thread exit */
bool vcpu_gate_pass(struct vcpu_gate *g, unsigned id); /* before KVM_RUN; true: it parked */
/* KVM_EXIT_DEBUG: requests a pause of all vCPUs and reports the exit. */
void vcpu_gate_debug_exit(struct vcpu_gate *g, unsigned id, const struct kvm_debug_exit_arch *a);
#endif
