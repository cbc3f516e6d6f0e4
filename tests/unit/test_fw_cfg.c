/* Unit tests for fw_cfg: port I/O, file directory, DMA and the ACPI table
 * loader script (parsed back and executed against simulated allocations). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "acpi/acpi.h"
#include "devices/fw_cfg.h"
#include "machine/legacy.h"
#include "mem/guest_mem.h"

#define RAM_SIZE (1u << 20)

static struct guest_mem mem;
static struct fw_cfg *fc;

static void setup(void)
{
	memset(&mem, 0, sizeof(mem));
	mem.r[0].gpa = 0;
	mem.r[0].size = RAM_SIZE;
	mem.r[0].hva = calloc(1, RAM_SIZE);
	mem.nr = 1;
	mem.ram_size = RAM_SIZE;
	ck_assert_ptr_nonnull(mem.r[0].hva);
	fc = fw_cfg_create(&mem);
	ck_assert_ptr_nonnull(fc);
}

static void teardown(void)
{
	fw_cfg_destroy(fc);
	free(mem.r[0].hva);
}

static void sel(uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };
	fw_cfg_io_ops.write(fc, 0, b, 2);
}

static uint8_t rd(void)
{
	uint8_t v = 0xaa;
	fw_cfg_io_ops.read(fc, 1, &v, 1);
	return v;
}

static void rdn(void *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = rd();
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wbe32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Writes a descriptor at desc and kicks DMA with two 32-bit halves. */
static uint32_t dma(uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *d = mem.r[0].hva + desc;
	uint8_t hi[4], lo[4];

	wbe32(d, control);
	wbe32(d + 4, len);
	wbe32(d + 8, (uint32_t)(addr >> 32));
	wbe32(d + 12, (uint32_t)addr);
	wbe32(hi, (uint32_t)(desc >> 32));
	wbe32(lo, (uint32_t)desc);
	fw_cfg_dma_ops.write(fc, 0, hi, 4);
	fw_cfg_dma_ops.write(fc, 4, lo, 4);
	return be32(d);
}

START_TEST(test_signature_id)
{
	char sig[5] = { 0 };
	uint8_t id[4], dsig[8];

	sel(FW_CFG_SIGNATURE);
	rdn(sig, 4);
	ck_assert_str_eq(sig, "QEMU");
	ck_assert_uint_eq(rd(), 0); /* past the end */
	sel(FW_CFG_ID);
	rdn(id, 4);
	ck_assert_uint_eq(id[0], FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	ck_assert_uint_eq(id[1] | id[2] | id[3], 0);
	fw_cfg_dma_ops.read(fc, 0, dsig, 8);
	ck_assert_mem_eq(dsig, "QEMU CFG", 8);
}
END_TEST

START_TEST(test_numbered_items)
{
	uint8_t b[8];

	ck_assert_int_eq(fw_cfg_add_u64(fc, FW_CFG_RAM_SIZE, 0x123456789ull), 0);
	ck_assert_int_eq(fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 3), 0);
	ck_assert_int_eq(fw_cfg_add_u16(fc, FW_CFG_NB_CPUS, 4), 0); /* replace */
	ck_assert_int_eq(fw_cfg_add_u16(fc, FW_CFG_FILE_DIR, 4), -EINVAL);
	ck_assert_int_eq(fw_cfg_add_u16(fc, 0x20, 4), -EINVAL);
	sel(FW_CFG_RAM_SIZE);
	rdn(b, 8);
	ck_assert_uint_eq(b[0], 0x89);
	ck_assert_uint_eq(b[4], 0x01);
	sel(FW_CFG_NB_CPUS);
	rdn(b, 2);
	ck_assert_uint_eq(b[0], 4);
	ck_assert_uint_eq(b[1], 0);
}
END_TEST

