/* Pure decoding of a struct kvm_run exit into what the vCPU loop must do. */
#ifndef MYVMM_EXIT_H
#define MYVMM_EXIT_H
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/vmctl.h"

enum exit_action {
	EXIT_CONTINUE,   /* nothing to do, re-enter */
	EXIT_PIO,        /* count accesses of size bytes at port, data[] */
	EXIT_MMIO,       /* one access of len bytes at addr */
	EXIT_STOP,       /* stop the VM: reason/value */
	EXIT_ERROR,      /* internal error: stop with a register dump */
	EXIT_DEBUG,      /* KVM_EXIT_DEBUG (guest debugging): run->debug.arch */
};

struct exit_info {
	enum exit_action action;
	uint64_t addr;        /* port or guest-physical address */
	uint32_t size;        /* bytes per access */
	uint32_t count;       /* PIO repeat count (rep ins/outs) */
	bool is_write;
	uint8_t *data;        /* inside the kvm_run page */
	enum stop_reason reason;
	int value;
	const char *what;     /* EXIT_ERROR: short description */
};

/* run_size bounds the PIO data area (data_offset + size*count). */
void exit_decode(struct kvm_run *run, uint32_t run_size, struct exit_info *out);
#endif
