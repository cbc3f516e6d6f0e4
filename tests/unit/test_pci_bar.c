/* PCI BARs (sizing, moves, decode), capability list, INTx, MSI-X, _PRT. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "check_util.h"
#include "acpi/aml.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "fakes.h"

static struct vmctl no_ctl;
static struct fake_irq firq;
static const struct bus_ops dummy_ops;

static uint32_t rd(struct pci_bus *b, unsigned slot, unsigned off, unsigned len)
{
	return pci_bus_cfg_read(b, (uint8_t)(slot << 3), off, len);
}
static void wr(struct pci_bus *b, unsigned slot, unsigned off, unsigned len, uint32_t v)
{
	pci_bus_cfg_write(b, (uint8_t)(slot << 3), off, len, v);
}

struct fixture {
	struct pci_bus b;
	struct bus pio, mmio;
	struct pci_dev d;
};

static void fx_init(struct fixture *f)
{
	struct irq_line intx = fake_irq_line(&firq, 0);
	memset(&firq, 0, sizeof(firq));
	pci_bus_init(&f->b, &no_ctl);
	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	pci_bus_attach(&f->b, &f->pio, &f->mmio, 0xc0000000ull, 0xe0000000ull, &intx);
	pci_dev_init(&f->d, 0x1234, 0x5678, 0xff0000, 1);
	ck_assert_int_eq(pci_dev_set_bar(&f->d, 0, PCI_BAR_MEM32, 0x1000, &dummy_ops, NULL, "m32"), 0);
	ck_assert_int_eq(pci_dev_set_bar(&f->d, 2, PCI_BAR_MEM64, 0x4000, &dummy_ops, NULL, "m64"), 0);
	ck_assert_int_eq(pci_dev_set_bar(&f->d, 4, PCI_BAR_IO, 0x20, &dummy_ops, NULL, "io"), 0);
	pci_dev_set_pin(&f->d, 1);
}

static void fx_fini(struct fixture *f)
{
	pci_bus_unmap_dev(&f->b, &f->d);
	pci_bus_destroy(&f->b);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
}

static bool mapped_at(struct bus *b, uint64_t a)
{
	uint8_t x;
	return bus_access(b, a, &x, 1, false) == 0;
}

START_TEST(bar_bad_args)
{
	struct pci_dev d;
	pci_dev_init(&d, 1, 2, 0, 0);
	ck_assert_int_eq(pci_dev_set_bar(&d, 6, PCI_BAR_MEM32, 16, &dummy_ops, NULL, "x"), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(&d, 5, PCI_BAR_MEM64, 16, &dummy_ops, NULL, "x"), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(&d, 0, PCI_BAR_IO, 4096, &dummy_ops, NULL, "x"), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 0, &dummy_ops, NULL, "x"), -EINVAL);
	/* Rounded up to a power of two, minimum 16. */
	ck_assert_int_eq(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 3, &dummy_ops, NULL, "x"), 0);
	ck_assert_uint_eq(d.bar[0].size, 16);
}
END_TEST

