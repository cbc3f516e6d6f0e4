/* libFuzzer: the kernel loaders on arbitrary kernel bytes, placed into a
 * small (32 MiB) malloc-backed guest RAM. Byte 0 picks a format "skeleton"
 * (magic numbers the fuzzer would otherwise need a while to find) and the
 * initrd/cmdline; the rest is the kernel file. Checks: no out-of-bounds
 * access (ASan), every failure is -errno with a non-empty error line, and
 * each format's parse+place agrees with loader_load's dispatch. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/bzimage.h"
#include "loader/elf_kernel.h"
#include "loader/loader.h"
#include "loader/multiboot.h"
#include "host/log.h"
#include "machine/pc_map.h"

#define RAM_SIZE (32u << 20)

static uint8_t *ram;
static struct e820_entry e820[4];
static int e820_nr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	ram = malloc(RAM_SIZE);
	if (!ram)
		abort();
	e820_nr = gmem_e820(RAM_SIZE, e820, 4);
	if (e820_nr < 0)
		e820_nr = 0;
	return 0;
}

static void check_ret(int ret, const char *err)
{
	/* -errno with a non-empty line, or success */
	if (ret > 0 || ret < -4095 || (ret < 0 && err[0] == '\0'))
		abort();
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t initrd[8192] = { 1, 2, 3 };
	static const char *const cmdlines[] = { NULL, "", "console=ttyS0", "x" };
	struct guest_mem mem = { .nr = 1, .ram_size = RAM_SIZE };
	struct boot_entry e;
	char err[LOADER_ERR_LEN];
	uint8_t *k;
	size_t klen;
	int ret;

	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	klen = size - 1;
	k = malloc(klen ? klen : 1); /* own copy, exactly sized: ASan sees overreads */
	if (!k)
		return 0;
	memcpy(k, data + 1, klen);
	switch (sel & 3) {
	case 1: /* bzImage: boot flag + "HdrS" */
		if (klen >= 0x206) {
			k[0x1fe] = 0x55;
			k[0x1ff] = 0xaa;
			put32(k + 0x202, 0x53726448u);
		}
		/* sel bit 3: also a 2.15 header with a 64-bit entry and a
		 * syssize that matches the file, so placement gets exercised */
		if ((sel & 8) && klen >= 0x240) {
			unsigned ss = k[0x1f1] % 8;
			size_t setup = (size_t)((ss ? ss : 4) + 1) * 512;
			k[0x1f1] = (uint8_t)ss;
			k[0x206] = 0x0f;
			k[0x207] = 0x02;
			k[0x236] |= 1;
			if (klen > setup)
				put32(k + 0x1f4, (uint32_t)((klen - setup) / 16));
		}
		break;
	case 2: /* ELF magic */
		if (klen >= 4)
			memcpy(k, "\x7f" "ELF", 4);
		/* sel bit 3: an ELF64 x86-64 header with a PT_LOAD (at 1 MiB +
		 * fuzzed bits) and a PT_NOTE holding a Xen PVH entry note, so the
		 * PVH path gets exercised; other fields stay fuzzed */
		if ((sel & 8) && klen >= 0x100) {
			static const uint8_t eh[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
			memcpy(k, eh, sizeof(eh));
			k[0x10] = 2; k[0x11] = 0;           /* ET_EXEC */
			k[0x12] = 62; k[0x13] = 0;          /* EM_X86_64 */
			put32(k + 0x14, 1);
			memcpy(k + 0x20, "\x40\0\0\0\0\0\0\0", 8); /* e_phoff */
			k[0x36] = 56; k[0x37] = 0;          /* e_phentsize */
			k[0x38] = 2; k[0x39] = 0;           /* e_phnum */
			uint8_t *ph = k + 0x40;             /* PT_LOAD */
			put32(ph, 1);
			uint64_t v = 0xb0, pa = 0x100000 + (k[0xf0] << 12), fs = klen - 0xb0;
			memcpy(ph + 8, &v, 8);              /* p_offset */
			memcpy(ph + 16, &pa, 8);            /* p_vaddr */
			memcpy(ph + 24, &pa, 8);            /* p_paddr */
			memcpy(ph + 32, &fs, 8);            /* p_filesz */
			fs += k[0xf1] << 8;
			memcpy(ph + 40, &fs, 8);            /* p_memsz */
			ph += 56;                           /* PT_NOTE at 0xb0, 24 bytes */
			put32(ph, 4);
			v = 0xb0;
			memcpy(ph + 8, &v, 8);
			v = 24;
			memcpy(ph + 32, &v, 8);
			memcpy(ph + 40, &v, 8);
			put32(k + 0xb0, 4); put32(k + 0xb4, 4); put32(k + 0xb8, 18);
			memcpy(k + 0xbc, "Xen", 4);
			put32(k + 0xc0, 0x100000 + k[0xf2]);
		}
		break;
	case 3: /* multiboot header at a 4-aligned offset with a valid checksum */
		if (klen >= 12) {
			size_t off = ((size_t)(sel >> 2) * 4) % (klen - 11) & ~(size_t)3;
			uint32_t flags;
			memcpy(&flags, k + off + 4, 4);
			put32(k + off, 0x1BADB002u);
			put32(k + off + 8, -(0x1BADB002u + flags));
		}
		break;
	}
	mem.r[0] = (struct gmem_region){ 0, RAM_SIZE, ram };
	struct boot_args a = {
		.kernel = k, .kernel_len = klen,
		.initrd = (sel & 0x10) ? initrd : NULL,
		.initrd_len = (sel & 0x10) ? sizeof(initrd) : 0,
		.cmdline = cmdlines[(sel >> 5) & 3],
		.rsdp_gpa = (sel & 0x80) ? LAYOUT_ACPI_BASE : 0,
		.e820 = e820, .e820_nr = e820_nr,
	};

	enum kernel_format f = loader_detect(k, klen);
	err[0] = 0;
	ret = loader_load(&mem, &a, &e, err);
	check_ret(ret, err);
	if (ret == 0 && f == KFMT_UNKNOWN)
		abort();

	/* Each parser directly, whatever the format. */
	struct bzimage_info bi;
	err[0] = 0;
	ret = bzimage_parse(k, klen, &bi, err);
	check_ret(ret, err);
	if (ret == 0) {
		if (bi.setup_size + bi.pm_size > klen)
			abort();
		err[0] = 0;
		check_ret(bzimage_place(&mem, &bi, &a, &e, err), err);
	}
	struct elf_info *ei = malloc(sizeof(*ei));
	if (ei) {
		err[0] = 0;
		ret = elf_parse(k, klen, ei, err);
		check_ret(ret, err);
		if (ret == 0) {
			if (ei->nr_loads < 0 || ei->nr_loads > ELF_MAX_LOADS)
				abort();
			for (int i = 0; i < ei->nr_loads; i++)
				if (ei->loads[i].offset > klen ||
				    ei->loads[i].filesz > klen - ei->loads[i].offset)
					abort();
			if (ei->has_pvh) {
				err[0] = 0;
				check_ret(pvh_place(&mem, k, ei, &a, &e, err), err);
			}
		}
		free(ei);
	}
	struct mb_header mh;
	err[0] = 0;
	ret = mb_parse(k, klen, &mh, err);
	if (ret != -ENOENT)
		check_ret(ret, err);
	if (ret == 0) {
		err[0] = 0;
		check_ret(mb_place(&mem, k, klen, &mh, &a, &e, err), err);
	}
	free(k);
	return 0;
}
