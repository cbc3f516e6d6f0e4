/* myvmm: parse the configuration, own the terminal, run the VM (again after
 * each guest reset), and turn the way it stopped into the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/qemu_args.h"
#include "host/sandbox.h"
#include "host/console_chan.h"
#include "cli/hostcheck.h"
#include "cli/status.h"
#include "host/console.h"
#include "host/daemon.h"
#include "host/efd.h"
#include "host/evloop.h"
#include "host/log.h"
#include "ui/screenshot.h"
#include "host/term.h"
#include "kvm/kvm_host.h"
#include "gdb/stub.h"
#include "api/backend.h"
#include "api/server.h"
#include "vcpu/pause.h"
#include "machine/machine.h"
#include "mem/mem_file.h"
#include "ui/display.h"
#include "vcpu/vcpu.h"

#define EXIT_USAGE 2
#define PENDING_MAX 4096
#define METRICS_INTERVAL_MS 60000

struct runner {
	struct vm_config cfg;
	struct kvm_host kvm;
	struct console con;
	struct console_chan *chan;      /* --console pty|unix:PATH, NULL otherwise */
	struct vm_host_ctx host;
	struct evloop *loop;
	struct gdb_stub *gdb;           /* --gdb, NULL without */
	struct vm *vm;                  /* the running VM, NULL between resets */
	struct api api;                 /* --api-sock: the control API */
	struct api_vmm api_vmm;
	struct api_server *api_srv;     /* NULL without --api-sock */
	bool api_wait;                  /* no boot source yet: wait for InstanceStart */
	struct vm *api_built;           /* built by InstanceStart, run_machine takes it */
	struct vm_restore *restore;     /* --restore: the snapshot the first VM is built from */
	bool start_paused;              /* --restore ...,paused */
	pthread_mutex_t vm_lock;        /* guards vm (the UI thread reads it) */
	volatile int io_done;           /* the I/O thread's run_machine() returned */
	enum stop_reason early_why;     /* a stop that arrived while no VM ran */
	int early_value;
	struct esc_filter esc;
	uint8_t pending[PENDING_MAX];   /* stdin bytes the UART had no room for */
	size_t pending_len;
	int retry_timer;
	bool stdin_active;
	int sigfd;
	struct timespec t0;
	int64_t marker_ms;
	unsigned resets;
};

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000 + (uint64_t)(t.tv_nsec / 1000000) -
	       (uint64_t)(t0->tv_nsec / 1000000);
}

static void request_stop(struct runner *r, enum stop_reason why, int value)
{
	pthread_mutex_lock(&r->vm_lock);
	if (r->vm)
		vm_request_stop(r->vm, why, value);
	else if (r->early_why == STOP_NONE) {
		r->early_why = why;
		r->early_value = value;
		if (r->api_wait)
			evloop_quit(r->loop); /* waiting for InstanceStart: stop waiting */
	}
	pthread_mutex_unlock(&r->vm_lock);
}

static void on_stop_efd(void *opaque, int fd, uint32_t ev)
{
	struct runner *r = opaque;
	efd_drain(fd);
	evloop_quit(r->loop);
}

static void on_timeout(void *opaque)
{
	struct runner *r = opaque;
	pr_info("timeout of %llu ms expired", (unsigned long long)r->cfg.timeout_ms);
	request_stop(r, STOP_TIMEOUT, 0);
}

static void on_signal(void *opaque, int fd, uint32_t ev)
{
	struct runner *r = opaque;
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("received signal %u, stopping the VM", si.ssi_signo);
	request_stop(r, STOP_SIGNAL, (int)si.ssi_signo);
}

static void on_match(void *opaque, enum console_match m)
{
	struct runner *r = opaque;
	request_stop(r, m == MATCH_EXPECT ? STOP_EXPECT : STOP_EXPECT_FAIL, 0);
}

static void on_boot_marker(void *opaque, unsigned value)
{
	struct runner *r = opaque;
	if (r->marker_ms < 0) {
		r->marker_ms = (int64_t)ms_since(&r->t0);
		pr_info("guest reached userspace at %lld ms (marker value %u)",
			(long long)r->marker_ms, value);
	}
}

static void on_stdin(void *opaque, int fd, uint32_t ev);

