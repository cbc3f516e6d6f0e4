/* QEMU's device options (-drive, -netdev, -nic, -net, -device) for the
 * translator in qemu_args.c. Drives and NICs are collected here and tied
 * together once the whole command line is read, as QEMU creates drives
 * before the devices that name them. */
#include "cli/qemu_args_int.h"
#include "devices/virtio/blk.h"
#include "host/disk_format.h"

#include <stdlib.h>

static struct qdrive *find_drive(struct qstate *q, const char *id)
{
	for (unsigned i = 0; i < q->ndrives; i++)
		if (*id && !strcmp(q->drives[i].id, id))
			return &q->drives[i];
	return NULL;
}

int qemu_drive(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[QVAL_MAX];
	int r;

	if (q->ndrives >= QMAX_DRIVES)
		return ERR("-drive %.200s: at most %d drives", v, QMAX_DRIVES);
	struct qdrive *dr = &q->drives[q->ndrives];
	memset(dr, 0, sizeof(*dr));
	dr->d.iface = DISK_IF_IDE; /* QEMU's default interface */
	dr->order = q->pos;
	FOR_PROPS(v, key, val, r) {
		if (!strcmp(key, "file")) {
			free(dr->d.path);
			if (!*val || !(dr->d.path = strdup(val)))
				return ERR("-drive %.200s: empty file=", v);
		} else if (!strcmp(key, "format")) {
			if (!strcmp(val, "qcow2"))
				return ERR("-drive %.200s: myvmm reads raw images only; convert with "
					   "qemu-img convert -O raw IMG.qcow2 IMG.raw and use format=raw", v);
			if (strcmp(val, "raw"))
				return ERR("-drive %.200s: format '%.100s' is not supported; use format=raw", v, val);
			dr->d.format = DISK_FMT_RAW; /* as declared: no probe */
		} else if (!strcmp(key, "if")) {
			dr->none = !strcmp(val, "none");
			if (!strcmp(val, "virtio"))
				dr->d.iface = DISK_IF_VIRTIO;
			else if (!strcmp(val, "ide"))
				dr->d.iface = DISK_IF_IDE;
			else if (!dr->none)
				return ERR("-drive %.200s: if=%.50s is not supported; use if=virtio, ide or none", v, val);
		} else if (!strcmp(key, "id")) {
			if (strlen(val) >= sizeof(dr->id) || find_drive(q, val))
				return ERR("-drive %.200s: id '%.64s' is too long or used twice", v, val);
			strcpy(dr->id, val);
		} else if (!strcmp(key, "media")) {
			if (strcmp(val, "disk"))
				return ERR("-drive %.200s: media=%.50s is not supported; use media=disk", v, val);
		} else if (!strcmp(key, "readonly") && (is_on(val) || is_off(val))) {
			dr->d.ro = is_on(val);
		} else if (!strcmp(key, "cache") && (!strcmp(val, "none") || !strcmp(val, "directsync"))) {
			dr->d.cache = DISK_CACHE_NONE;
		} else if (!strcmp(key, "cache") && !strcmp(val, "writeback")) {
			dr->d.cache = DISK_CACHE_WRITEBACK;
		} else if (!strcmp(key, "aio") && (!strcmp(val, "io_uring") || !strcmp(val, "native") ||
						   !strcmp(val, "threads"))) {
			dr->d.aio = val[0] == 'i' ? BLK_AIO_IO_URING : val[0] == 'n' ? BLK_AIO_NATIVE
										: BLK_AIO_THREADS;
		} else {
			return ERR("-drive %.200s: '%.100s' is not supported; use file=, format=raw, "
				   "if=virtio|ide|none, id=, media=disk, readonly=, cache=none|writeback, "
				   "aio=io_uring|native|threads",
				   v, *key ? key : val);
		}
	}
	if (r < 0)
		return too_long(o, err);
	if (!dr->d.path)
		return ERR("-drive %.200s: no file=; give -drive file=IMG,format=raw,if=virtio", v);
	if (dr->none)
		dr->order = -1;
	q->ndrives++;
	return 0;
}

/* The user network of -netdev user / -nic user / -net user: "user" plus its
 * hostfwd rules, in parse_net's syntax. */
