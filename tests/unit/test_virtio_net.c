/* virtio-net against malloc'd guest RAM with a fake backend: TX gather, RX
 * copy, drops (oversize, runt, no buffers, backlog bound), broken queues
 * -> NEEDS_RESET; and --net parsing. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cli/config.h"
#include "devices/virtio/net.h"
#include "virtq_driver.h"

#define RAM_SIZE (1u << 20)
#define QSZ 16
/* ring addresses per queue: rx at 0x1000.., tx at 0x4000.. */
#define DESC(q)  (0x1000u + 0x3000u * (q))
#define AVAIL(q) (DESC(q) + 0x1000u)
#define USED(q)  (DESC(q) + 0x2000u)
#define BUF      0x20000u

static struct vqd_transport tp;

/* The fake backend: remembers the last frame. */
static struct { int frames; size_t len; uint8_t data[NET_MAX_FRAME]; } be;
static void be_send(void *opaque, const uint8_t *f, size_t len)
{
	be.frames++;
	be.len = len;
	memcpy(be.data, f, len);
}

static uint8_t *ram;
static struct guest_mem mem;
static struct virtio_dev *vd;

static struct vqd Q[2];   /* the driver side of rx and tx */

static void desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t fl, uint16_t nx)
{
	vqd_set_desc(&Q[q], Q[q].desc, i, addr, len, fl, nx);
}

static void setup(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	struct net_backend b = { be_send, NULL };

	memset(&be, 0, sizeof(be));
	ram = calloc(1, RAM_SIZE);
	mem = (struct guest_mem){ .nr = 1 };
	mem.r[0] = (struct gmem_region){ 0, RAM_SIZE, ram };
	ck_assert_int_eq(virtio_net_create(mac, NULL, &vd), 0);
	vqd_transport_attach(&tp, vd, &mem);
	virtio_net_set_backend(vd, &b);
	for (unsigned q = 0; q < 2; q++) {
		vqd_init_at(&Q[q], ram, QSZ, DESC(q), AVAIL(q), USED(q), false);
		ck_assert_int_eq(vqd_attach(&Q[q], &vd->vq[q], &mem, false), 0);
	}
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
}

static void teardown(void)
{
	virtio_dev_destroy(vd);
	free(ram);
}

static void frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static struct virtio_net_stats stats(void)
{
	struct virtio_net_stats st;
	virtio_net_get_stats(vd, &st);
	return st;
}

START_TEST(config_space)
{
	uint8_t c[NET_CONFIG_SIZE];
	ck_assert_uint_eq(vd->ops->device_id, VIRTIO_ID_NET);
	ck_assert_uint_eq(vd->ops->num_queues, 2);
	ck_assert(vd->ops->features & (1ull << VIRTIO_NET_F_MAC));
	ck_assert(vd->ops->features & (1ull << VIRTIO_NET_F_STATUS));
	vd->ops->config_read(vd, 0, c, sizeof(c));
	ck_assert_mem_eq(c, ((uint8_t[]){ 0x52, 0x54, 0, 1, 2, 3 }), 6);
	ck_assert_uint_eq(c[6] | c[7] << 8, VIRTIO_NET_S_LINK_UP);
	vd->ops->config_write(vd, 0, "\xff", 1); /* read-only */
	vd->ops->config_read(vd, 0, c, 1);
	ck_assert_uint_eq(c[0], 0x52);
}
END_TEST

START_TEST(tx_gather)
{
	/* header (12) + 20 frame bytes in desc 0, 80 more in desc 1 */
	uint8_t *f = ram + BUF + 12;
	frame(f, 100, 3);
	desc(NET_TXQ, 0, BUF, 32, VRING_DESC_F_NEXT, 1);
	memmove(ram + BUF + 0x1000, f + 20, 80);
	desc(NET_TXQ, 1, BUF + 0x1000, 80, 0, 0);
	vqd_publish(&Q[NET_TXQ], 0);
	vqd_dev_kick(vd, NET_TXQ);
	ck_assert_int_eq(be.frames, 1);
	ck_assert_uint_eq(be.len, 100);
	uint8_t want[100];
	frame(want, 100, 3);
	ck_assert_mem_eq(be.data, want, 100);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_TXQ]), 1);
	ck_assert_uint_eq(vqd_used_len_at(&Q[NET_TXQ], 0), 0);
	ck_assert_uint_ge(tp.notified[NET_TXQ], 1);
	ck_assert_uint_eq(stats().tx_frames, 1);
	ck_assert_uint_eq(stats().tx_bytes, 100); /* the frame, not the header (metrics) */
}
END_TEST

