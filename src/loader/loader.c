/* Kernel format detection and dispatch. */
#include <errno.h>
#include <stdlib.h>
#include "loader/bootparam.h"
#include "loader/bzimage.h"
#include "loader/elf_kernel.h"
#include "loader/multiboot.h"
#include "loader/place.h"

enum kernel_format loader_detect(const uint8_t *buf, size_t len)
{
	struct elf_info *ei;
	struct mb_header mh;
	enum kernel_format f = KFMT_UNKNOWN;

	if (!buf || len == 0)
		return KFMT_UNKNOWN;
	if (bzimage_probe(buf, len))
		return KFMT_BZIMAGE;
	if (elf_probe(buf, len)) {
		ei = malloc(sizeof(*ei));
		if (ei && elf_parse(buf, len, ei, NULL) == 0 && ei->has_pvh)
			f = KFMT_ELF_PVH;
		free(ei);
		if (f != KFMT_UNKNOWN)
			return f;
	}
	if (mb_parse(buf, len, &mh, NULL) != -ENOENT)
		return KFMT_MULTIBOOT; /* bad ones are reported by loader_load */
	if (elf_probe(buf, len))
		return KFMT_ELF_NOPVH;
	return KFMT_UNKNOWN;
}

static int check_args(const struct boot_args *a, char *err)
{
	if (!a->kernel || a->kernel_len == 0) {
		loader_err(err, "kernel file is empty; pass a bzImage or ELF kernel");
		return -ENOEXEC;
	}
	if (a->e820_nr < 0 || a->e820_nr > BZ_E820_MAX || (a->e820_nr && !a->e820)) {
		loader_err(err, "internal error: bad e820 table (%d entries)", a->e820_nr);
		return -EINVAL;
	}
	if (a->initrd_len && !a->initrd) {
		loader_err(err, "internal error: initrd length without data");
		return -EINVAL;
	}
	return 0;
}

static int load_bzimage(struct guest_mem *m, const struct boot_args *a, struct boot_entry *e,
			char *err)
{
	struct bzimage_info bi;
	int ret = bzimage_parse(a->kernel, a->kernel_len, &bi, err);

	return ret < 0 ? ret : bzimage_place(m, &bi, a, e, err);
}

static int load_elf(struct guest_mem *m, const struct boot_args *a, struct boot_entry *e,
		    char *err)
{
	struct elf_info *ei = malloc(sizeof(*ei));
	int ret;

	if (!ei) {
		loader_err(err, "out of host memory");
		return -ENOMEM;
	}
	ret = elf_parse(a->kernel, a->kernel_len, ei, err);
	if (ret == 0 && !ei->has_pvh) {
		loader_err(err, "ELF kernel has no PVH entry note (Xen ELFNOTE type 18); build Linux with CONFIG_PVH=y or pass a bzImage");
		ret = -ENOEXEC;
	}
	if (ret == 0)
		ret = pvh_place(m, a->kernel, ei, a, e, err);
	free(ei);
	return ret;
}

static int load_multiboot(struct guest_mem *m, const struct boot_args *a, struct boot_entry *e,
			  char *err)
{
	struct mb_header mh;
	int ret = mb_parse(a->kernel, a->kernel_len, &mh, err);

	return ret < 0 ? ret : mb_place(m, a->kernel, a->kernel_len, &mh, a, e, err);
}

int loader_load(struct guest_mem *m, const struct boot_args *a, struct boot_entry *entry,
		char err[LOADER_ERR_LEN])
{
	int ret;

	if (err)
		err[0] = '\0';
	ret = check_args(a, err);
	if (ret < 0)
		return ret;
	switch (loader_detect(a->kernel, a->kernel_len)) {
	case KFMT_BZIMAGE:
		return load_bzimage(m, a, entry, err);
	case KFMT_ELF_PVH:
	case KFMT_ELF_NOPVH:
		return load_elf(m, a, entry, err);
	case KFMT_MULTIBOOT:
		return load_multiboot(m, a, entry, err);
	case KFMT_UNKNOWN:
		break;
	}
	if (a->kernel_len >= 0x200 && ld_le16(a->kernel + 0x1fe) == BZ_BOOT_FLAG)
		loader_err(err, "boot sector without a 'HdrS' setup header (boot protocol < 2.00); use a modern bzImage");
	else
		loader_err(err, "not a bzImage or ELF kernel (no 'HdrS' header, no ELF magic, no multiboot header); pass arch/x86/boot/bzImage or a PVH vmlinux");
	return -ENOEXEC;
}
