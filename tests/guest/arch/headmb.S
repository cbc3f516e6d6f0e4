/* Multiboot v1 header and entry (testkernel.mb.elf only): the loader enters
 * in 32-bit flat protected mode with EAX = 0x2BADB002, EBX = multiboot info.
 * No address fields (flag 16 clear): the loader uses the ELF headers. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003     /* page-align modules, memory info */

	.section .mbheader, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .head, "ax"
	.code32
	.globl mb_start
mb_start:
	cli
	movl %eax, %esi
	jmp start32_common
