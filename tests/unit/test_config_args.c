/* The native command line: exact names, the positional kernel, --append,
 * the default console= and the suggestions; the generated man page and
 * completion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "cli/config.h"

static int parse(struct vm_config *c, char *err, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	config_init(c);
	return config_parse_args(c, argc, argv, err);
}

static const char *finished_cmdline(char **argv)
{
	static char out[512];
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	ck_assert_msg(parse(&c, err, argv) == 0, "%s", err);
	ck_assert_int_eq(config_validate(&c, err), 0);
	ck_assert_int_eq(config_finish(&c), 0);
	snprintf(out, sizeof(out), "%s", c.cmdline ? c.cmdline : "(null)");
	config_free(&c);
	return out;
}

START_TEST(positional_kernel)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "myvmm", "bzImage", "--mem", "64M", NULL };
	ck_assert_int_eq(parse(&c, err, a), 0);
	ck_assert_str_eq(c.kernel, "bzImage");
	config_free(&c);
	char *b[] = { "myvmm", "--", "-odd-name", NULL };
	ck_assert_int_eq(parse(&c, err, b), 0);
	ck_assert_str_eq(c.kernel, "-odd-name");
	config_free(&c);
	char *d[] = { "myvmm", "--kernel", "a", "b", NULL };
	ck_assert_int_ne(parse(&c, err, d), 0);
	ck_assert_ptr_nonnull(strstr(err, "two kernels"));
	config_free(&c);
}
END_TEST

START_TEST(append_alias_and_default_console)
{
	char *a[] = { "myvmm", "k", "--append", "root=/dev/vda", NULL };
	ck_assert_str_eq(finished_cmdline(a), "root=/dev/vda console=ttyS0");
	char *b[] = { "myvmm", "k", "--cmdline", "root=/dev/vda", "--console", "virtio", NULL };
	ck_assert_str_eq(finished_cmdline(b), "root=/dev/vda console=hvc0");
	char *c[] = { "myvmm", "k", NULL };
	ck_assert_str_eq(finished_cmdline(c), "console=ttyS0");
	char *d[] = { "myvmm", "k", "--cmdline", "console=tty0 quiet", NULL };
	ck_assert_str_eq(finished_cmdline(d), "console=tty0 quiet");
	char *e[] = { "myvmm", "k", "--cmdline", "quiet", "--no-default-console", NULL };
	ck_assert_str_eq(finished_cmdline(e), "quiet");
	char *f[] = { "myvmm", "k", "--cmdline", "earlyconsole=x", NULL };
	ck_assert_str_eq(finished_cmdline(f), "earlyconsole=x console=ttyS0");
	char *g[] = { "myvmm", "k", "--cmdline=", NULL };
	ck_assert_str_eq(finished_cmdline(g), "console=ttyS0");
	char *h[] = { "myvmm", "k", "--append", "a", "--cmdline", "b", NULL };
	ck_assert_str_eq(finished_cmdline(h), "b console=ttyS0"); /* the last one wins */
	/* firmware boots have no kernel command line */
	char *i[] = { "myvmm", "--disk", "d.img", NULL };
	ck_assert_str_eq(finished_cmdline(i), "(null)");
}
END_TEST

struct sugg { const char *arg, *want; };

