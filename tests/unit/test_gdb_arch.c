/* gdb stub: the i386 / x86-64 register layouts over KVM's structures. */
#include <string.h>

#include "check_util.h"
#include "gdb/arch.h"

START_TEST(layouts)
{
	ck_assert_uint_eq(gdb_arch_nregs(false), 41);
	ck_assert_uint_eq(gdb_arch_regs_size(false), 308);
	ck_assert_uint_eq(gdb_arch_nregs(true), 59);
	ck_assert_uint_eq(gdb_arch_regs_size(true), 552);
	ck_assert(strstr(gdb_arch_xml(false), "<architecture>i386</architecture>"));
	ck_assert(strstr(gdb_arch_xml(true), "<architecture>i386:x86-64</architecture>"));
	/* every register of the layout is named once in its description */
	ck_assert(strstr(gdb_arch_xml(false), "name=\"eip\""));
	ck_assert(!strstr(gdb_arch_xml(false), "name=\"rip\""));
	ck_assert(strstr(gdb_arch_xml(true), "name=\"xmm15\""));
	ck_assert(strstr(gdb_arch_xml(true), "name=\"gs_base\""));
	/* none of the characters the framing must escape */
	ck_assert(!strpbrk(gdb_arch_xml(true), "#$}*"));
	struct kvm_sregs s = { .efer = 1 << 10 };
	ck_assert(gdb_arch_is64(&s));
	s.efer = 1 << 8; /* LME without LMA: not yet in long mode */
	ck_assert(!gdb_arch_is64(&s));
}
END_TEST

START_TEST(get_set)
{
	struct gdb_cpu c;
	uint8_t b[16];
	bool fpu = false;
	memset(&c, 0, sizeof(c));
	c.regs.rax = 0x1122334455667788ULL;
	c.regs.rcx = 0xaabbccdd;
	c.regs.rsp = 0x7000;
	c.regs.rip = 0xffffffff81000000ULL;
	c.regs.rflags = 0x246;
	c.sregs.cs.selector = 0x10;
	c.fpu.ftwx = 0x01; /* st0 valid, the rest empty */
	c.fpu.mxcsr = 0x1f80;
	/* i386: eax ecx edx ebx esp ebp esi edi eip eflags cs ... */
	ck_assert_int_eq(gdb_arch_get(&c, false, 0, b), 4);
	ck_assert_uint_eq(b[0], 0x88);
	ck_assert_uint_eq(b[3], 0x55);
	ck_assert_int_eq(gdb_arch_get(&c, false, 1, b), 4);
	ck_assert_uint_eq(b[0], 0xdd);
	ck_assert_int_eq(gdb_arch_get(&c, false, 4, b), 4); /* esp */
	ck_assert_uint_eq(b[1], 0x70);
	ck_assert_int_eq(gdb_arch_get(&c, false, 10, b), 4); /* cs */
	ck_assert_uint_eq(b[0], 0x10);
	ck_assert_int_eq(gdb_arch_get(&c, false, 16, b), 10); /* st0 */
	ck_assert_int_eq(gdb_arch_get(&c, false, 26, b), 4); /* ftag */
	ck_assert_uint_eq(b[0] | b[1] << 8, 0xfffc);
	ck_assert_int_eq(gdb_arch_get(&c, false, 40, b), 4); /* mxcsr */
	ck_assert_uint_eq(b[0] | b[1] << 8, 0x1f80);
	ck_assert_int_eq(gdb_arch_get(&c, false, 41, b), -1);
	/* x86-64: rax rbx rcx rdx rsi rdi rbp rsp r8.. rip(16) eflags(17) */
	ck_assert_int_eq(gdb_arch_get(&c, true, 16, b), 8);
	ck_assert_uint_eq(b[7], 0xff);
	ck_assert_int_eq(gdb_arch_get(&c, true, 2, b), 8); /* rcx */
	ck_assert_uint_eq(b[0], 0xdd);
	ck_assert_int_eq(gdb_arch_get(&c, true, 17, b), 4);
	ck_assert_uint_eq(b[0], 0x46);
	/* a 32-bit write keeps the upper half; a 64-bit write replaces it */
	uint8_t v4[4] = { 1, 0, 0, 0 }, v8[8] = { 2, 0, 0, 0, 0, 0, 0, 0 };
	ck_assert_int_eq(gdb_arch_set(&c, false, 0, v4, 4, &fpu), 0);
	ck_assert_uint_eq(c.regs.rax, 0x1122334400000001ULL);
	ck_assert_int_eq(gdb_arch_set(&c, true, 0, v8, 8, &fpu), 0);
	ck_assert_uint_eq(c.regs.rax, 2);
	ck_assert(!fpu);
	ck_assert_int_eq(gdb_arch_set(&c, true, 0, v4, 4, &fpu), -1); /* wrong size */
	ck_assert_int_eq(gdb_arch_set(&c, true, 99, v8, 8, &fpu), -1);
	uint8_t x[16] = { 0xab };
	ck_assert_int_eq(gdb_arch_set(&c, true, 40, x, 16, &fpu), 0); /* xmm0 */
	ck_assert(fpu);
	ck_assert_uint_eq(c.fpu.xmm[0][0], 0xab);
}
END_TEST

CHECK_MAIN("gdb_arch", layouts, get_set)