START_TEST(bar_alloc_and_sizing)
{
	struct fixture f;
	fx_init(&f);
	ck_assert_int_eq(pci_bus_add(&f.b, 5, &f.d), 0);
	/* Initial placement from the windows, decoding enabled, all mapped. */
	ck_assert_uint_eq(rd(&f.b, 5, 0x10, 4), 0xc0000000u);
	ck_assert_uint_eq(rd(&f.b, 5, 0x18, 4), 0xc0004000u | 4);
	ck_assert_uint_eq(rd(&f.b, 5, 0x1c, 4), 0);
	ck_assert_uint_eq(rd(&f.b, 5, 0x20, 4), 0x1001);
	ck_assert_uint_eq(rd(&f.b, 5, PCI_COMMAND, 2) & 3, 3);
	ck_assert(mapped_at(&f.mmio, 0xc0000000) && mapped_at(&f.mmio, 0xc0007fff));
	ck_assert(mapped_at(&f.pio, 0x1000) && !mapped_at(&f.pio, 0x1020));
	/* INTx: slot 5 pin A -> GSI 16 + (5 % 4) = 17 in INTERRUPT_LINE. */
	ck_assert_uint_eq(rd(&f.b, 5, PCI_INTERRUPT_LINE, 1), 17);
	ck_assert_uint_eq(rd(&f.b, 5, PCI_INTERRUPT_PIN, 1), 1);

	/* Sizing with decode off (as Linux does). */
	wr(&f.b, 5, PCI_COMMAND, 2, 0);
	ck_assert(!mapped_at(&f.mmio, 0xc0000000) && !mapped_at(&f.pio, 0x1000));
	wr(&f.b, 5, 0x10, 4, 0xffffffff);
	ck_assert_uint_eq(rd(&f.b, 5, 0x10, 4), 0xfffff000u);
	wr(&f.b, 5, 0x18, 4, 0xffffffff);
	wr(&f.b, 5, 0x1c, 4, 0xffffffff);
	ck_assert_uint_eq(rd(&f.b, 5, 0x18, 4), 0xffffc004u);
	ck_assert_uint_eq(rd(&f.b, 5, 0x1c, 4), 0xffffffffu);
	wr(&f.b, 5, 0x20, 4, 0xffffffff);
	ck_assert_uint_eq(rd(&f.b, 5, 0x20, 4), 0x0000ffe1u);
	/* Unimplemented BARs read 0 even after ~0. */
	wr(&f.b, 5, 0x14, 4, 0xffffffff);
	ck_assert_uint_eq(rd(&f.b, 5, 0x14, 4), 0);
	/* Decode enabled with sizing values left in: nothing mapped. */
	wr(&f.b, 5, PCI_COMMAND, 2, 3);
	ck_assert_uint_eq(f.mmio.n, 0);
	ck_assert_uint_eq(f.pio.n, 0);
	fx_fini(&f);
}
END_TEST

START_TEST(bar_move)
{
	struct fixture f;
	fx_init(&f);
	ck_assert_int_eq(pci_bus_add(&f.b, 2, &f.d), 0);
	/* Move while decoding: re-registered at the new address. */
	wr(&f.b, 2, 0x10, 4, 0xd0000000u);
	ck_assert(!mapped_at(&f.mmio, 0xc0000000));
	ck_assert(mapped_at(&f.mmio, 0xd0000000) && mapped_at(&f.mmio, 0xd0000fff));
	/* 64-bit BAR: low then high half; a high address is allowed. */
	wr(&f.b, 2, 0x18, 4, 0x00000000u);
	wr(&f.b, 2, 0x1c, 4, 0x1u);
	ck_assert(mapped_at(&f.mmio, 0x100000000ull));
	ck_assert_uint_eq(pci_dev_bar_addr(&f.d, 2), 0x100000000ull);
	/* I/O BAR move. */
	wr(&f.b, 2, 0x20, 4, 0x2000);
	ck_assert(mapped_at(&f.pio, 0x2000) && !mapped_at(&f.pio, 0x1000));
	/* Memory decode off: MMIO BARs gone, I/O stays. */
	wr(&f.b, 2, PCI_COMMAND, 2, PCI_COMMAND_IO);
	ck_assert_uint_eq(f.mmio.n, 0);
	ck_assert(mapped_at(&f.pio, 0x2000));
	/* Move while not decoding: nothing registered; enable maps at new place. */
	wr(&f.b, 2, 0x10, 4, 0xc8000000u);
	ck_assert_uint_eq(f.mmio.n, 0);
	wr(&f.b, 2, PCI_COMMAND, 2, 3);
	ck_assert(mapped_at(&f.mmio, 0xc8000000));
	/* A BAR that collides with another device is left unmapped, no crash. */
	ck_assert_int_eq(bus_add(&f.mmio, 0xca000000u, 0x1000, &dummy_ops, NULL, "other"), 0);
	wr(&f.b, 2, 0x10, 4, 0xca000000u);
	ck_assert(!f.d.bar[0].mapped);
	/* Low address bits are read-only: 0xffd0 lands at 0xffc0. */
	wr(&f.b, 2, 0x20, 4, 0xffd0);
	ck_assert_uint_eq(rd(&f.b, 2, 0x20, 4), 0xffc1);
	ck_assert(mapped_at(&f.pio, 0xffc0) && mapped_at(&f.pio, 0xffdf));
	/* The all-ones pattern left by sizing never decodes. */
	wr(&f.b, 2, 0x20, 4, 0xffffffff);
	ck_assert(!mapped_at(&f.pio, 0xffe0) && !mapped_at(&f.pio, 0xffc0));
	fx_fini(&f);
}
END_TEST

