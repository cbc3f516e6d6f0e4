/* libFuzzer: user-supplied configuration text. Byte 0 picks the entry point:
 * config_load_text (an INI file), parse_size, parse_duration_ms, parse_disk, parse_net,
 * config_parse_args on NUL-separated argv words, or qemu_args_parse (the QEMU
 * command-line translator) on NUL-separated words. Nested `config = FILE`
 * keys are refused by starting at the maximum nesting depth, so no host file
 * is ever opened. Checks: failures are -errno with a non-empty error line,
 * successes leave a config that config_validate and config_free accept. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "cli/qemu_args.h"

static void check_ret(int ret, const char *err)
{
	if (ret > 0 || ret < -4095 || (ret < 0 && err[0] == '\0'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config c;
	struct disk_config d;
	char err[CONFIG_ERR_LEN];
	uint64_t v;
	char *s;
	int ret;

	if (size < 1)
		return 0;
	s = malloc(size); /* data[1..] as a NUL-terminated string */
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	config_init(&c);
	c.config_depth = 4; /* CONFIG_MAX_DEPTH: "config = x" fails without opening x */
	err[0] = 0;
	switch (data[0] % 7) {
	case 0:
		ret = config_load_text(&c, s, "fuzz.conf", (data[0] & 0x80) ? "/nonexistent" : NULL, err);
		check_ret(ret, err);
		break;
	case 1:
		ret = parse_size(s, &v);
		if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
			abort();
		break;
	case 2:
		ret = parse_duration_ms(s, &v);
		if (ret != 0 && ret != -EINVAL && ret != -ERANGE)
			abort();
		if (ret == 0 && v > 1000000000000ull + 1)
			abort();
		break;
	case 3:
		memset(&d, 0, sizeof(d));
		ret = parse_disk(s, &d, err);
		check_ret(ret, err);
		if (ret == 0 && (!d.path || strnlen(d.serial, sizeof(d.serial)) == sizeof(d.serial)))
			abort();
		free(d.path);
		break;
	case 5: {
		struct net_config n;
		memset(&n, 0, sizeof(n));
		ret = parse_net(s, &n, err);
		check_ret(ret, err);
		if (ret == 0 && n.nfwd > CONFIG_MAX_HOSTFWD)
			abort();
		break;
	}
	case 6: {
		/* QEMU words; then the result must validate or fail cleanly */
		char *argv[33];
		int argc = 0;
		for (size_t i = 0; i < size - 1 && argc < 32; i += strlen(s + i) + 1)
			argv[argc++] = s + i;
		argv[argc] = NULL;
		ret = qemu_args_parse(&c, argc, argv, err);
		check_ret(ret, err);
		if (ret == 0 && (!c.qemu_mode || !c.no_default_console))
			abort();
		break;
	}
	case 4: {
		/* argv: "myvmm" then the NUL-separated words of s */
		char *argv[34];
		int argc = 1;
		argv[0] = "myvmm";
		for (size_t i = 0; i < size - 1 && argc < 33; i += strlen(s + i) + 1)
			argv[argc++] = s + i;
		argv[argc] = NULL;
		ret = config_parse_args(&c, argc, argv, err);
		check_ret(ret, err);
		/* A later parse must not see this one's getopt state. */
		struct vm_config c2;
		char *good[] = { "myvmm", "--mem=64", NULL };
		config_init(&c2);
		if (config_parse_args(&c2, 2, good, err) != 0 || c2.show_help || c2.mem != 64ull << 20)
			abort();
		config_free(&c2);
		break;
	}
	}
	err[0] = 0;
	ret = config_validate(&c, err);
	check_ret(ret, err);
	if (ret == 0 && config_finish(&c) == 0 && !config_boot_firmware(&c) && !c.cmdline &&
	    !c.no_default_console)
		abort(); /* a kernel boot always has a command line after config_finish */
	if (c.ndisks > CONFIG_MAX_DISKS)
		abort();
	config_free(&c);
	free(s);
	return 0;
}
