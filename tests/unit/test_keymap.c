/* HID usage -> PS/2 set 2 make/break sequences. */
#include <check.h>
#include <string.h>

#include "check_util.h"
#include "ui/keymap.h"

static void expect(unsigned usage, bool down, const uint8_t *want, size_t n)
{
	uint8_t out[KEYMAP_MAX_SEQ];
	memset(out, 0xcc, sizeof(out));
	size_t got = keymap_set2(usage, down, out);
	ck_assert_uint_eq(got, n);
	ck_assert_mem_eq(out, want, n);
}
#define EXPECT(u, d, ...) do { const uint8_t w_[] = { __VA_ARGS__ }; \
	expect((u), (d), w_, sizeof(w_)); } while (0)

START_TEST(letters)
{
	EXPECT(HID_A, true, 0x1c);
	EXPECT(HID_A, false, 0xf0, 0x1c);
	EXPECT(HID_Q, true, 0x15);
	EXPECT(HID_G, true, 0x34);
	EXPECT(29 /* z */, true, 0x1a);
}
END_TEST

START_TEST(digits_and_keys)
{
	EXPECT(HID_1, true, 0x16);
	EXPECT(39 /* 0 */, true, 0x45);
	EXPECT(HID_ENTER, true, 0x5a);
	EXPECT(44 /* space */, false, 0xf0, 0x29);
	EXPECT(41 /* esc */, true, 0x76);
	EXPECT(64 /* F7 */, true, 0x83);
}
END_TEST

START_TEST(modifiers)
{
	EXPECT(HID_LCTRL, true, 0x14);
	EXPECT(HID_LSHIFT, true, 0x12);
	EXPECT(HID_LALT, false, 0xf0, 0x11);
	EXPECT(HID_RCTRL, true, 0xe0, 0x14);
	EXPECT(HID_RCTRL, false, 0xe0, 0xf0, 0x14);
	EXPECT(HID_RALT, true, 0xe0, 0x11);
	EXPECT(229 /* RShift */, true, 0x59);
}
END_TEST

START_TEST(extended)
{
	EXPECT(HID_UP, true, 0xe0, 0x75);
	EXPECT(HID_UP, false, 0xe0, 0xf0, 0x75);
	EXPECT(HID_RIGHT, true, 0xe0, 0x74);
	EXPECT(HID_INSERT, true, 0xe0, 0x70);
	EXPECT(88 /* KP Enter */, true, 0xe0, 0x5a);
	EXPECT(84 /* KP / */, true, 0xe0, 0x4a);
}
END_TEST

START_TEST(special)
{
	EXPECT(HID_PRINTSCR, true, 0xe0, 0x12, 0xe0, 0x7c);
	EXPECT(HID_PRINTSCR, false, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
	EXPECT(HID_PAUSE, true, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	uint8_t out[KEYMAP_MAX_SEQ];
	ck_assert_uint_eq(keymap_set2(HID_PAUSE, false, out), 0);
}
END_TEST

START_TEST(unmapped)
{
	uint8_t out[KEYMAP_MAX_SEQ];
	ck_assert_uint_eq(keymap_set2(0, true, out), 0);
	ck_assert_uint_eq(keymap_set2(3, true, out), 0);
	ck_assert_uint_eq(keymap_set2(200, true, out), 0);
	ck_assert_uint_eq(keymap_set2(232, true, out), 0);
	ck_assert_uint_eq(keymap_set2(100000, false, out), 0);
}
END_TEST

CHECK_MAIN("keymap", letters, digits_and_keys, modifiers, extended, special, unmapped)
