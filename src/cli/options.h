/* The one options table (src/cli/config.c), shared by the argv parser,
 * config files, --help, the man page and the shell completion. */
#ifndef MYVMM_OPTIONS_H
#define MYVMM_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>

#include "cli/config.h"

typedef int (*opt_handler)(struct vm_config *c, const char *v, char *err);

enum opt_arg { OPT_FLAG, OPT_VALUE };

struct opt_desc {
	const char *name;
	enum opt_arg arg;
	const char *metavar;
	const char *help;      /* includes the default */
	opt_handler set;
	const char *values;    /* completion words for the value ("stdio virtio ..."), or NULL */
	bool path;             /* the value is a file path (completion, config-file resolution) */
	bool action;           /* a command (--help, --check): not a config-file setting */
};

/* The table, in --help order. */
const struct opt_desc *config_options(size_t *n);
/* Exact-name lookup (no prefixes): NULL when unknown. */
const struct opt_desc *config_option_find(const char *name, size_t len);
#endif
