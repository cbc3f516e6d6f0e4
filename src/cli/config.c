/* Command-line options: one table drives the argv parser (config_args.c),
 * config_set() (config files), --help, the man page and the completion. */
#include "cli/config.h"
#include "api/api.h"
#include "cli/config_file.h"
#include "cli/options.h"
#include "host/sandbox.h"
#include "machine/pc_map.h"
#include "gdb/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, CONFIG_ERR_LEN, __VA_ARGS__), -EINVAL)

static int set_str(char **dst, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int h_kernel(struct vm_config *c, const char *v, char *err) { return set_str(&c->kernel, v); }
static int h_initrd(struct vm_config *c, const char *v, char *err) { return set_str(&c->initrd, v); }
static int h_cmdline(struct vm_config *c, const char *v, char *err) { return set_str(&c->cmdline, v); }
static int h_bios(struct vm_config *c, const char *v, char *err) { return set_str(&c->bios, v); }
static int h_name(struct vm_config *c, const char *v, char *err) { return set_str(&c->name, v); }
static int h_log(struct vm_config *c, const char *v, char *err) { return set_str(&c->log_path, v); }
static int h_expect(struct vm_config *c, const char *v, char *err) { return set_str(&c->expect, v); }
static int h_expect_fail(struct vm_config *c, const char *v, char *err) { return set_str(&c->expect_fail, v); }
static int h_status(struct vm_config *c, const char *v, char *err) { return set_str(&c->status_file, v); }
static int h_screenshot(struct vm_config *c, const char *v, char *err) { return set_str(&c->screenshot, v); }
/* Flags: no value on the command line; true/false/yes/no/on/off/1/0 in files. */
static int set_flag(bool *dst, const char *name, const char *v, char *err)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
		*dst = false;
	else
		return ERR("%s = %s: not a boolean; use true or false", name, v);
	return 0;
}
static int h_no_reboot(struct vm_config *c, const char *v, char *err) { return set_flag(&c->no_reboot, "no-reboot", v, err); }
static int h_no_pit(struct vm_config *c, const char *v, char *err) { return set_flag(&c->no_pit, "no-pit", v, err); }
static int h_debug(struct vm_config *c, const char *v, char *err) { return set_flag(&c->debug, "debug", v, err); }
static int h_gdb_wait(struct vm_config *c, const char *v, char *err) { return set_flag(&c->gdb_wait, "gdb-wait", v, err); }
static int h_gdb(struct vm_config *c, const char *v, char *err)
{
	struct gdb_spec sp;
	if (gdb_spec_parse(v, &sp, err, CONFIG_ERR_LEN))
		return -EINVAL;
	return set_str(&c->gdb, v);
}
static int h_sandbox(struct vm_config *c, const char *v, char *err)
{
	static const char *const modes[] = { [SANDBOX_ON] = "on", [SANDBOX_LOG] = "log",
					     [SANDBOX_OFF] = "off" };
	int m = -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, modes[i]))
			m = i;
	if (m < 0)
		return ERR("--sandbox %.100s: use on (default: forbidden system calls stop myvmm), "
			   "log (the kernel logs them) or off", v);
	c->sandbox = m;
	return 0;
}
static int h_api_sock(struct vm_config *c, const char *v, char *err) { return set_str(&c->api_sock, v); }
static int h_metrics(struct vm_config *c, const char *v, char *err) { return set_str(&c->metrics_path, v); }
static int h_vsock(struct vm_config *c, const char *v, char *err)
{
	char *end;
	unsigned long long cid;
	errno = 0;
	cid = strtoull(v, &end, 10);
	if (errno || end == v || *end != ',' || !end[1] || cid < 3 || cid > 0xffffffffull)
		return ERR("--vsock %s: use CID,PATH with CID 3-4294967295 (e.g. --vsock 3,/tmp/v.sock)", v);
	c->vsock_cid = cid;
	return set_str(&c->vsock_path, end + 1);
}
static int h_config(struct vm_config *c, const char *v, char *err) { return config_load_file(c, v, err); }
/* SNAPSHOT[,mem=MEMFILE][,paused][,diff]; the memory file defaults to
 * SNAPSHOT.mem; diff: dirty page tracking (Diff snapshots of the restored VM). */
