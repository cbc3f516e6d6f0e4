/* The control API's view of the running VMM (api_backend_ops for main.c):
 * power button, Ctrl-Alt-Del, pause/resume through the vCPU gate, status,
 * and InstanceStart, which hands the configuration to main.c's boot hook.
 *
 * Threads: every call runs on the I/O thread (the API server is served by
 * its event loop), the same thread that sets and clears *vm, so the current
 * VM pointer is read without vm_lock; the calls into the machine
 * (vm_input_*, the gate) are thread-safe. */
#ifndef MYVMM_API_BACKEND_H
#define MYVMM_API_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"

struct vm;

struct api_vmm {
	struct vm *const *vm;           /* the running VM, NULL between resets / before start */
	const struct timespec *t0;      /* process start (CLOCK_MONOTONIC) */
	const int64_t *marker_ms;       /* boot marker time, -1 until seen */
	const unsigned *resets;         /* guest resets so far */
	const struct vm_config *cfg;    /* the configuration the VM runs */
	/* GET /myvmm/console: "unix" or "pty" and the path to attach to; NULL
	 * when the console is stdio, a file or none. */
	const char *console_type, *console_path;
	/* InstanceStart with a validated, finished configuration: builds the
	 * VM (0) or reports why not (-errno, one line in err). */
	int (*boot)(void *opaque, char *err, size_t errlen);
	/* PUT /snapshot/load: builds the VM from the snapshot (same opaque). */
	int (*restore)(void *opaque, const char *state_path, const char *mem_path, bool resume,
		       bool track_dirty, char *err, size_t errlen);
	void *boot_opaque;
};

extern const struct api_backend_ops api_vmm_ops; /* opaque: struct api_vmm * */

/* Ctrl-Alt-Del as PS/2 set-2 key events, in order (make, make, make,
 * break, break, break): exposed for the unit test. */
#define API_CAD_EVENTS 6
struct api_key_event {
	uint8_t len;
	uint8_t code[3];
};
extern const struct api_key_event api_cad_sequence[API_CAD_EVENTS];
#endif
