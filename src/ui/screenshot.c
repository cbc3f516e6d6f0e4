/* PNG writer for --screenshot (see screenshot.h). */
#include "ui/screenshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORED_MAX 65535u

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* One pixel of f at row y, column x as R, G, B. */
static void pixel(const struct display_frame *f, uint32_t x, uint32_t y, uint8_t rgb[3])
{
	const uint8_t *p = f->pixels + (size_t)y * f->stride;
	uint16_t v;

	switch (f->bpp) {
	case 32:
	case 24:
		p += (size_t)x * (f->bpp / 8);
		rgb[0] = p[2]; rgb[1] = p[1]; rgb[2] = p[0];
		break;
	case 16: /* r5 g6 b5 */
		p += (size_t)x * 2;
		v = (uint16_t)(p[0] | p[1] << 8);
		rgb[0] = (uint8_t)((v >> 11 & 0x1f) * 255 / 31);
		rgb[1] = (uint8_t)((v >> 5 & 0x3f) * 255 / 63);
		rgb[2] = (uint8_t)((v & 0x1f) * 255 / 31);
		break;
	default: /* 15: x1 r5 g5 b5 */
		p += (size_t)x * 2;
		v = (uint16_t)(p[0] | p[1] << 8);
		rgb[0] = (uint8_t)((v >> 10 & 0x1f) * 255 / 31);
		rgb[1] = (uint8_t)((v >> 5 & 0x1f) * 255 / 31);
		rgb[2] = (uint8_t)((v & 0x1f) * 255 / 31);
		break;
	}
}

/* Appends a chunk (length, type, data, CRC) at *pos. */
static void chunk(uint8_t *buf, size_t *pos, const char type[4], const uint8_t *data, size_t n)
{
	uint8_t *c = buf + *pos;
	be32(c, (uint32_t)n);
	memcpy(c + 4, type, 4);
	if (n && data != c + 8)
		memcpy(c + 8, data, n);
	be32(c + 8 + n, crc32_update(0, c + 4, n + 4));
	*pos += 12 + n;
}

int screenshot_png(const struct display_frame *f, uint8_t **out, size_t *len)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint32_t w = f->width, h = f->height, bypp = (f->bpp + 7) / 8;
	uint8_t ihdr[13];

	if (!f->enabled || !f->pixels || !w || !h ||
	    (f->bpp != 32 && f->bpp != 24 && f->bpp != 16 && f->bpp != 15) ||
	    f->stride < (uint64_t)w * bypp)
		return -EINVAL;
	if (w > SCREENSHOT_MAX_DIM || h > SCREENSHOT_MAX_DIM)
		return -E2BIG;
	size_t raw = (size_t)h * (1 + (size_t)w * 3);      /* filter byte + RGB per row */
	size_t nblk = (raw + STORED_MAX - 1) / STORED_MAX;
	size_t zlen = 2 + raw + 5 * nblk + 4;              /* header, blocks, Adler-32 */
	size_t total = sizeof(sig) + (12 + 13) + (12 + zlen) + 12;
	uint8_t *buf = malloc(total), *rowbuf = malloc(1 + (size_t)w * 3);
	if (!buf || !rowbuf) {
		free(buf);
		free(rowbuf);
		return -ENOMEM;
	}
	size_t pos = 0;
	memcpy(buf, sig, sizeof(sig));
	pos += sizeof(sig);
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8;   /* bit depth */
	ihdr[9] = 2;   /* colour type RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	chunk(buf, &pos, "IHDR", ihdr, sizeof(ihdr));

	/* IDAT data, built in place after its 8-byte chunk header. */
	uint8_t *z = buf + pos + 8;
	size_t zp = 0, left = 0, done = 0;
	uint32_t a = 1, b = 0;
	z[zp++] = 0x78; /* deflate, 32 KiB window */
	z[zp++] = 0x01; /* no preset dictionary, fastest; (0x7801 % 31 == 0) */
	for (uint32_t y = 0; y < h; y++) {
		rowbuf[0] = 0; /* filter: none */
		for (uint32_t x = 0; x < w; x++)
			pixel(f, x, y, rowbuf + 1 + (size_t)x * 3);
		for (size_t i = 0; i < 1 + (size_t)w * 3; i++) {
			if (!left) { /* start a stored block */
				left = raw - done < STORED_MAX ? raw - done : STORED_MAX;
				z[zp++] = done + left == raw; /* BFINAL, BTYPE 00 */
				z[zp++] = left & 0xff;
				z[zp++] = left >> 8;
				z[zp++] = ~left & 0xff;
				z[zp++] = (~left >> 8) & 0xff;
			}
			z[zp++] = rowbuf[i];
			a = (a + rowbuf[i]) % 65521;
			b = (b + a) % 65521;
			left--;
			done++;
		}
	}
	be32(z + zp, b << 16 | a);
	zp += 4;
	chunk(buf, &pos, "IDAT", z, zp);
	chunk(buf, &pos, "IEND", NULL, 0);
	free(rowbuf);
	*out = buf;
	*len = pos;
	return 0;
}

int screenshot_write(const char *path, const struct display_frame *f)
{
	char tmp[4096];
	uint8_t *png;
	size_t n;
	int r = screenshot_png(f, &png, &n);
	FILE *fp;

	if (r)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		free(png);
		return -ENAMETOOLONG;
	}
	fp = fopen(tmp, "wb");
	if (!fp) {
		r = -errno;
		goto out;
	}
	if (fwrite(png, 1, n, fp) != n)
		r = -EIO;
	if (fclose(fp) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
out:
	free(png);
	return r;
}
