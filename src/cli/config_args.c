/* The native command line: exact option names only (adding an option never
 * changes what an existing script means, unlike getopt's prefix matching),
 * one positional kernel, and errors that suggest the option meant. Also the
 * documents generated from the options table: --help, the man page and the
 * bash completion. */
#include "cli/config.h"
#include "cli/options.h"
#include "cli/qemu_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...) (snprintf(err, CONFIG_ERR_LEN, __VA_ARGS__), -EINVAL)

unsigned config_edit_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned cap)
{
	unsigned row[64];

	if (alen >= 64 || blen >= 64)
		return cap + 1;
	for (size_t j = 0; j <= blen; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= alen; i++) {
		unsigned diag = row[0], best;
		row[0] = (unsigned)i;
		best = row[0];
		for (size_t j = 1; j <= blen; j++) {
			unsigned up = row[j];
			unsigned v = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
	}
	return row[blen] > cap ? cap + 1 : row[blen];
}

/* The option the user probably meant: a unique option the word is a prefix
 * of, else the nearest name within a small edit distance. */
static const struct opt_desc *suggest(const char *w, size_t len)
{
	size_t n;
	const struct opt_desc *t = config_options(&n), *best = NULL;
	unsigned best_d = len <= 3 ? 1 : 2, prefixes = 0;

	if (len == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) > len && !strncmp(t[i].name, w, len)) {
			best = &t[i];
			prefixes++;
		}
	if (prefixes == 1)
		return best;
	best = NULL;
	/* --memory: a name the word starts with (the longest: --expect-failure) */
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(t[i].name);
		if (l >= 3 && l < len && !strncmp(t[i].name, w, l) && (!best || l > strlen(best->name)))
			best = &t[i];
	}
	if (best)
		return best;
	for (size_t i = 0; i < n; i++) {
		unsigned d = config_edit_distance(w, len, t[i].name, strlen(t[i].name), best_d);
		if (d <= best_d && (!best || d < best_d)) {
			best = &t[i];
			best_d = d;
		}
	}
	return best;
}

static int unknown_option(const char *arg, char *err)
{
	const char *w = arg + (arg[1] == '-' ? 2 : 1);
	size_t len = strcspn(w, "=");
	const struct opt_desc *o;
	const char *native;

	if (arg[1] != '-') {
		/* A single-dash spelling: QEMU's (-kernel, -m, -smp) or a typo. */
		if ((o = config_option_find(w, len)))
			return ERR("unknown option '%s'; did you mean --%s? (QEMU-style command lines "
				   "work as 'myvmm qemu ARGS...')", arg, o->name);
		if ((native = qemu_native_equivalent(arg)))
			return ERR("unknown option '%s'; did you mean %s? (QEMU-style command lines "
				   "work as 'myvmm qemu ARGS...')", arg, native);
	}
	if ((o = suggest(w, len)))
		return ERR("unknown option '%s'; did you mean --%s?", arg, o->name);
	return ERR("unknown option '%s'; see myvmm --help", arg);
}

int config_parse_args(struct vm_config *c, int argc, char **argv, char err[CONFIG_ERR_LEN])
{
	bool only_positional = false, kernel_opt = false;
	const char *positional = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (only_positional || a[0] != '-' || !a[1]) {
			if (positional)
				return ERR("unexpected argument '%s': the kernel is already '%s' (one "
					   "positional argument); options start with --, see myvmm --help",
					   a, positional);
			positional = a;
			if ((r = config_set(c, "kernel", a, err)))
				return r == -ENOENT ? -EINVAL : r;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = true;
			continue;
		}
		if (!strcmp(a, "-h")) {
			c->show_help = true;
			continue;
		}
		if (a[1] != '-')
			return unknown_option(a, err);
		const char *name = a + 2, *eq = strchr(name, '=');
		const struct opt_desc *o = config_option_find(name, eq ? (size_t)(eq - name) : strlen(name));
		if (!o)
			return unknown_option(a, err);
		if (o->arg == OPT_VALUE) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return ERR("option '--%s' needs a value; see myvmm --help", o->name);
		} else if (eq) {
			return ERR("option '--%s' takes no value; write just --%s", o->name, o->name);
		}
		if (!strcmp(o->name, "kernel"))
			kernel_opt = true;
		if ((r = config_set(c, o->name, val, err)))
			return r == -ENOENT ? -EINVAL : r;
	}
	if (positional && kernel_opt)
		return ERR("two kernels: --kernel and the positional '%s'; give one of them", positional);
	return 0;
}

static void left_column(const struct opt_desc *o, char *buf, size_t n)
{
	snprintf(buf, n, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
}

void config_print_help(const char *prog)
{
	size_t n;
	const struct opt_desc *t = config_options(&n);

	printf("Usage: %s [options] KERNEL       (or --kernel PATH)\n"
	       "       %s --disk IMG [options]   (boots the disk through SeaBIOS)\n"
	       "       %s qemu QEMU-ARGS...      (a QEMU command line, also when run as qemu-system-x86_64)\n\n"
	       "myvmm " MYVMM_VERSION ": a small virtual machine monitor on Linux KVM.\n\nOptions:\n",
	       prog, prog, prog);
	for (size_t i = 0; i < n; i++) {
		char left[48];
		left_column(&t[i], left, sizeof(left));
		printf("  %-26s %s\n", left, t[i].help);
	}
	printf("\nOption names are exact (no abbreviations); --name=VALUE works too.\n"
	       "Exit status: 0 guest powered off, reset with --no-reboot, --expect matched or\n"
	       "Ctrl-A x; (v<<1)|1 guest wrote v to the debug-exit port 0xf4; 2 bad usage or input;\n"
	       "3 KVM internal error or emulation failure; 4 guest panicked (pvpanic); 5 --expect-fail\n"
	       "matched; 124 --timeout expired; 128+n killed by signal n.\n"
	       "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h help.\n");
}

/* roff text: a leading '.' or '\'' would be a request, '\' an escape, '-' a hyphen. */
static void roff(FILE *f, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else if ((*p == '.' || *p == '\'') && p == s)
			fputs("\\&.", f);
		else
			fputc(*p, f);
	}
}

