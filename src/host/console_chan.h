/* Consoles a client attaches to: a pseudo-terminal (--console pty) or a
 * listening unix socket (--console unix:PATH). Output is kept in a bounded
 * ring while nobody reads it (the oldest bytes go first), so a client that
 * attaches late still sees the boot log; the guest never waits for a client.
 * One client at a time on the socket; the pty can be reopened any time. */
#ifndef MYVMM_CONSOLE_CHAN_H
#define MYVMM_CONSOLE_CHAN_H
#include <stddef.h>
#include <stdint.h>

#include "host/evloop.h"

#define CHAN_RING_SIZE (128u << 10)
#define CHAN_ERR_LEN 512

enum chan_kind { CHAN_PTY, CHAN_UNIX };

struct console_chan;

/* Input from the client, on the event-loop thread: room() says how many
 * bytes the guest side can take now (0 pauses reading until
 * console_chan_resume_input), input() delivers at most that many. */
struct chan_input {
	size_t (*room)(void *opaque);
	void (*input)(void *opaque, const uint8_t *buf, size_t n);
	void *opaque;
};

/* path: the socket to create for CHAN_UNIX (a stale socket there is
 * replaced, any other file is an error); ignored for CHAN_PTY. */
int console_chan_open(struct console_chan **out, enum chan_kind kind, const char *path,
		      struct evloop *loop, const struct chan_input *in, char err[CHAN_ERR_LEN]);
/* The pty's slave path (/dev/pts/N) or the socket path. */
const char *console_chan_path(const struct console_chan *ch);
/* Guest output; any thread. Never blocks. */
void console_chan_write(void *chan, const void *buf, unsigned long len);
/* Event-loop thread: the guest side has room again. */
void console_chan_resume_input(struct console_chan *ch);
/* Removes the socket file. */
void console_chan_close(struct console_chan *ch);

/* The ring, exposed for unit tests. */
struct chan_ring {
	uint8_t *buf;
	size_t cap, start, len;
	uint64_t dropped;        /* bytes overwritten before anyone read them */
};
void chan_ring_push(struct chan_ring *r, const uint8_t *p, size_t n);
/* The oldest contiguous run of bytes; 0 when empty. */
size_t chan_ring_peek(const struct chan_ring *r, const uint8_t **p);
void chan_ring_consume(struct chan_ring *r, size_t n);
#endif
