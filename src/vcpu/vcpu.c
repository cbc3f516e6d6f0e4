/* vCPU threads: create, boot registers, the KVM_RUN loop, kicks, dumps. */
#include "vcpu/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/sandbox.h"
#include "host/log.h"
#include "vcpu/exit.h"
#include "devices/bus.h"
#include "kvm/coalesced.h"
#include "kvm/kvm_host.h"
#include "vcpu/pause.h"

#define MSR_IA32_MISC_ENABLE 0x000001a0
#define MISC_ENABLE_FAST_STRING 1ULL

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void kick_handler(int sig) { (void)sig; }

void vcpu_install_kick_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns -EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

static int set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *src = v->env->kvm->cpuid;
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	uint32_t brand[12];
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, src, sz);
	vcpu_cpuid_patch(c, v->id, v->env->ncpus);
	vcpu_cpuid_host_brand(brand);
	vcpu_cpuid_fill_brand(c, brand);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

static int set_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e[0].index = MSR_IA32_MISC_ENABLE;
	m.e[0].data = MISC_ENABLE_FAST_STRING;
	return ioctl(v->fd, KVM_SET_MSRS, &m) == 1 ? 0 : -EIO;
}

static int set_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

/* LINT0 = ExtINT (the 8259 PIC's output), LINT1 = NMI, as a PC's BIOS sets. */
static int set_lint(struct vcpu *v)
{
	struct kvm_lapic_state l;
	uint32_t *lint0, *lint1;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lint0 = (uint32_t *)&l.regs[APIC_LVT_LINT0];
	lint1 = (uint32_t *)&l.regs[APIC_LVT_LINT1];
	*lint0 = (*lint0 & ~0x700u & ~0x10000u) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700u & ~0x10000u) | (APIC_MODE_NMI << 8);
	return ioctl(v->fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

int vcpu_create(const struct vcpu_env *env, unsigned id, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	v->env = env;
	v->id = id;
	v->fd = ioctl(env->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	v->run_size = (uint32_t)env->kvm->run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	if ((ret = set_cpuid(v)) || (ret = set_msrs(v)) || (ret = set_fpu(v)) ||
	    (ret = set_lint(v)))
		goto err_unmap;
	/* Application processors stay in wait-for-SIPI (KVM's default for
	 * vCPUs other than 0 with an in-kernel LAPIC). */
	if (id == 0 && (ret = vcpu_set_boot_regs(v->fd, env->entry)))
		goto err_unmap;
	*out = v;
	return 0;
err_unmap:
	munmap(v->run, v->run_size);
err_close:
	close(v->fd);
err_free:
	free(v);
	return ret;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	munmap(v->run, v->run_size);
	close(v->fd);
	free(v);
}

static void log_unhandled(struct vcpu *v, const struct exit_info *x)
{
	if (!v->env->debug)
		return;
	uint64_t val = x->is_write ? bus_get_le(x->data, x->size) : 0;
	pr_guest("unhandled %s %s 0x%llx size %u%s0x%llx", x->action == EXIT_PIO ? "port" : "mmio",
		 x->is_write ? "write" : "read", (unsigned long long)x->addr, x->size,
		 x->is_write ? " value " : "", (unsigned long long)val);
}

/* A port or MMIO read completes (the value lands in the guest register)
 * only on the next KVM_RUN. Before parking for a pause, re-enter with
 * immediate_exit so that a snapshot taken while parked sees consistent
 * registers (KVM API: "kvm_run", immediate_exit). */
static void complete_io(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		pr_debug("vcpu%u: KVM_RUN with immediate_exit ran guest code", v->id);
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
}

/* Only this vCPU's thread writes its counters: a relaxed store is enough. */
static void stat_inc(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static void count_exit(struct vcpu *v, const struct exit_info *x)
{
	struct vcpu_stats *s = &v->stats;

	switch (x->action) {
	case EXIT_PIO:
		stat_inc(x->is_write ? &s->io_out : &s->io_in);
		break;
	case EXIT_MMIO:
		stat_inc(x->is_write ? &s->mmio_write : &s->mmio_read);
		break;
	case EXIT_ERROR:
		stat_inc(&s->failures);
		break;
	default:
		stat_inc(&s->other);
		break;
	}
}

void vcpu_stats_add(const struct vcpu *v, struct vcpu_stats *sum)
{
	const struct vcpu_stats *s = &v->stats;

	sum->io_in += __atomic_load_n(&s->io_in, __ATOMIC_RELAXED);
	sum->io_out += __atomic_load_n(&s->io_out, __ATOMIC_RELAXED);
	sum->mmio_read += __atomic_load_n(&s->mmio_read, __ATOMIC_RELAXED);
	sum->mmio_write += __atomic_load_n(&s->mmio_write, __ATOMIC_RELAXED);
	sum->other += __atomic_load_n(&s->other, __ATOMIC_RELAXED);
	sum->failures += __atomic_load_n(&s->failures, __ATOMIC_RELAXED);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	const struct vcpu_env *env = v->env;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sandbox_thread(SANDBOX_VCPU);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	vcpu_gate_enter(env->gate);

	while (!__atomic_load_n(env->stopping, __ATOMIC_ACQUIRE)) {
		struct exit_info x;
		if (vcpu_gate_pass(env->gate, v->id)) /* parks while paused */
			v->clock_stopped = true;
		if (__atomic_load_n(env->stopping, __ATOMIC_ACQUIRE))
			break;
		if (v->clock_stopped) {
			v->clock_stopped = false;
			/* EINVAL: the guest has no kvmclock (nothing to tell) */
			if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
				pr_debug("vcpu%u: KVM_KVMCLOCK_CTRL: %s", v->id, strerror(errno));
		}
		int r = ioctl(v->fd, KVM_RUN, 0);
		/* Writes KVM queued instead of exiting come first, in order. */
		coalesced_flush(env->coalesced);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* atomic: vcpu_kick() stores it from another thread */
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
				continue;
			}
			stat_inc(&v->stats.failures);
			pr_err("vcpu%u: KVM_RUN failed: %s", v->id, strerror(errno));
			vmctl_stop(&env->ctl, STOP_INTERNAL_ERROR, 0);
			break;
		}
		exit_decode(v->run, v->run_size, &x);
		count_exit(v, &x);
		switch (x.action) {
		case EXIT_CONTINUE:
			break;
		case EXIT_PIO:
			for (uint32_t i = 0; i < x.count; i++)
				if (bus_access(env->pio, x.addr, x.data + (size_t)i * x.size, x.size,
					       x.is_write) == -ENOENT && i == 0)
					log_unhandled(v, &x);
			break;
		case EXIT_MMIO:
			if (bus_access(env->mmio, x.addr, x.data, x.size, x.is_write) == -ENOENT)
				log_unhandled(v, &x);
			break;
		default:
			break;
		}
		if ((x.action == EXIT_PIO || x.action == EXIT_MMIO) &&
		    __atomic_load_n(&env->gate->pause, __ATOMIC_ACQUIRE))
			complete_io(v);
		switch (x.action) {
		case EXIT_DEBUG: /* breakpoint or step: report, then park */
			vcpu_gate_debug_exit(env->gate, v->id, &v->run->debug.arch);
			break;
		case EXIT_STOP:
			if (x.what)
				pr_info("vcpu%u: %s", v->id, x.what);
			vmctl_stop(&env->ctl, x.reason, x.value);
			goto out;
		case EXIT_ERROR:
			/* Dump while this vCPU's state is intact; the stop request
			 * then wakes the main thread, which joins us before it
			 * tears anything down. (Two vCPUs failing at once both dump;
			 * the first request decides the exit status.) */
			pr_err("vcpu%u: %s (exit reason %u)", v->id, x.what, v->run->exit_reason);
			vcpu_dump(v);
			vmctl_stop(&env->ctl, STOP_INTERNAL_ERROR, 0);
			goto out;
		default:
			break;
		}
	}
out:
	vcpu_gate_leave(env->gate);
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r)
		return -r;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}
