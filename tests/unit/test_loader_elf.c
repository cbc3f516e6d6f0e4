/* Unit tests: ELF kernels with and without the PVH note (synthetic ELFs). */
#include "check_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "loader/elf_kernel.h"
#include "loader/loader.h"
#include "machine/pc_map.h"

#define RAM (64 * MiB)
#define IMG_LEN 0x2000
#define NOTE_OFF 0x200
#define SEG_OFF 0x1000
#define SEG_FILESZ 0x1000
#define SEG_MEMSZ 0x3000
#define SEG_PADDR 0x100000ULL
#define ENTRY (SEG_PADDR + 0x10)

static struct guest_mem mem;
static uint8_t img[IMG_LEN];
static uint8_t initrd[0x2800];
static char err[LOADER_ERR_LEN];
static const struct e820_entry e820[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x9fc00, 0x400, E820_RESERVED },
	{ 0x100000, RAM - 0x100000, E820_RAM },
};
static struct boot_args args;
static struct boot_entry ent;
static int bits;

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

static size_t ehsize(void) { return bits == 64 ? 64 : 52; }
static size_t phsize(void) { return bits == 64 ? 56 : 32; }

/* Writes program header i. */
static void phdr(int i, uint32_t type, uint64_t off, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	size_t p = ehsize() + i * phsize();

	put32(p, type);
	if (bits == 64) {
		put64(p + 8, off); put64(p + 16, paddr); put64(p + 24, paddr);
		put64(p + 32, filesz); put64(p + 40, memsz); put64(p + 48, 4);
	} else {
		put32(p + 4, off); put32(p + 8, paddr); put32(p + 12, paddr);
		put32(p + 16, filesz); put32(p + 20, memsz); put32(p + 28, 4);
	}
}

/* An ELF with one PT_LOAD and (if note) a PT_NOTE holding a GNU note and
 * the Xen PHYS32_ENTRY note. */
static void build(int b, int note)
{
	size_t n = NOTE_OFF;

	bits = b;
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = bits == 64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	put16(16, 2);
	put16(18, bits == 64 ? 62 : 3);
	put32(20, 1);
	if (bits == 64) {
		put64(24, ENTRY); put64(32, 64);
		put16(52, 64); put16(54, 56); put16(56, note ? 2 : 1);
	} else {
		put32(24, ENTRY); put32(28, 52);
		put16(40, 52); put16(42, 32); put16(44, note ? 2 : 1);
	}
	phdr(0, 1, SEG_OFF, SEG_PADDR, SEG_FILESZ, SEG_MEMSZ);
	/* an unrelated note first: name "GNU", 4-byte desc */
	put32(n, 4); put32(n + 4, 4); put32(n + 8, 3); memcpy(img + n + 12, "GNU", 4);
	put32(n + 16, 0x11223344);
	n += 20;
	put32(n, 4); put32(n + 4, bits == 64 ? 8 : 4); put32(n + 8, 18);
	memcpy(img + n + 12, "Xen", 4);
	if (bits == 64)
		put64(n + 16, ENTRY);
	else
		put32(n + 16, ENTRY);
	n += bits == 64 ? 24 : 20;
	if (note)
		phdr(1, 4, NOTE_OFF, 0, n - NOTE_OFF, 0);
	for (size_t i = 0; i < SEG_FILESZ; i++)
		img[SEG_OFF + i] = (uint8_t)(i * 13 + 3);
}

static void setup(void)
{
	memset(&mem, 0, sizeof(mem));
	mem.r[0].size = RAM;
	mem.r[0].hva = malloc(RAM);
	memset(mem.r[0].hva, 0xcc, RAM); /* so a missing bss clear shows */
	mem.nr = 1;
	mem.ram_size = RAM;
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 5);
	build(64, 1);
	memset(&args, 0, sizeof(args));
	args.kernel = img;
	args.kernel_len = IMG_LEN;
	args.initrd = initrd;
	args.initrd_len = sizeof(initrd);
	args.cmdline = "console=ttyS0";
	args.rsdp_gpa = 0xe0000;
	args.e820 = e820;
	args.e820_nr = 3;
	memset(&ent, 0, sizeof(ent));
	err[0] = 0;
}

