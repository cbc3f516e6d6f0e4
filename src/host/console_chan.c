#include "host/console_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

struct console_chan {
	pthread_mutex_t lock;    /* ring, client_fd and dead (vCPU threads write) */
	enum chan_kind kind;
	struct evloop *loop;
	struct chan_input in;
	int listen_fd;           /* CHAN_UNIX */
	int client_fd;           /* the attached client, or the pty master; -1 none */
	int out_fd;              /* dup of client_fd, EPOLLOUT edge-triggered: "writable again" */
	int slave_fd;            /* CHAN_PTY: held open so the master never hangs up */
	bool dead;               /* a write failed: the loop thread drops the client */
	bool input_paused;
	bool bound;               /* the socket file is ours to remove */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct chan_ring ring;
};

void chan_ring_push(struct chan_ring *r, const uint8_t *p, size_t n)
{
	if (n >= r->cap) {
		r->dropped += r->len + (n - r->cap);
		p += n - r->cap;
		n = r->cap;
		r->start = r->len = 0;
	} else if (r->len + n > r->cap) {
		size_t drop = r->len + n - r->cap;
		r->dropped += drop;
		chan_ring_consume(r, drop);
	}
	size_t end = (r->start + r->len) % r->cap, first = r->cap - end < n ? r->cap - end : n;
	memcpy(r->buf + end, p, first);
	memcpy(r->buf, p + first, n - first);
	r->len += n;
}

size_t chan_ring_peek(const struct chan_ring *r, const uint8_t **p)
{
	*p = r->buf + r->start;
	return r->cap - r->start < r->len ? r->cap - r->start : r->len;
}

void chan_ring_consume(struct chan_ring *r, size_t n)
{
	if (n > r->len)
		n = r->len;
	r->start = (r->start + n) % r->cap;
	r->len -= n;
	if (!r->len)
		r->start = 0;
}

/* Writes what the client takes without blocking. Lock held. */
static void flush_locked(struct console_chan *ch)
{
	const uint8_t *p;
	size_t n;

	if (ch->client_fd < 0 || ch->dead)
		return;
	if (ch->ring.dropped && ch->kind == CHAN_UNIX) {
		char note[96];
		int l = snprintf(note, sizeof(note), "\r\n[myvmm: %llu bytes of earlier console output "
				 "dropped]\r\n", (unsigned long long)ch->ring.dropped);
		if (write(ch->client_fd, note, (size_t)l) != l) { /* best effort */ }
		ch->ring.dropped = 0;
	}
	while ((n = chan_ring_peek(&ch->ring, &p))) {
		ssize_t w = write(ch->client_fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && ch->kind == CHAN_UNIX)
				ch->dead = true; /* EPIPE, ECONNRESET: the loop thread sees EOF */
			return;
		}
		chan_ring_consume(&ch->ring, (size_t)w);
	}
}

void console_chan_write(void *opaque, const void *buf, unsigned long len)
{
	struct console_chan *ch = opaque;

	pthread_mutex_lock(&ch->lock);
	chan_ring_push(&ch->ring, buf, len);
	flush_locked(ch);
	pthread_mutex_unlock(&ch->lock);
}

static void on_client(void *opaque, int fd, uint32_t ev);

static void on_writable(void *opaque, int fd, uint32_t ev)
{
	struct console_chan *ch = opaque;
	pthread_mutex_lock(&ch->lock);
	flush_locked(ch);
	pthread_mutex_unlock(&ch->lock);
}

/* Loop thread: registers fd as the client (input + writable edges). */
static int attach(struct console_chan *ch, int fd)
{
	int out = fcntl(fd, F_DUPFD_CLOEXEC, 0), r;

	if (out < 0)
		return -errno;
	if ((r = evloop_add_fd(ch->loop, fd, EPOLLIN, on_client, ch))) {
		close(out);
		return r;
	}
	if ((r = evloop_add_fd(ch->loop, out, EPOLLOUT | EPOLLET, on_writable, ch))) {
		evloop_del_fd(ch->loop, fd);
		close(out);
		return r;
	}
	pthread_mutex_lock(&ch->lock);
	ch->client_fd = fd;
	ch->out_fd = out;
	ch->dead = false;
	ch->input_paused = false;
	flush_locked(ch); /* what was said while nobody listened */
	pthread_mutex_unlock(&ch->lock);
	return 0;
}

static void detach(struct console_chan *ch)
{
	int fd, out;

	pthread_mutex_lock(&ch->lock);
	fd = ch->client_fd;
	out = ch->out_fd;
	ch->client_fd = ch->out_fd = -1;
	ch->dead = false;
	pthread_mutex_unlock(&ch->lock);
	if (fd < 0)
		return;
	if (!ch->input_paused)
		evloop_del_fd(ch->loop, fd);
	evloop_del_fd(ch->loop, out);
	close(out);
	close(fd);
}