START_TEST(tx_oversize_and_runt_dropped)
{
	/* 12 + NET_MAX_FRAME + 1 bytes: dropped, buffer still returned */
	desc(NET_TXQ, 0, BUF, NET_HDR_SIZE + NET_MAX_FRAME + 1, 0, 0);
	vqd_publish(&Q[NET_TXQ], 0);
	/* header + 13 bytes: no Ethernet header */
	desc(NET_TXQ, 1, BUF, NET_HDR_SIZE + 13, 0, 0);
	vqd_publish(&Q[NET_TXQ], 1);
	/* exactly the maximum: sent */
	desc(NET_TXQ, 2, BUF, NET_HDR_SIZE + NET_MAX_FRAME, 0, 0);
	vqd_publish(&Q[NET_TXQ], 2);
	vqd_dev_kick(vd, NET_TXQ);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_TXQ]), 3);
	ck_assert_int_eq(be.frames, 1);
	ck_assert_uint_eq(be.len, NET_MAX_FRAME);
	ck_assert_uint_eq(stats().tx_dropped, 2);
	ck_assert_uint_eq(stats().tx_bytes, NET_MAX_FRAME); /* dropped frames not counted */
	ck_assert(!vd->needs_reset);
}
END_TEST

START_TEST(rx_copy)
{
	uint8_t f[60], hdr[NET_HDR_SIZE];
	frame(f, sizeof(f), 9);
	/* header split across two writable descriptors */
	desc(NET_RXQ, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(NET_RXQ, 1, BUF + 0x1000, 1600, VRING_DESC_F_WRITE, 0);
	memset(ram + BUF, 0xee, 8);
	memset(ram + BUF + 0x1000, 0xee, 1600);
	vqd_publish(&Q[NET_RXQ], 0);
	vqd_dev_kick(vd, NET_RXQ);
	ck_assert_int_eq(virtio_net_receive(vd, f, sizeof(f)), 0);
	virtio_net_poll(vd);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_RXQ]), 1);
	ck_assert_uint_eq(vqd_used_len_at(&Q[NET_RXQ], 0), NET_HDR_SIZE + sizeof(f));
	memcpy(hdr, ram + BUF, 8);
	memcpy(hdr + 8, ram + BUF + 0x1000, 4);
	ck_assert_mem_eq(hdr, ((uint8_t[NET_HDR_SIZE]){ [10] = 1 }), NET_HDR_SIZE);
	ck_assert_mem_eq(ram + BUF + 0x1000 + 4, f, sizeof(f));
	ck_assert_uint_eq(ram[BUF + 0x1000 + 4 + sizeof(f)], 0xee);
	ck_assert_uint_ge(tp.notified[NET_RXQ], 1);
	ck_assert_uint_eq(stats().rx_frames, 1);
	ck_assert_uint_eq(stats().rx_bytes, sizeof(f));
}
END_TEST

