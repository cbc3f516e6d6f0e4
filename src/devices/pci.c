#include "devices/pci.h"

#include <errno.h>
#include <string.h>

#include "mem/layout.h"

uint32_t pci_cfg_read(const struct pci_dev *d, uint32_t off, uint32_t len)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_set(struct pci_dev *d, uint32_t off, uint32_t len, uint32_t v)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		d->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		  uint8_t revision)
{
	memset(d, 0, sizeof(*d)); /* also clears ops/opaque: set them after init */
	pci_cfg_set(d, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_set(d, PCI_DEVICE_ID, 2, device);
	pci_cfg_set(d, PCI_REVISION_ID, 1, revision);
	pci_cfg_set(d, PCI_CLASS_PROG, 3, class_code);
	/* Command: I/O, memory, bus master, SERR, INTx disable are writable. */
	d->wmask[PCI_COMMAND] = 0x07;
	d->wmask[PCI_COMMAND + 1] = 0x05;
	d->w1cmask[PCI_STATUS + 1] = 0xf9; /* error bits */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->wmask[0x0c] = 0xff; /* cache line size */
	d->wmask[0x0d] = 0xff; /* latency timer */
}

static struct pci_dev *lookup(struct pci_bus *b, uint8_t devfn)
{
	/* Only function 0 of each slot exists. */
	if (devfn & 7)
		return NULL;
	return b->devs[devfn >> 3];
}

uint32_t pci_bus_cfg_read(struct pci_bus *b, uint8_t devfn, uint32_t off, uint32_t len)
{
	uint32_t v = 0xffffffffu >> (32 - 8 * len);
	pthread_mutex_lock(&b->lock);
	struct pci_dev *d = lookup(b, devfn);
	if (d && off < PCI_CFG_SIZE && len <= PCI_CFG_SIZE - off) {
		if (d->ops && d->ops->cfg_read)
			d->ops->cfg_read(d, off, len);
		v = pci_cfg_read(d, off, len);
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

void pci_bus_cfg_write(struct pci_bus *b, uint8_t devfn, uint32_t off, uint32_t len, uint32_t v)
{
	pthread_mutex_lock(&b->lock);
	struct pci_dev *d = lookup(b, devfn);
	if (d && off < PCI_CFG_SIZE && len <= PCI_CFG_SIZE - off) {
		for (uint32_t i = 0; i < len; i++) {
			uint8_t nb = (uint8_t)(v >> (8 * i));
			uint8_t wm = d->wmask[off + i], w1c = d->w1cmask[off + i];
			uint8_t cur = d->cfg[off + i];
			cur = (uint8_t)((cur & ~wm) | (nb & wm));
			cur &= (uint8_t)~(nb & w1c);
			d->cfg[off + i] = cur;
		}
		if (d->ops && d->ops->cfg_written)
			d->ops->cfg_written(d, off, len);
	}
	pthread_mutex_unlock(&b->lock);
}

/* Port offsets: 0-3 CONFIG_ADDRESS (0xCF8, dword only; byte 1 = 0xCF9 reset
 * control), 4-7 CONFIG_DATA (0xCFC-0xCFF). */
static void cfg_port_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pci_bus *b = opaque;
	uint32_t v = 0xffffffff;

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&b->lock);
		v = b->cfg_addr;
		pthread_mutex_unlock(&b->lock);
	} else if (off == 1 && len == 1) {
		v = b->rcr;
	} else if (off >= 4) {
		uint32_t a = __atomic_load_n(&b->cfg_addr, __ATOMIC_RELAXED);
		uint32_t reg = (a & 0xfc) + (uint32_t)(off - 4);
		/* Only bus 0 exists; an access must not cross the dword. */
		if ((a & 0x80000000u) && ((a >> 16) & 0xff) == 0 && (off - 4) + len <= 4)
			v = pci_bus_cfg_read(b, (uint8_t)(a >> 8), reg, len);
	}
	bus_put_le(data, len, v);
}

static void cfg_port_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pci_bus *b = opaque;
	uint32_t v = (uint32_t)bus_get_le(data, len);

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&b->lock);
		b->cfg_addr = v & 0x80fffffcu;
		pthread_mutex_unlock(&b->lock);
	} else if (off == 1 && len == 1) {
		/* Reset control: RST_CPU (bit 2) with SYS_RST (bit 1) or not, both
		 * reset the whole machine here. */
		b->rcr = v & 0x0a;
		if (v & 0x04)
			vmctl_stop(&b->ctl, STOP_RESET, 0);
	} else if (off >= 4) {
		uint32_t a = __atomic_load_n(&b->cfg_addr, __ATOMIC_RELAXED);
		uint32_t reg = (a & 0xfc) + (uint32_t)(off - 4);
		if ((a & 0x80000000u) && ((a >> 16) & 0xff) == 0 && (off - 4) + len <= 4)
			pci_bus_cfg_write(b, (uint8_t)(a >> 8), reg, len, v);
	}
}

const struct bus_ops pci_cfg_ops = { .read = cfg_port_read, .write = cfg_port_write };

int pci_bus_init(struct pci_bus *b, const struct vmctl *ctl)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->ctl = *ctl;
	/* 00:00.0: Intel 440FX host bridge, as SeaBIOS and Linux expect. */
	pci_dev_init(&b->host, 0x8086, 0x1237, 0x060000, 0x02);
	b->devs[0] = &b->host;
	return 0;
}

void pci_bus_destroy(struct pci_bus *b)
{
	pthread_mutex_destroy(&b->lock);
}

int pci_bus_add(struct pci_bus *b, unsigned slot, struct pci_dev *d)
{
	int ret = 0;
	if (slot == 0 || slot >= PCI_MAX_DEVS)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	if (b->devs[slot])
		ret = -EBUSY;
	else {
		d->devfn = (uint8_t)(slot << 3);
		b->devs[slot] = d;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}
