/* --config-file in Firecracker's JSON format (api.h): each section becomes
 * the API call that sets it (PUT /boot-source, PUT /drives/{drive_id}, ...)
 * and goes through api_handle(), so a file accepts exactly the bodies the
 * socket does, with the same error messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "host/log.h"

bool api_config_is_json(const char *text)
{
	text += strspn(text, " \t\r\n");
	if (*text == '{')
		return true;
	/* A JSON array (an error, said as such) rather than an INI [section]. */
	if (*text != '[')
		return false;
	text++;
	text += strspn(text, " \t\r\n");
	return *text == '{' || *text == '[' || *text == '"' || *text == ']';
}

/* The logger section records the settings; main() opens the file. */
static int cfg_logger(void *opaque, const struct api_logger *l, char *err, size_t errlen)
{
	struct vm_config *c = opaque;
	char cerr[CONFIG_ERR_LEN] = "";

	if (config_set(c, "log", l->path, cerr)) {
		snprintf(err, errlen, "%s", cerr);
		return -EINVAL;
	}
	c->logger_set = true;
	c->logger_level = l->level;
	c->logger_show_level = l->show_level;
	c->logger_show_origin = l->show_origin;
	return 0;
}

/* The metrics section records the path; main() opens it. */
static int cfg_metrics(void *opaque, const char *path, char *err, size_t errlen)
{
	struct vm_config *c = opaque;
	char cerr[CONFIG_ERR_LEN] = "";

	if (config_set(c, "metrics", path, cerr)) {
		snprintf(err, errlen, "%s", cerr);
		return -EINVAL;
	}
	return 0;
}

/* Only the pre-boot calls are reachable from a file. */
static const struct api_backend_ops cfg_ops = { .logger = cfg_logger,
						.metrics_config = cfg_metrics };

struct section {
	const char *name;
	const char *path;       /* the call; ends in '/' when id_field names the id */
	const char *id_field;   /* NULL: one object; else an array of objects */
};

static const struct section sections[] = {
	{ "boot-source", "/boot-source", NULL },
	{ "machine-config", "/machine-config", NULL },
	{ "drives", "/drives/", "drive_id" },
	{ "network-interfaces", "/network-interfaces/", "iface_id" },
	{ "vsock", "/vsock", NULL },
	{ "logger", "/logger", NULL },
	{ "metrics", "/metrics", NULL },
};

/* One call; 0 or -EINVAL with "FILE: WHERE: fault_message" in err. */
static int apply(struct api *a, const char *path, json_t *body, const char *fname,
		 const char *where, char err[CONFIG_ERR_LEN])
{
	struct http_request req = { .method = HTTP_PUT };
	struct api_response resp;
	char *text = json_dumps(body, JSON_COMPACT);
	int ret = 0;

	if (!text) {
		snprintf(err, CONFIG_ERR_LEN, "%s: out of memory", fname);
		return -ENOMEM;
	}
	snprintf(req.path, sizeof(req.path), "%s", path);
	req.body = text;
	req.body_len = strlen(text);
	api_handle(a, &req, &resp);
	if (resp.status >= 300) {
		json_t *j = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
		const char *msg = json_string_value(json_object_get(j, "fault_message"));
		snprintf(err, CONFIG_ERR_LEN, "%.100s: %.60s: %.300s", fname, where,
			 msg ? msg : "invalid");
		json_decref(j);
		ret = -EINVAL;
	}
	free(resp.body);
	free(text);
	return ret;
}

static int apply_array(struct api *a, const struct section *s, json_t *arr, const char *fname,
		       char err[CONFIG_ERR_LEN])
{
	char path[HTTP_MAX_PATH + 1], where[64];
	size_t i;
	json_t *el;

	if (!json_is_array(arr)) {
		snprintf(err, CONFIG_ERR_LEN, "%s: \"%s\" must be an array of objects", fname, s->name);
		return -EINVAL;
	}
	json_array_foreach(arr, i, el) {
		const char *id = json_string_value(json_object_get(el, s->id_field));
		snprintf(where, sizeof(where), "%s[%zu]", s->name, i);
		if (!json_is_object(el) || !id) {
			snprintf(err, CONFIG_ERR_LEN, "%s: %s: an object with the string field '%s' "
				 "is required", fname, where, s->id_field);
			return -EINVAL;
		}
		if (strlen(id) > 64) {
			snprintf(err, CONFIG_ERR_LEN, "%s: %s: field '%s' is longer than 64 characters",
				 fname, where, s->id_field);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s%s", s->path, id);
		if (apply(a, path, el, fname, where, err))
			return -EINVAL;
	}
	return 0;
}

int api_config_load_json(struct vm_config *c, const char *text, const char *fname,
			 char err[CONFIG_ERR_LEN])
{
	struct api a = { .cfg = c, .state = API_NOT_STARTED, .ops = &cfg_ops, .opaque = c,
			 .id = "config-file" };
	json_error_t je;
	const char *key;
	json_t *root, *v;
	int ret = 0;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, CONFIG_ERR_LEN, "%.200s: invalid JSON at line %d column %d: %.200s",
			 fname, je.line, je.column, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, CONFIG_ERR_LEN, "%s: the top level must be a JSON object", fname);
		json_decref(root);
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		const struct section *s = NULL;
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (!strcmp(key, sections[i].name))
				s = &sections[i];
		if (!s) {
			snprintf(err, CONFIG_ERR_LEN, "%.200s: unknown section \"%.64s\"; myvmm reads "
				 "boot-source, drives, machine-config, network-interfaces, vsock, "
				 "logger and metrics", fname, key);
			ret = -EINVAL;
			break;
		}
		if (json_is_null(v))
			continue;
		if ((ret = s->id_field ? apply_array(&a, s, v, fname, err)
				       : apply(&a, s->path, v, fname, s->name, err)))
			break;
	}
	json_decref(root);
	return ret;
}
