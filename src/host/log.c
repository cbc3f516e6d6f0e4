/* VMM message log: stderr plus an optional timestamped file (--log), and
 * the limits on guest-triggerable messages (log.h). */
#include "host/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Process-wide logging configuration: the one deliberate global, like
 * stderr. The guest budget fields are under lock. */
static struct {
	enum log_level level;
	FILE *file;
	int file_level;          /* -1: nothing to the file */
	bool file_show_level, file_show_origin;
	pthread_mutex_t lock;
	struct timespec start;
	uint64_t (*now)(void);
	uint64_t window_start;   /* guest budget window (ms) */
	unsigned window_count;   /* guest lines printed in it */
	uint64_t printed, suppressed, unreported;
	bool total_reached;
} g_log = { .level = LOG_WARN, .file_level = LOG_INFO, .file_show_level = true, .lock = PTHREAD_MUTEX_INITIALIZER, .now = mono_ms };

static uint64_t now_ms(void)
{
	return __atomic_load_n(&g_log.now, __ATOMIC_RELAXED)();
}

void log_set_level(enum log_level lvl) { g_log.level = lvl; }
enum log_level log_get_level(void) { return g_log.level; }

static int install_file(FILE *f)
{
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&g_log.lock);
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = f;
	clock_gettime(CLOCK_MONOTONIC, &g_log.start);
	pthread_mutex_unlock(&g_log.lock);
	return 0;
}

int log_open_file(const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	return install_file(f);
}

int log_open_existing(const char *path)
{
	struct stat st;
	FILE *f;
	/* O_RDWR|O_NONBLOCK: a FIFO opens at once, reader or not. */
	int fd = open(path, O_RDWR | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return -EINVAL;
	}
	/* A regular file is written like --log; only a FIFO stays non-blocking. */
	if (S_ISREG(st.st_mode))
		fcntl(fd, F_SETFL, O_APPEND);
	if (!(f = fdopen(fd, "a"))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return install_file(f);
}

void log_configure_file(int level, bool show_level, bool show_origin)
{
	pthread_mutex_lock(&g_log.lock);
	g_log.file_level = level < -1 ? -1 : level > LOG_DEBUG ? LOG_DEBUG : level;
	g_log.file_show_level = show_level;
	g_log.file_show_origin = show_origin;
	pthread_mutex_unlock(&g_log.lock);
}

static const char *const level_names[] = { "error", "warning", "info", "debug" };

static bool wanted(enum log_level lvl)
{
	/* stderr gets what the level allows; the log file also gets info. */
	return lvl <= g_log.level || (g_log.file && (int)lvl <= g_log.file_level);
}

/* "src/x/y.c" of a __FILE__ path. */
static const char *short_origin(const char *file)
{
	const char *p = file, *s;
	while ((s = strstr(p, "src/")) && s[4])
		p = s + 4, file = s;
	return file;
}

/* Lock held. file: the origin (NULL: unknown). */
static void emit_locked(enum log_level lvl, const char *prefix, const char *msg,
			const char *file, int line)
{
	/* The terminal keeps OPOST in raw mode, so \n is enough. */
	if (lvl <= g_log.level)
		fprintf(stderr, "myvmm: %s%s%s%s\n", lvl <= LOG_WARN ? level_names[lvl] : "",
			lvl <= LOG_WARN ? ": " : "", prefix, msg);
	if (g_log.file) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double t = (double)(ts.tv_sec - g_log.start.tv_sec) +
			   (double)(ts.tv_nsec - g_log.start.tv_nsec) / 1e9;
		char origin[160] = "";
		if (g_log.file_show_origin && file)
			snprintf(origin, sizeof(origin), "%s:%d: ", short_origin(file), line);
		if ((int)lvl <= g_log.file_level)
			fprintf(g_log.file, "[%10.6f] %s%s%s%s%s\n", t,
				g_log.file_show_level ? level_names[lvl] : "",
				g_log.file_show_level ? ": " : "", origin, prefix, msg);
	}
}