static int h_restore(struct vm_config *c, const char *v, char *err)
{
	char *spec = strdup(v), *p, *tok, *mem = NULL;
	bool paused = false;
	int r = 0;

	if (!spec)
		return -ENOMEM;
	p = strchr(spec, ',');
	if (p)
		*p++ = 0;
	for (; p && (tok = strsep(&p, ","));) {
		if (!strncmp(tok, "mem=", 4) && tok[4])
			mem = tok + 4;
		else if (!strcmp(tok, "paused"))
			paused = true;
		else if (!strcmp(tok, "diff"))
			c->track_dirty = true;
		else {
			r = ERR("--restore %.200s: unknown field '%.50s'; use "
				"--restore SNAPSHOT[,mem=MEMFILE][,paused][,diff]", v, tok);
			goto out;
		}
	}
	if (!*spec) {
		r = ERR("--restore %.200s: no snapshot path; use --restore SNAPSHOT[,mem=MEMFILE]", v);
		goto out;
	}
	free(c->restore);
	free(c->restore_mem);
	c->restore = strdup(spec);
	c->restore_mem = mem ? strdup(mem) : NULL;
	if (!mem && c->restore && asprintf(&c->restore_mem, "%s.mem", spec) < 0)
		c->restore_mem = NULL;
	c->restore_paused = paused;
	if (!c->restore || !c->restore_mem)
		r = -ENOMEM;
out:
	free(spec);
	return r;
}
static int h_help(struct vm_config *c, const char *v, char *err) { c->show_help = true; return 0; }
static int h_version(struct vm_config *c, const char *v, char *err) { c->show_version = true; return 0; }
static int h_check(struct vm_config *c, const char *v, char *err) { c->check_host = true; return 0; }

/* DIFF,into=BASE (a path may hold commas: the last ",into=" splits). */
static int h_snapshot_merge(struct vm_config *c, const char *v, char *err)
{
	const char *sep = NULL;
	for (const char *p = strstr(v, ",into="); p; p = strstr(p + 1, ",into="))
		sep = p;
	if (!sep || sep == v || !sep[6])
		return ERR("--snapshot-merge %s: use DIFF,into=BASE (the Diff memory file, then the "
			   "memory file of the snapshot it follows)", v);
	free(c->merge_diff);
	free(c->merge_base);
	c->merge_diff = strndup(v, (size_t)(sep - v));
	c->merge_base = strdup(sep + 6);
	return c->merge_diff && c->merge_base ? 0 : ERR("out of memory");
}
static int h_help_man(struct vm_config *c, const char *v, char *err) { c->print_doc = DOC_MAN; return 0; }
static int h_help_completion(struct vm_config *c, const char *v, char *err) { c->print_doc = DOC_COMPLETION; return 0; }
static int h_no_default_console(struct vm_config *c, const char *v, char *err) { return set_flag(&c->no_default_console, "no-default-console", v, err); }

static int h_mem(struct vm_config *c, const char *v, char *err)
{
	uint64_t sz;
	int r = parse_size(v, &sz);
	if (r == -ERANGE)
		return ERR("--mem %s: too large; give a size like 512M or 8G", v);
	if (r)
		return ERR("--mem %s: not a size; use a number with K, M or G, e.g. --mem 512M", v);
	if (sz == 0)
		return ERR("--mem %s: memory size is zero; use e.g. --mem 512M", v);
	if (sz < (16ULL << 20))
		return ERR("--mem %s: too small, myvmm needs at least 16M of guest RAM", v);
	if (sz & 4095)
		return ERR("--mem %s: not a multiple of 4K; use e.g. --mem 512M", v);
	c->mem = sz;
	return 0;
}

static int h_mem_path(struct vm_config *c, const char *v, char *err) { return set_str(&c->mem_path, v); }
static int h_hugepages(struct vm_config *c, const char *v, char *err) { return set_flag(&c->hugepages, "hugepages", v, err); }

static int h_cpus(struct vm_config *c, const char *v, char *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*v))
		return ERR("--cpus %s: not a number; use e.g. --cpus 2", v);
	if (n == 0 || n > VMM_MAX_CPUS)
		return ERR("--cpus %s: must be between 1 and %d", v, VMM_MAX_CPUS);
	c->cpus = (unsigned)n;
	return 0;
}

