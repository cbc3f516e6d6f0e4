/* Tiny AML writer: see aml.h. Opcode values from ACPI 6.x section 20.3. */
#include "acpi/aml.h"

#include <errno.h>
#include <string.h>

#define AML_ZERO        0x00
#define AML_ONE         0x01
#define AML_NAME        0x08
#define AML_BYTE        0x0a
#define AML_WORD        0x0b
#define AML_DWORD       0x0c
#define AML_STRING      0x0d
#define AML_QWORD       0x0e
#define AML_SCOPE       0x10
#define AML_BUFFER      0x11
#define AML_PACKAGE     0x12
#define AML_METHOD      0x14
#define AML_DUAL_NAME   0x2e
#define AML_MULTI_NAME  0x2f
#define AML_EXT         0x5b
#define AML_EXT_DEVICE  0x82
#define AML_ROOT        '\\'
#define AML_PARENT      '^'
#define AML_RETURN      0xa4

/* Resource descriptor tags (6.4.2 small, 6.4.3 large). */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO          0x47
#define RES_END         0x79
#define RES_MEM32_FIXED 0x86
#define RES_DWORD       0x87
#define RES_WORD        0x88
#define RES_QWORD       0x8a

#define RES_TYPE_MEM    0
#define RES_TYPE_IO     1
#define RES_TYPE_BUS    2
/* General flags: producer (bit0 = 0), PosDecode, MinFixed (bit2), MaxFixed (bit3). */
#define RES_GFLAGS_PRODUCER_FIXED 0x0c

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->cap = buf ? cap : 0;
	a->len = 0;
	a->err = 0;
}

int aml_error(const struct aml *a)
{
	return a->err;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/* Insert n bytes at pos, shifting [pos, len) up. */
static void aml_insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (a->err)
		return;
	if (pos > a->len) {
		aml_fail(a, -EINVAL);
		return;
	}
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

int aml_pkglen_encode(uint8_t out[4], uint32_t value)
{
	if (value <= 0x3f) {
		out[0] = (uint8_t)value;
		return 1;
	}
	if (value > 0x0fffffff)
		return -EINVAL;
	/* Multi-byte form: byte 0 bits 7:6 = count of following bytes, bits
	 * 3:0 = least significant nibble; following bytes hold the rest. */
	int n = value <= 0xfff ? 2 : value <= 0xfffff ? 3 : 4;
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (int i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

size_t aml_pkg_open(struct aml *a)
{
	return a->len;
}

void aml_close(struct aml *a, size_t mark)
{
	uint8_t enc[4];
	int n = -EINVAL;

	if (a->err)
		return;
	if (mark > a->len) {
		aml_fail(a, -EINVAL);
		return;
	}
	size_t body = a->len - mark;
	/* The PkgLength counts its own bytes: pick the smallest size that fits. */
	for (size_t sz = 1; sz <= 4; sz++) {
		if (body > 0x0fffffff)
			break;
		n = aml_pkglen_encode(enc, (uint32_t)(body + sz));
		if (n == (int)sz)
			break;
		n = -EINVAL;
	}
	if (n < 0) {
		aml_fail(a, -ENOSPC);
		return;
	}
	aml_insert(a, mark, enc, (size_t)n);
}

static bool aml_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool aml_name_char(char c)
{
	return aml_lead_char(c) || (c >= '0' && c <= '9');
}

void aml_name_path(struct aml *a, const char *path)
{
	uint8_t segs[255][4];
	unsigned nseg = 0;
	const char *p = path;

	if (a->err)
		return;
	if (!p || !*p)
		goto bad;
	if (*p == AML_ROOT) {
		aml_byte(a, AML_ROOT);
		p++;
	} else {
		while (*p == AML_PARENT) {
			aml_byte(a, AML_PARENT);
			p++;
		}
	}
	while (*p) {
		unsigned n = 0;

		if (nseg == 255)
			goto bad;
		while (p[n] && p[n] != '.') {
			if (n == 4 || !(n == 0 ? aml_lead_char(p[n]) : aml_name_char(p[n])))
				goto bad;
			segs[nseg][n] = (uint8_t)p[n];
			n++;
		}
		if (n == 0)
			goto bad;
		for (unsigned i = n; i < 4; i++)
			segs[nseg][i] = '_';
		nseg++;
		p += n;
		if (*p == '.') {
			p++;
			if (!*p)
				goto bad;
		}
	}
	if (nseg == 0) {
		aml_byte(a, 0x00);   /* NullName: "\" alone */
		return;
	}
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	}
	aml_bytes(a, segs, 4 * (size_t)nseg);
	return;
bad:
	aml_fail(a, -EINVAL);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	if (!s) {
		aml_fail(a, -EINVAL);
		return;
	}
	/* AsciiCharList is 0x01..0x7f, then NullChar. */
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *out)
{
	unsigned l[3];
	int h[4];

	if (!id || strlen(id) != 7)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		l[i] = (unsigned)(id[i] - '@');      /* 'A' = 1, 5 bits */
	}
	for (int i = 0; i < 4; i++) {
		h[i] = hexval(id[3 + i]);
		if (h[i] < 0)
			return -EINVAL;
	}
	/* Compressed EISA id: byte0 = 0|l0|l1[4:3], byte1 = l1[2:0]|l2,
	 * byte2/3 = the four hex digits, stored in this byte order. */
	uint8_t b[4] = {
		(uint8_t)((l[0] << 2) | (l[1] >> 3)),
		(uint8_t)(((l[1] & 7) << 5) | l[2]),
		(uint8_t)((h[0] << 4) | h[1]),
		(uint8_t)((h[2] << 4) | h[3]),
	};
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (aml_eisaid_value(id, &v) < 0) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_DWORD);       /* always DWord, as ASL compilers do */
	aml_le(a, v, 4);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME);
	aml_name_path(a, path);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN);
}

