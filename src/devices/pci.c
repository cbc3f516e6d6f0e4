#include "devices/pci.h"
#include "snapshot/format.h"

#include <errno.h>
#include <string.h>

#include "acpi/aml.h"
#include "host/log.h"

static void update_mappings(struct pci_bus *b, struct pci_dev *d);
static void intx_update(struct pci_dev *d);

uint32_t pci_cfg_read(const struct pci_dev *d, uint32_t off, uint32_t len)
{
	uint32_t v = 0;
	/* Relaxed atomics: the I/O thread reads (MSI-X control) and sets bits
	 * (INTx status) of config space without the bus lock. */
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)__atomic_load_n(&d->cfg[off + i], __ATOMIC_RELAXED) << (8 * i);
	return v;
}

void pci_cfg_set(struct pci_dev *d, uint32_t off, uint32_t len, uint32_t v)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		__atomic_store_n(&d->cfg[off + i], (uint8_t)(v >> (8 * i)), __ATOMIC_RELAXED);
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
	/* A function other than 0 exists only behind a present function 0
	 * (PCI 3.0 6.2.1: software scans functions 1-7 only then). */
	if ((devfn & 7) && !b->devs[devfn & ~7u])
		return NULL;
	return b->devs[devfn];
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
		if (d->ops && d->ops->cfg_will_write)
			d->ops->cfg_will_write(d, off, len);
		for (uint32_t i = 0; i < len; i++) {
			uint8_t nb = (uint8_t)(v >> (8 * i));
			uint8_t wm = d->wmask[off + i], w1c = d->w1cmask[off + i];
			/* Compare-and-swap: the I/O thread sets and clears the
			 * INTx status bit of this byte without the bus lock, and a
			 * plain load/store here could undo its update. */
			uint8_t cur = __atomic_load_n(&d->cfg[off + i], __ATOMIC_RELAXED), nv;
			do {
				nv = (uint8_t)((cur & ~wm) | (nb & wm));
				nv &= (uint8_t)~(nb & w1c);
			} while (!__atomic_compare_exchange_n(&d->cfg[off + i], &cur, nv, true,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
		}
		/* Command register or a BAR touched: decoding or addresses may
		 * have changed (PCI 3.0 6.2.2, 6.2.5). */
		if (off < PCI_COMMAND + 2 && off + len > PCI_COMMAND) {
			update_mappings(b, d);
			intx_update(d);
		}
		if ((off < PCI_BAR0 + 4 * PCI_NUM_BARS && off + len > PCI_BAR0) ||
		    (off < PCI_ROM_ADDRESS + 4 && off + len > PCI_ROM_ADDRESS))
			update_mappings(b, d);
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
	b->devs[PCI_DEVFN(0, 0)] = &b->host;
	b->io_next = PCI_IO_WINDOW_START;
	return 0;
}

void pci_bus_destroy(struct pci_bus *b)
{
	pthread_mutex_destroy(&b->lock);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Assigns initial BAR addresses from the windows, as firmware would. */
static int alloc_bars(struct pci_bus *b, struct pci_dev *d)
{
	uint16_t cmd = 0;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &d->bar[i];
		uint32_t reg = PCI_BAR0 + 4 * i;
		if (bar->kind == PCI_BAR_NONE)
			continue;
		if (bar->kind == PCI_BAR_IO) {
			uint64_t a = align_up(b->io_next, bar->size);
			if (a + bar->size > PCI_IO_WINDOW_END)
				return -ENOSPC;
			pci_cfg_set(d, reg, 4, (uint32_t)a | 1);
			b->io_next = (uint32_t)(a + bar->size);
			cmd |= PCI_COMMAND_IO;
			continue;
		}
		uint64_t a = align_up(b->mmio_next, bar->size);
		if (!b->mmio_end || a + bar->size > b->mmio_end || a + bar->size < a)
			return -ENOSPC;
		b->mmio_next = a + bar->size;
		cmd |= PCI_COMMAND_MEMORY;
		if (bar->kind == PCI_BAR_MEM64) {
			pci_cfg_set(d, reg, 4, (uint32_t)a | 0x4);
			pci_cfg_set(d, reg + 4, 4, (uint32_t)(a >> 32));
			i++;
		} else {
			pci_cfg_set(d, reg, 4, (uint32_t)a);
		}
	}
	pci_cfg_set(d, PCI_COMMAND, 2, pci_cfg_read(d, PCI_COMMAND, 2) | cmd);
	return 0;
}

int pci_bus_add_fn(struct pci_bus *b, unsigned slot, unsigned fn, struct pci_dev *d)
{
	int ret = 0;
	if (slot == 0 || slot >= PCI_MAX_DEVS || fn >= PCI_MAX_FUNCS)
		return -EINVAL;
	uint8_t devfn = PCI_DEVFN(slot, fn);
	pthread_mutex_lock(&b->lock);
	if (b->devs[devfn]) {
		ret = -EBUSY;
		goto out;
	}
	if ((ret = alloc_bars(b, d)))
		goto out;
	d->devfn = devfn;
	d->bus = b;
	uint8_t pin = d->cfg[PCI_INTERRUPT_PIN];
	if (pin >= 1 && pin <= 4) {
		unsigned gsi = pci_intx_gsi(slot, pin);
		d->intx = b->intx_base;
		d->intx.gsi = gsi;
		d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)gsi;
	}
	b->devs[devfn] = d;
	/* Multi-function bit on function 0 whenever the slot has others. */
	struct pci_dev *f0 = b->devs[PCI_DEVFN(slot, 0)];
	bool multi = false;
	for (unsigned i = 1; i < PCI_MAX_FUNCS; i++)
		multi |= b->devs[PCI_DEVFN(slot, i)] != NULL;
	if (f0 && multi)
		f0->cfg[PCI_HEADER_TYPE] |= 0x80;
	update_mappings(b, d);
out:
	pthread_mutex_unlock(&b->lock);
	return ret;
}

