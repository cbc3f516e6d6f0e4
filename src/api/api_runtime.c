/* The API calls beyond the pre-boot configuration: PATCH /drives/{id} (swap
 * a running disk's backing file), PUT /logger, GET /vm/config, and myvmm's
 * own GET /myvmm/status, PUT /myvmm/power-button, PUT /myvmm/screenshot and
 * GET /myvmm/console (see api.h, README). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "host/log.h"

int api_find_drive(const struct vm_config *c, const char *id)
{
	char name[16];

	for (unsigned i = 0; i < c->ndisks; i++) {
		/* PUT /drives keeps the id as the disk's serial, cut to 20 bytes. */
		const char *serial = c->disks[i].serial;
		size_t max = sizeof(c->disks[i].serial) - 1;
		snprintf(name, sizeof(name), "disk%u", i);
		if (serial[0] ? !strncmp(serial, id, max) && strlen(serial) == strnlen(id, max)
			      : !strcmp(name, id))
			return (int)i;
	}
	return -1;
}

static bool started(struct api *a, const char *what, struct api_response *resp)
{
	if (a->state != API_NOT_STARTED)
		return true;
	api_fault(resp, 400, "%s is only allowed after InstanceStart%s", what,
		  !strcmp(what, "PATCH /drives") ? "; before it use PUT /drives/{id}" : "");
	return false;
}

/* PATCH /drives/{id} {drive_id, path_on_host}: Firecracker's PartialDrive. */
void api_patch_drive(struct api *a, const struct http_request *req, const char *id,
		     struct api_response *resp)
{
	static const char *const keys[] = { "drive_id", "path_on_host", "rate_limiter", NULL };
	char err[API_ERR_LEN] = "";
	const char *path = NULL;
	int disk, r;
	json_t *j;