START_TEST(rx_backlog_bounded)
{
	uint8_t f[64];
	frame(f, sizeof(f), 1);
	/* no rx buffers: the first NET_RX_BACKLOG wait, the rest are dropped */
	for (unsigned i = 0; i < NET_RX_BACKLOG + 10; i++)
		ck_assert_int_eq(virtio_net_receive(vd, f, sizeof(f)),
				 i < NET_RX_BACKLOG ? 0 : -ENOBUFS);
	virtio_net_poll(vd);
	struct virtio_net_stats st = stats();
	ck_assert_uint_eq(st.rx_queued, NET_RX_BACKLOG);
	ck_assert_uint_eq(st.rx_dropped, 10);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_RXQ]), 0);
	/* the driver adds 16 buffers and kicks: 16 delivered, in order */
	for (unsigned i = 0; i < QSZ; i++) {
		desc(NET_RXQ, i, BUF + 0x800 * i, 0x800, VRING_DESC_F_WRITE, 0);
		vqd_publish(&Q[NET_RXQ], (uint16_t)i);
	}
	vqd_dev_kick(vd, NET_RXQ);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_RXQ]), QSZ);
	st = stats();
	ck_assert_uint_eq(st.rx_frames, QSZ);
	ck_assert_uint_eq(st.rx_queued, NET_RX_BACKLOG - QSZ);
	/* size limits */
	ck_assert_int_eq(virtio_net_receive(vd, f, 13), -EMSGSIZE);
	ck_assert_int_eq(virtio_net_receive(vd, ram, NET_MAX_FRAME + 1), -EMSGSIZE);
	/* a reset drops the backlog and closes the device to the backend */
	vqd_dev_reset(vd);
	ck_assert_uint_eq(stats().rx_queued, 0);
	ck_assert_int_eq(virtio_net_receive(vd, f, sizeof(f)), -ENETDOWN);
}
END_TEST

START_TEST(rx_buffer_too_small)
{
	uint8_t f[200];
	frame(f, sizeof(f), 5);
	desc(NET_RXQ, 0, BUF, NET_HDR_SIZE + 100, VRING_DESC_F_WRITE, 0);
	vqd_publish(&Q[NET_RXQ], 0);
	desc(NET_RXQ, 1, BUF + 0x1000, 2048, VRING_DESC_F_WRITE, 0);
	vqd_publish(&Q[NET_RXQ], 1);
	ck_assert_int_eq(virtio_net_receive(vd, f, sizeof(f)), 0);
	ck_assert_int_eq(virtio_net_receive(vd, f, sizeof(f)), 0);
	virtio_net_poll(vd);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_RXQ]), 2);
	ck_assert_uint_eq(vqd_used_len_at(&Q[NET_RXQ], 0), 0);                /* dropped */
	ck_assert_uint_eq(vqd_used_len_at(&Q[NET_RXQ], 1), NET_HDR_SIZE + 200); /* next one fits */
	ck_assert_uint_eq(stats().rx_dropped, 1);
	ck_assert(!vd->needs_reset);
}
END_TEST

START_TEST(tx_loop_needs_reset)
{
	desc(NET_TXQ, 0, BUF, 64, VRING_DESC_F_NEXT, 1);
	desc(NET_TXQ, 1, BUF, 64, VRING_DESC_F_NEXT, 0);   /* 0 -> 1 -> 0 */
	vqd_publish(&Q[NET_TXQ], 0);
	vqd_dev_kick(vd, NET_TXQ);
	ck_assert_uint_eq(tp.needs_reset, 1);
	ck_assert(vd->needs_reset);
	ck_assert_int_eq(be.frames, 0);
	/* frames for a broken device are refused, nothing is written */
	ck_assert_int_ne(virtio_net_receive(vd, ram, 64), 0);
}
END_TEST

START_TEST(rx_bad_avail_needs_reset)
{
	uint16_t idx = 100;                    /* more than QSZ ahead (2.7.13) */
	memcpy(ram + AVAIL(NET_RXQ) + 2, &idx, 2);
	ck_assert_int_eq(virtio_net_receive(vd, ram + BUF, 64), 0);
	virtio_net_poll(vd);
	ck_assert_uint_eq(tp.needs_reset, 1);
	ck_assert(vd->needs_reset);
	ck_assert_uint_eq(vqd_used_idx(&Q[NET_RXQ]), 0);
	ck_assert_uint_eq(stats().rx_queued, 0);
	/* rx buffer outside guest RAM */
	teardown();
	setup();
	desc(NET_RXQ, 0, RAM_SIZE - 16, 2048, VRING_DESC_F_WRITE, 0);
	vqd_publish(&Q[NET_RXQ], 0);
	ck_assert_int_eq(virtio_net_receive(vd, ram + BUF, 64), 0);
	virtio_net_poll(vd);
	ck_assert_uint_eq(tp.needs_reset, 1);
}
END_TEST

