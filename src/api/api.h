/* The control API: Firecracker's REST calls (where myvmm has the feature)
 * plus myvmm's own under /myvmm/, over HTTP on a unix socket (server.c).
 *
 * api_handle() is pure apart from the backend calls: it parses the request
 * body with jansson, checks every field like guest input (types, ranges,
 * unknown keys), and either edits the pre-boot configuration (before
 * InstanceStart) or asks the backend to act on the running VM. Errors use
 * Firecracker's body, {"fault_message": "..."}, with status 400. */
#ifndef MYVMM_API_H
#define MYVMM_API_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http.h"
#include "cli/config.h"

enum api_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

/* PUT /logger (Firecracker's Logger): level is a log_level (host/log.h), or
 * -1 for "Off" (nothing goes to the file). */
struct api_logger {
	const char *path;
	int level;
	bool show_level, show_origin;
};

/* What the API asks of the VMM; each returns 0 or -errno with one line in err. */
struct api_backend_ops {
	/* InstanceStart: cfg (the configuration built so far) is complete. */
	int (*start)(void *opaque, struct vm_config *cfg, char *err, size_t errlen);
	/* SendCtrlAltDel: the keyboard sequence (i8042). */
	int (*ctrl_alt_del)(void *opaque, char *err, size_t errlen);
	/* The ACPI power button. */
	int (*power_button)(void *opaque, char *err, size_t errlen);
	int (*pause)(void *opaque, bool paused, char *err, size_t errlen);
	/* myvmm's status object (uptime, boot marker, ...): a jansson json_t *,
	 * returned as void * so this header needs no jansson; NULL on error. */
	void *(*status)(void *opaque);
	/* PUT /snapshot/create (state Paused): the state file and guest RAM
	 * file. PUT /snapshot/load (before InstanceStart): builds the machine
	 * from the snapshot, running or paused. */
	int (*snapshot_create)(void *opaque, const char *state_path, const char *mem_path,
			       bool diff, char *err, size_t errlen);
	/* track_dirty: the restored VM tracks dirty pages (Diff snapshots). */
	int (*snapshot_load)(void *opaque, const char *state_path, const char *mem_path,
			     bool resume, bool track_dirty, char *err, size_t errlen);
	/* PATCH /drives/{id}: disk number disk (cfg->disks[]) now reads path. */
	int (*drive_swap)(void *opaque, unsigned disk, const char *path, char *err, size_t errlen);
	/* PUT /logger: route the log file there (also before InstanceStart). */
	int (*logger)(void *opaque, const struct api_logger *l, char *err, size_t errlen);
	/* PUT /myvmm/screenshot: the framebuffer as PNG; -ENODEV: no display. */
	int (*screenshot)(void *opaque, const char *path, char *err, size_t errlen);
	/* GET /myvmm/console: {"type", "path"} of the attachable console (a
	 * jansson json_t *), NULL when the console cannot be attached to. */
	void *(*console)(void *opaque);
	/* Metrics: the running VM's counters so far (cumulative), a jansson
	 * object of sections ({"vcpu": {...}, "block_ID": {...}, ...}); NULL
	 * while no VM runs. */
	void *(*vm_counters)(void *opaque);
	/* Absolute values for the "myvmm" metrics section (uptime, resets). */
	void *(*vm_gauges)(void *opaque);
	/* --config-file's "metrics" section: records the path (main opens it).
	 * NULL on the running VMM, where PUT /metrics opens the file itself. */
	int (*metrics_config)(void *opaque, const char *path, char *err, size_t errlen);
};

#define API_MAX_ROUTES 32

/* What the API counts for metrics (api_metrics.c). */
struct api_counters {
	uint64_t count[API_MAX_ROUTES], fails[API_MAX_ROUTES]; /* per route of api.c */
	uint64_t requests, fails_total;   /* every request, every >= 400 answer */
	uint64_t http_errors;             /* requests refused before api_handle (server.c) */
	/* latencies_us (Firecracker's store metrics: the last call's). */
	uint64_t pause_us, resume_us, full_create_us, diff_create_us, load_us;
};

struct api_metrics;

struct api {
	struct vm_config *cfg;          /* the configuration (owned by the caller) */
	enum api_state state;
	const struct api_backend_ops *ops;
	void *opaque;
	const char *id;                 /* instance id: --name, or "anonymous-instance" */
	struct api_counters counters;
	struct api_metrics *metrics;    /* NULL until PUT /metrics or --metrics */
};

struct api_response {
	int status;                     /* 200, 204, 400, ... */
	char *body;                     /* malloc'd JSON or NULL (no body) */
	size_t body_len;
};

/* Serves one parsed request. Always fills resp (free resp->body). */
void api_handle(struct api *a, const struct http_request *req, struct api_response *resp);

/* Metrics (Firecracker's PUT /metrics): newline-delimited JSON objects
 * appended to path, which must exist (a regular file, or a FIFO opened
 * without waiting for a reader). Counters are Firecracker's: each line has
 * what happened since the line before. Once per process. 0 or -errno with
 * one line in err. */
int api_metrics_open(struct api *a, const char *path, char *err, size_t errlen);
/* Writes one line (the periodic timer, FlushMetrics, a VM that stops).
 * vm_ending: the VM's counters go away after this line (a reset or the
 * exit), so the next VM's count from zero. -ENODEV when metrics are not
 * set up, -EAGAIN when the line was dropped (a FIFO nobody empties), else
 * 0 or -errno. */
int api_metrics_flush(struct api *a, bool vm_ending);
void api_metrics_close(struct api *a);

/* True when text (a config file's contents) is JSON rather than INI: it
 * starts with '{' (or is a JSON array: '[' then '{', '[', '"' or ']'),
 * blanks aside. Pure. */
bool api_config_is_json(const char *text);
/* --config-file in Firecracker's JSON format: every section (boot-source,
 * drives, machine-config, network-interfaces, vsock, logger) goes through
 * the same handler as its API call, so both accept exactly the same bodies.
 * The logger section only records log_path/level in c (main opens it). Pure
 * apart from allocation. Returns 0 or -EINVAL with one line in err naming
 * the file, the section and the field. */
int api_config_load_json(struct vm_config *c, const char *text, const char *fname,
			 char err[CONFIG_ERR_LEN]);
#endif
