/* gdb stub: guest-virtual translation through hand-built page tables for
 * every paging mode, and the debug-register allocation (DR7 encoding). */
#include <errno.h>
#include <string.h>

#include "check_util.h"
#include "gdb/bp.h"
#include "gdb/mmu.h"

#define RAM (4u << 20)
static uint8_t ram[RAM];

static int rd(void *opaque, uint64_t gpa, void *buf, unsigned len)
{
	if (gpa >= RAM || len > RAM - gpa)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static void put32(uint64_t at, uint32_t v) { memcpy(ram + at, &v, 4); }
static void put64(uint64_t at, uint64_t v) { memcpy(ram + at, &v, 8); }

#define CR0_PG (1ULL << 31)
#define CR0_PE 1ULL
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define EFER_LMA (1ULL << 10)
#define P 1ULL
#define W 2ULL
#define PS 0x80ULL

static int tr(const struct gdb_mmu *m, uint64_t va, uint64_t *gpa, uint64_t *left)
{
	return gdb_mmu_translate(m, va, rd, NULL, gpa, left);
}

START_TEST(paging_off)
{
	struct gdb_mmu m = { .cr0 = CR0_PE };
	uint64_t gpa, left;
	ck_assert_int_eq(tr(&m, 0x100ff8, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x100ff8);
	ck_assert_uint_eq(left, 8);
	ck_assert_int_eq(tr(&m, 0x100000000ULL, &gpa, &left), -EINVAL);
}
END_TEST

START_TEST(legacy32)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PSE };
	uint64_t gpa, left;
	memset(ram, 0, RAM);
	/* 0xc0001000 -> PDE 0x300 -> PT at 0x2000, PTE 1 -> 0x5000 */
	put32(0x1000 + 0x300 * 4, 0x2000 | P | W);
	put32(0x2000 + 1 * 4, 0x5000 | P);
	ck_assert_int_eq(tr(&m, 0xc0001234, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x5234);
	ck_assert_uint_eq(left, 0x1000 - 0x234);
	/* not present PTE */
	ck_assert_int_eq(tr(&m, 0xc0002000, &gpa, &left), -EFAULT);
	/* 4 MiB page (PSE) at PDE 1 -> 0x00400000 */
	put32(0x1000 + 1 * 4, 0x00400000 | P | PS);
	ck_assert_int_eq(tr(&m, 0x00412345, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x00412345);
	ck_assert_uint_eq(left, 0x400000 - 0x12345);
	/* without CR4.PSE the PS bit is ignored: the "PT" at 0x400000 is outside RAM */
	m.cr4 = 0;
	ck_assert_int_eq(tr(&m, 0x00412345, &gpa, &left), -EFAULT);
}
END_TEST

START_TEST(pae)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1020, .cr4 = CR4_PAE };
	uint64_t gpa, left;
	memset(ram, 0, RAM);
	/* PDPT at 0x1020 (32-byte aligned): entry 3 -> PD 0x3000 */
	put64(0x1020 + 3 * 8, 0x3000 | P);
	put64(0x3000 + 1 * 8, 0x4000 | P);         /* PDE 1 -> PT 0x4000 */
	put64(0x4000 + 2 * 8, 0x7000 | P);         /* PTE 2 -> 0x7000 */
	ck_assert_int_eq(tr(&m, 0xc0202abc, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x7abc);
	put64(0x3000 + 2 * 8, 0x200000 | P | PS);  /* 2 MiB page */
	ck_assert_int_eq(tr(&m, 0xc0412345, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x212345);
	ck_assert_uint_eq(left, 0x200000 - 0x12345);
	ck_assert_int_eq(tr(&m, 0x00001000, &gpa, &left), -EFAULT); /* PDPTE 0 absent */
}
END_TEST

START_TEST(long4)
{
	struct gdb_mmu m = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE, .efer = EFER_LMA };
	uint64_t gpa, left, va = 0xffffffff81234567ULL;
	memset(ram, 0, RAM);
	/* PML4[511] -> PDPT 0x2000; PDPT[510] -> PD 0x3000; PD[9] -> PT 0x4000; PT[0x34] -> 0x9000 */
	put64(0x1000 + 511 * 8, 0x2000 | P | W);
	put64(0x2000 + 510 * 8, 0x3000 | P | W);
	put64(0x3000 + 9 * 8, 0x4000 | P | W);
	put64(0x4000 + 0x34 * 8, 0x9000 | P | (1ULL << 63)); /* NX set: still readable */
	ck_assert_int_eq(tr(&m, va, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x9567);
	/* 2 MiB page at PD[10] */
	put64(0x3000 + 10 * 8, 0x200000 | P | PS | (1ULL << 12) /* PAT */);
	ck_assert_int_eq(tr(&m, 0xffffffff81400010ULL, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x200010);
	/* 1 GiB page at PDPT[0] (through PML4[0]) */
	put64(0x1000, 0x5000 | P);
	put64(0x5000, 0x40000000 | P | PS);
	ck_assert_int_eq(tr(&m, 0x12345678, &gpa, &left), 0);
	ck_assert_uint_eq(gpa, 0x52345678);
	ck_assert_uint_eq(left, 0x40000000 - 0x12345678);
	/* non-canonical */
	ck_assert_int_eq(tr(&m, 0x0000800000000000ULL, &gpa, &left), -EINVAL);
	/* a table pointer outside RAM */
	put64(0x1000 + 8, 0x7fff0000ULL | P);
	ck_assert_int_eq(tr(&m, 0x0000008000000000ULL, &gpa, &left), -EFAULT);
}
END_TEST

START_TEST(debugregs)
{
	struct gdb_bps b;
	uint64_t dr[8];
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_BP_HW, 0x100470, 1), 0);
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_BP_HW, 0x100470, 1), 0); /* again: same slot */
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_WP_WRITE, 0x2000, 4), 0);
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_WP_ACCESS, 0x3000, 8), 0);
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_BP_SW, 0x100500, 1), 0);
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_BP_SW, 0x100600, 1), -ENOSPC);
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_WP_WRITE, 0x2001, 4), -EINVAL); /* unaligned */
	ck_assert_int_eq(gdb_bp_insert(&b, GDB_WP_WRITE, 0x2000, 3), -EINVAL);
	gdb_bp_debugregs(&b, dr);
	ck_assert_uint_eq(dr[0], 0x100470);
	ck_assert_uint_eq(dr[1], 0x2000);
	ck_assert_uint_eq(dr[2], 0x3000);
	ck_assert_uint_eq(dr[3], 0x100500);
	/* G0-G3, bit 10; slot 1 RW=01 LEN=11 (4); slot 2 RW=11 LEN=10 (8); 0 and 3 exec */
	ck_assert_uint_eq(dr[7], 0x400 | 0xaa | (0xdULL << 20) | (0xbULL << 24));
	ck_assert_int_eq(gdb_bp_hit(&b, 0xffff0ff2), 1);
	ck_assert_int_eq(gdb_bp_hit(&b, 0xffff4ff0), -1); /* BS only: a step */
	gdb_bp_remove(&b, GDB_WP_WRITE, 0x2000, 4);
	gdb_bp_remove(&b, GDB_BP_HW, 0x9999, 1); /* absent: fine */
	ck_assert_int_eq(gdb_bp_hit(&b, 0x2), -1);
	gdb_bp_debugregs(&b, dr);
	ck_assert_uint_eq(dr[1], 0);
	ck_assert_uint_eq(dr[7] & (3u << 2), 0);
	ck_assert(gdb_bp_any(&b));
	gdb_bp_remove(&b, GDB_BP_HW, 0x100470, 1);
	gdb_bp_remove(&b, GDB_WP_ACCESS, 0x3000, 8);
	gdb_bp_remove(&b, GDB_BP_SW, 0x100500, 1);
	ck_assert(!gdb_bp_any(&b));
}
END_TEST

CHECK_MAIN("gdb_mmu", paging_off, legacy32, pae, long4, debugregs)
