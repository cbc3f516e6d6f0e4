/* Control API request handling (see api.h). Firecracker's calls follow its
 * swagger definition (paths, bodies, 204 on success, 400 with fault_message);
 * myvmm's own live under /myvmm/. */
#include "api/api.h"
#include "api/api_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const api_state_names[3] = { "Not started", "Running", "Paused" };

void api_respond_json(struct api_response *resp, int status, json_t *j)
{
	resp->status = status;
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	if (j && !resp->body)
		resp->status = 500;
	json_decref(j);
}

void api_fault(struct api_response *resp, int status, const char *fmt, ...)
{
	char msg[API_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_respond_json(resp, status, json_pack("{s:s}", "fault_message", msg));
}

/* The body as a JSON object whose keys are all in allowed (NULL-ended).
 * NULL with a 400 in resp otherwise. */
json_t *api_body_object(const struct http_request *req, const char *const *allowed,
			   struct api_response *resp)
{
	json_error_t e;
	json_t *j;
	const char *key;
	json_t *v;

	if (!req->body_len) {
		api_fault(resp, 400, "this request needs a JSON body");
		return NULL;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		api_fault(resp, 400, "invalid JSON at line %d column %d: %s", e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_fault(resp, 400, "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(j, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(key, *a);
		if (!ok) {
			api_fault(resp, 400, "unknown field '%.100s'", key);
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* Field getters: 0 when absent (out untouched), 1 when read, -1 with a 400. */
int api_get_string(json_t *o, const char *key, const char **out, struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) /* null is "not given", as in Firecracker */
		return 0;
	if (!json_is_string(v)) {
		api_fault(resp, 400, "field '%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v)) {
		api_fault(resp, 400, "field '%s' contains a NUL character", key);
		return -1;
	}
	return 1;
}

int api_get_bool(json_t *o, const char *key, bool *out, struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) /* null is "not given", as in Firecracker */
		return 0;
	if (!json_is_boolean(v)) {
		api_fault(resp, 400, "field '%s' must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int api_get_uint(json_t *o, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		    struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) /* null is "not given", as in Firecracker */
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi) {
		api_fault(resp, 400, "field '%s' must be an integer from %" PRIu64 " to %" PRIu64, key, lo,
		      hi);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

bool api_pre_boot(struct api *a, struct api_response *resp)
{
	if (a->state == API_NOT_STARTED)
		return true;
	api_fault(resp, 400, "this request is only allowed before InstanceStart");
	return false;
}

/* Applies one option through the CLI's own parser, so that the API accepts
 * exactly what the command line does. */
bool api_set_opt(struct api *a, const char *key, const char *value, struct api_response *resp)
{
	char err[CONFIG_ERR_LEN] = "";
	if (config_set(a->cfg, key, value, err) == 0)
		return true;
	api_fault(resp, 400, "%s", err[0] ? err : "invalid value");
	return false;
}

static void get_root(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp)
{
	api_respond_json(resp, 200, json_pack("{s:s, s:s, s:s, s:s}", "id", a->id, "state",
					  api_state_names[a->state], "vmm_version", MYVMM_VERSION,
					  "app_name", "myvmm"));
}

static void get_version(struct api *a, const struct http_request *req, const char *arg,
			struct api_response *resp)
{
	api_respond_json(resp, 200, json_pack("{s:s}", "firecracker_version", MYVMM_VERSION));
}

json_t *api_machine_config_json(const struct vm_config *c)
{
	return json_pack("{s:I, s:I, s:b, s:b, s:s}", "vcpu_count", (json_int_t)c->cpus, "mem_size_mib",
			 (json_int_t)(c->mem >> 20), "smt", 0, "track_dirty_pages", c->track_dirty,
			 "huge_pages", c->hugepages ? "2M" : "None");
}

static void get_machine_config(struct api *a, const struct http_request *req, const char *arg,
			       struct api_response *resp)
{
	api_respond_json(resp, 200, api_machine_config_json(a->cfg));
}

static void put_machine_config(struct api *a, const struct http_request *req, const char *arg,
			       struct api_response *resp)
{
	static const char *const keys[] = { "vcpu_count", "mem_size_mib", "smt",
					    "track_dirty_pages", "cpu_template", "huge_pages", NULL };
	uint64_t cpus = 0, mib = 0;
	bool smt = false, dirty = false;
	const char *tmpl = NULL, *huge = NULL;
	char v[32];
	json_t *j;

	if (!api_pre_boot(a, resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (api_get_uint(j, "vcpu_count", 1, 255, &cpus, resp) < 0 ||
	    api_get_uint(j, "mem_size_mib", 1, 1u << 20, &mib, resp) < 0 ||
	    api_get_bool(j, "smt", &smt, resp) < 0 || api_get_bool(j, "track_dirty_pages", &dirty, resp) < 0 ||
	    api_get_string(j, "cpu_template", &tmpl, resp) < 0 ||
	    api_get_string(j, "huge_pages", &huge, resp) < 0)
		goto out;
	if (req->method == HTTP_PUT && (!cpus || !mib)) {
		api_fault(resp, 400, "vcpu_count and mem_size_mib are required");
		goto out;
	}
	if (smt || (tmpl && strcmp(tmpl, "None"))) {
		api_fault(resp, 400, "smt and cpu_template are not supported by myvmm; "
				 "leave them out or false/\"None\"");
		goto out;
	}
	/* Firecracker's "2M" is --hugepages: the host's default huge pages
	 * (2 MiB on x86 unless default_hugepagesz says otherwise). */
	if (huge && strcmp(huge, "None") && strcmp(huge, "2M")) {
		api_fault(resp, 400, "huge_pages \"%s\": use \"None\" or \"2M\"", huge);
		goto out;
	}
	if ((huge || req->method == HTTP_PUT) &&
	    !api_set_opt(a, "hugepages", huge && !strcmp(huge, "2M") ? "on" : "off", resp))
		goto out;
	if (cpus) {
		snprintf(v, sizeof(v), "%" PRIu64, cpus);
		if (!api_set_opt(a, "cpus", v, resp))
			goto out;
	}
	if (mib) {
		snprintf(v, sizeof(v), "%" PRIu64 "M", mib);
		if (!api_set_opt(a, "mem", v, resp))
			goto out;
	}
	/* PUT sets the whole machine config (absent = false); PATCH what it has. */
	if (req->method == HTTP_PUT || json_object_get(j, "track_dirty_pages"))
		a->cfg->track_dirty = dirty;
	api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

static void put_boot_source(struct api *a, const struct http_request *req, const char *arg,
			    struct api_response *resp)
{
	static const char *const keys[] = { "kernel_image_path", "initrd_path", "boot_args", NULL };
	const char *kernel = NULL, *initrd = NULL, *args = NULL;
	json_t *j;

	if (!api_pre_boot(a, resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (api_get_string(j, "kernel_image_path", &kernel, resp) < 0 ||
	    api_get_string(j, "initrd_path", &initrd, resp) < 0 ||
	    api_get_string(j, "boot_args", &args, resp) < 0)
		goto out;
	if (!kernel) {
		api_fault(resp, 400, "kernel_image_path is required");
		goto out;
	}
	if (api_set_opt(a, "kernel", kernel, resp) && (!initrd || api_set_opt(a, "initrd", initrd, resp)) &&
	    (!args || api_set_opt(a, "cmdline", args, resp)))
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* The field is there and not null. */
static bool present(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	return v && !json_is_null(v);
}

/* Firecracker ids: 1-64 characters of [A-Za-z0-9_]. */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(id[i] == '_' || (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z')))
			return false;
	return true;
}

bool api_id_matches(json_t *j, const char *field, const char *id, struct api_response *resp)
{
	const char *body_id = NULL;
	int r = api_get_string(j, field, &body_id, resp);
	if (r < 0)
		return false;
	if (r == 0 || strcmp(body_id, id)) {
		api_fault(resp, 400, "the path's id and the body's %s must be the same", field);
		return false;
	}
	return true;
}

static void put_drive(struct api *a, const struct http_request *req, const char *id,
		      struct api_response *resp)
{
	static const char *const keys[] = { "drive_id", "path_on_host", "is_root_device",
					    "is_read_only", "partuuid", "cache_type", "io_engine",
					    "rate_limiter", NULL };
	const char *path = NULL, *cache = NULL, *engine = NULL, *partuuid = NULL;
	bool root = false, ro = false;
	char spec[4200];
	json_t *j;

	if (!api_pre_boot(a, resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (!api_id_matches(j, "drive_id", id, resp) ||
	    api_get_string(j, "path_on_host", &path, resp) < 0 ||
	    api_get_bool(j, "is_root_device", &root, resp) < 0 ||
	    api_get_bool(j, "is_read_only", &ro, resp) < 0 ||
	    api_get_string(j, "partuuid", &partuuid, resp) < 0 ||
	    api_get_string(j, "cache_type", &cache, resp) < 0 ||
	    api_get_string(j, "io_engine", &engine, resp) < 0)
		goto out;
	if (!path) {
		api_fault(resp, 400, "path_on_host is required");
		goto out;
	}
	if (present(j, "rate_limiter") || partuuid) {
		api_fault(resp, 400, "rate_limiter and partuuid are not supported by myvmm");
		goto out;
	}
	if (cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback")) {
		api_fault(resp, 400, "cache_type must be \"Unsafe\" or \"Writeback\"");
		goto out;
	}
	if (engine && strcmp(engine, "Sync") && strcmp(engine, "Async")) {
		api_fault(resp, 400, "io_engine must be \"Sync\" or \"Async\"");
		goto out;
	}
	/* The path goes through parse_disk: commas are doubled to stay literal. */
	size_t n = 0;
	for (const char *p = path; *p && n + 2 < sizeof(spec) - 32; p++) {
		if (*p == ',')
			spec[n++] = ',';
		spec[n++] = *p;
	}
	if (strlen(path) * 2 + 32 >= sizeof(spec)) {
		api_fault(resp, 400, "path_on_host is too long");
		goto out;
	}
	snprintf(spec + n, sizeof(spec) - n, "%s,serial=%.20s", ro ? ",ro" : "", id);
	/* The same id again replaces that drive, as in Firecracker. */
	int same = api_find_drive(a->cfg, id);
	if (same >= 0) {
		struct disk_config d = { 0 };
		char err[CONFIG_ERR_LEN] = "";
		if (parse_disk(spec, &d, err)) {
			api_fault(resp, 400, "%s", err);
			goto out;
		}
		free(a->cfg->disks[same].path);
		a->cfg->disks[same] = d;
		a->cfg->disks[same].root = root;
		api_respond_json(resp, 204, NULL);
	} else if (api_set_opt(a, "disk", spec, resp)) {
		a->cfg->disks[a->cfg->ndisks - 1].root = root;
		api_respond_json(resp, 204, NULL);
	}
out:
	json_decref(j);
}

static void put_net(struct api *a, const struct http_request *req, const char *id,
		    struct api_response *resp)
{
	static const char *const keys[] = { "iface_id", "host_dev_name", "guest_mac",
					    "rx_rate_limiter", "tx_rate_limiter", NULL };
	const char *dev = NULL, *mac = NULL;
	char spec[64];
	json_t *j;

	if (!api_pre_boot(a, resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (!api_id_matches(j, "iface_id", id, resp) || api_get_string(j, "host_dev_name", &dev, resp) < 0 ||
	    api_get_string(j, "guest_mac", &mac, resp) < 0)
		goto out;
	if (dev && strcmp(dev, "user")) {
		api_fault(resp, 400, "host_dev_name '%.64s': myvmm has no tap networking; use "
				 "\"user\" (or leave it out) for user-mode networking", dev);
		goto out;
	}
	if (present(j, "rx_rate_limiter") || present(j, "tx_rate_limiter")) {
		api_fault(resp, 400, "rate limiters are not supported by myvmm");
		goto out;
	}
	if (mac && strlen(mac) != 17) {
		api_fault(resp, 400, "guest_mac must look like 06:00:AC:10:00:02");
		goto out;
	}
	snprintf(spec, sizeof(spec), "user%s%s", mac ? ",mac=" : "", mac ? mac : "");
	if (api_set_opt(a, "net", spec, resp))
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* PUT /vsock {guest_cid, uds_path[, vsock_id]}: --vsock CID,PATH. */
static void put_vsock(struct api *a, const struct http_request *req, const char *arg,
		      struct api_response *resp)
{
	static const char *const keys[] = { "vsock_id", "guest_cid", "uds_path", NULL };
	const char *path = NULL, *id = NULL;
	uint64_t cid = 0;
	char spec[CONFIG_ERR_LEN];
	json_t *j;

	if (!api_pre_boot(a, resp))
		return;
	if (!(j = api_body_object(req, keys, resp)))
		return;
	if (api_get_string(j, "vsock_id", &id, resp) < 0 ||
	    api_get_uint(j, "guest_cid", 3, 0xffffffffu, &cid, resp) < 0 ||
	    api_get_string(j, "uds_path", &path, resp) < 0)
		goto out;
	if (!cid || !path || !*path) {
		api_fault(resp, 400, "guest_cid and uds_path are required");
		goto out;
	}
	if ((size_t)snprintf(spec, sizeof(spec), "%" PRIu64 ",%s", cid, path) >= sizeof(spec)) {
		api_fault(resp, 400, "uds_path is too long");
		goto out;
	}
	if (api_set_opt(a, "vsock", spec, resp))
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

static void put_actions(struct api *a, const struct http_request *req, const char *arg,
			struct api_response *resp)
{
	static const char *const keys[] = { "action_type", NULL };
	char err[API_ERR_LEN] = "";
	const char *act = NULL;
	int r = 0;
	json_t *j = api_body_object(req, keys, resp);

	if (!j)
		return;
	if (api_get_string(j, "action_type", &act, resp) < 0)
		goto out;
	if (!act) {
		api_fault(resp, 400, "action_type is required");
		goto out;
	}
	if (!strcmp(act, "InstanceStart")) {
		if (!api_pre_boot(a, resp))
			goto out;
		r = a->ops->start(a->opaque, a->cfg, err, sizeof(err));
		if (!r)
			a->state = API_RUNNING;
	} else if (!strcmp(act, "SendCtrlAltDel")) {
		if (a->state == API_NOT_STARTED) {
			api_fault(resp, 400, "SendCtrlAltDel needs a started instance");
			goto out;
		}
		r = a->ops->ctrl_alt_del(a->opaque, err, sizeof(err));
	} else if (!strcmp(act, "FlushMetrics")) {
		r = api_metrics_flush(a, false);
		if (r == -ENODEV) {
			api_fault(resp, 400, "metrics are not set up: PUT /metrics {\"metrics_path\": "
				  "...} (or --metrics FILE) first");
			goto out;
		}
		if (r == -EAGAIN) {
			api_fault(resp, 400, "the metrics line was dropped: nobody reads the FIFO");
			goto out;
		}
		if (r)
			snprintf(err, sizeof(err), "writing the metrics: %s", strerror(-r));
	} else {
		api_fault(resp, 400, "unknown action_type '%.64s'; use InstanceStart, SendCtrlAltDel "
			  "or FlushMetrics", act);
		goto out;
	}
	if (r)
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
	else
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

static void patch_vm(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp)
{
	static const char *const keys[] = { "state", NULL };
	char err[API_ERR_LEN] = "";
	const char *st = NULL;
	bool pause;
	int r;
	json_t *j = api_body_object(req, keys, resp);

	if (!j)
		return;
	if (api_get_string(j, "state", &st, resp) < 0)
		goto out;
	if (!st || (strcmp(st, "Paused") && strcmp(st, "Resumed"))) {
		api_fault(resp, 400, "state must be \"Paused\" or \"Resumed\"");
		goto out;
	}
	if (a->state == API_NOT_STARTED) {
		api_fault(resp, 400, "the instance is not started");
		goto out;
	}
	pause = !strcmp(st, "Paused");
	uint64_t t0 = api_now_us();
	if ((r = a->ops->pause(a->opaque, pause, err, sizeof(err)))) {
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
		goto out;
	}
	*(pause ? &a->counters.pause_us : &a->counters.resume_us) = api_now_us() - t0;
	a->state = pause ? API_PAUSED : API_RUNNING;
	api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

typedef void (*api_handler)(struct api *, const struct http_request *, const char *,
			    struct api_response *);

struct route {
	enum http_method method;
	const char *path;      /* exact, or a prefix ending in '/' that takes an id */
	api_handler fn;
	/* Metrics: the section and the counter's stem (Firecracker's names
	 * where it has the call: put_api_requests.drive_count / drive_fails). */
	const char *group, *metric;
};

#define GET_M "get_api_requests"
#define PUT_M "put_api_requests"
#define PATCH_M "patch_api_requests"
#define OWN_M "myvmm_api_requests"

static const struct route routes[] = {
	{ HTTP_GET, "/", get_root, GET_M, "instance_info" },
	{ HTTP_GET, "/version", get_version, GET_M, "vmm_version" },
	{ HTTP_GET, "/machine-config", get_machine_config, GET_M, "machine_cfg" },
	{ HTTP_PUT, "/machine-config", put_machine_config, PUT_M, "machine_cfg" },
	{ HTTP_PATCH, "/machine-config", put_machine_config, PATCH_M, "machine_cfg" },
	{ HTTP_PUT, "/boot-source", put_boot_source, PUT_M, "boot_source" },
	{ HTTP_PUT, "/drives/", put_drive, PUT_M, "drive" },
	{ HTTP_PUT, "/network-interfaces/", put_net, PUT_M, "network" },
	{ HTTP_PUT, "/actions", put_actions, PUT_M, "actions" },
	{ HTTP_PATCH, "/vm", patch_vm, OWN_M, "vm_state" },
	{ HTTP_GET, "/vm/config", api_get_vm_config, OWN_M, "vm_config" },
	{ HTTP_PUT, "/snapshot/create", api_put_snapshot_create, OWN_M, "snapshot_create" },
	{ HTTP_PUT, "/snapshot/load", api_put_snapshot_load, OWN_M, "snapshot_load" },
	{ HTTP_PUT, "/vsock", put_vsock, PUT_M, "vsock" },
	{ HTTP_PATCH, "/drives/", api_patch_drive, PATCH_M, "drive" },
	{ HTTP_PUT, "/logger", api_put_logger, PUT_M, "logger" },
	{ HTTP_PUT, "/metrics", api_put_metrics, PUT_M, "metrics" },
	{ HTTP_GET, "/myvmm/status", api_get_status, OWN_M, "status" },
	{ HTTP_PUT, "/myvmm/power-button", api_put_power_button, OWN_M, "power_button" },
	{ HTTP_PUT, "/myvmm/screenshot", api_put_screenshot, OWN_M, "screenshot" },
	{ HTTP_GET, "/myvmm/console", api_get_console, OWN_M, "console" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(NROUTES <= API_MAX_ROUTES, "raise API_MAX_ROUTES");

void api_requests_json(const struct api *a, json_t *sections)
{
	char key[64];

	for (size_t i = 0; i < NROUTES; i++) {
		json_t *g = json_object_get(sections, routes[i].group);
		if (!g) {
			g = json_object();
			json_object_set_new(sections, routes[i].group, g);
		}
		snprintf(key, sizeof(key), "%s_count", routes[i].metric);
		json_object_set_new(g, key, json_integer((json_int_t)(a->counters.count[i] +
			json_integer_value(json_object_get(g, key)))));
		if (!strcmp(routes[i].group, GET_M))
			continue; /* Firecracker counts no GET failures */
		snprintf(key, sizeof(key), "%s_fails", routes[i].metric);
		json_object_set_new(g, key, json_integer((json_int_t)(a->counters.fails[i] +
			json_integer_value(json_object_get(g, key)))));
	}
	json_t *own = json_object_get(sections, OWN_M);
	json_object_set_new(own, "requests", json_integer((json_int_t)a->counters.requests));
	json_object_set_new(own, "fails", json_integer((json_int_t)a->counters.fails_total));
	json_object_set_new(own, "http_errors", json_integer((json_int_t)a->counters.http_errors));
}

static void dispatch(struct api *a, const struct http_request *req, struct api_response *resp)
{
	bool path_known = false;

	for (size_t i = 0; i < NROUTES; i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);
		const char *arg = NULL;
		if (n > 1 && rt->path[n - 1] == '/') {
			if (strncmp(req->path, rt->path, n))
				continue;
			arg = req->path + n;
		} else if (strcmp(req->path, rt->path)) {
			continue;
		}
		path_known = true;
		if (rt->method != req->method)
			continue;
		a->counters.count[i]++;
		if (arg && !valid_id(arg))
			api_fault(resp, 400, "invalid id '%.64s' in the path: use 1-64 of A-Z a-z 0-9 _", arg);
		else
			rt->fn(a, req, arg, resp);
		if (resp->status >= 400)
			a->counters.fails[i]++;
		return;
	}
	if (path_known)
		api_fault(resp, 400, "invalid request method for %s", req->path);
	else
		api_fault(resp, 400, "invalid request path %s", req->path);
}

void api_handle(struct api *a, const struct http_request *req, struct api_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	dispatch(a, req, resp);
	a->counters.requests++;
	if (resp->status >= 400)
		a->counters.fails_total++;
}