static int h_timeout(struct vm_config *c, const char *v, char *err)
{
	if (parse_duration_ms(v, &c->timeout_ms))
		return ERR("--timeout %s: not a duration; give seconds, e.g. --timeout 30", v);
	return 0;
}

static int h_disk(struct vm_config *c, const char *v, char *err)
{
	if (c->ndisks >= CONFIG_MAX_DISKS)
		return ERR("--disk %s: at most %d disks", v, CONFIG_MAX_DISKS);
	int r = parse_disk(v, &c->disks[c->ndisks], err);
	if (r)
		return r;
	c->ndisks++;
	return 0;
}

static int add_share(struct vm_config *c, const char *v, bool external, char *err)
{
	const char *opt = external ? "--vhost-user-fs" : "--share";
	struct share_config *s = &c->shares[c->nshares];
	int r;

	if (c->nshares >= CONFIG_MAX_SHARES)
		return ERR("%s %s: at most %d shared folders (--share and --vhost-user-fs)", opt, v,
			   CONFIG_MAX_SHARES);
	if ((r = parse_share(v, external, s, err)))
		return r;
	for (unsigned i = 0; i < c->nshares; i++)
		if (!strcmp(c->shares[i].tag, s->tag)) {
			free(s->dir);
			free(s->socket);
			memset(s, 0, sizeof(*s));
			return ERR("%s %s: tag '%s' is already used by another share; give each "
				   "share its own ,tag=NAME", opt, v, c->shares[i].tag);
		}
	c->nshares++;
	return 0;
}
static int h_share(struct vm_config *c, const char *v, char *err) { return add_share(c, v, false, err); }
static int h_vhost_user_fs(struct vm_config *c, const char *v, char *err) { return add_share(c, v, true, err); }

static int h_net(struct vm_config *c, const char *v, char *err) { return parse_net(v, &c->net, err); }

static int h_console(struct vm_config *c, const char *v, char *err)
{
	c->virtio_console = false;
	if (!strcmp(v, "stdio"))
		c->console = CONSOLE_STDIO;
	else if (!strcmp(v, "none"))
		c->console = CONSOLE_NONE;
	else if (!strcmp(v, "virtio")) {
		c->console = CONSOLE_STDIO; /* the terminal, but through hvc0 */
		c->virtio_console = true;
	}
	else if (!strcmp(v, "pty"))
		c->console = CONSOLE_PTY;
	else if (!strncmp(v, "file:", 5) && v[5]) {
		c->console = CONSOLE_FILE;
		return set_str(&c->console_path, v + 5);
	} else if (!strncmp(v, "unix:", 5) && v[5]) {
		if (strlen(v + 5) >= 108) /* sizeof(sun_path) */
			return ERR("--console %s: the socket path is longer than 107 bytes", v);
		c->console = CONSOLE_UNIX;
		return set_str(&c->console_path, v + 5);
	} else
		return ERR("--console %s: unknown console; use stdio, virtio, file:PATH, pty, unix:PATH or none", v);
	return 0;
}

/* "sdl[,width=W][,height=H]" or "none". */
static int h_display(struct vm_config *c, const char *v, char *err)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return ERR("--display %s: too long", v);
	strcpy(buf, v);
	tok = strtok_r(buf, ",", &save);
	if (tok && !strcmp(tok, "none")) {
		if (strtok_r(NULL, ",", &save))
			return ERR("--display none takes no options");
		c->display = DISPLAY_NONE;
		return 0;
	}
	if (!tok || strcmp(tok, "sdl"))
		return ERR("--display %s: unknown display; use sdl[,width=W,height=H] or none", v);
#ifndef HAVE_SDL2
	return ERR("--display sdl: this myvmm was built without SDL2 (install libsdl2-dev and "
		   "rebuild); use --display none");
