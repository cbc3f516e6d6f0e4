/* Shared by the request handlers of src/api/ (api.c owns the routes and
 * the JSON helpers; api_snapshot.c the snapshot calls). */
#ifndef MYVMM_API_INT_H
#define MYVMM_API_INT_H
#include <stdbool.h>

#include "api/api.h"

/* A 400 with Firecracker's {"fault_message": msg}. */
void api_fault(struct api_response *resp, const char *msg);
void api_no_content(struct api_response *resp);
/* The body as a JSON object (json_t *) with only the allowed keys, or NULL
 * with a 400 in resp; json_decref it. */
void *api_body_object(const struct http_request *req, const char *const *allowed,
		      struct api_response *resp);
/* 0 when absent, 1 when read, -1 with a 400 in resp. o: a json_t *. */
int api_get_string(void *o, const char *key, const char **out, struct api_response *resp);
int api_get_bool(void *o, const char *key, bool *out, struct api_response *resp);

/* PUT /snapshot/create and PUT /snapshot/load (api_snapshot.c). */
void api_put_snapshot_create(struct api *a, const struct http_request *req, const char *arg,
			     struct api_response *resp);
void api_put_snapshot_load(struct api *a, const struct http_request *req, const char *arg,
			   struct api_response *resp);
#endif
