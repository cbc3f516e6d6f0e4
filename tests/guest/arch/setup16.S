/* bzImage real-mode part: boot sector fields and the setup header
 * (Documentation/arch/x86/boot.rst, protocol 2.15), then a small real-mode
 * setup used only when a loader enters through the 16-bit entry (QEMU's
 * linuxboot ROM does): it builds a zero page with the BIOS E820 map, enters
 * long mode on a temporary 1 GiB identity map and jumps to the 64-bit entry
 * at 0x100200. VMMs using the 64-bit entry never run it.
 * Working memory (offsets from the setup segment): 0x1000 zero page,
 * 0x2000 PML4, 0x3000 PDPT, 0x4000 PD. */
#include "tk_asm.h"

	.section .setup, "ax"
	.code16
	.org 0x1f1
setup_sects:	.byte __setup_sects
root_flags:	.word 0
syssize:	.long __syssize
ram_size:	.word 0
vid_mode:	.word 0xffff
root_dev:	.word 0
boot_flag:	.word 0xaa55
	/* 0x200 */
	.byte 0xeb, start_of_setup - 1f
1:
header:		.ascii "HdrS"
version:	.word 0x020f
realmode_swtch:	.long 0
start_sys_seg:	.word 0x1000
kernel_version:	.word kver - 0x200
type_of_loader:	.byte 0
loadflags:	.byte 0x01              /* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:	.long 0x100000
ramdisk_image:	.long 0
ramdisk_size:	.long 0
bootsect_kludge: .long 0
heap_end_ptr:	.word 0
ext_loader_ver:	.byte 0
ext_loader_type: .byte 0
cmd_line_ptr:	.long 0
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x100000
relocatable_kernel: .byte 0
min_alignment:	.byte 12
xloadflags:	.word 0x0001            /* XLF_KERNEL_64 */
cmdline_size:	.long 4095
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset:	.long 0
payload_length:	.long 0
setup_data:	.quad 0
pref_address:	.quad 0x100000
init_size:	.long __init_size
handover_offset: .long 0
kernel_info_offset: .long 0
	.org 0x26c
kver:	.asciz "myvmm test kernel"

start_of_setup:
	cli
	cld
	movw %ds, %ax
	movw %ax, %es
	/* zero the work area 0x1000..0x4fff */
	movw $0x1000, %di
	movw $0x4000, %cx
	xorb %al, %al
	rep stosb
	/* copy the (loader-patched) setup header into the zero page */
	movw $0x1f1, %si
	movw $0x11f1, %di
	movw $0x26c - 0x1f1, %cx
	rep movsb
	/* BIOS E820 into zero page e820_table (0x2d0), count at 0x1e8 */
	xorl %ebx, %ebx
	movw $0x12d0, %di
	xorw %bp, %bp
2:	movl $0xe820, %eax
	movl $0x534d4150, %edx
	movl $20, %ecx
	int $0x15
	jc 3f
	cmpl $0x534d4150, %eax
	jne 3f
	incw %bp
	addw $20, %di
	cmpw $128, %bp
	jae 3f
	testl %ebx, %ebx
	jnz 2b
3:	movw %bp, %ax
	movb %al, 0x11e8
	/* linear base of the setup segment in %ebp */
	xorl %ebp, %ebp
	movw %ds, %bp
	shll $4, %ebp
	/* page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD: 512 x 2 MiB */
	leal 0x3003(%ebp), %eax
	movl %eax, 0x2000
	leal 0x4003(%ebp), %eax
	movl %eax, 0x3000
	movl $0x83, %eax
	movw $0x4000, %di
4:	movl %eax, (%di)
	addl $0x200000, %eax
	addw $8, %di
	cmpw $0x5000, %di
	jb 4b
	/* fix up the GDT descriptor base and the far pointer, then go */
	leal rm_gdt(%ebp), %eax
	movl %eax, rm_gdt_desc + 2
	leal rm_long(%ebp), %eax
	movl %eax, rm_farptr
	lgdtl rm_gdt_desc
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	leal 0x2000(%ebp), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ljmpl *rm_farptr

	.code64
rm_long:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	leaq 0x1000(%rbp), %rsi
	movl $0x100200, %eax
	jmp *%rax

	.balign 8
rm_gdt:
	.quad 0
	.quad GDT_CODE32
	.quad GDT_DATA
	.quad GDT_CODE64
rm_gdt_desc:
	.word rm_gdt_desc - rm_gdt - 1
	.long 0
rm_farptr:
	.long 0
	.word SEL_CODE64