void config_print_man(FILE *f)
{
	size_t n;
	const struct opt_desc *t = config_options(&n);

	fputs(".TH MYVMM 1 \"\" \"myvmm " MYVMM_VERSION "\" \"User Commands\"\n"
	      ".SH NAME\nmyvmm \\- a small virtual machine monitor on Linux KVM\n"
	      ".SH SYNOPSIS\n.B myvmm\n[\\fIoptions\\fR] \\fIKERNEL\\fR\n.br\n"
	      ".B myvmm\n\\fB\\-\\-disk\\fR \\fIIMG\\fR [\\fIoptions\\fR]\n.br\n"
	      ".B myvmm qemu\n\\fIQEMU\\-ARGS\\fR...\n"
	      ".SH DESCRIPTION\nmyvmm boots a Linux bzImage, an ELF vmlinux with a PVH note or a "
	      "multiboot kernel in a KVM virtual machine, with its serial console on the terminal "
	      "and an exit status a CI script can trust. Without a kernel it boots a disk through "
	      "SeaBIOS.\n.PP\nRun as \\fBqemu\\-system\\-x86_64\\fR (a link installed under "
	      "libexec/myvmm) or as \\fBmyvmm qemu\\fR, or with a QEMU option first "
	      "(\\fBmyvmm \\-kernel bzImage\\fR), it reads a QEMU command line: the subset that "
	      "kernel CI tools such as LAVA pass. Any other QEMU option is an error naming it.\n"
	      ".SH OPTIONS\nOption names are exact: abbreviations are errors. "
	      "\\fB\\-\\-name=VALUE\\fR works as well as \\fB\\-\\-name VALUE\\fR.\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n.BR \\-\\-", f);
		roff(f, t[i].name);
		if (t[i].metavar) {
			fputs(" \" \\fI", f);
			roff(f, t[i].metavar);
			fputs("\\fR\"", f);
		}
		fputc('\n', f);
		roff(f, t[i].help);
		fputc('\n', f);
	}
	fputs(".SH CONSOLE\nCtrl\\-A x quits, Ctrl\\-A Ctrl\\-A sends a Ctrl\\-A to the guest, "
	      "Ctrl\\-A h shows help. With \\fB\\-\\-console pty\\fR or \\fB\\-\\-console unix:PATH\\fR "
	      "the guest console is on the pty or socket (attach with e.g. \\fBscreen\\fR or "
	      "\\fBsocat \\- UNIX\\-CONNECT:PATH\\fR) and Ctrl\\-A x still works on the terminal.\n"
	      ".SH EXIT STATUS\n.TP\n0\nthe guest powered off, reset with \\-\\-no\\-reboot, "
	      "\\-\\-expect matched, or Ctrl\\-A x\n.TP\n(v<<1)|1\nthe guest wrote v to the "
	      "debug\\-exit port 0xf4 (QEMU isa\\-debug\\-exit compatible)\n.TP\n2\nbad usage or "
	      "input\n.TP\n3\nKVM internal error or emulation failure\n.TP\n4\nthe guest panicked "
	      "(pvpanic)\n.TP\n5\n\\-\\-expect\\-fail matched\n.TP\n124\n\\-\\-timeout expired\n"
	      ".TP\n128+n\nkilled by signal n (in QEMU mode, 0 as QEMU does)\n"
	      ".SH FILES\n.TP\n/usr/share/myvmm/configs\nexample configuration files for "
	      "\\fB\\-\\-config\\fR\n.SH SEE ALSO\n.BR qemu\\-system\\-x86_64 (1)\n", f);
}

void config_print_completion(FILE *f)
{
	size_t n;
	const struct opt_desc *t = config_options(&n);

	fputs("# bash completion for myvmm (generated by myvmm --help-completion)\n"
	      "_myvmm() {\n"
	      "    local cur prev\n"
	      "    cur=${COMP_WORDS[COMP_CWORD]}\n"
	      "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "    case $prev in\n", f);
	for (size_t i = 0; i < n; i++) {
		if (t[i].arg != OPT_VALUE)
			continue;
		if (t[i].values)
			fprintf(f, "    --%s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n",
				t[i].name, t[i].values);
		else if (t[i].path)
			fprintf(f, "    --%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", t[i].name);
		else
			fprintf(f, "    --%s) return ;;\n", t[i].name);
	}
	fputs("    esac\n"
	      "    if [[ $cur == -* ]]; then\n"
	      "        COMPREPLY=($(compgen -W '", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s--%s", i ? " " : "", t[i].name);
	fputs("' -- \"$cur\"))\n"
	      "    else\n"
	      "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "    fi\n"
	      "}\n"
	      "complete -o filenames -F _myvmm myvmm\n", f);
}