static int user_net(const char *o, const char *v, char *id, size_t idcap, char *spec, size_t cap,
		    char *mac, size_t maccap, char *err)
{
	char key[32], val[512];
	size_t n;
	int r;
	bool first = true;

	n = (size_t)snprintf(spec, cap, "user");
	FOR_PROPS(v, key, val, r) {
		if (first && !*key) {
			first = false;
			if (strcmp(val, "user"))
				return ERR("%s %.200s: network backend '%.100s' is not supported; use user", o, v, val);
			continue;
		}
		first = false;
		if (!strcmp(key, "id") && id && strlen(val) < idcap) {
			strcpy(id, val);
		} else if (!strcmp(key, "hostfwd")) {
			n += (size_t)snprintf(spec + n, n < cap ? cap - n : 0, ",hostfwd=%s", val);
		} else if (mac && (!strcmp(key, "mac") || !strcmp(key, "macaddr")) && strlen(val) < maccap) {
			strcpy(mac, val);
		} else if (mac && !strcmp(key, "model")) {
			if (strcmp(val, "virtio") && strcmp(val, "virtio-net-pci"))
				return ERR("%s %.200s: NIC model '%.100s' is not supported; use model=virtio", o, v, val);
		} else {
			return ERR("%s %.200s: '%.100s' is not supported; use id=, hostfwd=tcp::HOSTPORT-:GUESTPORT%s",
				   o, v, *key ? key : val, mac ? ", mac=, model=virtio" : "");
		}
	}
	if (r < 0 || n >= cap)
		return too_long(o, err);
	return 0;
}

int qemu_add_nic(struct qstate *q, const char *o, const char *spec, const char *mac, char *err)
{
	if (q->have_nic)
		return ERR("%s: a second network card is not supported; myvmm has one virtio-net", o);
	q->have_nic = true;
	snprintf(q->nic_spec, sizeof(q->nic_spec), "%s%s%s", spec, *mac ? ",mac=" : "", mac);
	return 0;
}

int qemu_netdev(struct qstate *q, const char *o, const char *v, char *err)
{
	if (q->nnetdevs >= QMAX_NETDEVS)
		return ERR("-netdev %.200s: at most %d netdevs", v, QMAX_NETDEVS);
	struct qnetdev *nd = &q->netdevs[q->nnetdevs];
	memset(nd, 0, sizeof(*nd));
	int r = user_net(o, v, nd->id, sizeof(nd->id), nd->spec, sizeof(nd->spec), NULL, 0, err);
	if (r)
		return r;
	if (!*nd->id)
		return ERR("-netdev %.200s: no id=; give -netdev user,id=net0 and "
			   "-device virtio-net-pci,netdev=net0", v);
	q->nnetdevs++;
	return 0;
}

int qemu_nic(struct qstate *q, const char *o, const char *v, char *err)
{
	char spec[1024], mac[32] = "";
	if (!strcmp(v, "none"))
		return 0;
	int r = user_net(o, v, NULL, 0, spec, sizeof(spec), mac, sizeof(mac), err);
	return r ? r : qemu_add_nic(q, o, spec, mac, err);
}

/* Legacy -net: "-net nic[,model=virtio][,macaddr=MAC]" plus "-net user[,...]". */
int qemu_net(struct qstate *q, const char *o, const char *v, char *err)
{
	if (!strcmp(v, "none"))
		return 0;
	if (!strncmp(v, "nic", 3) && (!v[3] || v[3] == ',')) {
		char key[32], val[64];
		int r;
		if (q->legacy_nic)
			return ERR("-net %.200s: a second network card is not supported", v);
		q->legacy_nic = true;
		const char *p = v[3] ? v + 4 : NULL;
		bool model = false;
		FOR_PROPS(p, key, val, r) {
			if (!strcmp(key, "model")) {
				if (strcmp(val, "virtio") && strcmp(val, "virtio-net-pci"))
					return ERR("-net %.200s: NIC model '%.100s' is not supported; use model=virtio",
						   v, val);
				model = true;
			} else if (!strcmp(key, "macaddr") && strlen(val) < sizeof(q->legacy_mac)) {
				strcpy(q->legacy_mac, val);
			} else if (strcmp(key, "id") && strcmp(key, "name")) {
				return ERR("-net %.200s: '%.100s' is not supported; use model=virtio,macaddr=MAC",
					   v, *key ? key : val);
			}
		}
		if (r < 0)
			return too_long(o, err);
		if (!model)
			return ERR("-net %.200s: QEMU's default NIC is an e1000; myvmm has virtio-net: "
				   "add model=virtio", v);
		return 0;
	}
	if (q->legacy_user)
		return ERR("-net %.200s: a second user network is not supported", v);
	q->legacy_user = true;
	return user_net(o, v, NULL, 0, q->legacy_user_spec, sizeof(q->legacy_user_spec), NULL, 0, err);
}

