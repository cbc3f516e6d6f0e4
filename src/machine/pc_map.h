/* The map of the myvmm "pc" machine: every fixed guest-physical address,
 * I/O port, interrupt line, PCI slot and KVM memory slot the VMM uses is
 * defined here and nowhere else. Device models take their addresses from
 * the machine (src/machine/), which reads them from this file; register
 * block lengths stay with each device. */
#ifndef MYVMM_PC_MAP_H
#define MYVMM_PC_MAP_H

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Low memory, below 1 MiB. */
#define LAYOUT_BOOT_GDT        0x00000500ULL /* 6 descriptor slots, 48 bytes       */
#define LAYOUT_BOOT_IDT        0x00000530ULL /* empty IDT (limit 0)                */
#define LAYOUT_PVH_START_INFO  0x00006000ULL /* struct hvm_start_info              */
#define LAYOUT_PVH_MEMMAP      0x00006100ULL /* hvm_memmap_table_entry[], <=64     */
#define LAYOUT_PVH_MODLIST     0x00006900ULL /* hvm_modlist_entry[] (initrd)       */
#define LAYOUT_ZERO_PAGE       0x00007000ULL /* struct boot_params (4 KiB)         */
#define LAYOUT_PML4            0x00009000ULL /* identity page tables: PML4         */
#define LAYOUT_PDPT            0x0000a000ULL /*  one PDPT                          */
#define LAYOUT_PD              0x0000b000ULL /*  four PDs (2 MiB pages, 4 GiB)     */
#define LAYOUT_BOOT_STACK      0x00009000ULL /* initial RSP: grows into 0x8000-0x8fff */
#define LAYOUT_CMDLINE         0x00020000ULL /* kernel command line                */
#define LAYOUT_CMDLINE_MAX     0x00010000ULL /* 64 KiB, bytes incl. NUL            */
#define LAYOUT_EBDA_START      0x0009fc00ULL /* reserved from here ...             */
#define LAYOUT_LOWMEM_END      0x000a0000ULL /* ... to the VGA hole                */
#define LAYOUT_ACPI_BASE       0x000e0000ULL /* RSDP + tables, BIOS area (reserved)*/
#define LAYOUT_ACPI_SIZE       0x00020000ULL /* up to 1 MiB                         */
#define LAYOUT_HIGHMEM_START   0x00100000ULL /* 1 MiB: protected-mode kernel       */
/* Multiboot v1 boot information (loader/multiboot.c), 0x1000-0x1fff. */
#define LAYOUT_MB_INFO         0x00001000ULL /* struct multiboot_info             */
#define LAYOUT_MB_MODS         0x00001100ULL /* module list (initrd), 16 B each    */
#define LAYOUT_MB_STRINGS      0x00001180ULL /* loader name, module string         */
#define LAYOUT_MB_MMAP         0x00001200ULL /* mmap entries (24 B) to 0x1fff      */
#define LAYOUT_MB_MMAP_END     0x00002000ULL

/* The 32-bit hole for PCI MMIO and chipset devices: RAM that would lie here is
 * relocated above 4 GiB. */
#define LAYOUT_MMIO_HOLE_START 0xc0000000ULL /* 3 GiB                              */
#define LAYOUT_MMIO_HOLE_END   0x100000000ULL
#define LAYOUT_PCI_MMIO_START  0xc0000000ULL /* PCI 32-bit BAR window              */
#define LAYOUT_PCI_MMIO_END    0xe0000000ULL /* exclusive                          */
#define LAYOUT_PCIE_ECAM       0xe0000000ULL /* reserved for MMCONFIG (256 MiB)    */
#define LAYOUT_KVM_IDENT_MAP   0xfeffc000ULL /* KVM_SET_IDENTITY_MAP_ADDR (1 page) */
#define LAYOUT_KVM_TSS         0xfeffd000ULL /* KVM_SET_TSS_ADDR (3 pages)         */
#define LAYOUT_IOAPIC          0xfec00000ULL
#define LAYOUT_LAPIC           0xfee00000ULL
#define LAYOUT_HIGH_RAM_START  0x100000000ULL

