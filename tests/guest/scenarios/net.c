/* virtio-net (1af4:1041) polled driver and two scenarios on myvmm's user
 * network (10.0.2.0/24, gateway 10.0.2.2, us 10.0.2.15):
 *   net       ARP for the gateway, then one ICMP echo to it.
 *   net-echo  answer ARP for 10.0.2.15 and echo UDP datagrams to port 7
 *             until one whose payload is "quit".
 *   net-probe one UDP datagram to 10.0.2.2:tk.port (the host's loopback
 *             when --net user,host-loopback=on), or to 10.0.2.<tk.host>, or
 *             with tk.lo=1 to 127.0.0.1, and report whether an answer came
 *             back; passes either way (the host test decides). */
#include "virtio.h"

#define VIRTIO_NET_F_MAC    (1ULL << 5)
#define VIRTIO_NET_F_STATUS (1ULL << 16)
#define NET_HDR   12u            /* struct virtio_net_hdr_v1 */
#define NRX       16
#define BUFSZ     2048u
#define ETH_ARP   0x0806
#define ETH_IP    0x0800

static const uint8_t our_ip[4] = { 10, 0, 2, 15 };
static const uint8_t gw_ip[4] = { 10, 0, 2, 2 };

struct net {
	struct vdev v;
	uint8_t mac[6];
	uint8_t *rx;                 /* NRX buffers of BUFSZ */
	uint8_t *tx;                 /* one buffer of BUFSZ */
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 1071 ones'-complement sum, folded and inverted. */
static uint16_t csum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void print_mac(const char *what, const uint8_t *m)
{
	kprintf("TK: net %s %02x:%02x:%02x:%02x:%02x:%02x\n", what, m[0], m[1], m[2], m[3], m[4],
		m[5]);
}

static void rx_post(struct net *n, uint16_t i)
{
	vq_desc(&n->v.vq[0], i, (uintptr_t)(n->rx + i * BUFSZ), BUFSZ, VRING_DESC_F_WRITE, 0);
	vq_push(&n->v.vq[0], i);
}

static void net_open(struct net *n)
{
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(1), 0);
	if (!d)
		tk_fail(NULL, "no virtio-net (1af4:1041)");
	if (vdev_probe(&n->v, d) || !n->v.devcfg)
		tk_fail(NULL, "virtio-net caps missing");
	if (vdev_init(&n->v, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS))
		tk_fail(NULL, "feature negotiation failed (offered 0x%llx)",
			(unsigned long long)n->v.offered);
	if (!(n->v.features & VIRTIO_NET_F_MAC))
		tk_fail(NULL, "no VIRTIO_NET_F_MAC");
	for (int i = 0; i < 6; i++)
		n->mac[i] = mmio_read8(n->v.devcfg + (uint32_t)i);
	if ((n->v.features & VIRTIO_NET_F_STATUS) && !(mmio_read16(n->v.devcfg + 6) & 1))
		tk_fail(NULL, "link down");
	if (vq_setup(&n->v, 0, NRX) || vq_setup(&n->v, 1, 16))
		tk_fail(NULL, "queue setup failed");
	n->rx = tk_alloc(NRX * BUFSZ, 4096);
	n->tx = tk_alloc(BUFSZ, 4096);
	vdev_driver_ok(&n->v);
	for (uint16_t i = 0; i < NRX; i++)
		rx_post(n, i);
	vq_kick(&n->v.vq[0]);
	print_mac("mac", n->mac);
}

/* Sends n->tx[NET_HDR..NET_HDR+len) and waits for the device to take it. */
static void net_send(struct net *n, uint32_t len)
{
	uint32_t id, l;
	memset(n->tx, 0, NET_HDR);
	vq_desc(&n->v.vq[1], 0, (uintptr_t)n->tx, NET_HDR + len, 0, 0);
	vq_push(&n->v.vq[1], 0);
	vq_kick(&n->v.vq[1]);
	if (!vq_poll(&n->v.vq[1], &id, &l, 2000))
		tk_fail(NULL, "transmit not completed");
	if (vdev_status(&n->v) & VIRTIO_S_NEEDS_RESET)
		tk_fail(NULL, "device needs reset");
}

/* Waits up to ms for a frame; returns its length (pointer in *f) or 0. The
 * caller hands the buffer back with net_recycle(id). */
static uint32_t net_recv(struct net *n, uint8_t **f, uint16_t *id, uint32_t ms)
{
	uint32_t i, len;
	if (!vq_poll(&n->v.vq[0], &i, &len, ms))
		return 0;
	if (i >= NRX || len < NET_HDR + 14 || len > BUFSZ)
		tk_fail(NULL, "bad rx used entry id %u len %u", i, len);
	*id = (uint16_t)i;
	*f = n->rx + i * BUFSZ + NET_HDR;
	return len - NET_HDR;
}

static void net_recycle(struct net *n, uint16_t id)
{
	rx_post(n, id);
	vq_kick(&n->v.vq[0]);
}

