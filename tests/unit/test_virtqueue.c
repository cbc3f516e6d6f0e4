/* Split virtqueue against malloc-backed guest RAM with a tiny driver-side
 * ring builder: good chains, indirect, event idx, and hostile rings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "devices/virtio/virtqueue.h"
#include "virtq_driver.h"

#define RAM_SIZE (1u << 20)
#define DESC 0x1000u
#define AVAIL 0x5000u
#define USED 0x6000u
#define BUF 0x10000u
#define IND 0x8000u

static struct guest_mem mem;
static uint8_t *ram;
static struct virtqueue q;
static struct vq_chain ch;
/* The driver side (tests/unit/virtq_driver): raw descriptors and avail
 * entries, since most cases here are hand-made hostile chains. */
static struct vqd D;

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	mem.nr = 1;
	mem.r[0] = (struct gmem_region){ .gpa = 0, .size = RAM_SIZE, .hva = ram };
	memset(&q, 0, sizeof(q));
	memset(&D, 0, sizeof(D));
	D.ram = ram;
}

static void teardown(void) { free(ram); }

static void put16(uint64_t gpa, uint16_t v) { memcpy(ram + gpa, &v, 2); }
static uint16_t get16(uint64_t gpa) { uint16_t v; memcpy(&v, ram + gpa, 2); return v; }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, ram + gpa, 4); return v; }

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	vqd_set_desc(&D, table, i, addr, len, flags, next);
}
static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(DESC, i, addr, len, flags, next);
}

/* Driver: publish head in the avail ring. */
static void avail_add(uint16_t size, uint16_t head)
{
	ck_assert_uint_eq(size, D.size);
	vqd_publish(&D, head);
}

static void init_q(uint16_t size, bool event_idx, bool indirect)
{
	vqd_init_at(&D, ram, size, DESC, AVAIL, USED, event_idx);
	ck_assert_int_eq(vqd_attach(&D, &q, &mem, indirect), 0);
}

START_TEST(single_and_multi)
{
	init_q(16, false, false);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	memcpy(ram + BUF, "hello", 5);
	desc(3, BUF, 5, VRING_DESC_F_NEXT, 7);
	desc(7, BUF + 0x100, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 9);
	desc(9, BUF + 0x200, 1, VRING_DESC_F_WRITE, 0);
	avail_add(16, 3);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(ch.head, 3);
	ck_assert_uint_eq(ch.nseg, 3);
	ck_assert_uint_eq(ch.out_bytes, 5);
	ck_assert_uint_eq(ch.in_bytes, 101);
	ck_assert_ptr_eq(ch.seg[0].hva, ram + BUF);
	char buf[8] = { 0 };
	ck_assert_uint_eq(vq_chain_read(&ch, 1, buf, 8), 4);
	ck_assert_str_eq(buf, "ello");
	ck_assert_uint_eq(vq_chain_write(&ch, 98, "XYZ", 3), 3);
	ck_assert_int_eq(ram[BUF + 0x100 + 98], 'X');
	ck_assert_int_eq(ram[BUF + 0x100 + 99], 'Y');
	ck_assert_int_eq(ram[BUF + 0x200], 'Z');
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	ck_assert_int_eq(vq_push(&q, 3, 101), 0);
	ck_assert_uint_eq(get16(USED + 2), 1);
	ck_assert_uint_eq(get32(USED + 4), 3);
	ck_assert_uint_eq(get32(USED + 8), 101);
	ck_assert_int_eq(vq_push(&q, 16, 0), -EINVAL); /* head >= size */
}
END_TEST

