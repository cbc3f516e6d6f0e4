#include "host/term.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The one terminal of the process; signal handlers must reach it, so this
 * is process state by necessity. */
static struct {
	int fd;
	bool raw;
	struct termios saved;
} g_term = { -1, false, { 0 } };

void term_restore(void)
{
	if (g_term.raw) {
		tcsetattr(g_term.fd, TCSAFLUSH, &g_term.saved);
		g_term.raw = false;
	}
}

static void fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw_enter(int fd)
{
	struct termios t;
	static bool hooked;

	if (!isatty(fd))
		return -ENOTTY;
	if (tcgetattr(fd, &g_term.saved) < 0)
		return -errno;
	t = g_term.saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* keep \n -> \r\n for our own messages */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
		return -errno;
	g_term.fd = fd;
	g_term.raw = true;
	if (!hooked) {
		const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
		atexit(term_restore);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], fatal_signal);
		hooked = true;
	}
	return 0;
}

enum esc_result esc_filter_feed(struct esc_filter *f, const uint8_t *in, size_t n, uint8_t *out,
				size_t *out_n, size_t *consumed)
{
	size_t o = 0, i;
	enum esc_result res = ESC_NONE;

	for (i = 0; i < n && res == ESC_NONE; i++) {
		uint8_t c = in[i];
		if (!f->pending) {
			if (c == ESC_CHAR)
				f->pending = true;
			else
				out[o++] = c;
			continue;
		}
		f->pending = false;
		switch (c) {
		case ESC_CHAR:
			out[o++] = ESC_CHAR;
			break;
		case 'x':
		case 'X':
			res = ESC_QUIT;
			break;
		case 'h':
		case 'H':
		case '?':
			res = ESC_HELP;
			break;
		default:
			break; /* unknown escape: dropped, as QEMU does */
		}
	}
	*out_n = o;
	*consumed = i;
	return res;
}
