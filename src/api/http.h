/* A small, strict HTTP/1.1 request parser for the control socket. Pure: it
 * looks at the bytes a client sent so far and says whether they hold a whole
 * request. Only what the API needs is accepted: a request line, at most
 * HTTP_MAX_HEADERS headers in at most HTTP_MAX_HEAD bytes, and a body framed by
 * Content-Length of at most HTTP_MAX_BODY bytes. Chunked bodies, obsolete
 * line folding and bare LF line ends are errors, never guessed at. */
#ifndef MYVMM_HTTP_H
#define MYVMM_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEAD    8192
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_BODY    (64 * 1024)
#define HTTP_MAX_PATH    256

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char path[HTTP_MAX_PATH + 1];   /* NUL-terminated, starts with '/' */
	const char *body;               /* points into the parsed buffer */
	size_t body_len;
	bool keep_alive;                /* false after "Connection: close" */
	size_t total_len;               /* bytes of the buffer this request used */
	char error[128];                /* after an error: what was wrong, one line */
};

/* Parses one request from buf[0..len). Returns 1 with *req filled when buf
 * holds a whole request, 0 when more bytes are needed, or a negative HTTP
 * status when it never will, with req->error saying why: -400 malformed,
 * -411 Transfer-Encoding (a body needs Content-Length), -413 body above
 * HTTP_MAX_BODY, -414 path above HTTP_MAX_PATH, -431 head above
 * HTTP_MAX_HEAD or HTTP_MAX_HEADERS fields, -505 not HTTP/1.0 or 1.1. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);
/* The reason phrase of status ("OK", "No Content", "Bad Request", ...). */
const char *http_reason(int status);
/* Formats a response head (status line, Server, Content-Type when body_len,
 * Content-Length, Connection) into out; returns its length or -1 if it does
 * not fit. */
int http_format_head(char *out, size_t outlen, int status, size_t body_len, bool keep_alive);
#endif