#endif
	uint32_t w = CONFIG_DISPLAY_W, h = CONFIG_DISPLAY_H;
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *end;
		unsigned long n;
		uint32_t *dst = !strncmp(tok, "width=", 6) ? &w : !strncmp(tok, "height=", 7) ? &h : NULL;
		if (!dst)
			return ERR("--display %s: unknown option '%s'; use width=W,height=H", v, tok);
		errno = 0;
		n = strtoul(strchr(tok, '=') + 1, &end, 10);
		if (errno || *end || n < 64 || n > 4096)
			return ERR("--display %s: '%s' must be 64..4096 pixels", v, tok);
		*dst = (uint32_t)n;
	}
	if ((uint64_t)w * h * 4 > (16u << 20))
		return ERR("--display %s: %ux%u does not fit in 16 MiB of VRAM", v, w, h);
	c->display = DISPLAY_SDL;
	c->display_w = w;
	c->display_h = h;
	return 0;
}

static int h_boot(struct vm_config *c, const char *v, char *err)
{
	if (!strcmp(v, "disk"))
		c->boot = CFG_BOOT_DISK;
	else if (!strcmp(v, "kernel"))
		c->boot = CFG_BOOT_KERNEL;
	else
		return ERR("--boot %s: unknown boot order; use disk or kernel", v);
	return 0;
}

static const struct opt_desc opts[] = {
	{ "config", OPT_VALUE, "FILE", "load options from an INI file (or Firecracker's JSON, told apart by content); later options override it", h_config, .path = true },
	{ "config-file", OPT_VALUE, "FILE", "Firecracker's JSON VM configuration (boot-source, drives, machine-config, network-interfaces, vsock, logger, metrics; see README), or an INI file as for --config", h_config, .path = true },
	{ "kernel", OPT_VALUE, "PATH", "kernel to boot: bzImage, ELF with a PVH note, or multiboot (also the one positional argument: myvmm bzImage)", h_kernel, .path = true },
	{ "initrd", OPT_VALUE, "PATH", "initial ramdisk", h_initrd, .path = true },
	{ "cmdline", OPT_VALUE, "STR", "kernel command line; console=ttyS0 (hvc0 with --console virtio) is added when it names no console= (default: \"console=ttyS0\")", h_cmdline, .values = NULL },
	{ "append", OPT_VALUE, "STR", "the same as --cmdline (QEMU's name)", h_cmdline, .values = NULL },
	{ "no-default-console", OPT_FLAG, NULL, "pass the command line as given, without adding console=", h_no_default_console, .values = NULL },
	{ "mem", OPT_VALUE, "SIZE", "guest RAM, K/M/G suffix; bare number = MiB (default 512M)", h_mem, .values = NULL },
	{ "mem-path", OPT_VALUE, "PATH", "guest RAM in a file: a hugetlbfs mount directory (e.g. /dev/hugepages; an unlinked file on its huge pages, --mem a multiple of their size, all reserved at start: too few free pages is an error, never a crash later) or an existing file on any filesystem (shared with it, grown to --mem, locked) (default: anonymous memory)", h_mem_path, .path = true },
	{ "hugepages", OPT_FLAG, NULL, "guest RAM on the default-size huge pages (a hugetlb memfd: no mount needed; vm.nr_hugepages must have them free; all reserved at start)", h_hugepages, .values = NULL },
	{ "cpus", OPT_VALUE, "N", "number of vCPUs, 1-255 (default 1)", h_cpus, .values = NULL },
	{ "no-reboot", OPT_FLAG, NULL, "exit 0 when the guest resets instead of restarting it", h_no_reboot, .values = NULL },
	{ "no-pit", OPT_FLAG, NULL, "no i8254 PIT, for guests timed by kvmclock/LAPIC/ACPI PM timer: starts and exits ~15 ms faster", h_no_pit, .values = NULL },
	{ "timeout", OPT_VALUE, "SECONDS", "stop the VM and exit 124 after this long (default: none)", h_timeout, .values = NULL },
	{ "console", OPT_VALUE, "KIND", "stdio | virtio (hvc0) | file:PATH | pty (prints the pty's path) | unix:PATH (a socket; output is kept while no client is attached) | none (default stdio)", h_console, .values = "stdio virtio file: pty unix: none" },
	{ "disk", OPT_VALUE, "SPEC", "PATH[,ro][,cache=none|writeback][,aio=io_uring|native|threads][,serial=ID][,if=virtio|ide]: a disk (repeatable: vda, vdb, ...; IDE: hda..hdd)", h_disk, .path = true },
	{ "share", OPT_VALUE, "HOSTDIR[,tag=TAG][,ro]", "share a host directory with the guest through virtio-fs (myvmm runs virtiofsd for it; the guest mounts it with mount -t virtiofs TAG /mnt; default tag share; ro: read-only; repeatable, tags unique, up to 4)", h_share, .path = true },
	{ "vhost-user-fs", OPT_VALUE, "SOCKET[,tag=TAG]", "a virtio-fs device served by a virtiofsd you started (--socket-path=SOCKET; default tag share)", h_vhost_user_fs, .path = true },
	{ "net", OPT_VALUE, "SPEC", "user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=MAC]: virtio-net on a user-mode (libslirp) network 10.0.2.0/24, forwards bind 127.0.0.1 unless HOSTADDR is given; host-loopback=on lets the guest reach the host's 127.0.0.1 via 10.0.2.2 (default off) | none (default none)", h_net, .values = "user none" },
	{ "vsock", OPT_VALUE, "CID,PATH", "virtio-vsock with guest CID, hybrid unix-socket backend: the host connects to PATH and writes \"CONNECT <port>\\n\" (answer \"OK <n>\\n\"); guest connections to port P go to PATH_P", h_vsock, .path = true },
	{ "display", OPT_VALUE, "KIND", "sdl[,width=W,height=H] (a window, bochs-display) | none (default: sdl if $DISPLAY is set)", h_display, .values = "sdl none" },
	{ "bios", OPT_VALUE, "PATH", "firmware for --boot disk (default /usr/share/seabios/bios-256k.bin, else bios.bin)", h_bios, .path = true },
	{ "boot", OPT_VALUE, "ORDER", "disk: run the BIOS and boot the first disk | kernel: direct kernel boot (default: kernel if --kernel is given, else disk)", h_boot, .values = "disk kernel" },
	{ "name", OPT_VALUE, "NAME", "VM name for logs and the window title", h_name, .values = NULL },
	{ "log", OPT_VALUE, "PATH", "append VMM messages with timestamps to PATH", h_log, .path = true },
	{ "debug", OPT_FLAG, NULL, "log unhandled port and MMIO accesses (rate-limited)", h_debug, .values = NULL },
	{ "expect", OPT_VALUE, "REGEX", "exit 0 when a console line matches REGEX", h_expect, .values = NULL },
	{ "expect-fail", OPT_VALUE, "REGEX", "exit 5 when a console line matches REGEX", h_expect_fail, .values = NULL },
	{ "status-file", OPT_VALUE, "PATH", "write a JSON exit report to PATH", h_status, .path = true },
	{ "screenshot", OPT_VALUE, "PATH", "write the guest's screen as a PNG to PATH when the VM stops (adds the bochs-display without a window)", h_screenshot, .path = true },
	{ "gdb", OPT_VALUE, "SPEC", "tcp:[HOST]:PORT | unix:PATH: serve the GDB remote protocol there (HOST default 127.0.0.1; PORT 0 picks one)", h_gdb, .values = NULL },
	{ "gdb-wait", OPT_FLAG, NULL, "with --gdb: stop before the first instruction until gdb continues", h_gdb_wait, .values = NULL },
	{ "sandbox", OPT_VALUE, "MODE", "on | log | off: the seccomp filter on every thread (default on; docs/SECURITY.md)", h_sandbox, .values = "on log off" },
	{ "restore", OPT_VALUE, "SNAPSHOT[,mem=MEMFILE][,paused][,diff]", "start from a snapshot (PUT /snapshot/create) instead of booting: the machine (RAM, vCPUs, disks, network, vsock) is rebuilt from the snapshot, guest RAM is mapped copy-on-write from MEMFILE (default SNAPSHOT.mem), and the guest continues where it was paused (paused: stays paused until PATCH /vm Resumed; diff: track dirty pages, so that Diff snapshots on top of MEMFILE can be taken); the network's connections and vsock connections are reset", h_restore, .path = true },
	{ "api-sock", OPT_VALUE, "PATH", "serve the control API (Firecracker's REST calls + /myvmm/) on a unix socket created at PATH (0600; an existing file is refused); without --kernel/--disk, wait for PUT /boot-source and InstanceStart", h_api_sock, .path = true },
	{ "metrics", OPT_VALUE, "PATH", "write Firecracker-style metrics (one JSON object per line: vCPU exits, per-disk block and network bytes, API requests; counts since the previous line) to PATH, an existing file or FIFO, every 60 s, on PUT /actions FlushMetrics and when the VM stops", h_metrics, .path = true },
	{ "snapshot-merge", OPT_VALUE, "DIFF,into=BASE", "apply a Diff snapshot's memory file (PUT /snapshot/create snapshot_type Diff) onto the memory file of the snapshot before it, in place, then exit; restore with --restore DIFFSTATE,mem=BASE", h_snapshot_merge, .path = true },
	{ "check", OPT_FLAG, NULL, "report whether this host can run VMs, then exit", h_check, .action = true },
	{ "version", OPT_FLAG, NULL, "print the version and exit", h_version, .action = true },
	{ "help", OPT_FLAG, NULL, "show this help and exit", h_help, .action = true },
	{ "help-man", OPT_FLAG, NULL, "print the man page (roff) and exit", h_help_man, .action = true },
	{ "help-completion", OPT_FLAG, NULL, "print the bash completion script and exit", h_help_completion, .action = true },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem = CONFIG_DEFAULT_MEM;
	c->cpus = 1;
	c->console = CONSOLE_STDIO;
	c->display_w = CONFIG_DISPLAY_W;
	c->display_h = CONFIG_DISPLAY_H;
	memcpy(c->net.mac, (const uint8_t[6])CONFIG_DEFAULT_MAC, 6);
}

void config_free(struct vm_config *c)
{
	free(c->kernel); free(c->initrd); free(c->cmdline); free(c->console_path);
	free(c->name); free(c->log_path); free(c->expect); free(c->expect_fail);
	free(c->status_file); free(c->bios); free(c->pidfile); free(c->gdb); free(c->screenshot);
	free(c->api_sock); free(c->metrics_path); free(c->merge_diff); free(c->merge_base); free(c->vsock_path); free(c->restore); free(c->restore_mem);
	free(c->mem_path);
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i].path);
	for (unsigned i = 0; i < c->nshares; i++) {
		free(c->shares[i].dir);
		free(c->shares[i].socket);
	}
	config_init(c);
}

const struct opt_desc *config_options(size_t *n)
{
	*n = NOPTS;
	return opts;
}

const struct opt_desc *config_option_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len && !memcmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

int config_set(struct vm_config *c, const char *key, const char *value, char err[CONFIG_ERR_LEN])
{
	const struct opt_desc *o = config_option_find(key, strlen(key));

	if (!o) {
		snprintf(err, CONFIG_ERR_LEN, "unknown option '%s'; see myvmm --help", key);
		return -ENOENT;
	}
	/* An empty command line is a real value; other options need text. */
	if (o->arg == OPT_VALUE && (!value || (!*value && o->set != h_cmdline)))
		return ERR("--%s needs a value", key);
	if (o->action && value)
		return ERR("'%s' is a command-line action, not a setting", key);
	int r = o->set(c, value, err);
	if (r == -ENOMEM)
		return ERR("out of memory");
	return r;
}

_Static_assert(INI_ERR_LEN == CONFIG_ERR_LEN, "one error length for config files and options");

static int ini_set(void *opaque, const char *key, const char *value, char *err)
{
	return config_set(opaque, key, value, err);
}

static int json_load(void *opaque, const char *text, const char *fname, char *err)
{
	return api_config_load_json(opaque, text, fname, err);
}

int config_load_text(struct vm_config *c, const char *text, const char *fname,
		     const char *base_dir, char err[CONFIG_ERR_LEN])
{
	if (api_config_is_json(text))
		return api_config_load_json(c, text, fname, err);
	return ini_load_text(text, fname, base_dir, ini_set, c, err);
}

int config_load_file(struct vm_config *c, const char *path, char err[CONFIG_ERR_LEN])
{
	return ini_load_file(path, &c->config_depth, ini_set, json_load, c, err);
}