/* 10 Hz: --expect on a prompt that ends without a newline. */
static void on_tick(void *opaque)
{
	struct runner *r = opaque;
	console_check_idle(&r->con, 150);
}

/* 1 Hz: the RTC's update-ended and alarm interrupts. */
static void on_second(void *opaque)
{
	struct runner *r = opaque;
	if (r->vm)
		vm_tick_second(r->vm);
}

/* Pushes buffered input into the UART; re-enables stdin once drained. */
static void flush_pending(struct runner *r)
{
	if (r->vm && r->pending_len) {
		size_t n = vm_console_input(r->vm, r->pending, r->pending_len);
		memmove(r->pending, r->pending + n, r->pending_len - n);
		r->pending_len -= n;
	}
	if (r->pending_len == 0 && r->retry_timer >= 0) {
		evloop_del_timer(r->loop, r->retry_timer);
		r->retry_timer = -1;
	}
	if (r->pending_len < sizeof(r->pending))
		console_chan_resume_input(r->chan);
	if (r->pending_len == 0 && !r->stdin_active && r->cfg.console == CONSOLE_STDIO) {
		if (evloop_add_fd(r->loop, 0, EPOLLIN, on_stdin, r) == 0)
			r->stdin_active = true;
	}
}

static void on_retry(void *opaque) { flush_pending(opaque); }

static void on_stdin(void *opaque, int fd, uint32_t ev)
{
	struct runner *r = opaque;
	uint8_t in[256];
	ssize_t n = read(fd, in, sizeof(in));

	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		evloop_del_fd(r->loop, fd); /* EOF: the guest just gets no more input */
		r->stdin_active = false;
		return;
	}
	size_t off = 0;
	while (off < (size_t)n) {
		uint8_t out[256];
		size_t on, used;
		enum esc_result e = esc_filter_feed(&r->esc, in + off, (size_t)n - off, out, &on, &used);
		off += used;
		if (r->chan)
			on = 0; /* the guest's input comes from the pty/socket; here only Ctrl-A */
		if (on > sizeof(r->pending) - r->pending_len)
			on = sizeof(r->pending) - r->pending_len;
		memcpy(r->pending + r->pending_len, out, on);
		r->pending_len += on;
		if (e == ESC_QUIT) {
			pr_info("Ctrl-A x: quitting");
			request_stop(r, STOP_QUIT, 0);
			return;
		}
		if (e == ESC_HELP)
			fprintf(stderr, "\r\nmyvmm: Ctrl-A x quit, Ctrl-A Ctrl-A send Ctrl-A, Ctrl-A h help\r\n");
	}
	flush_pending(r);
	if (r->pending_len) {
		/* The UART is full: stop reading until the guest drains it. */
		evloop_del_fd(r->loop, 0);
		r->stdin_active = false;
		if (r->retry_timer < 0)
			r->retry_timer = evloop_add_timer(r->loop, 5, 5, on_retry, r);
	}
}

/* --console pty|unix: the client's keystrokes, queued like stdin's. */
static size_t chan_room(void *opaque)
{
	struct runner *r = opaque;
	return sizeof(r->pending) - r->pending_len;
}

static void chan_input(void *opaque, const uint8_t *buf, size_t n)
{
	struct runner *r = opaque;
	if (n > chan_room(r))
		n = chan_room(r);
	memcpy(r->pending + r->pending_len, buf, n);
	r->pending_len += n;
	flush_pending(r);
	if (r->pending_len && r->retry_timer < 0)
		r->retry_timer = evloop_add_timer(r->loop, 5, 5, on_retry, r);
}

/* Opens the pty or socket console and says where it is (stderr, one line). */
static int open_chan(struct runner *r)
{
	char err[CHAN_ERR_LEN];
	const struct chan_input in = { .room = chan_room, .input = chan_input, .opaque = r };
	bool pty = r->cfg.console == CONSOLE_PTY;

	if (console_chan_open(&r->chan, pty ? CHAN_PTY : CHAN_UNIX, r->cfg.console_path, r->loop,
			      &in, err)) {
		fprintf(stderr, "myvmm: %s\n", err);
		return -1;
	}
	if (pty)
		fprintf(stderr, "myvmm: console on pty %s\n", console_chan_path(r->chan));
	else
		fprintf(stderr, "myvmm: console on unix socket %s (attach: socat -,raw,echo=0 "
			"UNIX-CONNECT:%s)\n", console_chan_path(r->chan), console_chan_path(r->chan));
	r->con.sink = console_chan_write;
	r->con.sink_opaque = r->chan;
	return 0;
}

