/* What the files of src/api share: the request helpers of api.c (bodies
 * checked like guest input, Firecracker's error body) and the handlers that
 * live outside api.c. Private to src/api/. */
#ifndef MYVMM_API_INT_H
#define MYVMM_API_INT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

#define API_ERR_LEN 512

/* Fills resp with status and j (consumed; NULL = no body). */
void api_respond_json(struct api_response *resp, int status, json_t *j);
/* {"fault_message": ...} with status. */
void api_fault(struct api_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The body as a JSON object whose keys are all in allowed (NULL-ended);
 * NULL with a 400 in resp otherwise. */
json_t *api_body_object(const struct http_request *req, const char *const *allowed,
			struct api_response *resp);
/* Field getters: 0 when absent or null (out untouched), 1 when read, -1
 * with a 400 naming the field. */
int api_get_string(json_t *o, const char *key, const char **out, struct api_response *resp);
int api_get_bool(json_t *o, const char *key, bool *out, struct api_response *resp);
int api_get_uint(json_t *o, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		 struct api_response *resp);
/* True before InstanceStart; else false with a 400. */
bool api_pre_boot(struct api *a, struct api_response *resp);
/* One option through config_set (the CLI's parser); false with a 400. */
bool api_set_opt(struct api *a, const char *key, const char *value, struct api_response *resp);
/* The body's field equals the path's id; false with a 400. */
bool api_id_matches(json_t *j, const char *field, const char *id, struct api_response *resp);
/* The disk whose drive id is id (its serial, or "diskN"), or -1. */
int api_find_drive(const struct vm_config *c, const char *id);

/* "Not started", "Running", "Paused" (enum api_state). */
extern const char *const api_state_names[3];
/* GET /machine-config's body. */
json_t *api_machine_config_json(const struct vm_config *c);

/* api_runtime.c: calls on a running VM and myvmm's own. */
void api_get_vm_config(struct api *a, const struct http_request *req, const char *arg,
		       struct api_response *resp);
void api_get_status(struct api *a, const struct http_request *req, const char *arg,
		    struct api_response *resp);
void api_put_power_button(struct api *a, const struct http_request *req, const char *arg,
			  struct api_response *resp);
void api_patch_drive(struct api *a, const struct http_request *req, const char *id,
		     struct api_response *resp);
void api_put_logger(struct api *a, const struct http_request *req, const char *arg,
		    struct api_response *resp);
void api_put_screenshot(struct api *a, const struct http_request *req, const char *arg,
			struct api_response *resp);
void api_get_console(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp);

/* api_metrics.c: PUT /metrics; the request counters as sections (adds to
 * what sections has); CLOCK_MONOTONIC in microseconds. */
void api_put_metrics(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp);
void api_requests_json(const struct api *a, json_t *sections);
uint64_t api_now_us(void);

/* api_snapshot.c: PUT /snapshot/create and PUT /snapshot/load. */
void api_put_snapshot_create(struct api *a, const struct http_request *req, const char *arg,
			     struct api_response *resp);
void api_put_snapshot_load(struct api *a, const struct http_request *req, const char *arg,
			   struct api_response *resp);
#endif
