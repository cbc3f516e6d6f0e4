/* QEMU-compatible fw_cfg device: numbered items, a sorted file directory,
 * the byte-wise data port and the DMA interface. See fw_cfg.h. */
#include "devices/fw_cfg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "host/log.h"
#include "mem/guest_mem.h"

#define FW_CFG_MAX_NUMS 48
#define FW_CFG_DIR_ENTRY_LEN 64

struct fw_item {
	uint16_t key;                  /* numbered items only */
	char name[FW_CFG_NAME_LEN];    /* files only */
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct fw_item nums[FW_CFG_MAX_NUMS];
	unsigned nnums;
	struct fw_item files[FW_CFG_MAX_FILES]; /* sorted by name */
	unsigned nfiles;
	uint16_t cur_key;
	uint32_t cur_off;
	uint32_t dma_hi;
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Item for a selector (write-channel bit ignored); NULL if none. Lock held. */
static const struct fw_item *lookup(const struct fw_cfg *fc, uint16_t sel)
{
	uint16_t key = sel & (uint16_t)~FW_CFG_WRITE_CHANNEL;

	if (!(key & FW_CFG_ARCH_LOCAL) && key >= FW_CFG_FILE_FIRST) {
		unsigned idx = key - FW_CFG_FILE_FIRST;
		return idx < fc->nfiles ? &fc->files[idx] : NULL;
	}
	for (unsigned i = 0; i < fc->nnums; i++)
		if (fc->nums[i].key == key)
			return &fc->nums[i];
	return NULL;
}

/* A private copy of an item's contents (never NULL for len 0). */
static uint8_t *blob_dup(const void *data, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (copy && len)
		memcpy(copy, data, len);
	return copy;
}

static int set_num(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	struct fw_item *it = NULL;
	uint8_t *copy;

	if (len > FW_CFG_MAX_ITEM || (len && !data))
		return -EINVAL;
	copy = blob_dup(data, len);
	if (!copy)
		return -ENOMEM;
	for (unsigned i = 0; i < fc->nnums; i++)
		if (fc->nums[i].key == key)
			it = &fc->nums[i];
	if (!it) {
		if (fc->nnums == FW_CFG_MAX_NUMS) {
			free(copy);
			return -ENOSPC;
		}
		it = &fc->nums[fc->nnums++];
		it->key = key;
	}
	free(it->data);
	it->data = copy;
	it->len = len;
	return 0;
}

/* Regenerates FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16
 * select, be16 reserved, char name[56]. Lock held. */
static int rebuild_dir(struct fw_cfg *fc)
{
	uint32_t len = 4 + FW_CFG_DIR_ENTRY_LEN * fc->nfiles;
	uint8_t *d = calloc(1, len);
	int ret;

	if (!d)
		return -ENOMEM;
	put_be32(d, fc->nfiles);
	for (unsigned i = 0; i < fc->nfiles; i++) {
		uint8_t *e = d + 4 + FW_CFG_DIR_ENTRY_LEN * i;
		put_be32(e, fc->files[i].len);
		put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
		memcpy(e + 8, fc->files[i].name, FW_CFG_NAME_LEN);
	}
	ret = set_num(fc, FW_CFG_FILE_DIR, d, len);
	free(d);
	return ret;
}

struct fw_cfg *fw_cfg_create(const struct guest_mem *mem)
{
	struct fw_cfg *fc = calloc(1, sizeof(*fc));
	uint32_t id = FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA;

	if (!fc)
		return NULL;
	if (pthread_mutex_init(&fc->lock, NULL)) {
		free(fc);
		return NULL;
	}
	fc->mem = mem;
	if (set_num(fc, FW_CFG_SIGNATURE, "QEMU", 4) || fw_cfg_add_u32(fc, FW_CFG_ID, id) ||
	    rebuild_dir(fc)) {
		fw_cfg_destroy(fc);
		return NULL;
	}
	return fc;
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	if (!fc)
		return;
	for (unsigned i = 0; i < fc->nnums; i++)
		free(fc->nums[i].data);
	for (unsigned i = 0; i < fc->nfiles; i++)
		free(fc->files[i].data);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

int fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	uint16_t k = key & (uint16_t)~FW_CFG_ARCH_LOCAL;
	int ret;

