/* Unit tests for the AML writer (src/devices/aml.c). */
#include "check_util.h"
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "acpi/aml.h"

#define CANARY 0xa5

static void expect_bytes(const struct aml *a, const uint8_t *exp, size_t n)
{
	ck_assert_int_eq(aml_error(a), 0);
	ck_assert_uint_eq(a->len, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(a->buf[i] == exp[i], "byte %zu: got %02x want %02x",
			      i, a->buf[i], exp[i]);
}

/* Decode a PkgLength; returns its byte count. */
static int pkglen_decode(const uint8_t *p, uint32_t *value)
{
	int n = (p[0] >> 6) + 1;

	if (n == 1) {
		*value = p[0] & 0x3f;
		return 1;
	}
	*value = p[0] & 0x0f;
	for (int i = 1; i < n; i++)
		*value |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

START_TEST(pkglen_boundaries)
{
	static const struct { uint32_t v; int n; uint8_t b[4]; } cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 1u << 20, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0x0fffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[4];
		uint32_t back;
		int n = aml_pkglen_encode(out, cases[i].v);
		ck_assert_int_eq(n, cases[i].n);
		ck_assert_mem_eq(out, cases[i].b, (size_t)n);
		ck_assert_int_eq(pkglen_decode(out, &back), n);
		ck_assert_uint_eq(back, cases[i].v);
	}
	uint8_t out[4];
	ck_assert_int_eq(aml_pkglen_encode(out, 0x10000000), -EINVAL);
}
END_TEST

/* aml_close() sizes the PkgLength to the body, counting its own bytes,
 * and shifts the body up intact. */
START_TEST(pkglen_close_bodies)
{
	static const struct { size_t body; int n; } cases[] = {
		{ 0, 1 }, { 62, 1 }, { 63, 2 }, { 4093, 2 }, { 4094, 3 },
		{ 0xfffff - 3, 3 }, { 0xfffff - 2, 4 }, { 1u << 20, 4 },
	};
	size_t cap = (1u << 20) + 64;
	uint8_t *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a;
		uint32_t v;
		aml_init(&a, buf, cap);
		aml_byte(&a, 0x12);
		size_t mark = aml_pkg_open(&a);
		for (size_t j = 0; j < cases[i].body; j++)
			aml_byte(&a, (uint8_t)(j * 7 + 3));
		aml_close(&a, mark);
		ck_assert_int_eq(aml_error(&a), 0);
		ck_assert_uint_eq(a.len, 1 + cases[i].n + cases[i].body);
		ck_assert_int_eq(pkglen_decode(buf + 1, &v), cases[i].n);
		ck_assert_uint_eq(v, cases[i].body + cases[i].n);
		size_t bad = SIZE_MAX;
		for (size_t j = 0; j < cases[i].body && bad == SIZE_MAX; j++)
			if (buf[1 + cases[i].n + j] != (uint8_t)(j * 7 + 3))
				bad = j;
		ck_assert_msg(bad == SIZE_MAX, "body corrupted at %zu", bad);
	}
	free(buf);
}
END_TEST

START_TEST(name_paths)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "PCI0");
	expect_bytes(&a, (const uint8_t *)"PCI0", 4);

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "_S5");
	expect_bytes(&a, (const uint8_t *)"_S5_", 4);

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "\\_SB.PCI0");
	expect_bytes(&a, (const uint8_t *)"\\\x2e_SB_PCI0", 10);

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "\\_SB.PCI0.ISA");
	expect_bytes(&a, (const uint8_t *)"\\\x2f\x03_SB_PCI0ISA_", 15);

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "^^FOO");
	expect_bytes(&a, (const uint8_t *)"^^FOO_", 6);

	static const char *bad[] = { "", "pci0", "ABCDE", "1ABC", "A..B", "A.", "\\_SB.", "A-B" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_path(&a, bad[i]);
		ck_assert_msg(aml_error(&a) == -EINVAL, "accepted '%s'", bad[i]);
	}
}
END_TEST

