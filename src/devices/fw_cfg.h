/* QEMU-compatible firmware configuration device (docs/specs/fw_cfg.rst), the
 * I/O-port flavour SeaBIOS uses on x86:
 *   PORT_FW_CFG (0x510, 2 ports): +0 selector (16-bit write, little-endian),
 *                                 +1 data (byte reads advance the offset);
 *   PORT_FW_CFG_DMA (0x514, 8 ports): 64-bit big-endian DMA address, written
 *                                 as two 32-bit halves (high at +0, low at +4;
 *                                 the low write starts the transfer) or one
 *                                 64-bit write at +0. Reads return "QEMU CFG".
 * Items are numbered (key < 0x20, or 0x8000 | n for x86-local ones) or named
 * files (selectors 0x20.. in name order, listed by FW_CFG_FILE_DIR).
 * Thread-safe: one mutex per device, held during a guest access. */
#ifndef MYVMM_FW_CFG_H
#define MYVMM_FW_CFG_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/bus.h"

struct guest_mem;
struct acpi_config;

#define PORT_FW_CFG_LEN   2
#define PORT_FW_CFG_DMA_LEN 8

/* Numbered items (fw_cfg.rst "Selector Register" / QEMU's fw_cfg_keys.h). */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NOGRAPHIC  0x0004
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_MAX_CPUS   0x000f
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000

#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA         0x2

/* FWCfgDmaAccess.control bits. */
#define FW_CFG_DMA_ERROR  0x01
#define FW_CFG_DMA_READ   0x02
#define FW_CFG_DMA_SKIP   0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE  0x10

#define FW_CFG_MAX_FILES  128
#define FW_CFG_NAME_LEN   56      /* including the NUL */
#define FW_CFG_MAX_ITEM   (16u << 20) /* sanity cap on one item's size */

/* BIOSLinker / SeaBIOS romfile_loader command format (128 bytes, LE). */
#define FW_CFG_LOADER_CMD_LEN       128
#define FW_CFG_LOADER_ALLOCATE      1
#define FW_CFG_LOADER_ADD_POINTER   2
#define FW_CFG_LOADER_ADD_CHECKSUM  3
#define FW_CFG_LOADER_ZONE_HIGH     1
#define FW_CFG_LOADER_ZONE_FSEG     2

struct fw_cfg;

/* Creates the device with SIGNATURE, ID (traditional + DMA) and an empty
 * file directory. mem is used for DMA only (may be NULL: DMA then always
 * reports ERROR). Returns NULL on allocation failure. */
struct fw_cfg *fw_cfg_create(const struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *fc);

/* Adds or replaces numbered item key (not a file selector, not FILE_DIR)
 * with a copy of data. 0, -EINVAL, -ENOMEM, -ENOSPC. */
int fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len);
/* Little-endian integer items (RAM_SIZE le64, NB_CPUS le16, ...). */
int fw_cfg_add_u16(struct fw_cfg *fc, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *fc, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *fc, uint16_t key, uint64_t v);
/* Adds a named file with a copy of data (len may be 0). Selectors are
 * renumbered so the directory stays sorted by name: add all files before the
 * guest starts. -EEXIST for a duplicate name, -EINVAL for an empty or too
 * long (>= 56) name, -ENOSPC when full, -ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len);
/* Current selector of file name, or -ENOENT. */
int fw_cfg_file_select(struct fw_cfg *fc, const char *name);

/* Builds etc/acpi/tables (FACS, DSDT, FADT, MADT, [MCFG], XSDT, RSDT with
 * pointers as offsets into the blob), etc/acpi/rsdp and etc/table-loader
 * (ALLOCATE rsdp in FSEG and tables in HIGH memory, ADD_POINTER for every
 * pointer, ADD_CHECKSUM for every table) and adds the three files.
 * 0 or -errno (-EINVAL for a bad config). */
int fw_cfg_build_acpi(const struct acpi_config *cfg, struct fw_cfg *fc);

/* Bus ops: register fw_cfg_io_ops at PORT_FW_CFG (len PORT_FW_CFG_LEN) and
 * fw_cfg_dma_ops at PORT_FW_CFG_DMA (len PORT_FW_CFG_DMA_LEN), opaque = fc. */
extern const struct bus_ops fw_cfg_io_ops;
extern const struct bus_ops fw_cfg_dma_ops;
#endif