START_TEST(test_file_dir_sorted)
{
	uint8_t cnt[4], e[64];
	char prev[57] = "";

	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/e820", "abcdefgh", 8), 0);
	ck_assert_int_eq(fw_cfg_add_file(fc, "bootorder", "x\n", 2), 0);
	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/show-menu", NULL, 0), 0);
	ck_assert_int_eq(fw_cfg_add_file(fc, "bootorder", "y", 1), -EEXIST);
	ck_assert_int_eq(fw_cfg_add_file(fc, "", "y", 1), -EINVAL);
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[79] = 0;
	ck_assert_int_eq(fw_cfg_add_file(fc, longname, "y", 1), -EINVAL);

	sel(FW_CFG_FILE_DIR);
	rdn(cnt, 4);
	ck_assert_uint_eq(be32(cnt), 3);
	for (unsigned i = 0; i < 3; i++) {
		rdn(e, 64);
		char name[57] = { 0 };
		memcpy(name, e + 8, 56);
		ck_assert_uint_eq((unsigned)(e[4] << 8 | e[5]), 0x20 + i);
		ck_assert_uint_eq(e[6] | e[7], 0);
		ck_assert_int_lt(strcmp(prev, name), 0);
		ck_assert_int_eq(fw_cfg_file_select(fc, name), (int)(0x20 + i));
		strcpy(prev, name);
		if (!strcmp(name, "etc/e820"))
			ck_assert_uint_eq(be32(e), 8);
	}
	ck_assert_uint_eq(rd(), 0); /* end of directory */
	ck_assert_int_eq(fw_cfg_file_select(fc, "nope"), -ENOENT);
}
END_TEST

START_TEST(test_file_byte_read)
{
	char got[12] = { 0 };

	ck_assert_int_eq(fw_cfg_add_file(fc, "bootorder", "/pci@i0cf8/\n", 12), 0);
	sel((uint16_t)fw_cfg_file_select(fc, "bootorder"));
	rdn(got, 12);
	ck_assert_mem_eq(got, "/pci@i0cf8/\n", 12);
	ck_assert_uint_eq(rd(), 0);
	/* Reselecting rewinds. */
	sel((uint16_t)fw_cfg_file_select(fc, "bootorder"));
	ck_assert_uint_eq(rd(), '/');
}
END_TEST

START_TEST(test_bad_selector_zero)
{
	sel(0x1234);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(rd(), 0);
	sel(0x8003); /* arch-local, unset */
	ck_assert_uint_eq(rd(), 0);
	/* A multi-byte data read also works. */
	uint8_t b[4] = { 1, 1, 1, 1 };
	sel(FW_CFG_SIGNATURE);
	fw_cfg_io_ops.read(fc, 1, b, 4);
	ck_assert_mem_eq(b, "QEMU", 4);
}
END_TEST

START_TEST(test_dma_read_skip_select)
{
	uint8_t data[300];
	uint8_t *ram = mem.r[0].hva;
	int key;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/blob", data, sizeof(data)), 0);
	key = fw_cfg_file_select(fc, "etc/blob");
	ck_assert_int_ge(key, 0x20);

	/* SELECT + READ 100 bytes. */
	ck_assert_uint_eq(dma(0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
			      100, 0x2000), 0);
	ck_assert_mem_eq(ram + 0x2000, data, 100);
	/* SKIP 50, then READ 10 continues at 150. */
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_SKIP, 50, 0), 0);
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_READ, 10, 0x3000), 0);
	ck_assert_mem_eq(ram + 0x3000, data + 150, 10);
	/* Mixed with port reads: the offset is shared. */
	ck_assert_uint_eq(rd(), data[160]);
	/* A READ past the end fills zeros. */
	memset(ram + 0x4000, 0xee, 300);
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_READ, 300, 0x4000), 0);
	ck_assert_mem_eq(ram + 0x4000, data + 161, 139);
	ck_assert_uint_eq(ram[0x4000 + 139], 0);
	ck_assert_uint_eq(ram[0x4000 + 299], 0);
	/* One 64-bit address write also triggers. */
	uint8_t a[8] = { 0, 0, 0, 0, 0, 0, 0x10, 0x00 };
	uint8_t *d = ram + 0x1000;
	wbe32(d, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ);
	wbe32(d + 4, 4);
	wbe32(d + 8, 0);
	wbe32(d + 12, 0x5000);
	fw_cfg_dma_ops.write(fc, 0, a, 8);
	ck_assert_uint_eq(be32(d), 0);
	ck_assert_mem_eq(ram + 0x5000, "QEMU", 4);
}
END_TEST

