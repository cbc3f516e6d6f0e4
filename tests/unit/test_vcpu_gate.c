/* The vCPU gate (src/vcpu/pause.c) with stand-in vCPU threads that pass the
 * gate in a loop: pause_all returns only when none runs, hold keeps one
 * parked across a resume, stopping releases everyone, debug exits pause. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "vcpu/pause.h"

#define N 3

static struct vcpu_gate g;
static volatile int stopping;
static volatile unsigned long count[N];
static volatile unsigned long parked[N]; /* passes that reported a park */

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	vcpu_gate_enter(&g);
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		if (vcpu_gate_pass(&g, id))
			__atomic_add_fetch(&parked[id], 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&count[id], 1, __ATOMIC_RELAXED);
		usleep(100); /* "guest code" */
	}
	vcpu_gate_leave(&g);
	return NULL;
}

static void snapshot(unsigned long *out)
{
	for (int i = 0; i < N; i++)
		out[i] = __atomic_load_n(&count[i], __ATOMIC_RELAXED);
}

static unsigned debug_cpu = 99;
static void on_debug(void *opaque, unsigned cpu, const struct kvm_debug_exit_arch *a)
{
	debug_cpu = cpu;
}

START_TEST(pause_hold_resume)
{
	pthread_t t[N];
	unsigned long a[N], b[N];

	vcpu_gate_init(&g, &stopping);
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	usleep(20000);
	/* running freely: no pass reports a park (KVM_KVMCLOCK_CTRL hangs on it) */
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(parked[i], 0);
	ck_assert_int_eq(vcpu_pause_all(&g, NULL, 0), 0);
	ck_assert(vcpu_gate_paused(&g));
	snapshot(a);
	usleep(50000);
	snapshot(b);
	/* a thread may finish the iteration it was in: at most one more each */
	for (int i = 0; i < N; i++)
		ck_assert_uint_le(b[i] - a[i], 1);
	snapshot(a);
	usleep(30000);
	snapshot(b);
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(b[i], a[i]);

	vcpu_gate_hold(&g, 1, true);
	vcpu_resume_all(&g);
	usleep(200000);
	snapshot(b);
	/* the two released vCPUs each report their one park; the held one
	 * has not left the gate yet */
	ck_assert_uint_eq(parked[0], 1);
	ck_assert_uint_eq(parked[1], 0);
	ck_assert_uint_eq(parked[2], 1);
	ck_assert_uint_gt(b[0], a[0] + 2);
	ck_assert_uint_eq(b[1], a[1]);
	ck_assert_uint_gt(b[2], a[2] + 2);

	/* a debug exit on vCPU 2 pauses everyone and reports */
	vcpu_gate_set_debug(&g, on_debug, NULL);
	struct kvm_debug_exit_arch ex;
	memset(&ex, 0, sizeof(ex));
	vcpu_gate_debug_exit(&g, 2, &ex);
	ck_assert_uint_eq(debug_cpu, 2);
	ck_assert(vcpu_gate_paused(&g));
	ck_assert_int_eq(vcpu_pause_all(&g, NULL, 0), 0);

	/* stopping releases parked and held threads */
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	vcpu_gate_wake(&g);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(g.running, 0);
	vcpu_gate_destroy(&g);
}
END_TEST

START_TEST(pause_before_start)
{
	/* Paused before the threads start (--gdb-wait): they never run. */
	pthread_t t;
	stopping = 0;
	memset((void *)count, 0, sizeof(count));
	vcpu_gate_init(&g, &stopping);
	ck_assert_int_eq(vcpu_pause_all(&g, NULL, 0), 0);
	pthread_create(&t, NULL, worker, (void *)(uintptr_t)0);
	usleep(30000);
	ck_assert_uint_eq(count[0], 0);
	vcpu_resume_all(&g);
	usleep(200000);
	ck_assert_uint_gt(count[0], 0);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	vcpu_gate_destroy(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vcpu_gate");
	TCase *tc = tcase_create("gate");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, pause_hold_resume);
	tcase_add_test(tc, pause_before_start);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
