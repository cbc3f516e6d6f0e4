/* Snapshot byte streams (see sbuf.h). */
#include "snapshot/sbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sb_bytes(struct sbuf *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_le(struct sbuf *b, uint64_t v, unsigned n)
{
	uint8_t t[8];
	for (unsigned i = 0; i < n; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	sb_bytes(b, t, n);
}

void sb_u8(struct sbuf *b, uint8_t v) { put_le(b, v, 1); }
void sb_u16(struct sbuf *b, uint16_t v) { put_le(b, v, 2); }
void sb_u32(struct sbuf *b, uint32_t v) { put_le(b, v, 4); }
void sb_u64(struct sbuf *b, uint64_t v) { put_le(b, v, 8); }

void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void srd_bytes(struct srd *r, void *out, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

static uint64_t get_le(struct srd *r, unsigned n)
{
	uint8_t t[8];
	uint64_t v = 0;
	srd_bytes(r, t, n);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)t[i] << (8 * i);
	return v;
}

uint8_t srd_u8(struct srd *r) { return (uint8_t)get_le(r, 1); }
uint16_t srd_u16(struct srd *r) { return (uint16_t)get_le(r, 2); }
uint32_t srd_u32(struct srd *r) { return (uint32_t)get_le(r, 4); }
uint64_t srd_u64(struct srd *r) { return get_le(r, 8); }

int srd_end(const struct srd *r)
{
	return r->bad || r->off != r->len ? -EINVAL : 0;
}
