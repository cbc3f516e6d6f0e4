#include "host/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int compile(regex_t *re, const char *pat, const char *opt, char *err)
{
	int r = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	if (r) {
		char msg[128];
		regerror(r, re, msg, sizeof(msg));
		snprintf(err, CONSOLE_ERR_LEN, "%s '%s': bad regular expression (%s); use POSIX "
			 "extended syntax, e.g. %s 'login:'", opt, pat, msg, opt);
		return -EINVAL;
	}
	return 0;
}

int console_init(struct console *c, int fd, const char *path, const char *expect,
		 const char *expect_fail, char err[CONSOLE_ERR_LEN])
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->fd = fd;
	if (expect) {
		if (compile(&c->expect, expect, "--expect", err))
			return -EINVAL;
		c->has_expect = true;
	}
	if (expect_fail) {
		if (compile(&c->expect_fail, expect_fail, "--expect-fail", err)) {
			console_destroy(c);
			return -EINVAL;
		}
		c->has_expect_fail = true;
	}
	if (path) {
		c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->fd < 0) {
			int e = -errno;
			snprintf(err, CONSOLE_ERR_LEN, "--console file:%s: %s; check the directory exists "
				 "and is writable", path, strerror(errno));
			console_destroy(c);
			return e;
		}
		c->own_fd = true;
	}
	return 0;
}

void console_destroy(struct console *c)
{
	if (c->own_fd && c->fd >= 0)
		close(c->fd);
	if (c->has_expect)
		regfree(&c->expect);
	if (c->has_expect_fail)
		regfree(&c->expect_fail);
	c->has_expect = c->has_expect_fail = false;
	c->fd = -1;
	c->own_fd = false;
	pthread_mutex_destroy(&c->lock);
}

enum console_match console_match_line(const struct console *c, const char *line, bool complete)
{
	int flags = complete ? 0 : REG_NOTEOL;
	if (c->has_expect_fail && regexec(&c->expect_fail, line, 0, NULL, flags) == 0)
		return MATCH_EXPECT_FAIL;
	if (c->has_expect && regexec(&c->expect, line, 0, NULL, flags) == 0)
		return MATCH_EXPECT;
	return MATCH_NONE;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return; /* terminal gone: keep the guest running */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void keep_line(struct console *c)
{
	memcpy(c->keep[c->keep_next], c->line, c->line_len);
	c->keep[c->keep_next][c->line_len] = 0;
	c->keep_next = (c->keep_next + 1) % CONSOLE_KEEP_LINES;
	if (c->keep_count < CONSOLE_KEEP_LINES)
		c->keep_count++;
}

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void console_write(void *opaque, const void *buf, unsigned long len)
{
	struct console *c = opaque;
	const char *p = buf;
	enum console_match m = MATCH_NONE;

	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0)
		write_all(c->fd, p, len);
	if (c->sink)
		c->sink(c->sink_opaque, p, len);
	for (unsigned long i = 0; i < len; i++) {
		char ch = p[i];
		if (ch == '\r')
			continue;
		if (ch != '\n') {
			if (c->line_len < CONSOLE_LINE_MAX - 1)
				c->line[c->line_len++] = ch;
			continue;
		}
		c->line[c->line_len] = 0;
		if (!c->matched && m == MATCH_NONE && (c->has_expect || c->has_expect_fail)) {
			m = console_match_line(c, c->line, true);
			if (m != MATCH_NONE)
				c->matched = true;
		}
		keep_line(c);
		c->line_len = 0;
	}
	c->line[c->line_len] = 0;
	c->last_write_ms = mono_ms();
	c->partial_checked = false;
	pthread_mutex_unlock(&c->lock);
	if (m != MATCH_NONE && c->on_match)
		c->on_match(c->match_opaque, m);
}

void console_check_idle(struct console *c, uint64_t idle_ms)
{
	enum console_match m = MATCH_NONE;

	pthread_mutex_lock(&c->lock);
	if (!c->matched && !c->partial_checked && c->line_len &&
	    (c->has_expect || c->has_expect_fail) && mono_ms() - c->last_write_ms >= idle_ms) {
		c->partial_checked = true;
		m = console_match_line(c, c->line, false);
		if (m != MATCH_NONE)
			c->matched = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (m != MATCH_NONE && c->on_match)
		c->on_match(c->match_opaque, m);
}

unsigned console_last_lines(struct console *c, char out[][CONSOLE_LINE_MAX], unsigned max)
{
	unsigned n = 0;
	pthread_mutex_lock(&c->lock);
	unsigned start = (c->keep_next + CONSOLE_KEEP_LINES - c->keep_count) % CONSOLE_KEEP_LINES;
	for (unsigned i = 0; i < c->keep_count && n < max; i++)
		memcpy(out[n++], c->keep[(start + i) % CONSOLE_KEEP_LINES], CONSOLE_LINE_MAX);
	if (c->line_len && n < max) {
		memcpy(out[n], c->line, c->line_len);
		out[n++][c->line_len] = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}
