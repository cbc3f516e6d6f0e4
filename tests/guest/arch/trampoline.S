/* AP trampoline, copied to TK_TRAMP_BASE (SIPI vector 0x10): real mode ->
 * 32-bit protected mode -> (64-bit build) long mode on the BSP's page
 * tables, then jumps to the kernel's ap_entry32/ap_entry64. Only
 * position-independent or TK_TRAMP_BASE-relative addressing inside. */
#include "tk_asm.h"

#define T(x) (TK_TRAMP_BASE + (x) - tramp_start)

	.section .rodata
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $T(tramp32)

	.code32
tramp32:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
#ifdef __x86_64__
	movl %cr4, %eax
	orl $0x20, %eax         /* PAE */
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx  /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $T(tramp64)
	.code64
tramp64:
	movabsq $ap_entry64, %rax
	jmp *%rax
#else
	movl $ap_entry32, %eax
	jmp *%eax
#endif

	.balign 8
tramp_gdt:
	.quad 0
	.quad GDT_CODE32
	.quad GDT_DATA
	.quad GDT_CODE64
tramp_gdt_desc:
	.word tramp_gdt_desc - tramp_gdt - 1
	.long T(tramp_gdt)
tramp_end:
