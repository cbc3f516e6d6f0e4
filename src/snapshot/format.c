/* Snapshot state file writer and validating reader (see format.h). */
#include "snapshot/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HDR_LEN 24
#define SEC_HDR 16
#define SEC_TRAIL 8
#define TRAILER 16

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t crc(const void *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n);
}

static uint8_t *reserve(struct snap_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}

void snap_writer_init(struct snap_writer *w, uint64_t ram_size)
{
	memset(w, 0, sizeof(*w));
	uint8_t *h = reserve(w, HDR_LEN);
	if (!h)
		return;
	memcpy(h, "MYVMSNAP", 8);
	put32(h + 8, SNAP_FORMAT_VERSION);
	put32(h + 16, (uint32_t)ram_size);
	put32(h + 20, (uint32_t)(ram_size >> 32));
}

void snap_put(struct snap_writer *w, uint32_t tag, uint32_t instance, uint32_t version,
	      const void *data, uint32_t len)
{
	size_t padded = ((size_t)len + 7) & ~(size_t)7;
	uint8_t *p;

	if (!w->err && (len > SNAP_MAX_SECTION || w->nsections >= SNAP_MAX_SECTIONS))
		w->err = -E2BIG;
	if (!(p = reserve(w, SEC_HDR + padded + SEC_TRAIL)))
		return;
	put32(p, tag);
	put32(p + 4, instance);
	put32(p + 8, version);
	put32(p + 12, len);
	memcpy(p + SEC_HDR, data, len);
	put32(p + SEC_HDR + padded, crc(data, len));
	w->nsections++;
}

int snap_writer_finish(struct snap_writer *w)
{
	uint8_t *t;
	if (w->err)
		return w->err;
	put32(w->buf + 12, w->nsections);
	uint32_t c = crc(w->buf, w->len);
	if (!(t = reserve(w, TRAILER)))
		return w->err;
	memcpy(t, "SNAPEND", 8);
	put32(t + 8, c);
	return 0;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

#define RERR(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))

int snap_read(struct snap_reader *r, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t off = HDR_LEN, end;
	uint32_t ver, n;

	memset(r, 0, sizeof(*r));
	if (len < HDR_LEN + TRAILER || memcmp(buf, "MYVMSNAP", 8))
		return RERR(-EINVAL, "not a myvmm snapshot (no MYVMSNAP header)");
	ver = get32(buf + 8);
	if (ver != SNAP_FORMAT_VERSION)
		return RERR(-EINVAL, "snapshot format version %u; this myvmm reads version %u: take "
			    "the snapshot again with this myvmm", ver, SNAP_FORMAT_VERSION);
	end = len - TRAILER;
	if (memcmp(buf + end, "SNAPEND", 8) || get32(buf + end + 12))
		return RERR(-EPROTO, "the snapshot is truncated (no end marker)");
	if (get32(buf + end + 8) != crc(buf, end))
		return RERR(-EPROTO, "the snapshot is corrupted (file checksum mismatch)");
	n = get32(buf + 12);
	if (n > SNAP_MAX_SECTIONS)
		return RERR(-EPROTO, "the snapshot claims %u sections (at most %u)", n,
			    SNAP_MAX_SECTIONS);
	r->ram_size = get64(buf + 16);
	r->sec = calloc(n ? n : 1, sizeof(*r->sec));
	if (!r->sec)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct snap_section *s = &r->sec[i];
		size_t padded;
		if (end - off < SEC_HDR)
			goto trunc;
		s->tag = get32(buf + off);
		s->instance = get32(buf + off + 4);
		s->version = get32(buf + off + 8);
		s->len = get32(buf + off + 12);
		padded = ((size_t)s->len + 7) & ~(size_t)7;
		if (s->len > SNAP_MAX_SECTION || end - off - SEC_HDR < padded + SEC_TRAIL)
			goto trunc;
		s->data = buf + off + SEC_HDR;
		if (get32(buf + off + SEC_HDR + padded) != crc(s->data, s->len)) {
			snap_reader_free(r);
			return RERR(-EPROTO, "the snapshot is corrupted (section %u checksum mismatch)", i);
		}
		off += SEC_HDR + padded + SEC_TRAIL;
	}
	if (off != end)
		goto trunc;
	r->nsections = n;
	return 0;
trunc:
	snap_reader_free(r);
	return RERR(-EPROTO, "the snapshot is corrupted (section table does not match its size)");
}

const struct snap_section *snap_find(const struct snap_reader *r, uint32_t tag, uint32_t instance)
{
	for (uint32_t i = 0; i < r->nsections; i++)
		if (r->sec[i].tag == tag && r->sec[i].instance == instance)
			return &r->sec[i];
	return NULL;
}

void snap_reader_free(struct snap_reader *r)
{
	free(r->sec);
	memset(r, 0, sizeof(*r));
}
