/* virtio-pci transport (common config state machine, caps, interrupts) and
 * the virtio-rng / virtio-console devices over it, with malloc-backed RAM. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/console.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio_pci.h"
#include "fakes.h"
#include "virtq_driver.h"

#define RAM_SIZE (4u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

struct env {
	struct guest_mem mem;
	struct pci_bus pb;
	struct bus pio, mmio;
	struct virtio_dev *vd;
	struct virtio_pci *vp;
	uint64_t bar0;
	struct fake_msi msi;
	struct fake_irq intx;
	struct fake_sink out;
	struct vqd q[2];      /* the driver side of queues 0 and 1 */
	uint64_t now;
};

static struct env E;
static struct vmctl no_ctl;

static uint64_t fake_clock(void *o) { return E.now; }

static uint64_t r_(uint64_t off, unsigned len)
{
	uint8_t b[8] = { 0 };
	bus_access(&E.mmio, E.bar0 + off, b, len, false);
	return bus_get_le(b, len);
}
static void w_(uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];
	bus_put_le(b, len, v);
	bus_access(&E.mmio, E.bar0 + off, b, len, true);
}

static void setup_with(struct virtio_dev *vd)
{
	struct irq_line intx = fake_irq_line(&E.intx, 0);
	struct msi_sink msi = fake_msi_sink(&E.msi);
	memset(&E.msi, 0, sizeof(E.msi));
	memset(&E.intx, 0, sizeof(E.intx));
	E.mem.nr = 1;
	E.mem.r[0] = (struct gmem_region){ .gpa = 0, .size = RAM_SIZE, .hva = calloc(1, RAM_SIZE) };
	E.mem.ram_size = RAM_SIZE;
	pci_bus_init(&E.pb, &no_ctl);
	bus_init(&E.pio, "pio");
	bus_init(&E.mmio, "mmio");
	pci_bus_attach(&E.pb, &E.pio, &E.mmio, 0xc0000000ull, 0xe0000000ull, &intx);
	struct virtio_pci_params p = { .bus = &E.pb, .slot = 1, .mem = &E.mem, .vm_fd = -1,
				       .msi = &msi };
	E.vd = vd;
	ck_assert_int_eq(virtio_pci_create(vd, &p, &E.vp), 0);
	E.bar0 = pci_dev_bar_addr(&E.vp->pci, VP_BAR_CFG);
}

static void setup_rng(void)
{
	struct virtio_dev *vd;
	E.now = 1000000000ull;
	ck_assert_int_eq(virtio_rng_create(NULL, &vd), 0);
	virtio_rng_set_clock(vd, fake_clock, NULL);
	setup_with(vd);
}

static void teardown(void)
{
	virtio_pci_destroy(E.vp);
	virtio_dev_destroy(E.vd);
	pci_bus_destroy(&E.pb);
	bus_destroy(&E.pio);
	bus_destroy(&E.mmio);
	free(E.mem.r[0].hva);
}

static uint8_t *ram(uint64_t gpa) { return E.mem.r[0].hva + gpa; }

