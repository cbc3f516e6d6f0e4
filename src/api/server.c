/* Control socket plumbing (see server.h). Runs on the event loop thread. */
#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "host/evloop.h"
#include "host/log.h"

#define CONN_BUF (HTTP_MAX_HEAD + HTTP_MAX_BODY)

struct api_conn {
	struct api_server *srv;
	int fd;                 /* -1: slot free */
	size_t len;
	char buf[CONN_BUF];
};

struct api_server {
	struct evloop *loop;
	struct api *api;
	int fd;
	char *path;
	struct api_conn conn[API_MAX_CLIENTS];
};

static void conn_close(struct api_conn *c)
{
	if (c->fd < 0)
		return;
	evloop_del_fd(c->srv->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Writes all of buf or gives up: the socket is non-blocking and answers are
 * small, so a full socket buffer means the client is not reading. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int respond(struct api_conn *c, int status, const char *body, size_t body_len,
		   bool keep_alive)
{
	char head[256];
	int n = http_format_head(head, sizeof(head), status, body_len, keep_alive);
	if (n < 0 || send_all(c->fd, head, (size_t)n) || send_all(c->fd, body, body_len))
		return -1;
	return 0;
}

static void on_conn(void *opaque, int fd, uint32_t events)
{
	struct api_conn *c = opaque;
	struct http_request req;
	ssize_t n;
	int r;

	if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
		conn_close(c);
		return;
	}
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	/* Pipelined requests are served in order; each is bounded by the buffer. */
	while (c->len && (r = http_parse_request(c->buf, c->len, &req)) != 0) {
		if (r < 0) {
			/* The same error body as every API error, saying what was
			 * wrong; the connection closes (its framing is lost). */
			json_t *j = json_pack("{s:s}", "fault_message",
					      req.error[0] ? req.error : http_reason(-r));
			char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
			c->srv->api->counters.http_errors++;
			respond(c, -r, body ? body : "", body ? strlen(body) : 0, false);
			free(body);
			json_decref(j);
			conn_close(c);
			return;
		}
		struct api_response resp;
		api_handle(c->srv->api, &req, &resp);
		r = respond(c, resp.status, resp.body, resp.body_len, req.keep_alive);
		free(resp.body);
		if (r || !req.keep_alive) {
			conn_close(c);
			return;
		}
		memmove(c->buf, c->buf + req.total_len, c->len - req.total_len);
		c->len -= req.total_len;
	}
	if (c->len == sizeof(c->buf)) { /* cannot happen: the parser bounds head and body */
		conn_close(c);
	}
}

static void on_accept(void *opaque, int fd, uint32_t events)
{
	struct api_server *s = opaque;
	int cfd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct api_conn *c = NULL;

	if (cfd < 0)
		return;
	for (unsigned i = 0; i < API_MAX_CLIENTS && !c; i++)
		if (s->conn[i].fd < 0)
			c = &s->conn[i];
	if (!c || evloop_add_fd(s->loop, cfd, EPOLLIN, on_conn, c)) {
#define BUSY_BODY "{\"fault_message\":\"too many API connections open (8 max)\"}"
		_Static_assert(sizeof(BUSY_BODY) - 1 == 57 && API_MAX_CLIENTS == 8, "busy response");
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nServer: myvmm\r\n"
			"Content-Type: application/json\r\nContent-Length: 57\r\n"
			"Connection: close\r\n\r\n" BUSY_BODY;
		send_all(cfd, busy, sizeof(busy) - 1);
		close(cfd);
		return;
	}
	c->fd = cfd;
	c->len = 0;
}

int api_server_create(const char *path, struct evloop *loop, struct api *api,
		      struct api_server **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct api_server *s;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--api-sock %s: the path is longer than %zu bytes; use a "
			 "shorter one", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->api = api;
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
		s->conn[i].fd = -1;
		s->conn[i].srv = s;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--api-sock: socket: %s", strerror(errno));
		goto fail;
	}
	/* Bound and listening under a temporary name first, then renamed into
	 * place without replacing anything: a client that sees PATH appear
	 * (Firecracker's SDKs poll for it) can connect at once; binding PATH
	 * itself left a moment where it existed but refused connections. */
	bool tmpname = strlen(path) + 8 < sizeof(sa.sun_path);
	if (tmpname)
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%06u", path,
			 (unsigned)getpid() % 1000000u);
	else
		strcpy(sa.sun_path, path);
	if (tmpname && access(path, F_OK) == 0) {
		errno = EADDRINUSE;
		r = -1;
	} else {
		if (tmpname)
			unlink(sa.sun_path); /* a stale one of a dead process with our PID */
		old = umask(0177); /* the socket file is created 0600 */
		r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	if (r == 0 && (listen(s->fd, API_MAX_CLIENTS) < 0 ||
		       (tmpname && renameat2(AT_FDCWD, sa.sun_path, AT_FDCWD, path,
					     RENAME_NOREPLACE) < 0))) {
		int e = errno;
		unlink(sa.sun_path);
		errno = e == EEXIST ? EADDRINUSE : e;
		r = -1;
	}
	if (r < 0) {
		r = -errno;
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "--api-sock %s: the file exists; remove it (is another "
				 "myvmm using it?) or choose another path", path);
		else
			snprintf(err, errlen, "--api-sock %s: %s", path, strerror(errno));
		goto fail;
	}
	s->path = strdup(path);
	if (!s->path || (r = evloop_add_fd(loop, s->fd, EPOLLIN, on_accept, s))) {
		r = r ? r : -errno;
		snprintf(err, errlen, "--api-sock %s: %s", path, strerror(-r));
		unlink(path);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	return r;
}

void api_server_destroy(struct api_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
		conn_close(&s->conn[i]);
	unlink(s->path); /* first: a late client gets ENOENT, never a refusal */
	evloop_del_fd(s->loop, s->fd);
	close(s->fd);
	free(s->path);
	free(s);
}
