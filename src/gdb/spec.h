/* --gdb SPEC: where the gdb stub listens. Pure. */
#ifndef MYVMM_GDB_SPEC_H
#define MYVMM_GDB_SPEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gdb_spec {
	bool is_unix;
	char host[64];      /* tcp: numeric IPv4 or "localhost"; default 127.0.0.1 */
	uint16_t port;      /* tcp: 0 = any free port (printed at start) */
	char path[108];     /* unix: socket path (sun_path) */
};

/* "tcp:[HOST]:PORT", "unix:PATH", or a bare PORT (QEMU's -gdb forms).
 * Returns 0, or -EINVAL with one line (problem and fix) in err. */
int gdb_spec_parse(const char *s, struct gdb_spec *out, char *err, size_t errlen);
#endif
