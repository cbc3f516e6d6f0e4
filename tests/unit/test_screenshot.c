/* --screenshot's PNG writer: the file parses as PNG (signature, chunk CRCs,
 * zlib stored blocks, Adler-32) and holds the frame's pixels as RGB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "ui/screenshot.h"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static uint32_t crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Parses png and returns the inflated image data (filter byte + RGB rows). */
static uint8_t *decode(const uint8_t *png, size_t len, uint32_t *w, uint32_t *h, size_t *rawlen)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *z = NULL, *raw;
	size_t zl = 0, pos = 8, rl = 0;
	bool end = false;

	ck_assert(len > 8 && !memcmp(png, sig, 8));
	while (pos + 12 <= len && !end) {
		uint32_t n = rd32(png + pos);
		ck_assert(pos + 12 + n <= len);
		ck_assert_uint_eq(rd32(png + pos + 8 + n), crc(png + pos + 4, n + 4));
		const uint8_t *d = png + pos + 8;
		if (!memcmp(png + pos + 4, "IHDR", 4)) {
			ck_assert_uint_eq(n, 13);
			*w = rd32(d);
			*h = rd32(d + 4);
			ck_assert_uint_eq(d[8], 8);
			ck_assert_uint_eq(d[9], 2);
		} else if (!memcmp(png + pos + 4, "IDAT", 4)) {
			z = realloc(z, zl + n);
			memcpy(z + zl, d, n);
			zl += n;
		} else if (!memcmp(png + pos + 4, "IEND", 4)) {
			end = true;
		}
		pos += 12 + n;
	}
	ck_assert(end && pos == len);
	ck_assert(zl >= 6);
	ck_assert_uint_eq((z[0] << 8 | z[1]) % 31, 0);
	ck_assert_uint_eq(z[0] & 0x0f, 8);
	raw = malloc(zl);
	size_t zp = 2;
	bool final = false;
	while (!final) {
		ck_assert(zp + 5 <= zl);
		final = z[zp] & 1;
		ck_assert_uint_eq(z[zp] >> 1 & 3, 0); /* stored */
		uint16_t l = (uint16_t)(z[zp + 1] | z[zp + 2] << 8);
		uint16_t nl = (uint16_t)(z[zp + 3] | z[zp + 4] << 8);
		ck_assert_uint_eq(l, (uint16_t)~nl);
		zp += 5;
		ck_assert(zp + l <= zl);
		memcpy(raw + rl, z + zp, l);
		rl += l;
		zp += l;
	}
	uint32_t a = 1, b = 0;
	for (size_t i = 0; i < rl; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	ck_assert(zp + 4 == zl);
	ck_assert_uint_eq(rd32(z + zp), b << 16 | a);
	free(z);
	*rawlen = rl;
	return raw;
}

START_TEST(rgb32_pixels)
{
	/* 3x2 x8r8g8b8 (bytes B G R X), stride 16 (padding after 3 pixels). */
	uint8_t fb[2 * 16];
	memset(fb, 0xee, sizeof(fb));
	const uint8_t px[6][3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 },
				   { 1, 2, 3 }, { 255, 255, 255 }, { 0, 0, 0 } };
	for (int i = 0; i < 6; i++) {
		uint8_t *p = fb + (i / 3) * 16 + (i % 3) * 4;
		p[0] = px[i][2]; p[1] = px[i][1]; p[2] = px[i][0]; p[3] = 0x55;
	}
	struct display_frame f = { .enabled = true, .width = 3, .height = 2, .bpp = 32,
				   .stride = 16, .pixels = fb };
	uint8_t *png, *raw;
	size_t n, rl;
	uint32_t w = 0, h = 0;

	ck_assert_int_eq(screenshot_png(&f, &png, &n), 0);
	raw = decode(png, n, &w, &h, &rl);
	ck_assert_uint_eq(w, 3);
	ck_assert_uint_eq(h, 2);
	ck_assert_uint_eq(rl, 2 * (1 + 9));
	for (int y = 0; y < 2; y++) {
		ck_assert_uint_eq(raw[y * 10], 0); /* filter none */
		ck_assert_mem_eq(raw + y * 10 + 1, px[y * 3], 9);
	}
	free(raw);
	free(png);
}
END_TEST

START_TEST(multi_block_rgb565)
{
	/* 200x120 at 16 bpp: 72120 bytes of image data, two stored blocks. */
	uint32_t W = 200, H = 120;
	uint16_t *fb = malloc(W * H * 2);
	for (uint32_t i = 0; i < W * H; i++)
		fb[i] = (uint16_t)(i & 1 ? 0xf800 : 0x07e0); /* red, green */
	struct display_frame f = { .enabled = true, .width = W, .height = H, .bpp = 16,
				   .stride = W * 2, .pixels = (const uint8_t *)fb };
	uint8_t *png, *raw;
	size_t n, rl;
	uint32_t w, h;

	ck_assert_int_eq(screenshot_png(&f, &png, &n), 0);
	raw = decode(png, n, &w, &h, &rl);
	ck_assert_uint_eq(rl, H * (1 + W * 3));
	const uint8_t red[3] = { 255, 0, 0 }, green[3] = { 0, 255, 0 };
	ck_assert_mem_eq(raw + 1, green, 3);
	ck_assert_mem_eq(raw + 4, red, 3);
	ck_assert_mem_eq(raw + (H - 1) * (1 + W * 3) + 1 + (W - 1) * 3, red, 3);
	free(raw);
	free(png);
	free(fb);
}
END_TEST

START_TEST(bad_frames)
{
	uint8_t fb[64] = { 0 };
	struct display_frame f = { .enabled = false, .width = 2, .height = 2, .bpp = 32,
				   .stride = 8, .pixels = fb };
	uint8_t *png;
	size_t n;

	ck_assert_int_eq(screenshot_png(&f, &png, &n), -EINVAL); /* no mode */
	f.enabled = true;
	f.bpp = 8;
	ck_assert_int_eq(screenshot_png(&f, &png, &n), -EINVAL); /* palette */
	f.bpp = 32;
	f.stride = 4;
	ck_assert_int_eq(screenshot_png(&f, &png, &n), -EINVAL); /* stride < width */
	f.stride = 8;
	f.width = SCREENSHOT_MAX_DIM + 1;
	f.stride = f.width * 4;
	ck_assert_int_eq(screenshot_png(&f, &png, &n), -E2BIG);
}
END_TEST

START_TEST(write_file)
{
	uint8_t fb[4] = { 10, 20, 30, 0 };
	struct display_frame f = { .enabled = true, .width = 1, .height = 1, .bpp = 32,
				   .stride = 4, .pixels = fb };
	char path[] = "/tmp/myvmm-shot-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(screenshot_write(path, &f), 0);
	FILE *fp = fopen(path, "rb");
	uint8_t buf[256];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	unlink(path);
	uint32_t w, h;
	size_t rl;
	uint8_t *raw = decode(buf, n, &w, &h, &rl);
	const uint8_t want[4] = { 0, 30, 20, 10 };
	ck_assert_uint_eq(rl, 4);
	ck_assert_mem_eq(raw, want, 4);
	free(raw);
	ck_assert_int_eq(screenshot_write("/nonexistent-dir/x.png", &f), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("screenshot");
	TCase *t = tcase_create("png");
	tcase_add_test(t, rgb32_pixels);
	tcase_add_test(t, multi_block_rgb565);
	tcase_add_test(t, bad_frames);
	tcase_add_test(t, write_file);
	suite_add_tcase(s, t);
	return run_suite(s);
}
