/* Unit tests: Multiboot v1 loader (synthetic images). */
#include "check_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "loader/loader.h"
#include "loader/multiboot.h"
#include "machine/pc_map.h"

#define RAM (64 * MiB)
#define IMG_LEN 0x2000
#define HDR_OFF 0x40
#define LOAD 0x100000u

static struct guest_mem mem;
static uint8_t img[IMG_LEN];
static uint8_t initrd[0x1800];
static char err[LOADER_ERR_LEN];
static const struct e820_entry e820[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x9fc00, 0x400, E820_RESERVED },
	{ 0xe0000, 0x20000, E820_RESERVED },
	{ 0x100000, RAM - 0x100000, E820_RAM },
};
static struct boot_args args;
static struct boot_entry ent;

static void put16(size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }

static void mb_header(size_t off, uint32_t flags)
{
	put32(off, MB_HEADER_MAGIC);
	put32(off + 4, flags);
	put32(off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
}

/* a.out-kludge image: file offset 0 loads at 1 MiB, bss to +0x4000. */
static void build_aout(void)
{
	memset(img, 0, sizeof(img));
	for (size_t i = 0; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 3 + 1);
	mb_header(HDR_OFF, MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_AOUT_KLUDGE);
	put32(HDR_OFF + 12, LOAD + HDR_OFF);  /* header_addr */
	put32(HDR_OFF + 16, LOAD);            /* load_addr */
	put32(HDR_OFF + 20, 0);               /* load_end_addr: whole file */
	put32(HDR_OFF + 24, LOAD + 0x4000);   /* bss_end_addr */
	put32(HDR_OFF + 28, LOAD + 0x80);     /* entry_addr */
}

static void setup(void)
{
	memset(&mem, 0, sizeof(mem));
	mem.r[0].size = RAM;
	mem.r[0].hva = malloc(RAM);
	memset(mem.r[0].hva, 0xcc, RAM);
	mem.nr = 1;
	mem.ram_size = RAM;
	build_aout();
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 11);
	memset(&args, 0, sizeof(args));
	args.kernel = img;
	args.kernel_len = IMG_LEN;
	args.initrd = initrd;
	args.initrd_len = sizeof(initrd);
	args.cmdline = "hello mb";
	args.e820 = e820;
	args.e820_nr = 4;
	memset(&ent, 0, sizeof(ent));
	err[0] = 0;
}

static void teardown(void)
{
	free(mem.r[0].hva);
}

START_TEST(header_found)
{
	struct mb_header h;

	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), 0);
	ck_assert_uint_eq(h.offset, HDR_OFF);
	ck_assert_uint_eq(h.load_offset, 0);
	ck_assert_uint_eq(h.load_size, IMG_LEN);
	ck_assert_uint_eq(h.mem_size, 0x4000);
	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_MULTIBOOT);
}
END_TEST

START_TEST(info_block)
{
	const struct multiboot_info *mbi;
	const struct multiboot_mod *mod;
	const struct multiboot_mmap_entry *mm;
	const uint8_t *bss;

	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_int_eq(ent.mode, BOOT_MULTIBOOT32);
	ck_assert_uint_eq(ent.rip, LOAD + 0x80);
	ck_assert_uint_eq(ent.rax, 0x2badb002);
	ck_assert_uint_eq(ent.rbx, LAYOUT_MB_INFO);
	ck_assert_mem_eq(gmem_ptr(&mem, LOAD, IMG_LEN), img, IMG_LEN);
	bss = gmem_ptr(&mem, LOAD + IMG_LEN, 0x4000 - IMG_LEN);
	for (size_t i = 0; i < 0x4000 - IMG_LEN; i++)
		ck_assert_uint_eq(bss[i], 0);

	mbi = gmem_ptr(&mem, LAYOUT_MB_INFO, sizeof(*mbi));
	ck_assert_uint_eq(mbi->flags, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
	ck_assert_uint_eq(mbi->mem_lower, 639);
	ck_assert_uint_eq(mbi->mem_upper, (RAM - MiB) / 1024);
	ck_assert_str_eq((const char *)gmem_ptr(&mem, mbi->cmdline, 9), "hello mb");
	ck_assert_str_eq((const char *)gmem_ptr(&mem, mbi->boot_loader_name, 6), "myvmm");
	ck_assert_uint_eq(mbi->mods_count, 1);
	mod = gmem_ptr(&mem, mbi->mods_addr, sizeof(*mod));
	ck_assert_uint_eq(mod->mod_start, (RAM - sizeof(initrd)) & ~0xfffULL);
	ck_assert_uint_eq(mod->mod_start % 4096, 0);
	ck_assert_uint_eq(mod->mod_end, mod->mod_start + sizeof(initrd));
	ck_assert_str_eq((const char *)gmem_ptr(&mem, mod->string, 7), "initrd");
	ck_assert_mem_eq(gmem_ptr(&mem, mod->mod_start, sizeof(initrd)), initrd, sizeof(initrd));
	ck_assert_uint_eq(mbi->mmap_length, 4 * 24);
	mm = gmem_ptr(&mem, mbi->mmap_addr, mbi->mmap_length);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(mm[i].size, 20);
		ck_assert_uint_eq(mm[i].addr, e820[i].addr);
		ck_assert_uint_eq(mm[i].len, e820[i].size);
		ck_assert_uint_eq(mm[i].type, e820[i].type);
	}
}
END_TEST

