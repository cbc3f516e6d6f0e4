/* Firecracker's metrics (PUT /metrics, FlushMetrics, --metrics FILE): one
 * JSON object per line, appended to an existing file or FIFO. Counters
 * follow Firecracker's SharedIncMetric: a line holds what happened since the
 * line before (a consumer sums them); "latencies_us" and "myvmm" hold
 * values (the last measurement, the uptime). Field names are Firecracker's
 * where it counts the same thing (vcpu.exit_io_in, block_ID.read_bytes,
 * net_eth0.rx_bytes_count, put_api_requests.drive_count, ...); myvmm's own
 * extras sit beside them (vcpu.exit_other, net.rx_dropped) or under
 * "myvmm" / "myvmm_api_requests". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"

#define PATH_SHOWN 300

struct api_metrics {
	int fd;
	bool fifo;
	char *path;
	json_t *prev_vm, *prev_api;     /* the cumulative counters of the last line */
	char *pend;                     /* the unwritten tail of a line (a full FIFO) */
	size_t pend_len, pend_off;
	uint64_t missed, fails;         /* logger.missed_metrics_count / metrics_fails */
};

uint64_t api_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int64_t utc_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int api_metrics_open(struct api *a, const char *path, char *err, size_t errlen)
{
	struct api_metrics *m;
	struct stat st;
	int fd;

	if (a->metrics) {
		snprintf(err, errlen, "the metrics are already set up (to %.*s); like Firecracker, "
			 "myvmm sets them up once", PATH_SHOWN, a->metrics->path);
		return -EBUSY;
	}
	if (!path || !*path) {
		snprintf(err, errlen, "metrics_path is required (an existing file or FIFO)");
		return -EINVAL;
	}
	if (stat(path, &st)) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "metrics_path %.*s does not exist; create it first (touch or "
				 "mkfifo): like Firecracker, myvmm does not create it", PATH_SHOWN, path);
		else
			snprintf(err, errlen, "metrics_path %.*s: %s", PATH_SHOWN, path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		snprintf(err, errlen, "metrics_path %.*s is not a regular file or a FIFO", PATH_SHOWN,
			 path);
		return -EINVAL;
	}
	/* A FIFO read-write: open needs no reader and never blocks; while
	 * nobody reads, lines fill the pipe and then are dropped (counted). */
	fd = open(path, (S_ISFIFO(st.st_mode) ? O_RDWR : O_WRONLY | O_APPEND) | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "metrics_path %.*s: %s", PATH_SHOWN, path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))) {
		close(fd);
		snprintf(err, errlen, "metrics_path %.*s is not a regular file or a FIFO", PATH_SHOWN,
			 path);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->fd = fd;
	m->fifo = S_ISFIFO(st.st_mode);
	a->metrics = m;
	return 0;
}

void api_metrics_close(struct api *a)
{
	struct api_metrics *m = a->metrics;
	if (!m)
		return;
	close(m->fd);
	json_decref(m->prev_vm);
	json_decref(m->prev_api);
	free(m->pend);
	free(m->path);
	free(m);
	a->metrics = NULL;
}

/* cur - prev for every integer of every section (cur < prev: the counter
 * started again, a new VM after a reset, so cur is the delta). */
static json_t *deltas(json_t *cur, json_t *prev)
{
	json_t *out = json_object(), *sec, *v;
	const char *sname, *key;

	json_object_foreach(cur, sname, sec) {
		json_t *o = json_object(), *psec = json_object_get(prev, sname);
		json_object_foreach(sec, key, v) {
			json_int_t c = json_integer_value(v);
			json_t *pv = json_object_get(psec, key);
			json_int_t p = json_is_integer(pv) ? json_integer_value(pv) : 0;
			json_object_set_new(o, key, json_integer(c >= p ? c - p : c));
		}
		json_object_set_new(out, sname, o);
	}
	return out;
}

