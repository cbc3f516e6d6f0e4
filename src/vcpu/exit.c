#include "vcpu/exit.h"

#include <string.h>

void exit_decode(struct kvm_run *run, uint32_t run_size, struct exit_info *out)
{
	memset(out, 0, sizeof(*out));
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;
		if (!(run->io.size == 1 || run->io.size == 2 || run->io.size == 4) ||
		    run->io.data_offset >= run_size || bytes > run_size - run->io.data_offset) {
			out->action = EXIT_ERROR;
			out->what = "malformed port I/O exit";
			return;
		}
		out->action = EXIT_PIO;
		out->addr = run->io.port;
		out->size = run->io.size;
		out->count = run->io.count;
		out->is_write = run->io.direction == KVM_EXIT_IO_OUT;
		out->data = (uint8_t *)run + run->io.data_offset;
		return;
	}
	case KVM_EXIT_MMIO:
		if (run->mmio.len == 0 || run->mmio.len > 8) {
			out->action = EXIT_ERROR;
			out->what = "malformed MMIO exit";
			return;
		}
		out->action = EXIT_MMIO;
		out->addr = run->mmio.phys_addr;
		out->size = run->mmio.len;
		out->count = 1;
		out->is_write = run->mmio.is_write;
		out->data = run->mmio.data;
		return;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:      /* only without an in-kernel LAPIC */
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		out->action = EXIT_CONTINUE;
		return;
	case KVM_EXIT_SHUTDOWN: /* triple fault: a real PC resets */
		out->action = EXIT_STOP;
		out->reason = STOP_RESET;
		out->what = "triple fault";
		return;
	case KVM_EXIT_SYSTEM_EVENT:
		out->action = EXIT_STOP;
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			out->reason = STOP_POWEROFF;
			return;
		case KVM_SYSTEM_EVENT_RESET:
			out->reason = STOP_RESET;
			return;
		case KVM_SYSTEM_EVENT_CRASH:
			out->reason = STOP_PANIC;
			return;
		default:
			out->action = EXIT_ERROR;
			out->what = "unknown system event";
			return;
		}
	case KVM_EXIT_DEBUG:    /* only while a debugger set KVM_SET_GUEST_DEBUG */
		out->action = EXIT_DEBUG;
		return;
	case KVM_EXIT_INTERNAL_ERROR:
		out->action = EXIT_ERROR;
		out->what = run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				    ? "KVM emulation failure"
				    : "KVM internal error";
		return;
	case KVM_EXIT_FAIL_ENTRY:
		out->action = EXIT_ERROR;
		out->what = "KVM entry failure";
		return;
	default:
		out->action = EXIT_ERROR;
		out->what = "unexpected KVM exit";
		return;
	}
}
