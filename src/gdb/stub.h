/* The gdb stub: a GDB remote-protocol server for one VM (--gdb, --gdb-wait).
 *
 * Threading: the stub runs on the machine's event loop thread (the main
 * thread, or the I/O thread with a display): it accepts the connection,
 * parses packets and reads/writes vCPU state there, so its VM pointer is
 * valid between attach and detach without locks. vCPU threads only call the
 * debug-exit callback, which stores the event under ev_lock and wakes the
 * loop through an eventfd. vCPU registers are touched only while every
 * vCPU is parked (vcpu_pause_all). */
#ifndef MYVMM_GDB_STUB_H
#define MYVMM_GDB_STUB_H
#include <stdbool.h>
#include <stddef.h>

struct gdb_stub;
struct evloop;
struct kvm_host;
struct vm;

#define GDB_ERR_LEN 512

/* Listens on spec (see gdb/spec.h) now, so a bad address is a start-up
 * error. wait: --gdb-wait, the first VM starts stopped until gdb continues.
 * Fails with one line in err when the host lacks KVM_CAP_SET_GUEST_DEBUG. */
int gdb_stub_create(const char *spec, bool wait, struct evloop *loop, const struct kvm_host *kvm,
		    struct gdb_stub **out, char err[GDB_ERR_LEN]);
void gdb_stub_destroy(struct gdb_stub *s);
/* Before vm_start(): hooks the VM (after a reset: the new one). */
void gdb_stub_attach(struct gdb_stub *s, struct vm *vm);
/* After the loop ended, before the vCPUs are joined. final: the VM will not
 * restart; gdb is then told the exit status (W packet) and disconnected. */
void gdb_stub_detach(struct gdb_stub *s, bool final, int exit_code);
/* What this host supports, for --check (one line, no newline). */
const char *gdb_host_support(const struct kvm_host *kvm);
#endif