int pci_bus_add(struct pci_bus *b, unsigned slot, struct pci_dev *d)
{
	return pci_bus_add_fn(b, slot, 0, d);
}

void pci_bus_attach(struct pci_bus *b, struct bus *pio, struct bus *mmio, uint64_t mmio_start,
		    uint64_t mmio_end, const struct irq_line *intx)
{
	b->pio = pio;
	b->mmio = mmio;
	b->mmio_next = mmio_start;
	b->mmio_end = mmio_end;
	if (intx)
		b->intx_base = *intx;
}

int pci_dev_set_bar(struct pci_dev *d, unsigned idx, enum pci_bar_kind kind, uint64_t size,
		    const struct bus_ops *ops, void *opaque, const char *name)
{
	uint64_t sz = kind == PCI_BAR_IO ? 4 : 16, mask;
	uint32_t reg = PCI_BAR0 + 4 * idx;

	if (idx >= PCI_NUM_BARS || (kind == PCI_BAR_MEM64 && idx + 1 >= PCI_NUM_BARS) ||
	    kind == PCI_BAR_NONE || kind > PCI_BAR_MEM64 || size == 0)
		return -EINVAL;
	while (sz < size)
		sz <<= 1;
	if ((kind == PCI_BAR_IO && sz > 256) || (kind == PCI_BAR_MEM32 && sz > (1ull << 30)) ||
	    sz > (1ull << 40))
		return -EINVAL;
	d->bar[idx] = (struct pci_bar){ .kind = kind, .size = sz, .ops = ops, .opaque = opaque,
					.name = name };
	mask = ~(sz - 1);
	/* The address bits above the size are writable; type bits read-only
	 * (PCI 3.0 6.2.5.1), so writing ~0 reads back the size mask. */
	switch (kind) {
	case PCI_BAR_IO:
		pci_cfg_set(d, reg, 4, 1);
		for (int i = 0; i < 4; i++)
			d->wmask[reg + i] = (uint8_t)((mask & 0xfffc) >> (8 * i));
		break;
	case PCI_BAR_MEM32:
		pci_cfg_set(d, reg, 4, 0);
		for (int i = 0; i < 4; i++)
			d->wmask[reg + i] = (uint8_t)((mask & 0xfffffff0u) >> (8 * i));
		break;
	default:
		pci_cfg_set(d, reg, 4, 4);
		pci_cfg_set(d, reg + 4, 4, 0);
		for (int i = 0; i < 8; i++)
			d->wmask[reg + i] = (uint8_t)((mask & ~0xfull) >> (8 * i));
		break;
	}
	return 0;
}

