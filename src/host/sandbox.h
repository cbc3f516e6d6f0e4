/* The seccomp sandbox (--sandbox on|log|off, default on).
 *
 * What it does: once set-up is done (event loop, signals, consoles, gdb
 * stub; before the first VM is built and before the display connects),
 * sandbox_install() loads a process-wide filter on every thread at once
 * (SECCOMP_FILTER_FLAG_TSYNC). Threads started later (vCPUs and the slirp
 * thread, rebuilt on every guest reset) inherit it, and each adds the rules
 * of its kind at thread start with sandbox_thread(): filters stack, the
 * strictest answer wins. TSYNC for the common filter, because threads that
 * myvmm does not start itself (SDL's, glib's) must be covered too; per-thread
 * additions because a vCPU needs less than the UI thread.
 *
 * The rules (sandbox.c has the lists): on every thread, running programs
 * fails with EPERM (execve, execveat, fork, vfork, clone of a process
 * rather than a thread: libraries try it themselves, e.g. libdbus under SDL
 * forks dbus-launch, and cope with the error), and the rest of what a VMM
 * never needs after set-up and an attacker with code execution in myvmm
 * wants stops myvmm: debugging other processes (ptrace,
 * process_vm_*), kernel and system changes (modules, kexec, mount,
 * namespaces, chroot, reboot, swap, clock and host name changes, keyrings,
 * bpf, perf, userfaultfd, personality, iopl/ioperm) and credential changes.
 * vCPU threads are also refused sockets (socket, connect, bind, listen,
 * accept). i386 and x32 system calls kill the process.
 *
 * A refused call gives one line naming it (SIGSYS handler, async-signal-safe
 * writes), restores the terminal and exits with status 3 (internal error).
 * --sandbox log lets the call through and has the kernel log it (audit);
 * --sandbox off loads nothing. */
#ifndef MYVMM_SANDBOX_H
#define MYVMM_SANDBOX_H
#include <stdbool.h>

enum sandbox_mode { SANDBOX_ON, SANDBOX_LOG, SANDBOX_OFF };
enum sandbox_kind { SANDBOX_MAIN, SANDBOX_VCPU, SANDBOX_SLIRP, SANDBOX_NKINDS };

#define SANDBOX_EXIT_STATUS 3
#define SANDBOX_ERR_LEN 256

/* True if this build has libseccomp and the kernel takes filters with
 * TSYNC; *why says what is missing otherwise. */
bool sandbox_available(const char **why);
/* Loads the common filter on every thread (mode on/log) and the SIGSYS
 * handler. 0, or -errno with one line in err. MYVMM_SANDBOX_SELFTEST=main
 * then makes this thread call a forbidden system call (tests). */
int sandbox_install(enum sandbox_mode mode, char err[SANDBOX_ERR_LEN]);
/* At the start of a thread of this kind (after sandbox_install, or not at
 * all when the sandbox is off): unblocks SIGSYS and adds the kind's rules.
 * MYVMM_SANDBOX_SELFTEST=vcpu|slirp makes the thread call a forbidden one. */
void sandbox_thread(enum sandbox_kind kind);
#endif
