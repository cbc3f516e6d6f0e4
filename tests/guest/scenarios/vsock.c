/* virtio-vsock (1af4:1053) polled driver and one scenario:
 *   vsock-echo  connect from guest port 1024 to the host (CID 2) port
 *               tk.port (default 5000), echo every byte the host sends,
 *               respecting the host's credit, until the host shuts the
 *               connection down; then print the byte count and sum. */
#include "virtio.h"

#define HDR   44u
#define NRX   16
#define BUFSZ (HDR + 4096u)
#define OURPORT 1024u
#define OUR_BUF (64u * 1024)

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST };

struct vs {
	struct vdev v;
	uint64_t cid;
	uint32_t port;
	uint8_t *rx, *tx;
	uint32_t fwd_cnt;           /* bytes we consumed */
	uint32_t tx_cnt, peer_alloc, peer_fwd;
};

static uint32_t g32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void p32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void p64(uint8_t *p, uint64_t v) { p32(p, (uint32_t)v); p32(p + 4, (uint32_t)(v >> 32)); }

static void rx_post(struct vs *s, uint16_t i)
{
	vq_desc(&s->v.vq[0], i, (uintptr_t)(s->rx + i * BUFSZ), BUFSZ, VRING_DESC_F_WRITE, 0);
	vq_push(&s->v.vq[0], i);
}

static void vs_send(struct vs *s, uint16_t op, uint32_t flags, const uint8_t *data, uint32_t len)
{
	uint32_t id, l;
	memset(s->tx, 0, HDR);
	p64(s->tx, s->cid);
	p64(s->tx + 8, 2);
	p32(s->tx + 16, OURPORT);
	p32(s->tx + 20, s->port);
	p32(s->tx + 24, len);
	s->tx[28] = 1;                 /* stream */
	s->tx[30] = (uint8_t)op;
	p32(s->tx + 32, flags);
	p32(s->tx + 36, OUR_BUF);
	p32(s->tx + 40, s->fwd_cnt);
	if (len)
		memcpy(s->tx + HDR, data, len);
	vq_desc(&s->v.vq[1], 0, (uintptr_t)s->tx, HDR + len, 0, 0);
	vq_push(&s->v.vq[1], 0);
	vq_kick(&s->v.vq[1]);
	if (!vq_poll(&s->v.vq[1], &id, &l, 5000))
		tk_fail(NULL, "vsock transmit not completed");
	if (vdev_status(&s->v) & VIRTIO_S_NEEDS_RESET)
		tk_fail(NULL, "vsock device needs reset");
	s->tx_cnt += len;
}

/* Next packet: op returned, payload at *data, *len; 0 on timeout. The
 * buffer is recycled by the caller with rx_post + kick (id in *bid). */
static int vs_recv(struct vs *s, uint8_t **data, uint32_t *len, uint16_t *bid, uint32_t ms)
{
	uint32_t i, l;
	if (!vq_poll(&s->v.vq[0], &i, &l, ms))
		return 0;
	if (i >= NRX || l < HDR || l > BUFSZ)
		tk_fail(NULL, "bad vsock rx entry id %u len %u", i, l);
	uint8_t *b = s->rx + i * BUFSZ;
	*len = g32(b + 24);
	if (*len != l - HDR)
		tk_fail(NULL, "vsock rx len %u but %u bytes used", *len, l - HDR);
	if (g32(b + 20) != OURPORT || g32(b + 16) != s->port)
		tk_fail(NULL, "vsock rx for port %u from %u", g32(b + 20), g32(b + 16));
	s->peer_alloc = g32(b + 36);
	s->peer_fwd = g32(b + 40);
	*data = b + HDR;
	*bid = (uint16_t)i;
	return b[30];
}

static void recycle(struct vs *s, uint16_t id)
{
	rx_post(s, id);
	vq_kick(&s->v.vq[0]);
}

int scen_vsock_echo(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct vs s;
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(19), 0);
	uint8_t *data;
	uint32_t len, total = 0, sum = 0;
	uint16_t id;
	int op;

	if (!d)
		tk_fail(NULL, "no virtio-vsock (1af4:1053)");
	if (vdev_probe(&s.v, d) || !s.v.devcfg || vdev_init(&s.v, 0))
		tk_fail(NULL, "virtio-vsock init failed");
	s.cid = mmio_read32(s.v.devcfg) | (uint64_t)mmio_read32(s.v.devcfg + 4) << 32;
	s.port = opt_u32(bi, "tk.port", 5000);
	if (vq_setup(&s.v, 0, NRX) || vq_setup(&s.v, 1, 16))
		tk_fail(NULL, "vsock queue setup failed");
	s.rx = tk_alloc(NRX * BUFSZ, 4096);
	s.tx = tk_alloc(BUFSZ, 4096);
	vdev_driver_ok(&s.v);
	for (uint16_t i = 0; i < NRX; i++)
		rx_post(&s, i);
	vq_kick(&s.v.vq[0]);
	kprintf("TK: vsock cid %u connecting to port %u\n", (unsigned)s.cid, s.port);
	vs_send(&s, OP_REQUEST, 0, 0, 0);
	op = vs_recv(&s, &data, &len, &id, 5000);
	recycle(&s, id);
	if (op != OP_RESPONSE)
		tk_fail(NULL, "vsock connect: op %d instead of RESPONSE", op);
	kprintf("TK: vsock connected\n");
	for (;;) {
		op = vs_recv(&s, &data, &len, &id, 20000);
		if (!op)
			tk_fail(NULL, "vsock: nothing from the host for 20 s");
		if (op == OP_SHUTDOWN || op == OP_RST) {
			recycle(&s, id);
			break;
		}
		if (op != OP_RW) {
			recycle(&s, id);
			continue;          /* credit updates: header already taken */
		}
		for (uint32_t i = 0; i < len; i++)
			sum += data[i];
		total += len;
		/* echo within the host's credit; a credit update arrives as the host drains */
		while (s.peer_alloc - (s.tx_cnt - s.peer_fwd) < len) {
			uint8_t *d2;
			uint32_t l2;
			uint16_t id2;
			vs_send(&s, OP_CREDIT_REQUEST, 0, 0, 0);
			int o2 = vs_recv(&s, &d2, &l2, &id2, 5000);
			if (o2 != OP_CREDIT_UPDATE)
				tk_fail(NULL, "vsock: waiting for credit, got op %d", o2);
			recycle(&s, id2);
		}
		s.fwd_cnt += len;
		vs_send(&s, OP_RW, 0, data, len);
		recycle(&s, id);
	}
	vs_send(&s, OP_RST, 0, 0, 0);
	kprintf("TK: vsock echoed %u bytes sum %u\n", total, sum);
	return 0;
}
