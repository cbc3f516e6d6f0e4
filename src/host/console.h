/* Guest console output: written to the terminal, a file or nowhere; split
 * into lines for --expect/--expect-fail and kept as the last few lines for
 * the status report. Thread-safe (vCPU threads write). */
#ifndef MYVMM_CONSOLE_H
#define MYVMM_CONSOLE_H
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vmctl.h"

#define CONSOLE_LINE_MAX 512
#define CONSOLE_KEEP_LINES 20

enum console_match { MATCH_NONE, MATCH_EXPECT, MATCH_EXPECT_FAIL };

struct console {
	pthread_mutex_t lock;
	int fd;                     /* -1: discard */
	bool own_fd;
	char line[CONSOLE_LINE_MAX];
	size_t line_len;
	char keep[CONSOLE_KEEP_LINES][CONSOLE_LINE_MAX];
	unsigned keep_next, keep_count;
	regex_t expect, expect_fail;
	bool has_expect, has_expect_fail;
	/* Called (without the lock) once when a pattern first matches. */
	void (*on_match)(void *opaque, enum console_match m);
	void *match_opaque;
	bool matched;
	uint64_t last_write_ms;      /* CLOCK_MONOTONIC of the last byte */
	bool partial_checked;        /* the unfinished line was already tried */
	/* A second destination (--console pty/unix: host/console_chan.h), called
	 * with the lock held, in output order; NULL for none. */
	void (*sink)(void *opaque, const void *buf, unsigned long len);
	void *sink_opaque;
};

#define CONSOLE_ERR_LEN 512
/* fd_or_path: path == NULL means write to fd (-1 discards). Regexes are
 * POSIX extended; NULL for none. */
int console_init(struct console *c, int fd, const char *path, const char *expect,
		 const char *expect_fail, char err[CONSOLE_ERR_LEN]);
void console_destroy(struct console *c);
void console_write(void *opaque, const void *buf, unsigned long len);
/* A prompt without a newline ("login: ") can only match as a partial line:
 * the I/O thread calls this periodically, and once the console has been
 * quiet for idle_ms the unfinished line is tried (with $ not matching at its
 * end). Complete lines are matched as they arrive, in console_write(). */
void console_check_idle(struct console *c, uint64_t idle_ms);
/* Copies the kept lines, oldest first, plus the unfinished line; returns count. */
unsigned console_last_lines(struct console *c, char out[][CONSOLE_LINE_MAX], unsigned max);
/* Pure line matcher used by console_write (exposed for tests). */
enum console_match console_match_line(const struct console *c, const char *line, bool complete);
#endif
