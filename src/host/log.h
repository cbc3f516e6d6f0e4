/* VMM messages. Everything goes to stderr (and the --log file when set);
 * never to the guest console stream. */
#ifndef MYVMM_LOG_H
#define MYVMM_LOG_H
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
int log_open_file(const char *path); /* -errno */
void log_close_file(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limit: at most `burst` messages per `interval_ms`; returns true when
 * this message may be printed. One per call site, no locking beyond atomics. */
struct ratelimit {
	uint64_t window_start_ms;
	unsigned count;
	unsigned burst;
	unsigned interval_ms;
};
#define RATELIMIT_INIT(burst_, ms_) { 0, 0, (burst_), (ms_) }
bool ratelimit_ok(struct ratelimit *rl);

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* Guest misbehaviour: rate-limited warning, 10 per 5 s per call site. */
#define pr_guest(...) do { static struct ratelimit rl_ = RATELIMIT_INIT(10, 5000); \
	if (ratelimit_ok(&rl_)) log_msg(LOG_WARN, "guest: " __VA_ARGS__); } while (0)
#endif
