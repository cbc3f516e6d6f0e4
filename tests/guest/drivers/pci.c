/* PCI bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC): find the
 * functions, size the BARs, assign the memory BARs the firmware left at 0
 * (or above 4 GiB, out of reach of the 32-bit image) from 0xC0000000 up, and
 * enable memory/I-O decoding and bus mastering. */
#include "tk.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_ASSIGN_BASE 0xc0000000u
#define PCI_ASSIGN_END  0xfec00000u  /* IOAPIC and up stay untouched */

static struct pci_dev pdevs[PCI_MAX_DEVS];
static int npdevs = -1;
static uint32_t assign_next = PCI_ASSIGN_BASE;

static void cfg_addr(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_ADDR, 0x80000000u | (uint32_t)d->slot << 11 | (uint32_t)d->func << 8 | (off & 0xfc));
}

uint32_t pci_cfg_read32(const struct pci_dev *d, uint8_t off)
{
	cfg_addr(d, off);
	return inl(PCI_DATA);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, uint8_t off)
{
	cfg_addr(d, off);
	return inw(PCI_DATA + (off & 2));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint8_t off)
{
	cfg_addr(d, off);
	return inb(PCI_DATA + (off & 3));
}

void pci_cfg_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	cfg_addr(d, off);
	outl(PCI_DATA, v);
}

void pci_cfg_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	cfg_addr(d, off);
	outw(PCI_DATA + (off & 2), v);
}

/* Sizes BAR i (and its upper half for 64-bit); assigns it if needed.
 * Returns the number of BAR slots consumed (1 or 2). */
static int bar_setup(struct pci_dev *d, int i)
{
	uint8_t off = (uint8_t)(0x10 + 4 * i);
	uint32_t lo = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, 0xffffffffu);
	uint32_t mlo = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, lo);
	if (!mlo)
		return 1;                            /* unimplemented */
	if (lo & 1) {                                /* I/O */
		uint32_t mask = mlo & ~3u;
		if (!mask)
			return 1;
		d->bar_io[i] = true;
		d->bar[i] = lo & ~3u;
		d->bar_size[i] = (~mask + 1) & 0xffff;
		return 1;
	}
	bool is64 = ((lo >> 1) & 3) == 2 && i < 5;
	uint64_t base = lo & ~0xfu, mask = 0xffffffff00000000ULL | (mlo & ~0xfu);
	if (is64) {
		uint32_t hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, 0xffffffffu);
		uint32_t mhi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, hi);
		base |= (uint64_t)hi << 32;
		mask = (uint64_t)mhi << 32 | (mlo & ~0xfu);
	}
	uint64_t size = ~mask + 1;
	if (!(mlo & ~0xfu) || size > 0x10000000u)
		return is64 ? 2 : 1;                /* unsized or > 256 MiB: leave it */
	if (!base || base >= 0x100000000ULL) {
		uint32_t a = (assign_next + (uint32_t)size - 1) & ~((uint32_t)size - 1);
		if (a < assign_next || a + size > PCI_ASSIGN_END)
			return is64 ? 2 : 1;
		assign_next = a + (uint32_t)size;
		base = a;
		pci_cfg_write32(d, off, a | (lo & 0xf));
		if (is64)
			pci_cfg_write32(d, off + 4, 0);
	}
	d->bar[i] = base;
	d->bar_size[i] = size;
	return is64 ? 2 : 1;
}

static void dev_setup(struct pci_dev *d)
{
	uint8_t htype = pci_cfg_read8(d, 0x0e) & 0x7f;
	int nbars = htype == 0 ? 6 : htype == 1 ? 2 : 0;
	uint16_t cmd = pci_cfg_read16(d, 0x04);
	bool io = false;

	pci_cfg_write16(d, 0x04, cmd & ~3);         /* decoding off while sizing */
	for (int i = 0; i < nbars;) {
		int n = bar_setup(d, i);
		if (d->bar_io[i])
			io = true;
		i += n;
	}
	cmd |= 0x2 | 0x4 | 0x400;                    /* memory, bus master, INTx off */
	if (io)
		cmd |= 0x1;
	pci_cfg_write16(d, 0x04, cmd);
}

int pci_scan(struct pci_dev **devs, bool verbose)
{
	*devs = pdevs;
	if (npdevs >= 0 && !verbose)
		return npdevs;
	if (npdevs < 0) {
		npdevs = 0;
		for (uint8_t slot = 0; slot < 32; slot++) {
			for (uint8_t fn = 0; fn < 8 && npdevs < PCI_MAX_DEVS; fn++) {
				struct pci_dev t = { .slot = slot, .func = fn };
				uint32_t id = pci_cfg_read32(&t, 0);
				if ((id & 0xffff) == 0xffff || !(id & 0xffff)) {
					if (!fn)
						break;
					continue;
				}
				struct pci_dev *d = &pdevs[npdevs++];
				*d = t;
				d->vendor = (uint16_t)id;
				d->device = (uint16_t)(id >> 16);
				d->class = pci_cfg_read32(d, 0x08) >> 8;
				dev_setup(d);
				if (!fn && !(pci_cfg_read8(d, 0x0e) & 0x80))
					break;              /* not multi-function */
			}
		}
	}
	if (verbose)
		for (int i = 0; i < npdevs; i++)
			kprintf("TK: pci 00:%02x.%u %04x:%04x class %06x\n", pdevs[i].slot,
				pdevs[i].func, pdevs[i].vendor, pdevs[i].device, pdevs[i].class);
	return npdevs;
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t *pos)
{
	if (!(pci_cfg_read16(d, 0x06) & 0x10))      /* no capability list */
		return 0;
	uint8_t p = *pos ? pci_cfg_read8(d, *pos + 1) : pci_cfg_read8(d, 0x34);
	for (int guard = 0; guard < 48 && p >= 0x40; guard++) {
		p &= 0xfc;
		uint8_t id = pci_cfg_read8(d, p);
		if (!cap_id || id == cap_id) {
			*pos = p;
			return p;
		}
		p = pci_cfg_read8(d, p + 1);
	}
	return 0;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int nth)
{
	struct pci_dev *devs;
	int n = pci_scan(&devs, false);
	for (int i = 0; i < n; i++)
		if (devs[i].vendor == vendor && devs[i].device == device && nth-- == 0)
			return &devs[i];
	return NULL;
}
