/* The control API's request handling: Firecracker's calls with good and bad
 * bodies, status codes, error bodies, and the pre-boot/post-boot rules. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "check_util.h"

struct fake {
	int starts, cad, power, pauses;
	bool paused;
	int fail_start;
};

static int f_start(void *o, struct vm_config *c, char *err, size_t n)
{
	struct fake *f = o;
	if (f->fail_start) {
		snprintf(err, n, "kernel missing");
		return -ENOENT;
	}
	f->starts++;
	return 0;
}
static int f_cad(void *o, char *err, size_t n) { ((struct fake *)o)->cad++; return 0; }
static int f_power(void *o, char *err, size_t n) { ((struct fake *)o)->power++; return 0; }
static int f_pause(void *o, bool p, char *err, size_t n)
{
	struct fake *f = o;
	f->pauses++;
	f->paused = p;
	return 0;
}
static void *f_status(void *o) { return json_pack("{s:i}", "uptime_ms", 42); }

static const struct api_backend_ops fake_ops = {
	.start = f_start, .ctrl_alt_del = f_cad, .power_button = f_power, .pause = f_pause,
	.status = f_status,
};

static struct vm_config cfg;
static struct fake fk;
static struct api api;

static void setup(void)
{
	config_init(&cfg);
	memset(&fk, 0, sizeof(fk));
	api = (struct api){ .cfg = &cfg, .ops = &fake_ops, .opaque = &fk, .id = "vm0" };
}

static void teardown(void)
{
	config_free(&cfg);
}

/* Sends METHOD PATH with body; returns the status, body in *out (or NULL). */
static int call(enum http_method m, const char *path, const char *body, json_t **out)
{
	struct http_request req = { .method = m, .body = body, .body_len = body ? strlen(body) : 0 };
	struct api_response resp;
	snprintf(req.path, sizeof(req.path), "%s", path);
	api_handle(&api, &req, &resp);
	if (out)
		*out = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
	if (resp.status >= 400) {
		/* Every error carries Firecracker's body. */
		json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert(json_is_string(json_object_get(j, "fault_message")));
		json_decref(j);
	}
	free(resp.body);
	return resp.status;
}

static const char *fault_of(json_t *j)
{
	return json_string_value(json_object_get(j, "fault_message"));
}

START_TEST(describe_instance)
{
	json_t *j;
	ck_assert_int_eq(call(HTTP_GET, "/", NULL, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "Not started");
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "vm0");
	json_decref(j);
	ck_assert_int_eq(call(HTTP_GET, "/version", NULL, &j), 200);
	ck_assert(json_is_string(json_object_get(j, "firecracker_version")));
	json_decref(j);
}
END_TEST

START_TEST(machine_config)
{
	json_t *j;
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config",
			      "{\"vcpu_count\": 2, \"mem_size_mib\": 256}", NULL), 204);
	ck_assert_uint_eq(cfg.cpus, 2);
	ck_assert_uint_eq(cfg.mem, 256ull << 20);
	ck_assert_int_eq(call(HTTP_GET, "/machine-config", NULL, &j), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "vcpu_count")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "mem_size_mib")), 256);
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PATCH, "/machine-config", "{\"vcpu_count\": 3}", NULL), 204);
	ck_assert_uint_eq(cfg.cpus, 3);
	ck_assert_uint_eq(cfg.mem, 256ull << 20);
	/* Bad bodies. */
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2}", &j), 400);
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 1}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 1}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64, \"smt\": true}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64, \"bogus\": 1}", &j), 400);
	ck_assert_ptr_nonnull(strstr(fault_of(j), "bogus"));
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"vcpu_count\": 3}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "[1,2]", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", NULL, NULL), 400);
	ck_assert_uint_eq(cfg.cpus, 3); /* failed calls changed nothing */
}
END_TEST

