/* Firmware boot (--boot disk): SeaBIOS on a machine it recognises as QEMU's
 * i440FX "pc". Owns everything that only exists in that mode:
 *  - the BIOS ROM: mapped read-only (KVM_MEM_READONLY when the host has it)
 *    at 4 GiB - size, and its last 128 KiB copied into RAM at 0xE0000-0xFFFFF
 *    (plain RAM, so POST may write its shadow without PAM emulation);
 *  - the PIIX functions at slot 1: PIIX3 ISA 00:01.0 (PIRQ, ELCR), PIIX IDE
 *    00:01.1 (--disk ...,if=ide, up to 4: hda..hdd) and PIIX4 PM 00:01.3
 *    (PMBA moves the ACPI PM block on the PIO bus);
 *  - the 8237 DMA port stubs, fw_cfg (QEMU layout: RAM size, CPUs, e820,
 *    bootorder, no-graphics, serial console, our ACPI tables through the
 *    table-loader files) and the CMOS memory/CPU/boot-order bytes.
 * The vCPU starts at the reset vector (BOOT_REAL_RESET). */
#ifndef MYVMM_VM_FIRMWARE_H
#define MYVMM_VM_FIRMWARE_H
#include <stdbool.h>

#include "host/err.h"

struct vm;
struct acpi_config;

/* PCI slot SLOT_PIIX, memslot MEMSLOT_BIOS and the ports are in pc_map.h. */
#define VM_FW_DEFAULT_BIOS  "/usr/share/seabios/bios-256k.bin"
#define VM_FW_FALLBACK_BIOS "/usr/share/seabios/bios.bin"
#define VM_FW_ROM_MAX       (16u << 20)
#define VM_FW_ISA_BIOS_SIZE (128u << 10) /* alias of the ROM's top at 0xE0000 */

/* The "firmware" step (machine_priv.h), a no-op unless config_boot_firmware():
 * after the PCI bus and the PM device exist, creates the PIIX functions,
 * IDE (opening the if=ide disks like every disk: type-checked and locked),
 * DMA stubs and fw_cfg, and registers their ports. Stores its state in
 * vm->fw. 0 or -errno with one line in err. vm_firmware_destroy frees it. */

/* Instead of loading a kernel: reads and maps the BIOS ROM, fills fw_cfg
 * (ACPI tables from ac, which must use the PM base SeaBIOS programs,
 * PORT_PM_BASE), sets the CMOS fields and the reset-vector entry.
 * 0 or -errno with one line in err. */
int vm_firmware_load(struct vm *vm, const struct acpi_config *ac, struct err *err);
#endif
