/* Page-table walks for the debugger (see mmu.h). */
#include "gdb/mmu.h"

#include <errno.h>
#include <stdbool.h>

#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)
#define PTE_P (1ULL << 0)
#define PTE_PS (1ULL << 7)
#define ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

int gdb_mmu_translate(const struct gdb_mmu *m, uint64_t va, gdb_phys_read rd, void *opaque,
		      uint64_t *gpa, uint64_t *left)
{
	unsigned levels, shift, bits, esize;
	uint64_t table, entry = 0;
	bool lm = m->efer & EFER_LMA;

	if (!(m->cr0 & CR0_PG)) {
		if (!lm && va > 0xffffffffULL)
			return -EINVAL;
		*gpa = va;
		*left = 4096 - (va & 4095);
		return 0;
	}
	if (lm) {
		levels = (m->cr4 & CR4_LA57) ? 5 : 4;
		unsigned vbits = 12 + 9 * levels; /* 48 or 57 */
		int64_t sx = (int64_t)(va << (64 - vbits)) >> (64 - vbits);
		if ((uint64_t)sx != va)
			return -EINVAL; /* non-canonical */
		bits = 9;
		esize = 8;
		table = m->cr3 & ADDR_MASK;
	} else if (m->cr4 & CR4_PAE) {
		if (va > 0xffffffffULL)
			return -EINVAL;
		/* The PDPT: four 8-byte entries at CR3[31:5]. */
		uint64_t pdpte;
		if (rd(opaque, (m->cr3 & 0xffffffe0ULL) + ((va >> 30) & 3) * 8, &pdpte, 8))
			return -EFAULT;
		if (!(pdpte & PTE_P))
			return -EFAULT;
		levels = 2;
		bits = 9;
		esize = 8;
		table = pdpte & ADDR_MASK;
	} else {
		if (va > 0xffffffffULL)
			return -EINVAL;
		levels = 2;
		bits = 10;
		esize = 4;
		table = m->cr3 & 0xfffff000ULL;
	}
	shift = 12 + bits * (levels - 1);
	for (unsigned l = levels; l >= 1; l--, shift -= bits) {
		uint64_t idx = (va >> shift) & ((1ULL << bits) - 1);
		uint32_t e32;
		if (esize == 4) {
			if (rd(opaque, table + idx * 4, &e32, 4))
				return -EFAULT;
			entry = e32;
		} else if (rd(opaque, table + idx * 8, &entry, 8)) {
			return -EFAULT;
		}
		if (!(entry & PTE_P))
			return -EFAULT;
		/* Large pages: PDE (level 2) with PS; PDPTE (level 3) in long mode.
		 * 32-bit paging needs CR4.PSE for 4 MiB pages. */
		bool large = l > 1 && (entry & PTE_PS) && (l == 2 || (lm && l == 3)) &&
			     (esize == 8 || (m->cr4 & CR4_PSE));
		if (large || l == 1) {
			uint64_t size = 1ULL << shift, base;
			if (esize == 4)
				base = large ? (entry & 0xffc00000ULL) : (entry & 0xfffff000ULL);
			else
				base = entry & ADDR_MASK & ~(size - 1);
			*gpa = base + (va & (size - 1));
			*left = size - (va & (size - 1));
			return 0;
		}
		table = esize == 4 ? (entry & 0xfffff000ULL) : (entry & ADDR_MASK);
	}
	return -EFAULT;
}
