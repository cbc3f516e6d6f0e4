/* The libslirp backend's host-socket cap (issue 10 finding 6): UDP datagrams
 * from many guest source ports made slirp open one host socket each, without
 * bound. Counts this process's open fds while a guest floods. */
#include <check.h>
#include <dirent.h>
#include <string.h>
#include <time.h>

#include "check_util.h"
#include "cli/config.h"
#include "host/net_slirp.h"

static void rx(void *opaque, const uint8_t *frame, size_t len) {}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Ethernet + IPv4 + UDP 10.0.2.15:sport -> 192.0.2.1:9 (TEST-NET-1), 4 bytes. */
static size_t udp_frame(uint8_t *f, uint16_t sport)
{
	static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint8_t *ip = f + 14, *u = ip + 20;
	uint32_t sum = 0;

	memset(f, 0, 14 + 20 + 12);
	memcpy(f, gw_mac, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 12);
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10; ip[13] = 0; ip[14] = 2; ip[15] = 15;
	ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 1;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
	put16(u, sport);
	put16(u + 2, 9);
	put16(u + 4, 12);
	memcpy(u + 8, "ping", 4);
	return 14 + 20 + 12;
}

START_TEST(socket_cap)
{
	struct net_config cfg = { .kind = NET_USER };
	struct net_slirp *ns = NULL;
	char err[NET_SLIRP_ERR_LEN];
	uint8_t f[128];

	ck_assert_msg(net_slirp_create(&cfg, rx, NULL, &ns, err) == 0, "%s", err);
	unsigned before = open_fds();
	for (unsigned i = 0; i < 2000; i++) {
		size_t n = udp_frame(f, (uint16_t)(10000 + i));
		net_slirp_send(ns, f, n);
		if (i % 50 == 49)
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL); /* let the thread poll */
	}
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	unsigned after = open_fds();
	ck_assert_msg(after <= before + NET_SLIRP_MAX_SOCKETS + 8,
		      "%u fds before, %u after 2000 guest UDP flows (cap %u)", before, after,
		      NET_SLIRP_MAX_SOCKETS);
	ck_assert_uint_ge(after, before + NET_SLIRP_MAX_SOCKETS / 2); /* flows did open sockets */
	net_slirp_destroy(ns);
	ck_assert_uint_le(open_fds(), before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_slirp");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, socket_cap);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
