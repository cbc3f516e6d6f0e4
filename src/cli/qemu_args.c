/* QEMU's command line, the subset kernel CI passes (LAVA's qemu device type,
 * kernel test scripts), translated into struct vm_config. Every option and
 * property outside the subset is an error that names it: a boot that
 * silently drops an option would test something else than was asked. */
#include "cli/qemu_args_int.h"

#include <stdlib.h>

/* Splits the next field of a QEMU option string off *p: "key=value" or a
 * bare "value" (key ""), ",," being a literal comma. 0, 1 at the end, or
 * -1 when a field is too long. */
int qemu_next_prop(const char **p, char *key, size_t kcap, char *val, size_t vcap)
{
	const char *s = *p;
	size_t n = 0;
	char buf[QVAL_MAX];

	if (!s)
		return 1;
	while (*s) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++;
		}
		if (n + 1 >= sizeof(buf))
			return -1;
		buf[n++] = *s++;
	}
	buf[n] = 0;
	*p = *s ? s + 1 : NULL;
	char *eq = strchr(buf, '=');
	size_t klen = eq ? (size_t)(eq - buf) : 0;
	if (klen >= kcap || strlen(eq ? eq + 1 : buf) >= vcap)
		return -1;
	memcpy(key, buf, klen);
	key[klen] = 0;
	strcpy(val, eq ? eq + 1 : buf);
	return 0;
}

static int set(struct qstate *q, const char *opt, const char *key, const char *val, char *err)
{
	int r = config_set(q->c, key, val, err);
	if (r == -ENOMEM)
		return ERR("out of memory");
	return r ? -EINVAL : 0;
}

static int q_kernel(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "kernel", v, err); }
static int q_initrd(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "initrd", v, err); }
static int q_append(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "cmdline", v, err); }
static int q_bios(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "bios", v, err); }
static int q_noreboot(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "no-reboot", NULL, err); }
static int q_nop(struct qstate *q, const char *o, const char *v, char *err) { return 0; }
/* A hugetlbfs directory (or a file), as for --mem-path; QEMU's reservation
 * semantics too: the pages are reserved at start. */
static int q_mem_path(struct qstate *q, const char *o, const char *v, char *err) { return set(q, o, "mem-path", v, err); }
static int q_nodefaults(struct qstate *q, const char *o, const char *v, char *err) { q->nodefaults = true; return 0; }
static int q_nographic(struct qstate *q, const char *o, const char *v, char *err) { q->nographic = true; return 0; }
static int q_help(struct qstate *q, const char *o, const char *v, char *err) { q->c->show_help = true; return 0; }
static int q_version(struct qstate *q, const char *o, const char *v, char *err) { q->c->show_version = true; return 0; }
static int q_s(struct qstate *q, const char *o, const char *v, char *err) { strcpy(q->gdb, "tcp::1234"); return 0; }
static int q_S(struct qstate *q, const char *o, const char *v, char *err) { q->gdb_wait = true; return 0; }

static int q_m(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[64];
	int r;

	FOR_PROPS(v, key, val, r) {
		if (*key && strcmp(key, "size"))
			return ERR("-m %s: '%.100s' is not supported; give just the size, e.g. -m 512M", v, key);
		if ((r = set(q, o, "mem", val, err)))
			return r;
	}
	return r < 0 ? too_long(o, err) : 0;
}

static int num(const char *s, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > 4096 ? -1 : 0;
}

static int q_smp(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[64], buf[16];
	unsigned long cpus = 0, maxcpus = 0, topo = 1, n;
	int r;

	FOR_PROPS(v, key, val, r) {
		if (num(val, &n))
			return ERR("-smp %s: '%.100s' is not a number", v, val);
		if (!*key || !strcmp(key, "cpus"))
			cpus = n;
		else if (!strcmp(key, "maxcpus"))
			maxcpus = n;
		else if (!strcmp(key, "sockets") || !strcmp(key, "cores") || !strcmp(key, "threads") ||
			 !strcmp(key, "dies") || !strcmp(key, "clusters"))
			topo *= n;
		else
			return ERR("-smp %s: unknown property '%.100s'; use -smp N", v, key);
	}
	if (r < 0)
		return too_long(o, err);
	if (!cpus)
		cpus = topo;
	if (maxcpus && maxcpus != cpus)
		return ERR("-smp %s: myvmm has no CPU hotplug, maxcpus must equal the CPU count", v);
	if (topo != 1 && topo != cpus)
		return ERR("-smp %s: sockets*cores*threads is %lu, not %lu", v, topo, cpus);
	snprintf(buf, sizeof(buf), "%lu", cpus);
	return set(q, o, "cpus", buf, err);
}