START_TEST(inactive_refuses)
{
	vqd_dev_reset(vd);
	ck_assert_int_eq(virtio_net_receive(vd, ram, 64), -ENETDOWN);
	/* activate with only one queue ready fails */
	vq_reset(&vd->vq[NET_TXQ]);
	ck_assert_int_lt(vqd_dev_activate(vd), 0);
}
END_TEST

/* ---- --net parsing ---- */

/* EVENT_IDX negotiated: every transmit after the ring drained is kicked and
 * sent; rx buffers posted after the device found none are kicked too. */
START_TEST(event_idx_tx_rx)
{
	struct vqd rx, tx;
	uint32_t len;

	vqd_init(&tx, ram, QSZ, vqd_init(&rx, ram, QSZ, 0x40000, true), true);
	ck_assert_int_eq(vqd_attach(&rx, &vd->vq[NET_RXQ], &mem, false), 0);
	ck_assert_int_eq(vqd_attach(&tx, &vd->vq[NET_TXQ], &mem, false), 0);
	for (unsigned i = 0; i < 6; i++) {
		memset(ram + BUF, 0, NET_HDR_SIZE);
		frame(ram + BUF + NET_HDR_SIZE, 60, (uint8_t)i);
		vqd_add1(&tx, BUF, NET_HDR_SIZE + 60, false);
		ck_assert_msg(vqd_kick_needed(&tx), "frame %u: the driver would not kick", i);
		vqd_dev_kick(vd, NET_TXQ);
		ck_assert_msg(vqd_get_used(&tx, NULL, NULL), "frame %u not completed", i);
		ck_assert_int_eq(be.frames, (int)i + 1);
	}
	for (unsigned i = 0; i < 4; i++) {
		frame(ram + BUF, 60, (uint8_t)i);
		ck_assert_int_eq(virtio_net_receive(vd, ram + BUF, 60), 0);
		virtio_net_poll(vd); /* no rx buffer: stays queued, kicks re-armed */
		ck_assert_uint_eq(stats().rx_queued, 1);
		vqd_add1(&rx, BUF + 0x1000, 2048, true);
		ck_assert_msg(vqd_kick_needed(&rx), "rx buffer %u not kicked", i);
		vqd_dev_kick(vd, NET_RXQ);
		ck_assert(vqd_get_used(&rx, NULL, &len));
		ck_assert_uint_eq(len, NET_HDR_SIZE + 60);
	}
}
END_TEST

/* Issue 10 finding 4: NET_TX_BUDGET frames per callback, then a re-kick. */
START_TEST(tx_budget_returns_control)
{
	struct vqd tx;

	vqd_init(&tx, ram, 128, 0x40000, false);
	ck_assert_int_eq(vqd_attach(&tx, &vd->vq[NET_TXQ], &mem, false), 0);
	tp.can_rekick = true;
	memset(ram + BUF, 0, NET_HDR_SIZE + 60);
	for (unsigned i = 0; i < NET_TX_BUDGET + 5; i++)
		vqd_add1(&tx, BUF, NET_HDR_SIZE + 60, false);
	vqd_dev_kick(vd, NET_TXQ);
	ck_assert_uint_eq(vqd_used_idx(&tx), NET_TX_BUDGET);
	ck_assert_uint_eq(tp.rekicks[NET_TXQ], 1);
	ck_assert_uint_eq(vqd_used_flags(&tx), VRING_USED_F_NO_NOTIFY);
	vqd_dev_kick(vd, NET_TXQ);
	ck_assert_uint_eq(vqd_used_idx(&tx), NET_TX_BUDGET + 5);
	ck_assert_uint_eq(vqd_used_flags(&tx), 0); /* drained: kicks wanted again */
	ck_assert_int_eq(be.frames, (int)NET_TX_BUDGET + 5);
}
END_TEST

