/* Linux 64-bit boot protocol entry (at load address + 0x200: long mode,
 * RSI = zero page) and the 64-bit AP entry. Builds its own 4 GiB identity
 * map with 2 MiB pages (the top GiB uncached: MMIO) and its own GDT. */
#include "tk_asm.h"

	.section .head, "ax"
	.code32
	.globl startup_32
startup_32:                     /* 32-bit entry: not supported */
	cli
	hlt
	jmp startup_32

	.org 0x200
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movq %rsi, %r15
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
	/* PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3]; PD: 2048 x 2 MiB */
	movl $pdpt, %eax
	orl $3, %eax
	movl %eax, pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $pd, %eax
	orl $3, %eax
	movl %eax, pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movq %rcx, %rax
	shlq $21, %rax
	orq $0x83, %rax         /* P RW PS */
	cmpl $1536, %ecx
	jb 3f
	orq $0x18, %rax         /* PWT PCD for 3..4 GiB */
3:	movq %rax, pd(,%rcx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b
	movl $pml4, %eax
	movq %rax, %cr3
	lgdt gdt_desc64
	movl $bsp_stack_top, %esp
	pushq $SEL_CODE64
	pushq $4f
	lretq
4:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq %r15, %rdi
	call linux_main
5:	cli
	hlt
	jmp 5b

	.globl ap_entry64
ap_entry64:
	lgdt gdt_desc64
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next
	cmpl $TK_MAX_CPUS, %eax
	jae 6f
	incl %eax
	shll $12, %eax
	addl $ap_stacks, %eax
	movl %eax, %esp
	call ap_main
6:	cli
	hlt
	jmp 6b

	.section .rodata
	.balign 16
gdt64:
	.quad 0
	.quad GDT_CODE32
	.quad GDT_DATA
	.quad GDT_CODE64
gdt64_end:
gdt_desc64:
	.word gdt64_end - gdt64 - 1
	.quad gdt64

	.section .bss
	.balign 4096
	.globl pml4
pml4:	.space 4096
pdpt:	.space 4096
pd:	.space 4 * 4096
	.balign 16
	.space 16384
bsp_stack_top:
