/* virtio-vsock as a device (fake transport, shared driver-side virtqueue,
 * a real event loop and real unix sockets): guest- and host-initiated
 * connections in the hybrid convention, data both ways, credit limits, and
 * hostile packets. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_util.h"
#include "devices/virtio/vsock.h"
#include "host/evloop.h"
#include "virtq_driver.h"

#define RAM_SIZE (1u << 20)
#define RXBUF 0x40000u
#define RXLEN (VSOCK_HDR_LEN + 4096)
#define TXBUF 0x80000u
#define GCID 3

static struct guest_mem mem;
static uint8_t *ram;
static struct virtio_dev *vd;
static struct vqd_transport tp;
static struct vqd rxq, txq, evq;
static struct evloop *loop;
static char dir[32], base[64];
static unsigned rx_posted;

static void quit(void *opaque) { evloop_quit(opaque); }

/* Runs the event loop for ms milliseconds. */
static void pump(unsigned ms)
{
	int t = evloop_add_timer(loop, ms, 0, quit, loop);
	ck_assert_int_ge(t, 0);
	evloop_run(loop);
}

static void post_rx(unsigned n)
{
	for (unsigned i = 0; i < n; i++, rx_posted++)
		vqd_add1(&rxq, RXBUF + (rx_posted % 16) * 0x2000, RXLEN, true);
	vqd_dev_kick(vd, 0);
}

static void setup(void)
{
	char err[256] = "";
	snprintf(dir, sizeof(dir), "/tmp/vsockXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/v.sock", dir);
	loop = evloop_create();
	ram = vqd_ram_init(&mem, RAM_SIZE);
	ck_assert_msg(virtio_vsock_create(GCID, base, loop, &vd, err, sizeof(err)) == 0, "%s", err);
	vqd_transport_attach(&tp, vd, &mem);
	uint64_t next = vqd_init(&rxq, ram, 16, 0x1000, false);
	next = vqd_init(&txq, ram, 16, next, false);
	vqd_init(&evq, ram, 16, next, false);
	ck_assert_int_eq(vqd_attach(&rxq, &vd->vq[0], &mem, false), 0);
	ck_assert_int_eq(vqd_attach(&txq, &vd->vq[1], &mem, false), 0);
	ck_assert_int_eq(vqd_attach(&evq, &vd->vq[2], &mem, false), 0);
	ck_assert_int_eq(vqd_dev_activate(vd), 0);
	rx_posted = 0;
}

static void teardown(void)
{
	char p[160];
	virtio_dev_destroy(vd);
	evloop_destroy(loop);
	vqd_ram_free(&mem);
	snprintf(p, sizeof(p), "%s_1234", base);
	unlink(p);
	rmdir(dir);
}

/* The guest sends one packet (header + payload) on the tx queue. */
static int guest_send(uint32_t sport, uint32_t dport, uint16_t op, uint32_t flags,
		      uint32_t buf_alloc, uint32_t fwd, const void *data, uint32_t len)
{
	struct vsock_hdr h = { .src_cid = GCID, .dst_cid = VSOCK_HOST_CID, .src_port = sport,
			       .dst_port = dport, .len = len, .type = VSOCK_TYPE_STREAM, .op = op,
			       .flags = flags, .buf_alloc = buf_alloc, .fwd_cnt = fwd };
	vsock_hdr_encode(&h, ram + TXBUF);
	memcpy(ram + TXBUF + VSOCK_HDR_LEN, data, len);
	vqd_add1(&txq, TXBUF, VSOCK_HDR_LEN + len, false);
	return vqd_dev_kick(vd, 1);
}

/* The next packet the device gave the guest; false if none. */
static bool guest_recv(struct vsock_hdr *h, uint8_t *data)
{
	uint32_t id, len;
	if (!vqd_get_used(&rxq, &id, &len))
		return false;
	/* Buffers are one descriptor each, handed out round-robin: the
	 * descriptor id says which buffer. */
	uint8_t *b = ram + RXBUF + (id % 16) * 0x2000;
	ck_assert_uint_ge(len, VSOCK_HDR_LEN);
	vsock_hdr_decode(b, h);
	ck_assert_uint_eq(len, VSOCK_HDR_LEN + h->len);
	if (data)
		memcpy(data, b + VSOCK_HDR_LEN, h->len);
	return true;
}

