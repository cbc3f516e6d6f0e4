/* One error-message type for the whole program: a function that fails
 * returns -errno and, when it was given a struct err, one line in it that
 * names the problem and the fix. The caller prints it (main.c), adds
 * context, or drops it. */
#ifndef MYVMM_ERR_H
#define MYVMM_ERR_H
#include <stdarg.h>

#define ERR_MSG_LEN 512

struct err {
	char msg[ERR_MSG_LEN];
};

/* Formats into e->msg (truncated to fit); NULL e is a no-op. */
void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_vset(struct err *e, const char *fmt, va_list ap);
/* Puts prefix (printf-style) in front of the message already in e. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message, or fallback (e.g. strerror) when none was set. */
const char *err_or(const struct err *e, const char *fallback);
#endif