START_TEST(intx)
{
	struct fixture f;
	fx_init(&f);
	ck_assert_int_eq(pci_bus_add(&f.b, 3, &f.d), 0);  /* GSI 16 + 3 = 19 */
	pci_dev_intx(&f.d, 1);
	ck_assert_int_eq(firq.level, 1);
	ck_assert_uint_eq(firq.gsi, 19);
	ck_assert(rd(&f.b, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* INTx disable masks the line but keeps the status bit. */
	wr(&f.b, 3, PCI_COMMAND, 2, 3 | PCI_COMMAND_INTX_DISABLE);
	ck_assert_int_eq(firq.level, 0);
	ck_assert(rd(&f.b, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr(&f.b, 3, PCI_COMMAND, 2, 3);
	ck_assert_int_eq(firq.level, 1);
	pci_dev_intx(&f.d, 0);
	ck_assert_int_eq(firq.level, 0);
	ck_assert_uint_eq(pci_intx_gsi(1, 1), 17);
	ck_assert_uint_eq(pci_intx_gsi(1, 4), 16);
	ck_assert_uint_eq(pci_intx_gsi(4, 2), 17);
	fx_fini(&f);
}
END_TEST

/* A guest writing the status register (w1c error bits) from a vCPU while the
 * I/O thread raises INTx: the interrupt status bit must survive. The byte
 * update of a config write was a plain load/store, so a write that read the
 * byte before the I/O thread set the bit stored it back cleared. */
struct race { struct pci_bus *b; volatile bool stop; };

static void *status_writer(void *arg)
{
	struct race *r = arg;
	while (!r->stop)
		wr(r->b, 3, PCI_STATUS, 2, 0);
	return NULL;
}

START_TEST(intx_status_race)
{
	struct fixture f;
	struct race r;
	pthread_t t;
	unsigned lost = 0;

	fx_init(&f);
	ck_assert_int_eq(pci_bus_add(&f.b, 3, &f.d), 0);
	r.b = &f.b;
	r.stop = false;
	ck_assert_int_eq(pthread_create(&t, NULL, status_writer, &r), 0);
	for (unsigned i = 0; i < 200000; i++) {
		pci_dev_intx(&f.d, 1);
		for (volatile int k = 0; k < 20; k++)
			;
		if (!(pci_cfg_read(&f.d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT))
			lost++;
		pci_dev_intx(&f.d, 0);
	}
	r.stop = true;
	pthread_join(t, NULL);
	ck_assert_uint_eq(lost, 0);
	fx_fini(&f);
}
END_TEST

START_TEST(cap_list)
{
	struct pci_dev d;
	pci_dev_init(&d, 1, 2, 0, 0);
	ck_assert_uint_eq(d.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
	int a = pci_dev_add_cap(&d, 0x09, 16);
	int b = pci_dev_add_cap(&d, 0x11, 12);
	int c = pci_dev_add_cap(&d, 0x09, 20);
	ck_assert_int_eq(a, 0x40);
	ck_assert_int_eq(b, 0x50);
	ck_assert_int_eq(c, 0x5c);
	ck_assert(d.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	ck_assert_uint_eq(d.cfg[0x34], 0x40);
	/* Walk as a driver does. */
	unsigned ids[4], n = 0;
	for (uint8_t p = d.cfg[0x34]; p && n < 4; p = d.cfg[p + 1])
		ids[n++] = d.cfg[p];
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ids[0], 0x09);
	ck_assert_uint_eq(ids[1], 0x11);
	ck_assert_uint_eq(ids[2], 0x09);
	ck_assert_uint_eq(pci_dev_find_cap(&d, 0x11), 0x50);
	ck_assert_uint_eq(pci_dev_find_cap(&d, 0x05), 0);
	/* Full config space: -ENOSPC. */
	for (int i = 0; i < 20; i++)
		pci_dev_add_cap(&d, 0x09, 16);
	ck_assert_int_eq(pci_dev_add_cap(&d, 0x09, 16), -ENOSPC);
	/* Capability bytes are read-only to the guest. */
	struct pci_bus bus;
	pci_bus_init(&bus, &no_ctl);
	ck_assert_int_eq(pci_bus_add(&bus, 1, &d), 0);
	pci_bus_cfg_write(&bus, 8, 0x40, 4, 0);
	ck_assert_uint_eq(d.cfg[0x40], 0x09);
	pci_bus_destroy(&bus);
}
END_TEST

/* ---- MSI-X ---- */

static void tw(struct msix *m, unsigned vec, unsigned word, uint32_t v)
{
	uint8_t b[4];
	bus_put_le(b, 4, v);
	msix_table_write(m, vec * 16 + word * 4, b, 4);
}
static uint32_t tr(struct msix *m, uint64_t off, unsigned len)
{
	uint8_t b[8];
	msix_table_read(m, off, b, len);
	return (uint32_t)bus_get_le(b, 4);
}

START_TEST(msix_basic)
{
	struct pci_bus bus;
	struct pci_dev d;
	struct msix m;
	struct fake_msi r = { 0 };
	struct msi_sink sink = fake_msi_sink(&r);
	uint8_t b[8];

	pci_bus_init(&bus, &no_ctl);
	pci_dev_init(&d, 1, 2, 0, 0);
	ck_assert_int_eq(msix_init(&m, &d, 3, 2, 0, 0x800, &sink), 0);
	d.opaque = &m;
	ck_assert_int_eq(pci_bus_add(&bus, 1, &d), 0);
	uint8_t cap = pci_dev_find_cap(&d, PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(cap, 0x40);
	ck_assert_uint_eq(rd(&bus, 1, cap + 2, 2), 2);            /* table size N-1 */
	ck_assert_uint_eq(rd(&bus, 1, cap + 4, 4), 0x000 | 2);    /* BIR 2 */
	ck_assert_uint_eq(rd(&bus, 1, cap + 8, 4), 0x800 | 2);
	/* Vectors start masked. */
	ck_assert_uint_eq(tr(&m, 12, 4), 1);
	ck_assert_uint_eq(tr(&m, 3 * 16, 4), 0xffffffffu);        /* past the table */
	/* Disabled: notify refuses (caller falls back to INTx). */
	ck_assert(!msix_notify(&m, 0));

	tw(&m, 0, 0, 0xfee00000u);
	tw(&m, 0, 1, 0);
	tw(&m, 0, 2, 0x41);
	ck_assert_uint_eq(tr(&m, 8, 4), 0x41);
	/* Enable + function mask via config space (only bits 15:14 writable). */
	wr(&bus, 1, cap + 2, 2, 0xc000 | 0x3fff);
	msix_cfg_written(&m, cap + 2, 2);
	ck_assert_uint_eq(rd(&bus, 1, cap + 2, 2), 0xc002);
	ck_assert(msix_notify(&m, 0));
	ck_assert_uint_eq(r.fired[0], 0);
	msix_pba_read(&m, 0, b, 8);
	ck_assert_uint_eq(bus_get_le(b, 8), 1);
	/* Unmask the vector: still function-masked. */
	tw(&m, 0, 3, 0);
	ck_assert_uint_eq(r.fired[0], 0);
	/* Clear function mask: pending vector delivered, PBA cleared. */
	wr(&bus, 1, cap + 2, 2, 0x8000);
	msix_cfg_written(&m, cap + 2, 2);
	ck_assert_uint_eq(r.fired[0], 1);
	ck_assert_uint_eq(r.routed[0], 1);
	ck_assert_uint_eq(r.addr[0], 0xfee00000u);
	ck_assert_uint_eq(r.data[0], 0x41);
	msix_pba_read(&m, 0, b, 8);
	ck_assert_uint_eq(bus_get_le(b, 8), 0);
	ck_assert(msix_notify(&m, 0));
	ck_assert_uint_eq(r.fired[0], 2);
	/* Message change re-routes; out-of-range vector refused. */
	tw(&m, 0, 2, 0x42);
	ck_assert_uint_eq(r.routed[0], 2);
	ck_assert(!msix_notify(&m, 7));
	/* Per-vector mask. */
	tw(&m, 0, 3, 1);
	msix_notify(&m, 0);
	ck_assert_uint_eq(r.fired[0], 2);
	tw(&m, 0, 3, 0);
	ck_assert_uint_eq(r.fired[0], 3);
	/* Misaligned / odd-sized table accesses are ignored. */
	bus_put_le(b, 2, 0xffff);
	msix_table_write(&m, 2, b, 2);
	ck_assert_uint_eq(tr(&m, 0, 4), 0xfee00000u);
	msix_destroy(&m);
	pci_bus_destroy(&bus);
}
END_TEST

/* cfg_will_write runs before a write lands (it sees the old bytes), so a
 * device can stop what the old value allowed: virtio unbinds back-end
 * irqfds before MSI-X Function Mask is set. */
struct hook_rec {
	struct msix *m;
	unsigned calls, touches;
	uint8_t seen_before, seen_after;
};
static void rec_will(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct hook_rec *h = d->opaque;
	h->calls++;
	h->seen_before = d->cfg[h->m->cap + 3];
	if (msix_cfg_touches_control(h->m, off, len))
		h->touches++;
}
static void rec_written(struct pci_dev *d, uint32_t off, uint32_t len)
{
	struct hook_rec *h = d->opaque;
	h->seen_after = d->cfg[h->m->cap + 3];
	msix_cfg_written(h->m, off, len);
}
static const struct pci_dev_ops rec_ops = { .cfg_will_write = rec_will, .cfg_written = rec_written };

START_TEST(cfg_will_write_order)
{
	struct pci_bus bus;
	struct pci_dev d;
	struct msix m;
	struct fake_msi r = { 0 };
	struct msi_sink sink = fake_msi_sink(&r);
	struct hook_rec h = { .m = &m };

	pci_bus_init(&bus, &no_ctl);
	pci_dev_init(&d, 1, 2, 0, 0);
	ck_assert_int_eq(msix_init(&m, &d, 2, 2, 0, 0x800, &sink), 0);
	d.ops = &rec_ops;
	d.opaque = &h;
	ck_assert_int_eq(pci_bus_add(&bus, 1, &d), 0);
	uint8_t cap = m.cap;
	wr(&bus, 1, cap + 2, 2, 0x8000);                 /* enable */
	ck_assert_uint_eq(h.calls, 1);
	ck_assert_uint_eq(h.touches, 1);
	ck_assert_uint_eq(h.seen_before, 0x00);
	ck_assert_uint_eq(h.seen_after, 0x80);
	wr(&bus, 1, cap + 3, 1, 0xc0);                   /* + function mask, byte write */
	ck_assert_uint_eq(h.touches, 2);
	ck_assert_uint_eq(h.seen_before, 0x80);
	ck_assert_uint_eq(h.seen_after, 0xc0);
	wr(&bus, 1, cap, 4, 0xc0000000u | PCI_CAP_ID_MSIX); /* dword at the cap */
	ck_assert_uint_eq(h.touches, 3);
	wr(&bus, 1, cap + 4, 4, 0);                      /* table offset: not control */
	wr(&bus, 1, cap + 2, 1, 0);                      /* low byte of control only */
	ck_assert_uint_eq(h.calls, 5);
	ck_assert_uint_eq(h.touches, 3);
	ck_assert_uint_eq(h.seen_after, 0xc0);
	msix_destroy(&m);
	pci_bus_destroy(&bus);
}
END_TEST

START_TEST(prt_aml)
{
	uint8_t buf[4096];
	struct aml a;
	aml_init(&a, buf, sizeof(buf));
	ck_assert_int_eq(pci_prt_aml(&a, NULL), 0);
	/* NameOp "_PRT" PackageOp ... */
	ck_assert_uint_eq(buf[0], 0x08);
	ck_assert(!memcmp(buf + 1, "_PRT", 4));
	ck_assert_uint_eq(buf[5], 0x12);
	/* First entry: Package(4){0x0001FFFF, Zero, Zero, 17}. */
	const uint8_t first[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00,
				  0x0a, 0x11 };
	ck_assert(memmem(buf, a.len, first, sizeof(first)) != NULL);
	ck_assert_uint_lt(a.len, 2048);
}
END_TEST

CHECK_MAIN("pci_bar", bar_bad_args, bar_alloc_and_sizing, bar_move, intx, intx_status_race, cap_list,
	msix_basic, cfg_will_write_order, prt_aml)