START_TEST(parse_net_good)
{
	struct net_config n;
	char err[CONFIG_ERR_LEN];

	ck_assert_int_eq(parse_net("none", &n, err), 0);
	ck_assert_int_eq(n.kind, NET_NONE);
#ifdef HAVE_SLIRP
	ck_assert_int_eq(parse_net("user", &n, err), 0);
	ck_assert_int_eq(n.kind, NET_USER);
	ck_assert_uint_eq(n.nfwd, 0);
	ck_assert_mem_eq(n.mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	ck_assert_int_eq(parse_net("user,hostfwd=udp:127.0.0.1:5555-:7,hostfwd=tcp::2222-10.0.2.15:22,"
				   "hostfwd=::8080-:80,mac=02:aa:bb:cc:dd:ee", &n, err), 0);
	ck_assert_uint_eq(n.nfwd, 3);
	ck_assert(n.fwd[0].udp);
	ck_assert_uint_eq(n.fwd[0].host_port, 5555);
	ck_assert_uint_eq(n.fwd[0].guest_port, 7);
	ck_assert_uint_eq(ntohl(n.fwd[0].host_addr), 0x7f000001);
	ck_assert_uint_eq(ntohl(n.fwd[0].guest_addr), NET_USER_GUEST);
	ck_assert(!n.fwd[1].udp);
	ck_assert_uint_eq(ntohl(n.fwd[1].host_addr), 0x7f000001);  /* default bind */
	ck_assert_uint_eq(n.fwd[1].guest_port, 22);
	ck_assert(!n.fwd[2].udp);                                   /* protocol omitted: tcp */
	ck_assert_mem_eq(n.mac, ((uint8_t[]){ 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee }), 6);

	struct vm_config c;
	config_init(&c);
	ck_assert_int_eq(c.net.kind, NET_NONE);                     /* default none */
	ck_assert_int_eq(config_set(&c, "net", "user,hostfwd=tcp::2222-:22", err), 0);
	ck_assert_int_eq(c.net.kind, NET_USER);
	ck_assert_int_eq(config_set(&c, "net", "none", err), 0);
	ck_assert_int_eq(c.net.kind, NET_NONE);
	config_free(&c);
#else
	ck_assert_int_ne(parse_net("user", &n, err), 0);
	ck_assert_ptr_nonnull(strstr(err, "libslirp"));
#endif
}
END_TEST

START_TEST(parse_net_bad)
{
	static const char *bad[] = {
		"", "tap", "user,hostfwd=", "user,hostfwd=icmp::1-:2", "user,hostfwd=tcp:1-:2",
		"user,hostfwd=tcp::0-:22", "user,hostfwd=tcp::70000-:22", "user,hostfwd=tcp::22-:",
		"user,hostfwd=tcp::22-:x", "user,hostfwd=tcp:300.1.1.1:22-:22",
		"user,hostfwd=tcp::22-192.168.1.5:22", "user,hostfwd=tcp::22:22",
		"user,hostfwd=tcp::22-:22:1", "user,hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23",
		"user,mac=01:00:00:00:00:01", "user,mac=52:54:00:12:34", "user,mac=52:54:00:12:34:5g",
		"user,frob=1", "none,hostfwd=tcp::1-:2",
	};
	struct net_config n = { .kind = NET_NONE };
	char err[CONFIG_ERR_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_msg(parse_net(bad[i], &n, err) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_msg(strstr(err, "--net"), "no message for '%s'", bad[i]);
		ck_assert_int_eq(n.kind, NET_NONE);                 /* untouched on error */
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *d = tcase_create("device");
	tcase_add_checked_fixture(d, setup, teardown);
	tcase_add_test(d, config_space);
	tcase_add_test(d, tx_gather);
	tcase_add_test(d, tx_oversize_and_runt_dropped);
	tcase_add_test(d, rx_copy);
	tcase_add_test(d, rx_backlog_bounded);
	tcase_add_test(d, rx_buffer_too_small);
	tcase_add_test(d, tx_loop_needs_reset);
	tcase_add_test(d, rx_bad_avail_needs_reset);
	tcase_add_test(d, inactive_refuses);
	tcase_add_test(d, event_idx_tx_rx);
	tcase_add_test(d, tx_budget_returns_control);
	suite_add_tcase(s, d);
	TCase *p = tcase_create("parse");
	tcase_add_test(p, parse_net_good);
	tcase_add_test(p, parse_net_bad);
	suite_add_tcase(s, p);
	return run_suite(s);
}
