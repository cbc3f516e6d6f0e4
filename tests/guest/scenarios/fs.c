/* virtio-fs (1af4:105a) against a real virtiofsd, with just enough FUSE to
 * prove the rings work end to end (the test kernel has no FUSE client):
 *   fs   probe the tk.n'th virtio-fs device (default 0), print its config
 *        (tag, num_request_queues), bring it to DRIVER_OK with hiprio +
 *        one request queue, FUSE_INIT; then with tk.file=NAME look it up
 *        in the share's root, open and read it (up to 1 MiB) and print its
 *        size and byte sum; with tk.create=NAME create it and write
 *        tk.size bytes (default 4096) of a pattern (seed tk.seed), printing
 *        the FUSE error of each step (-30 = EROFS on a read-only share);
 *        with tk.waitreset=MS print "TK: fs ready" and wait up to MS for
 *        the device to set NEEDS_RESET (the host kills the daemon), then
 *        print the status; with tk.reboot, reset the machine after all that
 *        (CMOS byte 0x41 remembers it) and do it all again on the rebuilt
 *        VM's new virtiofsd, then power off. */
#include "virtio.h"

enum { FUSE_LOOKUP = 1, FUSE_OPEN = 14, FUSE_READ = 15, FUSE_WRITE = 16, FUSE_RELEASE = 18,
       FUSE_INIT = 26, FUSE_CREATE = 35 };
#define ROOT_ID   1
#define IN_HDR    40u
#define OUT_HDR   16u
#define REQ_MAX   8192u
#define REPLY_MAX (TK_DATABUF_SIZE / 2)

static struct vdev fs;
static uint8_t *req;
static uint64_t unique = 1;

