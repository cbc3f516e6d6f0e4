/* The --status-file JSON report and the exit-code contract. */
#ifndef MYVMM_STATUS_H
#define MYVMM_STATUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "devices/vmctl.h"

struct run_status {
	enum stop_reason reason;
	int value;                 /* debug-exit value or signal number */
	int exit_code;
	uint64_t wall_ms;
	int64_t boot_marker_ms;    /* -1 if never reached */
	unsigned cpus;
	uint64_t mem;
	const char *mem_path;      /* --mem-path PATH, "hugepages", or NULL (anonymous/memfd) */
	unsigned resets;
	const char *kernel, *name;
	const char *const *lines;  /* last console lines, oldest first */
	unsigned nlines;
};

/* The documented exit status for a stop reason. */
int status_exit_code(enum stop_reason why, int value, bool no_reboot);
const char *status_reason_name(enum stop_reason why);
/* Writes s as JSON to f. Returns 0 or -EIO. */
int status_write_json(FILE *f, const struct run_status *s);
/* Writes a JSON string literal with escapes (quotes included). */
void json_write_string(FILE *f, const char *s);
#endif
