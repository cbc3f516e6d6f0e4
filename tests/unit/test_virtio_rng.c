/* virtio-rng as a device (fake transport, shared driver-side virtqueue):
 * EVENT_IDX kicks after the first request, token bucket. */
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "devices/virtio/rng.h"
#include "virtq_driver.h"

#define RAM_SIZE (1u << 20)
#define BUF 0x10000u

static struct guest_mem mem;
static uint8_t *ram;
static struct virtio_dev *vd;
static struct vqd_transport tp;
static struct vqd dq;
static uint64_t now;

static uint64_t fake_clock(void *o) { return now; }

static void setup_ei(bool event_idx)
{
	ram = vqd_ram_init(&mem, RAM_SIZE);
	now = 1000000000ull;
	ck_assert_int_eq(virtio_rng_create(NULL, &vd), 0);
	virtio_rng_set_clock(vd, fake_clock, NULL);
	vqd_transport_attach(&tp, vd, &mem);
	vqd_init(&dq, ram, 16, 0x1000, event_idx);
	ck_assert_int_eq(vqd_attach(&dq, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
}

static void teardown(void)
{
	virtio_dev_destroy(vd);
	vqd_ram_free(&mem);
}

/* Linux's virtio_rng posts one buffer, kicks only if virtqueue_kick_prepare
 * says so, and waits. The device must publish avail_event each time it
 * drains the ring, or the second request is never kicked (issue 9). */
static void serve_many(bool event_idx)
{
	setup_ei(event_idx);
	for (unsigned i = 0; i < 8; i++) {
		uint32_t id, len;
		uint16_t head = vqd_add1(&dq, BUF + 64 * i, 64, true);
		ck_assert_msg(vqd_kick_needed(&dq), "request %u: the driver would not kick", i);
		vqd_dev_kick(vd, 0);
		ck_assert_msg(vqd_get_used(&dq, &id, &len), "request %u not served", i);
		ck_assert_uint_eq(id, head);
		ck_assert_uint_eq(len, 64);
		if (event_idx)
			ck_assert_uint_eq(vqd_avail_event(&dq), i + 1);
		else
			ck_assert_uint_eq(vqd_used_flags(&dq), 0);
	}
	ck_assert_uint_eq(tp.irqs[0], 8);
	teardown();
}

START_TEST(event_idx_keeps_serving) { serve_many(true); }
END_TEST
START_TEST(no_event_idx_keeps_serving) { serve_many(false); }
END_TEST

/* Over budget the request waits; a later kick (or the timer) serves it. */
START_TEST(budget_waits)
{
	uint32_t len;
	setup_ei(true);
	for (unsigned i = 0; i < 4; i++) {
		vqd_add1(&dq, BUF, 64 * 1024, true);
		vqd_dev_kick(vd, 0);
	}
	ck_assert_uint_eq(vqd_used_idx(&dq), 4);
	ck_assert_uint_eq(virtio_rng_tokens(vd), 0);
	vqd_add1(&dq, BUF, 64 * 1024, true);
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), 4);
	now += 10000000ull;
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), 5);
	for (unsigned i = 0; i < 5; i++)
		ck_assert(vqd_get_used(&dq, NULL, &len));
	ck_assert_uint_eq(len, RNG_RATE / 100);
	teardown();
}
END_TEST

/* Issue 10 finding 4: a ring kept full must not hold the event loop. One
 * callback serves RNG_BUDGET requests, then re-kicks itself; without a loop
 * to re-kick through it carries on rather than stall. */
START_TEST(budget_returns_control)
{
	setup_ei(true);
	vqd_init(&dq, ram, RNG_QUEUE_SIZE, 0x1000, true);
	ck_assert_int_eq(vqd_attach(&dq, &vd->vq[0], &mem, false), 0);
	tp.can_rekick = true;
	for (unsigned i = 0; i < RNG_BUDGET + 8; i++)
		vqd_add1(&dq, BUF + i, 1, true);
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), RNG_BUDGET);
	ck_assert_uint_eq(tp.rekicks[0], 1);
	vqd_dev_kick(vd, 0); /* the re-kick, from the loop */
	ck_assert_uint_eq(vqd_used_idx(&dq), RNG_BUDGET + 8);
	/* No loop: everything in one go. */
	tp.can_rekick = false;
	for (unsigned i = 0; i < RNG_BUDGET + 8; i++)
		vqd_add1(&dq, BUF + i, 1, true);
	vqd_dev_kick(vd, 0);
	ck_assert_uint_eq(vqd_used_idx(&dq), 2 * (RNG_BUDGET + 8));
	teardown();
}
END_TEST

/* Zero-length (or read-only) buffers cost a token each: they are paced too. */
START_TEST(zero_length_costs_tokens)
{
	setup_ei(true);
	uint64_t t0 = virtio_rng_tokens(vd);
	for (unsigned i = 0; i < 10; i++) {
		vqd_add1(&dq, BUF, 0, true);
		vqd_dev_kick(vd, 0);
	}
	ck_assert_uint_eq(vqd_used_idx(&dq), 10);
	ck_assert_uint_eq(virtio_rng_tokens(vd), t0 - 10);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_rng");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, event_idx_keeps_serving);
	tcase_add_test(tc, no_event_idx_keeps_serving);
	tcase_add_test(tc, budget_waits);
	tcase_add_test(tc, budget_returns_control);
	tcase_add_test(tc, zero_length_costs_tokens);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