	if (!fc || (key & FW_CFG_WRITE_CHANNEL) || key == FW_CFG_FILE_DIR ||
	    (!(key & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST))
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	ret = set_num(fc, key, data, len);
	pthread_mutex_unlock(&fc->lock);
	return ret;
}

int fw_cfg_add_u16(struct fw_cfg *fc, uint16_t key, uint16_t v)
{
	uint8_t b[2];
	put_le(b, 2, v);
	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *fc, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	put_le(b, 4, v);
	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *fc, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	put_le(b, 8, v);
	return fw_cfg_add_bytes(fc, key, b, sizeof(b));
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len)
{
	size_t nlen = name ? strnlen(name, FW_CFG_NAME_LEN) : 0;
	unsigned pos;
	uint8_t *copy;
	int ret = 0;

	if (!fc || nlen == 0 || nlen >= FW_CFG_NAME_LEN || len > FW_CFG_MAX_ITEM ||
	    (len && !data))
		return -EINVAL;
	copy = blob_dup(data, len);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&fc->lock);
	for (pos = 0; pos < fc->nfiles; pos++) {
		int c = strcmp(name, fc->files[pos].name);
		if (c == 0)
			ret = -EEXIST;
		if (c <= 0)
			break;
	}
	if (!ret && fc->nfiles == FW_CFG_MAX_FILES)
		ret = -ENOSPC;
	if (ret)
		goto out_free;
	memmove(&fc->files[pos + 1], &fc->files[pos], (fc->nfiles - pos) * sizeof(fc->files[0]));
	memset(&fc->files[pos], 0, sizeof(fc->files[pos]));
	memcpy(fc->files[pos].name, name, nlen);
	fc->files[pos].data = copy;
	fc->files[pos].len = len;
	fc->nfiles++;
	ret = rebuild_dir(fc);
	if (ret) { /* roll back so the directory matches the files */
		fc->nfiles--;
		memmove(&fc->files[pos], &fc->files[pos + 1],
			(fc->nfiles - pos) * sizeof(fc->files[0]));
		goto out_free;
	}
	pthread_mutex_unlock(&fc->lock);
	return 0;
out_free:
	pthread_mutex_unlock(&fc->lock);
	free(copy);
	return ret;
}

int fw_cfg_file_select(struct fw_cfg *fc, const char *name)
{
	int ret = -ENOENT;

	if (!fc || !name)
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	for (unsigned i = 0; i < fc->nfiles; i++)
		if (!strcmp(fc->files[i].name, name))
			ret = (int)(FW_CFG_FILE_FIRST + i);
	pthread_mutex_unlock(&fc->lock);
	return ret;
}

static void select_key(struct fw_cfg *fc, uint16_t sel)
{
	fc->cur_key = sel;
	fc->cur_off = 0;
}

/* Copies up to n bytes of the current item at the current offset into dst
 * (zeros past the end) and advances the offset. Lock held. */
static void read_cur(struct fw_cfg *fc, uint8_t *dst, uint32_t n)
{
	const struct fw_item *it = lookup(fc, fc->cur_key);
	uint32_t avail = 0;

	if (it && fc->cur_off < it->len)
		avail = it->len - fc->cur_off;
	if (avail > n)
		avail = n;
	if (avail)
		memcpy(dst, it->data + fc->cur_off, avail);
	memset(dst + avail, 0, n - avail);
	fc->cur_off += avail;
}

static void io_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct fw_cfg *fc = opaque;

	if (off != 1 || len > 8) { /* the selector is write-only */
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&fc->lock);
	read_cur(fc, data, len);
	pthread_mutex_unlock(&fc->lock);
}

static void io_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct fw_cfg *fc = opaque;

	/* fw_cfg.rst: the selector is a 16-bit register; data-port writes
	 * are deprecated and ignored. */
	if (off != 0 || len != 2)
		return;
	pthread_mutex_lock(&fc->lock);
	select_key(fc, (uint16_t)bus_get_le(data, 2));
	pthread_mutex_unlock(&fc->lock);
}

const struct bus_ops fw_cfg_io_ops = { .read = io_read, .write = io_write };

/* Runs one FWCfgDmaAccess at gpa (fw_cfg.rst "DMA interface"). Lock held. */
static void dma_run(struct fw_cfg *fc, uint64_t gpa)
{
	uint8_t *desc = fc->mem ? gmem_ptr(fc->mem, gpa, 16) : NULL;
	uint32_t control, length, result = 0;
	uint64_t addr;

	if (!desc) {
		pr_guest("fw_cfg: DMA descriptor at %#llx outside RAM", (unsigned long long)gpa);
		return;
	}
	control = get_be32(desc);
	length = get_be32(desc + 4);
	addr = get_be64(desc + 8);

	if (control & FW_CFG_DMA_SELECT)
		select_key(fc, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_READ) {
		uint8_t *dst = length ? gmem_ptr(fc->mem, addr, length) : NULL;
		if (length && !dst)
			result = FW_CFG_DMA_ERROR;
		else if (length)
			read_cur(fc, dst, length);
	} else if (control & FW_CFG_DMA_WRITE) {
		result = FW_CFG_DMA_ERROR; /* no item is writable */
	} else if (control & FW_CFG_DMA_SKIP) {
		const struct fw_item *it = lookup(fc, fc->cur_key);
		uint32_t max = it ? it->len : 0;
		uint64_t n = (uint64_t)fc->cur_off + length;
		if (n > max) /* cur_off never exceeds max: see read_cur() */
			n = max;
		fc->cur_off = (uint32_t)n;
	}
	if (result)
		pr_guest("fw_cfg: DMA to bad range %#llx+%u", (unsigned long long)addr, length);
	/* Completion clears control (or leaves only ERROR). */
	put_be32(desc, result);
}