static void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void p32(uint8_t *p, uint32_t v) { p16(p, (uint16_t)v); p16(p + 2, (uint16_t)(v >> 16)); }
static void p64(uint8_t *p, uint64_t v) { p32(p, (uint32_t)v); p32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t g32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t g64(const uint8_t *p) { return g32(p) | (uint64_t)g32(p + 4) << 32; }

/* One request on the request queue: header + args (+ data) in, the reply
 * into tk_databuf. Returns the FUSE error (0 or -errno); *rlen the reply
 * length after the header. */
static int fuse_call(uint32_t op, uint64_t node, const void *args, uint32_t alen,
		     const void *data, uint32_t dlen, uint32_t *rlen)
{
	struct vq *q = &fs.vq[1];
	uint32_t id, len, n = IN_HDR + alen + dlen;

	if (n > REQ_MAX)
		tk_fail(NULL, "fuse request too long");
	memset(req, 0, IN_HDR);
	p32(req, n);
	p32(req + 4, op);
	p64(req + 8, unique);
	p64(req + 16, node);
	memcpy(req + IN_HDR, args, alen);
	if (dlen)
		memcpy(req + IN_HDR + alen, data, dlen);
	memset(tk_databuf, 0, OUT_HDR);
	vq_desc(q, 0, (uintptr_t)req, n, VRING_DESC_F_NEXT, 1);
	vq_desc(q, 1, (uintptr_t)tk_databuf, REPLY_MAX, VRING_DESC_F_WRITE, 0);
	vq_push(q, 0);
	vq_kick(q);
	if (!vq_poll(q, &id, &len, 10000))
		tk_fail(NULL, "fuse op %u: no reply (status 0x%x)", op, vdev_status(&fs));
	if (id != 0 || len < OUT_HDR || len > REPLY_MAX || g32(tk_databuf) != len ||
	    g64(tk_databuf + 8) != unique)
		tk_fail(NULL, "fuse op %u: bad reply id %u len %u", op, id, len);
	unique++;
	*rlen = len - OUT_HDR;
	return (int)g32(tk_databuf + 4);
}

static void fs_open_dev(const struct bootinfo *bi)
{
	uint32_t nth = opt_u32(bi, "tk.n", 0);
	struct pci_dev *d = pci_find(VIRTIO_VENDOR, VIRTIO_PCI_DEV(26), (int)nth);
	char tag[37];

	if (!d)
		tk_fail(NULL, "no virtio-fs (1af4:105a) #%u", nth);
	if (vdev_probe(&fs, d) || !fs.devcfg)
		tk_fail(NULL, "virtio-fs probe failed");
	for (int i = 0; i < 36; i++)
		tag[i] = (char)mmio_read8(fs.devcfg + i);
	tag[36] = 0;
	kprintf("TK: fs tag %s queues %u\n", tag, mmio_read32(fs.devcfg + 36));
	if (vdev_init(&fs, 0) || vq_setup(&fs, 0, 16) || vq_setup(&fs, 1, 16))
		tk_fail(NULL, "virtio-fs init failed");
	vdev_driver_ok(&fs);
	kprintf("TK: fs status 0x%x\n", vdev_status(&fs));
}

static void fs_init(void)
{
	uint8_t a[64] = { 0 };
	uint32_t rl;
	int e;

	p32(a, 7);                 /* major */
	p32(a + 4, 31);            /* minor */
	p32(a + 8, 0);             /* max_readahead */
	e = fuse_call(FUSE_INIT, 0, a, sizeof(a), 0, 0, &rl);
	kprintf("TK: fs init error %d major %u minor %u\n", e, rl >= 8 ? g32(tk_databuf + OUT_HDR) : 0,
		rl >= 8 ? g32(tk_databuf + OUT_HDR + 4) : 0);
	if (e)
		tk_fail(NULL, "FUSE_INIT failed");
}

/* LOOKUP in the root: the node id (size in *size), or 0 with the error printed. */
static uint64_t fs_lookup(const char *name, uint64_t *size)
{
	uint32_t rl;
	int e = fuse_call(FUSE_LOOKUP, ROOT_ID, name, (uint32_t)kstrlen(name) + 1, 0, 0, &rl);

	if (e || rl < 40 + 16) {
		kprintf("TK: fs lookup %s error %d\n", name, e);
		return 0;
	}
	*size = g64(tk_databuf + OUT_HDR + 40 + 8);   /* entry_out.attr.size */
	return g64(tk_databuf + OUT_HDR);
}

static void fs_release(uint64_t node, uint64_t fh)
{
	uint8_t a[24] = { 0 };
	uint32_t rl;
	p64(a, fh);
	fuse_call(FUSE_RELEASE, node, a, sizeof(a), 0, 0, &rl);
}

static void fs_read(const char *name)
{
	uint64_t size = 0, node = fs_lookup(name, &size), fh, off = 0;
	uint8_t a[40] = { 0 };
	uint32_t rl, sum = 0;
	int e;

	if (!node)
		return;
	e = fuse_call(FUSE_OPEN, node, a, 8, 0, 0, &rl);   /* flags 0 = O_RDONLY */
	if (e || rl < 8) {
		kprintf("TK: fs open %s error %d\n", name, e);
		return;
	}
	fh = g64(tk_databuf + OUT_HDR);
	while (off < size && off < TK_DATABUF_SIZE) {
		memset(a, 0, sizeof(a));
		p64(a, fh);
		p64(a + 8, off);
		p32(a + 16, 65536);
		e = fuse_call(FUSE_READ, node, a, sizeof(a), 0, 0, &rl);
		if (e || rl == 0)
			break;
		sum += byte_sum(tk_databuf + OUT_HDR, rl);
		off += rl;
	}
	kprintf("TK: fs read %s size %u got %u sum %08x error %d\n", name, (uint32_t)size,
		(uint32_t)off, sum, e);
	fs_release(node, fh);
}

static void fs_create(const char *name, uint32_t len, uint32_t seed)
{
	static uint8_t data[4096];
	uint8_t a[40] = { 0 }, c[16 + 64] = { 0 };
	uint32_t rl, nlen = (uint32_t)kstrlen(name) + 1, done = 0;
	uint64_t node, fh;
	int e;

	if (nlen > 64)
		tk_fail(NULL, "tk.create name too long");
	p32(c, 01 | 0100 | 01000);  /* O_WRONLY | O_CREAT | O_TRUNC */
	p32(c + 4, 0100644);        /* mode */
	p32(c + 8, 022);            /* umask */
	memcpy(c + 16, name, nlen);
	e = fuse_call(FUSE_CREATE, ROOT_ID, c, 16 + nlen, 0, 0, &rl);
	kprintf("TK: fs create %s error %d\n", name, e);
	if (e || rl < 128 + 16)
		return;
	node = g64(tk_databuf + OUT_HDR);
	fh = g64(tk_databuf + OUT_HDR + 128);        /* after fuse_entry_out */
	while (done < len) {
		uint32_t n = len - done > sizeof(data) ? sizeof(data) : len - done;
		for (uint32_t i = 0; i < n; i++)
			data[i] = (uint8_t)(seed + (done + i) * 7 + ((done + i) >> 9));
		memset(a, 0, sizeof(a));
		p64(a, fh);
		p64(a + 8, done);
		p32(a + 16, n);
		e = fuse_call(FUSE_WRITE, node, a, sizeof(a), data, n, &rl);
		if (e || rl < 4 || g32(tk_databuf + OUT_HDR) != n)
			break;
		done += n;
	}
	kprintf("TK: fs write %s %u error %d\n", name, done, e);
	fs_release(node, fh);
}

int scen_fs(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char name[64];

	bool again = cmos_read(0x41) == 0x5a;

	if (again) {
		cmos_write(0x41, 0);
		kprintf("TK: fs after reboot\n");
	}
	req = tk_alloc(REQ_MAX, 4096);
	fs_open_dev(bi);
	fs_init();
	if (cmdline_get(bi->cmdline, "tk.file", name, sizeof(name)))
		fs_read(name);
	if (cmdline_get(bi->cmdline, "tk.create", name, sizeof(name)))
		fs_create(name, opt_u32(bi, "tk.size", 4096), opt_u32(bi, "tk.seed", 0));
	uint32_t wait = opt_u32(bi, "tk.waitreset", 0);
	if (wait) {
		struct deadline dl;
		kprintf("TK: fs ready\n");
		deadline_start(&dl, wait);
		while (!(vdev_status(&fs) & VIRTIO_S_NEEDS_RESET) && !deadline_passed(&dl))
			delay_ms(10);
		kprintf("TK: fs status after wait 0x%x\n", vdev_status(&fs));
		return 0;
	}
	if (vdev_status(&fs) & VIRTIO_S_NEEDS_RESET)
		tk_fail(NULL, "virtio-fs needs reset");
	if (cmdline_has(bi->cmdline, "tk.reboot")) {
		if (again)
			return scen_poweroff(bi, ai);
		cmos_write(0x41, 0x5a);
		kprintf("TK: fs rebooting\n");
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
		tk_fail(NULL, "reset did not happen");
	}
	return 0;
}