START_TEST(boot_source_drives_net)
{
	json_t *j;
	ck_assert_int_eq(call(HTTP_PUT, "/boot-source",
			      "{\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0 quiet\"}", NULL), 204);
	ck_assert_str_eq(cfg.kernel, "/k");
	ck_assert_str_eq(cfg.cmdline, "console=ttyS0 quiet");
	ck_assert_int_eq(call(HTTP_PUT, "/boot-source", "{\"boot_args\": \"x\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/drives/rootfs",
			      "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/a,b.img\", \"is_root_device\": true, \"is_read_only\": true}", NULL), 204);
	ck_assert_uint_eq(cfg.ndisks, 1);
	ck_assert_str_eq(cfg.disks[0].path, "/a,b.img");
	ck_assert(cfg.disks[0].ro);
	ck_assert_str_eq(cfg.disks[0].serial, "rootfs");
	ck_assert_int_eq(call(HTTP_PUT, "/drives/other",
			      "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/x\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/drives/bad-id!",
			      "{\"drive_id\": \"bad-id!\", \"path_on_host\": \"/x\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/drives/d1",
			      "{\"drive_id\": \"d1\", \"path_on_host\": \"/x\", \"rate_limiter\": {}}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/network-interfaces/eth0",
			      "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", &j), 400);
	ck_assert_ptr_nonnull(strstr(fault_of(j), "tap"));
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PUT, "/network-interfaces/eth0",
			      "{\"iface_id\": \"eth0\", \"guest_mac\": \"06:00:ac:10:00:02\"}", NULL), 204);
	ck_assert_int_eq(cfg.net.kind, NET_USER);
	ck_assert_uint_eq(cfg.net.mac[0], 0x06);
	ck_assert_uint_eq(cfg.net.mac[5], 0x02);
	ck_assert_int_eq(call(HTTP_GET, "/vm/config", NULL, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "boot-source"),
							   "kernel_image_path")), "/k");
	ck_assert_int_eq(json_array_size(json_object_get(j, "drives")), 1);
	json_decref(j);
}
END_TEST

START_TEST(actions_and_states)
{
	json_t *j;
	ck_assert_int_eq(call(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"Reboot\"}", NULL), 400);
	fk.fail_start = 1;
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}", &j), 400);
	ck_assert_str_eq(fault_of(j), "kernel missing");
	json_decref(j);
	fk.fail_start = 0;
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}", NULL), 204);
	ck_assert_int_eq(fk.starts, 1);
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", NULL), 204);
	ck_assert_int_eq(fk.cad, 1);
	ck_assert_int_eq(call(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}", NULL), 204);
	ck_assert(fk.paused);
	ck_assert_int_eq(call(HTTP_GET, "/", NULL, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "Paused");
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PATCH, "/vm", "{\"state\": \"Resumed\"}", NULL), 204);
	ck_assert(!fk.paused);
	ck_assert_int_eq(call(HTTP_PATCH, "/vm", "{\"state\": \"Sleeping\"}", NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/myvmm/power-button", NULL, NULL), 204);
	ck_assert_int_eq(fk.power, 1);
	ck_assert_int_eq(call(HTTP_GET, "/myvmm/status", NULL, &j), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "uptime_ms")), 42);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "Running");
	json_decref(j);
}
END_TEST

START_TEST(unknown_paths_and_methods)
{
	json_t *j;
	ck_assert_int_eq(call(HTTP_GET, "/nope", NULL, &j), 400);
	ck_assert_ptr_nonnull(strstr(fault_of(j), "path"));
	json_decref(j);
	ck_assert_int_eq(call(HTTP_PUT, "/", "{}", &j), 400);
	ck_assert_ptr_nonnull(strstr(fault_of(j), "method"));
	json_decref(j);
	ck_assert_int_eq(call(HTTP_OTHER, "/actions", NULL, NULL), 400);
	ck_assert_int_eq(call(HTTP_PUT, "/snapshot/create", "{}", NULL), 400);
}
END_TEST

CHECK_MAIN_FIXTURE("api", setup, teardown, describe_instance, machine_config,
	boot_source_drives_net, actions_and_states, unknown_paths_and_methods)
