/* Boot GDT and identity page tables shared by all kernel entry modes. */
#include <errno.h>
#include <string.h>
#include "loader/loader.h"
#include "machine/pc_map.h"

/* Flat descriptors (Intel SDM vol. 3, 3.4.5): base 0, limit 0xFFFFF, G=1. */
#define GDT_CODE32 0x00cf9a000000ffffULL /* P, DPL0, S, code exec/read, D=1 */
#define GDT_CODE64 0x00af9a000000ffffULL /* as above with L=1, D=0 */
#define GDT_DATA   0x00cf92000000ffffULL /* P, DPL0, S, data read/write, B=1 */
#define GDT_TSS64  0x00008b0000000067ULL /* 64-bit TSS, busy (type 0xB), limit 0x67 */

int boot_write_gdt(struct guest_mem *m)
{
	uint64_t gdt[BOOT_GDT_ENTRIES] = { 0 };

	gdt[BOOT_SEL_CODE32 >> 3] = GDT_CODE32;
	gdt[BOOT_SEL_CODE64 >> 3] = GDT_CODE64;
	gdt[BOOT_SEL_DATA >> 3] = GDT_DATA;
	gdt[BOOT_SEL_TSS >> 3] = GDT_TSS64;
	gdt[(BOOT_SEL_TSS >> 3) + 1] = 0; /* base 63:32 = 0 */
	return gmem_write(m, LAYOUT_BOOT_GDT, gdt, sizeof(gdt));
}

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

int boot_write_pagetables(struct guest_mem *m)
{
	uint64_t *pml4 = gmem_ptr(m, LAYOUT_PML4, 4096);
	uint64_t *pdpt = gmem_ptr(m, LAYOUT_PDPT, 4096);
	uint64_t *pd = gmem_ptr(m, LAYOUT_PD, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}