START_TEST(test_dma_errors)
{
	uint8_t hi[4] = { 0 }, lo[4];

	ck_assert_int_eq(fw_cfg_add_file(fc, "etc/blob", "0123456789", 10), 0);
	int key = fw_cfg_file_select(fc, "etc/blob");
	/* Destination outside RAM. */
	ck_assert_uint_eq(dma(0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
			      10, 0xfff00000ull), FW_CFG_DMA_ERROR);
	/* Destination straddling the end of RAM. */
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_READ, 0x100, RAM_SIZE - 0x10), FW_CFG_DMA_ERROR);
	/* Huge length wrapping past 4 GiB math. */
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_READ, 0xffffffffu, 0x2000), FW_CFG_DMA_ERROR);
	/* 64-bit address far away. */
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_READ, 4, 0xffffffffffff0000ull), FW_CFG_DMA_ERROR);
	/* Write is not allowed. */
	ck_assert_uint_eq(dma(0x1000, FW_CFG_DMA_WRITE, 4, 0x2000), FW_CFG_DMA_ERROR);
	/* A descriptor outside RAM is ignored without crashing. */
	wbe32(hi, 0xffffffffu);
	wbe32(lo, 0xfffffff8u);
	fw_cfg_dma_ops.write(fc, 0, hi, 4);
	fw_cfg_dma_ops.write(fc, 4, lo, 4);
	wbe32(hi, 0);
	wbe32(lo, RAM_SIZE - 8); /* straddles the end */
	fw_cfg_dma_ops.write(fc, 0, hi, 4);
	fw_cfg_dma_ops.write(fc, 4, lo, 4);
	/* Without guest memory DMA never touches anything. */
	struct fw_cfg *nomem = fw_cfg_create(NULL);
	ck_assert_ptr_nonnull(nomem);
	fw_cfg_dma_ops.write(nomem, 4, lo, 4);
	fw_cfg_destroy(nomem);
}
END_TEST

/* ---- table loader ------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a whole file through the port interface. */
static uint8_t *read_file(const char *name, uint32_t *len)
{
	uint8_t cnt[4], e[64];
	sel(FW_CFG_FILE_DIR);
	rdn(cnt, 4);
	for (uint32_t i = 0; i < be32(cnt); i++) {
		rdn(e, 64);
		if (strncmp((char *)e + 8, name, 56))
			continue;
		*len = be32(e);
		uint8_t *buf = malloc(*len ? *len : 1);
		sel((uint16_t)(e[4] << 8 | e[5]));
		rdn(buf, *len);
		return buf;
	}
	return NULL;
}

struct sim_file {
	const char *name;
	uint8_t *data;
	uint32_t len;
	uint64_t gpa;     /* where the "firmware" placed it in ram */
	bool allocated;
};

