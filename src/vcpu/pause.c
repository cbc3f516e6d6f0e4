/* The vCPU gate: pause, hold and resume vCPU threads (see pause.h). */
#include "vcpu/pause.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "vcpu/vcpu.h"

#define PAUSE_TIMEOUT_S 5

void vcpu_gate_init(struct vcpu_gate *g, const volatile int *stopping)
{
	pthread_condattr_t ca;

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
	g->stopping = stopping;
}

void vcpu_gate_destroy(struct vcpu_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

static bool stopping(const struct vcpu_gate *g)
{
	return g->stopping && __atomic_load_n(g->stopping, __ATOMIC_ACQUIRE);
}

void vcpu_gate_wake(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_set_debug(struct vcpu_gate *g, vcpu_debug_cb cb, void *opaque)
{
	pthread_mutex_lock(&g->lock);
	g->on_debug = cb;
	g->debug_opaque = opaque;
	pthread_mutex_unlock(&g->lock);
}

int vcpu_pause_all(struct vcpu_gate *g, struct vcpu *const *v, unsigned n)
{
	struct timespec until;
	int ret = 0;

	pthread_mutex_lock(&g->lock);
	__atomic_store_n(&g->pause, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < n; i++)
		if (v[i])
			vcpu_kick(v[i]);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&g->lock);
	while (g->running > 0 && !stopping(g) && ret == 0)
		if (pthread_cond_timedwait(&g->cond, &g->lock, &until) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	pthread_mutex_unlock(&g->lock);
	return ret;
}

void vcpu_gate_hold(struct vcpu_gate *g, unsigned id, bool hold)
{
	if (id >= VMM_MAX_CPUS)
		return;
	pthread_mutex_lock(&g->lock);
	__atomic_store_n(&g->hold[id], hold, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g->lock);
}

void vcpu_resume_all(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	__atomic_store_n(&g->pause, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

bool vcpu_gate_paused(struct vcpu_gate *g)
{
	return __atomic_load_n(&g->pause, __ATOMIC_ACQUIRE);
}

void vcpu_gate_enter(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running++;
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_leave(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running--;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

bool vcpu_gate_pass(struct vcpu_gate *g, unsigned id)
{
	bool *hold = id < VMM_MAX_CPUS ? &g->hold[id] : NULL;
	bool parked = false;

	/* Fast path: one or two loads per KVM_RUN while nobody pauses. */
	if (!__atomic_load_n(&g->pause, __ATOMIC_ACQUIRE) &&
	    !(hold && __atomic_load_n(hold, __ATOMIC_ACQUIRE)))
		return false;
	pthread_mutex_lock(&g->lock);
	while ((g->pause || (hold && *hold)) && !stopping(g)) {
		parked = true;
		g->running--;
		pthread_cond_broadcast(&g->cond);
		pthread_cond_wait(&g->cond, &g->lock);
		g->running++;
	}
	pthread_mutex_unlock(&g->lock);
	return parked;
}

void vcpu_gate_debug_exit(struct vcpu_gate *g, unsigned id, const struct kvm_debug_exit_arch *a)
{
	vcpu_debug_cb cb;
	void *opaque;

	pthread_mutex_lock(&g->lock);
	cb = g->on_debug;
	opaque = g->debug_opaque;
	if (cb)
		__atomic_store_n(&g->pause, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g->lock);
	if (cb)
		cb(opaque, id, a);
}