uint64_t pci_dev_bar_addr(const struct pci_dev *d, unsigned idx)
{
	if (idx >= PCI_NUM_BARS)
		return 0;
	uint32_t reg = PCI_BAR0 + 4 * idx;
	uint64_t lo = pci_cfg_read(d, reg, 4);
	switch (d->bar[idx].kind) {
	case PCI_BAR_IO:
		return lo & 0xfffcu;
	case PCI_BAR_MEM32:
		return lo & ~0xfu;
	case PCI_BAR_MEM64:
		return (lo & ~0xfull) | ((uint64_t)pci_cfg_read(d, reg + 4, 4) << 32);
	default:
		return 0;
	}
}

/* All writable address bits set: the value left by BAR sizing. */
static uint64_t bar_wmask(const struct pci_dev *d, unsigned idx)
{
	uint64_t m = 0;
	unsigned n = d->bar[idx].kind == PCI_BAR_MEM64 ? 8 : 4;
	for (unsigned i = 0; i < n; i++)
		m |= (uint64_t)d->wmask[PCI_BAR0 + 4 * idx + i] << (8 * i);
	return m;
}

/* Expansion ROM reads: bytes past the image read as 0xff (ROM area). */
static void rom_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	const struct pci_dev *d = opaque;
	uint8_t *p = data;

	for (uint32_t i = 0; i < len; i++)
		p[i] = off + i < d->rom_len ? d->rom_data[off + i] : 0xff;
}

static void rom_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	/* Read-only memory: writes are dropped. */
}

static const struct bus_ops rom_ops = { .read = rom_read, .write = rom_write };

int pci_dev_set_rom(struct pci_dev *d, const void *data, uint32_t len, const char *name)
{
	uint32_t sz = PCI_ROM_MIN_SIZE, mask;

	if (!data || len == 0 || len > (16u << 20))
		return -EINVAL;
	while (sz < len)
		sz <<= 1;
	d->rom = (struct pci_bar){ .kind = PCI_BAR_MEM32, .size = sz, .ops = &rom_ops,
				   .opaque = d, .name = name };
	d->rom_data = data;
	d->rom_len = len;
	mask = ~(sz - 1) | PCI_ROM_ENABLE;
	pci_cfg_set(d, PCI_ROM_ADDRESS, 4, 0);
	for (int i = 0; i < 4; i++)
		d->wmask[PCI_ROM_ADDRESS + i] = (uint8_t)(mask >> (8 * i));
	return 0;
}

/* The expansion ROM decodes when enabled, memory decoding is on and the
 * address is neither 0 nor the sizing pattern (PCI 3.0 6.2.5.2). */
static void update_rom(struct pci_bus *b, struct pci_dev *d, uint16_t cmd)
{
	struct pci_bar *rom = &d->rom;
	uint32_t v = pci_cfg_read(d, PCI_ROM_ADDRESS, 4);
	uint64_t addr = v & ~(uint32_t)(PCI_ROM_MIN_SIZE - 1);
	uint32_t wm = 0;

	for (int i = 0; i < 4; i++)
		wm |= (uint32_t)d->wmask[PCI_ROM_ADDRESS + i] << (8 * i);
	bool want = rom->kind != PCI_BAR_NONE && (cmd & PCI_COMMAND_MEMORY) &&
		    (v & PCI_ROM_ENABLE) && addr != 0 && addr != (wm & ~(uint32_t)PCI_ROM_ENABLE) &&
		    addr + rom->size <= (1ull << 32) && b->mmio;

	if (rom->mapped && (!want || addr != rom->mapped_addr)) {
		bus_remove(b->mmio, rom->mapped_addr);
		rom->mapped = false;
	}
	if (want && !rom->mapped) {
		int r = bus_add(b->mmio, addr, rom->size, rom->ops, rom->opaque, rom->name);
		if (r) {
			pr_guest("PCI %02x.%u ROM at 0x%llx: %s; left unmapped", d->devfn >> 3,
				 d->devfn & 7u, (unsigned long long)addr, strerror(-r));
		} else {
			rom->mapped = true;
			rom->mapped_addr = addr;
		}
	}
}