START_TEST(zero_len_skipped)
{
	init_q(16, false, false);
	desc(0, BUF, 0, VRING_DESC_F_NEXT, 1);
	desc(1, BUF, 4, VRING_DESC_F_WRITE, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(ch.nseg, 1);
	ck_assert_uint_eq(ch.in_bytes, 4);
}
END_TEST

START_TEST(indirect_ok)
{
	init_q(16, false, true);
	desc_at(IND, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	desc_at(IND, 2, BUF + 64, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc_at(IND, 1, BUF + 1024, 1, VRING_DESC_F_WRITE, 0);
	desc(5, BUF + 0x800, 8, VRING_DESC_F_NEXT, 6); /* direct then indirect */
	desc(6, IND, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(16, 5);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(ch.head, 5);
	ck_assert_uint_eq(ch.nseg, 4);
	ck_assert_uint_eq(ch.out_bytes, 24);
	ck_assert_uint_eq(ch.in_bytes, 513);
}
END_TEST

START_TEST(event_idx)
{
	init_q(16, true, false);
	for (int i = 0; i < 4; i++) {
		desc(i, BUF, 1, VRING_DESC_F_WRITE, 0);
		avail_add(16, i);
	}
	put16(AVAIL + 4 + 2 * 16, 0); /* used_event = 0: interrupt after entry 0 */
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	ck_assert(vq_need_interrupt(&q)); /* first decision always interrupts */
	ck_assert(!vq_need_interrupt(&q)); /* nothing new */
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);           /* used idx 2, event 0 already passed */
	ck_assert(!vq_need_interrupt(&q));
	put16(AVAIL + 4 + 2 * 16, 3);      /* interrupt once used idx passes 3 */
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);           /* idx 3 */
	ck_assert(!vq_need_interrupt(&q));
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);           /* idx 4 > 3 */
	ck_assert(vq_need_interrupt(&q));
	/* The pop that finds the ring empty publishes avail_event (2.7.10). */
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	ck_assert_uint_eq(get16(USED + 4 + 8 * 16), 4);
}
END_TEST

START_TEST(no_interrupt_flag)
{
	init_q(16, false, false);
	desc(0, BUF, 1, VRING_DESC_F_WRITE, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vq_push(&q, 0, 1);
	ck_assert(vq_need_interrupt(&q));
	put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	ck_assert(!vq_need_interrupt(&q));
}
END_TEST

/* Without EVENT_IDX: kicks are suppressed (VRING_USED_F_NO_NOTIFY) while the
 * device works through a non-empty ring and re-enabled by the pop that
 * finds it empty. */
START_TEST(no_notify_flag_managed_by_pop)
{
	init_q(16, false, false);
	desc(0, BUF, 1, VRING_DESC_F_WRITE, 0);
	avail_add(16, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(get16(USED), VRING_USED_F_NO_NOTIFY);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(get16(USED), VRING_USED_F_NO_NOTIFY);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	ck_assert_uint_eq(get16(USED), 0);
}
END_TEST

/* Driver side through the shared helper: with EVENT_IDX every request after
 * the device drained the ring must be kicked (Linux's virtqueue_kick_prepare
 * reads avail_event); while the device is behind, none is needed. */
START_TEST(event_idx_kicks_like_linux)
{
	struct vqd d;
	vqd_init(&d, ram, 16, DESC, true);
	ck_assert_int_eq(vqd_attach(&d, &q, &mem, false), 0);
	for (unsigned i = 0; i < 5; i++) {
		vqd_add1(&d, BUF, 8, true);
		ck_assert_msg(vqd_kick_needed(&d), "request %u not kicked", i);
		ck_assert_int_eq(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 8);
		ck_assert_int_eq(vq_pop(&q, &ch), 0);
		ck_assert_uint_eq(vqd_avail_event(&d), i + 1);
	}
	/* Two buffers while the device is busy with a third: no kick needed. */
	vqd_add1(&d, BUF, 8, true);
	ck_assert(vqd_kick_needed(&d));
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	vqd_add1(&d, BUF, 8, true);
	vqd_add1(&d, BUF, 8, true);
	ck_assert(!vqd_kick_needed(&d));
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
	vqd_add1(&d, BUF, 8, true);
	ck_assert(vqd_kick_needed(&d));
}
END_TEST

/* A buffer published between the device's empty check and its avail_event
 * write is still found: the pop re-reads avail->idx after the barrier. */
START_TEST(empty_pop_rechecks)
{
	struct vqd d;
	vqd_init(&d, ram, 16, DESC, true);
	ck_assert_int_eq(vqd_attach(&d, &q, &mem, false), 0);
	vqd_add1(&d, BUF, 8, true);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert(!vq_has_avail(&q));
	vqd_add1(&d, BUF, 8, true);
	ck_assert(vq_has_avail(&q));
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
}
END_TEST

START_TEST(idx_wrap)
{
	init_q(4, false, false);
	/* Start both sides just below the 16-bit wrap. */
	put16(AVAIL + 2, 65534);
	D.avail_idx = 65534;
	q.last_avail = 65534;
	q.used_idx = 65534;
	desc(0, BUF, 1, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < 4; i++) {
		avail_add(4, 0);
		ck_assert_int_eq(vq_pop(&q, &ch), 1);
		ck_assert_int_eq(vq_push(&q, 0, 1), 0);
	}
	ck_assert_uint_eq(q.last_avail, 2);
	ck_assert_uint_eq(get16(USED + 2), 2);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
}
END_TEST

START_TEST(bad_init)
{
	ck_assert_int_eq(vq_init(&q, &mem, 0, DESC, AVAIL, USED, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 3, DESC, AVAIL, USED, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 2048, DESC, AVAIL, USED, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 16, DESC + 8, AVAIL, USED, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 16, DESC, AVAIL + 1, USED, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 16, DESC, AVAIL, USED + 2, 0, 0), -EINVAL);
	/* used ring straddling the end of RAM */
	ck_assert_int_eq(vq_init(&q, &mem, 16, DESC, AVAIL, RAM_SIZE - 64, 0, 0), -EINVAL);
	ck_assert_int_eq(vq_init(&q, &mem, 16, RAM_SIZE, AVAIL, USED, 0, 0), -EINVAL);
	ck_assert(!q.ready);
	ck_assert_int_eq(vq_pop(&q, &ch), 0);
}
END_TEST

START_TEST(loop)
{
	init_q(16, false, false);
	desc(0, BUF, 1, VRING_DESC_F_NEXT, 1);
	desc(1, BUF, 1, VRING_DESC_F_NEXT, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), -ELOOP);
}
END_TEST

START_TEST(bad_buffers)
{
	init_q(16, false, false);
	desc(0, RAM_SIZE, 1, 0, 0);              /* outside RAM */
	desc(1, RAM_SIZE - 4, 8, 0, 0);          /* straddles the end */
	desc(2, UINT64_MAX - 3, 8, 0, 0);        /* wraps */
	desc(3, BUF, 1, VRING_DESC_F_NEXT, 16);  /* next >= size */
	desc(4, BUF, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	desc(5, BUF, 1, 0, 0);                   /* readable after writable */
	int want[] = { -EFAULT, -EFAULT, -EFAULT, -EINVAL, -EINVAL };
	for (int i = 0; i < 5; i++) {
		avail_add(16, i);
		ck_assert_int_eq(vq_pop(&q, &ch), want[i]);
		q.last_avail++; /* step over the bad entry */
	}
	avail_add(16, 17);                       /* head >= size */
	ck_assert_int_eq(vq_pop(&q, &ch), -EINVAL);
}
END_TEST

START_TEST(avail_jump)
{
	init_q(16, false, false);
	put16(AVAIL + 2, 17);
	ck_assert_int_eq(vq_pop(&q, &ch), -EINVAL);
	put16(AVAIL + 2, 16);
	desc(0, BUF, 1, 0, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
}
END_TEST

START_TEST(bad_indirect)
{
	init_q(16, false, true);
	desc_at(IND, 0, BUF, 4, 0, 0);
	desc(0, IND, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1); /* with NEXT */
	desc(1, IND, 0, VRING_DESC_F_INDIRECT, 0);                      /* len 0 */
	desc(2, IND, 24, VRING_DESC_F_INDIRECT, 0);                     /* not multiple of 16 */
	desc(3, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);           /* outside RAM */
	desc(4, IND, 16 * (VQ_MAX_SIZE + 1), VRING_DESC_F_INDIRECT, 0); /* too long */
	int want[] = { -EINVAL, -EINVAL, -EINVAL, -EFAULT, -EINVAL };
	for (int i = 0; i < 5; i++) {
		avail_add(16, i);
		ck_assert_int_eq(vq_pop(&q, &ch), want[i]);
		q.last_avail++;
	}
	/* nested */
	desc_at(IND + 0x100, 0, IND, 16, VRING_DESC_F_INDIRECT, 0);
	desc(5, IND + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(16, 5);
	ck_assert_int_eq(vq_pop(&q, &ch), -ELOOP);
	q.last_avail++;
	/* loop inside the table */
	desc_at(IND + 0x200, 0, BUF, 1, VRING_DESC_F_NEXT, 1);
	desc_at(IND + 0x200, 1, BUF, 1, VRING_DESC_F_NEXT, 0);
	desc(6, IND + 0x200, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(16, 6);
	ck_assert_int_eq(vq_pop(&q, &ch), -ELOOP);
}
END_TEST

START_TEST(indirect_not_negotiated)
{
	init_q(16, false, false);
	desc_at(IND, 0, BUF, 4, 0, 0);
	desc(0, IND, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), -EINVAL);
}
END_TEST

START_TEST(too_many_segs)
{
	/* An indirect table of VQ_MAX_SEGS + 1 entries: no loop, but too many. */
	unsigned n = VQ_MAX_SEGS + 1;
	init_q(16, false, true);
	for (unsigned i = 0; i < n; i++)
		desc_at(IND, i, BUF, 1, i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	desc(0, IND, 16 * n, VRING_DESC_F_INDIRECT, 0);
	avail_add(16, 0);
	ck_assert_int_eq(vq_pop(&q, &ch), -E2BIG);
	/* exactly VQ_MAX_SEGS is fine */
	desc_at(IND, VQ_MAX_SEGS - 1, BUF, 1, 0, 0);
	desc(1, IND, 16 * VQ_MAX_SEGS, VRING_DESC_F_INDIRECT, 0);
	q.last_avail++;
	avail_add(16, 1);
	ck_assert_int_eq(vq_pop(&q, &ch), 1);
	ck_assert_uint_eq(ch.nseg, VQ_MAX_SEGS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, single_and_multi);
	tcase_add_test(tc, zero_len_skipped);
	tcase_add_test(tc, indirect_ok);
	tcase_add_test(tc, event_idx);
	tcase_add_test(tc, no_interrupt_flag);
	tcase_add_test(tc, no_notify_flag_managed_by_pop);
	tcase_add_test(tc, event_idx_kicks_like_linux);
	tcase_add_test(tc, empty_pop_rechecks);
	tcase_add_test(tc, idx_wrap);
	tcase_add_test(tc, bad_init);
	tcase_add_test(tc, loop);
	tcase_add_test(tc, bad_buffers);
	tcase_add_test(tc, avail_jump);
	tcase_add_test(tc, bad_indirect);
	tcase_add_test(tc, indirect_not_negotiated);
	tcase_add_test(tc, too_many_segs);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