static int api_boot(void *opaque, char *msg, size_t len);
static int api_restore(void *opaque, const char *state, const char *mem, bool resume,
		       bool track_dirty, char *msg, size_t len);

/* The API's state (also without --api-sock: --metrics counts through it),
 * and with --api-sock the control socket on the event loop. Without a
 * kernel or disk myvmm waits for the configuration (Firecracker's flow). */
static int start_api(struct runner *r)
{
	char err[512];

	r->api_wait = r->cfg.api_sock && !r->cfg.kernel && !r->cfg.ndisks;
	r->api_vmm = (struct api_vmm){
		.vm = &r->vm, .t0 = &r->t0, .marker_ms = &r->marker_ms, .resets = &r->resets,
		.cfg = &r->cfg, .boot = api_boot, .restore = api_restore, .boot_opaque = r,
		.console_type = !r->chan ? NULL : r->cfg.console == CONSOLE_PTY ? "pty" : "unix",
		.console_path = r->chan ? console_chan_path(r->chan) : NULL,
	};
	r->api = (struct api){
		.cfg = &r->cfg,
		.state = r->api_wait ? API_NOT_STARTED : r->start_paused ? API_PAUSED : API_RUNNING,
		.ops = &api_vmm_ops, .opaque = &r->api_vmm,
		.id = r->cfg.name ? r->cfg.name : "anonymous-instance",
	};
	if (r->cfg.metrics_path && api_metrics_open(&r->api, r->cfg.metrics_path, err, sizeof(err))) {
		fprintf(stderr, "myvmm: --metrics: %s\n", err);
		return -1;
	}
	if (r->cfg.api_sock &&
	    api_server_create(r->cfg.api_sock, r->loop, &r->api, &r->api_srv, err, sizeof(err))) {
		fprintf(stderr, "myvmm: %s\n", err);
		return -1;
	}
	return 0;
}

/* Firecracker flushes its metrics every 60 s. */
static void on_metrics(void *opaque)
{
	struct runner *r = opaque;
	api_metrics_flush(&r->api, false);
}

static int setup_signals(struct runner *r)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	/* Blocked in every thread (vCPU threads inherit the mask); read here. */
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0)
		return -errno;
	vcpu_install_kick_handler();
	signal(SIGPIPE, SIG_IGN);
	return evloop_add_fd(r->loop, r->sigfd, EPOLLIN, on_signal, r);
}

static void write_status(struct runner *r, enum stop_reason why, int value, int code)
{
	char lines[CONSOLE_KEEP_LINES + 1][CONSOLE_LINE_MAX];
	const char *ptrs[CONSOLE_KEEP_LINES + 1];
	unsigned n = console_last_lines(&r->con, lines, CONSOLE_KEEP_LINES + 1);
	for (unsigned i = 0; i < n; i++)
		ptrs[i] = lines[i];
	struct run_status s = {
		.reason = why, .value = value, .exit_code = code, .wall_ms = ms_since(&r->t0),
		.boot_marker_ms = r->marker_ms, .cpus = r->cfg.cpus, .mem = r->cfg.mem,
		.mem_path = r->cfg.hugepages ? "hugepages" : r->cfg.mem_path,
		.resets = r->resets, .kernel = r->cfg.kernel, .name = r->cfg.name,
		.lines = ptrs, .nlines = n,
	};
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->cfg.status_file);
	FILE *f = fopen(tmp, "w");
	if (!f || status_write_json(f, &s) || fclose(f) || rename(tmp, r->cfg.status_file)) {
		pr_err("--status-file %s: cannot write: %s", r->cfg.status_file, strerror(errno));
		if (f)
			unlink(tmp);
	}
}

/* InstanceStart (I/O thread, from the API server): the configuration is
 * validated; build the VM here so that a bad kernel or disk is the API
 * call's error, and let run_machine() run it. */
