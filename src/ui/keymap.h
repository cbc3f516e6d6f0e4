/* Host keys to PS/2 scan code set 2. Keys are USB HID keyboard usages (page
 * 0x07), which is what SDL_Scancode values are, so the table needs no SDL. */
#ifndef MYVMM_KEYMAP_H
#define MYVMM_KEYMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_MAX_SEQ 8

/* HID usages used by the tests and the UI's hot keys. */
#define HID_A        4
#define HID_G        10
#define HID_Q        20
#define HID_1        30
#define HID_ENTER    40
#define HID_PRINTSCR 70
#define HID_PAUSE    72
#define HID_INSERT   73
#define HID_RIGHT    79
#define HID_UP       82
#define HID_LCTRL    224
#define HID_LSHIFT   225
#define HID_LALT     226
#define HID_RCTRL    228
#define HID_RALT     230

/* Pure: writes the set-2 bytes for pressing (make) or releasing (break) the
 * key with HID usage `usage` into out and returns their count; 0 for keys
 * with no PS/2 code. Extended keys get the E0 prefix, PrintScreen its fake
 * shift sequence, Pause its 8-byte make (and no break code). */
size_t keymap_set2(unsigned usage, bool pressed, uint8_t out[KEYMAP_MAX_SEQ]);
#endif
