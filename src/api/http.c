/* Strict HTTP/1.1 request parsing (RFC 9112 sections 2-6, the subset in
 * http.h) and response heads. */
#include "api/http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An error: the status (negative) and one line for the fault_message. */
__attribute__((format(printf, 3, 4)))
static int fail(struct http_request *req, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
	return status;
}

/* Finds the CRLF ending the line at p, before end. Returns 1 with *eol at
 * its CR, 0 when the line is not complete yet, -400 on a bare CR or LF. */
static int find_line(const char *p, const char *end, const char **eol)
{
	for (; p < end; p++) {
		if (*p == '\n')
			return -400;
		if (*p == '\r') {
			if (p + 1 == end)
				return 0;
			if (p[1] != '\n')
				return -400;
			*eol = p;
			return 1;
		}
	}
	return 0;
}

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

#define BAD_LINE "malformed request line: use METHOD /path HTTP/1.1"

static int parse_request_line(const char *p, const char *eol, struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;
	size_t mlen, plen;

	if (!sp1)
		return fail(req, -400, BAD_LINE);
	mlen = (size_t)(sp1 - p);
	if (mlen == 3 && !memcmp(p, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 3 && !memcmp(p, "PUT", 3))
		req->method = HTTP_PUT;
	else if (mlen == 5 && !memcmp(p, "PATCH", 5))
		req->method = HTTP_PATCH;
	else if (mlen > 0 && mlen <= 16)
		req->method = HTTP_OTHER;
	else
		return fail(req, -400, BAD_LINE);
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return fail(req, -400, "malformed request line: invalid character in the method");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return fail(req, -400, BAD_LINE);
	plen = (size_t)(sp2 - sp1 - 1);
	if (plen == 0 || sp1[1] != '/')
		return fail(req, -400, "malformed request line: the path must start with '/'");
	if (plen > HTTP_MAX_PATH)
		return fail(req, -414, "the request path is %zu bytes; the limit is %u", plen,
			    HTTP_MAX_PATH);
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return fail(req, -400, "malformed request line: control or non-ASCII byte in "
				    "the path");
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = '\0';
	if ((size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return fail(req, -400, BAD_LINE);
	if (sp2[8] == '1')
		req->keep_alive = true;
	else if (sp2[8] == '0')
		req->keep_alive = false;
	else
		return fail(req, -505, "HTTP/1.%c is not supported: use HTTP/1.1", sp2[8]);
	return 0;
}

/* Content-Length: 1*DIGIT, bounded; a repeated header must agree. */
static int parse_length(const char *v, const char *end, size_t *out, bool *seen,
			struct http_request *req)
{
	const char *start = v;
	size_t n = 0;

	if (v == end)
		return fail(req, -400, "empty Content-Length header");
	for (; v < end; v++) {
		if (!isdigit((unsigned char)*v))
			return fail(req, -400, "Content-Length must be a decimal number");
		n = n * 10 + (size_t)(*v - '0');
		if (n > HTTP_MAX_BODY)
			return fail(req, -413, "the request body (Content-Length %.*s) is larger than "
				    "the limit of %u bytes", end - start > 20 ? 20 : (int)(end - start),
				    start, HTTP_MAX_BODY);
	}
	if (*seen && n != *out)
		return fail(req, -400, "two Content-Length headers that disagree");
	*seen = true;
	*out = n;
	return 0;
}

static bool header_is(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && !strncasecmp(name, want, nlen);
}

#define HEAD_TOO_LARGE "the request head is larger than %u bytes"

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *end = buf + len, *p = buf, *eol;
	size_t head_limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, body_len = 0;
	bool have_len = false; /* no Content-Length: no body (RFC 9112 6.3) */
	unsigned nheaders = 0;
	int r;

	memset(req, 0, sizeof(*req));
	/* Tolerate empty lines before a request (RFC 9112 2.2). */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if ((r = find_line(p, buf + head_limit, &eol)) < 0)
		return fail(req, r, "lines must end with CRLF (a bare CR or LF)");
	if (r == 0)
		return len >= HTTP_MAX_HEAD ? fail(req, -431, HEAD_TOO_LARGE, HTTP_MAX_HEAD) : 0;
	if ((r = parse_request_line(p, eol, req)))
		return r;
	p = eol + 2;
	for (;;) {
		const char *colon, *v, *ve;
		if ((r = find_line(p, buf + head_limit, &eol)) < 0)
			return fail(req, r, "lines must end with CRLF (a bare CR or LF)");
		if (r == 0)
			return len >= HTTP_MAX_HEAD ? fail(req, -431, HEAD_TOO_LARGE, HTTP_MAX_HEAD) : 0;
		if (eol == p) { /* end of the head */
			p += 2;
			break;
		}
		if (++nheaders > HTTP_MAX_HEADERS)
			return fail(req, -431, "more than %u header fields", HTTP_MAX_HEADERS);
		if (*p == ' ' || *p == '\t')
			return fail(req, -400, "obsolete header line folding is not accepted");
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return fail(req, -400, "malformed header field: NAME: VALUE expected");
		for (const char *q = p; q < colon; q++)
			if (!is_tchar(*q))
				return fail(req, -400, "malformed header field: invalid character in "
					    "the name");
		for (const char *q = colon + 1; q < eol; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return fail(req, -400, "malformed header field: control character in "
					    "the value");
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nlen = (size_t)(colon - p);
		if (header_is(p, nlen, "Content-Length")) {
			if ((r = parse_length(v, ve, &body_len, &have_len, req)))
				return r;
		} else if (header_is(p, nlen, "Transfer-Encoding")) {
			return fail(req, -411, "Transfer-Encoding (chunked bodies) is not accepted: "
				    "send the body with Content-Length");
		} else if (header_is(p, nlen, "Connection")) {
			if ((size_t)(ve - v) == 5 && !strncasecmp(v, "close", 5))
				req->keep_alive = false;
			else if ((size_t)(ve - v) == 10 && !strncasecmp(v, "keep-alive", 10))
				req->keep_alive = true;
		}
		p = eol + 2;
	}
	if ((size_t)(end - p) < body_len)
		return 0;
	req->body = p;
	req->body_len = body_len;
	req->total_len = (size_t)(p - buf) + body_len;
	return 1;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Error";
	}
}

int http_format_head(char *out, size_t outlen, int status, size_t body_len, bool keep_alive)
{
	int n = snprintf(out, outlen, "HTTP/1.1 %d %s\r\nServer: myvmm\r\n%sContent-Length: %zu\r\n%s\r\n",
			 status, http_reason(status),
			 body_len ? "Content-Type: application/json\r\n" : "", body_len,
			 keep_alive ? "" : "Connection: close\r\n");
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}
