/* Scenario table and the common entry kmain(): the boot stubs normalise
 * their boot information into struct bootinfo and call kmain(). */
#include "tk.h"

static const char *cur_scen = "info";

void tk_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void tk_exit(uint32_t v)
{
	outl(PORT_DEBUG_EXIT, v);
	tk_halt();
}

void tk_pass(const char *scen)
{
	kprintf("TK: PASS %s\n", scen);
	tk_exit(0);
}

void tk_fail(const char *scen, const char *fmt, ...)
{
	va_list ap;
	kprintf("TK: FAIL %s: ", scen ? scen : cur_scen);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	tk_exit(0x7f);
}

bool cmdline_get(const char *cl, const char *key, char *buf, size_t len)
{
	size_t kl = kstrlen(key);
	while (*cl) {
		while (*cl == ' ' || *cl == '\t' || *cl == '\n')
			cl++;
		const char *tok = cl;
		while (*cl && *cl != ' ' && *cl != '\t' && *cl != '\n')
			cl++;
		if ((size_t)(cl - tok) > kl && !kstrncmp(tok, key, kl) && tok[kl] == '=') {
			size_t n = (size_t)(cl - tok) - kl - 1;
			if (n >= len)
				n = len - 1;
			memcpy(buf, tok + kl + 1, n);
			buf[n] = 0;
			return true;
		}
	}
	return false;
}

bool cmdline_has(const char *cl, const char *key)
{
	size_t kl = kstrlen(key);
	for (const char *p = cl; *p; p++) {
		bool start = p == cl || p[-1] == ' ' || p[-1] == '\t';
		if (start && !kstrncmp(p, key, kl) &&
		    (p[kl] == 0 || p[kl] == ' ' || p[kl] == '\t' || p[kl] == '\n' || p[kl] == '='))
			return true;
	}
	return false;
}

uint32_t parse_u32(const char *s)
{
	uint32_t v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2; *s; s++) {
			char c = *s;
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0)
				break;
			v = v * 16 + (uint32_t)d;
		}
		return v;
	}
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint32_t)(*s - '0');
	return v;
}

int scen_info(const struct bootinfo *bi, const struct acpi_info *ai);

static int scen_hang(const struct bootinfo *bi, const struct acpi_info *ai)
{
	kprintf("TK: hanging\n");
	tk_halt();
}

static int scen_exit(const struct bootinfo *bi, const struct acpi_info *ai)
{
	char buf[16];
	uint32_t code = 0;
	if (cmdline_get(bi->cmdline, "tk.code", buf, sizeof(buf)))
		code = parse_u32(buf);
	kprintf("TK: exit %u\n", code);
	tk_exit(code);
}

static int scen_int3(const struct bootinfo *bi, const struct acpi_info *ai)
{
	kprintf("TK: int3\n");
	__asm__ volatile("int3");
	tk_fail(NULL, "int3 returned");
}

static int scen_marker(const struct bootinfo *bi, const struct acpi_info *ai)
{
	outb(PORT_MARKER, 0x01);
	kprintf("TK: marker\n");
	return 0;
}

static int scen_reset_cf9(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "cf9");
}

static int scen_reset_kbd(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "kbd");
}

static int scen_reset_acpi(const struct bootinfo *bi, const struct acpi_info *ai)
{
	return scen_reset(bi, ai, "acpi");
}

int scen_fb(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_input(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_fb_anim(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_pwrbtn(const struct bootinfo *bi, const struct acpi_info *ai); /* pwrbtn.c */
int scen_msix(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_intx(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_net(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_net_echo(const struct bootinfo *bi, const struct acpi_info *ai);
int scen_net_probe(const struct bootinfo *bi, const struct acpi_info *ai);

struct scenario {
	const char *name;
	int (*run)(const struct bootinfo *bi, const struct acpi_info *ai);
	bool needs_acpi;  /* scan ACPI (quietly) and set up the timer first */
};

static const struct scenario scenarios[] = {
	{ "info", scen_info, false /* scans verbosely itself */ },
	{ "smp", scen_smp, true },
	{ "poweroff", scen_poweroff, true },
	{ "reset-cf9", scen_reset_cf9, true },
	{ "reset-kbd", scen_reset_kbd, true },
	{ "reset-acpi", scen_reset_acpi, true },
	{ "hang", scen_hang, false },
	{ "exit", scen_exit, false },
	{ "rtc", scen_rtc, false },
	{ "serial-irq", scen_serial_irq, true },
	{ "int3", scen_int3, false },
	{ "marker", scen_marker, false },
	{ "blk-read", scen_blk_read, true },
	{ "blk-write", scen_blk_write, true },
	{ "blk-ro", scen_blk_ro, true },
	{ "blk-two", scen_blk_two, true },
	{ "blk-indirect", scen_blk_indirect, true },
	{ "blk-bench", scen_blk_bench, true },
	{ "hostile", scen_blk_hostile, true },
	{ "rng", scen_rng, true },
	{ "vcons", scen_vcons, true },
	{ "panic", scen_panic, true },
	{ "fb", scen_fb, true },
	{ "input", scen_input, true },
	{ "fb-anim", scen_fb_anim, true },
	{ "msix", scen_msix, true },   /* virtio_irq.c */
	{ "intx", scen_intx, true },
	{ "net", scen_net, true },          /* net.c */
	{ "net-echo", scen_net_echo, true },
	{ "net-probe", scen_net_probe, true },
	{ "pwrbtn", scen_pwrbtn, true },     /* pwrbtn.c */
};

void kmain(const struct bootinfo *bi)
{
	static struct acpi_info ai;
	char name[32] = "info";

	serial_init();
	kprintf("TK: myvmm test kernel (%s)\n", bi->mode);
	cmdline_get(bi->cmdline, "tk", name, sizeof(name));
	cur_scen = name;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		if (kstrncmp(s->name, name, sizeof(name)))
			continue;
		if (s->needs_acpi)
			acpi_scan(bi, &ai, false);
		timer_init(&ai);
		if (s->run(bi, &ai))
			tk_fail(name, "scenario failed");
		tk_pass(name);
	}
	tk_fail(name, "unknown scenario");
}