static void teardown(void)
{
	free(mem.r[0].hva);
}

static void check_good(void)
{
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *mod;
	const uint8_t *bss;

	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_ELF_PVH);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_int_eq(ent.mode, BOOT_PVH32);
	ck_assert_uint_eq(ent.rip, ENTRY);
	ck_assert_uint_eq(ent.rbx, LAYOUT_PVH_START_INFO);
	ck_assert_mem_eq(gmem_ptr(&mem, SEG_PADDR, SEG_FILESZ), img + SEG_OFF, SEG_FILESZ);
	bss = gmem_ptr(&mem, SEG_PADDR + SEG_FILESZ, SEG_MEMSZ - SEG_FILESZ);
	for (size_t i = 0; i < SEG_MEMSZ - SEG_FILESZ; i++)
		ck_assert_uint_eq(bss[i], 0);
	ck_assert_uint_eq(bss[SEG_MEMSZ - SEG_FILESZ], 0xcc); /* not beyond memsz */

	si = gmem_ptr(&mem, LAYOUT_PVH_START_INFO, sizeof(*si));
	ck_assert_uint_eq(si->magic, 0x336ec578);
	ck_assert_uint_eq(si->version, 1);
	ck_assert_uint_eq(si->flags, 0);
	ck_assert_uint_eq(si->cmdline_paddr, LAYOUT_CMDLINE);
	ck_assert_str_eq((const char *)gmem_ptr(&mem, LAYOUT_CMDLINE, 16), "console=ttyS0");
	ck_assert_uint_eq(si->rsdp_paddr, 0xe0000);
	ck_assert_uint_eq(si->memmap_paddr, LAYOUT_PVH_MEMMAP);
	ck_assert_uint_eq(si->memmap_entries, 3);
	mm = gmem_ptr(&mem, LAYOUT_PVH_MEMMAP, 3 * sizeof(*mm));
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(mm[i].addr, e820[i].addr);
		ck_assert_uint_eq(mm[i].size, e820[i].size);
		ck_assert_uint_eq(mm[i].type, e820[i].type);
		ck_assert_uint_eq(mm[i].reserved, 0);
	}
	ck_assert_uint_eq(si->nr_modules, 1);
	ck_assert_uint_eq(si->modlist_paddr, LAYOUT_PVH_MODLIST);
	mod = gmem_ptr(&mem, LAYOUT_PVH_MODLIST, sizeof(*mod));
	ck_assert_uint_eq(mod->paddr, (RAM - sizeof(initrd)) & ~0xfffULL);
	ck_assert_uint_eq(mod->size, sizeof(initrd));
	ck_assert_uint_eq(mod->cmdline_paddr, 0);
	ck_assert_mem_eq(gmem_ptr(&mem, mod->paddr, sizeof(initrd)), initrd, sizeof(initrd));
	ck_assert_uint_eq(*(const uint64_t *)gmem_ptr(&mem, LAYOUT_BOOT_GDT + 8, 8),
			  0x00cf9a000000ffffULL);
}

START_TEST(good_elf64)
{
	check_good();
}
END_TEST

START_TEST(good_elf32)
{
	build(32, 1);
	check_good();
}
END_TEST

START_TEST(no_initrd_no_e820)
{
	const struct hvm_start_info *si;

	args.initrd = NULL;
	args.initrd_len = 0;
	args.e820_nr = 0;
	args.cmdline = NULL;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	si = gmem_ptr(&mem, LAYOUT_PVH_START_INFO, sizeof(*si));
	ck_assert_uint_eq(si->nr_modules, 0);
	ck_assert_uint_eq(si->modlist_paddr, 0);
	ck_assert_uint_eq(si->memmap_entries, 0);
	ck_assert_str_eq((const char *)gmem_ptr(&mem, si->cmdline_paddr, 1), "");
}
END_TEST

