/* Constants shared by the assembly files. */
#ifndef TK_ASM_H
#define TK_ASM_H
#define TK_MAX_CPUS   32
#define TK_TRAMP_BASE 0x10000
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18
#define GDT_CODE32 0x00cf9a000000ffff
#define GDT_DATA   0x00cf92000000ffff
#define GDT_CODE64 0x00af9a000000ffff
#endif