static void update_mappings(struct pci_bus *b, struct pci_dev *d)
{
	uint16_t cmd = (uint16_t)pci_cfg_read(d, PCI_COMMAND, 2);

	update_rom(b, d, cmd);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &d->bar[i];
		if (bar->kind == PCI_BAR_NONE)
			continue;
		bool io = bar->kind == PCI_BAR_IO;
		struct bus *target = io ? b->pio : b->mmio;
		uint64_t addr = pci_dev_bar_addr(d, i);
		uint64_t limit = io ? PCI_IO_WINDOW_END : bar->kind == PCI_BAR_MEM32 ?
			(1ull << 32) : (1ull << 52);
		bool want = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && addr != 0 &&
			    addr != bar_wmask(d, i) && addr + bar->size > addr &&
			    addr + bar->size <= limit && target;

		if (bar->mapped && (!want || addr != bar->mapped_addr)) {
			bus_remove(target, bar->mapped_addr);
			bar->mapped = false;
			if (d->ops && d->ops->bar_mapped)
				d->ops->bar_mapped(d, i, bar->mapped_addr, false);
		}
		if (want && !bar->mapped) {
			int r = bus_add(target, addr, bar->size, bar->ops, bar->opaque, bar->name);
			if (r) {
				pr_guest("PCI %02x.%u BAR%u at 0x%llx (%s): %s; left unmapped",
					 d->devfn >> 3, d->devfn & 7u, i, (unsigned long long)addr,
					 bar->name ? bar->name : "?", strerror(-r));
			} else {
				bar->mapped = true;
				bar->mapped_addr = addr;
				if (d->ops && d->ops->bar_mapped)
					d->ops->bar_mapped(d, i, addr, true);
			}
		}
		if (bar->kind == PCI_BAR_MEM64)
			i++;
	}
}

void pci_bus_unmap_dev(struct pci_bus *b, struct pci_dev *d)
{
	pthread_mutex_lock(&b->lock);
	if (d->rom.mapped) {
		bus_remove(b->mmio, d->rom.mapped_addr);
		d->rom.mapped = false;
	}
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &d->bar[i];
		if (!bar->mapped)
			continue;
		bus_remove(bar->kind == PCI_BAR_IO ? b->pio : b->mmio, bar->mapped_addr);
		bar->mapped = false;
		if (d->ops && d->ops->bar_mapped)
			d->ops->bar_mapped(d, i, bar->mapped_addr, false);
	}
	if (d->devfn && b->devs[d->devfn] == d)
		b->devs[d->devfn] = NULL;
	pthread_mutex_unlock(&b->lock);
}

int pci_dev_add_cap(struct pci_dev *d, uint8_t id, uint8_t len)
{
	unsigned off = d->cap_next ? d->cap_next : 0x40;

	off = (off + 3) & ~3u;
	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	/* Append at the end of the list (PCI 3.0 6.7). */
	uint8_t *link = &d->cfg[PCI_CAPABILITY_LIST];
	for (unsigned guard = 0; *link && guard < 48; guard++)
		link = &d->cfg[*link + 1];
	*link = (uint8_t)off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_next = (uint8_t)(off + len < PCI_CFG_SIZE ? off + len : 0xff);
	return (int)off;
}

uint8_t pci_dev_find_cap(const struct pci_dev *d, uint8_t id)
{
	if (!(d->cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t p = d->cfg[PCI_CAPABILITY_LIST] & 0xfc;
	for (unsigned guard = 0; p && guard < 48; guard++) {
		if (d->cfg[p] == id)
			return p;
		p = d->cfg[p + 1] & 0xfc;
	}
	return 0;
}

void pci_dev_set_pin(struct pci_dev *d, uint8_t pin)
{
	d->cfg[PCI_INTERRUPT_PIN] = pin;
}

unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + ((slot + pin - 1) % PCI_INTX_GSI_COUNT);
}

static void intx_update(struct pci_dev *d)
{
	int lvl = __atomic_load_n(&d->intx_level, __ATOMIC_ACQUIRE);
	uint16_t cmd = (uint16_t)pci_cfg_read(d, PCI_COMMAND, 2);
	if (lvl)
		__atomic_or_fetch(&d->cfg[PCI_STATUS], PCI_STATUS_INTERRUPT, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&d->cfg[PCI_STATUS], (uint8_t)~PCI_STATUS_INTERRUPT,
				   __ATOMIC_RELAXED);
	irq_set(&d->intx, lvl && !(cmd & PCI_COMMAND_INTX_DISABLE));
}

void pci_dev_intx(struct pci_dev *d, int level)
{
	__atomic_store_n(&d->intx_level, level ? 1 : 0, __ATOMIC_RELEASE);
	intx_update(d);
}

int pci_prt_aml(struct aml *a, void *opaque)
{
	/* _PRT (ACPI 6.x 6.2.13): {Address 0xSSSSFFFF, Pin 0..3, Source 0, GSI}.
	 * A zero Source makes the last field a global system interrupt, which
	 * Linux registers level-triggered, active-low. */
	aml_name(a, "_PRT");
	size_t pkg = aml_package_open(a, (PCI_MAX_DEVS - 1) * 4);
	for (unsigned slot = 1; slot < PCI_MAX_DEVS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t e = aml_package_open(a, 4);
			aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, pci_intx_gsi(slot, pin + 1));
			aml_close(a, e);
		}
	}
	aml_close(a, pkg);
	return aml_error(a);
}

