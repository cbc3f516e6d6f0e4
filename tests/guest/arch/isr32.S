/* 32-bit interrupt entry stubs. They return without IRET (this host's KVM
 * cannot emulate it): the saved EFLAGS and EIP are rearranged so that
 * POPF; RET resumes the interrupted code (same CS, ring 0, no stack switch). */

.macro ISR name, handler
	.globl \name
\name:
	pushal
	cld
	call \handler
	popal
	pushl %eax              /* [eax][eip][cs][eflags] */
	movl 4(%esp), %eax
	xchgl %eax, 12(%esp)    /* [eax][eip][cs][eip], eax = eflags */
	movl %eax, 8(%esp)      /* [eax][eip][eflags][eip] */
	popl %eax
	addl $4, %esp           /* [eflags][eip] */
	popfl
	ret
.endm

	.text
	.code32
	ISR isr_exception_stub, irq_exception
	ISR isr_pic_stub, irq_pic
	ISR isr_com1_stub, irq_com1
