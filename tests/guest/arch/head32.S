/* PVH entry (32-bit flat protected mode, paging off, EBX = hvm_start_info),
 * the common 32-bit start used by headmb.S too,
 * and the 32-bit AP entry reached from the trampoline. */
#include "tk_asm.h"

	.section .note.Xen, "a", @note
	.balign 4
	.long 4                 /* namesz: "Xen\0" */
	.long 4                 /* descsz */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long pvh_start

	.section .head, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	xorl %esi, %esi         /* not multiboot */
	.globl start32_common
start32_common:                 /* ESI = EAX at a multiboot entry, EBX = info */
	cli
	cld
	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $bsp_stack_top, %esp
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	/* Each emulated store costs ~0.5 us here: clear 4 bytes at a time. */
	movl %ecx, %edx
	shrl $2, %ecx
	rep stosl
	movl %edx, %ecx
	andl $3, %ecx
	rep stosb
	pushl %ebx
	pushl %esi
	call boot32_main
2:	cli
	hlt
	jmp 2b

	.globl ap_entry32
ap_entry32:
	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $1, %eax
	lock xaddl %eax, ap_next
	cmpl $TK_MAX_CPUS, %eax
	jae 2f
	incl %eax
	shll $12, %eax
	addl $ap_stacks, %eax
	movl %eax, %esp
	call ap_main
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 16
gdt:
	.quad 0
	.quad GDT_CODE32
	.quad GDT_DATA
	.quad GDT_CODE64
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
	.space 16384
bsp_stack_top:
