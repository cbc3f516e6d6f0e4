/* The exit decoder against synthetic kvm_run pages. */
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "vcpu/exit.h"

#define RUN_SIZE 4096
static struct kvm_run *mkrun(void)
{
	struct kvm_run *r = calloc(1, RUN_SIZE);
	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(pio_out)
{
	struct kvm_run *r = mkrun();
	struct exit_info x;
	r->exit_reason = KVM_EXIT_IO;
	r->io.direction = KVM_EXIT_IO_OUT;
	r->io.size = 1;
	r->io.port = 0x3f8;
	r->io.count = 3; /* rep outsb */
	r->io.data_offset = 1024;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_PIO);
	ck_assert_uint_eq(x.addr, 0x3f8);
	ck_assert_uint_eq(x.size, 1);
	ck_assert_uint_eq(x.count, 3);
	ck_assert(x.is_write);
	ck_assert_ptr_eq(x.data, (uint8_t *)r + 1024);
	free(r);
}
END_TEST

START_TEST(pio_malformed)
{
	struct kvm_run *r = mkrun();
	struct exit_info x;
	r->exit_reason = KVM_EXIT_IO;
	r->io.size = 4;
	r->io.count = 2000; /* 8000 bytes: beyond the run page */
	r->io.data_offset = 1024;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	r->io.count = 1;
	r->io.size = 3;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	r->io.size = 1;
	r->io.data_offset = RUN_SIZE;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	free(r);
}
END_TEST

START_TEST(mmio)
{
	struct kvm_run *r = mkrun();
	struct exit_info x;
	r->exit_reason = KVM_EXIT_MMIO;
	r->mmio.phys_addr = 0xfebf0000;
	r->mmio.len = 4;
	r->mmio.is_write = 0;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_MMIO);
	ck_assert_uint_eq(x.addr, 0xfebf0000);
	ck_assert(!x.is_write);
	r->mmio.len = 16;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	free(r);
}
END_TEST

START_TEST(stops)
{
	struct kvm_run *r = mkrun();
	struct exit_info x;
	r->exit_reason = KVM_EXIT_SHUTDOWN;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_STOP);
	ck_assert_int_eq(x.reason, STOP_RESET);
	r->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	r->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.reason, STOP_POWEROFF);
	r->system_event.type = KVM_SYSTEM_EVENT_RESET;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.reason, STOP_RESET);
	r->system_event.type = KVM_SYSTEM_EVENT_CRASH;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.reason, STOP_PANIC);
	r->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	r->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	ck_assert_str_eq(x.what, "KVM emulation failure");
	r->exit_reason = KVM_EXIT_FAIL_ENTRY;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	r->exit_reason = 9999;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_ERROR);
	r->exit_reason = KVM_EXIT_INTR;
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_CONTINUE);
	r->exit_reason = KVM_EXIT_DEBUG; /* gdb: breakpoint or step */
	exit_decode(r, RUN_SIZE, &x);
	ck_assert_int_eq(x.action, EXIT_DEBUG);
	free(r);
}
END_TEST

CHECK_MAIN("exit", pio_out, pio_malformed, mmio, stops)