static int api_boot(void *opaque, char *msg, size_t len)
{
	struct runner *r = opaque;
	struct err err;
	int rc;

	if (!r->api_wait)
		return snprintf(msg, len, "the VM is already started"), -EBUSY;
	if ((rc = vm_create(&r->cfg, &r->host, &r->api_built, &err))) {
		snprintf(msg, len, "%s", err.msg);
		return rc;
	}
	r->api_wait = false;
	evloop_quit(r->loop);
	return 0;
}

/* PUT /snapshot/load (I/O thread, waiting for the configuration): the
 * machine is rebuilt from the snapshot here, so that a bad snapshot is the
 * call's error; run_machine runs it (paused unless resume). */
static int api_restore(void *opaque, const char *state, const char *mem, bool resume,
		       bool track_dirty, char *msg, size_t len)
{
	struct runner *r = opaque;
	struct vm_restore *rs = NULL;
	uint64_t t0 = ms_since(&r->t0);
	struct err err = { "" };
	int rc;

	if (!r->api_wait)
		return snprintf(msg, len, "the VM is already started"), -EBUSY;
	if (!(rc = vm_restore_open(state, mem, &rs, &err)) &&
	    !(rc = vm_restore_config(rs, &r->cfg, &err))) {
		r->cfg.track_dirty = track_dirty; /* not part of the snapshot */
		rc = vm_create_restored(&r->cfg, &r->host, rs, &r->api_built, &err);
	}
	if (rc) {
		vm_restore_close(rs);
		snprintf(msg, len, "%s", err.msg);
		return rc;
	}
	vm_restore_close(rs);
	fprintf(stderr, "myvmm: restored %s in %llu ms (guest RAM mapped copy-on-write from %s)\n",
		state, (unsigned long long)(ms_since(&r->t0) - t0), mem);
	r->start_paused = !resume;
	r->api_wait = false;
	evloop_quit(r->loop);
	return 0;
}

/* --api-sock without a boot source: serve the API until InstanceStart
 * (true) or a stop request (false: early_why says which). */
static bool wait_for_start(struct runner *r)
{
	pr_info("waiting for the configuration on %s (PUT /boot-source, then PUT /actions "
		"InstanceStart)", r->cfg.api_sock);
	while (r->api_wait && r->early_why == STOP_NONE)
		evloop_run(r->loop);
	return r->api_built != NULL;
}

/* --screenshot: writes the frame of the VM that stops for good. */
static void screenshot_draw(const struct display_frame *f, void *arg)
{
	const char *path = arg;
	int r = screenshot_write(path, f);

	if (r)
		pr_warn("--screenshot %s: %s", path,
			r == -EINVAL ? "the guest set no display mode" : strerror(-r));
}

/* Runs VMs until one stops for a reason other than a guest reset. */
static enum stop_reason run_machine(struct runner *r, int *value)
{
	struct err err;