static bool negotiate(uint64_t feat)
{
	w_(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	w_(0x08, 4, 0);
	w_(0x0c, 4, (uint32_t)feat);
	w_(0x08, 4, 1);
	w_(0x0c, 4, feat >> 32);
	w_(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return r_(0x14, 1) & VIRTIO_STATUS_FEATURES_OK;
}

static void queue_setup(unsigned q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	if (q < 2 && used + 6 + 8ull * size <= RAM_SIZE && desc + 16ull * size <= RAM_SIZE)
		vqd_init_at(&E.q[q], E.mem.r[0].hva, size, desc, avail, used, false);
	w_(0x16, 2, q);
	w_(0x18, 2, size);
	w_(0x20, 4, (uint32_t)desc);
	w_(0x24, 4, desc >> 32);
	w_(0x28, 4, (uint32_t)avail);
	w_(0x2c, 4, 0);
	w_(0x30, 8, used);  /* 64-bit access also accepted */
	w_(0x1c, 2, 1);
}

static void driver_ok(void)
{
	w_(0x14, 1, r_(0x14, 1) | VIRTIO_STATUS_DRIVER_OK);
}

/* Posts one buffer (device-writable if in) on queue q. */
static void post(unsigned q, uint64_t addr, uint32_t len, bool in)
{
	vqd_add1(&E.q[q], addr, len, in);
}

static void kick(unsigned q) { w_(VP_NOTIFY_OFF + VP_NOTIFY_MULT * q, 2, q); }

START_TEST(probe_like_linux)
{
	setup_rng();
	struct pci_dev *d = &E.vp->pci;
	uint8_t devfn = 1 << 3;
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 0, 2), 0x1af4);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 2, 2), 0x1044);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 8, 1), 1);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 0x2c, 2), 0x1af4);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 0x3d, 1), 1);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, 0x3c, 1), 17);
	/* lspci -vvv style dump of what a driver finds. */
	printf("00:01.0 %04x:%04x rev %02x class %06x irq %u pin %c\n",
	       pci_bus_cfg_read(&E.pb, devfn, 0, 2), pci_bus_cfg_read(&E.pb, devfn, 2, 2),
	       pci_bus_cfg_read(&E.pb, devfn, 8, 1), pci_bus_cfg_read(&E.pb, devfn, 9, 3),
	       pci_bus_cfg_read(&E.pb, devfn, 0x3c, 1),
	       'A' - 1 + pci_bus_cfg_read(&E.pb, devfn, 0x3d, 1));
	for (unsigned i = 0; i < 6; i++) {
		if (d->bar[i].kind == PCI_BAR_NONE)
			continue;
		printf("  BAR%u: %s at 0x%llx size 0x%llx\n", i,
		       d->bar[i].kind == PCI_BAR_MEM64 ? "mem64" : "mem32",
		       (unsigned long long)pci_dev_bar_addr(d, i), (unsigned long long)d->bar[i].size);
	}
	unsigned seen = 0, guard = 0;
	bool msix = false;
	for (uint8_t p = pci_bus_cfg_read(&E.pb, devfn, 0x34, 1); p && guard < 48;
	     p = pci_bus_cfg_read(&E.pb, devfn, p + 1, 1), guard++) {
		uint8_t id = pci_bus_cfg_read(&E.pb, devfn, p, 1);
		if (id == PCI_CAP_ID_VNDR) {
			uint8_t type = pci_bus_cfg_read(&E.pb, devfn, p + 3, 1);
			uint8_t bar = pci_bus_cfg_read(&E.pb, devfn, p + 4, 1);
			uint32_t off = pci_bus_cfg_read(&E.pb, devfn, p + 8, 4);
			uint32_t len = pci_bus_cfg_read(&E.pb, devfn, p + 12, 4);
			printf("  [%02x] virtio cfg_type %u bar %u off 0x%x len 0x%x\n", p, type, bar,
			       off, len);
			ck_assert_uint_eq(bar, 0);
			seen |= 1u << type;
			if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
				ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, devfn, p + 16, 4), 4);
		} else if (id == PCI_CAP_ID_MSIX) {
			printf("  [%02x] MSI-X count %u\n", p,
			       (pci_bus_cfg_read(&E.pb, devfn, p + 2, 2) & 0x7ff) + 1);
			msix = true;
		}
	}
	/* rng has no device config: no DEVICE_CFG cap (Linux treats it as optional). */
	ck_assert_uint_eq(seen, (1u << 1) | (1u << 2) | (1u << 3));
	ck_assert(msix);
	ck_assert_uint_eq(r_(0x12, 2), 1);      /* num_queues */
	teardown();
}
END_TEST

START_TEST(feature_negotiation)
{
	setup_rng();
	w_(0x00, 4, 0);
	uint32_t lo = (uint32_t)r_(0x04, 4);
	w_(0x00, 4, 1);
	uint32_t hi = (uint32_t)r_(0x04, 4);
	w_(0x00, 4, 7);
	ck_assert_uint_eq(r_(0x04, 4), 0);
	ck_assert(hi & 1);                                   /* VERSION_1 */
	ck_assert(lo & (1u << VIRTIO_F_RING_INDIRECT_DESC));
	ck_assert(lo & (1u << VIRTIO_F_RING_EVENT_IDX));
	/* Without VERSION_1: refused. */
	ck_assert(!negotiate(0));
	w_(0x14, 1, 0);
	/* A feature we never offered: refused. */
	ck_assert(!negotiate((1ull << VIRTIO_F_VERSION_1) | (1ull << 40)));
	w_(0x14, 1, 0);
	ck_assert(negotiate((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX)));
	ck_assert(virtio_has_feature(E.vd, VIRTIO_F_RING_EVENT_IDX));
	/* Feature writes after FEATURES_OK are ignored. */
	w_(0x08, 4, 0);
	w_(0x0c, 4, 0);
	ck_assert(virtio_has_feature(E.vd, VIRTIO_F_RING_EVENT_IDX));
	teardown();
}
END_TEST