static void on_client(void *opaque, int fd, uint32_t ev)
{
	struct console_chan *ch = opaque;
	uint8_t buf[512];
	size_t room = ch->in.room(ch->in.opaque);

	if (room == 0) {
		evloop_del_fd(ch->loop, fd); /* resumed by console_chan_resume_input */
		ch->input_paused = true;
		return;
	}
	ssize_t n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0) {
		ch->in.input(ch->in.opaque, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (ch->kind == CHAN_UNIX)
		detach(ch); /* the client left: buffer until the next one */
}

void console_chan_resume_input(struct console_chan *ch)
{
	if (ch && ch->input_paused && ch->client_fd >= 0 &&
	    evloop_add_fd(ch->loop, ch->client_fd, EPOLLIN, on_client, ch) == 0)
		ch->input_paused = false;
}

static void on_accept(void *opaque, int fd, uint32_t ev)
{
	struct console_chan *ch = opaque;
	static const char busy[] = "myvmm: console busy: another client is attached\r\n";
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (ch->client_fd >= 0) {
		if (write(c, busy, sizeof(busy) - 1) < 0) { /* going anyway */ }
		close(c);
		return;
	}
	if (attach(ch, c))
		close(c);
}

static int open_pty(struct console_chan *ch, char *err)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, ch->path, sizeof(ch->path)))
		goto fail;
	ch->slave_fd = open(ch->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ch->slave_fd < 0 || tcgetattr(ch->slave_fd, &t))
		goto fail;
	cfmakeraw(&t); /* bytes as the guest sent them: no echo, no \n -> \r\n */
	if (tcsetattr(ch->slave_fd, TCSANOW, &t) ||
	    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) || attach(ch, m))
		goto fail;
	return 0;
fail:
	snprintf(err, CHAN_ERR_LEN, "--console pty: cannot create a pseudo-terminal: %s; "
		 "check /dev/pts is mounted", strerror(errno));
	if (m >= 0)
		close(m);
	return -EIO;
}

static int open_unix(struct console_chan *ch, const char *path, char *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, CHAN_ERR_LEN, "--console unix:%.200s: path too long (max %zu bytes)",
			 path, sizeof(a.sun_path) - 1);
		return -EINVAL;
	}
	strcpy(a.sun_path, path);
	strcpy(ch->path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, CHAN_ERR_LEN, "--console unix:%.200s: a file that is not a socket "
				 "exists there; remove it or pick another path", path);
			return -EEXIST;
		}
		unlink(path); /* a stale socket of an earlier run */
	}
	ch->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ch->listen_fd < 0 || bind(ch->listen_fd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	ch->bound = true;
	int e = listen(ch->listen_fd, 4) ? -errno :
		evloop_add_fd(ch->loop, ch->listen_fd, EPOLLIN, on_accept, ch);
	if (e) {
		errno = -e;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, CHAN_ERR_LEN, "--console unix:%.200s: cannot listen: %s; check the "
		 "directory exists and is writable", path, strerror(errno));
	return -EIO;
}

int console_chan_open(struct console_chan **out, enum chan_kind kind, const char *path,
		      struct evloop *loop, const struct chan_input *in, char err[CHAN_ERR_LEN])
{
	struct console_chan *ch = calloc(1, sizeof(*ch));
	int r;

	if (!ch || !(ch->ring.buf = malloc(CHAN_RING_SIZE))) {
		free(ch);
		snprintf(err, CHAN_ERR_LEN, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&ch->lock, NULL);
	ch->ring.cap = CHAN_RING_SIZE;
	ch->kind = kind;
	ch->loop = loop;
	ch->in = *in;
	ch->listen_fd = ch->client_fd = ch->out_fd = ch->slave_fd = -1;
	r = kind == CHAN_PTY ? open_pty(ch, err) : open_unix(ch, path, err);
	if (r) {
		console_chan_close(ch);
		return r;
	}
	*out = ch;
	return 0;
}

const char *console_chan_path(const struct console_chan *ch)
{
	return ch->path;
}

void console_chan_close(struct console_chan *ch)
{
	if (!ch)
		return;
	detach(ch);
	if (ch->listen_fd >= 0) {
		evloop_del_fd(ch->loop, ch->listen_fd);
		close(ch->listen_fd);
	}
	if (ch->bound)
		unlink(ch->path);
	if (ch->slave_fd >= 0)
		close(ch->slave_fd);
	pthread_mutex_destroy(&ch->lock);
	free(ch->ring.buf);
	free(ch);
}