START_TEST(exact_names_and_suggestions)
{
	static const struct sugg cases[] = {
		{ "--ker", "did you mean --kernel?" }, { "--kern", "did you mean --kernel?" },
		{ "--memory", "did you mean --mem?" }, { "--cpu", "did you mean --cpus?" },
		{ "--initdr", "did you mean --initrd?" }, { "--consle", "did you mean --console?" },
		{ "--no-reboo", "did you mean --no-reboot?" }, { "-kernel", "did you mean --kernel?" },
		{ "-append", "did you mean --append?" }, { "-m", "did you mean --mem?" },
		{ "-smp", "did you mean --cpus?" }, { "-nographic", "did you mean --display none?" },
		{ "-drive", "did you mean --disk?" }, { "--xyzzy", "see myvmm --help" },
		{ "-q", "see myvmm --help" }, { "--e", "see myvmm --help" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;
		char err[CONFIG_ERR_LEN] = "";
		char *a[] = { "myvmm", "k", (char *)cases[i].arg, "v", NULL };
		ck_assert_msg(parse(&c, err, a) != 0, "accepted %s", cases[i].arg);
		ck_assert_msg(strstr(err, cases[i].want), "%s: '%s' lacks '%s'", cases[i].arg, err,
			      cases[i].want);
		ck_assert_msg(strstr(err, cases[i].arg), "error does not name %s: %s", cases[i].arg, err);
		config_free(&c);
	}
}
END_TEST

START_TEST(edit_distance)
{
	ck_assert_uint_eq(config_edit_distance("kernel", 6, "kernel", 6, 3), 0);
	ck_assert_uint_eq(config_edit_distance("kernal", 6, "kernel", 6, 3), 1);
	ck_assert_uint_eq(config_edit_distance("cpu", 3, "cpus", 4, 3), 1);
	ck_assert_uint_eq(config_edit_distance("", 0, "abc", 3, 3), 3);
	ck_assert_uint_eq(config_edit_distance("abcdefgh", 8, "zzzzzzzz", 8, 2), 3); /* capped */
}
END_TEST

static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	fn(f);
	fclose(f);
	return buf;
}

START_TEST(man_and_completion_cover_the_table)
{
	char *man = capture(config_print_man), *comp = capture(config_print_completion);
	static const char *const names[] = { "kernel", "append", "no-default-console", "console",
					     "help-completion", NULL };
	ck_assert(!strncmp(man, ".TH MYVMM 1", 11));
	for (int i = 0; names[i]; i++) {
		char roff[64], word[64];
		char *p = roff;
		p += sprintf(p, ".BR \\-\\-");
		for (const char *s = names[i]; *s; s++)
			p += *s == '-' ? sprintf(p, "\\-") : sprintf(p, "%c", *s);
		ck_assert_msg(strstr(man, roff), "man page lacks %s", roff);
		snprintf(word, sizeof(word), "--%s", names[i]);
		ck_assert_msg(strstr(comp, word), "completion lacks %s", word);
	}
	ck_assert_ptr_nonnull(strstr(comp, "--console) COMPREPLY=($(compgen -W 'stdio virtio file: pty unix: none'"));
	ck_assert_ptr_nonnull(strstr(comp, "--kernel) COMPREPLY=($(compgen -f"));
	ck_assert_ptr_nonnull(strstr(comp, "complete -o filenames -F _myvmm myvmm"));
	free(man);
	free(comp);
}
END_TEST

START_TEST(console_kinds)
{
	struct vm_config c;
	char err[CONFIG_ERR_LEN];
	char *a[] = { "myvmm", "k", "--console", "pty", NULL };
	ck_assert_int_eq(parse(&c, err, a), 0);
	ck_assert_int_eq(c.console, CONSOLE_PTY);
	config_free(&c);
	char *b[] = { "myvmm", "k", "--console", "unix:/tmp/s", NULL };
	ck_assert_int_eq(parse(&c, err, b), 0);
	ck_assert_int_eq(c.console, CONSOLE_UNIX);
	ck_assert_str_eq(c.console_path, "/tmp/s");
	config_free(&c);
	char longp[200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:", 5);
	longp[sizeof(longp) - 1] = 0;
	char *d[] = { "myvmm", "k", "--console", longp, NULL };
	ck_assert_int_ne(parse(&c, err, d), 0);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	config_free(&c);
	char *e[] = { "myvmm", "k", "--console", "unix:", NULL };
	ck_assert_int_ne(parse(&c, err, e), 0);
	config_free(&c);
}
END_TEST

CHECK_MAIN("config_args", positional_kernel, append_alias_and_default_console,
	exact_names_and_suggestions, edit_distance, man_and_completion_cover_the_table,
	console_kinds)
