/* The common entry kmain(): the boot stubs (arch/) normalise their boot
 * information into struct bootinfo and call kmain(), which runs the
 * scenario tk=<name> names from the table in scenarios/table.c. Also the
 * exit helpers and the command-line parsing every scenario uses. */
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

void kmain(const struct bootinfo *bi)
{
	static struct acpi_info ai;
	char name[32] = "info";

	serial_init();
	kprintf("TK: myvmm test kernel (%s)\n", bi->mode);
	cmdline_get(bi->cmdline, "tk", name, sizeof(name));
	cur_scen = name;
	for (size_t i = 0; i < tk_nscenarios; i++) {
		const struct scenario *s = &tk_scenarios[i];
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