/* Writes what is left of the pending line; 0 when it is all out. */
static int write_pending(struct api_metrics *m)
{
	while (m->pend_off < m->pend_len) {
		ssize_t n = write(m->fd, m->pend + m->pend_off, m->pend_len - m->pend_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		m->pend_off += (size_t)n;
	}
	free(m->pend);
	m->pend = NULL;
	m->pend_len = m->pend_off = 0;
	return 0;
}

static json_t *build_line(struct api *a, bool vm_ending)
{
	struct api_metrics *m = a->metrics;
	json_t *vm = a->ops->vm_counters ? a->ops->vm_counters(a->opaque) : NULL;
	json_t *api = json_object(), *line = json_object(), *d, *v;

	api_requests_json(a, api);
	json_object_set_new(api, "logger", json_pack("{s:I, s:I}", "missed_metrics_count",
				(json_int_t)m->missed, "metrics_fails", (json_int_t)m->fails));
	json_object_set_new(line, "utc_timestamp_ms", json_integer(utc_ms()));
	if (vm) {
		d = deltas(vm, m->prev_vm);
		json_object_update(line, d);
		json_decref(d);
	}
	d = deltas(api, m->prev_api);
	json_object_update(line, d);
	json_decref(d);
	json_object_set_new(line, "latencies_us", json_pack("{s:I, s:I, s:I, s:I, s:I}",
		"full_create_snapshot", (json_int_t)a->counters.full_create_us,
		"diff_create_snapshot", (json_int_t)a->counters.diff_create_us,
		"load_snapshot", (json_int_t)a->counters.load_us,
		"pause_vm", (json_int_t)a->counters.pause_us,
		"resume_vm", (json_int_t)a->counters.resume_us));
	v = a->ops->vm_gauges ? a->ops->vm_gauges(a->opaque) : json_object();
	if (v) {
		json_object_set_new(v, "state", json_string(api_state_names[a->state]));
		json_object_set_new(line, "myvmm", v);
	}
	/* The next line counts from here; a VM that ends takes its counters
	 * with it (the next one starts from zero). */
	json_decref(m->prev_vm);
	m->prev_vm = vm_ending ? NULL : vm;
	if (vm_ending)
		json_decref(vm);
	json_decref(m->prev_api);
	m->prev_api = api;
	return line;
}

int api_metrics_flush(struct api *a, bool vm_ending)
{
	struct api_metrics *m = a->metrics;
	json_t *line;
	char *text;
	int r;

	if (!m)
		return -ENODEV;
	line = build_line(a, vm_ending);
	text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	json_decref(line);
	if (!text) {
		m->fails++;
		return -ENOMEM;
	}
	/* A line half out (a full FIFO) is finished first; if it cannot be,
	 * this one is dropped rather than interleaved. */
	if (m->pend && (r = write_pending(m))) {
		free(text);
		m->missed++;
		return r == -EAGAIN ? -EAGAIN : r;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps' NUL becomes the line end */
	m->pend = text;
	m->pend_len = len + 1;
	m->pend_off = 0;
	r = write_pending(m);
	if (r && m->pend_off == 0) {
		/* Nothing of it went out: drop it whole. */
		free(m->pend);
		m->pend = NULL;
		m->pend_len = 0;
		m->missed++;
		if (r != -EAGAIN)
			m->fails++;
		return r;
	}
	return 0; /* all out, or the rest follows with the next line */
}

/* PUT /metrics {"metrics_path": PATH}. */
void api_put_metrics(struct api *a, const struct http_request *req, const char *arg,
		     struct api_response *resp)
{
	static const char *const keys[] = { "metrics_path", NULL };
	char err[API_ERR_LEN] = "";
	const char *path = NULL;
	int r;
	json_t *j = api_body_object(req, keys, resp);

	if (!j)
		return;
	if (api_get_string(j, "metrics_path", &path, resp) < 0)
		goto out;
	if (!path || !*path) {
		api_fault(resp, 400, "metrics_path is required (an existing file or FIFO)");
		goto out;
	}
	r = a->ops->metrics_config ? a->ops->metrics_config(a->opaque, path, err, sizeof(err))
				   : api_metrics_open(a, path, err, sizeof(err));
	if (r)
		api_fault(resp, 400, "%s", err[0] ? err : strerror(-r));
	else
		api_respond_json(resp, 204, NULL);
out:
	json_decref(j);
}
