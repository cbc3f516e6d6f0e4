/* A tiny AML (ACPI Machine Language) byte-code writer, ACPI 6.x chapter 20
 * (encoding) and 6.4 (resource descriptors).
 *
 * Pure: writes into a caller-supplied bounded buffer, no allocation, no I/O.
 * Errors are sticky: the first failing call records -ENOSPC or -EINVAL in
 * a->err and every later call is a no-op, so a builder can emit a whole
 * block and check aml_error() once at the end. No write ever passes cap.
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) are
 * written as open/close pairs: *_open() returns a mark, the body is written,
 * then aml_close()/aml_buffer_close() inserts the PkgLength (1..4 bytes,
 * sized to the finished body) at the mark, shifting the body up. */
#ifndef MYVMM_AML_H
#define MYVMM_AML_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;        /* 0 or the first -errno */
};

/* Start writing into buf[0..cap). */
void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* 0, or the first error (-ENOSPC, -EINVAL) recorded by any call. */
int aml_error(const struct aml *a);

/* Raw bytes. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* PkgLength encoding (ACPI 6.x 20.2.4) of a total length `value` (which
 * counts the encoding bytes themselves). Writes 1..4 bytes to out and
 * returns their count, or -EINVAL if value > 0x0FFFFFFF. */
int aml_pkglen_encode(uint8_t out[4], uint32_t value);

/* Generic PkgLength bracket: mark = aml_pkg_open(); body...; aml_close(mark)
 * inserts the PkgLength for the body at mark. */
size_t aml_pkg_open(struct aml *a);
void aml_close(struct aml *a, size_t mark);

/* NameString: "\\_SB.PCI0", "PCI0", "^FOO", "_S5"; segments shorter than
 * four characters are padded with '_'. Invalid names set -EINVAL. */
void aml_name_path(struct aml *a, const char *path);

/* Data objects. aml_integer picks Zero/One/Byte/Word/DWord/QWord. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EisaId("PNP0A03") as a DWord integer; aml_eisaid_value gives the raw
 * 32-bit value as stored little-endian (-EINVAL on a malformed id). */
int aml_eisaid_value(const char *id, uint32_t *out);
void aml_eisaid(struct aml *a, const char *id);

/* Name(path, <data object written next by the caller>). */
void aml_name(struct aml *a, const char *path);
/* Return(<term written next by the caller>). */
void aml_return(struct aml *a);

/* Bracketed objects; close each with aml_close(a, mark) except buffers. */
size_t aml_scope_open(struct aml *a, const char *path);
size_t aml_device_open(struct aml *a, const char *path);
size_t aml_method_open(struct aml *a, const char *path, unsigned nargs, bool serialized);
size_t aml_package_open(struct aml *a, unsigned nelems);   /* nelems <= 255 */
/* Buffer(){bytes}: close inserts BufferSize and the PkgLength. */
size_t aml_buffer_open(struct aml *a);
void aml_buffer_close(struct aml *a, size_t mark);

/* ResourceTemplate(){...}: a Buffer of resource descriptors; close appends
 * the End Tag with a checksum making the descriptor bytes sum to zero. */
size_t aml_restemplate_open(struct aml *a);
void aml_restemplate_close(struct aml *a, size_t mark);

/* Resource descriptors (ACPI 6.x 6.4), for use inside a ResourceTemplate. */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len); /* Decode16 */
void aml_res_irq_noflags(struct aml *a, unsigned irq);        /* irq < 16 */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool rw);
/* Address-space descriptors, producer, MinFixed, MaxFixed, PosDecode;
 * [min, max] inclusive. */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);   /* EntireRange */
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max, bool cacheable); /* ReadWrite */
void aml_res_qword_mem(struct aml *a, uint64_t min, uint64_t max, bool cacheable); /* ReadWrite */

#endif
