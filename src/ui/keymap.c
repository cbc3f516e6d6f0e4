/* HID usage -> PS/2 set 2 (the IBM PS/2 keyboard technical reference set 2
 * table; HID usage numbers from the USB HID Usage Tables, page 0x07). */
#include "ui/keymap.h"

#include <string.h>

struct key2 {
	uint8_t code;   /* 0: unmapped */
	uint8_t ext;    /* E0-prefixed */
};

#define K(c)  { (c), 0 }
#define KE(c) { (c), 1 }

static const struct key2 set2[] = {
	[4] = K(0x1c), [5] = K(0x32), [6] = K(0x21), [7] = K(0x23), [8] = K(0x24), [9] = K(0x2b),
	[10] = K(0x34), [11] = K(0x33), [12] = K(0x43), [13] = K(0x3b), [14] = K(0x42),
	[15] = K(0x4b), [16] = K(0x3a), [17] = K(0x31), [18] = K(0x44), [19] = K(0x4d),
	[20] = K(0x15), [21] = K(0x2d), [22] = K(0x1b), [23] = K(0x2c), [24] = K(0x3c),
	[25] = K(0x2a), [26] = K(0x1d), [27] = K(0x22), [28] = K(0x35), [29] = K(0x1a),
	/* 1..9, 0 */
	[30] = K(0x16), [31] = K(0x1e), [32] = K(0x26), [33] = K(0x25), [34] = K(0x2e),
	[35] = K(0x36), [36] = K(0x3d), [37] = K(0x3e), [38] = K(0x46), [39] = K(0x45),
	/* Enter Esc Backspace Tab Space - = [ ] \ #(non-US) ; ' ` , . / CapsLock */
	[40] = K(0x5a), [41] = K(0x76), [42] = K(0x66), [43] = K(0x0d), [44] = K(0x29),
	[45] = K(0x4e), [46] = K(0x55), [47] = K(0x54), [48] = K(0x5b), [49] = K(0x5d),
	[50] = K(0x5d), [51] = K(0x4c), [52] = K(0x52), [53] = K(0x0e), [54] = K(0x41),
	[55] = K(0x49), [56] = K(0x4a), [57] = K(0x58),
	/* F1..F12 */
	[58] = K(0x05), [59] = K(0x06), [60] = K(0x04), [61] = K(0x0c), [62] = K(0x03),
	[63] = K(0x0b), [64] = K(0x83), [65] = K(0x0a), [66] = K(0x01), [67] = K(0x09),
	[68] = K(0x78), [69] = K(0x07),
	/* 70 PrintScreen and 72 Pause are special; 71 ScrollLock */
	[71] = K(0x7e),
	/* Insert Home PageUp Delete End PageDown Right Left Down Up */
	[73] = KE(0x70), [74] = KE(0x6c), [75] = KE(0x7d), [76] = KE(0x71), [77] = KE(0x69),
	[78] = KE(0x7a), [79] = KE(0x74), [80] = KE(0x6b), [81] = KE(0x72), [82] = KE(0x75),
	/* NumLock, keypad / * - + Enter 1..9 0 . */
	[83] = K(0x77), [84] = KE(0x4a), [85] = K(0x7c), [86] = K(0x7b), [87] = K(0x79),
	[88] = KE(0x5a), [89] = K(0x69), [90] = K(0x72), [91] = K(0x7a), [92] = K(0x6b),
	[93] = K(0x73), [94] = K(0x74), [95] = K(0x6c), [96] = K(0x75), [97] = K(0x7d),
	[98] = K(0x70), [99] = K(0x71),
	/* Non-US \, Application (menu) */
	[100] = K(0x61), [101] = KE(0x2f),
	/* LCtrl LShift LAlt LGUI RCtrl RShift RAlt RGUI */
	[224] = K(0x14), [225] = K(0x12), [226] = K(0x11), [227] = KE(0x1f),
	[228] = KE(0x14), [229] = K(0x59), [230] = KE(0x11), [231] = KE(0x27),
};

static const uint8_t prtsc_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
static const uint8_t prtsc_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
static const uint8_t pause_make[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };

static size_t copy_seq(uint8_t *out, const uint8_t *seq, size_t n)
{
	memcpy(out, seq, n);
	return n;
}

size_t keymap_set2(unsigned usage, bool pressed, uint8_t out[KEYMAP_MAX_SEQ])
{
	size_t n = 0;

	if (usage == HID_PRINTSCR)
		return pressed ? copy_seq(out, prtsc_make, sizeof(prtsc_make))
			       : copy_seq(out, prtsc_break, sizeof(prtsc_break));
	if (usage == HID_PAUSE)
		return pressed ? copy_seq(out, pause_make, sizeof(pause_make)) : 0;
	if (usage >= sizeof(set2) / sizeof(set2[0]) || !set2[usage].code)
		return 0;
	if (set2[usage].ext)
		out[n++] = 0xe0;
	if (!pressed)
		out[n++] = 0xf0;
	out[n++] = set2[usage].code;
	return n;
}