size_t aml_scope_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE);
	size_t mark = aml_pkg_open(a);
	aml_name_path(a, path);
	return mark;
}

size_t aml_device_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	size_t mark = aml_pkg_open(a);
	aml_name_path(a, path);
	return mark;
}

size_t aml_method_open(struct aml *a, const char *path, unsigned nargs, bool serialized)
{
	aml_byte(a, AML_METHOD);
	size_t mark = aml_pkg_open(a);
	aml_name_path(a, path);
	if (nargs > 7)
		aml_fail(a, -EINVAL);
	/* MethodFlags: bits 2:0 ArgCount, bit 3 SerializeFlag, 7:4 SyncLevel 0. */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
	return mark;
}

size_t aml_package_open(struct aml *a, unsigned nelems)
{
	aml_byte(a, AML_PACKAGE);
	size_t mark = aml_pkg_open(a);
	if (nelems > 255)
		aml_fail(a, -EINVAL);
	aml_byte(a, (uint8_t)nelems);
	return mark;
}

size_t aml_buffer_open(struct aml *a)
{
	aml_byte(a, AML_BUFFER);
	return aml_pkg_open(a);
}

void aml_buffer_close(struct aml *a, size_t mark)
{
	struct aml sz;
	uint8_t enc[9];

	if (a->err)
		return;
	if (mark > a->len) {
		aml_fail(a, -EINVAL);
		return;
	}
	/* BufferSize is a TermArg (an Integer here) placed before the bytes. */
	aml_init(&sz, enc, sizeof(enc));
	aml_integer(&sz, a->len - mark);
	aml_insert(a, mark, enc, sz.len);
	aml_close(a, mark);
}

size_t aml_restemplate_open(struct aml *a)
{
	return aml_buffer_open(a);
}

void aml_restemplate_close(struct aml *a, size_t mark)
{
	uint8_t sum = RES_END;

	if (a->err)
		return;
	if (mark > a->len) {
		aml_fail(a, -EINVAL);
		return;
	}
	for (size_t i = mark; i < a->len; i++)
		sum = (uint8_t)(sum + a->buf[i]);
	aml_byte(a, RES_END);           /* End Tag (small item 0xF, length 1) */
	aml_byte(a, (uint8_t)(0 - sum));
	aml_buffer_close(a, mark);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 0x01);               /* decodes 16 bits */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, RES_IRQ_NOFLAGS);
	aml_le(a, 1u << irq, 2);
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool rw)
{
	aml_byte(a, RES_MEM32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, rw ? 1 : 0);
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

/* Address space descriptor body shared by Word/DWord/QWord (6.4.3.5):
 * type, general flags, type flags, then granularity, min, max, translation
 * and length, each `w` bytes wide. */
static void aml_res_addr(struct aml *a, uint8_t tag, unsigned w, uint8_t type,
			 uint8_t tflags, uint64_t min, uint64_t max)
{
	if (max < min) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * w, 2);
	aml_byte(a, type);
	aml_byte(a, RES_GFLAGS_PRODUCER_FIXED);
	aml_byte(a, tflags);
	aml_le(a, 0, w);                 /* granularity */
	aml_le(a, min, w);
	aml_le(a, max, w);
	aml_le(a, 0, w);                 /* translation offset */
	aml_le(a, max - min + 1, w);     /* length */
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, RES_WORD, 2, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, RES_WORD, 2, RES_TYPE_IO, 0x03 /* _RNG EntireRange */, min, max);
}

/* Memory type flags: bit 0 _RW, bits 2:1 _MEM (0 non-cacheable, 1 cacheable). */
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max, bool cacheable)
{
	aml_res_addr(a, RES_DWORD, 4, RES_TYPE_MEM, cacheable ? 0x03 : 0x01, min, max);
}

void aml_res_qword_mem(struct aml *a, uint64_t min, uint64_t max, bool cacheable)
{
	if (min == 0 && max == UINT64_MAX) {  /* length would wrap to 0 */
		aml_fail(a, -EINVAL);
		return;
	}
	aml_res_addr(a, RES_QWORD, 8, RES_TYPE_MEM, cacheable ? 0x03 : 0x01, min, max);
}