static void dma_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	static const char sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
	uint8_t *d = data;

	for (uint32_t i = 0; i < len; i++)
		d[i] = off + i < 8 ? (uint8_t)sig[off + i] : 0;
}

static void dma_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct fw_cfg *fc = opaque;
	const uint8_t *d = data;

	pthread_mutex_lock(&fc->lock);
	if (off == 0 && len == 8) {
		dma_run(fc, get_be64(d));
	} else if (off == 0 && len == 4) {
		fc->dma_hi = get_be32(d);
	} else if (off == 4 && len == 4) {
		uint64_t gpa = (uint64_t)fc->dma_hi << 32 | get_be32(d);
		fc->dma_hi = 0;
		dma_run(fc, gpa);
	}
	pthread_mutex_unlock(&fc->lock);
}

const struct bus_ops fw_cfg_dma_ops = { .read = dma_read, .write = dma_write };

/* ---- ACPI tables through the firmware's table loader ---------------- */

#define TABLES_FILE "etc/acpi/tables"
#define RSDP_FILE   "etc/acpi/rsdp"
#define LOADER_FILE "etc/table-loader"
#define LOADER_MAX_CMDS 32

struct loader {
	uint8_t cmd[LOADER_MAX_CMDS][FW_CFG_LOADER_CMD_LEN];
	unsigned n;
};

static uint8_t *loader_next(struct loader *l, uint32_t type)
{
	uint8_t *c;

	if (l->n == LOADER_MAX_CMDS)
		return NULL;
	c = l->cmd[l->n++];
	memset(c, 0, FW_CFG_LOADER_CMD_LEN);
	put_le(c, 4, type);
	return c;
}

static int loader_alloc(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = loader_next(l, FW_CFG_LOADER_ALLOCATE);
	if (!c)
		return -ENOSPC;
	strncpy((char *)c + 4, file, FW_CFG_NAME_LEN - 1);
	put_le(c + 60, 4, align);
	c[64] = zone;
	return 0;
}

static int loader_pointer(struct loader *l, const char *dst, const char *src, uint32_t off,
			  uint8_t size)
{
	uint8_t *c = loader_next(l, FW_CFG_LOADER_ADD_POINTER);
	if (!c)
		return -ENOSPC;
	strncpy((char *)c + 4, dst, FW_CFG_NAME_LEN - 1);
	strncpy((char *)c + 60, src, FW_CFG_NAME_LEN - 1);
	put_le(c + 116, 4, off);
	c[120] = size;
	return 0;
}

static int loader_checksum(struct loader *l, const char *file, uint32_t result,
			   uint32_t start, uint32_t len)
{
	uint8_t *c = loader_next(l, FW_CFG_LOADER_ADD_CHECKSUM);
	if (!c)
		return -ENOSPC;
	strncpy((char *)c + 4, file, FW_CFG_NAME_LEN - 1);
	put_le(c + 60, 4, result);
	put_le(c + 64, 4, start);
	put_le(c + 68, 4, len);
	return 0;
}

struct acpi_blob {
	size_t used;
	size_t facs, dsdt, fadt, madt, mcfg, xsdt, rsdt; /* mcfg 0 = none */
	int nent;
	size_t ent[3];
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Lays the tables out in buf with pointers as offsets into buf. */
static int build_blob(const struct acpi_config *cfg, uint8_t *buf, size_t cap,
		      struct acpi_blob *b)
{
	uint64_t ent[3];
	size_t off = 0;
	int len;