/* Lock held. One line for what the guest limits dropped since the last. */
static void report_suppressed_locked(void)
{
	char msg[128];
	if (!g_log.unreported)
		return;
	snprintf(msg, sizeof(msg), "%llu guest-triggered message%s suppressed (rate limit)",
		 (unsigned long long)g_log.unreported, g_log.unreported == 1 ? "" : "s");
	g_log.unreported = 0;
	emit_locked(LOG_WARN, "", msg, NULL, 0);
}

void log_close_file(void)
{
	pthread_mutex_lock(&g_log.lock);
	report_suppressed_locked();
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = NULL;
	pthread_mutex_unlock(&g_log.lock);
}

static void vlog(const char *file, int line, enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[1024];

	if (!wanted(lvl))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&g_log.lock);
	emit_locked(lvl, "", buf, file, line);
	pthread_mutex_unlock(&g_log.lock);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, 0, lvl, fmt, ap);
	va_end(ap);
}

void log_msg_at(const char *file, int line, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(file, line, lvl, fmt, ap);
	va_end(ap);
}

void log_limited(struct ratelimit *rl, enum log_level lvl, const char *prefix, const char *fmt,
		 ...)
{
	char buf[1024];
	va_list ap;
	bool site_ok;
	uint64_t t;

	if (!wanted(lvl))
		return;
	site_ok = ratelimit_ok(rl);
	pthread_mutex_lock(&g_log.lock);
	t = now_ms();
	if (t - g_log.window_start >= LOG_GUEST_MS) {
		g_log.window_start = t;
		g_log.window_count = 0;
		if (!g_log.total_reached)
			report_suppressed_locked();
	}
	if (!site_ok || g_log.total_reached || g_log.window_count >= LOG_GUEST_BURST) {
		g_log.suppressed++;
		g_log.unreported++;
		goto out;
	}
	if (g_log.printed >= LOG_GUEST_TOTAL) {
		g_log.total_reached = true;
		g_log.suppressed++;
		g_log.unreported++;
		snprintf(buf, sizeof(buf), "%u guest-triggered messages logged: further ones are "
			 "dropped (counted at exit)", LOG_GUEST_TOTAL);
		emit_locked(LOG_WARN, "", buf, NULL, 0);
		goto out;
	}
	g_log.window_count++;
	g_log.printed++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit_locked(lvl, prefix, buf, rl->file, rl->line);
out:
	pthread_mutex_unlock(&g_log.lock);
}

void log_guest_stats(struct log_guest_stats *s)
{
	pthread_mutex_lock(&g_log.lock);
	s->printed = g_log.printed;
	s->suppressed = g_log.suppressed;
	s->total_reached = g_log.total_reached;
	pthread_mutex_unlock(&g_log.lock);
}

void log_test_reset(uint64_t (*now)(void))
{
	pthread_mutex_lock(&g_log.lock);
	__atomic_store_n(&g_log.now, now ? now : mono_ms, __ATOMIC_RELAXED);
	g_log.window_start = now_ms();
	g_log.window_count = 0;
	g_log.printed = g_log.suppressed = g_log.unreported = 0;
	g_log.total_reached = false;
	pthread_mutex_unlock(&g_log.lock);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	uint64_t t = now_ms();
	uint64_t start = __atomic_load_n(&rl->window_start_ms, __ATOMIC_RELAXED);

	/* One thread wins the window change; the others count in the new one. */
	if (t - start >= rl->interval_ms &&
	    __atomic_compare_exchange_n(&rl->window_start_ms, &start, t, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		__atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
	if (__atomic_load_n(&rl->count, __ATOMIC_RELAXED) >= rl->burst)
		return false; /* saturates: the count never wraps */
	return __atomic_fetch_add(&rl->count, 1, __ATOMIC_RELAXED) < rl->burst;
}