/* Enabling a queue whose size is not a power of two (or above the maximum)
 * must not run it: the device reports NEEDS_RESET and the queue stays off. */
START_TEST(bad_queue_size_needs_reset)
{
	/* 128: a power of two within VQ_MAX_SIZE but above rng's QueueSizeMax
	 * of 64 (issue 10 finding 4: 1024 used to be accepted). */
	static const uint16_t bad[] = { 3, 24, 128, 1024, 4096, 0 };
	setup_rng();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w_(0x14, 1, 0);
		ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
		w_(0x16, 2, 0);
		w_(0x18, 2, bad[i]);
		w_(0x20, 8, DESC);
		w_(0x28, 8, AVAIL);
		w_(0x30, 8, USED);
		w_(0x1c, 2, 1);
		ck_assert_uint_eq(r_(0x1c, 2), 0);
		ck_assert(!E.vd->vq[0].ready);
		ck_assert(r_(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	}
	teardown();
}
END_TEST

START_TEST(queue_setup_and_reset)
{
	setup_rng();
	ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
	w_(0x16, 2, 0);
	ck_assert_uint_eq(r_(0x18, 2), RNG_QUEUE_SIZE);
	/* Invalid sizes read back as written; they are refused at enable. */
	w_(0x18, 2, 24);                     /* not a power of two */
	ck_assert_uint_eq(r_(0x18, 2), 24);
	w_(0x18, 2, 4096);                   /* above max */
	ck_assert_uint_eq(r_(0x18, 2), 4096);
	w_(0x18, 2, RNG_QUEUE_SIZE);
	ck_assert_uint_eq(r_(0x1e, 2), 0);   /* queue_notify_off */
	/* Nonexistent queue reads size 0. */
	w_(0x16, 2, 5);
	ck_assert_uint_eq(r_(0x18, 2), 0);
	queue_setup(0, 16, DESC, AVAIL, USED);
	ck_assert_uint_eq(r_(0x1c, 2), 1);
	ck_assert(E.vd->vq[0].ready);
	ck_assert_uint_eq(r_(0x20, 4), DESC);
	ck_assert_uint_eq(r_(0x30, 8), USED);
	/* Changing an enabled queue is ignored. */
	w_(0x18, 2, 8);
	ck_assert_uint_eq(r_(0x18, 2), 16);
	/* Reset clears everything. */
	w_(0x14, 1, 0);
	ck_assert_uint_eq(r_(0x14, 1), 0);
	ck_assert(!E.vd->vq[0].ready);
	w_(0x16, 2, 0);
	ck_assert_uint_eq(r_(0x1c, 2), 0);
	ck_assert_uint_eq(r_(0x18, 2), RNG_QUEUE_SIZE);
	ck_assert_uint_eq(r_(0x20, 4), 0);
	ck_assert_uint_eq(r_(0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(E.vd->driver_features, 0);
	teardown();
}
END_TEST

START_TEST(bad_queue_needs_reset)
{
	setup_rng();
	ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
	/* Descriptor table outside guest RAM. */
	queue_setup(0, 16, RAM_SIZE + 0x1000, AVAIL, USED);
	ck_assert_uint_eq(r_(0x1c, 2), 0);
	ck_assert(r_(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	/* Config interrupt through INTx (MSI-X off): ISR bit 1. */
	ck_assert_int_eq(E.intx.level, 1);
	ck_assert_uint_eq(r_(VP_ISR_OFF, 1), 2);
	ck_assert_int_eq(E.intx.level, 0);
	ck_assert_uint_eq(r_(VP_ISR_OFF, 1), 0);
	/* Misaligned used ring also refused; reset recovers. */
	w_(0x14, 1, 0);
	ck_assert_uint_eq(r_(0x14, 1), 0);
	ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
	queue_setup(0, 16, DESC, AVAIL, USED + 2);
	ck_assert(r_(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	teardown();
}
END_TEST

START_TEST(rng_fill_intx_and_msix)
{
	setup_rng();
	ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
	queue_setup(0, 16, DESC, AVAIL, USED);
	driver_ok();
	post(0, BUF, 100, true);
	kick(0);
	ck_assert_uint_eq(vqd_used_idx(&E.q[0]), 1);
	ck_assert_uint_eq(vqd_used_len_at(&E.q[0], 0), 100);
	bool nonzero = false;
	for (int i = 0; i < 100; i++)
		nonzero |= ram(BUF)[i] != 0;
	ck_assert(nonzero);
	ck_assert_uint_eq(ram(BUF)[100], 0);
	/* INTx with ISR bit 0; read-to-clear deasserts. */
	ck_assert_int_eq(E.intx.level, 1);
	ck_assert_uint_eq(r_(VP_ISR_OFF, 1), 1);
	ck_assert_int_eq(E.intx.level, 0);

	/* Switch to MSI-X: enable in config space, vector 1 for queue 0. */
	uint8_t cap = pci_dev_find_cap(&E.vp->pci, PCI_CAP_ID_MSIX);
	pci_bus_cfg_write(&E.pb, 8, cap + 2, 2, 0x8000);
	uint64_t tbl = pci_dev_bar_addr(&E.vp->pci, VP_BAR_MSIX);
	uint8_t b[4];
	bus_put_le(b, 4, 0);
	bus_access(&E.mmio, tbl + 16 + 12, b, 4, true);      /* unmask vector 1 */
	w_(0x16, 2, 0);
	w_(0x1a, 2, 1);
	ck_assert_uint_eq(r_(0x1a, 2), 1);
	w_(0x10, 2, 9);                                      /* no such vector */
	ck_assert_uint_eq(r_(0x10, 2), VIRTIO_MSI_NO_VECTOR);
	post(0, BUF + 0x1000, 32, true);
	kick(0);
	ck_assert_uint_eq(vqd_used_idx(&E.q[0]), 2);
	ck_assert_uint_eq(E.msi.fired[1], 1);
	ck_assert_int_eq(E.intx.level, 0);
	/* A driver-readable-only buffer gets 0 bytes. */
	post(0, BUF + 0x2000, 32, false);
	kick(0);
	ck_assert_uint_eq(vqd_used_len_at(&E.q[0], 2), 0);
	teardown();
}
END_TEST

START_TEST(rng_caps)
{
	setup_rng();
	ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
	queue_setup(0, 16, DESC, AVAIL, USED);
	driver_ok();
	/* At most 64 KiB per request. */
	post(0, BUF, 128 * 1024, true);
	kick(0);
	ck_assert_uint_eq(vqd_used_len_at(&E.q[0], 0), RNG_MAX_REQUEST);
	/* Drain the rest of the burst budget. */
	for (uint16_t i = 1; i < 4; i++) {
		post(0, BUF, 64 * 1024, true);
		kick(0);
	}
	ck_assert_uint_eq(vqd_used_idx(&E.q[0]), 4);
	ck_assert_uint_eq(virtio_rng_tokens(E.vd), 0);
	/* Over budget: the request waits. */
	post(0, BUF, 64 * 1024, true);
	kick(0);
	ck_assert_uint_eq(vqd_used_idx(&E.q[0]), 4);
	/* 10 ms later ~10 KiB accrued: served partially. */
	E.now += 10000000ull;
	kick(0);
	ck_assert_uint_eq(vqd_used_idx(&E.q[0]), 5);
	ck_assert_uint_eq(vqd_used_len_at(&E.q[0], 4), RNG_RATE / 100);
	teardown();
}
END_TEST

START_TEST(console_io)
{
	struct virtio_dev *vd;
	memset(&E.out, 0, sizeof(E.out));
	struct char_sink s = fake_char_sink(&E.out);
	ck_assert_int_eq(virtio_console_create(&s, &vd), 0);
	setup_with(vd);
	ck_assert_uint_eq(pci_bus_cfg_read(&E.pb, 8, 2, 2), 0x1043);
	ck_assert(negotiate((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE)));
	/* Emergency write goes straight to the sink. */
	w_(VP_DEVCFG_OFF + 8, 4, 'E');
	/* Out-of-bounds device config reads 0, writes ignored. */
	ck_assert_uint_eq(r_(VP_DEVCFG_OFF + VCON_CONFIG_SIZE - 2, 4), 0);
	queue_setup(0, 16, DESC, AVAIL, USED);
	queue_setup(1, 16, 0x4000, 0x5000, 0x6000);
	driver_ok();
	memcpy(ram(BUF), "hi!", 3);
	post(1, BUF, 3, false);
	kick(1);
	ck_assert_uint_eq(E.out.len, 4);
	ck_assert(!memcmp(E.out.buf, "Ehi!", 4));
	/* Input: nothing posted -> 0; then into a posted buffer. */
	ck_assert_uint_eq(virtio_console_input(vd, (const uint8_t *)"abc", 3), 0);
	post(0, BUF + 0x100, 2, true);
	ck_assert_uint_eq(virtio_console_input(vd, (const uint8_t *)"abc", 3), 2);
	ck_assert(!memcmp(ram(BUF + 0x100), "ab", 2));
	ck_assert_uint_eq(vqd_used_len_at(&E.q[0], 0), 2);
	teardown();
}
END_TEST

/* Issue 10 finding 2: the I/O thread reaping blk completions finds a broken
 * ring (device lock, then it used to take the transport lock to raise
 * NEEDS_RESET) while a vCPU resets the device (transport lock, then the
 * device lock in blk_reset): an ABBA deadlock that left only SIGKILL. Both
 * sides run here from two threads; the case times out if they deadlock. */
static volatile int poll_stop;
static void *io_thread(void *vd)
{
	while (!__atomic_load_n(&poll_stop, __ATOMIC_ACQUIRE))
		virtio_blk_poll(vd);
	return NULL;
}

START_TEST(blk_reset_during_poll_no_deadlock)
{
	char path[] = "/tmp/test_vp_blkXXXXXX";
	int fd = mkstemp(path);
	struct virtio_dev *vd;
	char err[256];
	pthread_t t;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	struct blk_params bp = { .path = path };
	ck_assert_msg(virtio_blk_create(&bp, NULL, &vd, err) == 0, "%s", err);
	setup_with(vd);
	poll_stop = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, io_thread, vd), 0);
	unsigned broke = 0;
	for (unsigned i = 0; i < 3000; i++) {
		w_(0x14, 1, 0);
		ck_assert_uint_eq(r_(0x14, 1), 0);
		memset(ram(DESC), 0, 0x3000);
		ck_assert(negotiate(1ull << VIRTIO_F_VERSION_1));
		queue_setup(0, 16, DESC, AVAIL, USED);
		driver_ok();
		/* A descriptor loop: the next poll finds the ring broken. */
		uint8_t *d = ram(DESC);
		uint64_t a = BUF;
		uint32_t len = 16;
		uint16_t fl = VRING_DESC_F_NEXT, nx = 0;
		memcpy(d, &a, 8);
		memcpy(d + 8, &len, 4);
		memcpy(d + 12, &fl, 2);
		memcpy(d + 14, &nx, 2);
		uint16_t idx = 1, head = 0;
		memcpy(ram(AVAIL + 4), &head, 2);
		__atomic_store_n((uint16_t *)ram(AVAIL + 2), idx, __ATOMIC_RELEASE);
		if (i % 2)
			usleep(10); /* sometimes let the poll get there first */
		broke += (r_(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET) != 0;
	}
	__atomic_store_n(&poll_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	printf("blk reset vs poll: %u of 3000 rounds saw NEEDS_RESET\n", broke);
	ck_assert_uint_gt(broke, 0);
	w_(0x14, 1, 0);
	teardown();
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, probe_like_linux);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, queue_setup_and_reset);
	tcase_add_test(tc, bad_queue_size_needs_reset);
	tcase_add_test(tc, bad_queue_needs_reset);
	tcase_add_test(tc, rng_fill_intx_and_msix);
	tcase_add_test(tc, rng_caps);
	tcase_add_test(tc, console_io);
	tcase_add_test(tc, blk_reset_during_poll_no_deadlock);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
