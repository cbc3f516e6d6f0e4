/* Command-line options: one table drives getopt_long, config_set() and --help. */
#include "cli/config.h"
#include "host/disk_format.h"
#include "machine/pc_map.h"
#include "gdb/spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*opt_handler)(struct vm_config *c, const char *v, char *err);

struct opt_desc {
	const char *name;
	int has_arg;           /* no_argument / required_argument */
	const char *metavar;
	const char *help;      /* includes the default */
	opt_handler set;
};

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

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1ULL << 20; /* a bare number is MiB, as in QEMU's -m */

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B': mult = 1; break;
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (toupper((unsigned char)*end) == 'B' && mult != 1)
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0 || v > 1e9)
		return -ERANGE;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = (uint64_t)(v * 1000.0 + 0.5);
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
static int h_config(struct vm_config *c, const char *v, char *err) { return config_load_file(c, v, err); }
static int h_help(struct vm_config *c, const char *v, char *err) { c->show_help = true; return 0; }
static int h_version(struct vm_config *c, const char *v, char *err) { c->show_version = true; return 0; }
static int h_check(struct vm_config *c, const char *v, char *err) { c->check_host = true; return 0; }

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

/* Splits the next comma-separated field off *p into out (",," is a literal
 * comma, as in QEMU). Returns 0, 1 at the end of the string, or -1 when the
 * field does not fit in out. */
static int next_field(const char **p, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = *p;

	if (!s)
		return 1;
	while (*s) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++; /* ",," -> "," */
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = *s;
		s++;
	}
	out[n] = 0;
	*p = *s ? s + 1 : NULL;
	return 0;
}