	memset(b, 0, sizeof(*b));
#define PLACE(field, call) do {                                  \
		off = align_up(off, 16);                         \
		if (off > cap)                                   \
			return -ENOSPC;                          \
		b->field = off;                                  \
		len = (call);                                    \
		if (len < 0)                                     \
			return len;                              \
		off += (size_t)len;                              \
	} while (0)
	PLACE(facs, acpi_build_facs(buf + off, cap - off)); /* offset 0: 64-aligned */
	PLACE(dsdt, acpi_build_dsdt(cfg, buf + off, cap - off));
	PLACE(fadt, acpi_build_fadt(cfg, buf + off, cap - off, b->facs, b->dsdt));
	b->ent[b->nent++] = b->fadt;
	PLACE(madt, acpi_build_madt(cfg, buf + off, cap - off));
	b->ent[b->nent++] = b->madt;
	if (cfg->ecam_base) {
		PLACE(mcfg, acpi_build_mcfg(cfg, buf + off, cap - off));
		b->ent[b->nent++] = b->mcfg;
	}
	for (int i = 0; i < b->nent; i++)
		ent[i] = b->ent[i];
	PLACE(xsdt, acpi_build_xsdt(buf + off, cap - off, ent, (unsigned)b->nent));
	PLACE(rsdt, acpi_build_rsdt(buf + off, cap - off, ent, (unsigned)b->nent));
#undef PLACE
	b->used = off;
	return 0;
}

static uint32_t table_len(const uint8_t *buf, size_t off)
{
	return (uint32_t)bus_get_le(buf + off + 4, 4);
}

static int build_loader(struct loader *l, const uint8_t *buf, const struct acpi_blob *b)
{
	const char *T = TABLES_FILE;
	size_t tabs[] = { b->dsdt, b->fadt, b->madt, b->mcfg, b->xsdt, b->rsdt };
	int r = 0;

	r |= loader_alloc(l, RSDP_FILE, 16, FW_CFG_LOADER_ZONE_FSEG);
	r |= loader_alloc(l, T, 64, FW_CFG_LOADER_ZONE_HIGH);
	/* RSDP (ACPI 6.x 5.2.5.3): RsdtAddress @16, XsdtAddress @24. */
	r |= loader_pointer(l, RSDP_FILE, T, 16, 4);
	r |= loader_pointer(l, RSDP_FILE, T, 24, 8);
	/* FADT (5.2.9): FIRMWARE_CTRL @36, DSDT @40, X_DSDT @140 (X_FIRMWARE_CTRL
	 * @132 stays 0: only one FACS pointer may be set). */
	r |= loader_pointer(l, T, T, (uint32_t)b->fadt + 36, 4);
	r |= loader_pointer(l, T, T, (uint32_t)b->fadt + 40, 4);
	r |= loader_pointer(l, T, T, (uint32_t)b->fadt + 140, 8);
	for (int i = 0; i < b->nent; i++) {
		r |= loader_pointer(l, T, T, (uint32_t)(b->xsdt + ACPI_HDR_LEN + 8 * i), 8);
		r |= loader_pointer(l, T, T, (uint32_t)(b->rsdt + ACPI_HDR_LEN + 4 * i), 4);
	}
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		if (tabs[i] == 0) /* no MCFG (offset 0 is the FACS: no checksum) */
			continue;
		r |= loader_checksum(l, T, (uint32_t)tabs[i] + 9, (uint32_t)tabs[i],
				     table_len(buf, tabs[i]));
	}
	/* RSDP: first the 20-byte checksum, then the extended one over it. */
	r |= loader_checksum(l, RSDP_FILE, 8, 0, 20);
	r |= loader_checksum(l, RSDP_FILE, 32, 0, ACPI_RSDP_LEN);
	return r ? -ENOSPC : 0;
}

int fw_cfg_build_acpi(const struct acpi_config *cfg, struct fw_cfg *fc)
{
	struct acpi_blob b;
	struct loader *l = NULL;
	uint8_t rsdp[ACPI_RSDP_LEN];
	uint8_t *buf = NULL;
	size_t cap = 16 * 1024;
	int ret;

	if (!cfg || !fc || acpi_config_check(cfg))
		return -EINVAL;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			ret = -ENOMEM;
			goto out;
		}
		buf = nb;
		ret = build_blob(cfg, buf, cap, &b);
		if (ret != -ENOSPC || cap >= FW_CFG_MAX_ITEM)
			break;
		cap *= 2;
	}
	if (ret)
		goto out;
	ret = acpi_build_rsdp(rsdp, sizeof(rsdp), b.rsdt, b.xsdt);
	if (ret < 0)
		goto out;
	l = calloc(1, sizeof(*l));
	if (!l) {
		ret = -ENOMEM;
		goto out;
	}
	ret = build_loader(l, buf, &b);
	if (ret)
		goto out;
	ret = fw_cfg_add_file(fc, TABLES_FILE, buf, (uint32_t)b.used);
	if (!ret)
		ret = fw_cfg_add_file(fc, RSDP_FILE, rsdp, sizeof(rsdp));
	if (!ret)
		ret = fw_cfg_add_file(fc, LOADER_FILE, l->cmd, l->n * FW_CFG_LOADER_CMD_LEN);
out:
	free(l);
	free(buf);
	return ret;
}