static int q_display(struct qstate *q, const char *o, const char *v, char *err)
{
	if (strcmp(v, "none") && strcmp(v, "sdl"))
		return ERR("-display %s: not supported; use -display none (or sdl)", v);
	return set(q, o, "display", v, err);
}

static int q_vga(struct qstate *q, const char *o, const char *v, char *err)
{
	if (strcmp(v, "none"))
		return ERR("-vga %s: not supported; myvmm's display is bochs-display (-display sdl), "
			   "use -vga none", v);
	return 0;
}

/* -serial stdio|mon:stdio|file:PATH|pty|unix:PATH[,server][,nowait]|none */
static int q_serial(struct qstate *q, const char *o, const char *v, char *err)
{
	char spec[QVAL_MAX + 8];

	if (q->serial_given)
		return ERR("-serial %s: a second serial port (ttyS1) is not supported; give one -serial", v);
	q->serial_given = true;
	if (!strcmp(v, "stdio") || !strcmp(v, "mon:stdio"))
		return set(q, o, "console", "stdio", err);
	if (!strcmp(v, "none") || !strcmp(v, "null"))
		return set(q, o, "console", "none", err);
	if (!strcmp(v, "pty") || (!strncmp(v, "file:", 5) && v[5]))
		return set(q, o, "console", v, err);
	if (!strncmp(v, "unix:", 5) && v[5]) {
		const char *p = v + 5;
		char key[32], val[QVAL_MAX], path[QVAL_MAX] = "";
		int r;
		FOR_PROPS(p, key, val, r) {
			if (!*path && !*key)
				strcpy(path, val);
			else if (!((!*key && (!strcmp(val, "server") || !strcmp(val, "nowait"))) ||
				   (!strcmp(key, "server") && is_on(val)) ||
				   (!strcmp(key, "wait") && is_off(val))))
				return ERR("-serial %s: '%.100s' is not supported; myvmm listens on the socket "
					   "without waiting (server,nowait)", v, *key ? key : val);
		}
		if (r < 0)
			return too_long(o, err);
		snprintf(spec, sizeof(spec), "unix:%s", path);
		return set(q, o, "console", spec, err);
	}
	return ERR("-serial %s: not supported; use stdio, mon:stdio, file:PATH, pty, "
		   "unix:PATH,server,nowait or none", v);
}

static int q_monitor(struct qstate *q, const char *o, const char *v, char *err)
{
	if (strcmp(v, "none"))
		return ERR("%s %s: myvmm has no QEMU monitor; use %s none", o, v, o);
	return 0;
}

static int q_accel(struct qstate *q, const char *o, const char *v, char *err)
{
	if (strcmp(v, "kvm"))
		return ERR("-accel %s: myvmm runs guests only on KVM; use -accel kvm", v);
	return 0;
}

static int q_machine(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[64];
	int r;

	FOR_PROPS(v, key, val, r) {
		if (!*key || !strcmp(key, "type")) {
			if (strcmp(val, "pc") && strcmp(val, "q35") && strcmp(val, "microvm") &&
			    strncmp(val, "pc-i440fx-", 10) && strncmp(val, "pc-q35-", 7))
				return ERR("%s %s: machine '%.100s' is not supported; use pc, q35 or microvm "
					   "(all run myvmm's one PC machine)", o, v, val);
		} else if (!strcmp(key, "accel")) {
			if (strcmp(val, "kvm"))
				return ERR("%s %s: myvmm runs guests only on KVM; use accel=kvm", o, v);
		} else if (strcmp(key, "usb") || !is_off(val)) {
			return ERR("%s %s: machine property '%.100s' is not supported", o, v, key);
		}
	}
	return r < 0 ? too_long(o, err) : 0;
}

static int q_cpu(struct qstate *q, const char *o, const char *v, char *err)
{
	size_t n = strcspn(v, ",");
	/* Feature flags after the model (+x, -x, x=on) are accepted: myvmm
	 * always gives the guest the host CPU's features as KVM reports them. */
	if ((n != 4 || strncmp(v, "host", 4)) && (n != 3 || strncmp(v, "max", 3)))
		return ERR("-cpu %s: myvmm always gives the guest the host CPU; use -cpu host", v);
	return 0;
}

static int q_name(struct qstate *q, const char *o, const char *v, char *err)
{
	char key[32], val[256];
	int r;

	FOR_PROPS(v, key, val, r) {
		if (!*key || !strcmp(key, "guest")) {
			if ((r = set(q, o, "name", val, err)))
				return r;
		} else if (strcmp(key, "debug-threads")) {
			return ERR("-name %s: property '%.100s' is not supported", v, key);
		}
	}
	return r < 0 ? too_long(o, err) : 0;
}

