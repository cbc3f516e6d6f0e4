/* What a device may ask of the machine: stop it for a reason. Injected into
 * devices (debug-exit, PM1, reset control, i8042, pvpanic) instead of struct vm. */
#ifndef MYVMM_VMCTL_H
#define MYVMM_VMCTL_H

enum stop_reason {
	STOP_NONE = 0,
	STOP_POWEROFF,       /* ACPI S5                      -> exit 0       */
	STOP_RESET,          /* 0xCF9, i8042, ACPI reset, triple fault -> restart */
	STOP_DEBUG_EXIT,     /* port 0xf4, value v           -> ((v&0x7f)<<1)|1 */
	STOP_TIMEOUT,        /* --timeout                    -> 124          */
	STOP_INTERNAL_ERROR, /* KVM internal error / emulation failure -> 3  */
	STOP_PANIC,          /* pvpanic                      -> 4            */
	STOP_EXPECT,         /* --expect matched             -> 0            */
	STOP_EXPECT_FAIL,    /* --expect-fail matched        -> 5            */
	STOP_QUIT,           /* Ctrl-A x, window closed      -> 0            */
	STOP_SIGNAL,         /* SIGINT/SIGTERM/SIGHUP        -> 128+sig      */
};

struct vmctl {
	/* Thread-safe; the first stop request wins, later ones are ignored. */
	void (*stop)(void *opaque, enum stop_reason why, int value);
	void *opaque;
};

static inline void vmctl_stop(const struct vmctl *c, enum stop_reason why, int value)
{
	if (c && c->stop)
		c->stop(c->opaque, why, value);
}

/* A byte sink (console output). Thread-safe. */
struct char_sink {
	void (*write)(void *opaque, const void *buf, unsigned long len);
	void *opaque;
};
#endif