int parse_disk(const char *spec, struct disk_config *d, char err[CONFIG_ERR_LEN])
{
	char tok[4096];
	const char *p = spec;
	int ret = 0, f;

	memset(d, 0, sizeof(*d));
	/* The first field is always the path (it may contain '='). */
	f = next_field(&p, tok, sizeof(tok));
	if (f < 0)
		return ERR("--disk: the image path is longer than %zu bytes", sizeof(tok) - 1);
	if (f > 0 || !*tok)
		return ERR("--disk %.200s: no image path; use --disk PATH[,ro][,cache=none][,serial=ID]", spec);
	d->path = strdup(tok);
	if (!d->path)
		return -ENOMEM;
	while ((f = next_field(&p, tok, sizeof(tok))) == 0) {
		if (!strcmp(tok, "ro"))
			d->ro = true;
		else if (!strcmp(tok, "rw"))
			d->ro = false;
		else if (!strcmp(tok, "cache=none"))
			d->cache = DISK_CACHE_NONE;
		else if (!strcmp(tok, "cache=writeback"))
			d->cache = DISK_CACHE_WRITEBACK;
		else if (!strcmp(tok, "if=virtio"))
			d->iface = DISK_IF_VIRTIO;
		else if (!strcmp(tok, "if=ide"))
			d->iface = DISK_IF_IDE;
		else if (!strncmp(tok, "format=", 7)) {
			int fmt = disk_format_parse(tok + 7);
			if (fmt < 0 || fmt == DISK_FMT_AUTO) {
				ret = ERR("--disk %.200s: unknown format '%.100s'; use format=raw, qcow2, "
					  "vmdk, vdi, vhdx, vpc, qed, ... (qemu-img's names)", spec, tok + 7);
				goto out;
			}
			d->format = fmt;
		} else if (!strncmp(tok, "serial=", 7)) {
			if (strlen(tok + 7) > 20) {
				ret = ERR("--disk %.200s: serial '%.100s' is longer than 20 characters", spec, tok + 7);
				goto out;
			}
			strcpy(d->serial, tok + 7);
		} else {
			ret = ERR("--disk %.200s: unknown option '%.100s'; use ro, cache=none|writeback, "
				  "serial=ID, format=raw or if=virtio|ide (write ,, for a comma in the path)", spec, tok);
			goto out;
		}
	}
	if (f < 0)
		ret = ERR("--disk %.200s: an option is too long", spec);
out:
	if (ret) {
		free(d->path);
		d->path = NULL;
	}
	return ret;
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

static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* "A.B.C.D" or "" (-> def, network byte order). */
static bool parse_ip4(const char *s, size_t n, uint32_t def, uint32_t *out)
{
	char buf[16];
	struct in_addr a;

	if (n == 0) {
		*out = def;
		return true;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*out = a.s_addr;
	return true;
}

/* "1".."65535" of length n. */
static bool parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* "[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT" (QEMU's hostfwd syntax). */
static bool parse_hostfwd(const char *s, struct net_hostfwd *f)
{
	const char *c1 = strchr(s, ':'), *c2, *dash, *c3;

	if (!c1)
		return false;
	if (c1 == s || (c1 - s == 3 && !strncmp(s, "tcp", 3)))
		f->udp = false;
	else if (c1 - s == 3 && !strncmp(s, "udp", 3))
		f->udp = true;
	else
		return false;
	c2 = strchr(c1 + 1, ':');
	dash = c2 ? strchr(c2 + 1, '-') : NULL;
	c3 = dash ? strchr(dash + 1, ':') : NULL;
	if (!c3 || strchr(c3 + 1, ':'))
		return false;
	return parse_ip4(c1 + 1, (size_t)(c2 - c1 - 1), htonl(INADDR_LOOPBACK), &f->host_addr) &&
	       parse_port(c2 + 1, (size_t)(dash - c2 - 1), &f->host_port) &&
	       parse_ip4(dash + 1, (size_t)(c3 - dash - 1), htonl(NET_USER_GUEST), &f->guest_addr) &&
	       parse_port(c3 + 1, strlen(c3 + 1), &f->guest_port);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &n) != 6 || n != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

int parse_net(const char *spec, struct net_config *n, char err[CONFIG_ERR_LEN])
{
	struct net_config t = { .kind = NET_USER };
	char tok[256];
	const char *p = spec;
	int nf;

	memcpy(t.mac, default_mac, 6);
	if (!strcmp(spec, "none")) {
		t.kind = NET_NONE;
		*n = t;
		return 0;
	}
	if (next_field(&p, tok, sizeof(tok)) != 0 || strcmp(tok, "user"))
		return ERR("--net %.200s: unknown network; use user[,hostfwd=...][,mac=...] or none", spec);
	while ((nf = next_field(&p, tok, sizeof(tok))) == 0) {
		if (!strncmp(tok, "hostfwd=", 8)) {
			if (t.nfwd >= CONFIG_MAX_HOSTFWD)
				return ERR("--net %.200s: at most %d hostfwd rules", spec, CONFIG_MAX_HOSTFWD);
			struct net_hostfwd *f = &t.fwd[t.nfwd];
			if (!parse_hostfwd(tok + 8, f))
				return ERR("--net %.200s: bad '%.100s'; use hostfwd=tcp|udp:[HOSTADDR]:"
					   "HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. hostfwd=tcp::2222-:22", spec, tok);
			if ((ntohl(f->guest_addr) & 0xffffff00u) != NET_USER_NETWORK)
				return ERR("--net %.200s: guest address in '%.100s' is outside 10.0.2.0/24",
					   spec, tok);
			for (unsigned i = 0; i < t.nfwd; i++)
				if (t.fwd[i].udp == f->udp && t.fwd[i].host_port == f->host_port &&
				    t.fwd[i].host_addr == f->host_addr)
					return ERR("--net %.200s: host port %u forwarded twice", spec,
						   f->host_port);
			t.nfwd++;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (!parse_mac(tok + 4, t.mac) || (t.mac[0] & 1))
				return ERR("--net %.200s: bad '%.100s'; give a unicast MAC like "
					   "mac=52:54:00:12:34:56", spec, tok);
		} else {
			return ERR("--net %.200s: unknown option '%.100s'; use hostfwd=... or mac=...",
				   spec, tok);
		}
	}
	if (nf < 0)
		return ERR("--net %.200s: an option is too long", spec);
#ifndef HAVE_SLIRP
	return ERR("--net user: this myvmm was built without libslirp (install libslirp-dev and "
		   "rebuild); use --net none");
#endif
	*n = t;
	return 0;
}

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
	else if (!strncmp(v, "file:", 5) && v[5]) {
		c->console = CONSOLE_FILE;
		return set_str(&c->console_path, v + 5);
	} else
		return ERR("--console %s: unknown console; use stdio, virtio, file:PATH or none", v);
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
	{ "config", required_argument, "FILE", "load options from an INI file; later options override it", h_config },
	{ "kernel", required_argument, "PATH", "kernel to boot: bzImage, ELF with a PVH note, or multiboot", h_kernel },
	{ "initrd", required_argument, "PATH", "initial ramdisk", h_initrd },
	{ "cmdline", required_argument, "STR", "kernel command line (default: \"console=ttyS0\")", h_cmdline },
	{ "mem", required_argument, "SIZE", "guest RAM, K/M/G suffix; bare number = MiB (default 512M)", h_mem },
	{ "cpus", required_argument, "N", "number of vCPUs, 1-255 (default 1)", h_cpus },
	{ "no-reboot", no_argument, NULL, "exit 0 when the guest resets instead of restarting it", h_no_reboot },
	{ "no-pit", no_argument, NULL, "no i8254 PIT, for guests timed by kvmclock/LAPIC/ACPI PM timer: starts and exits ~15 ms faster", h_no_pit },
	{ "timeout", required_argument, "SECONDS", "stop the VM and exit 124 after this long (default: none)", h_timeout },
	{ "console", required_argument, "KIND", "stdio | virtio (hvc0) | file:PATH | none (default stdio)", h_console },
	{ "disk", required_argument, "SPEC", "PATH[,ro][,cache=none|writeback][,serial=ID][,if=virtio|ide]: a disk (repeatable: vda, vdb, ...; IDE: hda..hdd)", h_disk },
	{ "net", required_argument, "SPEC", "user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=MAC]: virtio-net on a user-mode (libslirp) network 10.0.2.0/24, forwards bind 127.0.0.1 unless HOSTADDR is given | none (default none)", h_net },
	{ "display", required_argument, "KIND", "sdl[,width=W,height=H] (a window, bochs-display) | none (default: sdl if $DISPLAY is set)", h_display },
	{ "screenshot", required_argument, "PATH", "write the guest's screen as a PNG to PATH when the VM stops (adds the bochs-display without a window)", h_screenshot },
	{ "bios", required_argument, "PATH", "firmware for --boot disk (default /usr/share/seabios/bios-256k.bin, else bios.bin)", h_bios },
	{ "boot", required_argument, "ORDER", "disk: run the BIOS and boot the first disk | kernel: direct kernel boot (default: kernel if --kernel is given, else disk)", h_boot },
	{ "name", required_argument, "NAME", "VM name for logs and the window title", h_name },
	{ "log", required_argument, "PATH", "append VMM messages with timestamps to PATH", h_log },
	{ "debug", no_argument, NULL, "log unhandled port and MMIO accesses (rate-limited)", h_debug },
	{ "expect", required_argument, "REGEX", "exit 0 when a console line matches REGEX", h_expect },
	{ "expect-fail", required_argument, "REGEX", "exit 5 when a console line matches REGEX", h_expect_fail },
	{ "status-file", required_argument, "PATH", "write a JSON exit report to PATH", h_status },
	{ "gdb", required_argument, "SPEC", "tcp:[HOST]:PORT | unix:PATH: serve the GDB remote protocol there (HOST default 127.0.0.1; PORT 0 picks one)", h_gdb },
	{ "gdb-wait", no_argument, NULL, "with --gdb: stop before the first instruction until gdb continues", h_gdb_wait },
	{ "check", no_argument, NULL, "report whether this host can run VMs, then exit", h_check },
	{ "version", no_argument, NULL, "print the version and exit", h_version },
	{ "help", no_argument, NULL, "show this help and exit", h_help },
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
	memcpy(c->net.mac, default_mac, 6);
}

void config_free(struct vm_config *c)
{
	free(c->kernel); free(c->initrd); free(c->cmdline); free(c->console_path);
	free(c->name); free(c->log_path); free(c->expect); free(c->expect_fail);
	free(c->status_file); free(c->bios); free(c->gdb); free(c->screenshot);
	for (unsigned i = 0; i < c->ndisks; i++)
		free(c->disks[i].path);
	config_init(c);
}

int config_set(struct vm_config *c, const char *key, const char *value, char err[CONFIG_ERR_LEN])
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(opts[i].name, key))
			continue;
		/* An empty command line is a real value; other options need text. */
		if (opts[i].has_arg == required_argument && (!value || (!*value && opts[i].set != h_cmdline)))
			return ERR("--%s needs a value", key);
		if (opts[i].set == h_help || opts[i].set == h_version || opts[i].set == h_check) {
			if (value)
				return ERR("'%s' is a command-line action, not a setting", key);
		}
		int r = opts[i].set(c, value, err);
		if (r == -ENOMEM)
			return ERR("out of memory");
		return r;
	}
	snprintf(err, CONFIG_ERR_LEN, "unknown option '%s'; see myvmm --help", key);
	return -ENOENT;
}

