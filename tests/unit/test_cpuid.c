/* CPUID table patching: the brand string KVM leaves empty under nested SVM. */
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "vcpu/vcpu.h"

static struct kvm_cpuid2 *mktable(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 5 * sizeof(c->entries[0]));
	ck_assert_ptr_nonnull(c);
	c->nent = 5;
	c->entries[0].function = 0x80000000u;
	c->entries[0].eax = 0x80000008u;
	for (unsigned i = 0; i < 3; i++)
		c->entries[1 + i].function = 0x80000002u + i;
	c->entries[4].function = 1;
	c->entries[4].eax = 0x00a00f11u;
	return c;
}

static void brand_of(const struct kvm_cpuid2 *c, char out[49])
{
	for (unsigned i = 0; i < 3; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[1 + i];
		memcpy(out + i * 16 + 0, &e->eax, 4);
		memcpy(out + i * 16 + 4, &e->ebx, 4);
		memcpy(out + i * 16 + 8, &e->ecx, 4);
		memcpy(out + i * 16 + 12, &e->edx, 4);
	}
	out[48] = 0;
}

static const char BRAND[48] = "AMD EPYC 7B13 64-Core Processor                ";

START_TEST(fills_zero_brand)
{
	struct kvm_cpuid2 *c = mktable();
	uint32_t b[12];
	char s[49];

	memcpy(b, BRAND, sizeof(b));
	vcpu_cpuid_fill_brand(c, b);
	brand_of(c, s);
	ck_assert_mem_eq(s, BRAND, 48);
	ck_assert_uint_eq(c->entries[4].eax, 0x00a00f11u); /* other leaves untouched */
	free(c);
}
END_TEST

START_TEST(keeps_kvm_brand)
{
	struct kvm_cpuid2 *c = mktable();
	uint32_t b[12];
	char s[49];

	memcpy(&c->entries[1].eax, "KVM!", 4);
	memcpy(b, BRAND, sizeof(b));
	vcpu_cpuid_fill_brand(c, b);
	brand_of(c, s);
	ck_assert_mem_eq(s, "KVM!", 4);
	ck_assert_uint_eq(c->entries[2].eax, 0);
	free(c);
}
END_TEST

START_TEST(missing_leaves_ignored)
{
	struct kvm_cpuid2 *c = mktable();
	uint32_t b[12];

	c->nent = 2; /* only 0x80000000 and 0x80000002: nothing to fill safely */
	memcpy(b, BRAND, sizeof(b));
	vcpu_cpuid_fill_brand(c, b);
	ck_assert_uint_eq(c->entries[1].eax, 0);
	free(c);
}
END_TEST

START_TEST(host_brand_is_text)
{
	uint32_t b[12];
	char s[49];

	vcpu_cpuid_host_brand(b);
	memcpy(s, b, 48);
	s[48] = 0;
	/* Whatever the host is, the string is NUL-padded printable ASCII. */
	for (size_t i = 0; i < strlen(s); i++)
		ck_assert(s[i] >= 0x20 && s[i] < 0x7f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpuid");
	TCase *t = tcase_create("brand");
	tcase_add_test(t, fills_zero_brand);
	tcase_add_test(t, keeps_kvm_brand);
	tcase_add_test(t, missing_leaves_ignored);
	tcase_add_test(t, host_brand_is_text);
	suite_add_tcase(s, t);
	return run_suite(s);
}
