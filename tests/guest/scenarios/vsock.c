/* virtio-vsock (1af4:1053) polled driver and two scenarios:
 *   vsock-echo    connect from guest port 1024 to the host (CID 2) port
 *                 tk.port (default 5000): guest-initiated;
 *   vsock-listen  listen on port tk.port (default 5001) and accept the
 *                 host's connection (its "CONNECT <port>" on the hybrid
 *                 socket): `TK: vsock listening on port P`, then
 *                 `TK: vsock accepted host port N`; host-initiated.
 * Both then echo every byte the host sends, within the host's credit, until
 * the host shuts the connection down, and print `TK: vsock echoed <bytes>
 * bytes sum <byte sum>` (sum 0 with tk.sum=0).
 *
 * Guest code runs in an instruction emulator on some hosts, so the data
 * path does little per byte: 32 KiB receive buffers, echoes sent straight
 * from the receive buffer (no copy), the byte sum taken a word at a time.
 * Measured under kvm_pvm: echo alone ~7 MiB/s; the sum costs ~6 s per MiB
 * (memory operands are slow to emulate), hence tk.sum=0 for big transfers,
 * whose integrity the host checks on the echo (both directions at once). */
#include "virtio.h"

#define HDR      44u
#define NRX      8
#define PAYLOAD  (32u * 1024)
#define BUFSZ    (HDR + PAYLOAD)
#define ECHOPORT 1024u
#define OUR_BUF  (64u * 1024)

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST };

struct vs {
	struct vdev v;
	uint64_t cid;
	uint32_t lport, port;       /* ours, the host's (0: not known yet) */
	uint8_t *rx, *tx;
	uint32_t fwd_cnt;           /* bytes we consumed */
	uint32_t tx_cnt, peer_alloc, peer_fwd;
	bool sum;                   /* tk.sum=0: no byte sum (the host checks the echo) */
};

_Static_assert(NRX * BUFSZ <= TK_DATABUF_SIZE, "receive buffers live in tk_databuf");

static uint32_t g32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void p32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void p64(uint8_t *p, uint64_t v) { p32(p, (uint32_t)v); p32(p + 4, (uint32_t)(v >> 32)); }

/* The sum of n bytes at p (4-byte aligned), in 16-bit lanes of two words:
 * each lane takes at most 255 per word, so fold every 256 words. */
static uint32_t fast_sum(const uint8_t *p, uint32_t n)
{
	const uint32_t *w = (const uint32_t *)p;
	uint32_t total = 0, i = 0, words = n / 4;

	while (i < words) {
		uint32_t lo = 0, hi = 0, end = words - i > 256 ? i + 256 : words;
		for (; i < end; i++) {
			lo += w[i] & 0x00ff00ffu;
			hi += (w[i] >> 8) & 0x00ff00ffu;
		}
		total += (lo & 0xffff) + (lo >> 16) + (hi & 0xffff) + (hi >> 16);
	}
	for (i = words * 4; i < n; i++)
		total += p[i];
	return total;
}

static void rx_post(struct vs *s, uint16_t i)
{
	vq_desc(&s->v.vq[0], i, (uintptr_t)(s->rx + i * BUFSZ), BUFSZ, VRING_DESC_F_WRITE, 0);
	vq_push(&s->v.vq[0], i);
}

/* One packet; the payload (if any) is sent from where it lies. */
static void vs_send(struct vs *s, uint16_t op, const uint8_t *data, uint32_t len)
{
	uint32_t id, l;
	memset(s->tx, 0, HDR);
	p64(s->tx, s->cid);
	p64(s->tx + 8, 2);
	p32(s->tx + 16, s->lport);
	p32(s->tx + 20, s->port);
	p32(s->tx + 24, len);
	s->tx[28] = 1;                 /* stream */
	s->tx[30] = (uint8_t)op;
	p32(s->tx + 36, OUR_BUF);
	p32(s->tx + 40, s->fwd_cnt);
	vq_desc(&s->v.vq[1], 0, (uintptr_t)s->tx, HDR, len ? VRING_DESC_F_NEXT : 0, 1);
	if (len)
		vq_desc(&s->v.vq[1], 1, (uintptr_t)data, len, 0, 0);
	vq_push(&s->v.vq[1], 0);
	vq_kick(&s->v.vq[1]);
	if (!vq_poll(&s->v.vq[1], &id, &l, 5000))
		tk_fail(NULL, "vsock transmit not completed");
	if (vdev_status(&s->v) & VIRTIO_S_NEEDS_RESET)
		tk_fail(NULL, "vsock device needs reset");
	s->tx_cnt += len;
}

/* Next packet: op returned, payload at *data, *len; 0 on timeout. The
 * buffer is recycled by the caller with recycle() (id in *bid). */
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
	if (g32(b + 20) != s->lport || (s->port && g32(b + 16) != s->port))
		tk_fail(NULL, "vsock rx for port %u from %u", g32(b + 20), g32(b + 16));
	if (!s->port)
		s->port = g32(b + 16);
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

