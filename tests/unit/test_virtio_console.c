/* virtio-console as a device (fake transport, shared driver-side
 * virtqueue): output and input keep flowing with EVENT_IDX negotiated. */
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "devices/virtio/console.h"
#include "fakes.h"
#include "virtq_driver.h"

#define RAM_SIZE (1u << 20)
#define BUF 0x10000u

static struct guest_mem mem;
static uint8_t *ram;
static struct virtio_dev *vd;
static struct vqd_transport tp;
static struct vqd rxq, txq;
static struct fake_sink out;

static void setup_ei(bool event_idx)
{
	struct char_sink s = fake_char_sink(&out);

	memset(&out, 0, sizeof(out));
	ram = vqd_ram_init(&mem, RAM_SIZE);
	ck_assert_int_eq(virtio_console_create(&s, &vd), 0);
	vqd_transport_attach(&tp, vd, &mem);
	vqd_init(&txq, ram, 16, vqd_init(&rxq, ram, 16, 0x1000, event_idx), event_idx);
	ck_assert_int_eq(vqd_attach(&rxq, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_attach(&txq, &vd->vq[1], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
}

static void teardown(void)
{
	virtio_dev_destroy(vd);
	vqd_ram_free(&mem);
}

/* hvc0 writes: each one must be kicked and completed, or Linux's
 * put_chars spins forever waiting for the buffer back (issue 9). */
static void tx_many(bool event_idx)
{
	setup_ei(event_idx);
	for (unsigned i = 0; i < 10; i++) {
		ram[BUF + i] = (uint8_t)('a' + i);
		vqd_add1(&txq, BUF + i, 1, false);
		ck_assert_msg(vqd_kick_needed(&txq), "write %u: the driver would not kick", i);
		vqd_dev_kick(vd, 1);
		ck_assert_msg(vqd_get_used(&txq, NULL, NULL), "write %u not completed", i);
	}
	ck_assert_uint_eq(out.len, 10);
	ck_assert(!memcmp(out.buf, "abcdefghij", 10));
	teardown();
}

START_TEST(tx_event_idx) { tx_many(true); }
END_TEST
START_TEST(tx_no_event_idx) { tx_many(false); }
END_TEST

/* Input finds no buffer: the pop re-armed kicks, so the driver kicks when it
 * posts one; input then lands in it. */
START_TEST(rx_event_idx)
{
	uint32_t len;
	setup_ei(true);
	ck_assert_uint_eq(virtio_console_input(vd, (const uint8_t *)"xy", 2), 0);
	for (unsigned i = 0; i < 4; i++) {
		vqd_add1(&rxq, BUF + 0x100 * i, 2, true);
		ck_assert_msg(vqd_kick_needed(&rxq), "rx buffer %u not kicked", i);
		vqd_dev_kick(vd, 0);
		ck_assert_uint_eq(virtio_console_input(vd, (const uint8_t *)"xyz", 3), 2);
		ck_assert(vqd_get_used(&rxq, NULL, &len));
		ck_assert_uint_eq(len, 2);
		ck_assert(!memcmp(ram + BUF + 0x100 * i, "xy", 2));
		ck_assert_uint_eq(virtio_console_input(vd, (const uint8_t *)"z", 1), 0);
		ck_assert_uint_eq(vqd_avail_event(&rxq), i + 1);
	}
	teardown();
}
END_TEST

/* Issue 10 finding 4: a full transmit ring is served VCON_TX_BUDGET chains
 * per callback, then the device re-kicks itself. */
START_TEST(tx_budget_returns_control)
{
	setup_ei(true);
	vqd_init(&txq, ram, 128, 0x40000, true);
	ck_assert_int_eq(vqd_attach(&txq, &vd->vq[1], &mem, false), 0);
	tp.can_rekick = true;
	for (unsigned i = 0; i < VCON_TX_BUDGET + 10; i++)
		vqd_add1(&txq, BUF, i % 2, false); /* zero-length chains count too */
	vqd_dev_kick(vd, 1);
	ck_assert_uint_eq(vqd_used_idx(&txq), VCON_TX_BUDGET);
	ck_assert_uint_eq(tp.rekicks[1], 1);
	vqd_dev_kick(vd, 1);
	ck_assert_uint_eq(vqd_used_idx(&txq), VCON_TX_BUDGET + 10);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_console");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, tx_event_idx);
	tcase_add_test(tc, tx_no_event_idx);
	tcase_add_test(tc, rx_event_idx);
	tcase_add_test(tc, tx_budget_returns_control);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