START_TEST(test_acpi_loader)
{
	struct acpi_config cfg = {
		.ncpus = 2, .pm_base = 0xb000, .sci_irq = 9, .reset_port = 0xcf9,
		.pci_mmio_start = 0xc0000000ull, .pci_mmio_end = 0xe0000000ull,
		.pci_io_start = 0x1000, .pci_io_end = 0x10000,
		.ecam_base = 0xe0000000ull, .ecam_bus_end = 0,
	};
	legacy_acpi_describe(&cfg);
	struct sim_file f[2] = { { .name = "etc/acpi/rsdp" }, { .name = "etc/acpi/tables" } };
	uint8_t *ram = mem.r[0].hva;
	uint8_t *loader;
	uint32_t llen;
	const uint64_t base = 0x10000; /* simulated region: rsdp first, then tables */

	ck_assert_int_eq(fw_cfg_build_acpi(&cfg, fc), 0);
	for (int i = 0; i < 2; i++) {
		f[i].data = read_file(f[i].name, &f[i].len);
		ck_assert_ptr_nonnull(f[i].data);
	}
	ck_assert_uint_eq(f[0].len, ACPI_RSDP_LEN);
	loader = read_file("etc/table-loader", &llen);
	ck_assert_ptr_nonnull(loader);
	ck_assert_uint_eq(llen % FW_CFG_LOADER_CMD_LEN, 0);
	ck_assert_uint_gt(llen, 0);

	unsigned allocs = 0, ptrs = 0, sums = 0;
	uint64_t next = base;
	for (uint32_t off = 0; off < llen; off += FW_CFG_LOADER_CMD_LEN) {
		const uint8_t *c = loader + off;
		uint32_t type = le32(c);
		struct sim_file *a = NULL, *b = NULL;
		for (int i = 0; i < 2; i++) {
			if (!strncmp((const char *)c + 4, f[i].name, 56))
				a = &f[i];
			if (!strncmp((const char *)c + 60, f[i].name, 56))
				b = &f[i];
		}
		ck_assert_msg(a != NULL, "command %u names an unknown file", off / 128);
		ck_assert_uint_eq(c[4 + 55], 0); /* NUL-terminated */
		if (type == FW_CFG_LOADER_ALLOCATE) {
			uint32_t align = le32(c + 60);
			ck_assert(!a->allocated);
			ck_assert_uint_ne(align, 0);
			ck_assert_uint_eq(align & (align - 1), 0);
			ck_assert(c[64] == FW_CFG_LOADER_ZONE_HIGH || c[64] == FW_CFG_LOADER_ZONE_FSEG);
			if (a == &f[0])
				ck_assert_uint_eq(c[64], FW_CFG_LOADER_ZONE_FSEG);
			next = (next + align - 1) & ~(uint64_t)(align - 1);
			a->gpa = next;
			a->allocated = true;
			memcpy(ram + next, a->data, a->len);
			next += a->len;
			allocs++;
		} else if (type == FW_CFG_LOADER_ADD_POINTER) {
			uint32_t po = le32(c + 116);
			uint8_t size = c[120];
			ck_assert_ptr_nonnull(b);
			ck_assert(a->allocated && b->allocated);
			ck_assert(size == 1 || size == 2 || size == 4 || size == 8);
			ck_assert_uint_le((uint64_t)po + size, a->len);
			uint64_t v = 0;
			for (int i = 0; i < size; i++)
				v |= (uint64_t)ram[a->gpa + po + i] << (8 * i);
			ck_assert_uint_lt(v, b->len); /* an offset into the source */
			v += b->gpa;
			for (int i = 0; i < size; i++)
				ram[a->gpa + po + i] = (uint8_t)(v >> (8 * i));
			ptrs++;
		} else if (type == FW_CFG_LOADER_ADD_CHECKSUM) {
			uint32_t res = le32(c + 60), start = le32(c + 64), len = le32(c + 68);
			ck_assert(a->allocated);
			ck_assert_uint_lt(res, a->len);
			ck_assert_uint_le((uint64_t)start + len, a->len);
			uint8_t sum = 0;
			for (uint32_t i = 0; i < len; i++)
				sum = (uint8_t)(sum + ram[a->gpa + start + i]);
			ram[a->gpa + res] = (uint8_t)(ram[a->gpa + res] - sum);
			sums++;
		} else {
			ck_abort_msg("unknown loader command %u", type);
		}
	}
	ck_assert_uint_eq(allocs, 2);
	ck_assert_uint_ge(ptrs, 8);
	ck_assert_uint_ge(sums, 7);

	/* Now check the patched result like an OS would. */
	size_t rlen = next - base;
	const uint8_t *region = ram + base;
	const uint8_t *rsdp = region;
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(acpi_checksum(rsdp, 20), 0);
	ck_assert_uint_eq(acpi_checksum(rsdp, 36), 0);
	uint64_t xsdt = 0;
	for (int i = 0; i < 8; i++)
		xsdt |= (uint64_t)rsdp[24 + i] << (8 * i);
	ck_assert_uint_ge(xsdt, f[1].gpa);
	ck_assert_mem_eq(ram + xsdt, "XSDT", 4);
	uint32_t rsdt = le32(rsdp + 16);
	ck_assert_mem_eq(ram + rsdt, "RSDT", 4);
	ck_assert_uint_eq(acpi_checksum(ram + rsdt, le32(ram + rsdt + 4)), 0);
	static const char *sigs[] = { "XSDT", "FACP", "APIC", "MCFG", "DSDT", "FACS" };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		const uint8_t *t = acpi_find_table(region, rlen, base, sigs[i]);
		ck_assert_msg(t != NULL, "%s not found", sigs[i]);
		ck_assert_mem_eq(t, sigs[i], 4);
		if (strcmp(sigs[i], "FACS"))
			ck_assert_msg(acpi_checksum(t, le32(t + 4)) == 0, "%s checksum", sigs[i]);
		else
			ck_assert_uint_eq((uint64_t)(t - ram) % 64, 0);
	}
	/* FADT's 32- and 64-bit DSDT pointers agree. */
	const uint8_t *fadt = acpi_find_table(region, rlen, base, "FACP");
	ck_assert_uint_eq(le32(fadt + 40), le32(fadt + 140));
	ck_assert_uint_ne(le32(fadt + 36), 0);
	ck_assert_uint_eq(le32(fadt + 132), 0); /* only one FACS pointer */
	free(loader);
	free(f[0].data);
	free(f[1].data);
}
END_TEST

START_TEST(test_acpi_bad_config)
{
	struct acpi_config cfg = { 0 };
	ck_assert_int_eq(fw_cfg_build_acpi(&cfg, fc), -EINVAL);
	ck_assert_int_eq(fw_cfg_build_acpi(NULL, fc), -EINVAL);
}
END_TEST

CHECK_MAIN_FIXTURE("fw_cfg", setup, teardown, test_signature_id, test_numbered_items,
	test_file_dir_sorted, test_file_byte_read, test_bad_selector_zero,
	test_dma_read_skip_select, test_dma_errors, test_acpi_loader, test_acpi_bad_config)