static int q_pidfile(struct qstate *q, const char *o, const char *v, char *err)
{
	char *s = strdup(v);
	if (!s)
		return ERR("out of memory");
	free(q->c->pidfile);
	q->c->pidfile = s;
	return 0;
}

static int q_gdb(struct qstate *q, const char *o, const char *v, char *err)
{
	size_t n = strcspn(v, ",");
	if (!strncmp(v, "tcp:", 4) && !v[n]) {
		snprintf(q->gdb, sizeof(q->gdb), "%s", v);
		return 0;
	}
	if (!strncmp(v, "unix:", 5) && n > 5 && n < sizeof(q->gdb)) {
		/* ",server,nowait" or ",server=on,wait=off": myvmm always listens */
		snprintf(q->gdb, sizeof(q->gdb), "%.*s", (int)n, v);
		return 0;
	}
	return ERR("-gdb %s: not supported; use -gdb tcp::PORT, tcp:HOST:PORT or unix:PATH", v);
}

struct qopt {
	const char *name;        /* with one dash */
	bool arg;
	int (*fn)(struct qstate *q, const char *opt, const char *v, char *err);
	const char *native;      /* the native spelling, for hints */
};

static const struct qopt qopts[] = {
	{ "-kernel", true, q_kernel, "--kernel" }, { "-initrd", true, q_initrd, "--initrd" },
	{ "-append", true, q_append, "--append" }, { "-bios", true, q_bios, "--bios" },
	{ "-m", true, q_m, "--mem" }, { "-smp", true, q_smp, "--cpus" },
	{ "-mem-path", true, q_mem_path, "--mem-path" },
	{ "-nographic", false, q_nographic, "--display none" },
	{ "-display", true, q_display, "--display" }, { "-vga", true, q_vga, "--display" },
	{ "-serial", true, q_serial, "--console" }, { "-monitor", true, q_monitor, NULL },
	{ "-no-reboot", false, q_noreboot, "--no-reboot" },
	{ "-nodefaults", false, q_nodefaults, NULL }, { "-no-user-config", false, q_nop, NULL },
	{ "-enable-kvm", false, q_nop, NULL }, { "-accel", true, q_accel, NULL },
	{ "-cpu", true, q_cpu, NULL }, { "-M", true, q_machine, NULL },
	{ "-machine", true, q_machine, NULL }, { "-name", true, q_name, "--name" },
	{ "-pidfile", true, q_pidfile, NULL }, { "-device", true, qemu_device, NULL },
	{ "-drive", true, qemu_drive, "--disk" }, { "-netdev", true, qemu_netdev, "--net user" },
	{ "-nic", true, qemu_nic, "--net user" }, { "-net", true, qemu_net, "--net user" },
	{ "-s", false, q_s, "--gdb tcp::1234" }, { "-S", false, q_S, "--gdb-wait" },
	{ "-gdb", true, q_gdb, "--gdb" }, { "-version", false, q_version, "--version" },
	{ "-h", false, q_help, "--help" }, { "-help", false, q_help, "--help" },
};
#define NQOPTS (sizeof(qopts) / sizeof(qopts[0]))

static const struct qopt *qopt_find(const char *arg)
{
	if (arg[0] != '-')
		return NULL;
	if (arg[1] == '-')
		arg++; /* QEMU takes --opt for -opt */
	for (size_t i = 0; i < NQOPTS; i++)
		if (!strcmp(qopts[i].name, arg))
			return &qopts[i];
	return NULL;
}

const char *qemu_native_equivalent(const char *qemu_opt)
{
	const struct qopt *o = qopt_find(qemu_opt);
	return o ? o->native : NULL;
}

bool qemu_args_detect(int argc, char **argv, int *skip)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : argc > 0 ? argv[0] : "";
	*skip = 1;
	if (!strcmp(base, "qemu-system-x86_64") || !strcmp(base, "qemu-kvm"))
		return true;
	if (argc > 1 && !strcmp(argv[1], "qemu")) {
		*skip = 2;
		return true;
	}
	/* myvmm -kernel ...: a QEMU option first (not -h, which is ours too) */
	return argc > 1 && argv[1][0] == '-' && argv[1][1] != '-' && strcmp(argv[1], "-h") &&
	       qopt_find(argv[1]);
}

