/* The host terminal: raw mode while the guest owns it, restored on every exit
 * path (normal return, error, fatal signal), and the Ctrl-A escape filter. */
#ifndef MYVMM_TERM_H
#define MYVMM_TERM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Puts fd (a tty) in raw mode, keeping output post-processing (\n -> \r\n).
 * Installs an atexit hook and fatal-signal handlers that restore it. */
int term_raw_enter(int fd);
void term_restore(void);

enum esc_result { ESC_NONE, ESC_QUIT, ESC_HELP };

struct esc_filter {
	bool pending; /* saw Ctrl-A */
};
#define ESC_CHAR 0x01 /* Ctrl-A */

/* Pure: copies guest-bound bytes from in to out (out holds at least n bytes),
 * interpreting Ctrl-A x (quit), Ctrl-A h (help) and Ctrl-A Ctrl-A (send one
 * Ctrl-A); other Ctrl-A sequences are dropped. Stops at a quit/help request
 * and reports how much input was consumed. */
enum esc_result esc_filter_feed(struct esc_filter *f, const uint8_t *in, size_t n, uint8_t *out,
				size_t *out_n, size_t *consumed);
#endif
