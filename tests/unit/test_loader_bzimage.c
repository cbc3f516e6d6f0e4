/* Unit tests: bzImage loader, boot GDT and page tables (synthetic images). */
#include "check_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "loader/bootparam.h"
#include "loader/bzimage.h"
#include "loader/loader.h"
#include "machine/pc_map.h"

#define RAM (64 * MiB)
#define PM_SIZE 0x10000
#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define IMG_LEN (SETUP_SIZE + PM_SIZE)

static struct guest_mem mem;
static uint8_t img[IMG_LEN];
static uint8_t initrd[0x3000];
static char err[LOADER_ERR_LEN];
static const struct e820_entry e820[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x9fc00, 0x400, E820_RESERVED },
	{ 0xe0000, 0x20000, E820_RESERVED },
	{ 0x100000, RAM - 0x100000, E820_RAM },
};
static struct boot_args args;
static struct boot_entry ent;

static void mem_setup(uint64_t size)
{
	free(mem.r[0].hva);
	memset(&mem, 0, sizeof(mem));
	mem.r[0].gpa = 0;
	mem.r[0].size = size;
	mem.r[0].hva = calloc(1, size);
	mem.nr = 1;
	mem.ram_size = size;
}

static struct setup_header *hdr(void)
{
	return (struct setup_header *)(img + BZ_SETUP_HDR_OFF);
}

static void setup(void)
{
	struct setup_header *h;

	mem_setup(RAM);
	memset(img, 0, sizeof(img));
	h = hdr();
	h->setup_sects = SETUP_SECTS;
	h->syssize = PM_SIZE / 16;
	h->boot_flag = BZ_BOOT_FLAG;
	h->jump = 0x6aeb; /* jmp short to 0x26c */
	h->header = BZ_HDRS_MAGIC;
	h->version = 0x020f;
	h->loadflags = BZ_LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = 2047;
	h->pref_address = 0x1000000;
	h->init_size = 0x400000;
	for (size_t i = 0; i < PM_SIZE; i++)
		img[SETUP_SIZE + i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	memset(&args, 0, sizeof(args));
	args.kernel = img;
	args.kernel_len = IMG_LEN;
	args.initrd = initrd;
	args.initrd_len = sizeof(initrd);
	args.cmdline = "console=ttyS0 root=/dev/vda";
	args.rsdp_gpa = 0xe0000;
	args.e820 = e820;
	args.e820_nr = 4;
	memset(&ent, 0, sizeof(ent));
	err[0] = 0;
}

static void teardown(void)
{
	free(mem.r[0].hva);
	memset(&mem, 0, sizeof(mem));
}

static const struct boot_params *zp(void)
{
	return gmem_ptr(&mem, LAYOUT_ZERO_PAGE, sizeof(struct boot_params));
}

START_TEST(good_image)
{
	const struct boot_params *bp;
	uint64_t top;

	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_BZIMAGE);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_int_eq(ent.mode, BOOT_LINUX64);
	ck_assert_uint_eq(ent.rip, 0x1000000 + 0x200);
	ck_assert_uint_eq(ent.rsi, LAYOUT_ZERO_PAGE);
	ck_assert_uint_eq(ent.rsp, LAYOUT_BOOT_STACK);
	ck_assert_uint_eq(ent.cr3, LAYOUT_PML4);
	ck_assert_mem_eq(gmem_ptr(&mem, 0x1000000, PM_SIZE), img + SETUP_SIZE, PM_SIZE);

	bp = zp();
	ck_assert_uint_eq(bp->hdr.header, BZ_HDRS_MAGIC);
	ck_assert_uint_eq(bp->hdr.version, 0x020f);
	ck_assert_uint_eq(bp->hdr.setup_sects, SETUP_SECTS);
	ck_assert_uint_eq(bp->hdr.init_size, 0x400000);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.vid_mode, 0xffff);
	ck_assert_uint_eq(bp->hdr.code32_start, 0x1000000);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	ck_assert_str_eq((const char *)gmem_ptr(&mem, LAYOUT_CMDLINE, 64), args.cmdline);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, 0xe0000);
	ck_assert_uint_eq(bp->sentinel, 0);
	ck_assert_uint_eq(bp->e820_entries, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(bp->e820_table[i].addr, e820[i].addr);
		ck_assert_uint_eq(bp->e820_table[i].size, e820[i].size);
		ck_assert_uint_eq(bp->e820_table[i].type, e820[i].type);
	}
	/* initrd: highest 4 KiB-aligned place below the top of RAM */
	top = RAM;
	ck_assert_uint_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	ck_assert_uint_eq(bp->hdr.ramdisk_image % 4096, 0);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, (top - sizeof(initrd)) & ~0xfffULL);
	ck_assert_uint_le((uint64_t)bp->hdr.ramdisk_image + sizeof(initrd) - 1, bp->hdr.initrd_addr_max);
	ck_assert_mem_eq(gmem_ptr(&mem, bp->hdr.ramdisk_image, sizeof(initrd)), initrd, sizeof(initrd));
}
END_TEST

START_TEST(alignment_and_fixed)
{
	hdr()->pref_address = 0x1100000;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(ent.rip, 0x1200000 + 0x200);
	ck_assert_uint_eq(ent.rip % 0x200000, 0x200);

	setup();
	hdr()->relocatable_kernel = 0;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(ent.rip, 0x100000 + 0x200);
	ck_assert_mem_eq(gmem_ptr(&mem, 0x100000, PM_SIZE), img + SETUP_SIZE, PM_SIZE);
}
END_TEST