	if (r->api_wait && !wait_for_start(r)) {
		*value = r->early_value;
		return r->early_why;
	}
	for (;;) {
		struct vm *nvm = r->api_built;
		int rc = 0;
		r->api_built = NULL;
		if (!nvm && r->restore) {
			rc = vm_create_restored(&r->cfg, &r->host, r->restore, &nvm, &err);
			vm_restore_close(r->restore);
			r->restore = NULL;
			if (!rc)
				fprintf(stderr, "myvmm: restored %s in %llu ms after start (guest RAM "
					"mapped copy-on-write from %s)\n", r->cfg.restore,
					(unsigned long long)ms_since(&r->t0), r->cfg.restore_mem);
		} else if (!nvm) {
			rc = vm_create(&r->cfg, &r->host, &nvm, &err);
		}
		pthread_mutex_lock(&r->vm_lock);
		r->vm = nvm;
		pthread_mutex_unlock(&r->vm_lock);
		if (rc) {
			pr_err("%s", err.msg);
			*value = EXIT_USAGE;
			return STOP_NONE;
		}
		flush_pending(r);
		gdb_stub_attach(r->gdb, r->vm);
		evloop_add_fd(r->loop, vm_stop_fd(r->vm), EPOLLIN, on_stop_efd, r);
		if (r->start_paused && r->api_srv)
			r->api.state = API_PAUSED;      /* --restore ...,paused or resume_vm false */
		/* paused across a guest reset, or restored paused */
		if (r->api.state == API_PAUSED || r->start_paused)
			vcpu_pause_all(vm_vcpu_gate(r->vm), vm_vcpus(r->vm), vm_ncpus(r->vm));
		r->start_paused = false;
		if (r->early_why != STOP_NONE)
			vm_request_stop(r->vm, r->early_why, r->early_value);
		else if ((rc = vm_start(r->vm)))
			pr_err("starting vCPUs: %s", strerror(-rc));
		evloop_run(r->loop);
		evloop_del_fd(r->loop, vm_stop_fd(r->vm));
		{
			int v;
			enum stop_reason w = vm_stop_reason(r->vm, &v);
			gdb_stub_detach(r->gdb, w != STOP_RESET || r->cfg.no_reboot,
					status_exit_code(w, v, r->cfg.no_reboot));
		}
		vm_stop_vcpus(r->vm);
		api_metrics_flush(&r->api, true); /* the last line of this VM's counters */
		enum stop_reason why = vm_stop_reason(r->vm, value);
		struct vm *vm = r->vm;
		pthread_mutex_lock(&r->vm_lock);
		r->vm = NULL;
		pthread_mutex_unlock(&r->vm_lock);
		if (r->cfg.screenshot && (why != STOP_RESET || r->cfg.no_reboot))
			vm_display_frame(vm, screenshot_draw, r->cfg.screenshot);
		vm_destroy(vm);
		if (why != STOP_RESET || r->cfg.no_reboot)
			return why;
		r->resets++;
		pr_info("guest reset: restarting the VM");
	}
}

/* ---- the UI's view of the machine (display_host; UI thread) ---- */

static int ui_frame(void *opaque, display_draw_fn draw, void *arg)
{
	struct runner *r = opaque;
	int ret = -ENODEV;
	pthread_mutex_lock(&r->vm_lock);
	if (r->vm)
		ret = vm_display_frame(r->vm, draw, arg);
	pthread_mutex_unlock(&r->vm_lock);
	return ret;
}

static void ui_key(void *opaque, const uint8_t *set2, size_t n)
{
	struct runner *r = opaque;
	pthread_mutex_lock(&r->vm_lock);
	if (r->vm)
		vm_input_key(r->vm, set2, n);
	pthread_mutex_unlock(&r->vm_lock);
}

static void ui_mouse(void *opaque, int dx, int dy, unsigned buttons)
{
	struct runner *r = opaque;
	pthread_mutex_lock(&r->vm_lock);
	if (r->vm)
		vm_input_mouse(r->vm, dx, dy, buttons);
	pthread_mutex_unlock(&r->vm_lock);
}

static void ui_power(void *opaque)
{
	struct runner *r = opaque;
	pthread_mutex_lock(&r->vm_lock);
	if (r->vm)
		vm_input_power(r->vm);
	pthread_mutex_unlock(&r->vm_lock);
}

static void ui_quit(void *opaque)
{
	request_stop(opaque, STOP_QUIT, 0);
}

struct io_result {
	struct runner *r;
	enum stop_reason why;
	int value;
};

/* With a display the main thread belongs to SDL: the machine (and its
 * event loop: stdin, timers, ioeventfds, disk completions) runs here. */
