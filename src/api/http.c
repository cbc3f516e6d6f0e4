/* Strict HTTP/1.1 request parsing (RFC 9112 sections 2-6, the subset in
 * http.h) and response heads. */
#include "api/http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

static int parse_request_line(const char *p, const char *eol, struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;
	size_t mlen, plen;

	if (!sp1)
		return -400;
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
		return -400;
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return -400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return -400;
	plen = (size_t)(sp2 - sp1 - 1);
	if (plen == 0 || sp1[1] != '/')
		return -400;
	if (plen > HTTP_MAX_PATH)
		return -414;
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return -400;
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = '\0';
	if ((size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return -400;
	if (sp2[8] == '1')
		req->keep_alive = true;
	else if (sp2[8] == '0')
		req->keep_alive = false;
	else
		return -505;
	return 0;
}

/* Content-Length: 1*DIGIT, bounded; a repeated header must agree. */
static int parse_length(const char *v, const char *end, size_t *out, bool *seen)
{
	size_t n = 0;

	if (v == end)
		return -400;
	for (; v < end; v++) {
		if (!isdigit((unsigned char)*v))
			return -400;
		n = n * 10 + (size_t)(*v - '0');
		if (n > HTTP_MAX_BODY)
			return -413;
	}
	if (*seen && n != *out)
		return -400;
	*seen = true;
	*out = n;
	return 0;
}

static bool header_is(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && !strncasecmp(name, want, nlen);
}

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
	if ((r = find_line(p, buf + head_limit, &eol)) <= 0)
		return r < 0 ? r : len >= HTTP_MAX_HEAD ? -431 : 0;
	if ((r = parse_request_line(p, eol, req)))
		return r;
	p = eol + 2;
	for (;;) {
		const char *colon, *v, *ve;
		if ((r = find_line(p, buf + head_limit, &eol)) <= 0)
			return r < 0 ? r : len >= HTTP_MAX_HEAD ? -431 : 0;
		if (eol == p) { /* end of the head */
			p += 2;
			break;
		}
		if (++nheaders > HTTP_MAX_HEADERS)
			return -431;
		if (*p == ' ' || *p == '\t')
			return -400; /* obsolete line folding */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return -400;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar(*q))
				return -400;
		for (const char *q = colon + 1; q < eol; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return -400;
		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nlen = (size_t)(colon - p);
		if (header_is(p, nlen, "Content-Length")) {
			if ((r = parse_length(v, ve, &body_len, &have_len)))
				return r;
		} else if (header_is(p, nlen, "Transfer-Encoding")) {
			return -501;
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
