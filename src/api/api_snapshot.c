/* PUT /snapshot/create and PUT /snapshot/load, with Firecracker's bodies
 * (swagger: SnapshotCreateParams, SnapshotLoadParams) and its rules: create
 * only while Paused, load only before the instance is started; Diff
 * snapshots need dirty page tracking (machine-config track_dirty_pages, or
 * enable_diff_snapshots / track_dirty_pages on load). Fields myvmm cannot
 * honour are refused by name rather than ignored. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define ERR_LEN API_ERR_LEN

void api_put_snapshot_create(struct api *a, const struct http_request *req, const char *arg,
			     struct api_response *resp)
{
	static const char *const keys[] = { "snapshot_path", "mem_file_path", "snapshot_type",
					    "version", NULL };
	const char *state = NULL, *mem = NULL, *type = NULL, *ver = NULL;
	char err[ERR_LEN] = "";
	json_t *j = api_body_object(req, keys, resp);
	int r;

	if (!j)
		return;
	if (api_get_string(j, "snapshot_path", &state, resp) < 0 ||
	    api_get_string(j, "mem_file_path", &mem, resp) < 0 ||
	    api_get_string(j, "snapshot_type", &type, resp) < 0 ||
	    api_get_string(j, "version", &ver, resp) < 0)
		goto out;
	if (!state || !*state || !mem || !*mem) {
		api_fault(resp, 400, "snapshot_path and mem_file_path are required");
		goto out;
	}
	if (type && strcmp(type, "Full") && strcmp(type, "Diff")) {
		snprintf(err, sizeof(err), "snapshot_type '%.32s': use \"Full\" or \"Diff\"", type);
		api_fault(resp, 400, "%s", err);
		goto out;
	}
	bool diff = type && !strcmp(type, "Diff");
	if (a->state != API_PAUSED) {
		snprintf(err, sizeof(err), "Create snapshot is not allowed in state %s: pause the "
			 "VM first (PATCH /vm {\"state\": \"Paused\"})",
			 a->state == API_RUNNING ? "Running" : "Not started");
		api_fault(resp, 400, "%s", err);
		goto out;
	}
	if (!a->ops->snapshot_create) {
		api_fault(resp, 400, "snapshots are not supported by this VMM");
		goto out;
	}
	uint64_t t0 = api_now_us();
	if ((r = a->ops->snapshot_create(a->opaque, state, mem, diff, err, sizeof(err)))) {
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
		goto out;
	}
	*(diff ? &a->counters.diff_create_us : &a->counters.full_create_us) = api_now_us() - t0;
	api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}

/* mem_backend {"backend_type": "File", "backend_path": PATH}: PATH, or NULL
 * with a 400 (Uffd needs a page-fault handler process myvmm does not use). */
static const char *mem_backend_path(json_t *mb, struct api_response *resp)
{
	json_t *t = json_object_get(mb, "backend_type"), *p = json_object_get(mb, "backend_path");
	const char *key;
	json_t *v;

	if (!json_is_object(mb)) {
		api_fault(resp, 400, "mem_backend must be an object {\"backend_type\": \"File\", "
			  "\"backend_path\": ...}");
		return NULL;
	}
	json_object_foreach(mb, key, v) {
		if (strcmp(key, "backend_type") && strcmp(key, "backend_path")) {
			char err[ERR_LEN];
			snprintf(err, sizeof(err), "unknown field 'mem_backend.%.100s'", key);
			api_fault(resp, 400, "%s", err);
			return NULL;
		}
	}
	if (!json_is_string(t) || !json_is_string(p) || !*json_string_value(p)) {
		api_fault(resp, 400, "mem_backend needs backend_type and backend_path strings");
		return NULL;
	}
	if (strcmp(json_string_value(t), "File")) {
		api_fault(resp, 400, "mem_backend backend_type must be \"File\": myvmm maps the memory "
			  "file copy-on-write and has no Uffd page-fault handler");
		return NULL;
	}
	return json_string_value(p);
}

void api_put_snapshot_load(struct api *a, const struct http_request *req, const char *arg,
			   struct api_response *resp)
{
	static const char *const keys[] = { "snapshot_path", "mem_file_path", "mem_backend",
					    "enable_diff_snapshots", "track_dirty_pages",
					    "resume_vm", NULL };
	const char *state = NULL, *mem = NULL;
	bool resume = false, diff = false, dirty = false;
	char err[ERR_LEN] = "";
	json_t *j = api_body_object(req, keys, resp), *mb;
	int r;

	if (!j)
		return;
	if (api_get_string(j, "snapshot_path", &state, resp) < 0 ||
	    api_get_string(j, "mem_file_path", &mem, resp) < 0 ||
	    api_get_bool(j, "resume_vm", &resume, resp) < 0 ||
	    api_get_bool(j, "enable_diff_snapshots", &diff, resp) < 0 ||
	    api_get_bool(j, "track_dirty_pages", &dirty, resp) < 0)
		goto out;
	if ((mb = json_object_get(j, "mem_backend"))) {
		if (mem) {
			api_fault(resp, 400, "give either mem_file_path or mem_backend, not both");
			goto out;
		}
		if (!(mem = mem_backend_path(mb, resp)))
			goto out;
	}
	if (!state || !*state || !mem || !*mem) {
		api_fault(resp, 400, "snapshot_path and mem_backend (or mem_file_path) are required");
		goto out;
	}
	if (a->state != API_NOT_STARTED) {
		api_fault(resp, 400, "Loading a snapshot is only allowed before the instance is started; "
			  "start a new myvmm --api-sock PATH (without --kernel) for it");
		goto out;
	}
	if (!a->ops->snapshot_load) {
		api_fault(resp, 400, "snapshots are not supported by this VMM");
		goto out;
	}
	uint64_t t0 = api_now_us();
	if ((r = a->ops->snapshot_load(a->opaque, state, mem, resume, diff || dirty, err,
				       sizeof(err)))) {
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
		goto out;
	}
	a->counters.load_us = api_now_us() - t0;
	a->state = resume ? API_RUNNING : API_PAUSED;
	api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}