static int listen_at(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_uint_lt(strlen(path), sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	return read(fd, buf, len);
}

START_TEST(guest_connects_data_both_ways)
{
	struct vsock_hdr h;
	uint8_t data[4096];
	char path[96];
	setup();
	/* vqd hands out descriptors round-robin: 16 one-descriptor rx buffers
	 * take ids 0..15, matching RXBUF + id * 0x2000. */
	post_rx(16);
	snprintf(path, sizeof(path), "%s_1234", base);
	int lfd = listen_at(path);
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_REQUEST, 0, 65536, 0, NULL, 0), 0);
	int afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(h.src_port, 1234);
	ck_assert_uint_eq(h.dst_port, 5000);
	ck_assert_uint_eq(h.dst_cid, GCID);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	/* guest -> host */
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_RW, 0, 65536, 0, "hello", 5), 0);
	ck_assert_int_eq(read_some(afd, data, sizeof(data)), 5);
	ck_assert(!memcmp(data, "hello", 5));
	/* host -> guest, through the event loop */
	ck_assert_int_eq(write(afd, "world", 5), 5);
	pump(50);
	ck_assert(guest_recv(&h, data));
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 5);
	ck_assert(!memcmp(data, "world", 5));
	ck_assert_uint_eq(h.fwd_cnt, 5); /* the 5 bytes it forwarded */
	/* Credit: the guest has a 13-byte buffer, all free; 100 bytes wait. */
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_CREDIT_UPDATE, 0, 13, 5, NULL, 0), 0);
	memset(data, 'x', 100);
	ck_assert_int_eq(write(afd, data, 100), 100);
	pump(50);
	ck_assert(guest_recv(&h, data));
	ck_assert_uint_eq(h.len, 13);     /* 13 - (5 sent - 5 forwarded) */
	ck_assert(!guest_recv(&h, data));
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_CREDIT_UPDATE, 0, 13, 18, NULL, 0), 0);
	ck_assert(guest_recv(&h, data));
	ck_assert_uint_eq(h.len, 13);
	/* The guest closes: RST back, host socket sees EOF. */
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_SHUTDOWN, 3, 13, 31, NULL, 0), 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RST);
	pump(20);
	ssize_t n;
	while ((n = read_some(afd, data, sizeof(data))) > 0)
		;
	/* closed: EOF, or a reset since 74 of the host's bytes were never read */
	ck_assert(n == 0 || errno == ECONNRESET);
	close(afd);
	close(lfd);
	teardown();
}
END_TEST

START_TEST(host_connects)
{
	struct vsock_hdr h;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[64];
	setup();
	post_rx(16);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", base);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, "CONNECT 52\n", 11), 11);
	pump(50);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_REQUEST);
	ck_assert_uint_eq(h.dst_port, 52);
	uint32_t hp = h.src_port;
	ck_assert_int_eq(guest_send(52, hp, VSOCK_OP_RESPONSE, 0, 65536, 0, NULL, 0), 0);
	ssize_t n = read_some(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	char want[32];
	snprintf(want, sizeof(want), "OK %u\n", hp);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(write(fd, "ping", 4), 4);
	pump(50);
	uint8_t d[16];
	ck_assert(guest_recv(&h, d));
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 4);
	ck_assert(!memcmp(d, "ping", 4));
	/* host closes: SHUTDOWN to the guest */
	close(fd);
	pump(50);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(h.flags, 3);
	teardown();
}
END_TEST

/* What Linux's driver does on shutdown(SHUT_WR) (nested run "vsock"):
 * SHUTDOWN with only SEND. The host socket sees the data, then EOF, and can
 * still answer; the host's close is SHUTDOWN RCV|SEND, and the guest's
 * close after it gets the RST that ends the connection. */
START_TEST(guest_half_close)
{
	struct vsock_hdr h;
	uint8_t data[64];
	char path[96];
	setup();
	post_rx(16);
	snprintf(path, sizeof(path), "%s_1234", base);
	int lfd = listen_at(path);
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_REQUEST, 0, 65536, 0, NULL, 0), 0);
	int afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RESPONSE);
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_RW, 0, 65536, 0, "abc", 3), 0);
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_SEND, 65536, 0,
				    NULL, 0), 0);
	ck_assert_int_eq(read_some(afd, data, sizeof(data)), 3);
	ck_assert(!memcmp(data, "abc", 3));
	ck_assert_int_eq(read_some(afd, data, sizeof(data)), 0);   /* EOF: SHUT_WR passed on */
	ck_assert(!guest_recv(&h, NULL));                          /* nothing owed yet */
	ck_assert_int_eq(write(afd, "reply", 5), 5);               /* the other half still works */
	pump(50);
	ck_assert(guest_recv(&h, data));
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 5);
	ck_assert(!memcmp(data, "reply", 5));
	close(afd);
	pump(50);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_SHUTDOWN);
	ck_assert_uint_eq(h.flags, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(guest_send(5000, 1234, VSOCK_OP_SHUTDOWN, 3, 65536, 5, NULL, 0), 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RST);
	close(lfd);
	teardown();
}
END_TEST

