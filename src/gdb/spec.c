/* --gdb SPEC parsing (see spec.h). */
#include "gdb/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "use --gdb tcp:[HOST]:PORT (e.g. tcp::1234) or --gdb unix:PATH"

static int port_of(const char *p, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int gdb_spec_parse(const char *s, struct gdb_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->host, "127.0.0.1");
	if (!strncmp(s, "unix:", 5)) {
		size_t n = strlen(s + 5);
		if (n == 0 || n >= sizeof(out->path)) {
			snprintf(err, errlen, "--gdb %.200s: the socket path must be 1-%zu bytes; " USAGE,
				 s, sizeof(out->path) - 1);
			return -EINVAL;
		}
		out->is_unix = true;
		memcpy(out->path, s + 5, n + 1);
		return 0;
	}
	if (!strncmp(s, "tcp:", 4)) {
		const char *hp = s + 4, *colon = strrchr(hp, ':');
		if (!colon) { /* tcp:PORT */
			if (port_of(hp, &out->port))
				goto bad;
			return 0;
		}
		size_t hl = (size_t)(colon - hp);
		if (hl >= sizeof(out->host))
			goto bad;
		if (hl) {
			memcpy(out->host, hp, hl);
			out->host[hl] = 0;
		}
		if (port_of(colon + 1, &out->port))
			goto bad;
		return 0;
	}
	if (port_of(s, &out->port) == 0)
		return 0;
bad:
	snprintf(err, errlen, "--gdb %.200s: not a listening address; " USAGE, s);
	return -EINVAL;
}