START_TEST(integers_strings)
{
	static const struct { uint64_t v; size_t n; uint8_t b[9]; } cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 5, 2, { 0x0a, 0x05 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ULL, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
	};
	uint8_t buf[16];
	struct aml a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, cases[i].v);
		expect_bytes(&a, cases[i].b, cases[i].n);
	}
	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "abc");
	expect_bytes(&a, (const uint8_t *)"\x0d" "abc", 5);   /* includes NUL */
}
END_TEST

START_TEST(eisaid)
{
	uint8_t buf[16];
	struct aml a;
	uint32_t v;

	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "PNP0A03");
	expect_bytes(&a, (const uint8_t[]){ 0x0c, 0x41, 0xd0, 0x0a, 0x03 }, 5);
	ck_assert_int_eq(aml_eisaid_value("PNP0501", &v), 0);
	ck_assert_uint_eq(v, 0x0105d041);
	ck_assert_int_eq(aml_eisaid_value("PNP0b00", &v), 0);  /* hex any case */
	ck_assert_uint_eq(v, 0x000bd041);
	ck_assert_int_eq(aml_eisaid_value("pnp0A03", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP0A0G", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP0A0", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_value("PNP0A031", &v), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "bad");
	ck_assert_int_eq(aml_error(&a), -EINVAL);
}
END_TEST

