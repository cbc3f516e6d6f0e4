/* VMM messages. Everything goes to stderr (and the --log file when set);
 * never to the guest console stream.
 *
 * Guest-triggerable messages (anything a guest can cause again and again:
 * its misbehaviour, or a host error one of its requests hits) go through
 * pr_guest / pr_warn_rl / pr_info_rl, never pr_warn/pr_info directly. They
 * pass two limits, so a guest cannot grow stderr or --log without bound:
 *   - per call site: LOG_SITE_BURST messages per LOG_SITE_MS;
 *   - all sites together: LOG_GUEST_BURST per LOG_GUEST_MS, and
 *     LOG_GUEST_TOTAL over the whole run, after which guest messages are
 *     dropped (one line says so).
 * What a limit drops is counted; once per window one line reports the count
 * ("N guest-triggered messages suppressed"), and log_close_file() reports
 * the rest. */
#ifndef MYVMM_LOG_H
#define MYVMM_LOG_H
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
int log_open_file(const char *path); /* -errno */
/* PUT /logger (Firecracker's semantics): path must already exist, a regular
 * file (appended to) or a FIFO (opened without waiting for a reader; lines
 * are dropped while it is full). Replaces the current log file. -errno. */
int log_open_existing(const char *path);
/* What the log file gets: messages up to level (-1: none; default
 * LOG_INFO), with the level name (default on) and the origin file:line
 * (default off). */
void log_configure_file(int level, bool show_level, bool show_origin);
/* Reports what the guest limits suppressed since the last report, then
 * closes the --log file (if any). */
void log_close_file(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg from file:line (the pr_* macros; shown with show_origin). */
void log_msg_at(const char *file, int line, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Rate limit: at most `burst` messages per `interval_ms`; returns true when
 * this message may be printed. One per call site, lock-free (atomics). */
struct ratelimit {
	uint64_t window_start_ms;
	unsigned count;
	unsigned burst;
	unsigned interval_ms;
	const char *file;   /* the call site (LOG_LIMITED_), NULL if unknown */
	int line;
};
#define RATELIMIT_INIT(burst_, ms_) { 0, 0, (burst_), (ms_), NULL, 0 }
bool ratelimit_ok(struct ratelimit *rl);

#define LOG_SITE_BURST  10
#define LOG_SITE_MS     5000
#define LOG_GUEST_BURST 50
#define LOG_GUEST_MS    5000
#define LOG_GUEST_TOTAL 5000

/* A guest-triggerable message from the call site owning rl: passes the
 * site's limit, then the global guest budget. prefix is prepended ("guest:
 * " for guest misbehaviour, "" for host errors a guest request caused). */
void log_limited(struct ratelimit *rl, enum log_level lvl, const char *prefix, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
/* Counts of the guest limits since start-up (tests, --status-file). */
struct log_guest_stats {
	uint64_t printed, suppressed;
	bool total_reached;
};
void log_guest_stats(struct log_guest_stats *s);
/* Tests: replaces the millisecond clock (NULL restores CLOCK_MONOTONIC) and
 * resets the global guest budget. */
void log_test_reset(uint64_t (*now_ms)(void));

#define pr_err(...)   log_msg_at(__FILE__, __LINE__, LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg_at(__FILE__, __LINE__, LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg_at(__FILE__, __LINE__, LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg_at(__FILE__, __LINE__, LOG_DEBUG, __VA_ARGS__)
#define LOG_LIMITED_(lvl_, prefix_, ...) do { \
	static struct ratelimit rl_ = { 0, 0, LOG_SITE_BURST, LOG_SITE_MS, __FILE__, __LINE__ }; \
	log_limited(&rl_, (lvl_), (prefix_), __VA_ARGS__); } while (0)
/* Guest misbehaviour: a rate-limited "guest: ..." warning. */
#define pr_guest(...)   LOG_LIMITED_(LOG_WARN, "guest: ", __VA_ARGS__)
/* A host-side warning or note a guest can trigger repeatedly. */
#define pr_warn_rl(...) LOG_LIMITED_(LOG_WARN, "", __VA_ARGS__)
#define pr_info_rl(...) LOG_LIMITED_(LOG_INFO, "", __VA_ARGS__)
#endif