int qemu_device(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[256], drv[64] = "", ref[64] = "", mac[32] = "", serial[32] = "";
	unsigned long iobase = 0x501; /* QEMU's isa-debug-exit default */
	int r;
	bool first = true;

	FOR_PROPS(v, key, val, r) {
		if (first) {
			first = false;
			if (*key || strlen(val) >= sizeof(drv))
				return ERR("-device %.200s: give the device type first", v);
			strcpy(drv, val);
			continue;
		}
		bool dbg = !strcmp(drv, "isa-debug-exit"), blk = !strcmp(drv, "virtio-blk-pci"),
		     net = !strcmp(drv, "virtio-net-pci"), pci = !strncmp(drv, "virtio-", 7);
		if (!strcmp(key, "id") || (pci && (!strcmp(key, "disable-legacy") ||
						   !strcmp(key, "disable-modern") || !strcmp(key, "bootindex"))))
			continue; /* no effect: myvmm's virtio devices are modern PCI devices */
		if (dbg && !strcmp(key, "iobase")) {
			iobase = strtoul(val, NULL, 0);
		} else if (dbg && !strcmp(key, "iosize") &&
			   (!strcmp(val, "1") || !strcmp(val, "2") || !strcmp(val, "4") ||
			    !strcmp(val, "0x1") || !strcmp(val, "0x2") || !strcmp(val, "0x4"))) {
			/* the port takes 1-, 2- and 4-byte writes */
		} else if (((blk && !strcmp(key, "drive")) || (net && !strcmp(key, "netdev"))) &&
			   strlen(val) < sizeof(ref)) {
			strcpy(ref, val);
		} else if (blk && !strcmp(key, "serial") && strlen(val) <= 20) {
			strcpy(serial, val);
		} else if (net && !strcmp(key, "mac") && strlen(val) < sizeof(mac)) {
			strcpy(mac, val);
		} else {
			return ERR("-device %.200s: property '%.100s' is not supported", v, *key ? key : val);
		}
	}
	if (r < 0)
		return too_long(o, err);
	if (!strcmp(drv, "isa-debug-exit")) {
		if (iobase != 0xf4)
			return ERR("-device %.200s: myvmm's debug-exit port is at 0xf4; add iobase=0xf4,iosize=4", v);
		return 0; /* always present */
	}
	if (!strcmp(drv, "virtio-rng-pci") || !strcmp(drv, "pvpanic"))
		return 0; /* always present */
	if (!strcmp(drv, "virtio-blk-pci")) {
		if (q->nblkdevs >= QMAX_DRIVES)
			return ERR("-device %.200s: at most %d disks", v, QMAX_DRIVES);
		if (!*ref)
			return ERR("-device %.200s: no drive=; give drive=ID of a -drive if=none,id=ID", v);
		struct qblkdev *b = &q->blkdevs[q->nblkdevs++];
		strcpy(b->ref, ref);
		strcpy(b->serial, serial);
		b->pos = q->pos;
		return 0;
	}
	if (!strcmp(drv, "virtio-net-pci")) {
		if (q->netdev_dev)
			return ERR("-device %.200s: a second network card is not supported", v);
		if (!*ref)
			return ERR("-device %.200s: no netdev=; give netdev=ID of a -netdev user,id=ID", v);
		q->netdev_dev = true;
		strcpy(q->netdev_ref, ref);
		strcpy(q->netdev_mac, mac);
		return 0;
	}
	return ERR("-device %.200s: device '%.100s' is not supported; myvmm has isa-debug-exit, "
		   "virtio-rng-pci, virtio-blk-pci, virtio-net-pci and pvpanic", v, drv);
}


/* The drives in device-creation order, then the network, serial and gdb. */
int qemu_resolve_devices(struct qstate *q, char *err)
{
	for (unsigned i = 0; i < q->nblkdevs; i++) {
		struct qblkdev *b = &q->blkdevs[i];
		struct qdrive *dr = find_drive(q, b->ref);
		if (!dr || !dr->none)
			return ERR("-device virtio-blk-pci,drive=%s: no -drive if=none,id=%s", b->ref, b->ref);
		if (dr->order >= 0)
			return ERR("-device virtio-blk-pci,drive=%s: the drive is used twice", b->ref);
		dr->order = b->pos;
		dr->d.iface = DISK_IF_VIRTIO;
		if (*b->serial)
			strcpy(dr->d.serial, b->serial);
	}
	if (!q->netdev_dev)
		return 0;
	for (unsigned i = 0; i < q->nnetdevs; i++)
		if (!strcmp(q->netdevs[i].id, q->netdev_ref))
			return qemu_add_nic(q, "-device virtio-net-pci", q->netdevs[i].spec, q->netdev_mac, err);
	return ERR("-device virtio-net-pci,netdev=%s: no -netdev user,id=%s", q->netdev_ref,
		   q->netdev_ref);
}

