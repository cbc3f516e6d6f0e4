/* libFuzzer: control-socket bytes -> HTTP parser -> API handler (with a fake
 * backend), requests pipelined as a client would send them. Invariants: no
 * crash or leak, the parser never claims more bytes than it was given, and
 * every answer is a known status with a JSON body on errors. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static int f_start(void *o, struct vm_config *c, char *e, size_t n) { return 0; }
static int f_ok(void *o, char *e, size_t n) { return 0; }
static int f_pause(void *o, bool p, char *e, size_t n) { return 0; }
static void *f_status(void *o) { return json_object(); }
static int f_swap(void *o, unsigned d, const char *p, char *e, size_t n) { return d ? -ENODEV : 0; }
static int f_logger(void *o, const struct api_logger *l, char *e, size_t n) { return 0; }
static int f_shot(void *o, const char *p, char *e, size_t n) { return -ENODEV; }
/* PUT /metrics records only: the fuzzer must not append to files it names. */
static int f_metrics(void *o, const char *p, char *e, size_t n) { return 0; }
static void *f_console(void *o) { return json_pack("{s:s, s:s}", "type", "unix", "path", "/x"); }
static const struct api_backend_ops ops = {
	.start = f_start, .ctrl_alt_del = f_ok, .power_button = f_ok, .pause = f_pause,
	.status = f_status, .drive_swap = f_swap, .logger = f_logger, .screenshot = f_shot,
	.console = f_console, .metrics_config = f_metrics,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	struct api a = { .cfg = &cfg, .ops = &ops, .id = "fuzz" };
	const char *p = (const char *)data;
	size_t left = size;

	config_init(&cfg);
	for (int i = 0; i < 64 && left; i++) {
		struct http_request req;
		struct api_response resp;
		int r = http_parse_request(p, left, &req);
		if (r <= 0)
			break;
		if (req.total_len == 0 || req.total_len > left)
			abort();
		api_handle(&a, &req, &resp);
		if (resp.status != 200 && resp.status != 204 && resp.status != 400 &&
		    resp.status != 500)
			abort();
		if (resp.status >= 400 && !resp.body)
			abort();
		free(resp.body);
		p += req.total_len;
		left -= req.total_len;
	}
	config_free(&cfg);
	return 0;
}