START_TEST(hostile_packets)
{
	struct vsock_hdr h;
	setup();
	post_rx(16);
	/* no listener at PATH_77: RST */
	ck_assert_int_eq(guest_send(9, 77, VSOCK_OP_REQUEST, 0, 65536, 0, NULL, 0), 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RST);
	ck_assert_uint_eq(h.dst_port, 9);
	/* data for no connection: RST */
	ck_assert_int_eq(guest_send(9, 77, VSOCK_OP_RW, 0, 65536, 0, "abc", 3), 0);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_uint_eq(h.op, VSOCK_OP_RST);
	/* a header claiming more payload than the chain has: broken ring */
	struct vsock_hdr bad = { .src_cid = GCID, .dst_cid = 2, .src_port = 1, .dst_port = 2,
				 .len = 1000, .type = 1, .op = VSOCK_OP_RW };
	vsock_hdr_encode(&bad, ram + TXBUF);
	vqd_add1(&txq, TXBUF, VSOCK_HDR_LEN + 10, false);
	ck_assert_int_ne(vqd_dev_kick(vd, 1), 0);
	teardown();
}
END_TEST

START_TEST(short_header_breaks_ring)
{
	setup();
	vqd_add1(&txq, TXBUF, 20, false);
	ck_assert_int_ne(vqd_dev_kick(vd, 1), 0);
	teardown();
}
END_TEST

/* After a restore: VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (id 0) on the event
 * queue, now or once the guest posts an event buffer; connections dropped. */
START_TEST(transport_reset)
{
	struct vsock_hdr h;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint32_t id, len;
	char c;
	setup();
	post_rx(16);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", base);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, "CONNECT 52\n", 11), 11);
	pump(50);
	ck_assert(guest_recv(&h, NULL));
	ck_assert_int_eq(guest_send(52, h.src_port, VSOCK_OP_RESPONSE, 0, 65536, 0, NULL, 0), 0);
	ck_assert_int_gt(read_some(fd, &c, 1), 0); /* "OK ..." */
	/* No event buffer yet: the event waits. */
	ck_assert_int_eq(virtio_vsock_transport_reset(vd), 0);
	ck_assert(!vqd_get_used(&evq, &id, &len));
	memset(ram + 0x90000, 0xee, 8);
	vqd_add1(&evq, 0x90000, 8, true);
	ck_assert_int_eq(vqd_dev_kick(vd, 2), 0);
	ck_assert(vqd_get_used(&evq, &id, &len));
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(ram[0x90000] | ram[0x90001] | ram[0x90002] | ram[0x90003], 0);
	ck_assert_uint_eq(ram[0x90004], 0xee);
	/* Only once. */
	vqd_add1(&evq, 0x90000, 8, true);
	ck_assert_int_eq(vqd_dev_kick(vd, 2), 0);
	ck_assert(!vqd_get_used(&evq, &id, &len));
	/* The host client was dropped. */
	pump(50);
	ssize_t n;
	while ((n = read_some(fd, &c, 1)) > 0)
		;
	ck_assert(n == 0 || errno == ECONNRESET);
	close(fd);
	/* With a buffer already posted the event goes at once. */
	ck_assert_int_eq(virtio_vsock_transport_reset(vd), 0);
	ck_assert(vqd_get_used(&evq, &id, &len));
	ck_assert_uint_eq(len, 4);
	teardown();
}
END_TEST

START_TEST(bad_create)
{
	char err[256];
	struct virtio_dev *d;
	struct evloop *l = evloop_create();
	ck_assert_int_eq(virtio_vsock_create(2, "/tmp/x", l, &d, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "CID"));
	char f[] = "/tmp/vsockfileXXXXXX";
	int fd = mkstemp(f);
	ck_assert_int_lt(virtio_vsock_create(3, f, l, &d, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "exists"));
	ck_assert_int_eq(access(f, F_OK), 0); /* not removed */
	close(fd);
	unlink(f);
	evloop_destroy(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_vsock");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, guest_connects_data_both_ways);
	tcase_add_test(tc, host_connects);
	tcase_add_test(tc, guest_half_close);
	tcase_add_test(tc, hostile_packets);
	tcase_add_test(tc, short_header_breaks_ring);
	tcase_add_test(tc, bad_create);
	tcase_add_test(tc, transport_reset);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