/* Port I/O map. */
#define PORT_DEBUG_EXIT        0x00f4 /* QEMU isa-debug-exit compatible, 4 bytes   */
#define PORT_BOOT_MARKER       0x00f0 /* guest writes: "reached userspace" marker  */
#define PORT_PM_BASE           0x0600 /* ACPI PM1a_EVT (4), PM1a_CNT (2), PM_TMR(4) */
#define PORT_PM1A_EVT          (PORT_PM_BASE + 0x0)
#define PORT_PM1A_CNT          (PORT_PM_BASE + 0x4)
#define PORT_PM_TMR            (PORT_PM_BASE + 0x8)
#define PORT_PM_LEN            0x000c
#define PORT_PCI_CONFIG        0x0cf8 /* CONFIG_ADDRESS/0xCF9 reset/CONFIG_DATA    */
#define PORT_RESET_CTRL        0x0cf9
#define PORT_COM1              0x03f8
#define PORT_RTC               0x0070
#define PORT_I8042_DATA        0x0060
#define PORT_I8042_CMD         0x0064
#define PORT_POST              0x0080 /* POST codes                                */
#define PORT_IO_DELAY          0x00ed
#define PORT_A20_FAST          0x0092 /* port 92: fast A20 + fast reset            */
#define PORT_DMA1              0x0000 /* 8237 #1 (16 ports)                        */
#define PORT_DMA_PAGE          0x0081 /* page registers (15 ports)                 */
#define PORT_DMA2              0x00c0 /* 8237 #2 (32 ports)                        */
#define PORT_ELCR              0x04d0 /* PIIX3 edge/level control (2)              */
#define PORT_IDE0_CMD          0x01f0 /* primary channel command block (8)         */
#define PORT_IDE0_CTL          0x03f6 /* primary channel control (1)               */
#define PORT_IDE1_CMD          0x0170
#define PORT_IDE1_CTL          0x0376
#define PORT_BIOS_DEBUG        0x0402 /* SeaBIOS/QEMU debugcon (firmware boot)     */
#define PORT_FW_CFG            0x0510 /* selector + data (2)                       */
#define PORT_FW_CFG_DMA        0x0514 /* DMA address (8)                           */

/* Interrupt lines (GSIs on the IOAPIC; ISA IRQs on the PIC). */
#define IRQ_COM1               4
#define IRQ_RTC                8
#define IRQ_SCI                9
#define IRQ_KBD                1
#define IRQ_MOUSE              12
#define IRQ_IDE0               14
#define IRQ_IDE1               15
#define IRQ_ISA_LINES          16 /* ISA IRQs 0-15 (PCI INTx is GSI 16-19)   */

/* PCI slots on bus 0 (slot 0 is the host bridge). */
#define SLOT_PIIX              1  /* firmware boot: 00:01.0 ISA, .1 IDE, .3 PM  */
#define SLOT_RNG               1  /* kernel boot                               */
#define SLOT_PVPANIC           2
#define SLOT_CONSOLE           3  /* --console virtio                          */
#define SLOT_DISK0             4  /* --disk i with if=virtio at 4 + i (16)     */
#define SLOT_NET               20 /* --net user                                */
#define SLOT_VSOCK             21 /* --vsock                                   */
#define SLOT_DISPLAY           24 /* bochs-display                             */
#define SLOT_FS0               25 /* --share/--vhost-user-fs i at 25 + i (4)   */
#define SLOT_RNG_FW            30 /* firmware boot: slot 1 is the PIIX         */

/* KVM memory slot ids. */
#define MEMSLOT_RAM0           0  /* guest RAM: 0 .. GMEM_MAX_REGIONS-1 (8)    */
#define MEMSLOT_VRAM           32 /* bochs-display BAR0, dirty-logged          */
#define MEMSLOT_BIOS           33 /* BIOS ROM below 4 GiB (firmware boot)      */

#define VMM_MAX_CPUS           255 /* xAPIC IDs 0..254 (0xff is broadcast) */

#endif