static void *io_thread(void *opaque)
{
	struct io_result *res = opaque;
	res->why = run_machine(res->r, &res->value);
	__atomic_store_n(&res->r->io_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Picks the UI: --display sdl, or by default sdl when $DISPLAY is set. A
 * default that cannot open a window falls back to none with a warning. */
static const struct display_ops *pick_display(struct runner *r, void **ui, int *code)
{
	const struct display_ops *ops = NULL;
	bool dflt = r->cfg.display == DISPLAY_DEFAULT;
	char err[DISPLAY_ERR_LEN] = "";
	struct display_host h = {
		.frame = ui_frame, .key = ui_key, .mouse = ui_mouse, .power_button = ui_power,
		.quit = ui_quit, .opaque = r,
	};
	struct display_params p = {
		.name = r->cfg.name, .width = r->cfg.display_w, .height = r->cfg.display_h,
	};

	*code = 0;
	if (dflt) {
		const char *d = getenv("DISPLAY");
		r->cfg.display = d && *d ? DISPLAY_SDL : DISPLAY_NONE;
	}
#ifdef HAVE_SDL2
	if (r->cfg.display == DISPLAY_SDL)
		ops = &sdl_display_ops;
#else
	r->cfg.display = DISPLAY_NONE;
#endif
	if (!ops)
		return NULL;
	if (ops->create(&p, &h, ui, err) == 0)
		return ops;
	r->cfg.display = DISPLAY_NONE;
	if (dflt) {
		pr_warn("%s; continuing without a display", err);
		return NULL;
	}
	fprintf(stderr, "myvmm: %s\n", err);
	*code = EXIT_USAGE;
	return NULL;
}

/* QEMU's -pidfile: the pid and a newline, replaced atomically. */
static int write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f) {
		bool ok = fprintf(f, "%d\n", (int)getpid()) > 0;
		if (!fclose(f) && ok && !rename(tmp, path))
			return 0;
		unlink(tmp);
	}
	fprintf(stderr, "myvmm: -pidfile %s: %s; check the directory is writable\n", path,
		strerror(errno));
	return -1;
}

/* --snapshot-merge DIFF,into=BASE: 0, or 2 with one line. */
static int snapshot_merge(const char *diff, const char *base)
{
	int dfd = open(diff, O_RDONLY | O_CLOEXEC), bfd = -1, r;
	uint64_t copied = 0;

	if (dfd < 0) {
		fprintf(stderr, "myvmm: --snapshot-merge: %s: %s\n", diff, strerror(errno));
		return EXIT_USAGE;
	}
	if ((bfd = open(base, O_RDWR | O_CLOEXEC)) < 0) {
		fprintf(stderr, "myvmm: --snapshot-merge: into=%s: %s\n", base, strerror(errno));
		close(dfd);
		return EXIT_USAGE;
	}
	r = gmem_file_merge(bfd, dfd, &copied);
	close(dfd);
	if (close(bfd) && !r)
		r = -errno;
	if (r == -EINVAL)
		fprintf(stderr, "myvmm: --snapshot-merge: %s and %s must be memory files of the same "
			"VM (regular files of one size)\n", diff, base);
	else if (r == -EOPNOTSUPP)
		fprintf(stderr, "myvmm: --snapshot-merge: the filesystem of %s does not report holes "
			"(SEEK_HOLE), so its unwritten pages cannot be told apart; keep snapshots on "
			"ext4, xfs, btrfs or tmpfs\n", diff);
	else if (r)
		fprintf(stderr, "myvmm: --snapshot-merge %s into %s: %s\n", diff, base, strerror(-r));
	else
		fprintf(stderr, "myvmm: merged %llu KiB of %s into %s\n",
			(unsigned long long)(copied >> 10), diff, base);
	return r ? EXIT_USAGE : 0;
}

/* Daemons serve disks that are not raw images (and any drive the API adds). */
static bool needs_daemons(const struct vm_config *c)
{
	return vm_config_needs_daemons(c) || c->api_sock;
}