int config_parse_args(struct vm_config *c, int argc, char **argv, char err[CONFIG_ERR_LEN])
{
	struct option lo[NOPTS + 1];
	int idx, ch;

	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = (struct option){ opts[i].name, opts[i].has_arg, NULL, 0x100 + (int)i };
	lo[NOPTS] = (struct option){ 0, 0, 0, 0 };

	/* 0, not 1: glibc then also drops the previous call's half-scanned option
	 * cluster ("-xh" stopped at x), which would otherwise point into that call's
	 * freed argv. Found by tests/fuzz/fuzz_config.c. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		if (ch == 'h') {
			c->show_help = true;
			continue;
		}
		if (ch == '?') {
			if (optopt && optopt < 0x100) /* a short option, maybe in a cluster */
				return ERR("unknown option '-%c'; see myvmm --help", optopt);
			return ERR("unknown option '%s'; see myvmm --help", argv[optind - 1]);
		}
		if (ch == ':')
			return ERR("option '%s' needs a value; see myvmm --help", argv[optind - 1]);
		int r = config_set(c, opts[ch - 0x100].name, optarg, err);
		if (r)
			return r == -ENOENT ? -EINVAL : r;
	}
	if (optind < argc)
		return ERR("unexpected argument '%s'; options start with --, see myvmm --help", argv[optind]);
	return 0;
}