/* ---- snapshot (snapshot/sbuf.h) ---- */

/* Every function's config space as the guest programmed it (BARs, command,
 * capabilities' writable bits) and its INTx level; loading re-registers
 * the BARs where they were. The device set must be the one that was saved
 * (same functions at the same addresses). */
static int pci_bus_save(void *dev, struct sbuf *out)
{
	struct pci_bus *b = dev;
	unsigned n = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < PCI_MAX_DEVS * PCI_MAX_FUNCS; i++)
		n += b->devs[i] != NULL;
	sb_u32(out, b->cfg_addr);
	sb_u8(out, b->rcr);
	sb_u16(out, (uint16_t)n);
	for (unsigned i = 0; i < PCI_MAX_DEVS * PCI_MAX_FUNCS; i++) {
		struct pci_dev *d = b->devs[i];
		if (!d)
			continue;
		sb_u8(out, (uint8_t)i);
		sb_bytes(out, d->cfg, PCI_CFG_SIZE);
		sb_u8(out, (uint8_t)__atomic_load_n(&d->intx_level, __ATOMIC_ACQUIRE));
	}
	pthread_mutex_unlock(&b->lock);
	return out->err;
}

static int pci_bus_load(void *dev, struct srd *in)
{
	struct pci_bus *b = dev;
	uint32_t addr = srd_u32(in);
	uint8_t rcr = srd_u8(in);
	unsigned n = srd_u16(in), have = 0;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < PCI_MAX_DEVS * PCI_MAX_FUNCS; i++)
		have += b->devs[i] != NULL;
	if (n != have)
		srd_reject(in);
	for (unsigned k = 0; k < n && !in->bad; k++) {
		uint8_t cfg[PCI_CFG_SIZE], devfn = srd_u8(in);
		struct pci_dev *d = b->devs[devfn];
		srd_bytes(in, cfg, sizeof(cfg));
		uint8_t lvl = srd_u8(in);
		/* Same function (vendor, device, class) where it was saved. */
		if (!d || memcmp(cfg, d->cfg, 4) || memcmp(cfg + 8, d->cfg + 8, 4)) {
			srd_reject(in);
			break;
		}
		/* Read-only bits stay this build's; the guest's writable ones come back. */
		for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
			d->cfg[i] = (uint8_t)((d->cfg[i] & ~(d->wmask[i] | d->w1cmask[i])) |
					      (cfg[i] & (d->wmask[i] | d->w1cmask[i])));
		/* MSI-X and other capability state the device keeps itself is
		 * loaded by its own ops; here the header and BAR mappings. */
		memcpy(d->cfg + PCI_STATUS, cfg + PCI_STATUS, 2);
		__atomic_store_n(&d->intx_level, lvl ? 1 : 0, __ATOMIC_RELEASE);
		update_mappings(b, d);
	}
	if (!in->bad) {
		b->cfg_addr = addr & 0x80fffffcu;
		b->rcr = rcr & 0x0a;
	}
	r = srd_end(in);
	pthread_mutex_unlock(&b->lock);
	return r;
}

const struct snap_dev_ops pci_bus_snap_ops = {
	.name = "pci", .tag = SNAP_TAG('p', 'c', 'i', ' '), .version = 1,
	.save = pci_bus_save, .load = pci_bus_load,
};
