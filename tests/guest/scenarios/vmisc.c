/* Small PCI devices: virtio-rng, virtio-console (port 0 transmitq) and
 * pvpanic-pci. */
#include "virtio.h"

static int open_simple(struct vdev *v, uint16_t id, int nq)
{
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(id), 0);
	if (!d)
		return -1;
	if (vdev_probe(v, d))
		tk_fail(NULL, "virtio caps missing (common 0x%x notify 0x%x device 0x%x)",
			v->common, v->notify, v->devcfg);
	if (vdev_init(v, 0))
		tk_fail(NULL, "feature negotiation failed (offered 0x%llx status 0x%x)",
			(unsigned long long)v->offered, vdev_status(v));
	for (int i = 0; i < nq; i++)
		if (vq_setup(v, i, 16))
			tk_fail(NULL, "queue %d setup failed", i);
	vdev_driver_ok(v);
	return 0;
}

int scen_rng(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static struct vdev v;
	uint8_t *buf = tk_alloc(64, 64);
	uint32_t got = 0, id, len;

	if (open_simple(&v, 4, 1))
		tk_fail(NULL, "no virtio-rng");
	for (int tries = 0; got < 64 && tries < 64; tries++) {
		vq_desc(&v.vq[0], 0, (uintptr_t)buf + got, 64 - got, VRING_DESC_F_WRITE, 0);
		vq_push(&v.vq[0], 0);
		vq_kick(&v.vq[0]);
		if (!vq_poll(&v.vq[0], &id, &len, 2000))
			tk_fail(NULL, "no completion");
		if (id != 0 || len > 64 - got)
			tk_fail(NULL, "bad used entry id %u len %u", id, len);
		got += len;
	}
	if (got < 64)
		tk_fail(NULL, "only %u bytes", got);
	char hex[129];
	bool same = true;
	for (int i = 0; i < 64; i++) {
		hex[2 * i] = "0123456789abcdef"[buf[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[buf[i] & 15];
		if (buf[i] != buf[0])
			same = false;
	}
	hex[128] = 0;
	kprintf("TK: rng %s\n", hex);
	if (same)
		tk_fail(NULL, "all bytes equal");
	return 0;
}

int scen_vcons(const struct bootinfo *bi, const struct acpi_info *ai)
{
	static const char msg[] = "hello from hvc0\n";
	static struct vdev v;
	uint32_t id, len;
	char *buf = tk_alloc(sizeof(msg), 16);

	/* queues 0 (receiveq, left empty) and 1 (transmitq) of port 0 */
	if (open_simple(&v, 3, 2))
		tk_fail(NULL, "no virtio-console");
	memcpy(buf, msg, sizeof(msg) - 1);
	vq_desc(&v.vq[1], 0, (uintptr_t)buf, sizeof(msg) - 1, 0, 0);
	vq_push(&v.vq[1], 0);
	vq_kick(&v.vq[1]);
	if (!vq_poll(&v.vq[1], &id, &len, 2000))
		tk_fail(NULL, "transmit not completed");
	kprintf("TK: vcons sent\n");
	return 0;
}

int scen_panic(const struct bootinfo *bi, const struct acpi_info *ai)
{
	struct pci_dev *d = pci_find(0x1b36, 0x0011, 0);
	if (!d)
		tk_fail(NULL, "no pvpanic-pci");
	if (d->bar_io[0] || !d->bar[0] || d->bar[0] >= 0x100000000ULL)
		tk_fail(NULL, "pvpanic BAR0 unusable");
	uint8_t ev = mmio_read8((uint32_t)d->bar[0]);
	kprintf("TK: pvpanic events 0x%x\n", ev);
	kprintf("TK: panicking\n");
	mmio_write8((uint32_t)d->bar[0], 1);
	delay_ms(100);
	tk_fail(NULL, "still running");
}