int main(int argc, char **argv)
{
	struct runner r;
	char err[CONFIG_ERR_LEN];
	int code = EXIT_USAGE, value = 0, ret;
	enum stop_reason why;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.vm_lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.marker_ms = -1;
	r.retry_timer = -1;
	r.kvm.fd = -1;
	config_init(&r.cfg);

	int skip;
	bool qemu = qemu_args_detect(argc, argv, &skip);
	if ((qemu ? qemu_args_parse(&r.cfg, argc - skip, argv + skip, err) :
		    config_parse_args(&r.cfg, argc, argv, err)) ||
	    config_validate(&r.cfg, err)) {
		fprintf(stderr, "myvmm: %s\n", err);
		goto out_cfg;
	}
	if (r.cfg.restore) {
		/* The machine comes from the snapshot: checked before anything is built. */
		struct err rerr = { "" };
		if (vm_restore_open(r.cfg.restore, r.cfg.restore_mem, &r.restore, &rerr) ||
		    vm_restore_config(r.restore, &r.cfg, &rerr)) {
			fprintf(stderr, "myvmm: --restore: %s\n", rerr.msg);
			goto out_cfg;
		}
		r.start_paused = r.cfg.restore_paused;
	}
	if (config_finish(&r.cfg)) {
		fprintf(stderr, "myvmm: out of memory\n");
		goto out_cfg;
	}
	if (r.cfg.show_help || r.cfg.print_doc) {
		if (r.cfg.print_doc)
			(r.cfg.print_doc == DOC_MAN ? config_print_man : config_print_completion)(stdout);
		else if (qemu)
			qemu_print_help(argv[0]);
		else
			config_print_help(argv[0]);
		code = 0;
		goto out_cfg;
	}
	if (r.cfg.show_version) {
		if (qemu)
			printf("QEMU emulator version %s (myvmm %s)\n", QEMU_COMPAT_VERSION, MYVMM_VERSION);
		else
			printf("myvmm %s\n", MYVMM_VERSION);
		code = 0;
		goto out_cfg;
	}
	if (r.cfg.merge_diff) {
		code = snapshot_merge(r.cfg.merge_diff, r.cfg.merge_base);
		goto out_cfg;
	}
	if (r.cfg.check_host) {
		code = host_check_report(stdout);
		goto out_cfg;
	}
	/* Before anything is opened and before the sandbox (which forbids
	 * fork): the process that starts daemons (qemu-storage-daemon) for VMs
	 * built later, on every guest reset too. */
	if (needs_daemons(&r.cfg) && daemon_spawner_start(err, sizeof(err))) {
		fprintf(stderr, "myvmm: %s\n", err);
		goto out_cfg;
	}
	if (r.cfg.debug)
		log_set_level(LOG_DEBUG);
	if (r.cfg.logger_set) { /* a JSON --config-file's logger: the file must exist */
		if ((ret = log_open_existing(r.cfg.log_path))) {
			fprintf(stderr, "myvmm: --config-file logger.log_path %s: %s; create it "
				"first (a file or a FIFO), as for Firecracker\n", r.cfg.log_path,
				ret == -EINVAL ? "not a regular file or FIFO" : strerror(-ret));
			goto out_cfg;
		}
		log_configure_file(r.cfg.logger_level, r.cfg.logger_show_level,
				   r.cfg.logger_show_origin);
	} else if (r.cfg.log_path && (ret = log_open_file(r.cfg.log_path))) {
		fprintf(stderr, "myvmm: --log %s: %s; check the path is writable\n", r.cfg.log_path,
			strerror(-ret));
		goto out_cfg;
	}
	struct err kerr = { "" };
	if (kvm_host_open(&r.kvm, &kerr)) {
		fprintf(stderr, "myvmm: %s\n", kerr.msg);
		goto out_log;
	}
	if (r.cfg.pidfile && write_pidfile(r.cfg.pidfile)) {
		free(r.cfg.pidfile);
		r.cfg.pidfile = NULL; /* not ours to unlink */
		goto out_kvm;
	}
	if (console_init(&r.con, r.cfg.console == CONSOLE_STDIO ? STDOUT_FILENO : -1,
			 r.cfg.console == CONSOLE_FILE ? r.cfg.console_path : NULL, r.cfg.expect,
			 r.cfg.expect_fail, err)) {
		fprintf(stderr, "myvmm: %s\n", err);
		goto out_kvm;
	}
	r.con.on_match = on_match;
	r.con.match_opaque = &r;
	r.host = (struct vm_host_ctx){
		.kvm = &r.kvm,
		.console_out = { .write = console_write, .opaque = &r.con },
		.on_boot_marker = on_boot_marker,
		.marker_opaque = &r,
	};
	r.loop = evloop_create();
	r.host.loop = r.loop;
	if (!r.loop || setup_signals(&r)) {
		fprintf(stderr, "myvmm: cannot set up the event loop: %s\n", strerror(errno));
		goto out_con;
	}
	if (r.cfg.gdb) {
		char gerr[GDB_ERR_LEN];
		if (gdb_stub_create(r.cfg.gdb, r.cfg.gdb_wait, r.loop, &r.kvm, &r.gdb, gerr)) {
			fprintf(stderr, "myvmm: %s\n", gerr);
			code = EXIT_USAGE;
			goto out_con;
		}
	}
	if ((r.cfg.console == CONSOLE_PTY || r.cfg.console == CONSOLE_UNIX) && open_chan(&r))
		goto out_con;
	if (start_api(&r))
		goto out_con;
	/* With a pty/socket console the terminal still takes Ctrl-A x. */
	if (r.cfg.console == CONSOLE_STDIO || (r.chan && isatty(STDIN_FILENO))) {
		term_raw_enter(STDIN_FILENO); /* not a tty (CI, pipes): input as is */
		if (evloop_add_fd(r.loop, STDIN_FILENO, EPOLLIN, on_stdin, &r) == 0)
			r.stdin_active = true;
	}
	evloop_add_timer(r.loop, 1000, 1000, on_second, &r);
	if (r.api.metrics)
		evloop_add_timer(r.loop, METRICS_INTERVAL_MS, METRICS_INTERVAL_MS, on_metrics, &r);
	if (r.cfg.expect || r.cfg.expect_fail)
		evloop_add_timer(r.loop, 100, 100, on_tick, &r);
	if (r.cfg.timeout_ms)
		evloop_add_timer(r.loop, r.cfg.timeout_ms, 0, on_timeout, &r);

	/* Set-up is done: from here on every thread runs under the seccomp
	 * filter (VMs, rebuilt on each guest reset, and the display included). */
	{
		char serr[SANDBOX_ERR_LEN];
		if (sandbox_install((enum sandbox_mode)r.cfg.sandbox, serr)) {
			fprintf(stderr, "myvmm: %s\n", serr);
			code = EXIT_USAGE;
			goto out_con;
		}
	}
	void *ui = NULL;
	const struct display_ops *dops = pick_display(&r, &ui, &code);
	if (code)
		goto out_con;
	if (dops) {
		struct io_result res = { .r = &r };
		pthread_t io;
		if ((ret = pthread_create(&io, NULL, io_thread, &res))) {
			fprintf(stderr, "myvmm: cannot start the I/O thread: %s\n", strerror(ret));
			dops->destroy(ui);
			code = EXIT_USAGE;
			goto out_con;
		}
		dops->run(ui, &r.io_done);
		pthread_join(io, NULL);
		dops->destroy(ui);
		why = res.why;
		value = res.value;
	} else {
		why = run_machine(&r, &value);
	}
	term_restore();
	if (why == STOP_NONE) {
		code = value; /* start-up failure, already reported */
	} else {
		code = status_exit_code(why, value, r.cfg.no_reboot);
		if (r.cfg.qemu_mode) {
			code = qemu_exit_code(why, code);
			if (why == STOP_SIGNAL)
				fprintf(stderr, "myvmm: terminating on signal %d\n", value);
		}
		pr_info("VM stopped: %s, exit status %d", status_reason_name(why), code);
		if (why == STOP_PANIC)
			fprintf(stderr, "myvmm: guest panicked\n");
		if (why == STOP_EXPECT_FAIL)
			fprintf(stderr, "myvmm: --expect-fail pattern matched the guest console\n");
		if (why == STOP_TIMEOUT)
			fprintf(stderr, "myvmm: timeout: the guest was stopped after %llu ms\n",
				(unsigned long long)r.cfg.timeout_ms);
	}
	if (r.cfg.status_file)
		write_status(&r, why, value, code);
out_con:
	api_server_destroy(r.api_srv); /* removes the socket file */
	api_metrics_close(&r.api);
	vm_host_ctx_release(&r.host);
	r.con.sink = NULL;
	console_chan_close(r.chan);
	gdb_stub_destroy(r.gdb);
	if (r.loop)
		evloop_destroy(r.loop);
	if (r.sigfd > 0)
		close(r.sigfd);
	console_destroy(&r.con);
out_kvm:
	if (r.cfg.pidfile)
		unlink(r.cfg.pidfile);
	kvm_host_close(&r.kvm);
out_log:
	log_close_file();
out_cfg:
	vm_restore_close(r.restore);
	daemon_spawner_stop();
	config_free(&r.cfg);
	return code;
}
