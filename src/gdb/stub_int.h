/* gdb stub internals shared by stub.c (connection, stop/resume) and
 * stub_cmd.c (packet handlers). Loop-thread only, except ev_*. */
#ifndef MYVMM_GDB_STUB_INT_H
#define MYVMM_GDB_STUB_INT_H
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdb/bp.h"
#include "gdb/rsp.h"
#include "gdb/spec.h"
#include "gdb/stub.h"
#include "machine/pc_map.h"

struct gdb_stub {
	struct evloop *loop;
	struct gdb_spec spec;
	int listen_fd, client_fd, ev_fd;
	bool wait_start;          /* --gdb-wait not consumed yet */
	bool pvm;                 /* kvm_pvm: no int3, no data breakpoints */
	bool blockirq;            /* KVM_GUESTDBG_BLOCKIRQ for steps */
	struct vm *vm;            /* attached VM, NULL between VMs */
	bool parked;              /* we hold every vCPU parked */
	bool gdb_waits;           /* gdb resumed the VM and waits for a stop reply */
	bool noack;
	bool x64;                 /* register layout last served */
	bool warned_watch;
	bool drop;                /* close the client after this packet */
	unsigned g_cpu, c_cpu;    /* Hg / Hc selections (vCPU index) */
	char stop_reply[96];      /* the last stop, for '?' */
	bool step[VMM_MAX_CPUS];
	struct gdb_bps bps;
	struct rsp_rx rx;
	char out[2 * RSP_MAX_PACKET + 8];
	size_t out_len;           /* last framed reply (resent on NAK) */

	pthread_mutex_t ev_lock;  /* guards ev_*: written by vCPU threads */
	bool ev_pending;
	unsigned ev_cpu;
	struct kvm_debug_exit_arch ev_arch;
};

/* stub.c */
void stub_send(struct gdb_stub *s, const char *payload, size_t len);
void stub_reply(struct gdb_stub *s, const char *payload);
/* Parks every vCPU (idempotent). */
int stub_pause(struct gdb_stub *s);
/* Resumes: act[i] = 'c', 's' or 0 (stays stopped). */
void stub_resume(struct gdb_stub *s, const char *act);
/* Ends the session: breakpoints off, vCPUs resumed, socket closed. */
void stub_end_session(struct gdb_stub *s);
/* stub_cmd.c */
void stub_handle_packet(struct gdb_stub *s, const char *pkt);
#endif