static void vs_open(struct vs *s, const struct bootinfo *bi)
{
	s->sum = opt_u32(bi, "tk.sum", 1) != 0;
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(19), 0);
	if (!d)
		tk_fail(NULL, "no virtio-vsock (1af4:1053)");
	if (vdev_probe(&s->v, d) || !s->v.devcfg || vdev_init(&s->v, 0))
		tk_fail(NULL, "virtio-vsock init failed");
	s->cid = mmio_read32(s->v.devcfg) | (uint64_t)mmio_read32(s->v.devcfg + 4) << 32;
	if (vq_setup(&s->v, 0, NRX) || vq_setup(&s->v, 1, 16))
		tk_fail(NULL, "vsock queue setup failed");
	s->rx = tk_databuf;
	s->tx = tk_alloc(HDR, 64);
	vdev_driver_ok(&s->v);
	for (uint16_t i = 0; i < NRX; i++)
		rx_post(s, i);
	vq_kick(&s->v.vq[0]);
}

/* Echoes until the host's SHUTDOWN or RST, then resets the connection.
 * Data that arrives while the host's credit is short waits in its receive
 * buffer (our credit bounds that to OUR_BUF bytes, i.e. two buffers of the
 * NRX, so the device always has buffers left for credit updates). */
static void echo(struct vs *s)
{
	struct { uint16_t id; uint8_t *data; uint32_t len; } pend[NRX];
	unsigned npend = 0;
	uint32_t len, total = 0, sum = 0;
	bool done = false, asked = false;
	uint8_t *data;
	uint16_t id;
	int op;

	while (!done || npend) {
		if (npend && s->peer_alloc - (s->tx_cnt - s->peer_fwd) >= pend[0].len) {
			s->fwd_cnt += pend[0].len;
			vs_send(s, OP_RW, pend[0].data, pend[0].len); /* from the receive buffer ... */
			recycle(s, pend[0].id);                       /* ... free once sent */
			for (unsigned i = 1; i < npend; i++)
				pend[i - 1] = pend[i];
			npend--;
			continue;
		}
		if (npend && !asked) {
			vs_send(s, OP_CREDIT_REQUEST, 0, 0);
			asked = true;
		}
		op = vs_recv(s, &data, &len, &id, 20000);
		if (!op)
			tk_fail(NULL, "vsock: nothing from the host for 20 s");
		asked = false; /* its header carried the host's credit */
		if (op == OP_RW && len && !done) {
			if (npend == NRX)
				tk_fail(NULL, "vsock: the host sent beyond our credit");
			if (s->sum)
				sum += fast_sum(data, len);
			total += len;
			pend[npend++] = (typeof(pend[0])){ id, data, len };
			continue;
		}
		if (op == OP_SHUTDOWN || op == OP_RST)
			done = true;
		recycle(s, id);  /* credit updates: header already taken */
	}
	vs_send(s, OP_RST, 0, 0);
	kprintf("TK: vsock echoed %u bytes sum %u\n", total, sum);
}

int scen_vsock_echo(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct vs s;
	uint8_t *data;
	uint32_t len;
	uint16_t id;

	vs_open(&s, bi);
	s.lport = ECHOPORT;
	s.port = opt_u32(bi, "tk.port", 5000);
	kprintf("TK: vsock cid %u connecting to port %u\n", (unsigned)s.cid, s.port);
	vs_send(&s, OP_REQUEST, 0, 0);
	int op = vs_recv(&s, &data, &len, &id, 5000);
	recycle(&s, id);
	if (op != OP_RESPONSE)
		tk_fail(NULL, "vsock connect: op %d instead of RESPONSE", op);
	kprintf("TK: vsock connected\n");
	echo(&s);
	return 0;
}

int scen_vsock_listen(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct vs s;
	uint8_t *data;
	uint32_t len;
	uint16_t id;

	vs_open(&s, bi);
	s.lport = opt_u32(bi, "tk.port", 5001);
	s.port = 0; /* the host's port comes with its REQUEST */
	kprintf("TK: vsock cid %u listening on port %u\n", (unsigned)s.cid, s.lport);
	int op = vs_recv(&s, &data, &len, &id, opt_u32(bi, "tk.wait", 30) * 1000);
	if (!op)
		tk_fail(NULL, "vsock: no connection within tk.wait seconds");
	recycle(&s, id);
	if (op != OP_REQUEST)
		tk_fail(NULL, "vsock listen: op %d instead of REQUEST", op);
	vs_send(&s, OP_RESPONSE, 0, 0);
	kprintf("TK: vsock accepted host port %u\n", s.port);
	echo(&s);
	return 0;
}