START_TEST(checksum_bad)
{
	struct mb_header h;

	put32(HDR_OFF + 8, 0);
	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), -EINVAL);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "checksum"));
}
END_TEST

START_TEST(not_found)
{
	static uint8_t big[0x3000];
	struct mb_header h;

	put32(HDR_OFF, 0);
	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), -ENOENT);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	/* beyond the first 8 KiB, or unaligned: not a header */
	memset(big, 0, sizeof(big));
	memcpy(big + 8192, img + HDR_OFF, 12);
	ck_assert_int_eq(mb_parse(big, sizeof(big), &h, err), -ENOENT);
	build_aout();
	memmove(img + HDR_OFF + 2, img + HDR_OFF, 32);
	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), -ENOENT);
}
END_TEST

START_TEST(bad_fields)
{
	struct mb_header h;

	put32(HDR_OFF + 12, LOAD - 4); /* header_addr < load_addr */
	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), -EINVAL);
	build_aout();
	put32(HDR_OFF + 28, LOAD + 0x5000); /* entry past bss */
	ck_assert_int_eq(mb_parse(img, IMG_LEN, &h, err), -EINVAL);
	build_aout();
	put32(HDR_OFF + 20, LOAD + IMG_LEN + 0x100); /* load_end past file */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	build_aout();
	mb_header(HDR_OFF, MB_FLAG_AOUT_KLUDGE | (1u << 5)); /* unknown requirement */
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	build_aout();
	put32(HDR_OFF + 16, 0x80000000u); /* load_addr in no RAM */
	put32(HDR_OFF + 12, 0x80000000u + HDR_OFF);
	put32(HDR_OFF + 24, 0);
	put32(HDR_OFF + 28, 0x80000000u + 0x80);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
}
END_TEST

/* Multiboot without address fields: an ELF32 with one PT_LOAD. */
static void build_elf(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 1; img[5] = 1; img[6] = 1;
	put16(16, 2); put16(18, 3); put32(20, 1);
	put32(24, 0xc0100020u);     /* e_entry: virtual, inside the segment */
	put32(28, 52);              /* e_phoff */
	put16(40, 52); put16(42, 32); put16(44, 1);
	put32(52, 1);               /* PT_LOAD */
	put32(56, 0x1000);          /* offset */
	put32(60, 0xc0100000u);     /* vaddr */
	put32(64, 0x200000);        /* paddr */
	put32(68, 0x1000);          /* filesz */
	put32(72, 0x1800);          /* memsz */
	mb_header(0x1000, MB_FLAG_MEMORY_INFO);
}

START_TEST(elf_multiboot)
{
	build_elf();
	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_MULTIBOOT);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(ent.rip, 0x200020);
	ck_assert_mem_eq(gmem_ptr(&mem, 0x200000, 0x1000), img + 0x1000, 0x1000);
	ck_assert_uint_eq(*(const uint8_t *)gmem_ptr(&mem, 0x2017ff, 1), 0);
	/* a raw binary with the header but no address fields is refused */
	memset(img, 0, 0x100);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "ELF"));
}
END_TEST

START_TEST(pvh_note_wins)
{
	/* an ELF with both a PVH note and a multiboot header is ELF_PVH */
	build_elf();
	put16(44, 2);
	put32(84, 4); put32(88, 0x1400); put32(100, 20); /* PT_NOTE at 0x1400, 20 bytes */
	put32(0x1400, 4); put32(0x1404, 4); put32(0x1408, 18);
	memcpy(img + 0x1408 + 4, "Xen", 4);
	put32(0x1410, 0x200020);
	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_ELF_PVH);
}
END_TEST

CHECK_MAIN_FIXTURE("loader_multiboot", setup, teardown, header_found, info_block,
	checksum_bad, not_found, bad_fields, elf_multiboot, pvh_note_wins)
