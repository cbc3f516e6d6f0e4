/* VMM message log: stderr plus an optional timestamped file (--log). */
#include "host/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Process-wide logging configuration: the one deliberate global, like stderr. */
static struct {
	enum log_level level;
	FILE *file;
	pthread_mutex_t lock;
	struct timespec start;
} g_log = { LOG_WARN, NULL, PTHREAD_MUTEX_INITIALIZER, { 0, 0 } };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

void log_close_file(void)
{
	pthread_mutex_lock(&g_log.lock);
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = NULL;
	pthread_mutex_unlock(&g_log.lock);
}

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	/* stderr gets what the level allows; the log file also gets info. */
	if (lvl > g_log.level && !(g_log.file && lvl <= LOG_INFO))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&g_log.lock);
	/* The terminal keeps OPOST in raw mode, so \n is enough. */
	if (lvl <= g_log.level)
		fprintf(stderr, "myvmm: %s%s%s\n", lvl <= LOG_WARN ? level_names[lvl] : "",
			lvl <= LOG_WARN ? ": " : "", buf);
	if (g_log.file) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double t = (double)(ts.tv_sec - g_log.start.tv_sec) +
			   (double)(ts.tv_nsec - g_log.start.tv_nsec) / 1e9;
		fprintf(g_log.file, "[%10.6f] %s: %s\n", t, level_names[lvl], buf);
	}
	pthread_mutex_unlock(&g_log.lock);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	uint64_t t = now_ms();
	uint64_t start = __atomic_load_n(&rl->window_start_ms, __ATOMIC_RELAXED);

	if (t - start >= rl->interval_ms) {
		__atomic_store_n(&rl->window_start_ms, t, __ATOMIC_RELAXED);
		__atomic_store_n(&rl->count, 0, __ATOMIC_RELAXED);
	}
	return __atomic_fetch_add(&rl->count, 1, __ATOMIC_RELAXED) < rl->burst;
}