	if (!started(a, "PATCH /drives", resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (!api_id_matches(j, "drive_id", id, resp) ||
	    api_get_string(j, "path_on_host", &path, resp) < 0)
		goto out;
	if (json_object_get(j, "rate_limiter") && !json_is_null(json_object_get(j, "rate_limiter"))) {
		api_fault(resp, 400, "rate_limiter is not supported by myvmm");
		goto out;
	}
	if (!path || !*path) {
		api_fault(resp, 400, "path_on_host is required (the new backing file)");
		goto out;
	}
	if ((disk = api_find_drive(a->cfg, id)) < 0) {
		api_fault(resp, 400, "no drive '%.64s'; GET /vm/config lists the drives", id);
		goto out;
	}
	char *copy = strdup(path);
	if (!copy) {
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	if ((r = a->ops->drive_swap(a->opaque, (unsigned)disk, path, err, sizeof(err)))) {
		free(copy);
		api_fault(resp, 400, "drive %.64s: %s", id, err[0] ? err : strerror(-r));
		goto out;
	}
	/* A guest reset rebuilds the machine from the configuration: keep the
	 * new file there too (GET /vm/config shows it). */
	free(a->cfg->disks[disk].path);
	a->cfg->disks[disk].path = copy;
	api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* Firecracker's levels, case-insensitive; Trace is myvmm's Debug. */
static int parse_level(const char *s)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "Off", -1 }, { "Error", LOG_ERR }, { "Warning", LOG_WARN }, { "Warn", LOG_WARN },
		{ "Info", LOG_INFO }, { "Debug", LOG_DEBUG }, { "Trace", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(s, levels[i].name))
			return levels[i].level;
	return -2;
}

/* PUT /logger {log_path, level, show_level, show_log_origin}. */
void api_put_logger(struct api *a, const struct http_request *req, const char *arg,
		    struct api_response *resp)
{
	static const char *const keys[] = { "log_path", "level", "show_level", "show_log_origin",
					    "module", NULL };
	struct api_logger l = { .level = LOG_INFO };
	char err[API_ERR_LEN] = "";
	const char *level = NULL, *module = NULL;
	int r;
	json_t *j = api_body_object(req, keys, resp);

	if (!j)
		return;
	if (api_get_string(j, "log_path", &l.path, resp) < 0 ||
	    api_get_string(j, "level", &level, resp) < 0 ||
	    api_get_bool(j, "show_level", &l.show_level, resp) < 0 ||
	    api_get_bool(j, "show_log_origin", &l.show_origin, resp) < 0 ||
	    api_get_string(j, "module", &module, resp) < 0)
		goto out;
	if (!l.path || !*l.path) {
		api_fault(resp, 400, "log_path is required (an existing file or FIFO)");
		goto out;
	}
	if (module) {
		api_fault(resp, 400, "module filters are not supported by myvmm; leave module out");
		goto out;
	}
	if (level && (l.level = parse_level(level)) < -1) {
		api_fault(resp, 400, "level '%.32s': use Error, Warning, Info, Debug, Trace or Off",
			  level);
		goto out;
	}
	if ((r = a->ops->logger(a->opaque, &l, err, sizeof(err))))
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
	else
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* PUT /myvmm/screenshot {path}: a PNG of the display. */
void api_put_screenshot(struct api *a, const struct http_request *req, const char *arg,
			struct api_response *resp)
{
	static const char *const keys[] = { "path", NULL };
	char err[API_ERR_LEN] = "";
	const char *path = NULL;
	int r;
	json_t *j;

	if (!started(a, "PUT /myvmm/screenshot", resp) || !(j = api_body_object(req, keys, resp)))
		return;
	if (api_get_string(j, "path", &path, resp) < 0)
		goto out;
	if (!path || !*path) {
		api_fault(resp, 400, "path is required (where the PNG goes)");
		goto out;
	}
	r = a->ops->screenshot(a->opaque, path, err, sizeof(err));
	if (r == -ENODEV)
		api_fault(resp, 400, "this VM has no display device; start myvmm with --screenshot "
			  "PATH or --display sdl");
	else if (r)
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
	else
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* GET /myvmm/console: where to attach to the guest's console. */
void api_get_console(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp)
{
	json_t *j = a->ops->console ? a->ops->console(a->opaque) : NULL;
	if (!j) {
		api_fault(resp, 400, "the console cannot be attached to; start myvmm with "
			  "--console unix:PATH or --console pty");
		return;
	}
	api_respond_json(resp, 200, j);
}

void api_get_vm_config(struct api *a, const struct http_request *req, const char *arg,
			  struct api_response *resp)
{
	const struct vm_config *c = a->cfg;
	json_t *drives = json_array(), *nets = json_array();
	char id[16];

	for (unsigned i = 0; i < c->ndisks; i++) {
		snprintf(id, sizeof(id), "disk%u", i);
		json_array_append_new(drives, json_pack("{s:s, s:s, s:b, s:b}", "drive_id",
			c->disks[i].serial[0] ? c->disks[i].serial : id, "path_on_host",
			c->disks[i].path, "is_root_device", c->disks[i].root, "is_read_only",
			c->disks[i].ro));
	}
	if (c->net.kind == NET_USER) {
		char mac[18];
		const uint8_t *m = c->net.mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_array_append_new(nets, json_pack("{s:s, s:s, s:s}", "iface_id", "eth0",
						      "host_dev_name", "user", "guest_mac", mac));
	}
	json_t *j = json_pack("{s:{s:s?, s:s?, s:s?}, s:o, s:o, s:o}",
		"boot-source", "kernel_image_path", c->kernel, "initrd_path", c->initrd,
		"boot_args", c->cmdline, "machine-config", api_machine_config_json(c),
		"drives", drives, "network-interfaces", nets);
	if (j && c->vsock_cid)
		json_object_set_new(j, "vsock", json_pack("{s:I, s:s}", "guest_cid",
				    (json_int_t)c->vsock_cid, "uds_path", c->vsock_path));
	api_respond_json(resp, 200, j);
}

void api_get_status(struct api *a, const struct http_request *req, const char *arg,
		       struct api_response *resp)
{
	json_t *j = a->state == API_NOT_STARTED ? json_object() : a->ops->status(a->opaque);
	if (!j) {
		api_fault(resp, 500, "status unavailable");
		return;
	}
	json_object_set_new(j, "state", json_string(api_state_names[a->state]));
	api_respond_json(resp, 200, j);
}

void api_put_power_button(struct api *a, const struct http_request *req, const char *arg,
			     struct api_response *resp)
{
	char err[API_ERR_LEN] = "";
	int r;
	if (a->state == API_NOT_STARTED) {
		api_fault(resp, 400, "the instance is not started");
		return;
	}
	if ((r = a->ops->power_button(a->opaque, err, sizeof(err))))
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
	else
		api_respond_json(resp, 204, NULL);
}