static uint32_t eth_hdr(struct net *n, uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, n->mac, 6);
	put16(f + 12, type);
	return 14;
}

/* ARP (RFC 826) for Ethernet/IPv4: op 1 request, 2 reply. */
static void send_arp(struct net *n, uint16_t op, const uint8_t *tha, const uint8_t *tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *f = n->tx + NET_HDR;
	uint32_t o = eth_hdr(n, f, op == 1 ? bcast : tha, ETH_ARP);
	put16(f + o, 1);
	put16(f + o + 2, ETH_IP);
	f[o + 4] = 6;
	f[o + 5] = 4;
	put16(f + o + 6, op);
	memcpy(f + o + 8, n->mac, 6);
	memcpy(f + o + 14, our_ip, 4);
	if (op == 1)
		memset(f + o + 18, 0, 6);
	else
		memcpy(f + o + 18, tha, 6);
	memcpy(f + o + 24, tpa, 4);
	net_send(n, o + 28);
}

static bool is_arp(const uint8_t *f, uint32_t len, uint16_t op)
{
	return len >= 42 && get16(f + 12) == ETH_ARP && get16(f + 14) == 1 &&
	       get16(f + 16) == ETH_IP && f[18] == 6 && f[19] == 4 && get16(f + 20) == op;
}

/* ARP-resolves the gateway into gw_mac (3 tries). */
static void resolve_gateway(struct net *n, uint8_t gw_mac[6])
{
	for (int tries = 0; tries < 3; tries++) {
		struct deadline d;
		send_arp(n, 1, NULL, gw_ip);
		deadline_start(&d, 2000);
		while (!deadline_passed(&d)) {
			uint8_t *f;
			uint16_t id;
			uint32_t len = net_recv(n, &f, &id, 100);
			if (!len)
				continue;
			bool hit = is_arp(f, len, 2) && !memcmp(f + 28, gw_ip, 4);
			if (hit)
				memcpy(gw_mac, f + 22, 6);
			net_recycle(n, id);
			if (hit)
				return;
		}
	}
	tk_fail(NULL, "no ARP reply from 10.0.2.2");
}

/* IPv4 header (20 bytes, no options) at f; payload len bytes. */
static void ip_hdr(uint8_t *f, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		   uint32_t len, uint16_t ident)
{
	f[0] = 0x45;
	f[1] = 0;
	put16(f + 2, (uint16_t)(20 + len));
	put16(f + 4, ident);
	put16(f + 6, 0);
	f[8] = 64;
	f[9] = proto;
	put16(f + 10, 0);
	memcpy(f + 12, src, 4);
	memcpy(f + 16, dst, 4);
	put16(f + 10, csum(f, 20));
}

int scen_net(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct net n;
	uint8_t gw[6];

	net_open(&n);
	resolve_gateway(&n, gw);
	kprintf("TK: net arp 10.0.2.2 is %02x:%02x:%02x:%02x:%02x:%02x\n", gw[0], gw[1], gw[2],
		gw[3], gw[4], gw[5]);

	for (int tries = 0; tries < 3; tries++) {
		uint8_t *f = n.tx + NET_HDR, *icmp = f + 34;
		uint32_t o = eth_hdr(&n, f, gw, ETH_IP);
		struct deadline d;

		/* ICMP echo request (RFC 792): id 0x7e57, seq 1, 32 bytes of data. */
		memset(icmp, 0, 8 + 32);
		icmp[0] = 8;
		put16(icmp + 4, 0x7e57);
		put16(icmp + 6, 1);
		for (int i = 0; i < 32; i++)
			icmp[8 + i] = (uint8_t)('a' + i % 26);
		put16(icmp + 2, csum(icmp, 40));
		ip_hdr(f + o, 1, our_ip, gw_ip, 40, (uint16_t)(0x100 + tries));
		net_send(&n, o + 20 + 40);

		deadline_start(&d, 2000);
		while (!deadline_passed(&d)) {
			uint8_t *r;
			uint16_t id;
			uint32_t len = net_recv(&n, &r, &id, 100);
			if (!len)
				continue;
			bool hit = false;
			if (len >= 34 + 8 && get16(r + 12) == ETH_IP && (r[14] >> 4) == 4 && r[23] == 1) {
				uint32_t ihl = (r[14] & 15u) * 4;
				const uint8_t *ic = r + 14 + ihl;
				if (ihl >= 20 && len >= 14 + ihl + 8 && ic[0] == 0 &&
				    get16(ic + 4) == 0x7e57 && !memcmp(r + 26, gw_ip, 4)) {
					kprintf("TK: net ping reply seq %u\n", get16(ic + 6));
					hit = get16(ic + 6) == 1;
				}
			}
			net_recycle(&n, id);
			if (hit)
				return 0;
		}
	}
	tk_fail(NULL, "no ICMP echo reply from 10.0.2.2");
}

