/* The bounded output ring of --console pty/unix: oldest bytes dropped first,
 * wrap-around, counts of what was lost. */
#include <string.h>

#include "check_util.h"
#include "host/console_chan.h"

static size_t drain(struct chan_ring *r, char *out, size_t cap)
{
	const uint8_t *p;
	size_t n, total = 0;
	while ((n = chan_ring_peek(r, &p)) && total + n <= cap) {
		memcpy(out + total, p, n);
		total += n;
		chan_ring_consume(r, n);
	}
	return total;
}

START_TEST(ring_keeps_the_newest)
{
	uint8_t buf[8];
	char out[32];
	struct chan_ring r = { .buf = buf, .cap = sizeof(buf) };

	chan_ring_push(&r, (const uint8_t *)"abcde", 5);
	ck_assert_uint_eq(r.len, 5);
	chan_ring_push(&r, (const uint8_t *)"fghij", 5); /* 2 dropped, wraps */
	ck_assert_uint_eq(r.len, 8);
	ck_assert_uint_eq(r.dropped, 2);
	size_t n = drain(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 8);
	ck_assert(!memcmp(out, "cdefghij", 8));
	ck_assert_uint_eq(r.len, 0);

	chan_ring_push(&r, (const uint8_t *)"0123456789ABC", 13); /* longer than the ring */
	ck_assert_uint_eq(r.dropped, 2 + 5);
	n = drain(&r, out, sizeof(out));
	ck_assert_uint_eq(n, 8);
	ck_assert(!memcmp(out, "56789ABC", 8));

	chan_ring_push(&r, (const uint8_t *)"xyz", 3);
	const uint8_t *p;
	ck_assert_uint_eq(chan_ring_peek(&r, &p), 3);
	chan_ring_consume(&r, 1); /* a partial write */
	ck_assert_uint_eq(chan_ring_peek(&r, &p), 2);
	ck_assert(!memcmp(p, "yz", 2));
	chan_ring_consume(&r, 99);
	ck_assert_uint_eq(r.len, 0);
}
END_TEST

CHECK_MAIN("console_chan", ring_keeps_the_newest)