int config_validate(const struct vm_config *c, char err[CONFIG_ERR_LEN])
{
	if (c->show_help || c->show_version || c->check_host || c->print_doc || c->merge_diff)
		return 0;
	if (c->gdb_wait && !c->gdb)
		return ERR("--gdb-wait needs --gdb; add e.g. --gdb tcp::1234");
	if (c->boot == CFG_BOOT_KERNEL && !c->kernel)
		return ERR("--boot kernel needs a kernel; use --kernel PATH (e.g. --kernel bzImage)");
	if (c->boot == CFG_BOOT_DISK && (c->kernel || c->initrd))
		return ERR("--boot disk boots the disk through the BIOS; drop --kernel/--initrd or use --boot kernel");
	if (c->restore && (c->kernel || c->initrd || c->ndisks || c->boot == CFG_BOOT_DISK))
		return ERR("--restore: the machine (kernel, disks) comes from the snapshot; drop "
			   "--kernel/--initrd/--disk/--boot");
	if (c->mem_path && c->hugepages)
		return ERR("--mem-path and --hugepages both choose the guest RAM; give one");
	if (c->restore && (c->mem_path || c->hugepages))
		return ERR("--restore maps guest RAM copy-on-write from the snapshot's memory file; "
			   "drop %s", c->mem_path ? "--mem-path" : "--hugepages");
	if (c->restore_paused && !c->api_sock)
		return ERR("--restore ...,paused: only the control API can resume the VM; add "
			   "--api-sock PATH (or drop ,paused)");
	if (!c->kernel && !c->ndisks && !c->api_sock && !c->restore)
		return ERR("no kernel or disk given; use --kernel PATH (e.g. --kernel bzImage) "
			   "or --disk IMG to boot a disk through the BIOS");
	/* The IDE controller belongs to the PC chipset of firmware boots. */
	if (c->no_pit && config_boot_firmware(c))
		return ERR("--no-pit: the BIOS and bootloaders need the PIT; drop --no-pit for disk boots");
	for (unsigned i = 0; i < c->ndisks; i++)
		if (c->disks[i].iface == DISK_IF_IDE && !config_boot_firmware(c))
			return ERR("--disk %.200s,if=ide: IDE disks exist only when booting through the "
				   "BIOS (--boot disk); use if=virtio with --kernel", c->disks[i].path);
	return 0;
}

/* "word=" as a word of its own in s (not "earlyconsole=" or "xroot="). */
static bool has_word(const char *s, const char *word)
{
	for (const char *p = s; (p = strstr(p, word)); p++)
		if (p == s || p[-1] == ' ' || p[-1] == '\t')
			return true;
	return false;
}

/* Firecracker's is_root_device: root= the disk's virtio name. */
static int add_root(struct vm_config *c)
{
	unsigned vd = 0;
	char *s;

	for (unsigned i = 0; i < c->ndisks; i++) {
		const struct disk_config *d = &c->disks[i];
		if (d->iface != DISK_IF_VIRTIO)
			continue;
		if (d->root && vd < 26 && !(c->cmdline && has_word(c->cmdline, "root="))) {
			if (asprintf(&s, "%s%sroot=/dev/vd%c %s", c->cmdline ? c->cmdline : "",
				     c->cmdline && *c->cmdline ? " " : "", 'a' + vd,
				     d->ro ? "ro" : "rw") < 0)
				return -ENOMEM;
			free(c->cmdline);
			c->cmdline = s;
			return 0;
		}
		vd++;
	}
	return 0;
}

int config_finish(struct vm_config *c)
{
	const char *dev = c->virtio_console ? "hvc0" : "ttyS0";
	char *s;

	if (config_boot_firmware(c))
		return 0;
	if (add_root(c))
		return -ENOMEM;
	if (c->no_default_console)
		return 0;
	if (!c->cmdline)
		return asprintf(&c->cmdline, "console=%s", dev) < 0 ? -ENOMEM : 0;
	if (has_word(c->cmdline, "console="))
		return 0;
	if (asprintf(&s, "%s%sconsole=%s", c->cmdline, *c->cmdline ? " " : "", dev) < 0)
		return -ENOMEM;
	free(c->cmdline);
	c->cmdline = s;
	return 0;
}

bool config_boot_firmware(const struct vm_config *c)
{
	return c->boot == CFG_BOOT_DISK || (c->boot == CFG_BOOT_AUTO && !c->kernel);
}
