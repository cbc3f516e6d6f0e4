/* api_backend_ops on top of the machine API (see backend.h). */
#include "api/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "host/log.h"
#include "machine/machine.h"
#include "ui/screenshot.h"
#include "vcpu/pause.h"

/* Left Ctrl (0x14), left Alt (0x11), Delete (E0 71), released in reverse. */
const struct api_key_event api_cad_sequence[API_CAD_EVENTS] = {
	{ 1, { 0x14 } }, { 1, { 0x11 } }, { 2, { 0xe0, 0x71 } },
	{ 3, { 0xe0, 0xf0, 0x71 } }, { 2, { 0xf0, 0x11 } }, { 2, { 0xf0, 0x14 } },
};

static struct vm *running(struct api_vmm *v, char *err, size_t errlen)
{
	struct vm *vm = *v->vm;
	if (!vm)
		snprintf(err, errlen, "the VM is between a reset and its restart; retry");
	return vm;
}

static int b_start(void *opaque, struct vm_config *cfg, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	char cerr[CONFIG_ERR_LEN];

	if (!cfg->kernel && !cfg->ndisks) {
		snprintf(err, errlen, "no boot source: PUT /boot-source {\"kernel_image_path\": ...} "
			 "(or a root drive) before InstanceStart");
		return -EINVAL;
	}
	if (cfg->kernel && access(cfg->kernel, R_OK)) {
		snprintf(err, errlen, "kernel_image_path %.300s: %s", cfg->kernel, strerror(errno));
		return -EINVAL;
	}
	if (config_validate(cfg, cerr)) {
		snprintf(err, errlen, "%s", cerr);
		return -EINVAL;
	}
	if (config_finish(cfg)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return v->boot(v->boot_opaque, err, errlen);
}

static int b_ctrl_alt_del(void *opaque, char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	if (!vm)
		return -EAGAIN;
	for (unsigned i = 0; i < API_CAD_EVENTS; i++)
		vm_input_key(vm, api_cad_sequence[i].code, api_cad_sequence[i].len);
	return 0;
}

static int b_power_button(void *opaque, char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	if (!vm)
		return -EAGAIN;
	vm_input_power(vm);
	return 0;
}

static int b_pause(void *opaque, bool paused, char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	int r;
	if (!vm)
		return -EAGAIN;
	if (!paused) {
		vcpu_resume_all(vm_vcpu_gate(vm));
		return 0;
	}
	r = vcpu_pause_all(vm_vcpu_gate(vm), vm_vcpus(vm), vm_ncpus(vm));
	if (r) {
		vcpu_resume_all(vm_vcpu_gate(vm));
		snprintf(err, errlen, "the vCPUs did not stop within 5 s: %s", strerror(-r));
	}
	return r;
}

static void *b_status(void *opaque)
{
	struct api_vmm *v = opaque;
	struct timespec t;
	json_t *j;

	clock_gettime(CLOCK_MONOTONIC, &t);
	int64_t up = (int64_t)(t.tv_sec - v->t0->tv_sec) * 1000 +
		     (t.tv_nsec - v->t0->tv_nsec) / 1000000;
	j = json_pack("{s:I, s:i, s:i, s:I, s:s?}", "uptime_ms", (json_int_t)up, "resets",
		      (int)*v->resets, "vcpu_count", (int)v->cfg->cpus, "mem_size_mib",
		      (json_int_t)(v->cfg->mem >> 20), "name", v->cfg->name);
	if (!j)
		return NULL;
	json_object_set_new(j, "boot_marker_ms", *v->marker_ms < 0 ? json_null() :
			    json_integer((json_int_t)*v->marker_ms));
	json_object_set_new(j, "mem_path", v->cfg->hugepages ? json_string("hugepages") : v->cfg->mem_path ? json_string(v->cfg->mem_path) : json_null()); /* --mem-path (mempath) */
	return j;
}

static int b_snapshot_create(void *opaque, const char *state, const char *mem, bool diff,
			     char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	struct vm_snapshot_stats st;
	struct err e = { "" };
	int r;

	if (!vm)
		return -EAGAIN;
	if ((r = vm_snapshot_create(vm, state, mem, diff, &st, &e)))
		snprintf(err, errlen, "%s", e.msg);
	return r;
}

static int b_snapshot_load(void *opaque, const char *state, const char *mem, bool resume,
			   bool track_dirty, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	if (!v->restore) {
		snprintf(err, errlen, "snapshot restore is not available here");
		return -ENOTSUP;
	}
	return v->restore(v->boot_opaque, state, mem, resume, track_dirty, err, errlen);
}

static int b_drive_swap(void *opaque, unsigned disk, const char *path, char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	if (!vm)
		return -EAGAIN;
	return vm_disk_swap(vm, disk, path, err, errlen);
}

static int b_logger(void *opaque, const struct api_logger *l, char *err, size_t errlen)
{
	int r = log_open_existing(l->path);

	if (r == -ENOENT)
		snprintf(err, errlen, "log_path %.300s does not exist; create it first (touch or "
			 "mkfifo): like Firecracker, myvmm does not create it", l->path);
	else if (r == -EINVAL)
		snprintf(err, errlen, "log_path %.300s is not a regular file or a FIFO", l->path);
	else if (r)
		snprintf(err, errlen, "log_path %.300s: %s", l->path, strerror(-r));
	if (r)
		return r;
	log_configure_file(l->level, l->show_level, l->show_origin);
	pr_info("logging to %s (PUT /logger)", l->path);
	return 0;
}

struct shot {
	uint8_t *png;
	size_t len;
	int r;
};

/* Under the display's lock: encode only; the file is written after. */
static void shot_draw(const struct display_frame *f, void *arg)
{
	struct shot *s = arg;
	s->r = screenshot_png(f, &s->png, &s->len);
}

static int b_screenshot(void *opaque, const char *path, char *err, size_t errlen)
{
	struct vm *vm = running(opaque, err, errlen);
	struct shot s = { NULL, 0, 0 };
	char tmp[4200];
	int r, fd;

	if (!vm)
		return -EAGAIN;
	if ((r = vm_display_frame(vm, shot_draw, &s)))
		return r; /* -ENODEV: no display device */
	if (s.r) {
		snprintf(err, errlen, "%s", s.r == -EINVAL ? "the guest has set no display mode yet"
				: strerror(-s.r));
		return s.r;
	}
	/* Through PATH.tmp and rename: a reader never sees half a PNG. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		free(s.png);
		snprintf(err, errlen, "path is too long");
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	r = fd < 0 ? -errno : 0;
	for (size_t off = 0; !r && off < s.len;) {
		ssize_t n = write(fd, s.png + off, s.len - off);
		if (n < 0)
			r = -errno;
		else
			off += (size_t)n;
	}
	if (fd >= 0 && close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		if (fd >= 0)
			unlink(tmp);
		snprintf(err, errlen, "path %.300s: %s", path, strerror(-r));
	}
	free(s.png);
	return r;
}

/* Firecracker's BlockDeviceMetrics fields myvmm counts (+ aggregate). */
static void add_block(json_t *o, const struct virtio_blk_stats *b)
{
	static const char *const keys[] = { "read_count", "read_bytes", "write_count",
					    "write_bytes", "flush_count", "invalid_reqs_count",
					    "execute_fails" };
	const uint64_t vals[] = { b->read_count, b->read_bytes, b->write_count, b->write_bytes,
				  b->flush_count, b->invalid_reqs, b->execute_fails };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(o, keys[i], json_integer((json_int_t)vals[i] +
				    json_integer_value(json_object_get(o, keys[i]))));
}

static void *b_vm_counters(void *opaque)
{
	struct api_vmm *v = opaque;
	struct vm *vm = *v->vm;
	struct vm_stats st;
	struct virtio_blk_stats zero = { 0 };
	char name[48];

	if (!vm)
		return NULL;
	vm_get_stats(vm, &st);
	json_t *j = json_object(), *all = json_object();
	json_object_set_new(j, "vcpu", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"exit_io_in", (json_int_t)st.vcpu.io_in, "exit_io_out", (json_int_t)st.vcpu.io_out,
		"exit_mmio_read", (json_int_t)st.vcpu.mmio_read,
		"exit_mmio_write", (json_int_t)st.vcpu.mmio_write,
		"failures", (json_int_t)st.vcpu.failures, "exit_other", (json_int_t)st.vcpu.other));
	add_block(all, &zero);
	for (unsigned i = 0; i < st.ndisks; i++) {
		const char *serial = v->cfg->disks[i].serial;
		json_t *o;
		if (!st.disk_present[i])
			continue;
		if (serial[0])
			snprintf(name, sizeof(name), "block_%.*s", (int)sizeof(v->cfg->disks[i].serial),
				 serial);
		else
			snprintf(name, sizeof(name), "block_disk%u", i);
		o = json_object();
		add_block(o, &st.disk[i]);
		add_block(all, &st.disk[i]);
		json_object_set_new(j, name, o);
	}
	json_object_set_new(j, "block", all);
	if (st.net_present) {
		/* One interface: GET /vm/config calls it eth0. */
		json_t *n = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			"rx_bytes_count", (json_int_t)st.net.rx_bytes,
			"rx_packets_count", (json_int_t)st.net.rx_frames,
			"tx_bytes_count", (json_int_t)st.net.tx_bytes,
			"tx_packets_count", (json_int_t)st.net.tx_frames,
			"rx_dropped", (json_int_t)st.net.rx_dropped,
			"tx_dropped", (json_int_t)st.net.tx_dropped);
		json_object_set_new(j, "net_eth0", json_deep_copy(n));
		json_object_set_new(j, "net", n);
	}
	return j;
}

static void *b_vm_gauges(void *opaque)
{
	struct api_vmm *v = opaque;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	int64_t up = (int64_t)(t.tv_sec - v->t0->tv_sec) * 1000 +
		     (t.tv_nsec - v->t0->tv_nsec) / 1000000;
	return json_pack("{s:I, s:i}", "uptime_ms", (json_int_t)up, "resets", (int)*v->resets);
}

static void *b_console(void *opaque)
{
	struct api_vmm *v = opaque;
	if (!v->console_type || !v->console_path)
		return NULL;
	return json_pack("{s:s, s:s}", "type", v->console_type, "path", v->console_path);
}

const struct api_backend_ops api_vmm_ops = {
	.snapshot_create = b_snapshot_create,
	.snapshot_load = b_snapshot_load,
	.start = b_start,
	.ctrl_alt_del = b_ctrl_alt_del,
	.power_button = b_power_button,
	.pause = b_pause,
	.status = b_status,
	.drive_swap = b_drive_swap,
	.logger = b_logger,
	.screenshot = b_screenshot,
	.console = b_console,
	.vm_counters = b_vm_counters,
	.vm_gauges = b_vm_gauges,
};