/* Echoes one UDP datagram to port 7 in place; true if its payload was "quit". */
static bool udp_echo(struct net *n, const uint8_t *r, uint32_t len)
{
	uint32_t ihl = (r[14] & 15u) * 4, tot = get16(r + 16);
	const uint8_t *udp = r + 14 + ihl;

	if (ihl < 20 || tot < ihl + 8 || 14 + tot > len || (get16(r + 20) & 0x3fff))
		return false;                  /* malformed or a fragment */
	uint32_t ulen = get16(udp + 4);
	if (ulen < 8 || ulen > tot - ihl)
		return false;
	uint32_t plen = ulen - 8;
	uint8_t *f = n->tx + NET_HDR;
	uint32_t o = eth_hdr(n, f, r + 6, ETH_IP);
	ip_hdr(f + o, 17, our_ip, r + 26, ulen, get16(r + 18));
	uint8_t *u = f + o + 20;
	put16(u, get16(udp + 2));          /* swap ports */
	put16(u + 2, get16(udp));
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);                   /* no UDP checksum (RFC 768) */
	memcpy(u + 8, udp + 8, plen);
	net_send(n, o + 20 + ulen);
	kprintf("TK: net echo %u\n", plen);
	return plen == 4 && !memcmp(udp + 8, "quit", 4);
}

int scen_net_echo(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct net n;
	uint8_t gw[6];
	struct deadline d;

	net_open(&n);
	resolve_gateway(&n, gw);           /* also teaches the gateway our MAC */
	kprintf("TK: net echo ready\n");
	deadline_start(&d, opt_u32(bi, "tk.secs", 25) * 1000);
	while (!deadline_passed(&d)) {
		uint8_t *r;
		uint16_t id;
		bool quit = false;
		uint32_t len = net_recv(&n, &r, &id, 100);
		if (!len)
			continue;
		if (is_arp(r, len, 1) && !memcmp(r + 38, our_ip, 4)) {
			uint8_t sha[6], spa[4];
			memcpy(sha, r + 22, 6);
			memcpy(spa, r + 28, 4);
			net_recycle(&n, id);
			send_arp(&n, 2, sha, spa);
			continue;
		}
		if (len >= 42 && get16(r + 12) == ETH_IP && (r[14] >> 4) == 4 && r[23] == 17 &&
		    !memcmp(r + 30, our_ip, 4)) {
			uint32_t ihl = (r[14] & 15u) * 4;
			if (ihl >= 20 && len >= 14 + ihl + 8 && get16(r + 14 + ihl + 2) == 7)
				quit = udp_echo(&n, r, len);
		}
		net_recycle(&n, id);
		if (quit)
			return 0;
	}
	tk_fail(NULL, "no \"quit\" datagram within the time limit");
}

int scen_net_probe(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct net n;
	static const char probe[] = "myvmm loopback probe";
	uint32_t port = opt_u32(bi, "tk.port", 0);
	uint8_t gw[6], dst[4] = { 10, 0, 2, (uint8_t)opt_u32(bi, "tk.host", 2) };

	if (!port || port > 0xffff)
		tk_fail(NULL, "net-probe needs tk.port=1..65535");
	if (opt_u32(bi, "tk.lo", 0))
		memcpy(dst, (const uint8_t[4]){ 127, 0, 0, 1 }, 4);
	net_open(&n);
	resolve_gateway(&n, gw);
	for (int tries = 0; tries < 3; tries++) {
		uint8_t *f = n.tx + NET_HDR;
		uint32_t o = eth_hdr(&n, f, gw, ETH_IP), plen = sizeof(probe) - 1;
		uint8_t *u = f + o + 20;
		struct deadline d;

		ip_hdr(f + o, 17, our_ip, dst, 8 + plen, (uint16_t)(0x200 + tries));
		put16(u, 4444);
		put16(u + 2, (uint16_t)port);
		put16(u + 4, (uint16_t)(8 + plen));
		put16(u + 6, 0);
		memcpy(u + 8, probe, plen);
		net_send(&n, o + 20 + 8 + plen);
		deadline_start(&d, 1500);
		while (!deadline_passed(&d)) {
			uint8_t *r;
			uint16_t id;
			uint32_t len = net_recv(&n, &r, &id, 100);
			bool hit = false;
			if (!len)
				continue;
			if (len >= 42 && get16(r + 12) == ETH_IP && (r[14] >> 4) == 4 && r[23] == 17 &&
			    !memcmp(r + 26, dst, 4)) {
				uint32_t ihl = (r[14] & 15u) * 4;
				const uint8_t *ud = r + 14 + ihl;
				if (ihl >= 20 && len >= 14 + ihl + 8 && get16(ud) == port &&
				    get16(ud + 2) == 4444) {
					kprintf("TK: net probe reply %u bytes\n", get16(ud + 4) - 8u);
					hit = true;
				}
			}
			net_recycle(&n, id);
			if (hit)
				return 0;
		}
	}
	kprintf("TK: net probe no reply\n");
	return 0;
}