START_TEST(nested_objects)
{
	uint8_t buf[64];
	struct aml a;

	/* Scope(\_SB) { Device(PCI0) { Name(_ADR, Zero) } } */
	aml_init(&a, buf, sizeof(buf));
	size_t s = aml_scope_open(&a, "\\_SB");
	size_t d = aml_device_open(&a, "PCI0");
	aml_name(&a, "_ADR");
	aml_integer(&a, 0);
	aml_close(&a, d);
	aml_close(&a, s);
	static const uint8_t exp[] = {
		0x10, 0x13, '\\', '_', 'S', 'B', '_',
		0x5b, 0x82, 0x0b, 'P', 'C', 'I', '0', 0x08, '_', 'A', 'D', 'R', 0x00,
	};
	expect_bytes(&a, exp, sizeof(exp));

	/* Method(_PIC, 1) { Return(Zero) } */
	aml_init(&a, buf, sizeof(buf));
	size_t m = aml_method_open(&a, "_PIC", 1, false);
	aml_return(&a);
	aml_integer(&a, 0);
	aml_close(&a, m);
	expect_bytes(&a, (const uint8_t[]){ 0x14, 0x08, '_', 'P', 'I', 'C', 0x01, 0xa4, 0x00 }, 9);

	/* Package(2) { 5, "x" } and Buffer(3) { 1, 2, 3 } */
	aml_init(&a, buf, sizeof(buf));
	size_t p = aml_package_open(&a, 2);
	aml_integer(&a, 5);
	aml_string(&a, "x");
	aml_close(&a, p);
	size_t b = aml_buffer_open(&a);
	aml_bytes(&a, (const uint8_t[]){ 1, 2, 3 }, 3);
	aml_buffer_close(&a, b);
	expect_bytes(&a, (const uint8_t[]){ 0x12, 0x07, 0x02, 0x0a, 0x05, 0x0d, 'x', 0x00,
					     0x11, 0x06, 0x0a, 0x03, 1, 2, 3 }, 15);

	/* A mark past the end is rejected. */
	aml_init(&a, buf, sizeof(buf));
	aml_close(&a, 10);
	ck_assert_int_eq(aml_error(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 256);
	ck_assert_int_eq(aml_error(&a), -EINVAL);
}
END_TEST

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

START_TEST(resource_template)
{
	uint8_t buf[256];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	size_t rt = aml_restemplate_open(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 4);
	aml_restemplate_close(&a, rt);
	ck_assert_int_eq(aml_error(&a), 0);
	/* 11 pkglen 0A 0D | 47 01 F8 03 F8 03 01 08 | 22 10 00 | 79 cs */
	static const uint8_t head[] = { 0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79 };
	ck_assert_uint_eq(a.len, sizeof(head) + 1);
	ck_assert_mem_eq(buf, head, sizeof(head));
	ck_assert_uint_eq(sum8(buf + 4, 13), 0);   /* descriptors + end tag */

	/* Address space descriptors: lengths and computed _LEN. */
	aml_init(&a, buf, sizeof(buf));
	aml_res_word_bus(&a, 0, 0xff);
	expect_bytes(&a, (const uint8_t[]){ 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
		0, 0, 0, 0, 0xff, 0, 0, 0, 0x00, 0x01 }, 16);
	aml_init(&a, buf, sizeof(buf));
	aml_res_dword_mem(&a, 0xc0000000, 0xdfffffff, false);
	ck_assert_uint_eq(a.len, 26);
	ck_assert_uint_eq(buf[0], 0x87);
	ck_assert_uint_eq(buf[5], 0x01);
	ck_assert_mem_eq(buf + 22, ((const uint8_t[]){ 0, 0, 0, 0x20 }), 4);
	aml_init(&a, buf, sizeof(buf));
	aml_res_qword_mem(&a, 0x8000000000ULL, 0xffffffffffULL, true);
	ck_assert_uint_eq(a.len, 46);
	ck_assert_uint_eq(buf[0], 0x8a);
	ck_assert_uint_eq(buf[1], 43);
	ck_assert_uint_eq(buf[5], 0x03);
	ck_assert_mem_eq(buf + 38, ((const uint8_t[]){ 0, 0, 0, 0, 0x80, 0, 0, 0 }), 8);

	aml_init(&a, buf, sizeof(buf));
	aml_res_word_io(&a, 0x10, 0x0f);            /* max < min */
	ck_assert_int_eq(aml_error(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_res_irq_noflags(&a, 16);
	ck_assert_int_eq(aml_error(&a), -EINVAL);
}
END_TEST

/* A representative block, used to check bounded writes at every capacity. */
static void emit_sample(struct aml *a)
{
	size_t s = aml_scope_open(a, "\\_SB");
	size_t d = aml_device_open(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_STR");
	aml_string(a, "serial port");
	aml_name(a, "_CRS");
	size_t rt = aml_restemplate_open(a);
	aml_res_io(a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(a, 4);
	aml_res_qword_mem(a, 1ULL << 40, (1ULL << 41) - 1, false);
	aml_restemplate_close(a, rt);
	size_t p = aml_package_open(a, 3);
	aml_integer(a, 0x123456789ULL);
	aml_integer(a, 7);
	aml_integer(a, 0);
	aml_close(a, p);
	aml_close(a, d);
	aml_close(a, s);
}

START_TEST(enospc_every_cap)
{
	uint8_t ref[512];
	struct aml a;

	aml_init(&a, ref, sizeof(ref));
	emit_sample(&a);
	ck_assert_int_eq(aml_error(&a), 0);
	size_t full = a.len;

	for (size_t cap = 0; cap <= full; cap++) {
		uint8_t *buf = malloc(cap + 32);
		ck_assert_ptr_nonnull(buf);
		memset(buf, CANARY, cap + 32);
		aml_init(&a, buf, cap);
		emit_sample(&a);
		if (cap < full) {
			ck_assert_int_eq(aml_error(&a), -ENOSPC);
		} else {
			ck_assert_int_eq(aml_error(&a), 0);
			ck_assert_mem_eq(buf, ref, full);
		}
		ck_assert_uint_le(a.len, cap);
		for (size_t i = cap; i < cap + 32; i++)
			ck_assert_uint_eq(buf[i], CANARY);
		free(buf);
	}
}
END_TEST

START_TEST(sticky_error)
{
	uint8_t buf[4];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "bad!");
	ck_assert_int_eq(aml_error(&a), -EINVAL);
	size_t len = a.len;
	aml_byte(&a, 1);
	aml_integer(&a, 0x1234);
	ck_assert_uint_eq(a.len, len);
	ck_assert_int_eq(aml_error(&a), -EINVAL);   /* first error kept */

	aml_init(&a, NULL, 100);                    /* no buffer: nothing fits */
	aml_byte(&a, 1);
	ck_assert_int_eq(aml_error(&a), -ENOSPC);
}
END_TEST

CHECK_MAIN_TIMEOUT("aml", 30, pkglen_boundaries, pkglen_close_bodies, name_paths,
	integers_strings, eisaid, nested_objects, resource_template, enospc_every_cap,
	sticky_error)
