/* `myvmm --check`: can this host run VMs, and what will guests get? */
#ifndef MYVMM_HOSTCHECK_H
#define MYVMM_HOSTCHECK_H
#include <stdio.h>
/* Prints the report; returns the exit status (0 usable, 1 not usable). */
int host_check_report(FILE *out);
#endif