START_TEST(initrd_addr_max_and_kernel_overlap)
{
	/* cap at 32 MiB: initrd ends at or below 32 MiB */
	hdr()->initrd_addr_max = 0x1ffffff;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(zp()->hdr.ramdisk_image, (0x2000000 - sizeof(initrd)) & ~0xfffULL);

	/* cap inside the kernel (16..20 MiB): initrd goes below the kernel */
	setup();
	hdr()->initrd_addr_max = 0x13fffff;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(zp()->hdr.ramdisk_image, (0x1000000 - sizeof(initrd)) & ~0xfffULL);
}
END_TEST

START_TEST(protocol_2_13_no_rsdp)
{
	hdr()->version = 0x020d;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	ck_assert_uint_eq(zp()->acpi_rsdp_addr, 0);
}
END_TEST

START_TEST(too_short)
{
	struct bzimage_info bi;

	ck_assert_int_eq(bzimage_parse(img, 100, &bi, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	/* header present but setup sectors cut off */
	args.kernel_len = 0x300;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
}
END_TEST

START_TEST(bad_magic)
{
	hdr()->header = 0x12345678;
	ck_assert_int_eq(loader_detect(img, IMG_LEN), KFMT_UNKNOWN);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "HdrS"));
	setup();
	hdr()->boot_flag = 0;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "not a bzImage or ELF"));
}
END_TEST

START_TEST(old_protocol)
{
	hdr()->version = 0x0205;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "2.05"));
}
END_TEST

START_TEST(no_64bit_entry)
{
	hdr()->xloadflags = BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "no 64-bit entry"));
}
END_TEST

START_TEST(truncated_payload)
{
	args.kernel_len = IMG_LEN - 16;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
}
END_TEST

START_TEST(bad_alignment)
{
	hdr()->kernel_alignment = 0x300000;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -EINVAL);
}
END_TEST

START_TEST(cmdline_too_long)
{
	hdr()->cmdline_size = 10;
	args.cmdline = "0123456789";
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), 0);
	args.cmdline = "0123456789A";
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -E2BIG);
	ck_assert_ptr_nonnull(strstr(err, "command line"));
}
END_TEST

START_TEST(initrd_does_not_fit)
{
	static uint8_t big[60 * MiB];

	args.initrd = big;
	args.initrd_len = sizeof(big);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "initrd"));
}
END_TEST

START_TEST(kernel_does_not_fit)
{
	hdr()->init_size = 64 * MiB;
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "more memory"));
	setup();
	mem_setup(16 * MiB);
	ck_assert_int_eq(loader_load(&mem, &args, &ent, err), -ENOSPC);
}
END_TEST

START_TEST(gdt_bytes)
{
	const uint64_t *g;

	ck_assert_int_eq(boot_write_gdt(&mem), 0);
	g = gmem_ptr(&mem, LAYOUT_BOOT_GDT, BOOT_GDT_ENTRIES * 8);
	ck_assert_uint_eq(g[0], 0);
	ck_assert_uint_eq(g[BOOT_SEL_CODE32 / 8], 0x00cf9a000000ffffULL);
	ck_assert_uint_eq(g[BOOT_SEL_CODE64 / 8], 0x00af9a000000ffffULL);
	ck_assert_uint_eq(g[BOOT_SEL_DATA / 8], 0x00cf92000000ffffULL);
	ck_assert_uint_eq(g[BOOT_SEL_TSS / 8], 0x00008b0000000067ULL);
	ck_assert_uint_eq(g[BOOT_SEL_TSS / 8 + 1], 0);
}
END_TEST

START_TEST(pagetable_bytes)
{
	const uint64_t *pml4, *pdpt, *pd;

	memset(gmem_ptr(&mem, LAYOUT_PML4, 0x6000), 0xcc, 0x6000);
	ck_assert_int_eq(boot_write_pagetables(&mem), 0);
	pml4 = gmem_ptr(&mem, LAYOUT_PML4, 4096);
	pdpt = gmem_ptr(&mem, LAYOUT_PDPT, 4096);
	pd = gmem_ptr(&mem, LAYOUT_PD, 4 * 4096);
	ck_assert_uint_eq(pml4[0], LAYOUT_PDPT | 3);
	for (int i = 1; i < 512; i++)
		ck_assert_uint_eq(pml4[i], 0);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(pdpt[i], (LAYOUT_PD + i * 4096ULL) | 3);
	for (int i = 4; i < 512; i++)
		ck_assert_uint_eq(pdpt[i], 0);
	ck_assert_uint_eq(pd[0], 0x83);
	ck_assert_uint_eq(pd[1], 0x200000 | 0x83);
	ck_assert_uint_eq(pd[2047], 0xffe00000ULL | 0x83);
	/* no RAM for the tables -> -EFAULT */
	mem_setup(0x8000);
	ck_assert_int_eq(boot_write_pagetables(&mem), -EFAULT);
}
END_TEST

CHECK_MAIN_FIXTURE("loader_bzimage", setup, teardown, good_image, alignment_and_fixed,
	initrd_addr_max_and_kernel_overlap, protocol_2_13_no_rsdp, too_short, bad_magic,
	old_protocol, no_64bit_entry, truncated_payload, bad_alignment, cmdline_too_long,
	initrd_does_not_fit, kernel_does_not_fit, gdt_bytes, pagetable_bytes)
