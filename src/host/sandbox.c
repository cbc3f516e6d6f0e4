/* The seccomp sandbox: see sandbox.h for what is refused and why. */
#include "host/sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/term.h"

static const char *selftest(void)
{
	const char *s = getenv("MYVMM_SANDBOX_SELFTEST");
	return s ? s : "";
}

#ifndef HAVE_SECCOMP

bool sandbox_available(const char **why)
{
	*why = "this myvmm was built without libseccomp (install libseccomp-dev and rebuild)";
	return false;
}

int sandbox_install(enum sandbox_mode mode, char err[SANDBOX_ERR_LEN])
{
	if (mode == SANDBOX_OFF)
		return 0;
	snprintf(err, SANDBOX_ERR_LEN, "--sandbox %s: this myvmm was built without libseccomp; "
		 "install libseccomp-dev and rebuild, or use --sandbox off",
		 mode == SANDBOX_ON ? "on" : "log");
	return -ENOTSUP;
}

void sandbox_thread(enum sandbox_kind kind) {}

#else

#include <sched.h>
#include <seccomp.h>

/* Running programs fails with EPERM on every thread (libraries try it on
 * their own: libdbus, under SDL, forks dbus-launch when there is no session
 * bus, and copes with the error); so does clone unless it makes a thread
 * (CLONE_THREAD). */
static const char *const spawn_deny[] = { "execve", "execveat", "fork", "vfork" };

/* An AddressSanitizer build (the sanitize test label) runs LeakSanitizer at
 * exit, which stops the threads from a clone()d tracer with ptrace: such a
 * build keeps ptrace and process clones. Never the case in a release build. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_LEAK_CHECKER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_LEAK_CHECKER 1
#endif
#endif
#ifndef SANDBOX_LEAK_CHECKER
#define SANDBOX_LEAK_CHECKER 0
#endif
/* Refused on every thread: the call stops myvmm. Names unknown to this
 * libseccomp or kernel are skipped. */
static const char *const common_deny[] = {
#if !SANDBOX_LEAK_CHECKER
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsmount", "fsconfig", "fspick", "unshare", "setns",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup", "uselib",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid", "capset",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
	"personality", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname", "iopl", "ioperm", "open_by_handle_at",
	"name_to_handle_at", "lookup_dcookie", "fanotify_init",
};
/* Also refused on vCPU threads: they emulate devices, never open sockets. */
static const char *const vcpu_deny[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
};

static const char *const kind_names[SANDBOX_NKINDS] = { "main", "vcpu", "slirp" };

/* Filled before the first filter is loaded; read by the SIGSYS handler. */
static struct { int nr; const char *name; } g_names[128];
static unsigned g_nnames;
static enum sandbox_mode g_mode = SANDBOX_OFF;
static __thread int t_kind; /* SANDBOX_MAIN unless sandbox_thread() said */

static void note_name(int nr, const char *name)
{
	for (unsigned i = 0; i < g_nnames; i++)
		if (g_names[i].nr == nr)
			return;
	if (g_nnames < sizeof(g_names) / sizeof(g_names[0]))
		g_names[g_nnames++] = (__typeof__(g_names[0])){ nr, name };
}

static size_t put(char *b, size_t o, size_t cap, const char *s)
{
	while (*s && o + 1 < cap)
		b[o++] = *s++;
	return o;
}

/* Async-signal-safe: fixed buffer, write(2), tcsetattr (term_restore). */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char buf[384], num[12];
	const char *name = "unknown";
	int nr = si->si_syscall;
	size_t o = 0, n = 0;
	unsigned v = nr < 0 ? 0u : (unsigned)nr;

	for (unsigned i = 0; i < g_nnames; i++)
		if (g_names[i].nr == nr)
			name = g_names[i].name;
	do
		num[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(num));
	o = put(buf, o, sizeof(buf), "\r\nmyvmm: sandbox: the ");
	o = put(buf, o, sizeof(buf), kind_names[t_kind < SANDBOX_NKINDS ? t_kind : 0]);
	o = put(buf, o, sizeof(buf), " thread made a forbidden system call: ");
	o = put(buf, o, sizeof(buf), name);
	o = put(buf, o, sizeof(buf), " (");
	while (n && o + 1 < sizeof(buf))
		buf[o++] = num[--n];
	o = put(buf, o, sizeof(buf), "); stopping. A myvmm bug or an attack: please report it "
		"(docs/SECURITY.md); --sandbox log lets it through\n");
	if (write(STDERR_FILENO, buf, o) < 0) { /* nothing left to tell */ }
	term_restore();
	_exit(SANDBOX_EXIT_STATUS);
}