static int finish(struct qstate *q, char *err)
{
	struct vm_config *c = q->c;
	char nerr[CONFIG_ERR_LEN];
	int r;

	if ((r = qemu_resolve_devices(q, err)))
		return r;
	for (;;) {
		struct qdrive *next = NULL;
		for (unsigned i = 0; i < q->ndrives; i++)
			if (q->drives[i].order >= 0 && q->drives[i].d.path &&
			    (!next || q->drives[i].order < next->order))
				next = &q->drives[i];
		if (!next)
			break;
		c->disks[c->ndisks++] = next->d;
		next->d.path = NULL; /* now owned by c */
	}
	if (q->legacy_nic || q->legacy_user) {
		if (!q->legacy_nic || !q->legacy_user)
			return ERR("-net: give both -net nic,model=virtio and -net user (a NIC without "
				   "a network or a network without a NIC)");
		if ((r = qemu_add_nic(q, "-net nic", q->legacy_user_spec, q->legacy_mac, err)))
			return r;
	}
	if (q->have_nic && parse_net(q->nic_spec, &c->net, nerr)) {
		const char *why = strstr(nerr, ": ");
		return ERR("network %.200s: %.250s", q->nic_spec, why ? why + 2 : nerr);
	}
	if (q->nographic)
		c->display = DISPLAY_NONE;
	if (!q->serial_given && q->nodefaults && !q->nographic)
		c->console = CONSOLE_NONE;
	if (q->gdb_wait && !*q->gdb)
		return ERR("-S without -s or -gdb: nothing could start the stopped VM (myvmm has no "
			   "monitor); add -s");
	if (*q->gdb) {
		r = config_set(c, "gdb", q->gdb, err);
		if (r == -ENOENT)
			return ERR("%s: the gdb stub (--gdb) is not built into this myvmm yet",
				   q->gdb_wait ? "-s -S" : "-gdb/-s");
		if (r || (q->gdb_wait && (r = config_set(c, "gdb-wait", NULL, err))))
			return -EINVAL;
	}
	return 0;
}

int qemu_args_parse(struct vm_config *c, int argc, char **argv, char err[CONFIG_ERR_LEN])
{
	struct qstate *q = calloc(1, sizeof(*q));
	int r = 0;

	if (!q)
		return ERR("out of memory");
	q->c = c;
	c->qemu_mode = true;
	c->no_default_console = true; /* QEMU passes -append as given */
	for (int i = 0; i < argc && !r; i++) {
		const struct qopt *o = qopt_find(argv[i]);
		q->pos = i;
		if (!o) {
			if (argv[i][0] != '-')
				r = ERR("unexpected argument '%.200s'; QEMU options start with -, e.g. "
					"-kernel bzImage", argv[i]);
			else
				r = ERR("QEMU option '%.200s' is not supported by myvmm (see "
					"myvmm qemu -help for the subset)", argv[i]);
		} else if (o->arg && i + 1 >= argc) {
			r = ERR("QEMU option '%.100s' needs a value", argv[i]);
		} else {
			r = o->fn(q, o->name, o->arg ? argv[++i] : NULL, err);
		}
	}
	if (!r)
		r = finish(q, err);
	for (unsigned i = 0; i < q->ndrives; i++)
		free(q->drives[i].d.path);
	free(q);
	return r;
}

int qemu_exit_code(enum stop_reason why, int native_code)
{
	return why == STOP_SIGNAL ? 0 : native_code;
}

void qemu_print_help(const char *prog)
{
	printf("Usage: %s [QEMU options]   (myvmm " MYVMM_VERSION ", QEMU %s command-line subset)\n\n"
	       "Accepted options (one or two dashes); anything else is an error:\n", prog,
	       QEMU_COMPAT_VERSION);
	for (size_t i = 0; i < NQOPTS; i++)
		printf("  %-16s%s%s\n", qopts[i].name, qopts[i].native ? "native: " : "",
		       qopts[i].native ? qopts[i].native : "");
	printf("\n-device: isa-debug-exit,iobase=0xf4,iosize=4 | virtio-rng-pci | pvpanic |\n"
	       "         virtio-blk-pci,drive=ID | virtio-net-pci,netdev=ID[,mac=MAC]\n"
	       "-drive file=IMG,format=raw,if=virtio|ide|none[,id=ID][,readonly=on][,cache=none]\n"
	       "-netdev user,id=ID[,hostfwd=...]  -nic user[,...]  -net nic,model=virtio[,macaddr=MAC] -net user\n"
	       "-serial stdio|mon:stdio|file:PATH|pty|unix:PATH,server,nowait|none\n"
	       "Exit status as QEMU: 0 powered off or killed by a signal, (v<<1)|1 isa-debug-exit.\n");
}
