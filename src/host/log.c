/* VMM message log: stderr plus an optional timestamped file (--log), and
 * the limits on guest-triggerable messages (log.h). */
#include "host/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	pthread_mutex_t lock;
	struct timespec start;
	uint64_t (*now)(void);
	uint64_t window_start;   /* guest budget window (ms) */
	unsigned window_count;   /* guest lines printed in it */
	uint64_t printed, suppressed, unreported;
	bool total_reached;
} g_log = { .level = LOG_WARN, .lock = PTHREAD_MUTEX_INITIALIZER, .now = mono_ms };

static uint64_t now_ms(void)
{
	return __atomic_load_n(&g_log.now, __ATOMIC_RELAXED)();
}

void log_set_level(enum log_level lvl) { g_log.level = lvl; }
enum log_level log_get_level(void) { return g_log.level; }

int log_open_file(const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&g_log.lock);
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = f;
	clock_gettime(CLOCK_MONOTONIC, &g_log.start);
	pthread_mutex_unlock(&g_log.lock);
	return 0;
}

static const char *const level_names[] = { "error", "warning", "info", "debug" };

static bool wanted(enum log_level lvl)
{
	/* stderr gets what the level allows; the log file also gets info. */
	return lvl <= g_log.level || (g_log.file && lvl <= LOG_INFO);
}

/* Lock held. */
static void emit_locked(enum log_level lvl, const char *prefix, const char *msg)
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
		fprintf(g_log.file, "[%10.6f] %s: %s%s\n", t, level_names[lvl], prefix, msg);
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
	emit_locked(LOG_WARN, "", msg);
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

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!wanted(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&g_log.lock);
	emit_locked(lvl, "", buf);
	pthread_mutex_unlock(&g_log.lock);
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
		emit_locked(LOG_WARN, "", buf);
		goto out;
	}
	g_log.window_count++;
	g_log.printed++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit_locked(lvl, prefix, buf);
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
