/* A QEMU command line (the subset kernel CI tools such as LAVA pass) turned
 * into the native configuration. Pure: no files are opened. */
#ifndef MYVMM_QEMU_ARGS_H
#define MYVMM_QEMU_ARGS_H
#include <stdbool.h>

#include "cli/config.h"
#include "devices/vmctl.h"

/* The QEMU release whose command-line syntax this subset follows; what
 * --version reports in QEMU mode (LAVA reads the 4th word). */
#define QEMU_COMPAT_VERSION "7.2.0"

/* True when argv is a QEMU command line: argv[0]'s basename is
 * qemu-system-x86_64 (or qemu-kvm), argv[1] is "qemu", or argv[1] is one of
 * QEMU's single-dash options (LAVA resolves a qemu-system-x86_64 symlink
 * with realpath, so it runs us as plain myvmm with QEMU's arguments).
 * *skip: how many leading words (argv[0], "qemu") precede the options. */
bool qemu_args_detect(int argc, char **argv, int *skip);

/* Parses QEMU options argv[0..argc-1] (the program name already skipped)
 * into c (initialised by config_init) and sets c->qemu_mode. Options are
 * accepted with one or two dashes, values as the next word ("-m 512";
 * QEMU has no "-m=512"). Returns 0, or -EINVAL with one line in err naming
 * the option (anything outside the subset is an error, never ignored). */
int qemu_args_parse(struct vm_config *c, int argc, char **argv, char err[CONFIG_ERR_LEN]);

/* The native option for a QEMU spelling ("-m" -> "--mem"), for "did you
 * mean" hints in native mode; NULL when there is none. */
const char *qemu_native_equivalent(const char *qemu_opt);

/* QEMU's exit status for a stop: as native, except that a signal ends QEMU
 * with 0 ("terminating on signal N"). */
int qemu_exit_code(enum stop_reason why, int native_code);

/* Prints QEMU-mode --help (the accepted subset). */
void qemu_print_help(const char *prog);
#endif