int config_validate(const struct vm_config *c, char err[CONFIG_ERR_LEN])
{
	if (c->show_help || c->show_version || c->check_host)
		return 0;
	if (c->gdb_wait && !c->gdb)
		return ERR("--gdb-wait needs --gdb; add e.g. --gdb tcp::1234");
	if (c->boot == CFG_BOOT_KERNEL && !c->kernel)
		return ERR("--boot kernel needs a kernel; use --kernel PATH (e.g. --kernel bzImage)");
	if (c->boot == CFG_BOOT_DISK && (c->kernel || c->initrd))
		return ERR("--boot disk boots the disk through the BIOS; drop --kernel/--initrd or use --boot kernel");
	if (!c->kernel && !c->ndisks)
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

bool config_boot_firmware(const struct vm_config *c)
{
	return c->boot == CFG_BOOT_DISK || (c->boot == CFG_BOOT_AUTO && !c->kernel);
}

void config_print_help(const char *prog)
{
	printf("Usage: %s --kernel PATH [options]\n       %s --disk IMG [options]   (boots the disk through SeaBIOS)\n\n"
	       "myvmm " MYVMM_VERSION ": a small virtual machine monitor on Linux KVM.\n\nOptions:\n", prog, prog);
	for (size_t i = 0; i < NOPTS; i++) {
		char left[48];
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
			 opts[i].metavar ? opts[i].metavar : "");
		printf("  %-26s %s\n", left, opts[i].help);
	}
	printf("\nExit status: 0 guest powered off, reset with --no-reboot, --expect matched or\n"
	       "Ctrl-A x; (v<<1)|1 guest wrote v to the debug-exit port 0xf4; 2 bad usage or input;\n"
	       "3 KVM internal error or emulation failure; 4 guest panicked (pvpanic); 5 --expect-fail\n"
	       "matched; 124 --timeout expired; 128+n killed by signal n.\n"
	       "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h help.\n");
}
