/* struct err helpers. */
#include "host/err.h"

#include <stdio.h>
#include <string.h>

void err_vset(struct err *e, const char *fmt, va_list ap)
{
	if (e)
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[ERR_MSG_LEN], old[ERR_MSG_LEN];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	size_t n = strlen(pre);

	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = 0;
	memcpy(e->msg, pre, n + 1);
	if (n < sizeof(e->msg) - 1) {
		size_t m = strnlen(old, sizeof(e->msg) - 1 - n);
		memcpy(e->msg + n, old, m);
		e->msg[n + m] = 0;
	}
}

const char *err_or(const struct err *e, const char *fallback)
{
	return e && e->msg[0] ? e->msg : fallback;
}