START_TEST(no_note)
{
	build(64, 0);
	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_ELF_NOPVH);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "no PVH entry note"));
}
END_TEST

START_TEST(phdr_out_of_file)
{
	phdr(0, 1, SEG_OFF, SEG_PADDR, 0x10000, 0x10000);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "outside"));
	build(32, 1);
	phdr(0, 1, 0xffffff00, SEG_PADDR, 0x200, 0x200); /* offset+filesz wraps in 32 bits */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
}
END_TEST

START_TEST(paddr_outside_ram)
{
	phdr(0, 1, SEG_OFF, 128 * MiB, SEG_FILESZ, SEG_MEMSZ);
	put64(NOTE_OFF + 20 + 16, 128 * MiB);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "outside guest RAM"));
	/* ends just past RAM */
	build(64, 1);
	phdr(0, 1, SEG_OFF, RAM - 0x2000, SEG_FILESZ, SEG_MEMSZ);
	put64(NOTE_OFF + 20 + 16, RAM - 0x2000);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
	/* in the VMM's boot data */
	build(64, 1);
	phdr(0, 1, SEG_OFF, 0x8000, SEG_FILESZ, SEG_MEMSZ);
	put64(NOTE_OFF + 20 + 16, 0x8000);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "boot data"));
}
END_TEST

START_TEST(wrapping_sizes)
{
	phdr(0, 1, SEG_OFF, 0xfffffffffffff000ULL, SEG_FILESZ, 0x2000);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	build(64, 1);
	phdr(0, 1, SEG_OFF, SEG_PADDR, SEG_FILESZ, SEG_FILESZ - 1); /* memsz < filesz */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad sizes"));
}
END_TEST

START_TEST(truncated_headers)
{
	args.kernel_len = 30;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	args.kernel_len = 64 + 56 + 10; /* second phdr cut */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	args.kernel_len = IMG_LEN - 1; /* segment data cut */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	args.kernel_len = IMG_LEN;
	put16(56, 0);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
}
END_TEST

START_TEST(bad_notes)
{
	struct elf_info ei;

	/* descsz runs past the PT_NOTE segment */
	put32(NOTE_OFF + 20 + 4, 0x1000);
	ck_assert_int_eq(elf_parse(img, IMG_LEN, &ei, err), -EINVAL);
	/* entry above 4 GiB */
	build(64, 1);
	put64(NOTE_OFF + 20 + 16, 0x100000000ULL);
	ck_assert_int_eq(elf_parse(img, IMG_LEN, &ei, err), -EINVAL);
	/* entry outside the loaded segments */
	build(64, 1);
	put64(NOTE_OFF + 20 + 16, 0x800000);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not inside"));
}
END_TEST

START_TEST(not_x86)
{
	put16(18, 40); /* EM_ARM */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	build(64, 1);
	img[5] = 2; /* big-endian */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
}
END_TEST

START_TEST(initrd_avoids_segment)
{
	const struct hvm_modlist_entry *mod;

	/* segment occupies the top 1 MiB of RAM: initrd goes below it */
	phdr(0, 1, SEG_OFF, RAM - MiB, SEG_FILESZ, MiB);
	put64(NOTE_OFF + 20 + 16, RAM - MiB);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	mod = gmem_ptr(&mem, LAYOUT_PVH_MODLIST, sizeof(*mod));
	ck_assert_uint_eq(mod->paddr, (RAM - MiB - sizeof(initrd)) & ~0xfffULL);
}
END_TEST

CHECK_MAIN_FIXTURE("loader_elf", setup, teardown, good_elf64, good_elf32, no_initrd_no_e820,
	no_note, phdr_out_of_file, paddr_outside_ram, wrapping_sizes, truncated_headers, bad_notes,
	not_x86, initrd_avoids_segment)