static int add_list(scmp_filter_ctx ctx, uint32_t act, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not on this architecture */
		note_name(nr, names[i]);
		int r = seccomp_rule_add(ctx, act, nr, 0);
		if (r)
			return r;
	}
	return 0;
}

static uint32_t deny_action(void)
{
	return g_mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
}

static uint32_t spawn_action(void)
{
	return g_mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM);
}

bool sandbox_available(const char **why)
{
	unsigned api = (unsigned)seccomp_api_get();
	if (api < 3) {
		*why = api ? "the kernel lacks seccomp filter features (TSYNC, LOG)"
			   : "the kernel has no seccomp filters";
		return false;
	}
	return true;
}

static void unblock_sigsys(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

static void run_selftest(const char *who)
{
	if (strcmp(selftest(), who))
		return;
	if (t_kind == SANDBOX_VCPU) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		fprintf(stderr, "myvmm: sandbox selftest: socket() in a vCPU thread returned %d\n", fd);
		if (fd >= 0)
			close(fd);
	} else {
		long r = syscall(SYS_personality, 0xffffffffUL);
		fprintf(stderr, "myvmm: sandbox selftest: personality() in the %s thread returned "
			"%ld\n", who, r);
	}
}

int sandbox_install(enum sandbox_mode mode, char err[SANDBOX_ERR_LEN])
{
	const char *why;
	scmp_filter_ctx ctx;
	struct sigaction sa;
	int r;

	if (mode == SANDBOX_OFF)
		return 0;
	if (!sandbox_available(&why)) {
		snprintf(err, SANDBOX_ERR_LEN, "--sandbox %s: %s; use --sandbox off",
			 mode == SANDBOX_ON ? "on" : "log", why);
		return -ENOTSUP;
	}
	g_mode = mode;
	/* Names first (the handler only reads the table), then the handler. */
	for (size_t i = 0; i < sizeof(vcpu_deny) / sizeof(vcpu_deny[0]); i++)
		note_name(seccomp_syscall_resolve_name(vcpu_deny[i]), vcpu_deny[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	unblock_sigsys();

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, SANDBOX_ERR_LEN, "--sandbox: libseccomp cannot allocate a filter");
		return -ENOMEM;
	}
	/* clone3 takes its flags in memory a filter cannot read: ENOSYS makes
	 * glibc fall back to clone, whose flags are checked. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (r = add_list(ctx, deny_action(), common_deny,
			  sizeof(common_deny) / sizeof(common_deny[0]))) ||
	    (r = add_list(ctx, spawn_action(), spawn_deny,
			  sizeof(spawn_deny) / sizeof(spawn_deny[0]))) ||
	    (!SANDBOX_LEAK_CHECKER &&
	     (r = seccomp_rule_add(ctx, spawn_action(), SCMP_SYS(clone), 1,
				   SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)))) ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) ||
	    (r = seccomp_load(ctx))) {
		snprintf(err, SANDBOX_ERR_LEN, "--sandbox: cannot load the seccomp filter: %s; use "
			 "--sandbox off", strerror(r < 0 ? -r : EINVAL));
		seccomp_release(ctx);
		return r < 0 ? r : -EINVAL;
	}
	seccomp_release(ctx);
	run_selftest("main");
	return 0;
}

void sandbox_thread(enum sandbox_kind kind)
{
	scmp_filter_ctx ctx;

	if (g_mode == SANDBOX_OFF)
		return;
	t_kind = kind;
	unblock_sigsys();
	if (kind == SANDBOX_VCPU) {
		ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx || add_list(ctx, deny_action(), vcpu_deny,
				     sizeof(vcpu_deny) / sizeof(vcpu_deny[0])) ||
		    seccomp_load(ctx))
			fprintf(stderr, "myvmm: warning: sandbox: the vCPU filter did not load; this "
				"thread keeps the common one\n");
		seccomp_release(ctx);
	}
	run_selftest(kind_names[kind]);
}
#endif
